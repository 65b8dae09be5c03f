"""The cache backend: Django's Redis cache, but a Redis that is down is a cache miss.

The cache holds only what can be lost: the screening counters, the
records handed out to screeners for two minutes, and the like. When Redis is unreachable
(restarting, crashed, the network), every read here is a miss and every write is dropped,
with a warning in the log, instead of an error page — in particular after a write that
has already been committed (a screening decision deletes its hand-out note on commit).
The socket timeouts in `settings.CACHES` keep each failed call short.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

#: What "Redis is not there" looks like to redis-py (refused, reset, timed out).
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def _warn(operation: str, error: BaseException) -> None:
    logger.warning("Cache %s skipped, Redis unreachable: %s", operation, error)


#: INCRBY of a key that exists, in one round trip (nil when it does not).
_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end
return false
"""


class ReusedClient(RedisCacheClient):
    """Django's Redis cache client, building its `redis.Redis` once per connection pool
    instead of on every call (its constructor fills a table of some 200 reply handlers;
    a screening decision makes about ten cache calls). The object is thread-safe: its
    connections come from the pool. And `incr` in one round trip, atomically: Django's
    asks whether the key exists, then adds, and a key expiring in between is created
    afresh without a timeout."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            make = self._client  # type: ignore[attr-defined]
            client = self._clients[id(pool)] = make(connection_pool=pool)
        return client

    def incr(self, key: Any, delta: int) -> int:
        client = self.get_client(key, write=True)
        found = client.register_script(_INCR_EXISTING)(keys=[key], args=[delta])
        if found is None:
            raise ValueError(f"Key '{key}' not found.")
        return int(found)


class TolerantRedisCache(RedisCache):
    """`RedisCache` whose calls survive a missing Redis: reads miss, writes are dropped."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClient

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except UNREACHABLE as error:
            _warn("read", error)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except UNREACHABLE as error:
            _warn("read", error)
            return {}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except UNREACHABLE as error:
            _warn("read", error)
            return False

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        try:
            super().set(key, value, timeout, version)
        except UNREACHABLE as error:
            _warn("write", error)

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except UNREACHABLE as error:
            _warn("write", error)
            return list(data)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except UNREACHABLE as error:
            _warn("write", error)
            return False

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except UNREACHABLE as error:
            _warn("write", error)
            return False

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        """A count moved in Redis; a missing key raises ValueError as in Django, and so does
        an unreachable Redis (the caller treats both as "not in the cache")."""
        try:
            return super().incr(key, delta, version)
        except UNREACHABLE as error:
            _warn("write", error)
            raise ValueError("Redis unreachable") from error

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except UNREACHABLE as error:
            _warn("delete", error)
            return False

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except UNREACHABLE as error:
            _warn("delete", error)

    def clear(self) -> None:
        try:
            super().clear()
        except UNREACHABLE as error:
            _warn("clear", error)
