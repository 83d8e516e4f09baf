"""WhatsApp as a channel of the ledger (notifications.channels): how a notice becomes a WhatsApp
row, how a row is sent under the business number's pace, and how Graph's answers are read."""
import dataclasses
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime

from django.conf import settings
from django.utils import timezone

from accounts.selectors import number_unproved
from notifications.channels import Draft
from notifications.intents import display_name
from notifications.messages import BUTTONS_MAX_LENGTH, MAX_LENGTH
from notifications.models import FREE_TEXT, Channel, MessageType, NotificationLog, NotificationStatus
from notifications.sending import Failure, SendResult
from notifications.whatsapp import (buttons, errors, filing, media, pacing, template_state, templates,
                                    versions, webhook)
from notifications.whatsapp.client import MAX_CONNECT_TIMEOUT
from notifications.whatsapp.clients import get_whatsapp_client
from notifications.whatsapp.console import ConsoleWhatsAppClient

S = NotificationStatus
# Meta's rate limits: the business number's throughput, and one recipient's (pair rate limit).
# Waiting always clears them, so they are retried later however many tries they took.
THROUGHPUT, PAIR_LIMIT = "130429", "131056"

NO_NUMBER = (
    "No WhatsApp number on profile. Add one in Django admin (Users → the user → User Profile) "
    "or with PATCH /api/auth/me/."
)
PACED = (
    "Not sent yet: the business number's pace (WHATSAPP_MAX_MESSAGES_PER_SECOND, or a pause after "
    "Meta's 130429) left no room before the time bound. It is tried again in a few seconds."
)
OPTED_OUT = ("Not sent: the user sent STOP on WhatsApp ({when:%Y-%m-%d %H:%M}). They get no WhatsApp "
             "notifications until they send START to the business number.")
NOT_PROVED = ("Not sent: number not proved: send the code from that phone. Nothing goes to a number "
              "that must be proved (WHATSAPP_REQUIRE_PROOF) until its owner sends VERIFY and the "
              "code shown by GET /api/auth/me/ from it. A number staff set in Django admin needs "
              "no proof unless WHATSAPP_REQUIRE_PROOF=all.")


def classify(result: SendResult) -> SendResult:
    """The result with WhatsApp's reading of it: the retry class of Graph's code (or of a
    gateway's status when there is none), and whether waiting alone clears it."""
    if result.status != S.FAILED:
        return result
    code = int(result.error_code) if result.error_code.isdigit() else None
    retry = result.retry
    if retry is None and (code is not None or (result.http_status or 0) >= 500):
        retry = errors.retry_class(code, result.http_status)
    return dataclasses.replace(
        result, retry=retry,
        rate_limited=result.rate_limited or result.error_code in (THROUGHPUT, PAIR_LIMIT),
        retry_after=pacing.PAUSE if result.error_code == THROUGHPUT else result.retry_after)


class WhatsAppSender:
    """Sends rows through the configured client (Graph, console, or a test's fake)."""

    def __init__(self) -> None:
        self.client = get_whatsapp_client()
        self.blocked: dict | None = None

    def ready(self, row: NotificationLog) -> None:
        if row.message_type == MessageType.TEMPLATE and self.blocked is None:
            # A template known not to be approved is not sent (one query, only when needed; the
            # console sends nothing to Meta, so it has none to ask).
            console = isinstance(self.client, ConsoleWhatsAppClient)
            self.blocked = {} if console else template_state.blocked()

    def send(self, row: NotificationLog, *, deadline: float,
             sleep: Callable[[float], None]) -> SendResult:
        if not row.to:
            return SendResult(status=S.SKIPPED, error_message=NO_NUMBER)
        wait = _slot(deadline, sleep)
        if wait is not None:
            # Due again when the pace may have room (a pause's end, or the moment this send could
            # not wait for), not later: while it waits, it holds its person's later messages.
            return SendResult(status=S.FAILED, error_message=PACED, temporary=True,
                              failure=Failure.PACED, retry_after=min(wait, pacing.PAUSE))
        result = classify(self._send(row))
        if result.error_code == THROUGHPUT:  # every sender of the number holds back
            pacing.pacer().pause()
        return result

    def _send(self, row: NotificationLog) -> SendResult:
        if row.message_type == MessageType.TEMPLATE:
            blocked = self.blocked or {}
            if (row.template_name, row.template_language) in blocked:
                return SendResult(status=S.FAILED,
                                  error_message=blocked[row.template_name, row.template_language])
            return self.client.send_template(to=row.to, template=templates.stored(row),
                                             callback_data=row.callback_id)
        if row.message_type == MessageType.INTERACTIVE:
            return self.client.send_text(to=row.to, body=row.message, callback_data=row.callback_id,
                                         buttons=[tuple(button) for button in row.buttons])
        return self.client.send_text(to=row.to, body=row.message, callback_data=row.callback_id)


def send_time() -> float:
    """Seconds one send may take: its connect and read timeouts."""
    return min(MAX_CONNECT_TIMEOUT, settings.WHATSAPP_TIMEOUT) + settings.WHATSAPP_TIMEOUT


def _slot(deadline: float, sleep) -> float | None:
    """Wait for this message's moment in the business number's pace, while the time bound leaves
    room to send it: None once it is here, or the seconds to it when that is too far off."""
    pacer = pacing.pacer()
    while True:
        room = deadline - time.monotonic() - send_time()
        # Only a moment this send can keep is reserved: one left unused would slow every sender.
        delay, reserved = pacer.reserve(within=room)
        if delay > 0:
            if delay > room:
                return delay
            sleep(delay)
        if reserved:
            return None


class WhatsAppChannel:
    name = Channel.WHATSAPP

    def send_time(self) -> float:
        return send_time()

    def pause(self) -> float:
        return pacing.PAUSE

    def sender(self) -> WhatsAppSender:
        return WhatsAppSender()

    def compose(self, draft: Draft) -> NotificationLog:
        user, profile = draft.recipient, draft.recipient.profile
        offered = buttons.for_message(draft.event, draft.party, ticket_id=draft.ticket_id,
                                      user_id=user.pk, page=draft.page)
        text = draft.text(BUTTONS_MAX_LENGTH if offered else MAX_LENGTH)
        template = templates.template_for(
            draft.event, draft.facts, ticket_id=draft.ticket_id,
            recipient_name=display_name(user),
            spec=templates.spec_for(templates.templates(), draft.event, draft.party),
            payloads=[payload for payload, _ in offered])
        as_template = templates.use_template(mode=settings.WHATSAPP_MESSAGE_MODE,
                                             last_inbound_at=profile.whatsapp_last_inbound_at,
                                             now=draft.now)
        free = MessageType.INTERACTIVE if offered else MessageType.TEXT
        row = NotificationLog(
            **draft.base, channel=Channel.WHATSAPP, to=profile.whatsapp_number,
            callback_id=uuid.uuid4().hex,
            message=templates.preview(template) if as_template else text,
            message_type=MessageType.TEMPLATE if as_template else free, buttons=offered,
            # Kept for every WhatsApp row, so a resend can switch to the template when text fails.
            template_name=template.name, template_language=template.language,
            template_params=list(template.params))
        if profile.whatsapp_opted_out_at is not None:
            row.status, row.error_message = S.SKIPPED, OPTED_OUT.format(
                when=timezone.localtime(profile.whatsapp_opted_out_at))
        elif number_unproved(profile):
            row.status, row.error_message = S.SKIPPED, NOT_PROVED
        return row

    def refresh(self, row: NotificationLog, now: datetime) -> dict:
        """The user's current number (it may have been fixed), and a template where free text
        cannot arrive (131047, or outside the 24-hour window). A number no user has stays."""
        if row.recipient is None:
            return {}
        profile = row.recipient.profile
        changes = {"to": profile.whatsapp_number}
        to_template = row.message_type in FREE_TEXT and bool(row.template_name) and (
            row.error_code == "131047"
            or templates.use_template(mode=settings.WHATSAPP_MESSAGE_MODE,
                                      last_inbound_at=profile.whatsapp_last_inbound_at, now=now))
        if to_template:
            changes.update(message_type=MessageType.TEMPLATE,
                           message=templates.preview(templates.stored(row)))
        return changes

    def answered(self, message_ids: list[str]) -> None:
        webhook.apply_held(message_ids)

    def tidy(self, now: datetime) -> None:
        # Reports held for a message whose answer was recorded meanwhile, and the ones too old.
        webhook.apply_held()
        webhook.give_up_held(now)
        media.fetch(now=now)  # files people sent whose fetch is due again
        filing.expire(now)  # tickets being filed by chat, left idle too long

    def final_codes(self) -> tuple[str, ...]:
        return errors.FINAL_CODES

    def explain(self, code: str) -> str | None:
        if code.isdigit() and errors.lookup(int(code)) is not None:
            return errors.explain(int(code))
        return None

    def warning(self, today: date):
        return versions.notice(settings.WHATSAPP_API_VERSION, today)
