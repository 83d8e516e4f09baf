"""Files on tickets through the API: upload, list, download, limits, and who sees what."""
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tickets import attachments, filetypes, services
from tickets.models import Attachment, Source, TicketStatus

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def upload(api, user, ticket, content=PNG, name="screenshot.png", **fields):
    return api(user).post(f"/api/tickets/{ticket.pk}/attachments/",
                          {"file": SimpleUploadedFile(name, content), **fields}, format="multipart")


def test_a_client_uploads_a_screenshot_and_everyone_on_the_ticket_downloads_it(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    response = upload(api, cast.client, ticket)
    assert response.status_code == 201, response.content
    added = response.json()
    assert (added["name"], added["size"], added["content_type"]) == ("screenshot.png", len(PNG),
                                                                     "image/png")
    assert added["uploaded_by"]["username"] == "client" and added["internal"] is False
    assert added["source"] == "API" and added["comment"] is None
    assert added["download_url"] == f"/api/tickets/{ticket.pk}/attachments/{added['id']}/download/"
    for user in (cast.client, cast.developer, cast.admin):
        listed = api(user).get(f"/api/tickets/{ticket.pk}/attachments/").json()
        assert [a["id"] for a in listed] == [added["id"]]
        got = api(user).get(added["download_url"])
        assert got.status_code == 200
        assert b"".join(got.streaming_content) == PNG
        assert got["Content-Type"] == "image/png"
        assert 'attachment; filename="screenshot.png"' == got["Content-Disposition"]
        detail = api(user).get(f"/api/tickets/{ticket.pk}/").json()
        assert detail["attachment_count"] == 1
        assert [a["id"] for a in detail["attachments"]] == [added["id"]]
    row = api(cast.client).get("/api/tickets/").json()["results"][0]
    assert row["attachment_count"] == 1


def test_the_stored_file_is_named_by_the_product_not_by_the_sender(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.OPENED)
    response = upload(api, cast.client, ticket, name="../../etc/passwd\x07.png")
    assert response.status_code == 201, response.content
    stored = Attachment.objects.get()
    assert stored.name == "passwd.png"
    assert stored.file.name.startswith(f"attachments/{ticket.pk}/") and ".." not in stored.file.name


def test_nobody_outside_the_ticket_sees_or_adds_a_file(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    added = upload(api, cast.client, ticket).json()
    for outsider in (cast.other_client, cast.other_developer):
        assert upload(api, outsider, ticket).status_code == 404
        assert api(outsider).get(f"/api/tickets/{ticket.pk}/attachments/").status_code == 404
        assert api(outsider).get(added["download_url"]).status_code == 404
    assert api().get(added["download_url"]).status_code == 401
    # Another ticket's id in the URL does not reach this file.
    mine = ticket_in(TicketStatus.NEW, client=cast.other_client)
    wrong = f"/api/tickets/{mine.pk}/attachments/{added['id']}/download/"
    assert api(cast.other_client).get(wrong).status_code == 404


def test_a_file_of_an_internal_note_is_staff_only_everywhere(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.IN_PROGRESS)
    note = services.comment_add(ticket_id=ticket.pk, author=cast.developer, body="Server log",
                                internal=True)
    response = upload(api, cast.developer, ticket, content=b"ERROR at line 3\n", name="log.txt",
                      comment=note.pk)
    assert response.status_code == 201, response.content
    added = response.json()
    assert added["internal"] is True and added["content_type"] == "text/plain"
    assert api(cast.client).get(f"/api/tickets/{ticket.pk}/attachments/").json() == []
    assert api(cast.client).get(added["download_url"]).status_code == 404
    client_view = api(cast.client).get(f"/api/tickets/{ticket.pk}/").json()
    assert client_view["attachment_count"] == 0 and client_view["attachments"] == []
    assert api(cast.client).get("/api/tickets/").json()["results"][0]["attachment_count"] == 0
    assert api(cast.admin).get(f"/api/tickets/{ticket.pk}/").json()["attachment_count"] == 1
    assert api(cast.developer).get(added["download_url"]).status_code == 200
    # A client cannot hang a file on a note they cannot see.
    refused = upload(api, cast.client, ticket, comment=note.pk)
    assert refused.status_code == 400 and "comment" in refused.json()


def test_a_file_follows_the_comment_it_is_given_with(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    comment = services.comment_add(ticket_id=ticket.pk, author=cast.client, body="See the picture")
    added = upload(api, cast.client, ticket, comment=comment.pk).json()
    assert added["comment"] == comment.pk and added["internal"] is False
    other = ticket_in(TicketStatus.ASSIGNED)
    refused = upload(api, cast.client, other, comment=comment.pk)
    assert refused.status_code == 400
    assert f"Ticket #{other.pk} has no comment {comment.pk}" in refused.json()["comment"][0]


def test_files_are_refused_over_the_size_limit_naming_it(api, cast, ticket_in, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    ticket = ticket_in(TicketStatus.OPENED)
    response = upload(api, cast.client, ticket, content=PNG[:8] + bytes(1200))
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "file_too_large" and body["limit"] == 1000 and body["size"] == 1208
    assert "1,000 bytes" in body["detail"] and "ATTACHMENT_MAX_BYTES" in body["detail"]
    assert not Attachment.objects.exists()


def test_a_body_announced_far_over_the_limit_is_refused_unread(api, cast, ticket_in, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    ticket = ticket_in(TicketStatus.OPENED)
    client = api(cast.client)
    response = client.generic("POST", f"/api/tickets/{ticket.pk}/attachments/", b"x",
                              content_type="multipart/form-data; boundary=zz",
                              CONTENT_LENGTH=str(1000 + attachments_overhead() + 1))
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"


def attachments_overhead() -> int:
    from tickets.views import MULTIPART_OVERHEAD

    return MULTIPART_OVERHEAD


def test_the_type_is_read_from_the_content_not_the_name(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.OPENED)
    disguised = upload(api, cast.client, ticket, content=b"MZ\x90\x00\x03\x00\x00\x00" + bytes(64),
                       name="cute-cat.png")
    assert disguised.status_code == 415
    body = disguised.json()
    assert body["code"] == "file_type_not_allowed" and "image/png" in body["allowed"]
    assert "no type we recognise" in body["detail"]
    renamed = upload(api, cast.client, ticket, content=PDF, name="photo.jpg")
    assert renamed.status_code == 201 and renamed.json()["content_type"] == "application/pdf"


def test_allowed_types_are_a_setting(api, cast, ticket_in, settings):
    settings.ATTACHMENT_TYPES = ["image/png"]
    ticket = ticket_in(TicketStatus.OPENED)
    refused = upload(api, cast.client, ticket, content=PDF, name="report.pdf")
    assert refused.status_code == 415
    assert refused.json()["content_type"] == "application/pdf"
    assert refused.json()["allowed"] == ["image/png"]


def test_a_closed_ticket_takes_no_files_and_a_json_body_is_told_what_to_send(api, cast, ticket_in):
    closed = ticket_in(TicketStatus.CLOSED)
    response = upload(api, cast.client, closed)
    assert response.status_code == 409 and response.json()["code"] == "comment_not_allowed"
    opened = ticket_in(TicketStatus.OPENED)
    as_json = api(cast.client).post(f"/api/tickets/{opened.pk}/attachments/", {"file": "x"},
                                    format="json")
    assert as_json.status_code == 415 and "multipart/form-data" in as_json.json()["detail"]
    empty = api(cast.client).post(f"/api/tickets/{opened.pk}/attachments/", {}, format="multipart")
    assert empty.status_code == 400 and "file" in empty.json()
    unknown = upload(api, cast.client, opened, colour="red")
    assert unknown.status_code == 400 and "colour" in unknown.json()


def test_a_missing_file_is_a_503_saying_what_to_do_not_a_500(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.OPENED)
    added = upload(api, cast.client, ticket).json()
    stored = Attachment.objects.get(pk=added["id"])
    stored.file.storage.delete(stored.file.name)
    response = api(cast.client).get(added["download_url"])
    assert response.status_code == 503 and response.json()["code"] == "storage_unavailable"
    assert "ATTACHMENT_STORAGE" in response.json()["detail"]


def test_a_download_answers_whatever_the_client_accepts(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.OPENED)
    added = upload(api, cast.client, ticket).json()
    got = api(cast.client).get(added["download_url"], HTTP_ACCEPT="image/png")
    assert got.status_code == 200 and got["Content-Type"] == "image/png"


def test_a_refused_row_leaves_no_file_behind(cast, ticket_in, monkeypatch):
    ticket = ticket_in(TicketStatus.OPENED)
    storage, folder = Attachment.file.field.storage, f"attachments/{ticket.pk}"

    def listed() -> set[str]:
        return set(storage.listdir(folder)[1]) if storage.exists(folder) else set()

    before, saved = listed(), []

    def fail(*args, **kwargs):
        saved.extend(listed() - before)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Attachment, "save", fail)
    with pytest.raises(RuntimeError):
        attachments.attachment_add(ticket_id=ticket.pk, author=cast.client, file=io.BytesIO(PNG),
                                   name="a.png", size=len(PNG), source=Source.API)
    assert len(saved) == 1  # it was stored, then removed with the row that failed
    assert listed() == before


def test_the_admin_shows_the_files_and_downloads_them(staff, api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.OPENED)
    added = upload(api, cast.client, ticket).json()
    page = staff.get(f"/admin/tickets/ticket/{ticket.pk}/change/")
    link = f"/admin/tickets/ticket/{ticket.pk}/attachments/{added['id']}/"
    assert page.status_code == 200 and link.encode() in page.content
    got = staff.get(link)
    assert got.status_code == 200 and b"".join(got.streaming_content) == PNG
    assert staff.get(f"/admin/tickets/ticket/{ticket.pk}/attachments/999999/").status_code == 404


def test_the_schema_documents_the_upload_and_the_download(api, cast):
    schema = api(cast.admin).get("/api/schema/?format=json").json()
    post = schema["paths"]["/api/tickets/{id}/attachments/"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert {"201", "413", "415"} <= set(post["responses"])
    download = schema["paths"]["/api/tickets/{id}/attachments/{attachment_id}/download/"]["get"]
    assert "application/octet-stream" in download["responses"]["200"]["content"]


@pytest.mark.parametrize("content,kind", [
    (PNG, "image/png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
    (b"GIF89a\x01\x00", "image/gif"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    (PDF, "application/pdf"),
    (b"OggS\x00\x02", "audio/ogg"),
    (b"#!AMR\n", "audio/amr"),
    (b"ID3\x04\x00", "audio/mpeg"),
    (b"\x00\x00\x00\x20ftypisom\x00\x00", "video/mp4"),
    (b"\x00\x00\x00\x20ftypM4A \x00\x00", "audio/mp4"),
    (b"\x00\x00\x00\x14ftyp3gp4\x00\x00", "video/3gpp"),
    ("Traceback (most recent call last):\n  café\n".encode(), "text/plain"),
    (b"\x00\x01\x02binary", ""),
    (b"", ""),
])
def test_sniffing_reads_signatures(content, kind):
    assert filetypes.sniff(io.BytesIO(content)) == kind


def test_sniffing_tells_office_documents_from_plain_zips():
    def zipped(*names) -> io.BytesIO:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name in names:
                archive.writestr(name, "x")
        buffer.seek(0)
        return buffer

    assert filetypes.sniff(zipped("word/document.xml", "[Content_Types].xml")) == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert filetypes.sniff(zipped("xl/workbook.xml")).endswith("spreadsheetml.sheet")
    assert filetypes.sniff(zipped("logs/app.log")) == "application/zip"


def test_text_that_ends_inside_a_character_is_still_text():
    text = ("é" * (filetypes.HEAD // 2 + 1)).encode()  # the head cuts the last one in two
    assert filetypes.sniff(io.BytesIO(text)) == "text/plain"


def test_an_attachment_renders_as_the_generic_path_would(api, cast, ticket_in):
    from rest_framework import serializers

    from tickets.serializers import AttachmentSerializer

    ticket = ticket_in(TicketStatus.OPENED)
    upload(api, cast.client, ticket)
    stored = Attachment.objects.select_related("uploaded_by").get()
    serializer = AttachmentSerializer()
    assert serializer.to_representation(stored) == dict(
        serializers.Serializer.to_representation(serializer, stored))


def test_a_ticket_closed_while_its_file_is_stored_takes_no_file(api, cast, ticket_in, monkeypatch):
    ticket = ticket_in(TicketStatus.FINISHED)
    sniff = attachments.check_type

    def closed_meanwhile(file):
        services.ticket_transition(ticket_id=ticket.pk, actor=cast.admin, action="close")
        return sniff(file)

    storage, folder = Attachment.file.field.storage, f"attachments/{ticket.pk}"

    def listed() -> set[str]:
        return set(storage.listdir(folder)[1]) if storage.exists(folder) else set()

    before = listed()
    monkeypatch.setattr(attachments, "check_type", closed_meanwhile)
    response = upload(api, cast.client, ticket)
    assert response.status_code == 409, response.content
    assert not Attachment.objects.exists()
    assert listed() == before  # stored, then removed with the refused row
    ticket.refresh_from_db()
    assert ticket.attachment_count == 0


def test_a_ticket_that_moved_on_but_still_takes_files_counts_it(api, cast, ticket_in, monkeypatch):
    ticket = ticket_in(TicketStatus.IN_PROGRESS)
    sniff = attachments.check_type

    def finished_meanwhile(file):
        services.ticket_transition(ticket_id=ticket.pk, actor=cast.developer, action="finish",
                                   resolution="Done.")
        return sniff(file)

    monkeypatch.setattr(attachments, "check_type", finished_meanwhile)
    assert upload(api, cast.client, ticket).status_code == 201
    ticket.refresh_from_db()
    assert (ticket.status, ticket.attachment_count) == (TicketStatus.FINISHED, 1)
