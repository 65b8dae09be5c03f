"""Sessions read from the cache (Redis), written to the database too: `cached_db`, with
each session kept in the cache for at most `CACHE_SECONDS`.

Every request reads its session; from Redis that costs a fraction of the database query
it replaces. The database stays the record: a session missing from the cache (expired,
evicted, Redis away: `reviewer.cache` makes that a miss) is read from it again.

Why the cap: logging out deletes the session from both. Were Redis unreachable at that
moment (the cache then drops the delete, `reviewer.cache`) and back afterwards with its
data, the cached copy would let the old cookie in again until it expired; Django keeps
it as long as the session (two weeks). Capped, that window is `CACHE_SECONDS` at most.
A password change needs no such care: the user is read from the database on every
request and the session's hash checked against it.

Used only with Redis (see settings): a per-process cache would keep a session logged out
in another process.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.core.cache import caches

CACHE_SECONDS = 300


class _Capped:
    """The cache, with every timeout cut to `seconds`."""

    def __init__(self, cache: Any, seconds: int) -> None:
        self._cache, self._seconds = cache, seconds

    def _cap(self, timeout: Any) -> int:
        return self._seconds if timeout is None else max(0, min(int(timeout), self._seconds))

    def set(self, key: str, value: Any, timeout: Any = None) -> None:
        self._cache.set(key, value, self._cap(timeout))

    async def aset(self, key: str, value: Any, timeout: Any = None) -> None:
        await self._cache.aset(key, value, self._cap(timeout))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cache, name)

    def __contains__(self, key: str) -> bool:
        return key in self._cache


class SessionStore(cached_db.SessionStore):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._cache: Any = _Capped(caches[settings.SESSION_CACHE_ALIAS], CACHE_SECONDS)
