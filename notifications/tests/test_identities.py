"""Who a person is to WhatsApp: the wa_id of Meta's answers, business-scoped user ids, number
changes; what Meta says it charges; payloads of every variety a business number receives."""
import responses

from notifications import delivery
from notifications.models import NotificationLog
from notifications.tests.test_webhooks import T0, at, body_of, envelope, post, sent_row, status  # noqa: F401
from notifications.tests.test_whatsapp_client import URL as GRAPH
from tickets.models import TicketStatus


def inbound(sender: str | None, text: str = "hi", when: int = T0, **extra) -> dict:
    item = {"id": "wamid.IN", "timestamp": str(when), "type": "text", "text": {"body": text}, **extra}
    if sender is not None:
        item["from"] = sender
    return item


def with_contacts(payload: dict, *contacts: dict) -> dict:
    payload["entry"][0]["changes"][0]["value"]["contacts"] = list(contacts)
    return payload


def test_metas_wa_id_and_hold_are_kept_and_the_persons_messages_then_recognised(
        cast, ticket_in, settings, client):
    settings.WHATSAPP_ACCESS_TOKEN = "test-token"
    profile = cast.admin.profile
    profile.whatsapp_number = "+525512345678"  # Mexico: WhatsApp knows it as 521…
    profile.save()
    row = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
    with responses.RequestsMock() as graph:
        graph.post(GRAPH, json={"messaging_product": "whatsapp",
                                "contacts": [{"input": "525512345678", "wa_id": "5215512345678"}],
                                "messages": [{"id": "wamid.MX",
                                              "message_status": "held_for_quality_assessment"}]})
        delivery.deliver([row.pk])
    row.refresh_from_db()
    profile.refresh_from_db()
    assert (row.wa_id, row.message_status) == ("5215512345678", "held_for_quality_assessment")
    assert profile.whatsapp_wa_id == "5215512345678"

    assert post(client, body_of(envelope(messages=[inbound("5215512345678")]))).status_code == 200
    profile.refresh_from_db()
    assert profile.whatsapp_last_inbound_at == at(T0)


def test_a_business_scoped_id_is_learnt_then_enough_to_recognise_the_person(cast, client):
    number = cast.client.profile.whatsapp_number.lstrip("+")
    first = with_contacts(envelope(messages=[inbound(number)]),
                          {"profile": {"name": "John"}, "wa_id": number, "user_id": "EG.13491208655302741918"})
    post(client, body_of(first))
    profile = cast.client.profile
    profile.refresh_from_db()
    assert profile.whatsapp_user_id == "EG.13491208655302741918"

    # Later, a username user: no phone number at all, only the business-scoped id.
    later = with_contacts(envelope(messages=[inbound(None, when=T0 + 60,
                                                     from_user_id="EG.13491208655302741918")]),
                          {"profile": {"name": "John"}, "user_id": "EG.13491208655302741918"})
    assert post(client, body_of(later)).status_code == 200
    profile.refresh_from_db()
    assert profile.whatsapp_last_inbound_at == at(T0 + 60)


def test_a_number_change_opens_no_window_and_is_shown_to_admins(cast, client, staff):
    number = cast.developer.profile.whatsapp_number.lstrip("+")
    notice = {"id": "wamid.SYS", "from": number, "timestamp": str(T0), "type": "system",
              "system": {"type": "user_changed_number", "new_wa_id": "201099999999",
                         "body": "Dev changed from " + number + " to 201099999999"}}
    assert post(client, body_of(envelope(messages=[notice]))).status_code == 200
    profile = cast.developer.profile
    profile.refresh_from_db()
    assert profile.whatsapp_last_inbound_at is None
    assert "changed from" in profile.whatsapp_notice and "Check the number" in profile.whatsapp_notice
    page = staff.get(f"/admin/auth/user/{cast.developer.pk}/change/").content.decode()
    assert "changed from" in page


def test_an_unknown_sender_changes_nothing(cast, client):
    post(client, body_of(envelope(messages=[inbound("19999999999")])))
    assert all(p.whatsapp_last_inbound_at is None and not p.whatsapp_user_id
               for p in (cast.admin.profile, cast.client.profile, cast.developer.profile))


def test_pricing_is_stored_with_and_without_conversation(client, sent_row):
    pricing = {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"}
    older = status("wamid.ONE", "sent", T0, pricing=pricing, conversation={
        "id": "CONV", "origin": {"type": "utility"}, "expiration_timestamp": str(T0 + 86400)})
    post(client, body_of(envelope(statuses=[older])))
    sent_row.refresh_from_db()
    assert (sent_row.pricing_type, sent_row.pricing_category, sent_row.pricing_model,
            sent_row.billable) == ("regular", "utility", "PMP", True)
    free = {"pricing_model": "PMP", "category": "service", "type": "free_customer_service"}
    post(client, body_of(envelope(statuses=[status("wamid.ONE", "delivered", T0 + 1, pricing=free)])))
    sent_row.refresh_from_db()
    assert (sent_row.pricing_type, sent_row.billable, sent_row.delivery_status) == (
        "free_customer_service", None, "delivered")


def test_a_batch_of_entries_and_changes_with_unknown_fields_is_applied_whole(client, sent_row, cast):
    payload = envelope(statuses=[status("wamid.ONE", "delivered", T0, surprise={"new": 1})])
    other = envelope(messages=[inbound(cast.client.profile.whatsapp_number.lstrip("+"),
                                       when=T0 + 5, brand_new_field=[1, 2])])
    payload["entry"].append({"id": "WABA_ID", "changes": [
        {"field": "message_template_status_update", "value": {"event": "APPROVED"}},
        *other["entry"][0]["changes"]]})
    assert post(client, body_of(payload)).status_code == 200
    sent_row.refresh_from_db()
    cast.client.profile.refresh_from_db()
    assert sent_row.delivery_status == "delivered"
    assert cast.client.profile.whatsapp_last_inbound_at == at(T0 + 5)
