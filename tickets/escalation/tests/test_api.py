"""/api/escalations/chains/, /api/oncall/rotations/, GET /api/oncall/ and
POST /api/tickets/{id}/acknowledge/."""
from datetime import timedelta

import pytest
from django.utils import timezone

from tickets.escalation import timers
from tickets.escalation.models import Chain, Rotation, Run, RunState, Step
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db


def chain_body(cast, rotation) -> dict:
    return {"name": "Night", "repeat": 2, "steps": [
        {"wait_minutes": 0, "target": "ON_CALL", "rotation": rotation.pk},
        {"wait_minutes": 10, "target": "USERS", "users": [cast.admin.pk, cast.other_developer.pk]},
        {"wait_minutes": 20, "target": "ROLE", "role": "ADMIN"}]}


def test_an_admin_creates_reads_replaces_and_deletes_a_chain(api, cast, rotation):
    admin = api(cast.admin)
    made = admin.post("/api/escalations/chains/", chain_body(cast, rotation), format="json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert [(s["target"], s["wait_minutes"]) for s in body["steps"]] == [
        ("ON_CALL", 0), ("USERS", 10), ("ROLE", 20)]
    assert body["steps"][1]["users"] == sorted([cast.admin.pk, cast.other_developer.pk])
    url = f"/api/escalations/chains/{body['id']}/"
    changed = admin.patch(url, {"steps": [{"target": "ASSIGNED"}]}, format="json")
    assert changed.status_code == 200, changed.content
    assert [s["target"] for s in changed.json()["steps"]] == ["ASSIGNED"]
    assert list(Step.objects.values_list("position", "target")) == [(0, "ASSIGNED")]
    assert admin.delete(url).status_code == 204 and not Chain.objects.exists()


@pytest.mark.parametrize("change, field, words", [
    ({"repeat": 10}, "repeat", "9"),
    ({"steps": [{"target": "ROLE"}]}, "steps", "item 1, role: Name the role"),
    ({"steps": [{"target": "ON_CALL"}]}, "steps", "rotation"),
    ({"steps": [{"target": "USERS"}]}, "steps", "at least one user"),
    ({"steps": [{"target": "SOMEONE"}]}, "steps", "Allowed: ASSIGNED, ROLE, USERS, ON_CALL"),
    ({"pager": "yes"}, "pager", "Unknown field"),
])
def test_a_bad_chain_is_a_400_naming_the_field(api, cast, rotation, change, field, words):
    answer = api(cast.admin).post("/api/escalations/chains/",
                                  {**chain_body(cast, rotation), **change}, format="json")
    assert answer.status_code == 400, answer.content
    assert words in str(answer.json()[field])


def test_a_client_is_never_a_step_or_rotation_member(api, cast, rotation):
    admin = api(cast.admin)
    step = admin.post("/api/escalations/chains/", {"name": "X", "steps": [
        {"target": "USERS", "users": [cast.client.pk]}]}, format="json")
    assert step.status_code == 400 and "is a client" in str(step.json()["steps"])
    member = admin.patch(f"/api/oncall/rotations/{rotation.pk}/", {"members": [cast.client.pk]},
                         format="json")
    assert member.status_code == 400 and "is a client" in str(member.json()["members"])


def test_a_chain_a_policy_uses_cannot_be_deleted(api, cast, policy):
    answer = api(cast.admin).delete(f"/api/escalations/chains/{policy.chain_id}/")
    assert answer.status_code == 409 and answer.json()["code"] == "in_use"


def test_rotations_with_members_and_overrides_and_who_is_on_call(api, cast):
    admin = api(cast.admin)
    now = timezone.now()
    made = admin.post("/api/oncall/rotations/", {
        "name": "Devs", "time_zone": "Africa/Cairo", "shift_hours": 24,
        "starts_on": str(now.date() - timedelta(days=10)), "handoff_time": "00:00",
        "members": [cast.developer.pk, cast.other_developer.pk],
        "overrides": [{"user": cast.admin.pk, "starts_at": (now - timedelta(hours=1)).isoformat(),
                       "ends_at": (now + timedelta(hours=1)).isoformat()}]}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["members"] == [cast.developer.pk, cast.other_developer.pk]
    [row] = admin.get("/api/oncall/").json()
    assert row["name"] == "Devs"
    assert (row["now"]["username"], row["now"]["override"]) == ("admin", True)
    assert row["next"]["username"] in ("dev", "other_dev") and not row["next"]["override"]
    bad = admin.post("/api/oncall/rotations/", {"name": "Bad", "starts_on": "2026-01-01",
                                                "time_zone": "Mars/Base", "shift_hours": 0},
                     format="json")
    assert bad.status_code == 400 and {"time_zone", "shift_hours"} <= set(bad.json())
    backwards = admin.patch(f"/api/oncall/rotations/{made.json()['id']}/", {"overrides": [
        {"user": cast.admin.pk, "starts_at": now.isoformat(),
         "ends_at": (now - timedelta(hours=1)).isoformat()}]}, format="json")
    assert backwards.status_code == 400 and "after the start" in str(backwards.json())


@pytest.mark.parametrize("path", ["/api/escalations/chains/", "/api/oncall/rotations/",
                                  "/api/oncall/"])
def test_only_admins_set_up_escalation(api, cast, path):
    for someone in (cast.developer, cast.client):
        assert api(someone).get(path).status_code == 403


def test_acknowledge_through_the_api(api, cast, ticket_in, policy, monkeypatch):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    url = f"/api/tickets/{ticket.pk}/acknowledge/"
    nothing = api(cast.developer).post(url)
    assert nothing.status_code == 409 and nothing.json()["code"] == "nothing_to_acknowledge"
    due = ticket.clocks.get(metric="RESOLUTION").due_at
    monkeypatch.setattr(timezone, "now", lambda: due)
    timers.tick()
    for outsider in (cast.other_developer, cast.other_client):  # not theirs to see
        assert api(outsider).post(url).status_code == 404
    assert api(cast.client).post(url).status_code == 403
    done = api(cast.developer).post(url)
    assert done.status_code == 200, done.content
    assert done.json()["acknowledged_by"] == "dev"
    assert Run.objects.get(pk=done.json()["runs"][0]).state == RunState.ACKNOWLEDGED
    assert Rotation.objects.count() == 1
