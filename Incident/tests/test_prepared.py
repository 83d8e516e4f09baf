"""Prepared queries give exactly what the ORM gives, compile each shape once, and refuse what
they cannot refill."""
from datetime import timedelta

import pytest
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import make_admin, make_client, make_developer
from Incident import prepared
from Incident.pagination import FromNearerEnd
from Incident.prepared import Prepared, Rows
from tickets.models import Ticket
from tickets.selectors import visible_tickets
from tickets.serializers import COLUMNS
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    admin, developer = make_admin(username="boss"), make_developer(username="dev")
    clients = [make_client(username=f"client{n}") for n in range(3)]
    start = timezone.now() - timedelta(days=30)
    for n in range(23):
        ticket = TicketFactory(client=clients[n % 3], title=f"Ticket {n}",
                               assigned_developer=developer if n % 4 == 0 else None)
        # Some share a creation time, so the order leans on the id to break ties.
        Ticket.objects.filter(pk=ticket.pk).update(created_at=start + timedelta(hours=n // 2))
    return {"admin": admin, "developer": developer, "clients": clients}


def listed(role, user_id) -> QuerySet:
    return visible_tickets(role=role, user_id=user_id).values(*COLUMNS)


def viewers(people):
    return [(Role.ADMIN, people["admin"].pk), (Role.DEVELOPER, people["developer"].pk),
            *((Role.CLIENT, client.pk) for client in people["clients"])]


def test_rows_are_what_values_gives_for_every_viewer(people):
    lists = Prepared(listed)
    for role, user_id in viewers(people):
        expected = list(listed(role, user_id))
        assert expected  # every viewer sees something, so an empty answer cannot pass
        assert lists.rows(role, user_id=user_id) == expected


def test_a_shape_is_compiled_once_then_runs_as_one_query(people, django_assert_num_queries):
    built = []
    lists = Prepared(lambda role, user_id: built.append(role) or listed(role, user_id))
    first, second = people["clients"][:2]
    lists.rows(Role.CLIENT, user_id=first.pk)
    with django_assert_num_queries(1):
        rows = lists.rows(Role.CLIENT, user_id=second.pk)
    assert built == [Role.CLIENT]
    assert {row["client_id"] for row in rows} == {second.pk}  # the id went where the mark was


def test_a_window_and_the_reverse_order_read_what_slicing_reads(people):
    lists = Prepared(listed)
    for role, user_id in viewers(people):
        everything = list(listed(role, user_id))
        for offset, limit in ((0, 5), (5, 5), (20, 10), (40, 5)):
            assert lists.rows(role, offset=offset, limit=limit, user_id=user_id) == \
                everything[offset:offset + limit]
        assert lists.rows(role, kind="reversed", user_id=user_id) == everything[::-1]


def test_count_is_what_count_gives(people):
    lists = Prepared(listed)
    for role, user_id in viewers(people):
        assert lists.count(role, user_id=user_id) == listed(role, user_id).count() > 0


def test_an_id_no_column_can_hold_matches_nothing_without_asking(people, django_assert_num_queries):
    lists = Prepared(listed)
    with django_assert_num_queries(0):
        assert lists.rows(Role.CLIENT, user_id=2**63) == []
        assert lists.count(Role.CLIENT, user_id=-(2**63) - 1) == 0


def test_only_int_ids_are_taken(people):
    with pytest.raises(TypeError):
        Prepared(listed).rows(Role.CLIENT, user_id="1")


def test_a_build_that_writes_an_id_into_its_sql_is_refused(people):
    inlined = Prepared(lambda shape, ticket_id: Ticket.objects.extra(
        where=[f"id = {ticket_id}"]).values("id"))
    with pytest.raises(ValueError, match="writes an id into its SQL"):
        inlined.rows("inlined", ticket_id=1)


def test_the_oldest_shape_is_forgotten_past_the_limit(people, monkeypatch):
    monkeypatch.setattr(prepared, "MAX_PLANS", 2)
    lists = Prepared(lambda shape, user_id: listed(shape[0], user_id))
    client = people["clients"][0]
    for n in range(4):
        assert lists.rows((Role.CLIENT, n), user_id=client.pk) == list(listed(Role.CLIENT, client.pk))
    assert [key[2] for key in lists.plans] == [(Role.CLIENT, 2), (Role.CLIENT, 3)]


def test_counted_rows_carry_how_many_there_are_in_all(people):
    lists = Prepared(listed)
    for role, user_id in viewers(people):
        everything = list(listed(role, user_id))
        page = lists.rows(role, kind="counted", offset=2, limit=3, user_id=user_id)
        assert [row.pop(prepared.TOTAL) for row in page] == [len(everything)] * len(page)
        assert page == everything[2:5]


@pytest.mark.parametrize("paginator, counted", [
    (Paginator, False), (FromNearerEnd, False), (FromNearerEnd, True)])
def test_rows_page_as_the_queryset_pages(people, paginator, counted):
    lists = Prepared()
    for role, user_id in viewers(people):
        rows = Rows(lists, role, listed, counted=counted, user_id=user_id).prepare()
        by_orm, by_plan = paginator(listed(role, user_id), 4), paginator(rows, 4)
        assert by_plan.count == by_orm.count
        for number in by_orm.page_range:
            assert list(by_plan.page(number)) == list(by_orm.page(number))


def test_far_pages_are_read_from_the_other_end(people, django_assert_num_queries):
    lists, client = Prepared(), people["clients"][0]
    rows = Rows(lists, Role.CLIENT, listed, user_id=client.pk).prepare()
    pages = FromNearerEnd(rows, 2, count=8)
    pages.page(4)  # compiles the reversed plan
    with django_assert_num_queries(1) as captured:
        last = list(pages.page(4))
    assert "DESC" not in captured.captured_queries[0]["sql"].split("ORDER BY")[1]
    assert last == list(listed(Role.CLIENT, client.pk))[6:8]


def test_a_counted_page_is_one_query_and_a_page_past_the_end_still_answers(
        people, django_assert_num_queries):
    from django.core.paginator import EmptyPage, PageNotAnInteger

    lists, client = Prepared(), people["clients"][0]
    rows = Rows(lists, Role.CLIENT, listed, counted=True, user_id=client.pk).prepare()
    FromNearerEnd(rows, 3).page(1)  # compiles the counted plan
    rows.count()  # and the count's
    with django_assert_num_queries(1):
        page = FromNearerEnd(rows, 3).page(2)
    assert page.paginator.count == 8 and list(page) == list(listed(Role.CLIENT, client.pk))[3:6]
    with django_assert_num_queries(2), pytest.raises(EmptyPage):  # no row to carry the count
        FromNearerEnd(rows, 3).page(4)
    with django_assert_num_queries(0):
        for number, refusal in (("x", PageNotAnInteger), (0, EmptyPage), ("-1", EmptyPage)):
            with pytest.raises(refusal):
                FromNearerEnd(rows, 3).page(number)


def test_a_plan_keeps_its_sql_not_the_compiled_query(people):
    """Up to 500 plans a query stay in every process: each keeps a few kilobytes, not the Query
    it came from (some 20 KB)."""
    import gc
    import weakref

    built = []

    def build(role, user_id):
        rows = listed(role, user_id)
        built.append(weakref.ref(rows.query))
        return rows

    lists = Prepared(build)
    client = people["clients"][0]
    assert lists.rows(Role.CLIENT, user_id=client.pk) == list(listed(Role.CLIENT, client.pk))
    gc.collect()
    assert built and built[0]() is None
