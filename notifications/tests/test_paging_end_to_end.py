"""End to end on the fake Graph client, through the API, the recovery pass and signed webhooks:
a HIGH ticket filed at 02:00 with a 15-minute target pages the on-call developer at the breach,
pages the next step after its wait, and stops within one pass of the Acknowledge tap; an admin
keeping quiet hours gets a MEDIUM ticket's message at 08:00 their time, not at 02:00."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import UserProfile
from notifications import services
from notifications.tests.test_inbound import send, tap
from tickets.escalation.models import Run, RunState
from tickets.models import Priority

pytestmark = pytest.mark.django_db
CAIRO = ZoneInfo("Africa/Cairo")
TWO_AM = datetime(2026, 12, 8, 2, 0, tzinfo=CAIRO)


def test_a_night_breach_pages_until_acknowledged_and_quiet_hours_wait_for_morning(
        api, client, cast, policy, sender, monkeypatch, django_capture_on_commit_callbacks):
    clock = {"now": TWO_AM}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])

    def at(minutes: float) -> None:
        """The recovery pass (the inline timer pass), `minutes` after 02:00."""
        clock["now"] = TWO_AM + timedelta(minutes=minutes)
        with django_capture_on_commit_callbacks(execute=True):
            services.recover(sleep=lambda seconds: None)

    def to(user) -> list:
        return sender.calls_to(user.profile.whatsapp_number)

    UserProfile.objects.filter(user=cast.admin).update(
        time_zone="Africa/Cairo", quiet_start=time(22), quiet_end=time(8))
    with django_capture_on_commit_callbacks(execute=True):
        high = api(cast.client).post("/api/tickets/", {
            "title": "Checkout fails", "description": "Every card payment is refused.",
            "project_name": "Shop", "priority": Priority.HIGH, "category": "BUG"}, format="json")
        medium = api(cast.client).post("/api/tickets/", {
            "title": "Typo on the invoice", "description": "Totl instead of Total.",
            "project_name": "Shop", "priority": Priority.MEDIUM, "category": "BUG"},
            format="json")
    assert high.status_code == medium.status_code == 201
    assert to(cast.admin) == []  # both new-ticket messages wait for 08:00 Cairo

    on_call = cast.other_developer  # the rotation's second week (from Monday 7 December)
    at(14)
    assert to(on_call) == []
    at(15)  # the first response breaches: the on-call developer is paged at once
    [page] = to(on_call)
    assert "Needs Someone Now" in page.body and "Checkout fails" in page.body
    assert [title for _, title in page.buttons] == ["Acknowledge", "Snooze 30 min", "Escalate now"]

    at(25)  # the next step pages the admins: a page of a HIGH ticket goes through quiet hours
    [admin_page] = to(cast.admin)
    assert "Needs Someone Now" in admin_page.body

    ack = page.buttons[0][0]
    with django_capture_on_commit_callbacks(execute=True):
        send(client, tap(on_call, ack))
    run = Run.objects.get(ticket_id=high.json()["id"])
    assert (run.state, run.acknowledged_by) == (RunState.ACKNOWLEDGED, on_call)
    told = to(cast.admin)[-1]
    assert "Page Acknowledged" in told.body  # the admin hears who took it
    before = len(sender.calls)
    at(26)
    at(60)
    assert sender.calls[before:] == []  # nothing paged after the tap

    at(5 * 60 + 59)  # 07:59 Cairo: the new-ticket messages still wait
    assert not any("New Ticket" in call.body for call in to(cast.admin))
    at(6 * 60)  # 08:00 Cairo
    created = [call.body for call in to(cast.admin) if "New Ticket" in call.body]
    assert len(created) == 2 and any("Typo on the invoice" in body for body in created)
