"""Shared fixtures: API clients signed in as each role, and a Redis server for the tests of
shared state (skipped where none runs, never in CI)."""
import os
import uuid

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api():
    """Return a function giving an APIClient authenticated as `user` (or anonymous)."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """Throttle counts live in the cache (or, while it fails, in the process); each test starts
    with none."""
    from django.core.cache import cache

    from accounts.throttling import counts

    cache.clear()
    counts.reset()
    yield
    cache.clear()
    counts.reset()


@pytest.fixture(autouse=True)
def _webhooks_finish_their_sends():
    """What a webhook sends after its response runs on threads of its own: a test ends only once
    that is done, so its database writes never meet the next test's flush."""
    yield
    from notifications.whatsapp.views import finish_after_response

    assert finish_after_response(timeout=60), "a webhook's sends were still running after 60 s"


@pytest.fixture
def redis_url() -> str:
    """The local Redis server's URL (TEST_REDIS_URL, default database 15), with keys of its own.

    Skipped, saying why, where no Redis answers; .ci/run sets REQUIRE_SERVICES=1, which turns
    that skip into a failure."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        reason = f"no Redis answers at {url} ({type(exc).__name__}); .ci/run starts one"
        if os.environ.get("REQUIRE_SERVICES"):
            pytest.fail(f"{reason}, and REQUIRE_SERVICES is set")
        pytest.skip(reason)
    return url


@pytest.fixture
def unique() -> str:
    """A name no other test run uses at the same time (Redis keys, Celery queues)."""
    return uuid.uuid4().hex[:12]


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on, for a server a test starts."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
