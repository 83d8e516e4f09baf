"""A WhatsApp phone simulator for development and demos (console mode only, staff only).

Each person with a number gets a phone showing what the product sent them. What the visitor does
on it (a reply, quoting a message or not; a tap on a button; STOP, START or a proof code; a
delivered, read or failed report) becomes the payload Meta would send, signed, and goes through
the real webhook view in this process, so everything behaves as it would with Meta.
"""
import hashlib
import hmac
import json
import re
import time
import uuid

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.test import RequestFactory
from django.urls import path, reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from notifications.models import Channel, NotificationLog, ReceivedMessage
from notifications.whatsapp import webhook
from notifications.whatsapp.views import ThenSend, WhatsAppWebhookView

KEY = webhook.SIMULATOR_KEY
enabled = webhook.simulator_on
BUSINESS_NUMBER = "15550000000"
STATUSES = ("delivered", "read", "failed")


# --- What Meta would send ------------------------------------------------------------------------


def envelope(*, messages: list[dict] = (), statuses: list[dict] = (), name: str = "") -> dict:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": BUSINESS_NUMBER,
                          "phone_number_id": settings.WHATSAPP_PHONE_NUMBER_ID or "simulator"}}
    if messages:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": messages[0]["from"]}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "SIMULATOR", "changes": [{"field": "messages", "value": value}]}]}


def text(number: str, body: str, *, quoting: str = "") -> dict:
    return _message(number, "text", quoting, text={"body": body})


def tap(number: str, payload: str, title: str, *, quoting: str, template: bool) -> dict:
    """A button tapped: a template's quick reply ("button"), or a reply button ("interactive")."""
    if template:
        return _message(number, "button", quoting, button={"payload": payload, "text": title})
    return _message(number, "interactive", quoting, interactive={
        "type": "button_reply", "button_reply": {"id": payload, "title": title}})


def report(number: str, wamid: str, state: str, code: str = "") -> dict:
    item = {"id": wamid, "status": state, "timestamp": str(int(time.time())),
            "recipient_id": number}
    if state == "failed":
        item["errors"] = [{"code": int(code) if code.isdigit() else 131000,
                           "title": "Reported failed by the simulator"}]
    return item


def _message(number: str, kind: str, quoting: str, **content) -> dict:
    item = {"from": number, "id": f"wamid.SIM{uuid.uuid4().hex}",
            "timestamp": str(int(time.time())), "type": kind, **content}
    if quoting:
        item["context"] = {"from": BUSINESS_NUMBER, "id": quoting}
    return item


def deliver(payload: dict) -> int:
    """POST `payload`, signed as Meta signs, to the webhook view; its status code. What the
    webhook held back (answers, notifications) runs as it does after a real response."""
    body = json.dumps(payload).encode()
    key = settings.WHATSAPP_APP_SECRET or KEY
    signature = "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    request = RequestFactory().post(reverse("whatsapp-webhook"), data=body,
                                    content_type="application/json",
                                    HTTP_X_HUB_SIGNATURE_256=signature)
    response = WhatsAppWebhookView.as_view()(request)
    # What the server does once it has sent the answer, without closing the response: that
    # would end this request's own database connection.
    if isinstance(response, ThenSend):
        response.start()
    if getattr(response, "sent", None) is not None:
        response.sent.result(timeout=60)  # so the phone shows the answer on its next refresh
    return response.status_code


# --- The pages -----------------------------------------------------------------------------------


def _guard(view):
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not enabled():
            raise Http404("The WhatsApp simulator is off: it needs console mode (no "
                          "WHATSAPP_ACCESS_TOKEN) and DEBUG or WHATSAPP_SIMULATOR=True.")
        return view(request, *args, **kwargs)
    return staff_member_required(guarded)


def _person(user_id: int):
    user = (get_user_model().objects.select_related("profile")
            .filter(pk=user_id).exclude(profile__whatsapp_number="").first())
    if user is None:
        raise Http404("No person with a WhatsApp number has this id.")
    return user


@_guard
def people(request: HttpRequest) -> HttpResponse:
    users = (get_user_model().objects.select_related("profile")
             .exclude(profile__whatsapp_number="").order_by("username"))
    return render(request, "simulator/people.html", {"people": users})


@_guard
def phone(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _person(user_id)
    template = "simulator/_chat.html" if request.GET.get("part") == "chat" else "simulator/phone.html"
    entries = chat(user)
    # What the page compares before it swaps the chat in: a swap under a click would lose it.
    version = hashlib.sha1(repr([(e["at"], e["state"], e["text"]) for e in entries])
                           .encode()).hexdigest()
    return render(request, template, {"person": user, "chat": entries, "statuses": STATUSES,
                                      "version": version})


def styled(text: str) -> str:
    """WhatsApp's own markup as the app shows it: *bold* and _italic_."""
    html = escape(text)
    html = re.sub(r"\*([^*\n]+)\*", r"<b>\1</b>", html)
    return mark_safe(re.sub(r"(?<![\w])_([^_\n]+)_(?![\w])", r"<i>\1</i>", html))


def chat(user) -> list[dict]:
    """What the person's phone shows, oldest first: what the product sent, and what they wrote."""
    sent = [{"at": row.created_at, "mine": False, "text": row.message, "wamid": row.provider_message_id,
             "buttons": [(payload, title or f"Button {n}") for n, (payload, title) in
                         enumerate(row.buttons, 1)],
             "template": row.message_type == "template", "state": row.delivery_status or row.status}
            for row in NotificationLog.objects.filter(recipient=user, channel=Channel.WHATSAPP)]
    wrote = [{"at": item.received_at, "mine": True, "text": item.text or f"({item.kind})",
              "state": item.outcome}
             for item in ReceivedMessage.objects.filter(user=user)]
    entries = sorted(sent + wrote, key=lambda entry: entry["at"])
    for entry in entries:
        entry["html"] = styled(entry["text"])
    return entries


@_guard
@require_POST
def act(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _person(user_id)
    number, form = user.profile.whatsapp_number.lstrip("+"), request.POST
    action, wamid = form.get("action", ""), form.get("wamid", "")
    if action == "reply" and form.get("text", "").strip():
        payload = envelope(messages=[text(number, form["text"].strip(), quoting=wamid)],
                           name=user.get_full_name())
    elif action == "tap" and form.get("payload"):
        payload = envelope(messages=[tap(number, form["payload"], form.get("title", ""),
                                         quoting=wamid, template=form.get("template") == "1")],
                           name=user.get_full_name())
    elif action in STATUSES and wamid:
        payload = envelope(statuses=[report(number, wamid, action, form.get("code", ""))])
    else:
        return HttpResponse("Nothing to send: write a text, or choose a message and an action.",
                            status=400, content_type="text/plain")
    deliver(payload)
    return redirect("whatsapp-simulator-phone", user_id=user.pk)


urlpatterns = [
    path("", people, name="whatsapp-simulator"),
    path("<int:user_id>/", phone, name="whatsapp-simulator-phone"),
    path("<int:user_id>/act/", act, name="whatsapp-simulator-act"),
]
