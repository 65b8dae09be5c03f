"""The cache backend (reviewer.cache) on a real Redis of the test's own: a count moves in
one round trip and only while it exists, and one Redis client serves every call."""

from __future__ import annotations

import pytest

from reviewer.cache import TolerantRedisCache
from tests.real_services import OwnRedis, own_redis

__all__ = ["own_redis"]  # the fixture, imported to be found by pytest


@pytest.fixture
def redis_cache(own_redis: OwnRedis) -> TolerantRedisCache:
    timeouts = {"socket_connect_timeout": 1, "socket_timeout": 1}
    return TolerantRedisCache(own_redis.url, {"OPTIONS": timeouts})


def test_a_count_moves_while_it_exists(redis_cache):
    redis_cache.set("count", 5, 60)

    assert redis_cache.incr("count", 2) == 7
    assert redis_cache.incr("count", -1) == 6
    assert redis_cache.get("count") == 6


def test_a_missing_count_stays_missing(redis_cache):
    with pytest.raises(ValueError):
        redis_cache.incr("gone", 1)

    assert redis_cache.get("gone") is None  # not created without a timeout


def test_one_client_serves_every_call(redis_cache):
    redis_cache.set("a", 1, 60)
    first = redis_cache._cache.get_client()
    redis_cache.get_many(["a", "b"])

    assert redis_cache._cache.get_client() is first


def test_a_count_moved_while_redis_is_down_reads_as_missing(redis_cache, own_redis):
    redis_cache.set("count", 5, 60)
    own_redis.kill()

    with pytest.raises(ValueError):
        redis_cache.incr("count", 1)
    assert redis_cache.get("count") is None
