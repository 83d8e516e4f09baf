"""`Idempotency-Key` on POST /api/tickets/: a retried or double-clicked filing makes one ticket and
one set of notifications."""
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from notifications.models import NotificationLog
from tickets.models import IdempotencyKey, Ticket
from tickets.tests.threads import all_at_once, skip_unless_postgres

BODY = {"title": "Login page not working", "description": "Users cannot login.",
        "project_name": "Web Portal", "priority": "HIGH"}


def file(client, key=None, body=BODY):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post("/api/tickets/", body, format="json", **headers)


@pytest.mark.django_db
def test_the_same_key_returns_the_first_ticket_and_notifies_once(
        api, cast, django_capture_on_commit_callbacks):
    client = api(cast.client)
    with django_capture_on_commit_callbacks(execute=True):
        first = file(client, "3f2b8c1e-0d4a-4c55-9a7e-2b1f0c9d8e7a")
    with django_capture_on_commit_callbacks(execute=True) as replay_callbacks:
        second = file(client, "3f2b8c1e-0d4a-4c55-9a7e-2b1f0c9d8e7a")
    assert replay_callbacks == []  # nothing scheduled: nobody is told twice
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert (first["Idempotent-Replayed"], second["Idempotent-Replayed"]) == ("false", "true")
    assert Ticket.objects.count() == 1
    rows = NotificationLog.objects.filter(ticket_id=first.json()["id"])
    recipients = list(rows.values_list("recipient_id", flat=True))
    assert recipients and len(recipients) == len(set(recipients))


@pytest.mark.django_db
def test_without_a_key_each_post_files_a_ticket(api, cast):
    client = api(cast.client)
    assert file(client).status_code == file(client).status_code == 201
    assert Ticket.objects.count() == 2
    assert "Idempotent-Replayed" not in file(client)


@pytest.mark.django_db
def test_keys_are_per_user(api, cast):
    mine = file(api(cast.client), "k-1")
    theirs = file(api(cast.other_client), "k-1")
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs["Idempotent-Replayed"] == "false"


@pytest.mark.django_db
def test_a_key_older_than_24_hours_files_a_new_ticket(api, cast):
    client = api(cast.client)
    first = file(client, "k-1").json()["id"]
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    again = file(client, "k-1")
    assert again.status_code == 201 and again.json()["id"] != first
    assert again["Idempotent-Replayed"] == "false"
    assert IdempotencyKey.objects.get().ticket_id == again.json()["id"]


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_a_422(api, cast):
    client = api(cast.client)
    first = file(client, "k-1").json()["id"]
    response = file(client, "k-1", {**BODY, "title": "Something else"})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert response.json()["ticket"] == first
    assert "new key" in response.json()["detail"]
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "with space", "x" * 256, "é-key"])
def test_a_malformed_key_is_a_400_naming_the_header(api, cast, key):
    response = file(api(cast.client), key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert Ticket.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_posts_with_one_key_file_one_ticket(cast):
    skip_unless_postgres()

    def attempt():
        client = APIClient()
        client.force_authenticate(cast.client)
        response = file(client, "double-click")
        return response.status_code, response.json()["id"], response["Idempotent-Replayed"]

    results = all_at_once(20, attempt)
    assert {code for code, _, _ in results} == {201}
    assert len({ticket for _, ticket, _ in results}) == 1
    assert sorted(replayed for _, _, replayed in results) == ["false"] + ["true"] * 19
    assert Ticket.objects.count() == 1
    recipients = list(NotificationLog.objects.values_list("recipient_id", flat=True))
    assert recipients and len(recipients) == len(set(recipients))
