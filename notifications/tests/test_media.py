"""Files people send on WhatsApp: stored as attachments of the ticket they are about, fetched after
the webhook's answer, tried again when Meta fails, and never lost."""
import json
from datetime import timedelta

import pytest
import requests
import responses
from django.utils import timezone

from notifications import services as notification_services
from notifications.models import REPLY, NotificationLog, ReceivedMessage
from notifications.tests.test_inbound import comments, delivered_as, message, notified, send
from notifications.whatsapp import inbound, media, webhook
from notifications.whatsapp.client import WhatsAppClient
from notifications.whatsapp.models import MediaDownload, MediaState
from notifications.whatsapp.types import Media, MediaUnavailable
from notifications.whatsapp.views import finish_after_response
from tickets import services
from tickets.models import Attachment, Source, TicketEventType, TicketStatus

pytestmark = pytest.mark.django_db
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8
PDF = b"%PDF-1.7\n" + b"0" * 200


def photo(user, media_id="MEDIA1", caption="", **extra) -> dict:
    content = {"id": media_id, "mime_type": "image/jpeg", "sha256": "x"}
    if caption:
        content["caption"] = caption
    return message(user, "image", image=content, **extra)


def document(user, media_id="DOC1", filename="error-log.pdf", **extra) -> dict:
    return message(user, "document", document={"id": media_id, "mime_type": "application/pdf",
                                               "filename": filename}, **extra)


def receive(*items, capture) -> None:
    """Act on these messages as the webhook does, and run what it leaves for after its answer."""
    _, messages = webhook.parse({"entry": [{"changes": [{"field": "messages", "value": {
        "messages": list(items)}}]}]})
    with capture(execute=True):
        inbound.handle(messages)


def replies(user) -> list[str]:
    return list(NotificationLog.objects.filter(recipient=user, event=REPLY).order_by("pk")
                .values_list("message", flat=True))


def test_a_photo_replying_to_a_notification_becomes_an_attachment_with_its_caption(
        cast, ticket_in, sender, django_capture_on_commit_callbacks):
    ticket, other = ticket_in(TicketStatus.ASSIGNED), ticket_in(TicketStatus.OPENED)
    delivered_as(notified(ticket, TicketEventType.DEVELOPER_ASSIGNED, cast.client), "wamid.OUT1")
    sender.media["MEDIA1"] = Media(JPEG, "image/jpeg")
    receive(photo(cast.client, caption="This is what I see", quoting="wamid.OUT1"),
            capture=django_capture_on_commit_callbacks)
    [stored] = Attachment.objects.all()
    assert (stored.ticket, stored.uploaded_by, stored.source) == (ticket, cast.client,
                                                                  Source.WHATSAPP)
    assert stored.content_type == "image/jpeg" and stored.size == len(JPEG)
    assert stored.file.read() == JPEG
    assert stored.name.startswith("WhatsApp photo ") and stored.name.endswith(".jpg")
    [comment] = comments(ticket)
    assert (comment.note, stored.comment) == ("This is what I see", comment)
    assert comments(other) == []
    assert replies(cast.client) == [f"Added your photo to ticket #{ticket.pk} \"{ticket.title}\"."]
    row = MediaDownload.objects.get()
    assert (row.state, row.attachment, row.tries) == (MediaState.STORED, stored, 1)
    received = ReceivedMessage.objects.get()
    assert received.ticket == ticket and "being fetched" in received.outcome
    ticket.refresh_from_db()
    assert ticket.attachment_count == 1


def test_a_document_keeps_its_name_and_lands_on_the_one_open_ticket(
        cast, ticket_in, sender, django_capture_on_commit_callbacks):
    ticket = ticket_in(TicketStatus.IN_PROGRESS)
    sender.media["DOC1"] = Media(PDF, "application/pdf")
    receive(document(cast.client), capture=django_capture_on_commit_callbacks)
    stored = Attachment.objects.get()
    assert (stored.ticket, stored.name, stored.content_type) == (ticket, "error-log.pdf",
                                                                 "application/pdf")
    assert stored.comment.note == "(a document sent on WhatsApp)"


def test_the_same_message_delivered_twice_is_fetched_and_stored_once(
        cast, ticket_in, sender, django_capture_on_commit_callbacks):
    ticket_in(TicketStatus.OPENED)
    sender.media["MEDIA1"] = Media(JPEG, "image/jpeg")
    item = photo(cast.client)
    receive(item, capture=django_capture_on_commit_callbacks)
    receive(item, capture=django_capture_on_commit_callbacks)
    assert Attachment.objects.count() == 1 and MediaDownload.objects.count() == 1
    assert sender.fetched == ["MEDIA1"]


def test_a_failed_fetch_is_due_again_and_then_stored(
        cast, ticket_in, sender, django_capture_on_commit_callbacks):
    ticket = ticket_in(TicketStatus.OPENED)
    sender.media["MEDIA1"] = [MediaUnavailable("Graph answered HTTP 500 on the download", again=True),
                              Media(JPEG, "image/jpeg")]
    receive(photo(cast.client, caption="Screenshot"), capture=django_capture_on_commit_callbacks)
    row = MediaDownload.objects.get()
    assert row.state == MediaState.WAITING and "HTTP 500" in row.error
    assert row.due_at > timezone.now() + timedelta(seconds=50) and row.claimed_until is None
    assert not Attachment.objects.exists() and replies(cast.client) == []
    assert media.fetch() == 0  # not due yet
    assert media.fetch(now=row.due_at) == 1
    row.refresh_from_db()
    assert row.state == MediaState.STORED and row.tries == 2
    assert Attachment.objects.get().ticket == ticket


def test_the_recovery_pass_fetches_what_is_due(cast, ticket_in, sender,
                                               django_capture_on_commit_callbacks):
    ticket_in(TicketStatus.OPENED)
    sender.media["MEDIA1"] = [MediaUnavailable("the download broke off", again=True),
                              Media(JPEG, "image/jpeg")]
    receive(photo(cast.client), capture=django_capture_on_commit_callbacks)
    MediaDownload.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    notification_services.recover()
    assert MediaDownload.objects.get().state == MediaState.STORED


def test_a_file_meta_no_longer_has_keeps_its_caption_and_says_why(
        cast, ticket_in, sender, django_capture_on_commit_callbacks):
    ticket = ticket_in(TicketStatus.OPENED)
    sender.media["MEDIA1"] = MediaUnavailable("Meta no longer has it (HTTP 404 on the download)",
                                              again=False)
    receive(photo(cast.client, caption="The error screen"), capture=django_capture_on_commit_callbacks)
    row = MediaDownload.objects.get()
    assert row.state == MediaState.FAILED and "HTTP 404" in row.error
    [comment] = comments(ticket)
    assert comment.note.startswith("The error screen\n\n[The photo sent with this on WhatsApp "
                                   "could not be fetched: Meta no longer has it")
    [reply] = replies(cast.client)
    assert "could not be added to ticket" in reply and "caption was kept" in reply
    assert not Attachment.objects.exists()


def test_a_fetch_that_keeps_failing_is_given_up_after_its_tries(
        cast, ticket_in, sender, django_capture_on_commit_callbacks):
    ticket = ticket_in(TicketStatus.OPENED)
    sender.media["MEDIA1"] = MediaUnavailable("Graph answered HTTP 503 on the look-up", again=True)
    receive(photo(cast.client), capture=django_capture_on_commit_callbacks)
    for _ in media.AGAIN_AFTER:
        row = MediaDownload.objects.get()
        assert row.state == MediaState.WAITING
        media.fetch(now=row.due_at)
    row = MediaDownload.objects.get()
    assert row.state == MediaState.FAILED and row.tries == len(media.AGAIN_AFTER) + 1
    assert "HTTP 503" in comments(ticket)[0].note


def test_a_file_of_a_type_not_allowed_is_refused_with_its_reason(
        cast, ticket_in, sender, django_capture_on_commit_callbacks):
    ticket = ticket_in(TicketStatus.OPENED)
    sender.media["DOC1"] = Media(b"MZ\x90\x00" + bytes(100), "application/x-msdownload")
    receive(document(cast.client, filename="setup.exe"), capture=django_capture_on_commit_callbacks)
    assert MediaDownload.objects.get().state == MediaState.FAILED
    assert "not allowed" in comments(ticket)[0].note
    assert not Attachment.objects.exists()


def test_a_reply_to_an_internal_note_stores_an_internal_file(
        cast, ticket_in, sender, django_capture_on_commit_callbacks):
    ticket = ticket_in(TicketStatus.IN_PROGRESS)
    note = services.comment_add(ticket_id=ticket.pk, author=cast.admin, body="Logs?", internal=True)
    told = NotificationLog.objects.get(ticket_event=note, recipient=cast.developer)
    delivered_as(told, "wamid.NOTE1")
    sender.media["DOC1"] = Media(PDF, "application/pdf")
    receive(document(cast.developer, quoting="wamid.NOTE1"), capture=django_capture_on_commit_callbacks)
    stored = Attachment.objects.get()
    assert stored.internal is True and stored.comment.internal is True


def test_a_file_for_a_ticket_the_sender_may_not_touch_is_not_fetched(
        cast, ticket_in, sender, django_capture_on_commit_callbacks):
    ticket_in(TicketStatus.CLOSED)
    receive(photo(cast.client), capture=django_capture_on_commit_callbacks)
    assert not MediaDownload.objects.exists() and sender.fetched == []
    assert replies(cast.client)[0].startswith("You have no open ticket")


def test_a_claim_is_one_holders_and_a_late_holder_writes_nothing(
        cast, ticket_in, sender, django_capture_on_commit_callbacks, monkeypatch):
    ticket_in(TicketStatus.OPENED)
    monkeypatch.setattr(media, "fetch", lambda *a, **k: 0)  # nothing runs after the answer
    receive(photo(cast.client), capture=django_capture_on_commit_callbacks)
    monkeypatch.undo()
    row = MediaDownload.objects.get()
    now = timezone.now()
    first = media._claim(row.pk, now=now)
    assert first is not None and media._claim(row.pk, now=now) is None  # a second claimer: none
    # The first holder died: after the lease another claims it, and the dead one's answer (were it
    # to come) no longer counts.
    second = media._claim(row.pk, now=now + media.LEASE + timedelta(seconds=1))
    assert second is not None
    sender.media["MEDIA1"] = Media(JPEG, "image/jpeg")
    assert media._fetch_one(row.pk, first) == 0
    assert not Attachment.objects.exists()
    assert media._fetch_one(row.pk, second) == 1
    assert Attachment.objects.count() == 1


def test_an_unproved_number_sends_no_file(cast, ticket_in, sender, settings,
                                          django_capture_on_commit_callbacks):
    settings.WHATSAPP_REQUIRE_PROOF = "all"
    ticket_in(TicketStatus.OPENED)
    receive(photo(cast.client), capture=django_capture_on_commit_callbacks)
    assert not MediaDownload.objects.exists()
    assert replies(cast.client) == [inbound.NOT_PROVED]


@pytest.mark.django_db(transaction=True)  # real commits: the fetch runs after the answer
def test_through_the_signed_webhook_the_file_is_fetched_after_the_answer(
        client, cast, ticket_in, sender):
    ticket = ticket_in(TicketStatus.OPENED)
    sender.media["MEDIA1"] = Media(JPEG, "image/jpeg")
    send(client, photo(cast.client, caption="From the webhook"))
    assert finish_after_response(timeout=30)
    stored = Attachment.objects.get()
    assert stored.ticket == ticket and stored.comment.note == "From the webhook"


# --- The Graph client's fetch -------------------------------------------------------------------

GRAPH = "https://graph.facebook.com/v25.0"
CDN = "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=MEDIA1&ext=1"


def graph_client() -> WhatsAppClient:
    return WhatsAppClient(access_token="TOKEN-123", phone_number_id="123", api_version="v25.0")


@responses.activate
def test_the_client_looks_the_media_up_then_downloads_it_with_the_token():
    responses.get(f"{GRAPH}/MEDIA1", json={"url": CDN, "mime_type": "image/jpeg",
                                           "file_size": len(JPEG), "id": "MEDIA1"})
    responses.get(CDN, body=JPEG)
    got = graph_client().fetch_media("MEDIA1", max_bytes=10_000, within=60)
    assert got == Media(JPEG, "image/jpeg")
    assert [call.request.headers["Authorization"] for call in responses.calls] == [
        "Bearer TOKEN-123"] * 2


@responses.activate
def test_a_404_on_the_media_url_is_final_and_never_shows_the_token():
    responses.get(f"{GRAPH}/MEDIA1", json={"url": CDN, "mime_type": "image/jpeg"})
    responses.get(CDN, status=404, body=b"gone TOKEN-123")
    with pytest.raises(MediaUnavailable) as refused:
        graph_client().fetch_media("MEDIA1", max_bytes=10_000, within=60)
    assert refused.value.again is False and "HTTP 404" in refused.value.why
    assert "TOKEN-123" not in refused.value.why


@responses.activate
def test_a_timeout_is_tried_again_later():
    responses.get(f"{GRAPH}/MEDIA1", body=requests.ReadTimeout("slow"))
    with pytest.raises(MediaUnavailable) as refused:
        graph_client().fetch_media("MEDIA1", max_bytes=10_000, within=60)
    assert refused.value.again is True and "ReadTimeout" in refused.value.why


@responses.activate
def test_an_expired_download_url_is_tried_again_and_a_file_too_large_is_not():
    responses.get(f"{GRAPH}/MEDIA1", json={"url": CDN, "mime_type": "image/jpeg"})
    responses.get(CDN, status=401, json={"error": {"message": "expired"}})
    with pytest.raises(MediaUnavailable) as expired:
        graph_client().fetch_media("MEDIA1", max_bytes=10_000, within=60)
    assert expired.value.again is True
    responses.replace(responses.GET, f"{GRAPH}/MEDIA1",
                      json={"url": CDN, "mime_type": "video/mp4", "file_size": 50_000_000})
    with pytest.raises(MediaUnavailable) as large:
        graph_client().fetch_media("MEDIA1", max_bytes=10_000, within=60)
    assert large.value.again is False and "50,000,000 bytes" in large.value.why
    responses.replace(responses.GET, f"{GRAPH}/MEDIA1", json={"url": CDN})
    responses.replace(responses.GET, CDN, body=bytes(20_000))  # no size announced: counted
    with pytest.raises(MediaUnavailable) as counted:
        graph_client().fetch_media("MEDIA1", max_bytes=10_000, within=60)
    assert counted.value.again is False and "over the limit" in counted.value.why


def test_the_webhook_reads_a_files_id_type_name_and_caption():
    _, [read] = webhook.parse(json.loads(json.dumps({"entry": [{"changes": [{
        "field": "messages", "value": {"messages": [
            {"from": "201000000001", "id": "wamid.X", "timestamp": "1790000000",
             "type": "document", "document": {"id": "DOC9", "mime_type": "application/pdf",
                                              "filename": "report.pdf", "caption": "See p. 3"}}]}}]}]})))
    assert (read.kind, read.media_id, read.mime_type, read.filename, read.text) == (
        "document", "DOC9", "application/pdf", "report.pdf", "See p. 3")


def test_admins_see_each_file_received_and_where_it_stands(
        staff, cast, ticket_in, sender, django_capture_on_commit_callbacks):
    ticket_in(TicketStatus.OPENED)
    sender.media["MEDIA1"] = MediaUnavailable("Graph answered HTTP 500 on the look-up", again=True)
    receive(photo(cast.client), capture=django_capture_on_commit_callbacks)
    page = staff.get("/admin/whatsapp/mediadownload/?state=WAITING").content.decode()
    assert "Graph answered HTTP 500 on the look-up" in page and "client" in page
