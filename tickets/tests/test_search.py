"""`?search=`: the same answers as before (every word, in title, description or project name,
case-insensitive), the best matches first, and on PostgreSQL served by trigram indexes."""
import pytest
from django.db import connection

from tickets.models import Ticket
from tickets.tests.factories import TicketFactory


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [t["title"] for t in response.json()["results"]]


def test_title_matches_come_before_project_and_description_matches(api, cast):
    TicketFactory(client=cast.client, title="Printer jammed", description="Paper stuck",
                  project_name="Office")
    TicketFactory(client=cast.client, title="Slow network", description="The LOGIN page hangs",
                  project_name="Intranet")
    TicketFactory(client=cast.client, title="Cannot log in", description="x", project_name="Login portal")
    TicketFactory(client=cast.client, title="Login page broken", description="x", project_name="Web")
    assert titles(api(cast.admin).get("/api/tickets/", {"search": "login"})) == [
        "Login page broken", "Cannot log in", "Slow network"]


def test_every_word_must_match_and_an_explicit_ordering_wins(api, cast):
    old = TicketFactory(client=cast.client, title="Login page broken", priority="LOW")
    TicketFactory(client=cast.client, title="Login slow", description="the page hangs", priority="HIGH")
    TicketFactory(client=cast.client, title="Login fine")
    client = api(cast.admin)
    assert sorted(titles(client.get("/api/tickets/", {"search": "login page"}))) == [
        "Login page broken", "Login slow"]
    assert titles(client.get("/api/tickets/", {"search": "login page", "ordering": "priority"})) == [
        old.title, "Login slow"]


def test_search_only_ever_narrows_what_the_caller_may_see(api, cast):
    TicketFactory(client=cast.client, title="Login page broken")
    assert titles(api(cast.developer).get("/api/tickets/", {"search": "login"})) == []


@pytest.mark.postgres
def test_on_postgresql_a_trigram_index_serves_the_search(cast):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no trigram index; .ci/run runs this on PostgreSQL")
    TicketFactory.create_batch(50, client=cast.client)
    from tickets.filters import TicketSearchFilter
    from rest_framework.test import APIRequestFactory
    from rest_framework.request import Request

    request = Request(APIRequestFactory().get("/api/tickets/", {"search": "login page"}))
    found = TicketSearchFilter().filter_queryset(request, Ticket.objects.all(), view=None)
    sql, params = found.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        # So few rows that a scan would win: rule out the plans that do not use the trigram index
        # (a GIN index is read by bitmap scans only), to see that the search can use it.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ticket_search_trgm" in plan, plan


@pytest.mark.postgres
def test_on_postgresql_the_rarest_word_leads_the_index(cast):
    """Given every word, the trigram index would read every ticket of the commonest; it is given
    the word the planner expects in the fewest tickets, and the others are checked on those."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no trigram index; .ci/run runs this on PostgreSQL")
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from tickets.filters import TicketSearchFilter, rarest

    TicketFactory.create_batch(200, client=cast.client, title="Login page broken")
    TicketFactory(client=cast.client, title="Login broken by a quokka")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
    assert rarest("tickets_ticket", ["LOGIN", "QUOKKA"]) == "QUOKKA"
    assert rarest("tickets_ticket", ["QUOKKA", "LOGIN"]) == "QUOKKA"
    request = Request(APIRequestFactory().get("/api/tickets/", {"search": "login quokka"}))
    found = TicketSearchFilter().filter_queryset(request, Ticket.objects.all(), view=None)
    sql, params = found.query.sql_with_params()
    assert "%QUOKKA%" in params and "%LOGIN%" not in params and "LOGIN" in params
    assert [t.title for t in found] == ["Login broken by a quokka"]


def test_a_ranked_search_reads_its_page_and_count_in_one_query(api, cast, django_assert_num_queries):
    """Ranking reads every match anyway, so the page carries the count (Incident.prepared)."""
    TicketFactory.create_batch(7, client=cast.client, title="Login page broken")
    TicketFactory(client=cast.client, title="Printer on fire")
    client = api(cast.admin)
    client.get("/api/tickets/", {"search": "login", "page_size": 3})  # compiles its plan
    with django_assert_num_queries(1):
        page = client.get("/api/tickets/", {"search": "login", "page_size": 3, "page": 2}).json()
    assert page["count"] == 7 and len(page["results"]) == 3
    past = client.get("/api/tickets/", {"search": "login", "page_size": 3, "page": 4})
    assert past.status_code == 404 and past.json()["detail"] == "Invalid page."


def test_a_null_character_in_the_search_is_a_400_naming_the_field(api, cast):
    response = api(cast.admin).get("/api/tickets/", {"search": "login\x00page"})
    assert response.status_code == 400
    assert "null character" in response.json()["search"][0]


def test_a_search_of_blanks_is_no_search(api, cast):
    """Nothing to rank: the list keeps its order and counts as any list does."""
    TicketFactory.create_batch(3, client=cast.client)
    client = api(cast.admin)
    plain = client.get("/api/tickets/").json()
    for blank in (" ", "  ,  "):
        assert client.get("/api/tickets/", {"search": blank}).json() == plain
    from tickets.filters import TicketSearchFilter

    assert not TicketSearchFilter.ranks({"search": "  "})
    assert TicketSearchFilter.ranks({"search": "login"})
    assert not TicketSearchFilter.ranks({"search": "login", "ordering": "priority"})
