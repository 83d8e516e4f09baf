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
