"""The ticket list's `count` from the running counts (tickets.counts): the same number counting
the tickets gives, for every list it answers, through creates, transitions, edits and deletes,
folded or not; any other list still counts itself."""
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tickets import counts
from tickets.models import Category, Priority, Ticket, TicketCount, TicketCountChange, TicketStatus
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db
LISTS = ["", "status=NEW", "priority=HIGH", "category=BUG&status=CLOSED",
         "status=OPENED&priority=LOW&category=FEATURE", "page_size=2&page=2", "ordering=-priority",
         "status="]


def counted_by_hand(query: str) -> int:
    wanted = dict(part.split("=") for part in query.split("&") if part)
    return sum(all(getattr(t, f) == v for f, v in wanted.items() if f in counts.KEY and v)
               for t in Ticket.objects.all())


def assert_counts_match(api, user):
    for query in LISTS:
        with CaptureQueriesContext(connection) as captured:
            response = api(user).get(f"/api/tickets/?{query}")
        if "page=2" in query and counted_by_hand(query) <= 2:
            assert response.status_code == 404  # no second page: known from the count alone
            continue
        assert response.json()["count"] == counted_by_hand(query), query
        assert not any("COUNT(" in q["sql"].upper() and "tickets_ticket\"" in q["sql"]
                       for q in captured.captured_queries), query  # no count over the tickets


def test_an_admins_list_is_counted_from_the_running_counts_through_every_change(api, cast):
    rng = random.Random(3)
    for _ in range(40):
        TicketFactory(client=cast.client, status=rng.choice(TicketStatus.values),
                      priority=rng.choice(Priority.values), category=rng.choice(Category.values))
    assert TicketCount.objects.exists() is False and TicketCountChange.objects.exists()
    assert_counts_match(api, cast.admin)
    counts.fold()
    assert not TicketCountChange.objects.exists()
    assert_counts_match(api, cast.admin)
    ids = list(Ticket.objects.values_list("pk", flat=True))
    for pk in rng.sample(ids, 15):
        Ticket.objects.filter(pk=pk).update(status=rng.choice(TicketStatus.values),
                                            priority=rng.choice(Priority.values))
    Ticket.objects.filter(pk__in=rng.sample(ids, 5)).update(title="edited: counts nothing")
    Ticket.objects.filter(pk__in=rng.sample(ids, 5)).delete()
    assert_counts_match(api, cast.admin)
    counts.fold()
    assert_counts_match(api, cast.admin)
    Ticket.objects.all().delete()
    counts.fold()
    assert not TicketCount.objects.exists()  # every count went to zero and was dropped
    assert_counts_match(api, cast.admin)


def test_the_lifecycle_keeps_the_count(api, cast, ticket_in):
    for status in (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.FINISHED,
                   TicketStatus.CLOSED, TicketStatus.REJECTED):
        ticket_in(status)
    assert_counts_match(api, cast.admin)


@pytest.mark.parametrize("query", ["search=ticket", "client={client}", "project_name=web portal",
                                   "cursor_free=1"])
def test_other_lists_count_themselves(api, cast, query):
    TicketFactory.create_batch(3, client=cast.client, project_name="Web Portal", title="Ticket")
    TicketFactory(client=cast.developer, project_name="Other")
    query = query.format(client=cast.client.pk)
    assert counts.known_count(cast.admin, dict([query.split("=")])) is None
    body = api(cast.admin).get(f"/api/tickets/?{query}").json()
    assert body["count"] == (4 if query == "cursor_free=1" else 3)


def test_clients_and_developers_lists_count_themselves(api, cast):
    TicketFactory.create_batch(2, client=cast.client, assigned_developer=cast.developer)
    TicketFactory(client=cast.developer)
    assert counts.known_count(cast.client, {}) is None and counts.known_count(cast.developer, {}) is None
    assert api(cast.client).get("/api/tickets/").json()["count"] == 2
    assert api(cast.developer).get("/api/tickets/").json()["count"] == 2


def test_the_recovery_pass_folds_the_ticket_counts(cast):
    from notifications import services

    TicketFactory(client=cast.client)
    last = TicketCountChange.objects.latest("pk").pk
    services.recover()
    assert not TicketCountChange.objects.filter(pk__lte=last).exists()
    assert TicketCount.objects.get(status="NEW", priority="HIGH", category="BUG").n == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_writers_and_folds_racing_on_postgres_count_every_ticket_once(api, cast):
    from tickets.tests.threads import all_at_once, skip_unless_postgres

    skip_unless_postgres()

    def work():
        rng = random.Random()
        for _ in range(10):
            ticket = TicketFactory(client=cast.client)
            Ticket.objects.filter(pk=ticket.pk).update(status=rng.choice(TicketStatus.values))
            counts.fold()
        return True

    assert all_at_once(10, work) == [True] * 10
    assert_counts_match(api, cast.admin)
    assert api(cast.admin).get("/api/tickets/").json()["count"] == 100


def test_a_flush_that_empties_the_counts_before_the_tickets_leaves_no_counts_behind(api, cast):
    from django.apps import apps
    from django.db.models.signals import post_migrate

    TicketFactory.create_batch(3, client=cast.client)
    counts.fold()
    with connection.cursor() as cursor:
        for table in ("tickets_ticketcount", "tickets_ticketcountchange", "tickets_ticketevent",
                      "tickets_ticket"):
            cursor.execute(f"DELETE FROM {table}")
    assert counts.known_count(cast.admin, {}) == -3  # the delete triggers' -1s, and no +1s left
    config = apps.get_app_config("tickets")
    post_migrate.send(sender=config, app_config=config, verbosity=0, interactive=False,
                      using="default", plan=[], apps=apps)
    assert counts.known_count(cast.admin, {}) == 0
    assert api(cast.admin).get("/api/tickets/").json()["count"] == 0
