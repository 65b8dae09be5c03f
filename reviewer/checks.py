"""System checks of the deployment (`manage.py check --deploy`).

The screening counters, the queue's cursors and the hand-outs that keep two reviewers off
the same record live in the cache (`reviewer/screening/counters.py`, `services.hand_out`).
Without `REDIS_URL` the cache is each process's own memory: right for the quick start's
one `runserver` process, wrong for gunicorn's several workers, where each would count on
its own and hand the same record to two reviewers.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register(Tags.caches, deploy=True)
def shared_cache(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    backend = settings.CACHES["default"]["BACKEND"]
    if backend not in LOCAL_CACHES:
        return []
    return [
        Warning(
            "No shared cache: REDIS_URL is not set, so each web process keeps its own "
            "screening counters, queue positions and hand-outs.",
            hint="Set REDIS_URL (e.g. redis://127.0.0.1:6379/0) whenever more than one "
            "process serves the app (gunicorn --workers 2 or more): without it they count "
            "on their own and hand the same record to two reviewers.",
            id="reviewer.W001",
        )
    ]
