"""The ticket cast and the logged-in admin client, shared from tickets' own tests."""
from tickets.tests.conftest import cast, staff  # noqa: F401  (shared fixtures)
