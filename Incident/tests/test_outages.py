"""Redis in trouble: unreachable (nothing listens) or silent (it accepts connections and never
answers). Logins, refreshes and ticket changes go on; /healthz says which dependency is down."""
import logging
import socket

import pytest
from django.core.cache import caches
from rest_framework.throttling import ScopedRateThrottle

from accounts import throttling
from accounts.tests.factories import make_client

pytestmark = pytest.mark.django_db
PASSWORD = "pass-for-tests"  # the factories' password
TIMEOUT = 0.2  # REDIS_TIMEOUT for these tests: a silent Redis costs this once per process


@pytest.fixture
def silent_redis():
    """A socket that accepts connections (the kernel does, into the backlog) and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    server.close()


@pytest.fixture(params=["unreachable", "silent"])
def broken_redis(request, free_port, settings):
    """REDIS_URL pointing at a Redis that is down one way or the other."""
    if request.param == "unreachable":
        url = f"redis://127.0.0.1:{free_port}/0"
    else:
        url = request.getfixturevalue("silent_redis")
    settings.REDIS_URL, settings.REDIS_TIMEOUT = url, TIMEOUT
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
        "OPTIONS": {"socket_connect_timeout": TIMEOUT, "socket_timeout": TIMEOUT}}}
    return url


@pytest.fixture
def shared_calls(monkeypatch):
    """How often the throttle asked the shared cache, whatever came of it."""
    calls = []
    real = throttling.SharedOrLocal._call

    def counted(self, name, *args):
        import time

        if time.monotonic() >= self._failing_until:
            calls.append(name)
        return real(self, name, *args)

    monkeypatch.setattr(throttling.SharedOrLocal, "_call", counted)
    return calls


def log_in(client, password: str = PASSWORD):
    return client.post("/api/auth/token/", {"username": "amal", "password": password},
                       content_type="application/json")


def test_logins_and_refreshes_go_on_and_the_log_says_so_once(client, broken_redis, shared_calls,
                                                              caplog):
    make_client(username="amal")
    with caplog.at_level(logging.WARNING, logger="accounts.throttling"):
        first = log_in(client)
        again = log_in(client)
        refreshed = client.post("/api/auth/token/refresh/", {"refresh": first.json()["refresh"]},
                                content_type="application/json")
    assert first.status_code == again.status_code == refreshed.status_code == 200
    assert set(refreshed.json()) == {"access", "refresh"}
    said = [r.getMessage() for r in caplog.records if "shared cache" in r.getMessage()]
    assert len(said) == 1 and "counted per process" in said[0]
    # One try of the shared cache, then none for RETRY_SHARED_AFTER: a silent Redis costs one
    # REDIS_TIMEOUT per process and period, not one per request.
    assert shared_calls == ["get"]


def test_failed_logins_are_still_counted_and_throttled_per_process(client, broken_redis,
                                                                   monkeypatch):
    # DRF reads the rates once, into the class: patch them there.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    make_client(username="amal")
    answers = [log_in(client, "wrong").status_code for _ in range(3)]
    assert answers == [401, 401, 401]
    assert log_in(client).status_code == 429  # even the right password waits, as with Redis
    assert throttling.counts.local.get(
        "throttle_auth_127.0.0.1") is not None  # the counts are in this process's memory


def test_the_shared_cache_is_used_again_once_it_answers(client, broken_redis, settings,
                                                        monkeypatch, caplog):
    make_client(username="amal")
    assert log_in(client).status_code == 200
    assert throttling.counts._failing_until > 0
    # Redis is back (here: the test's own memory cache) and the retry period is over.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    monkeypatch.setattr(throttling.counts, "_failing_until", 1.0)
    with caplog.at_level(logging.INFO, logger="accounts.throttling"):
        assert log_in(client, "wrong").status_code == 401
    assert throttling.counts._failing_until == 0.0
    assert caches["default"].get("throttle_auth_127.0.0.1") is not None
    assert any("answers again" in r.getMessage() for r in caplog.records)


def test_ticket_changes_go_on(api, broken_redis):
    client = make_client(username="amal")
    response = api(client).post("/api/tickets/", {
        "title": "VPN down", "description": "Since 9:00.", "project_name": "Network"},
        format="json")
    assert response.status_code == 201


def test_healthz_names_the_cache_when_it_is_down(client, broken_redis):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"], body["cache"]) == ("unavailable", "ok", "unreachable")
    assert "broker" not in body  # inline delivery uses none


def test_healthz_names_the_broker_in_celery_mode(client, settings, silent_redis):
    settings.NOTIFICATION_DELIVERY, settings.REDIS_TIMEOUT = "celery", TIMEOUT
    settings.CELERY_BROKER_URL = silent_redis
    response = client.get("/healthz")
    assert response.status_code == 503
    assert (response.json()["broker"], response.json()["status"]) == ("unreachable", "unavailable")


def test_healthz_reports_each_configured_dependency_ok(client, settings, redis_url):
    settings.REDIS_URL, settings.NOTIFICATION_DELIVERY = redis_url, "celery"
    settings.CELERY_BROKER_URL = redis_url
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": redis_url}}
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"], body["cache"], body["broker"]) == (
        "ok", "ok", "ok", "ok")


def test_healthz_with_a_dead_database_still_names_the_others(client, settings, monkeypatch):
    from django.db import DatabaseError
    from django.db.backends.utils import CursorWrapper

    settings.NOTIFICATION_DELIVERY, settings.CELERY_BROKER_URL = "celery", "memory://"

    def refuse(self, sql, params=None):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable", "broker": "ok"}
