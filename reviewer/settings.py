"""Settings for the systematic review workflow manager.

One file, configured by environment variables. The defaults run the app with
nothing but Python: SQLite in the project folder and Celery tasks executed
eagerly in-process. Production sets at least SECRET_KEY, DEBUG=0,
ALLOWED_HOSTS, DATABASE_URL and CELERY_BROKER_URL (see README).
"""

from __future__ import annotations

import os
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no).")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-local-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "reviewer",
    "extraction",
    "analysis",
    "reviewer.project",  # what spans the apps: root URLs, dashboard, exports, demo
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "reviewer.middleware.permissions_policy",
    "django_htmx.middleware.HtmxMiddleware",
    # last, as django-axes asks: it turns a locked-out login into the lockout page
    "axes.middleware.AxesMiddleware",
]

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username
# from one address, that pair is locked out for AXES_COOLOFF_MINUTES; a correct login resets
# the count. The lockout page says so and when to try again (registration/locked_out.html).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_MINUTES = env_int("AXES_COOLOFF_MINUTES", 15)
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Content-Security-Policy (django-csp): every script, style, image and font comes from this
# site's own static files; no inline script or style anywhere (htmx's own indicator style
# is turned off in base.html), no framing, forms post only here.
#: base64 sha256 of the one <style> in matplotlib's SVG:
#: `*{stroke-linejoin: round; stroke-linecap: butt}`
MATPLOTLIB_SVG_STYLE_SHA256 = "2Iqu4MW0P4n79bqVmTDfLWhO8TS7MxwRJn7HVNDr7EQ="
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # The PRISMA diagram is matplotlib's SVG inline in the page (its text stays text):
        # it styles its shapes with style attributes, which cannot run script, and has one
        # fixed <style> element, allowed by its hash. No other inline style is allowed.
        "style-src-elem": ["'self'", f"'sha256-{MATPLOTLIB_SVG_STYLE_SHA256}'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],  # the full-text PDF shows in a frame of our own page
    }
}
#: Browser features the pages never use, switched off (reviewer/middleware.py).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=(), xr-spatial-tracking=()"
)

ROOT_URLCONF = "reviewer.project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "reviewer.wsgi.application"

# SQLite by default; DATABASE_URL=postgres://user@host:5432/name selects PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        # kept open across requests (checked before reuse): a new PostgreSQL connection
        # costs a process on the server, more than a screening decision's queries
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a lock instead of failing at once when a second process writes
    # (runserver plus a management command, say).
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

# The same database again, for what a job writes from inside its own transaction (its
# progress bar, `reviewer.services.jobs.PROGRESS_DATABASE`): a connection of its own, in
# autocommit. Tests share the default's test database (`MIRROR`); a test that runs a job
# outside a test transaction on PostgreSQL declares it: django_db(databases=[..., "progress"]).
DATABASES["progress"] = {
    **DATABASES["default"],
    "ATOMIC_REQUESTS": False,
    "AUTOCOMMIT": True,
    "TEST": {"MIRROR": "default"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "reviewer.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "review-list"
LOGOUT_REDIRECT_URL = "login"

#: Days an invitation link works for (reviewer.models.team.Invitation).
INVITATION_DAYS = env_int("INVITATION_DAYS", 14)
#: Seconds a password reset link works for (Django's default is three days).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60 * 24 * 3)


def email_settings(url: str) -> dict[str, object]:
    """EMAIL_URL -> Django's email settings. `smtp://user:password@host:587` sends with
    STARTTLS, `smtps://...:465` over TLS, `smtp+plain://` unencrypted (a local relay);
    `console://` prints mails to the server's output. Loud errors for anything else."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    defaults = {"smtp": 587, "smtps": 465, "smtp+plain": 25}
    if parts.scheme not in defaults or not parts.hostname:
        raise ImproperlyConfigured(
            f"EMAIL_URL={url!r}: use smtp://user:password@host:587 (STARTTLS), "
            "smtps://user:password@host:465 (TLS), smtp+plain://host:25 or console://"
        )
    try:
        port = parts.port or defaults[parts.scheme]
    except ValueError:
        raise ImproperlyConfigured(f"EMAIL_URL={url!r}: the port is not a number.") from None
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": parts.scheme == "smtp",
        "EMAIL_USE_SSL": parts.scheme == "smtps",
    }


# Email: invitations and password resets. EMAIL_URL, or Django's own EMAIL_HOST and
# friends, send real mail; with neither, mails are printed to the server's output (the
# quick start), and every link is also shown on the page that made it.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "reviewer@localhost")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
if env_str("EMAIL_URL"):
    globals().update(email_settings(env_str("EMAIL_URL")))
elif env_str("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"
# WhiteNoise warns when collectstatic has not run; in development the finders serve files.
WHITENOISE_USE_FINDERS = DEBUG
warnings.filterwarnings("ignore", message="No directory at: ")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Uploaded search exports. Django streams uploads larger than this to a
# temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
#: Largest search export accepted in the browser, in megabytes. PubMed caps an
#: export at 10,000 records (about 50 MB of MEDLINE); larger files import with
#: `manage.py import_search`, which has no limit.
IMPORT_MAX_UPLOAD_MB = env_int("IMPORT_MAX_UPLOAD_MB", 100)
#: Largest full-text PDF accepted at full-text screening, in megabytes.
FULLTEXT_MAX_UPLOAD_MB = env_int("FULLTEXT_MAX_UPLOAD_MB", 50)
#: Largest review archive accepted by "Restore a review" in the browser, in megabytes
#: (`manage.py import_review` has no limit), and the most any archive may unpack to.
ARCHIVE_MAX_UPLOAD_MB = env_int("ARCHIVE_MAX_UPLOAD_MB", 1024)
ARCHIVE_MAX_UNPACKED_MB = env_int("ARCHIVE_MAX_UNPACKED_MB", 10240)
#: A job reading or importing for longer than this is taken to have lost its worker:
#: a redelivered task takes it over, and the job page offers to start it again.
IMPORT_JOB_STALE_MINUTES = env_int("IMPORT_JOB_STALE_MINUTES", 30)
#: Files with at least this many records import as a background job when a
#: broker is configured; smaller ones too, but they finish before the page loads.
IMPORT_PREVIEW_SAMPLE = 5
#: A reviewer's relevance ranking is retrained in the background once this many
#: title/abstract decisions of theirs came after the ones it learnt from (and whenever they
#: ask on the ranking page)...
RANKING_RETRAIN_EVERY = env_int("RANKING_RETRAIN_EVERY", 5)
if RANKING_RETRAIN_EVERY < 1:
    raise ImproperlyConfigured(f"RANKING_RETRAIN_EVERY={RANKING_RETRAIN_EVERY} must be 1 or more.")
#: ...and after any decision once the labels their ranking learnt from are this old, so a
#: slow screener's ranking is never more than about this far behind either. Retrains never
#: pile up: one waiting job per reviewer, which later requests join.
RANKING_RETRAIN_AFTER_SECONDS = env_int("RANKING_RETRAIN_AFTER_SECONDS", 20)

# Celery: no broker configured means tasks run eagerly, in-process.
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
#: Seconds a Redis call (cache or broker) may take to connect or answer before it counts as
#: down: a page never hangs on a missing Redis (the cache then misses, see reviewer/cache.py).
REDIS_TIMEOUT_SECONDS = env_int("REDIS_TIMEOUT_SECONDS", 2)
# Surviving the broker (see README, "What survives what"). Every task claims its job row with
# a conditional update (reviewer/services/jobs.py), so a message delivered twice does its
# work once: that makes late acknowledgement safe, and with it a task whose worker dies
# (killed, out of memory) goes back to the queue instead of being lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Keep trying to reach a broker that is down, at start-up and later, for ever: the worker
# must outlive a Redis restart, and systemd restarts it should it die anyway (deploy/).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT_SECONDS
# A task running when the connection drops finishes its work: its result is in the
# database, and its message, redelivered later, finds the job done and does nothing.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # An unacknowledged message (its worker lost) comes back after this long. Longer than
    # any job takes, so a running job is not handed to a second worker meanwhile; the
    # claim protects the job even then.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 2 * 60 * 60),
    "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
    "socket_timeout": 10 * REDIS_TIMEOUT_SECONDS,
}
# Queuing a task in a web request while Redis is down: give up after about a second (the
# job stays waiting and the sweep sends it later) instead of holding the request.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.3,
    "interval_max": 0.5,
}
#: A job waiting this long for a worker is sent to the workers again: its message may have
#: been lost (a broker restarted without persistence, or down when the job was queued).
JOB_RESEND_MINUTES = env_int("JOB_RESEND_MINUTES", 10)
CELERY_BEAT_SCHEDULE = {
    "sweep-jobs": {
        "task": "reviewer.sweep_jobs",
        "schedule": float(env_int("JOB_SWEEP_SECONDS", 60)),
    },
    "delete-abandoned-extraction-imports": {
        "task": "extraction.delete_abandoned_imports",
        "schedule": 3600.0,
    },
}

# The cache: the screening counters and hand-outs, the sweep's notes (job progress is on
# the job's row: reviewer.models.jobs).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "reviewer.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    }
    # sessions read from Redis, kept in the database too (reviewer/sessions.py)
    SESSION_ENGINE = "reviewer.sessions"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Production hardening, on whenever DEBUG is off.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 30)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    if not SECURE_HSTS_PRELOAD:
        # Preloading commits the whole domain to HTTPS in browsers for months; it is
        # an opt-in decision for the site's operator, not a default.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Tasks run eagerly (no broker) log at WARNING: see reviewer/eager_log.py.
    "filters": {
        "eager_tasks": {"()": "reviewer.eager_log.QuietWhenEager", "level": "WARNING"},
        "eager_broker": {"()": "reviewer.eager_log.QuietWhenEager", "level": "ERROR"},
    },
    "loggers": {
        "celery.app.trace": {"filters": ["eager_tasks"]},
        "kombu.connection": {"filters": ["eager_broker"]},
    },
}
