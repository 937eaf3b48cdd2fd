"""Safe defaults when debug is off: no embedded database server unless asked for, a cache that works when Redis is
configured."""

from __future__ import annotations

import pytest
from django.core.cache.backends.redis import RedisCache

from tests.reliability.test_deploy_check import production_env, run_manage

URL_VARIABLES = ("USERS_DATABASE_URL", "SEATS_DATABASE_URL", "ORDERS_DATABASE_URL", "EVENTS_DATABASE_URL")


@pytest.mark.integration
def test_without_database_urls_a_production_start_refuses_the_embedded_server():
    env = {key: value for key, value in production_env().items() if key not in URL_VARIABLES}
    env.pop("EMBEDDED_DATABASE", None)
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "USERS_DATABASE_URL is not set" in result.stderr and "EMBEDDED_DATABASE=true" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.integration
def test_the_embedded_server_is_used_with_debug_off_only_when_asked_for():
    env = {key: value for key, value in production_env(EMBEDDED_DATABASE="true").items() if key not in URL_VARIABLES}
    result = run_manage("check", env=env)
    assert result.returncode == 0, result.stderr


def test_the_redis_cache_backend_has_its_client_installed():
    # Django's Redis backend imports the `redis` package when it first builds its client; without it, setting
    # REDIS_URL broke every cache use (login throttle views, API throttling, read caches).
    cache = RedisCache("redis://127.0.0.1:1/0", {})
    client = cache._cache.get_client(write=False)
    assert client.connection_pool.connection_kwargs["port"] == 1
