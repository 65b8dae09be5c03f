"""reviewer.settings reads its environment: safe defaults, loud errors, a clean deploy check.

Settings are read once per process, so each case runs a fresh Python with its own
environment.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Variables the settings module reads; the tests start from none of them set.
SETTINGS_VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "DATABASE_CONN_MAX_AGE",
    "TIME_ZONE",
    "STATIC_ROOT",
    "MEDIA_ROOT",
    "IMPORT_MAX_UPLOAD_MB",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "LOG_LEVEL",
    "EMAIL_URL",
    "EMAIL_HOST",
    "EMAIL_PORT",
    # Set by tests/conftest.py for Playwright; a deployment never has it.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)

SHOW_SETTINGS = """
import json
from reviewer import settings as s
print(json.dumps({
    "DEBUG": s.DEBUG,
    "ENGINE": s.DATABASES["default"]["ENGINE"],
    "DATABASE": {k: s.DATABASES["default"].get(k) for k in ("NAME", "USER", "HOST", "PORT")},
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "IMPORT_MAX_UPLOAD_MB": s.IMPORT_MAX_UPLOAD_MB,
    "CELERY_TASK_ALWAYS_EAGER": s.CELERY_TASK_ALWAYS_EAGER,
    "SESSION_COOKIE_SECURE": getattr(s, "SESSION_COOKIE_SECURE", False),
}))
"""


def production_secret_key() -> str:
    """50 random characters, as `check --deploy` wants of a SECRET_KEY."""
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(50))


def run_python(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    environment["DJANGO_SETTINGS_MODULE"] = "reviewer.settings"
    environment.update(env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_with(**env: str) -> dict:
    result = run_python("-c", SHOW_SETTINGS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_defaults_run_locally_with_sqlite_debug_and_eager_tasks():
    settings = settings_with()

    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["DATABASE"]["NAME"] == str(REPO_ROOT / "db.sqlite3")
    assert settings["DEBUG"] is True
    assert settings["CELERY_TASK_ALWAYS_EAGER"] is True
    assert settings["IMPORT_MAX_UPLOAD_MB"] == 100


def test_database_url_selects_postgresql():
    settings = settings_with(DATABASE_URL="postgres://u@h:5432/db")

    assert settings["ENGINE"] == "django.db.backends.postgresql"
    assert settings["DATABASE"] == {"NAME": "db", "USER": "u", "HOST": "h", "PORT": 5432}


@pytest.mark.parametrize("value", ["0", "false", "no", "off", "FALSE"])
def test_debug_is_off_for_each_spelling_of_no(value):
    settings = settings_with(DEBUG=value, SECRET_KEY=production_secret_key())

    assert settings["DEBUG"] is False
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_debug_off_without_a_secret_key_fails_loudly():
    result = run_python("-c", "import reviewer.settings", DEBUG="0")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_debug_that_is_not_a_boolean_fails_loudly():
    result = run_python("-c", "import reviewer.settings", DEBUG="maybe")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_upload_limit_that_is_not_a_number_fails_loudly():
    result = run_python("-c", "import reviewer.settings", IMPORT_MAX_UPLOAD_MB="lots")

    assert result.returncode != 0
    assert "IMPORT_MAX_UPLOAD_MB='lots' is not an integer" in result.stderr


def test_upload_limit_is_read_from_the_environment():
    assert settings_with(IMPORT_MAX_UPLOAD_MB="250")["IMPORT_MAX_UPLOAD_MB"] == 250


def test_allowed_hosts_is_a_comma_separated_list():
    settings = settings_with(ALLOWED_HOSTS="example.org, www.example.org,")

    assert settings["ALLOWED_HOSTS"] == ["example.org", "www.example.org"]


def test_a_broker_turns_off_eager_tasks():
    settings = settings_with(CELERY_BROKER_URL="redis://localhost:6379/0")

    assert settings["CELERY_TASK_ALWAYS_EAGER"] is False


def test_deploy_check_is_clean_when_configured_for_production():
    result = run_python(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=production_secret_key(),
        ALLOWED_HOSTS="example.org",
        REDIS_URL="redis://127.0.0.1:6379/0",  # production's cache and broker (README)
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_check_warns_that_without_redis_each_process_counts_on_its_own():
    result = run_python(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=production_secret_key(),
        ALLOWED_HOSTS="example.org",
    )

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "reviewer.W001" in output and "REDIS_URL" in output
    assert "hand the same record to two reviewers" in output


# --- email ---

SHOW_EMAIL = """
import json
from reviewer import settings as s
print(json.dumps({k: getattr(s, k, None) for k in (
    "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS", "EMAIL_USE_SSL")}))
"""


def email_with(**env: str) -> dict:
    result = run_python("-c", SHOW_EMAIL, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_email_settings_mails_are_printed_to_the_console():
    assert email_with()["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_email_url_configures_smtp_with_starttls():
    email = email_with(EMAIL_URL="smtp://mailer:s%40cret@mail.example.org:2525")

    assert email == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example.org",
        "EMAIL_PORT": 2525,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "s@cret",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
    }


def test_email_url_smtps_uses_tls_on_465():
    email = email_with(EMAIL_URL="smtps://u:p@mail.example.org")

    assert (email["EMAIL_PORT"], email["EMAIL_USE_SSL"], email["EMAIL_USE_TLS"]) == (
        465,
        True,
        False,
    )


def test_djangos_own_email_host_setting_configures_smtp():
    email = email_with(EMAIL_HOST="relay.local", EMAIL_PORT="25")

    assert email["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (email["EMAIL_HOST"], email["EMAIL_PORT"]) == ("relay.local", 25)


@pytest.mark.parametrize("url", ["http://mail.example.org", "smtp://", "smtp://h:port"])
def test_a_malformed_email_url_fails_loudly(url):
    result = run_python("-c", "import reviewer.settings", EMAIL_URL=url)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "EMAIL_URL" in result.stderr
