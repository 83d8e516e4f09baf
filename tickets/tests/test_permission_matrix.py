"""Who may do what, from one table: every endpoint × method × caller → the expected status.

Callers: anonymous, the ticket's client ("owner"), another client, the assigned developer, another
developer, and an admin. 404 means the caller may not even know the ticket exists; 403 that they
see it but the act is not theirs.
"""
import pytest

from tickets.models import TicketStatus as S

pytestmark = pytest.mark.django_db

CALLERS = ("anonymous", "owner", "other_client", "developer", "other_developer", "admin")


def row(anonymous, owner, other_client, developer, other_developer, admin):
    return dict(zip(CALLERS, (anonymous, owner, other_client, developer, other_developer, admin)))


NEW_TICKET = {"title": "Matrix", "description": "d", "project_name": "P"}

# (method, path, the ticket's status first, body, expected per caller)
MATRIX = [
    ("get", "/api/tickets/", S.ASSIGNED, None, row(401, 200, 200, 200, 200, 200)),
    ("post", "/api/tickets/", None, NEW_TICKET, row(401, 201, 201, 403, 403, 201)),
    ("get", "/api/tickets/{id}/", S.ASSIGNED, None, row(401, 200, 404, 200, 404, 200)),
    ("patch", "/api/tickets/{id}/", S.NEW, {"title": "Renamed"}, row(401, 200, 404, 404, 404, 200)),
    ("patch", "/api/tickets/{id}/", S.ASSIGNED, {"title": "Renamed"}, row(401, 409, 404, 403, 404, 200)),
    ("put", "/api/tickets/{id}/", S.NEW, NEW_TICKET, row(401, 405, 405, 405, 405, 405)),
    ("delete", "/api/tickets/{id}/", S.NEW, None, row(401, 405, 405, 405, 405, 405)),
    ("post", "/api/tickets/{id}/open/", S.NEW, None, row(401, 403, 404, 404, 404, 200)),
    ("post", "/api/tickets/{id}/assign/", S.OPENED, {"developer": "{developer}"},
     row(401, 403, 404, 404, 404, 200)),
    ("post", "/api/tickets/{id}/start/", S.ASSIGNED, None, row(401, 403, 404, 200, 404, 403)),
    ("post", "/api/tickets/{id}/finish/", S.IN_PROGRESS, {"resolution": "Done"},
     row(401, 403, 404, 200, 404, 403)),
    ("post", "/api/tickets/{id}/close/", S.FINISHED, None, row(401, 200, 404, 403, 404, 200)),
    ("post", "/api/tickets/{id}/reject/", S.NEW, {"reason": "No"}, row(401, 403, 404, 404, 404, 200)),
    ("post", "/api/tickets/{id}/reopen/", S.FINISHED, {"reason": "Still broken"},
     row(401, 200, 404, 403, 404, 200)),
    # Comments: every party of a ticket, until it is closed or rejected; internal notes: admins.
    ("get", "/api/tickets/{id}/comments/", S.ASSIGNED, None, row(401, 200, 404, 200, 404, 200)),
    ("post", "/api/tickets/{id}/comments/", S.ASSIGNED, {"body": "Any news?"},
     row(401, 201, 404, 201, 404, 201)),
    ("post", "/api/tickets/{id}/comments/", S.NEW, {"body": "Any news?"},
     row(401, 201, 404, 404, 404, 201)),
    ("post", "/api/tickets/{id}/comments/", S.CLOSED, {"body": "Any news?"},
     row(401, 409, 404, 409, 404, 409)),
    ("post", "/api/tickets/{id}/comments/", S.REJECTED, {"body": "Any news?"},
     row(401, 409, 404, 404, 404, 409)),
    ("post", "/api/tickets/{id}/comments/", S.ASSIGNED, {"body": "Staff only", "internal": True},
     row(401, 403, 404, 201, 404, 201)),
    ("get", "/api/users/", None, None, row(401, 403, 403, 403, 403, 200)),
    ("get", "/api/auth/me/", None, None, row(401, 200, 200, 200, 200, 200)),
    ("patch", "/api/auth/me/", None, {"first_name": "Sam"}, row(401, 200, 200, 200, 200, 200)),
    ("get", "/api/notifications/logs/", S.ASSIGNED, None, row(401, 403, 403, 403, 403, 200)),
    ("get", "/api/notifications/logs/?ticket={id}", S.ASSIGNED, None,
     row(401, 403, 403, 403, 403, 200)),
    ("get", "/api/schema/", None, None, row(200, 200, 200, 200, 200, 200)),
    # Meta's webhook answers to its signature only: no token, whoever's, opens it.
    ("post", "/api/notifications/whatsapp/webhook/", None, {"object": "x"},
     row(401, 401, 401, 401, 401, 401)),
    ("get", "/api/notifications/whatsapp/webhook/", None, None, row(403, 403, 403, 403, 403, 403)),
]
CASES = [
    pytest.param(method, path, status, body, caller, expected[caller],
                 id=f"{method.upper()} {path} [{status or '-'}] as {caller}")
    for method, path, status, body, expected in MATRIX
    for caller in CALLERS
]


def caller_user(cast, caller):
    return {
        "anonymous": None, "owner": cast.client, "other_client": cast.other_client,
        "developer": cast.developer, "other_developer": cast.other_developer, "admin": cast.admin,
    }[caller]


@pytest.mark.parametrize("method, path, status, body, caller, expected", CASES)
def test_permission_matrix(api, cast, ticket_in, method, path, status, body, caller, expected):
    ticket = ticket_in(status) if status else None
    url = path.format(id=ticket.pk if ticket else 0)
    if body is not None:
        body = {k: (cast.developer.pk if v == "{developer}" else v) for k, v in body.items()}
    response = getattr(api(caller_user(cast, caller)), method)(url, body, format="json")
    assert response.status_code == expected, response.content[:300]
    if expected >= 400:
        # Every refusal is JSON that says why, and a 404 never shows the ticket.
        assert "detail" in response.json()
        assert "Login page not working" not in response.content.decode()


# --- No leaks through lists, filters, search or ordering -------------------------------------------

OUTSIDERS = ("other_client", "other_developer")
LIST_QUERIES = [
    "", "?search=Login", "?search=Web Portal", "?status=ASSIGNED", "?priority=HIGH",
    "?category=BUG", "?project_name=Web Portal", "?client={client}",
    "?assigned_developer={developer}", "?ordering=priority", "?ordering=-created_at",
    "?page_size=100",
]


@pytest.mark.parametrize("caller", OUTSIDERS)
@pytest.mark.parametrize("query", LIST_QUERIES)
def test_no_ticket_leaks_through_the_list(api, cast, ticket_in, caller, query):
    ticket_in(S.ASSIGNED)
    ticket_in(S.CLOSED)
    url = "/api/tickets/" + query.format(client=cast.client.pk, developer=cast.developer.pk)
    response = api(caller_user(cast, caller)).get(url)
    assert response.status_code == 200
    assert response.json()["count"] == 0 and response.json()["results"] == []


@pytest.mark.parametrize("caller", ("owner", "developer"))
def test_insiders_see_only_their_tickets_through_every_filter(api, cast, ticket_in, caller):
    mine = ticket_in(S.ASSIGNED)
    ticket_in(S.NEW, client=cast.other_client, title="Someone else's login page")
    for query in LIST_QUERIES:
        url = "/api/tickets/" + query.format(client=cast.client.pk, developer=cast.developer.pk)
        found = {t["id"] for t in api(caller_user(cast, caller)).get(url).json()["results"]}
        assert found <= {mine.pk}, query


@pytest.mark.parametrize("caller", OUTSIDERS)
def test_no_history_or_log_leaks_through_other_endpoints(api, cast, ticket_in, caller):
    ticket = ticket_in(S.ASSIGNED)
    client = api(caller_user(cast, caller))
    for url in (f"/api/tickets/{ticket.pk}/", f"/api/notifications/logs/?ticket={ticket.pk}",
                f"/api/notifications/logs/?recipient={cast.client.pk}"):
        response = client.get(url)
        assert response.status_code in (403, 404)
        assert "Login page not working" not in response.content.decode()
        assert "events" not in response.json()
