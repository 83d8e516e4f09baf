"""Shared fixtures: API clients signed in as each role, and a fresh ticket."""
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
    """Throttle counts live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
