"""Talking back: what the product does with a message a known, active user sends the business
number, and the sentence it answers with.

- STOP / START (or the Arabic words): their WhatsApp notifications off and on.
- VERIFY and their code: the number is proved theirs.
- A tapped button: the ticket action it stands for, taken as that person (notifications.buttons).
- Text while a rejection waits for its reason: the reason; the ticket is rejected.
- Other text: a comment on the ticket of the message it quotes, or on their one open ticket.
- Anything else (media, reactions, what WhatsApp cannot show us): an answer saying what is read.

Each message is acted on once: its wamid is unique in ReceivedMessage, and Meta redelivers
webhooks. The answer is a ledger row like any notification (notifications.services.schedule_reply).
Unknown senders get nothing stored and no reply.
"""
import hmac
import re
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from accounts.models import UserProfile
from accounts.services import new_code
from Incident.errors import ApplicationError
from notifications import buttons, services, webhooks
from notifications.models import NotificationLog, ReceivedMessage
from notifications.webhooks import InboundMessage
from tickets import selectors
from tickets import services as tickets
from tickets.models import Source, Ticket
from tickets.transitions import NO_COMMENTS, TRANSITIONS, Action

STOP_WORDS = {"STOP", "UNSUBSCRIBE", "إيقاف", "ايقاف", "توقف", "إلغاء", "الغاء"}
START_WORDS = {"START", "SUBSCRIBE", "ابدأ", "ابدا", "بدء", "تشغيل"}
_ARABIC = re.compile(r"[\u0600-\u06FF]")
CODE = re.compile(r"^(?:VERIFY\s+)?(\d{6})$", re.IGNORECASE)
# How long a tapped Reject waits for its reason.
REASON_WAIT = timedelta(hours=1)
LISTED = 10

OPTED_OUT = {
    "en": "You will get no more WhatsApp notifications from us. Send START to turn them back on.",
    "ar": "لن تصلك منا إشعارات واتساب بعد الآن. أرسل «ابدأ» لإعادة تشغيلها.",
}
OPTED_IN = {
    "en": "WhatsApp notifications are on again. Send STOP to turn them off.",
    "ar": "عادت إشعارات واتساب. أرسل «توقف» لإيقافها.",
}
NOT_READ = ("Only text messages reach your tickets, so this was not stored. Please write it in "
            "words, replying to the notification of the ticket it is about.")
REACTION = ("Reactions are not passed on. To answer on a ticket, reply to its notification with a "
            "message.")


@dataclass(frozen=True)
class Answer:
    text: str
    ticket: Ticket | None = None


def handle(messages: list[InboundMessage]) -> int:
    """Act on every message a known, active user wrote; returns how many were new."""
    written = [m for m in messages if not m.system and m.wamid and m.kind]
    profiles = webhooks.senders(written) if written else []
    acted = 0
    for message in written:
        profile = next((p for p in profiles if webhooks.is_sender(p, message)), None)
        if profile is not None and _handle_one(profile, message):
            acted += 1
    return acted


def _handle_one(profile: UserProfile, message: InboundMessage) -> bool:
    with transaction.atomic():
        try:
            with transaction.atomic():
                received = ReceivedMessage.objects.create(
                    wamid=message.wamid, user=profile.user, kind=message.kind,
                    text=message.text or message.payload, received_at=message.at)
        except IntegrityError:
            return False  # a redelivery: acted on already
        profile = UserProfile.objects.select_for_update().select_related("user").get(pk=profile.pk)
        answer = _act(profile, message)
        received.ticket, received.outcome = answer.ticket, answer.text
        received.save(update_fields=["ticket", "outcome"])
        services.schedule_reply(user=profile.user, text=answer.text, ticket=answer.ticket)
    return True


def _act(profile: UserProfile, message: InboundMessage) -> Answer:
    if message.kind in ("button", "interactive") and message.payload:
        return _tap(profile, message.payload)
    if message.kind == "reaction":
        return Answer(REACTION)
    if message.kind != "text" or not message.text.strip():
        return Answer(NOT_READ)
    text = message.text.strip()
    word = text.strip(" .!").upper()
    language = "ar" if _ARABIC.search(word) else "en"
    if word in STOP_WORDS:
        return _consent(profile, on=False, language=language)
    if word in START_WORDS:
        return _consent(profile, on=True, language=language)
    code = CODE.match(text)
    if code:
        return _verify(profile, code.group(1))
    waiting = _awaited_rejection(profile)
    if waiting is not None:
        return _reject(profile, waiting, reason=text)
    return _comment(profile.user, text, message.context_id)


# --- Consent and proof -------------------------------------------------------------------------


def _consent(profile: UserProfile, *, on: bool, language: str) -> Answer:
    now = timezone.now()
    if on:
        profile.whatsapp_opted_out_at, profile.whatsapp_opted_in_at = None, now
    else:
        profile.whatsapp_opted_out_at = now
    profile.save(update_fields=["whatsapp_opted_out_at", "whatsapp_opted_in_at"])
    return Answer((OPTED_IN if on else OPTED_OUT)[language])


def _verify(profile: UserProfile, code: str) -> Answer:
    if not profile.whatsapp_code or not hmac.compare_digest(code, profile.whatsapp_code):
        if profile.whatsapp_code:
            # Each wrong guess costs the code: guessing one in a million takes a million messages.
            profile.whatsapp_code = new_code()
            profile.save(update_fields=["whatsapp_code"])
        return Answer("That code is not the one for this number. A new code is on your profile "
                      "(GET /api/auth/me/); send VERIFY and that code.")
    now = timezone.now()
    profile.whatsapp_verified_at, profile.whatsapp_code = now, ""
    if profile.whatsapp_opted_out_at is None:
        profile.whatsapp_opted_in_at = now
    profile.save(update_fields=["whatsapp_verified_at", "whatsapp_code", "whatsapp_opted_in_at"])
    return Answer(f"Thank you: this number is now verified for {profile.user.get_username()}.")


# --- Comments ----------------------------------------------------------------------------------


def _comment(user: AbstractBaseUser, text: str, quoted: str) -> Answer:
    ticket_id = _quoted_ticket(quoted)
    if ticket_id is None:
        open_tickets = list(selectors.tickets_visible_to(user=user).exclude(status__in=NO_COMMENTS)
                            .order_by("-updated_at", "-id")[:LISTED + 1])
        if not open_tickets:
            return Answer("You have no open ticket to add this to, so it was not stored. File a "
                          "ticket through the API (POST /api/tickets/).")
        if len(open_tickets) > 1:
            listed = "\n".join(f"#{t.pk} {t.title} ({t.get_status_display()})"
                               for t in open_tickets[:LISTED])
            more = "\n…and more." if len(open_tickets) > LISTED else ""
            return Answer("You have several open tickets:\n" + listed + more + "\n\nPlease reply "
                          "to the notification of the ticket you mean (swipe it, then write).")
        ticket_id = open_tickets[0].pk
    try:
        ticket = selectors.ticket_get(user=user, ticket_id=ticket_id)
        tickets.comment_add(ticket_id=ticket.pk, author=user, body=text, source=Source.WHATSAPP)
    except Http404:
        return Answer(f"You may not comment on ticket #{ticket_id}.")
    except ApplicationError as exc:
        return Answer(f"Not added to ticket #{ticket_id}: {exc.detail}")
    return Answer(f"Added your comment to ticket #{ticket.pk} \"{ticket.title}\".", ticket)


def _quoted_ticket(quoted: str) -> int | None:
    """The ticket of the message of ours that the person replied to, if any."""
    if not quoted:
        return None
    return (NotificationLog.objects.filter(provider_message_id=quoted, ticket__isnull=False)
            .values_list("ticket_id", flat=True).first())


# --- Buttons -----------------------------------------------------------------------------------


def _tap(profile: UserProfile, payload: str) -> Answer:
    tap = buttons.read(payload)
    if tap is None:
        return Answer("That button is not one of ours any more, so nothing was done.")
    if tap.user_id != profile.user_id:
        return Answer("That button was sent to someone else, so it does nothing from this number.")
    user = profile.user
    try:
        ticket = selectors.ticket_get(user=user, ticket_id=tap.ticket_id)
        if tap.action == Action.REJECT:
            tickets.ensure_action_allowed(ticket=ticket, actor=user, action=Action.REJECT)
            profile.whatsapp_awaiting = f"{Action.REJECT.value}:{ticket.pk}"
            profile.whatsapp_awaiting_at = timezone.now()
            profile.save(update_fields=["whatsapp_awaiting", "whatsapp_awaiting_at"])
            return Answer(f"Why reject ticket #{ticket.pk} \"{ticket.title}\"? Send the reason in "
                          "your next message; the client will read it.", ticket)
        return _transition(user, ticket, tap.action)
    except Http404:
        return Answer(f"Ticket #{tap.ticket_id} is not one you can see any more.")
    except ApplicationError as exc:
        return _refused(tap.action, tap.ticket_id, exc)


def _transition(user: AbstractBaseUser, ticket: Ticket, action: Action, **inputs) -> Answer:
    try:
        ticket = tickets.ticket_transition(ticket_id=ticket.pk, actor=user, action=action,
                                           source=Source.WHATSAPP, **inputs)
    except ApplicationError as exc:
        return _refused(action, ticket.pk, exc)
    return Answer(f"Done: ticket #{ticket.pk} \"{ticket.title}\" is now "
                  f"{ticket.get_status_display()}.", ticket)


def _refused(action: Action, ticket_id: int, exc: ApplicationError) -> Answer:
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is not None and ticket.status == TRANSITIONS[action].target:
        return Answer(f"Already done: ticket #{ticket.pk} \"{ticket.title}\" is "
                      f"{ticket.get_status_display()}.", ticket)
    return Answer(f"Nothing done on ticket #{ticket_id}: {exc.detail}", ticket)


def _awaited_rejection(profile: UserProfile) -> int | None:
    action, _, ticket_id = profile.whatsapp_awaiting.partition(":")
    since = profile.whatsapp_awaiting_at
    if action != Action.REJECT.value or since is None or timezone.now() - since > REASON_WAIT:
        return None
    return int(ticket_id)


def _reject(profile: UserProfile, ticket_id: int, *, reason: str) -> Answer:
    profile.whatsapp_awaiting, profile.whatsapp_awaiting_at = "", None
    profile.save(update_fields=["whatsapp_awaiting", "whatsapp_awaiting_at"])
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        return Answer(f"Ticket #{ticket_id} no longer exists; nothing was done.")
    return _transition(profile.user, ticket, Action.REJECT, reason=reason)
