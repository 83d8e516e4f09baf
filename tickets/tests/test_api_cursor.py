"""Cursor mode of GET /api/tickets/ (?cursor=): every ticket once, in the list's order, with no
COUNT and no OFFSET, whatever the depth."""
import base64
from urllib.parse import parse_qs, urlparse

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tickets.models import Priority
from tickets.tests.factories import TicketFactory


def walk(client, first: str) -> list[list[dict]]:
    pages, url = [], first
    while url:
        body = client.get(url).json()
        assert "count" not in body and set(body) == {"next", "previous", "results"}
        pages.append(body["results"])
        url = body["next"]
        if url:
            parsed = urlparse(url)
            url = f"{parsed.path}?{parsed.query}"
    return pages


def test_cursor_mode_walks_every_ticket_once_newest_first(api, cast):
    TicketFactory.create_batch(45, client=cast.client)
    pages = walk(api(cast.admin), "/api/tickets/?cursor=&page_size=20")
    assert [len(page) for page in pages] == [20, 20, 5]
    ids = [t["id"] for page in pages for t in page]
    created = [t["created_at"] for page in pages for t in page]
    assert len(set(ids)) == 45 and created == sorted(created, reverse=True)


def test_cursor_mode_follows_the_asked_ordering_and_filters(api, cast):
    for priority in (Priority.LOW, Priority.CRITICAL, Priority.MEDIUM, Priority.HIGH) * 6:
        TicketFactory(client=cast.client, priority=priority)
    TicketFactory(client=cast.developer)  # another client's ticket, filtered out below
    pages = walk(api(cast.admin),
                 f"/api/tickets/?cursor=&page_size=5&ordering=-priority&client={cast.client.pk}")
    priorities = [t["priority"] for page in pages for t in page]
    assert len(priorities) == 24 and priorities == (
        ["CRITICAL"] * 6 + ["HIGH"] * 6 + ["MEDIUM"] * 6 + ["LOW"] * 6)


def test_a_deep_cursor_page_costs_what_the_first_does_and_never_counts(api, cast):
    TicketFactory.create_batch(60, client=cast.client)
    client = api(cast.admin)
    last = client.get("/api/tickets/?cursor=&page_size=20").json()
    for _ in range(2):
        query = parse_qs(urlparse(last["next"]).query)
        with CaptureQueriesContext(connection) as deep:
            last = client.get("/api/tickets/", {"cursor": query["cursor"][0], "page_size": 20}).json()
    sql = " ".join(q["sql"].upper() for q in deep.captured_queries)
    assert "COUNT(" not in sql and "OFFSET" not in sql and len(last["results"]) == 20


@pytest.mark.parametrize("cursor", ["not-a-cursor", base64.b64encode(b"p=yesterday").decode(),
                                    "%%%", "***", "\x00", "ü"])
def test_a_forged_cursor_is_a_400_that_says_what_to_do(api, cast, cursor):
    TicketFactory(client=cast.client)
    response = api(cast.admin).get("/api/tickets/", {"cursor": cursor})
    assert response.status_code == 400
    assert "Start again with ?cursor=" in response.json()["cursor"][0]


def test_page_mode_keeps_its_count(api, cast):
    TicketFactory.create_batch(3, client=cast.client)
    body = api(cast.admin).get("/api/tickets/").json()
    assert body["count"] == 3 and len(body["results"]) == 3


@pytest.mark.parametrize("query", ["", "&ordering=priority", "&ordering=-updated_at",
                                   "&search=ticket"])
def test_pages_past_the_middle_are_read_from_the_end_and_match_a_walk_from_the_start(
        api, cast, query):
    """Page-number mode: every page holds what counting from the start gives, and a page past
    the middle is fetched without an OFFSET over the rows before it."""
    for n in range(23):
        TicketFactory(client=cast.client, title=f"Ticket {n}",
                      priority=(Priority.LOW, Priority.HIGH, Priority.MEDIUM)[n % 3])
    client = api(cast.admin)
    everything = client.get(f"/api/tickets/?page_size=100{query}").json()["results"]
    assert len(everything) == 23
    for page in range(1, 6):
        with CaptureQueriesContext(connection) as captured:
            body = client.get(f"/api/tickets/?page_size=5&page={page}{query}").json()
        assert [t["id"] for t in body["results"]] == [
            t["id"] for t in everything[(page - 1) * 5:page * 5]], page
        listed = [q["sql"] for q in captured.captured_queries if "tickets_ticket" in q["sql"]
                  and "COUNT(" not in q["sql"].upper()]
        if page >= 4:  # read from the end: no OFFSET, or a short one
            assert all(" OFFSET 15" not in sql and " OFFSET 20" not in sql for sql in listed)
