"""Talking back: what the product does with a message a known, active user sends the business
number, and the sentence it answers with.

- STOP / START (or the Arabic words): their WhatsApp notifications off and on.
- VERIFY and their code: the number is proved theirs. Until a number that must be proved is
  (WHATSAPP_REQUIRE_PROOF), these three are all it can do.
- NEW, STATUS, HELP, and while a ticket is being filed by chat, the answers to its questions
  (notifications.whatsapp.filing).
- A tapped button: the ticket action it stands for, taken as that person (notifications.whatsapp.buttons);
  on a page, Acknowledge, Snooze 30 min or Escalate now (tickets.escalation.runs.answer).
- Text while a question waits (the reason for a Reject they tapped, or what a client adds to the
  rating they tapped): its answer, when it quotes the question or quotes nothing. A message
  quoting another notification is never the answer.
- Other text: a comment on the ticket of the message it quotes (an internal note when that was
  one), or on their one open ticket.
- A photo, document, voice note or video, on the same ticket: fetched after the answer and stored
  as an attachment, its caption the comment it belongs to (notifications.whatsapp.media).
- Anything else (stickers, reactions, what WhatsApp cannot show us): an answer saying what is read.

Each message is acted on once: its wamid is unique in ReceivedMessage, and Meta redelivers
webhooks. The answer is a ledger row like any notification (notifications.services.schedule_reply).
Unknown senders get nothing of theirs stored, and once a day a message saying how to be
registered (notifications.whatsapp.strangers).
"""
import re
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from accounts.models import UserProfile
from accounts.selectors import number_unproved
from accounts.services import LOCK, number_prove
from Incident.errors import ApplicationError
from notifications import services
from notifications.whatsapp import buttons, filing, media, strangers, webhook
from notifications.whatsapp.answers import Answer
from notifications.models import NotificationLog, Question, ReceivedMessage
from notifications.whatsapp.webhook import InboundMessage
from tickets import selectors
from tickets import services as tickets
from tickets.escalation import runs as escalation
from tickets.models import Satisfaction, Source, Ticket
from tickets.transitions import NO_COMMENTS, TRANSITIONS, Action

STOP_WORDS = {"STOP", "UNSUBSCRIBE", "إيقاف", "ايقاف", "توقف", "إلغاء", "الغاء"}
START_WORDS = {"START", "SUBSCRIBE", "ابدأ", "ابدا", "بدء", "تشغيل"}
_ARABIC = re.compile(r"[\u0600-\u06FF]")
CODE = re.compile(r"^(?:VERIFY\s+)?(\d{6})$", re.IGNORECASE)
# How long a tapped Reject waits for its reason (and a rating for what the client adds to it).
REASON_WAIT = timedelta(hours=1)
RATED = "rated"
LISTED = 10
# How much of a reason the confirmation repeats.
ECHOED = 200

OPTED_OUT = {
    "en": "You will get no more WhatsApp notifications from us. Send START to turn them back on.",
    "ar": "لن تصلك منا إشعارات واتساب بعد الآن. أرسل «ابدأ» لإعادة تشغيلها.",
}
OPTED_IN = {
    "en": "WhatsApp notifications are on again. Send STOP to turn them off.",
    "ar": "عادت إشعارات واتساب. أرسل «توقف» لإيقافها.",
}
NOT_READ = ("Only text, photos, documents, voice notes and videos reach your tickets, so this was "
            "not stored. Please reply to the notification of the ticket it is about.")
REACTION = ("Reactions are not passed on. To answer on a ticket, reply to its notification with a "
            "message.")
NOT_PROVED = ("This number is not proved yet, so what it sends is not acted on and no notification "
              "goes to it. Send VERIFY and the code your profile shows (GET /api/auth/me/) from "
              "this phone.")


@dataclass(frozen=True)
class Quoted:
    """The message of ours that a person's message quotes."""

    pk: int
    ticket_id: int
    internal: bool  # it told of an internal note (or confirmed one)


def handle(messages: list[InboundMessage]) -> int:
    """Act on every message a known, active user wrote; returns how many were new."""
    written = [m for m in messages if not m.system and m.wamid and m.kind]
    profiles = webhook.senders(written) if written else []
    acted, strange = 0, []
    for message in written:
        profile = webhook.sender_of(profiles, message)
        if profile is not None and _handle_one(profile, message):
            acted += 1
        elif profile is None and not webhook.anyones(profiles, message):
            strange.append(message)
    if strange:
        strangers.tell(strange)
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
        answer = _act(profile, message, received)
        received.ticket, received.outcome = answer.ticket, answer.text
        received.save(update_fields=["ticket", "outcome"])
        if answer.later:
            return True
        asked = services.schedule_reply(user=profile.user, text=answer.text, ticket=answer.ticket,
                                        ticket_event=answer.event, choices=answer.choices)
        if answer.asks:
            Question.objects.update_or_create(user=profile.user, defaults=dict(
                ticket=answer.ticket, action=answer.asks, asked=asked,
                expires_at=timezone.now() + REASON_WAIT))
    return True


def _act(profile: UserProfile, message: InboundMessage, received: ReceivedMessage) -> Answer:
    unproved = number_unproved(profile)
    if message.kind in ("button", "interactive") and message.payload:
        if unproved:
            return Answer(NOT_PROVED)
        if filing.is_choice(message.payload):
            return filing.tap(profile.user, message.payload)
        return _tap(profile, message.payload)
    if message.kind == "reaction":
        return Answer(REACTION)
    if message.kind in webhook.MEDIA_KINDS and message.media_id:
        if unproved:
            return Answer(NOT_PROVED)
        conversation = None if message.context_id else filing.current(profile.user)
        if conversation is not None:  # a screenshot for the ticket being filed
            return filing.keep(conversation, received, message)
        return _file(profile.user, message, received)
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
    if unproved:
        return Answer(NOT_PROVED)
    if word in filing.COMMANDS:
        return filing.command(profile.user, word)
    conversation = None if message.context_id else filing.current(profile.user)
    if conversation is not None:  # the answer to the question of the ticket being filed
        return filing.text(conversation, text)
    quoted = _quoted(message.context_id)
    question = Question.objects.filter(user=profile.user).select_related("ticket").first()
    if question is not None:
        late = question.expires_at <= timezone.now()
        answers = (quoted is not None and quoted.pk == question.asked_id) or (
            not message.context_id and not late)
        if answers and question.action == RATED:
            return _rating_comment(profile.user, question, text)
        if answers:
            return _answer(profile.user, question, text, late=late)
        if late:
            question.delete()  # nobody answered in time: the next message is just a message
    return _comment(profile.user, text, quoted)


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
    name = profile.user.get_username()
    if profile.whatsapp_verified_at is not None:
        return Answer(f"This number is already verified for {name}.")
    proof = number_prove(profile=profile, code=code)
    if proof.proved:
        return Answer(f"Thank you: this number is now verified for {name}.")
    if proof.locked_until is not None:
        until = timezone.localtime(proof.locked_until)
        return Answer(f"Too many wrong codes: no code is taken from this number until "
                      f"{until:%H:%M} ({until:%Z}), {int(LOCK.total_seconds() // 60)} minutes "
                      "after the last try. Then send VERIFY and the code GET /api/auth/me/ shows.")
    return Answer(f"That code is not the one for this number; {proof.tries_left} more wrong "
                  "tries lock it for 15 minutes. Send VERIFY and the code GET /api/auth/me/ shows.")


# --- Comments ----------------------------------------------------------------------------------


def _meant(user: AbstractBaseUser, quoted: Quoted | None) -> int | Answer:
    """The ticket a message is about: the one of the message it quotes, else the person's one open
    ticket; an answer saying why none is, when none is."""
    if quoted is not None:
        return quoted.ticket_id
    open_tickets = list(selectors.tickets_visible_to(user=user).exclude(status__in=NO_COMMENTS)
                        .order_by("-updated_at", "-id")[:LISTED + 1])
    if not open_tickets:
        return Answer("You have no open ticket to add this to, so it was not stored. Send NEW "
                      "to file a ticket here (or use the API: POST /api/tickets/).",
                      choices=[filing.FILE_A_TICKET] if filing.may_file(user) else [])
    if len(open_tickets) > 1:
        listed = "\n".join(f"#{t.pk} {t.title} ({t.get_status_display()})"
                           for t in open_tickets[:LISTED])
        more = "\n…and more." if len(open_tickets) > LISTED else ""
        return Answer("You have several open tickets:\n" + listed + more + "\n\nPlease reply "
                      "to the notification of the ticket you mean (swipe it, then write).")
    return open_tickets[0].pk


def _file(user: AbstractBaseUser, message: InboundMessage, received: ReceivedMessage) -> Answer:
    """A file for a ticket: checked as a comment would be now, fetched after the answer (its
    sender is told once it is stored, or why it could not be)."""
    quoted = _quoted(message.context_id)
    internal = quoted is not None and quoted.internal
    ticket_id = _meant(user, quoted)
    if isinstance(ticket_id, Answer):
        return ticket_id
    try:
        ticket = selectors.ticket_get(user=user, ticket_id=ticket_id)
        tickets.ensure_comment_allowed(ticket=ticket, author=user, internal=internal)
    except Http404:
        return Answer(f"You may not add files to ticket #{ticket_id}.")
    except ApplicationError as exc:
        return Answer(f"Not added to ticket #{ticket_id}: {exc.detail}", ticket)
    media.queue(received=received, user=user, ticket=ticket, internal=internal,
                file=media.described(message))
    return Answer(f"A {media.LABELS[message.kind]} for ticket #{ticket.pk}: being fetched from "
                  "WhatsApp.", ticket, later=True)


def _comment(user: AbstractBaseUser, text: str, quoted: Quoted | None) -> Answer:
    internal = quoted is not None and quoted.internal
    ticket_id = _meant(user, quoted)
    if isinstance(ticket_id, Answer):
        return ticket_id
    try:
        ticket = selectors.ticket_get(user=user, ticket_id=ticket_id)
        event = tickets.comment_add(ticket_id=ticket.pk, author=user, body=text, internal=internal,
                                    source=Source.WHATSAPP)
    except Http404:
        return Answer(f"You may not comment on ticket #{ticket_id}.")
    except ApplicationError as exc:
        if internal:  # a client never gets here by a real reply: they are never told of a note
            return Answer(f"Not added to ticket #{ticket_id}: you replied to an internal note, "
                          "and only the ticket's staff may write one.", ticket)
        return Answer(f"Not added to ticket #{ticket_id}: {exc.detail}")
    if internal:
        return Answer(f"Saved as an internal note on ticket #{ticket.pk} \"{ticket.title}\": staff "
                      "only, the client does not see it.", ticket, event)
    return Answer(f"Added your comment to ticket #{ticket.pk} \"{ticket.title}\".", ticket, event)


def _quoted(context_id: str) -> Quoted | None:
    """The message of ours that the person replied to, if any and if it was about a ticket."""
    if not context_id:
        return None
    row = (NotificationLog.objects.filter(provider_message_id=context_id, ticket__isnull=False)
           .values_list("pk", "ticket_id", "ticket_event__internal").first())
    return None if row is None else Quoted(row[0], row[1], bool(row[2]))


# --- Buttons -----------------------------------------------------------------------------------


def _tap(profile: UserProfile, payload: str) -> Answer:
    tap = buttons.read(payload)
    if tap is None:
        return Answer("That button is not one of ours any more, so nothing was done.")
    if tap.user_id != profile.user_id:
        return Answer("That button was sent to someone else, so it does nothing from this number.")
    user = profile.user
    if isinstance(tap, buttons.PageTap):
        return Answer(escalation.answer(page_id=tap.page_id, actor=user, what=tap.answer))
    try:
        ticket = selectors.ticket_get(user=user, ticket_id=tap.ticket_id)
        if isinstance(tap.action, Satisfaction):
            return _rate(user, ticket, tap.action)
        if tap.action == Action.REJECT:
            tickets.ensure_action_allowed(ticket=ticket, actor=user, action=Action.REJECT)
            return Answer(f"Why reject ticket #{ticket.pk} \"{ticket.title}\"? Reply to this "
                          "message with the reason within an hour; the client will read it.",
                          ticket, asks=Action.REJECT.value)
        return _transition(user, ticket, tap.action)
    except Http404:
        return Answer(f"Ticket #{tap.ticket_id} is not one you can see any more.")
    except ApplicationError as exc:
        return _refused(tap.action, tap.ticket_id, exc)


def _rate(user: AbstractBaseUser, ticket: Ticket, score: Satisfaction) -> Answer:
    try:
        tickets.ticket_rate(ticket_id=ticket.pk, actor=user, score=score, source=Source.WHATSAPP)
    except ApplicationError as exc:
        return Answer(f"Not rated: {exc.detail}", ticket)
    return Answer(f"Thank you: you rated the fix of ticket #{ticket.pk} \"{ticket.title}\" "
                  f"{score.label}. Reply to this message within an hour if you want to tell us "
                  "more; it is kept with your rating.", ticket, asks=RATED)


def _rating_comment(user: AbstractBaseUser, question: Question, text: str) -> Answer:
    """What a client adds to their rating: kept with it (a closed ticket takes no comments)."""
    question.delete()
    ticket = question.ticket
    try:
        tickets.ticket_rate(ticket_id=ticket.pk, actor=user, comment=text, source=Source.WHATSAPP)
    except ApplicationError as exc:
        return Answer(f"Not kept with your rating of ticket #{ticket.pk}: {exc.detail}", ticket)
    return Answer(f"Thank you: kept with your rating of ticket #{ticket.pk} \"{ticket.title}\".",
                  ticket)


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


def _answer(user: AbstractBaseUser, question: Question, text: str, *, late: bool) -> Answer:
    """The reason for the Reject the person tapped. A reason that cannot be used (too late, or the
    ticket moved on) is kept as an internal note on that ticket, never dropped nor shown to the
    client."""
    question.delete()
    ticket = question.ticket
    if late:
        return _kept(user, ticket, text, why=f"the question expired after "
                     f"{int(REASON_WAIT.total_seconds() // 60)} minutes; tap Reject again")
    try:
        ticket = tickets.ticket_transition(ticket_id=ticket.pk, actor=user, action=Action.REJECT,
                                           reason=text, source=Source.WHATSAPP)
    except ApplicationError as exc:
        return _kept(user, ticket, text, why=str(exc.detail).rstrip("."))
    echoed = text if len(text) <= ECHOED else text[:ECHOED - 1] + "…"
    return Answer(f"Ticket #{ticket.pk} \"{ticket.title}\" rejected: {echoed}", ticket)


def _kept(user: AbstractBaseUser, ticket: Ticket, text: str, *, why: str) -> Answer:
    try:
        event = tickets.comment_add(ticket_id=ticket.pk, author=user, body=text, internal=True,
                                    source=Source.WHATSAPP)
    except ApplicationError as exc:
        return Answer(f"Ticket #{ticket.pk} was not rejected ({why}), and your text could not be "
                      f"kept on it: {exc.detail} It is still under WhatsApp messages received.",
                      ticket)
    return Answer(f"Ticket #{ticket.pk} \"{ticket.title}\" was not rejected ({why}). Your text was "
                  "saved as an internal note on it.", ticket, event)
