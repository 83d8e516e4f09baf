"""The ticket cast and the logged-in admin client, shared from tickets' own tests."""
from tickets.tests.conftest import cast, staff, ticket_in  # noqa: F401  (shared fixtures)
