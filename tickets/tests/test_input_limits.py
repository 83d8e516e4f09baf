"""Bad, huge and unusual input: always a 4xx a person can act on, never a 500, never lost text."""
import json

import pytest

from notifications.models import NotificationLog
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db

TICKET = {"title": "t", "description": "d", "project_name": "p"}
HUGE_ID = "9" * 30


def post_raw(api, user, url, raw: bytes, content_type="application/json"):
    return api(user).generic("POST", url, raw, content_type=content_type)


def test_an_oversized_body_is_413_and_nothing_is_stored(api, cast, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    body = json.dumps({**TICKET, "description": "x" * 60_000}).encode()
    response = post_raw(api, cast.client, "/api/tickets/", body)
    assert response.status_code == 413
    assert "larger than 50,000 bytes" in response.json()["detail"]
    assert not Ticket.objects.exists()


def test_the_default_limit_holds_for_json(api, cast):
    body = json.dumps({**TICKET, "description": "x" * 3_000_000}).encode()
    assert post_raw(api, cast.client, "/api/tickets/", body).status_code == 413


@pytest.mark.parametrize("field, size", [("title", 201), ("project_name", 201),
                                         ("description", 10_001)])
def test_a_field_over_its_limit_names_the_limit(api, cast, field, size):
    response = api(cast.client).post("/api/tickets/", {**TICKET, field: "x" * size}, format="json")
    assert response.status_code == 400
    assert "no more than" in response.json()[field][0]


@pytest.mark.parametrize("raw", [
    b"[" * 100_000 + b"]" * 100_000,         # nesting deep enough to exhaust the parser
    b'{"title": "\xff\xfe broken utf-8"}',    # not UTF-8
    b'{"title": "a", "title": ',              # cut off
    b"\x00\x01\x02",
    b'"just a string"',
    b"[1, 2, 3]",
    b'{"title": NaN}',
])
def test_malformed_json_is_400(api, cast, raw):
    response = post_raw(api, cast.client, "/api/tickets/", raw)
    assert response.status_code == 400
    assert isinstance(response.json(), dict)


def test_a_nul_character_is_refused(api, cast):
    response = api(cast.client).post("/api/tickets/", {**TICKET, "title": "a\x00b"}, format="json")
    assert response.status_code == 400
    assert "title" in response.json()


@pytest.mark.parametrize("url", [
    f"/api/tickets/{HUGE_ID}/",
    f"/api/tickets/{HUGE_ID}/open/",
    f"/api/tickets/?client={HUGE_ID}",
    f"/api/tickets/?assigned_developer={HUGE_ID}",
    f"/api/notifications/logs/?ticket={HUGE_ID}",
    f"/api/notifications/logs/?recipient={HUGE_ID}",
    "/api/tickets/?page=-1",
    "/api/tickets/?page=abc",
    "/api/tickets/?client=1.5",
    "/api/tickets/?client=-3",
    f"/api/users/?page={HUGE_ID}",
])
def test_out_of_range_numbers_in_urls_are_4xx(api, cast, url):
    method = "post" if url.endswith("/open/") else "get"
    response = getattr(api(cast.admin), method)(url)
    assert 400 <= response.status_code < 500, (url, response.status_code)
    assert isinstance(response.json(), dict)


def test_a_huge_page_size_is_capped_at_100(api, cast):
    response = api(cast.admin).get("/api/tickets/?page_size=100000000000000000000")
    assert response.status_code == 200


def test_assigning_an_out_of_range_developer_id_is_400(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.OPENED)
    response = api(cast.admin).post(f"/api/tickets/{ticket.pk}/assign/",
                                     {"developer": int(HUGE_ID)}, format="json")
    assert response.status_code == 400
    assert "developer" in response.json()


ARABIC = "تعذر تسجيل الدخول إلى البوابة"
EMOJI = "Printer 🔥 on fire 🧯"
MIXED = "Ошибка 登录 失败 — שגיאה"


@pytest.mark.parametrize("title", [ARABIC, EMOJI, MIXED])
def test_non_latin_text_round_trips_and_renders(api, cast, title,
                                                django_capture_on_commit_callbacks):
    client = api(cast.client)
    assert client.patch("/api/auth/me/", {"first_name": "أحمد", "last_name": "علي 😀"},
                        format="json").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/tickets/", {
            **TICKET, "title": title, "description": f"{title}\n{EMOJI}",
            "project_name": ARABIC}, format="json")
    assert created.status_code == 201, created.json()
    fetched = client.get(f"/api/tickets/{created.json()['id']}/").json()
    assert (fetched["title"], fetched["project_name"]) == (title, ARABIC)
    assert fetched["description"] == f"{title}\n{EMOJI}"
    assert client.get("/api/auth/me/").json()["last_name"] == "علي 😀"

    # The admin's WhatsApp text (console mode: logged, printed) carries it all unharmed.
    message = NotificationLog.objects.get(ticket_id=fetched["id"], recipient=cast.admin).message
    assert title in message and ARABIC in message and EMOJI in message
    assert "أحمد علي 😀" in message


def test_search_finds_arabic_text(api, cast):
    api(cast.client).post("/api/tickets/", {**TICKET, "title": ARABIC}, format="json")
    found = api(cast.client).get("/api/tickets/", {"search": "البوابة"}).json()
    assert [t["title"] for t in found["results"]] == [ARABIC]
