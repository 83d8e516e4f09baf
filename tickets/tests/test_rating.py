"""The client's rating of the fix (CSAT) through the API: who may rate, when, and what is kept."""
import pytest

from tickets.models import Satisfaction, Source, TicketEventType, TicketStatus

pytestmark = pytest.mark.django_db


def rate(api, user, ticket, **body):
    return api(user).post(f"/api/tickets/{ticket.pk}/rating/", body, format="json")


def test_the_client_rates_a_closed_ticket_and_everyone_on_it_sees_the_score(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.CLOSED)
    response = rate(api, cast.client, ticket, score=3, comment="Fixed within the hour.")
    assert response.status_code == 200, response.content
    shown = response.json()["satisfaction"]
    assert (shown["score"], shown["label"], shown["comment"]) == (3, "😀", "Fixed within the hour.")
    assert shown["rated_at"]
    for user in (cast.developer, cast.admin):
        assert api(user).get(f"/api/tickets/{ticket.pk}/").json()["satisfaction"] == shown
    listed = api(cast.admin).get("/api/tickets/").json()["results"][0]
    assert listed["satisfaction"] == shown
    event = ticket.events.get(event=TicketEventType.TICKET_RATED)
    assert (event.actor, event.source, event.note) == (
        cast.client, Source.API, "Rated 😀\n\nFixed within the hour.")


def test_an_unrated_ticket_shows_no_satisfaction(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.CLOSED)
    assert api(cast.client).get(f"/api/tickets/{ticket.pk}/").json()["satisfaction"] is None


def test_rating_again_replaces_the_score_and_a_comment_alone_adds_to_it(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.CLOSED)
    rate(api, cast.client, ticket, score=1, comment="Slow.")
    rate(api, cast.client, ticket, score=2)
    response = rate(api, cast.client, ticket, comment="But it works now.")
    assert response.status_code == 200, response.content
    ticket.refresh_from_db()
    assert ticket.satisfaction == Satisfaction.NEUTRAL
    assert ticket.satisfaction_comment == "Slow.\n\nBut it works now."
    assert ticket.events.filter(event=TicketEventType.TICKET_RATED).count() == 3


@pytest.mark.parametrize("status", [TicketStatus.NEW, TicketStatus.IN_PROGRESS,
                                    TicketStatus.FINISHED, TicketStatus.REJECTED])
def test_only_a_closed_ticket_can_be_rated(api, cast, ticket_in, status):
    ticket = ticket_in(status)
    response = rate(api, cast.client, ticket, score=3)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "rating_not_allowed" and body["status"] == status
    assert "closed" in body["detail"]
    ticket.refresh_from_db()
    assert ticket.satisfaction is None


def test_only_the_tickets_client_rates_and_outsiders_do_not_see_it(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.CLOSED)
    for staff in (cast.developer, cast.admin):
        response = rate(api, staff, ticket, score=3)
        assert response.status_code == 403 and "client" in response.json()["detail"]
    assert rate(api, cast.other_client, ticket, score=3).status_code == 404
    assert rate(api, None, ticket, score=3).status_code == 401
    ticket.refresh_from_db()
    assert ticket.satisfaction is None


@pytest.mark.parametrize("body, field", [
    ({}, "score"), ({"score": 5}, "score"), ({"score": "great"}, "score"),
    ({"comment": ""}, "score"), ({"score": 3, "stars": 5}, "stars"),
])
def test_bad_ratings_name_the_field_and_what_is_allowed(api, cast, ticket_in, body, field):
    ticket = ticket_in(TicketStatus.CLOSED)
    response = rate(api, cast.client, ticket, **body)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    ticket.refresh_from_db()
    assert ticket.satisfaction is None


def test_a_comment_before_any_score_asks_for_the_score(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.CLOSED)
    response = rate(api, cast.client, ticket, comment="Nice.")
    assert response.status_code == 400
    assert "Rate the fix first" in str(response.json())
