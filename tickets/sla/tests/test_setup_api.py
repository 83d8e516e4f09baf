"""/api/sla/calendars/ and /api/sla/policies/: admins script what they set up in the admin."""
import pytest

from tickets.models import TicketStatus
from tickets.sla.models import Calendar, Clock, Policy

pytestmark = pytest.mark.django_db
OFFICE = {"name": "Office", "time_zone": "Europe/Berlin",
          "intervals": [{"weekday": 0, "start": "09:00", "end": "13:00"},
                        {"weekday": 0, "start": "14:00", "end": "18:00"}],
          "holidays": [{"day": "2026-12-25", "name": "Christmas"}]}


def test_an_admin_creates_reads_changes_and_deletes_a_calendar(api, cast):
    admin = api(cast.admin)
    made = admin.post("/api/sla/calendars/", OFFICE, format="json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert [(i["weekday"], i["start"], i["end"]) for i in body["intervals"]] == [
        (0, "09:00:00", "13:00:00"), (0, "14:00:00", "18:00:00")]
    url = f"/api/sla/calendars/{body['id']}/"
    changed = admin.patch(url, {"holidays": []}, format="json")
    assert changed.status_code == 200 and changed.json()["holidays"] == []
    assert len(changed.json()["intervals"]) == 2  # not sent: kept
    assert admin.get("/api/sla/calendars/").json()["results"][0]["name"] == "Office"
    assert admin.delete(url).status_code == 204 and not Calendar.objects.exists()


@pytest.mark.parametrize("change, field, words", [
    ({"time_zone": "Cairo"}, "time_zone", "IANA"),
    ({"intervals": [{"weekday": 1, "start": "18:00", "end": "09:00"}]}, "intervals",
     "after the start"),
    ({"intervals": [{"weekday": 7, "start": "09:00", "end": "10:00"}]}, "intervals", "weekday"),
    ({"holidays": [{"day": "2026-12-25"}, {"day": "2026-12-25"}]}, "holidays", "once"),
    ({"colour": "blue"}, "colour", ""),
])
def test_a_bad_calendar_is_a_400_naming_the_field(api, cast, change, field, words):
    answer = api(cast.admin).post("/api/sla/calendars/", {**OFFICE, **change}, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json() and words in str(answer.json()[field])
    assert not Calendar.objects.exists()


def test_policies_are_set_up_through_the_api_and_start_clocks(api, cast, ticket_in):
    admin = api(cast.admin)
    calendar = admin.post("/api/sla/calendars/", OFFICE, format="json").json()
    made = admin.post("/api/sla/policies/", {
        "name": "HIGH", "priority": "HIGH", "calendar": calendar["id"],
        "first_response_minutes": 15, "resolution_minutes": 240}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["enabled"] is True and made.json()["position"] == 0
    ticket = ticket_in(TicketStatus.NEW)
    assert Clock.objects.filter(ticket=ticket, policy_id=made.json()["id"]).count() == 2
    wrong = admin.post("/api/sla/policies/", {"name": "x", "priority": "URGENT",
                                              "first_response_minutes": -1,
                                              "resolution_minutes": 10}, format="json")
    assert wrong.status_code == 400
    assert "LOW, MEDIUM, HIGH, CRITICAL" in wrong.json()["priority"][0]
    assert "first_response_minutes" in wrong.json()
    # A calendar a policy uses cannot be deleted: a 409 naming the policy.
    refused = admin.delete(f"/api/sla/calendars/{calendar['id']}/")
    assert refused.status_code == 409 and "HIGH" in refused.json()["detail"]
    assert refused.json()["code"] == "in_use"


def test_only_admins_see_or_change_the_set_up(api, cast):
    for user in (cast.client, cast.developer):
        assert api(user).get("/api/sla/policies/").status_code == 403
        assert api(user).post("/api/sla/calendars/", OFFICE, format="json").status_code == 403
    assert api().get("/api/sla/calendars/").status_code == 401
    assert not Calendar.objects.exists()
    assert list(Policy.objects.values_list("enabled", flat=True)) == [False]  # the shipped default


def test_the_schema_describes_the_set_up_endpoints(api, cast):
    schema = api(cast.admin).get("/api/schema/?format=json").json()
    assert {"/api/sla/calendars/", "/api/sla/calendars/{id}/", "/api/sla/policies/",
            "/api/sla/policies/{id}/"} <= set(schema["paths"])


def test_a_lists_problems_are_sentences_naming_the_item(api, cast):
    answer = api(cast.admin).post("/api/sla/calendars/", {**OFFICE, "intervals": [
        {"weekday": 0, "start": "09:00", "end": "10:00"},
        {"weekday": 1, "start": "18:00", "end": "09:00"}]}, format="json")
    assert answer.status_code == 400
    assert answer.json()["intervals"] == [
        "item 2, end: The end must be after the start (00:00 for midnight)."]
