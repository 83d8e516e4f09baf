"""The OpenAPI schema and the offline Swagger UI."""
import re

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/api/auth/token/": {"post"},
    "/api/auth/token/refresh/": {"post"},
    "/api/auth/me/": {"get", "patch"},
    "/api/users/": {"get"},
    "/api/tickets/": {"get", "post"},
    "/api/tickets/{id}/": {"get", "patch"},
    **{f"/api/tickets/{{id}}/{a}/": {"post"} for a in ("open", "assign", "start", "finish", "close", "reject")},
    "/api/notifications/logs/": {"get"},
}


def test_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn turns any guess spectacular had to make into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    assert (tmp_path / "s.yml").read_text().startswith("openapi: 3")


def test_schema_describes_every_endpoint_with_errors_and_jwt(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    paths = schema["paths"]
    for path, methods in ENDPOINTS.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    assert "jwtAuth" in schema["components"]["securitySchemes"]

    assign = paths["/api/tickets/{id}/assign/"]["post"]
    assert set(assign["responses"]) >= {"200", "400", "401", "403", "404", "409"}
    body = assign["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/AssignRequest")
    conflict = assign["responses"]["409"]["content"]["application/json"]
    assert conflict["examples"]["WrongStatus"]["value"]["allowed_actions"] == []
    assert schema["components"]["schemas"]["TicketStatusEnum"]["enum"][0] == "NEW"


def test_swagger_ui_is_served_without_internet(client):
    page = client.get("/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("swagger-ui" in s for s in sources)
    assert all(not s.startswith(("http://", "https://", "//")) for s in sources), sources


def test_swaggers_authorize_dialog_offers_the_bearer_token_first(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json", secure=True).json()
    assert list(schema["components"]["securitySchemes"])[0] == "jwtAuth"
