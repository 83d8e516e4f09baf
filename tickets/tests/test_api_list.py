"""GET /api/tickets/: who sees what, filters, search, ordering, pagination and query count."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import make_client
from tickets import views
from tickets.models import TicketStatus
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {t["id"] for t in response.json()["results"]}


@pytest.fixture
def board(cast, ticket_in):
    """Tickets of two clients; only `assigned` and `in_progress` are the developer's."""
    return {
        "new": ticket_in(TicketStatus.NEW, title="Printer on fire", priority="LOW"),
        "assigned": ticket_in(TicketStatus.ASSIGNED, title="Login fails", priority="CRITICAL"),
        "in_progress": ticket_in(TicketStatus.IN_PROGRESS, project_name="Mobile App", priority="MEDIUM"),
        "others": ticket_in(TicketStatus.NEW, client=cast.other_client, title="Other's ticket"),
    }


def test_each_role_sees_only_its_own_tickets(api, cast, board):
    everyone = {t.pk for t in board.values()}
    mine = everyone - {board["others"].pk}
    assigned = {board["assigned"].pk, board["in_progress"].pk}

    assert ids(api(cast.admin).get("/api/tickets/")) == everyone
    assert ids(api(cast.client).get("/api/tickets/")) == mine
    assert ids(api(cast.other_client).get("/api/tickets/")) == {board["others"].pk}
    assert ids(api(cast.developer).get("/api/tickets/")) == assigned
    assert ids(api(cast.other_developer).get("/api/tickets/")) == set()


def test_detail_follows_the_same_visibility(api, cast, board):
    others = board["others"].pk
    assert api(cast.client).get(f"/api/tickets/{others}/").status_code == 404
    assert api(cast.developer).get(f"/api/tickets/{board['new'].pk}/").status_code == 404
    assert api(cast.developer).get(f"/api/tickets/{board['assigned'].pk}/").status_code == 200
    assert api(cast.admin).get(f"/api/tickets/{others}/").status_code == 200


def test_filters_never_widen_what_a_client_sees(api, cast, board):
    response = api(cast.client).get(f"/api/tickets/?client={cast.other_client.pk}")
    assert ids(response) == set()
    response = api(cast.client).get("/api/tickets/?search=Other")
    assert ids(response) == set()


@pytest.mark.parametrize(
    "query, expected",
    [
        ("status=NEW", {"new", "others"}),
        ("status=IN_PROGRESS", {"in_progress"}),
        ("priority=CRITICAL", {"assigned"}),
        ("category=BUG", {"new", "assigned", "in_progress", "others"}),
        ("project_name=mobile app", {"in_progress"}),
        ("search=printer", {"new"}),
        ("search=cannot login", {"new", "assigned", "in_progress", "others"}),
        ("search=mobile", {"in_progress"}),
        ("status=NEW&priority=LOW", {"new"}),
    ],
)
def test_filters_and_search(api, cast, board, query, expected):
    response = api(cast.admin).get(f"/api/tickets/?{query}")
    assert ids(response) == {board[name].pk for name in expected}


def test_filter_by_client_and_developer(api, cast, board):
    by_client = api(cast.admin).get(f"/api/tickets/?client={cast.other_client.pk}")
    assert ids(by_client) == {board["others"].pk}
    by_dev = api(cast.admin).get(f"/api/tickets/?assigned_developer={cast.developer.pk}")
    assert ids(by_dev) == {board["assigned"].pk, board["in_progress"].pk}


@pytest.mark.parametrize(
    "query, field, allowed",
    [
        ("status=DONE", "status", "NEW, OPENED, ASSIGNED, IN_PROGRESS, FINISHED, CLOSED, REJECTED"),
        ("priority=URGENT", "priority", "LOW, MEDIUM, HIGH, CRITICAL"),
        ("ordering=title", "ordering", "created_at, -created_at"),
    ],
)
def test_a_bad_filter_value_is_a_400_listing_the_allowed_values(api, cast, query, field, allowed):
    response = api(cast.admin).get(f"/api/tickets/?{query}")
    assert response.status_code == 400
    assert allowed in response.json()[field][0]


def test_ordering_by_priority_follows_severity(api, cast, board, ticket_in):
    ticket_in(TicketStatus.NEW, priority="HIGH")
    response = api(cast.client).get("/api/tickets/?ordering=-priority")
    assert [t["priority"] for t in response.json()["results"]] == ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
    response = api(cast.client).get("/api/tickets/?ordering=priority")
    assert [t["priority"] for t in response.json()["results"]] == ["LOW", "MEDIUM", "HIGH", "CRITICAL"]


def test_default_order_is_newest_first(api, cast, board):
    results = api(cast.admin).get("/api/tickets/").json()["results"]
    assert [t["id"] for t in results] == sorted((t["id"] for t in results), reverse=True)
    oldest_first = api(cast.admin).get("/api/tickets/?ordering=created_at").json()["results"]
    assert [t["id"] for t in oldest_first] == sorted(t["id"] for t in results)


def test_list_items_carry_allowed_actions(api, cast, board):
    results = api(cast.admin).get("/api/tickets/?status=NEW").json()["results"]
    assert all(t["allowed_actions"] == ["open", "reject"] for t in results)


def test_pagination_shape_and_page_size(api, cast):
    client = make_client()
    TicketFactory.create_batch(25, client=client)
    page = api(client).get("/api/tickets/").json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == 25 and len(page["results"]) == 20 and page["next"]

    assert len(api(client).get("/api/tickets/?page_size=5").json()["results"]) == 5
    second = api(client).get("/api/tickets/?page=2").json()
    assert len(second["results"]) == 5 and second["previous"]


def test_page_size_is_capped_at_100(api, cast):
    client = make_client()
    TicketFactory.create_batch(105, client=client)
    assert len(api(client).get("/api/tickets/?page_size=500").json()["results"]) == 100


def test_query_count_does_not_grow_with_page_size(api, cast, django_assert_max_num_queries):
    TicketFactory.create_batch(100, client=cast.client, assigned_developer=cast.developer)

    def count_queries(page_size: int) -> int:
        # A fresh user instance each time, so its cached profile cannot hide a query.
        fresh = type(cast.admin).objects.get(pk=cast.admin.pk)
        with django_assert_max_num_queries(5) as captured:
            response = api(fresh).get(f"/api/tickets/?page_size={page_size}")
        assert len(response.json()["results"]) == page_size
        return len(captured.captured_queries)

    assert count_queries(5) == count_queries(100)


def test_a_list_page_is_three_queries_with_a_real_token(client, cast):
    """The caller and their profile in one query (the role is read next), the count, the page."""
    from rest_framework_simplejwt.tokens import RefreshToken

    TicketFactory.create_batch(30, client=cast.client, assigned_developer=cast.developer)
    token = str(RefreshToken.for_user(cast.admin).access_token)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/tickets/?page_size=25", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and len(response.json()["results"]) == 25
    assert len(captured.captured_queries) == 3, [q["sql"][:80] for q in captured.captured_queries]


def test_a_list_without_filters_builds_no_filter_set_and_one_with_them_does(api, cast, monkeypatch):
    from tickets.filters import TicketFilter

    views.LISTS.plans.clear()  # an earlier test's plan would build nothing
    TicketFactory.create_batch(3, client=cast.client, status="NEW")
    TicketFactory(client=cast.client, status="OPENED")
    built = []
    original = TicketFilter.__init__
    monkeypatch.setattr(TicketFilter, "__init__",
                        lambda self, *a, **k: built.append(1) or original(self, *a, **k))
    assert api(cast.admin).get("/api/tickets/?page_size=10").json()["count"] == 4 and not built
    assert api(cast.admin).get("/api/tickets/?status=OPENED").json()["count"] == 1 and built
    refused = api(cast.admin).get("/api/tickets/?status=LOST")
    assert refused.status_code == 400 and "LOST is not one of" in refused.json()["status"][0]


def test_a_list_is_built_once_per_role_and_filters_then_reused(api, cast, board, monkeypatch):
    """Incident.prepared: the second page, and another client's same list, compile nothing, and
    each still sees only their own tickets."""
    views.LISTS.plans.clear()
    built = []
    original = views.TicketViewSet._listed
    monkeypatch.setattr(views.TicketViewSet, "_listed",
                        lambda self, role, user_id: built.append(role) or original(self, role, user_id))
    mine = {board["new"].pk, board["assigned"].pk, board["in_progress"].pk}
    listed = "/api/tickets/?ordering=created_at"
    first = api(cast.client).get(f"{listed}&page_size=1").json()
    assert built and first["count"] == 3  # the page and its count
    built.clear()
    # Another page, another page size: the same plan, refilled.
    second = ids(api(cast.client).get(f"{listed}&page_size=1&page=2"))
    both = ids(api(cast.client).get(f"{listed}&page_size=2"))
    assert {first["results"][0]["id"]} | second == both < mine and not built
    # Another client's same list: the same plan, with their id.
    assert ids(api(cast.other_client).get(f"{listed}&page_size=2")) == {board["others"].pk}
    assert not built
    assert ids(api(cast.client).get("/api/tickets/?status=NEW")) == {board["new"].pk} and built

def test_a_refused_list_is_refused_every_time(api, cast):
    views.LISTS.plans.clear()
    for _ in range(2):
        response = api(cast.admin).get("/api/tickets/?status=LOST")
        assert response.status_code == 400 and "LOST is not one of" in response.json()["status"][0]
    assert not views.LISTS.plans
