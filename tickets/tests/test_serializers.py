"""The hand-built output of tickets, events and user summaries is exactly what DRF's generic
serializer path makes of the same declared fields."""
from datetime import datetime
from datetime import timezone as dt_timezone

import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from accounts.serializers import UserSummarySerializer
from tickets.models import TicketStatus
from tickets.selectors import ticket_get
from tickets.serializers import (TicketDetailSerializer, TicketEventSerializer,
                                 TicketOutputSerializer, timestamp)


def generic(serializer, instance) -> dict:
    """What the serializer would give without its own to_representation."""
    return dict(serializers.Serializer.to_representation(serializer, instance))


def context_for(user) -> dict:
    request = APIRequestFactory().get("/api/tickets/")
    request.user = user
    return {"request": request}


def test_tickets_render_as_the_generic_path_would(cast, ticket_in):
    unassigned = ticket_in(TicketStatus.NEW, description="Ünïcode ✓ and emoji 🎫")
    finished = ticket_in(TicketStatus.FINISHED)
    for user in (cast.admin, cast.client, cast.developer):
        for ticket in (unassigned, finished):
            row = ticket_get(user=cast.admin, ticket_id=ticket.pk)
            for kind in (TicketOutputSerializer, TicketDetailSerializer):
                serializer = kind(context=context_for(user))
                assert serializer.to_representation(row) == generic(serializer, row)
    events = list(finished.events.all())
    assert len(events) == 5
    for event in events:
        serializer = TicketEventSerializer()
        assert serializer.to_representation(event) == generic(serializer, event)


def test_a_user_summary_renders_as_the_generic_path_would(cast):
    cast.client.first_name, cast.client.last_name = "", ""
    for user in (cast.admin, cast.client):
        serializer = UserSummarySerializer()
        assert serializer.to_representation(user) == generic(serializer, user)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/St_Johns"])
def test_timestamps_are_written_as_drf_writes_them_in_any_time_zone(settings, zone):
    settings.TIME_ZONE = zone
    field = serializers.DateTimeField()
    for moment in (datetime(2026, 11, 30, 11, 45, tzinfo=dt_timezone.utc),
                   datetime(2026, 7, 1, 23, 59, 59, 123456, tzinfo=dt_timezone.utc)):
        assert timestamp(moment) == field.to_representation(moment)
    assert timestamp(None) is None


def test_a_list_page_shows_each_ticket_as_the_generic_path_would(cast, ticket_in, api):
    """The list renders rows of columns, not model instances: the same output all the same."""
    tickets = [ticket_in(TicketStatus.NEW, description="Ünïcode ✓"), ticket_in(TicketStatus.FINISHED),
               ticket_in(TicketStatus.ASSIGNED)]
    cast.developer.first_name = ""
    cast.developer.save()
    for user in (cast.admin, cast.client, cast.developer):
        listed = {row["id"]: row for row in api(user).get("/api/tickets/").json()["results"]}
        assert listed
        for ticket in tickets:
            if ticket.pk in listed:
                row = ticket_get(user=cast.admin, ticket_id=ticket.pk)
                serializer = TicketOutputSerializer(context=context_for(user))
                assert listed[ticket.pk] == generic(serializer, row)


def test_a_ticket_page_shows_it_as_the_generic_path_would(cast, ticket_in, api):
    """The detail renders rows of columns too: the same output, history included, as DRF's
    generic path makes of the ticket with the history rows each role may read."""
    from tickets.selectors import events_visible_to
    from tickets.services import comment_add

    ticket = ticket_in(TicketStatus.IN_PROGRESS)
    comment_add(ticket_id=ticket.pk, author=cast.admin, body="Staff only ✓", internal=True)
    for user in (cast.admin, cast.client, cast.developer):
        shown = api(user).get(f"/api/tickets/{ticket.pk}/").json()
        row = ticket_get(user=cast.admin, ticket_id=ticket.pk)
        row._prefetched_objects_cache = {"events": events_visible_to(user=user).filter(ticket=row)}
        assert shown == generic(TicketDetailSerializer(context=context_for(user)), row)
        assert any(e["internal"] for e in shown["events"]) is (user != cast.client)
