"""schemathesis against our own OpenAPI schema, as each role: no 5xx, and every response (status,
content type, headers, body) matches what /api/schema/ promises. Bounded: a few examples per
operation and role, so CI stays quick; run with SCHEMATHESIS_EXAMPLES=200 to dig deeper."""
import os

import pytest
import schemathesis
from schemathesis import checks
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import make_admin, make_client, make_developer
from tickets import services

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", 8))


# Loaded at collection: generating the schema needs no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Calls go straight into the WSGI app, which closes the database connection after each
    request; inside a test's transaction that would cut it off. Django's own test client
    suspends the same signal handlers."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=["anonymous", "client", "developer", "admin"])
def headers(request, db) -> dict:
    users = {"client": make_client(username="st-client"),
             "developer": make_developer(username="st-dev"),
             "admin": make_admin(username="st-admin")}
    for n in range(3):  # something to find, so not every id is a 404
        ticket = services.ticket_create(client=users["client"], title=f"Ticket {n}",
                                        description="Seeded", project_name="Fuzz")
        if n:
            services.ticket_transition(ticket_id=ticket.pk, actor=users["admin"], action="open")
    if request.param == "anonymous":
        return {}
    token = RefreshToken.for_user(users[request.param]).access_token
    return {"Authorization": f"Bearer {token}"}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, headers):
    # What the API promises, not whether it accepts every schema-valid value: a well-formed
    # phone number can still be refused for its country, and that refusal is documented.
    case.call_and_validate(headers=headers, checks=[
        checks.not_a_server_error, checks.status_code_conformance,
        checks.content_type_conformance, checks.response_headers_conformance,
        checks.response_schema_conformance,
    ])
