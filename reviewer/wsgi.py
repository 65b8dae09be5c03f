"""The WSGI application (gunicorn reviewer.wsgi), checked before it serves anything.

With DEBUG off, static files are served from the manifest `collectstatic` writes; without
it every page would answer 500 ("Missing staticfiles manifest entry"). Starting refuses
instead, saying what to run.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewer.settings")

application = get_wsgi_application()


def static_files_ready() -> None:
    """Raise ImproperlyConfigured when static files are served from a manifest that
    `collectstatic` has not written yet."""
    from django.conf import settings
    from django.contrib.staticfiles.storage import ManifestFilesMixin
    from django.core.files.storage import storages

    storage = storages["staticfiles"]
    if isinstance(storage, ManifestFilesMixin) and storage.read_manifest() is None:
        raise ImproperlyConfigured(
            f"Static files have not been collected into STATIC_ROOT ({settings.STATIC_ROOT}): "
            "with DEBUG off every page would fail. Run `python manage.py collectstatic "
            "--noinput` (after every upgrade), then start the server again."
        )


static_files_ready()
