"""WhatsApp webhooks: check the signature, read statuses and inbound messages, and apply them.

Meta redelivers anything that is not a 200 for days and does not promise order, so applying is
idempotent and monotonic: a status never moves backwards, a repeated one changes nothing, and a
batch costs a few queries however many statuses it holds.
"""
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone as dt_timezone

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q

from accounts.models import UserProfile
from accounts.services import identities_forget_elsewhere
from notifications.whatsapp import errors
from notifications import digests
from notifications.outcomes import sql_cast
from notifications.models import (DIGEST, WAMID_LENGTH, DeliveryStatus, HeldStatus, NotificationLog,
                                  NotificationStatus)

logger = logging.getLogger(__name__)

# Later steps outrank earlier ones. `failed` outranks `sent` only: a later delivered or read
# proves the message arrived after all (with several devices the order is not guaranteed).
RANK = {
    DeliveryStatus.SENT: 1,
    DeliveryStatus.FAILED: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.READ: 4,
}
STEP_FIELD = {
    DeliveryStatus.SENT: "wa_sent_at",
    DeliveryStatus.DELIVERED: "delivered_at",
    DeliveryStatus.READ: "read_at",
    DeliveryStatus.FAILED: "failed_at",
}
UPDATED_FIELDS = [
    "delivery_status", "wa_sent_at", "delivered_at", "read_at", "failed_at", "status",
    "error_code", "error_message", "provider_message_id", "may_have_been_sent", "sent_at",
    "pricing_type", "pricing_category", "pricing_model", "billable",
]
# Rows no sender is working on: a report settles their status at once. A SENDING row only has
# the report noted; its sender weighs it when it writes its answer (notifications.delivery).
SETTLED_BY_ARRIVAL = (NotificationStatus.QUEUED, NotificationStatus.UNKNOWN, NotificationStatus.FAILED)
SETTLED_BY_FAILURE = (NotificationStatus.SENT, NotificationStatus.UNKNOWN, NotificationStatus.FAILED)


@dataclass(frozen=True)
class StatusUpdate:
    message_id: str
    status: str
    at: datetime
    callback_id: str = ""
    error_code: str = ""
    error_title: str = ""
    error_details: str = ""
    pricing: tuple[str, str, str, bool | None] | None = None  # type, category, model, billable


# The messages that carry a file people may send about a ticket (stickers are not among them).
MEDIA_KINDS = ("image", "document", "audio", "video")


@dataclass(frozen=True)
class InboundMessage:
    """A message a person sent the business number, as far as recognising them goes."""

    wa_id: str  # digits; "" when Meta sent only a business-scoped id
    user_id: str  # the business-scoped user id, when Meta sent one
    at: datetime
    # A system message (not written by the person): it opens no window. For a number change,
    # what WhatsApp said about it.
    system: bool = False
    changed_number: str = ""
    # What they sent (notifications.whatsapp.inbound acts on it): the message's wamid and type, its text,
    # a tapped button's payload, and the wamid of the message of ours it quotes or answers.
    wamid: str = ""
    kind: str = ""
    text: str = ""  # for a file, its caption
    payload: str = ""
    context_id: str = ""
    # A file (an image, document, voice note or video): Meta's id for it, its type and name.
    media_id: str = ""
    mime_type: str = ""
    filename: str = ""


# Signs the phone simulator's payloads (notifications.whatsapp.simulator) when no
# WHATSAPP_APP_SECRET is set: made afresh by each process and never shown, so only this process's
# simulator can sign with it, and only while the simulator is on.
SIMULATOR_KEY = secrets.token_hex(32)


def simulator_on() -> bool:
    """The phone simulator exists only in console mode (no access token), with DEBUG or
    WHATSAPP_SIMULATOR."""
    return not settings.WHATSAPP_ACCESS_TOKEN and (settings.DEBUG or settings.WHATSAPP_SIMULATOR)


def signature_is_valid(*, body: bytes, header: str, app_secret: str) -> bool:
    """`header` is "sha256=" and the hex HMAC-SHA256 of the raw body keyed with the app secret."""
    if not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    # Compared as bytes: compare_digest refuses non-ASCII text, and a forged header may hold any.
    given = header.removeprefix("sha256=").strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(expected.encode(), given)


def parse(payload: object) -> tuple[list[StatusUpdate], list[InboundMessage]]:
    """What a webhook payload says, ignoring whatever is not a message status or inbound message."""
    statuses: list[StatusUpdate] = []
    inbound: list[InboundMessage] = []
    for value in _values(payload):
        for item in _dicts(value.get("statuses")):
            update = _status(item)
            if update is not None:
                statuses.append(update)
        contacts = _dicts(value.get("contacts"))
        user_ids = {str(c.get("wa_id")): str(c.get("user_id")) for c in contacts
                    if c.get("wa_id") and c.get("user_id")}
        lone_user_id = str(contacts[0].get("user_id") or "") if len(contacts) == 1 else ""
        for item in _dicts(value.get("messages")):
            message = _inbound(item, user_ids, lone_user_id)
            if message is not None:
                inbound.append(message)
    return statuses, inbound


def _inbound(item: dict, user_ids: dict[str, str], lone_user_id: str) -> InboundMessage | None:
    at, sender = _time(item.get("timestamp")), item.get("from")
    wa_id = sender if isinstance(sender, str) and sender.isdigit() else ""
    # Since 2026 a person may come with a business-scoped id beside the wa_id, or instead of it.
    user_id = str(item.get("from_user_id") or user_ids.get(wa_id) or lone_user_id or "")[:64]
    if at is None or not (wa_id or user_id):
        return None
    if item.get("type") != "system":
        return InboundMessage(wa_id, user_id, at, **_content(item))
    system = item.get("system") if isinstance(item.get("system"), dict) else {}
    changed = ""
    if system.get("type") == "user_changed_number":
        changed = str(system.get("body") or "their number changed")[:500]
    return InboundMessage(wa_id, user_id, at, system=True, changed_number=changed)


def _content(item: dict) -> dict:
    kind = _str(item.get("type")) or "unknown"
    text = payload = ""
    if kind == "text":
        text = _str(_dict(item.get("text")).get("body"))
    elif kind == "button":  # a template's quick-reply button
        button = _dict(item.get("button"))
        payload, text = _str(button.get("payload")), _str(button.get("text"))
    elif kind == "interactive":  # a reply button, or a row of a list message
        interactive = _dict(item.get("interactive"))
        reply = _dict(interactive.get("button_reply") or interactive.get("list_reply"))
        payload, text = _str(reply.get("id")), _str(reply.get("title"))
    media = _dict(item.get(kind)) if kind in MEDIA_KINDS else {}
    if media:
        text = _str(media.get("caption"))
    return {"wamid": _str(item.get("id"))[:WAMID_LENGTH], "kind": kind[:32], "text": text[:10_000],
            "payload": payload[:256],
            "context_id": _str(_dict(item.get("context")).get("id"))[:WAMID_LENGTH],
            "media_id": _str(media.get("id"))[:128], "mime_type": _str(media.get("mime_type"))[:100],
            "filename": _str(media.get("filename"))[:255]}


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str:
    """A field Meta sends as a string; anything else (a forged or broken body) counts as absent."""
    return value if isinstance(value, str) else ""


@transaction.atomic
def apply_statuses(updates: list[StatusUpdate], *, hold: bool = True) -> int:
    """Apply status updates to their log rows; returns how many rows changed. A report whose
    message id matches no row yet is held (HeldStatus) until a send records that id."""
    if not updates:
        return 0
    callback_ids = {u.callback_id for u in updates if u.callback_id}
    message_ids = {u.message_id for u in updates if u.message_id}
    # Locked, so the same statuses delivered twice at once still end in the same state.
    rows = list(
        NotificationLog.objects.select_for_update()
        .filter(Q(callback_id__in=callback_ids) | Q(provider_message_id__in=message_ids))
        .order_by("pk")
    )
    by_callback = {row.callback_id: row for row in rows if row.callback_id}
    by_message: dict[str, list[NotificationLog]] = {}
    for row in rows:
        if row.provider_message_id:
            by_message.setdefault(row.provider_message_id, []).append(row)

    changed: dict[int, NotificationLog] = {}
    fields: set[str] = set()
    unknown = []
    for update in updates:
        row = by_callback.get(update.callback_id) if update.callback_id else None
        if row is None:
            same_id = by_message.get(update.message_id, [])
            if len(same_id) > 1:  # a digest and the rows it covers share its wamid: the digest
                same_id = [row for row in same_id if row.event == DIGEST] or same_id
            row = same_id[0] if len(same_id) == 1 else None  # ambiguous: ignore
            if not same_id and update.message_id:
                unknown.append(update)
        if row is not None and (moved := _apply(row, update)):
            changed[row.pk] = row
            fields |= moved
    if changed:
        _update(list(changed.values()), sorted(fields))
        digests.follow([row.pk for row in changed.values() if row.event == DIGEST])
    if unknown and hold:
        HeldStatus.objects.bulk_create([HeldStatus(wamid=u.message_id[:WAMID_LENGTH],
                                                   report=_as_json(u)) for u in unknown])
    return len(changed)


# A held report no send has claimed in this long is given up (and counted).
HOLD_FOR = timedelta(days=1)
FORGET_AFTER = timedelta(days=30)


def apply_held(wamids: list[str] | None = None) -> int:
    """Apply the held reports whose message is now known: those of `wamids` (a send just recorded
    them), or all of them (the recovery pass's sweep). Returns how many were applied."""
    held = HeldStatus.objects.filter(given_up_at__isnull=True)
    if wamids is not None:
        held = held.filter(wamid__in=wamids)
        if not held.exists():  # the usual case, on the send's hot path: one short query
            return 0
    with transaction.atomic():
        rows = list(held.select_for_update(skip_locked=True).filter(Exists(
            NotificationLog.objects.filter(provider_message_id=OuterRef("wamid")))).order_by("pk"))
        if rows:
            apply_statuses([_from_json(row.report) for row in rows], hold=False)
            HeldStatus.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)


def give_up_held(now: datetime) -> int:
    """Held reports older than HOLD_FOR are given up (the insights page counts them); given-up
    ones are forgotten after FORGET_AFTER. Returns how many were given up now."""
    HeldStatus.objects.filter(given_up_at__lt=now - FORGET_AFTER).delete()
    return HeldStatus.objects.filter(given_up_at__isnull=True,
                                     received_at__lt=now - HOLD_FOR).update(given_up_at=now)


def _as_json(update: StatusUpdate) -> dict:
    return {**update.__dict__, "at": update.at.isoformat(),
            "pricing": list(update.pricing) if update.pricing is not None else None}


def _from_json(report: dict) -> StatusUpdate:
    pricing = report.get("pricing")
    return StatusUpdate(**{**report, "at": datetime.fromisoformat(report["at"]),
                           "pricing": tuple(pricing) if pricing is not None else None})


def _update(rows: list[NotificationLog], names: list[str]) -> None:
    """Write the columns some row changed, for every changed row, in one UPDATE ... FROM
    (VALUES ...): Django's bulk_update builds a CASE per column and row, which cost a webhook of
    100 statuses most of its time (bench/: p99 over 100 ms on PostgreSQL)."""
    fields = [NotificationLog._meta.get_field(name) for name in names]
    columns = ["id"] + [field.column for field in fields]
    values = []
    for row in rows:
        values.append(row.pk)
        values += [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields]
    rows_sql = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(rows))
    sets = ", ".join(f"{field.column} = {sql_cast('v.' + field.column, field.db_type(connection))}"
                     for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH v ({', '.join(columns)}) AS (VALUES {rows_sql}) "
            f"UPDATE {NotificationLog._meta.db_table} AS n SET {sets} FROM v WHERE n.id = v.id",
            values)


INBOUND_FIELDS = ["whatsapp_last_inbound_at", "whatsapp_user_id", "whatsapp_wa_id", "whatsapp_notice"]


def apply_inbound(messages: list[InboundMessage]) -> int:
    """Recognise who wrote (sender_of), record when they last wrote (it opens their 24-hour
    window), learn the ids WhatsApp uses for them, and note a number change for the admins.
    Returns how many profiles changed."""
    if not messages:
        return 0
    profiles = senders(messages)
    changed, learnt = {}, {}
    for message in messages:
        profile = sender_of(profiles, message)
        if profile is None:
            continue
        known = (profile.whatsapp_wa_id, profile.whatsapp_user_id)
        if _note(profile, message):
            changed[profile.pk] = profile
        if (profile.whatsapp_wa_id, profile.whatsapp_user_id) != known:
            learnt[profile.pk] = profile
    UserProfile.objects.bulk_update(changed.values(), INBOUND_FIELDS)
    for profile in learnt.values():
        identities_forget_elsewhere(profile_id=profile.pk, wa_id=profile.whatsapp_wa_id,
                                    user_id=profile.whatsapp_user_id)
    return len(changed)


def senders(messages: list[InboundMessage]) -> list[UserProfile]:
    """The profiles of the active users who may have sent these (sender_of says which did)."""
    wa_ids = {m.wa_id for m in messages if m.wa_id}
    user_ids = {m.user_id for m in messages if m.user_id}
    # Only active users: a deactivated user may still hold a number someone else now uses.
    return list(UserProfile.objects.select_related("user").filter(
        Q(whatsapp_number__in=[f"+{w}" for w in wa_ids]) | Q(whatsapp_wa_id__in=wa_ids)
        | Q(whatsapp_user_id__in=user_ids), user__is_active=True))


def _matchers(message: InboundMessage) -> tuple:
    """How a profile can be the sender of `message`, strongest first: it holds the number, it
    learnt the WhatsApp ID, it learnt the business-scoped id."""
    number = f"+{message.wa_id}" if message.wa_id else None
    return (lambda p: number is not None and p.whatsapp_number == number,
            lambda p: bool(message.wa_id) and p.whatsapp_wa_id == message.wa_id,
            lambda p: bool(message.user_id) and p.whatsapp_user_id == message.user_id)


def sender_of(profiles: list[UserProfile], message: InboundMessage) -> UserProfile | None:
    """Who wrote `message`: the profile holding the number it came from, else the one that learnt
    its WhatsApp ID, else the one that learnt its business-scoped id. Ids are learnt from a
    profile's current number and forgotten when it changes, so the one who holds a number now
    always wins over an id learnt before; two profiles matching equally is nobody (logged)."""
    for matches in _matchers(message):
        found = [p for p in profiles if matches(p)]
        if len(found) == 1:
            return found[0]
        if found:
            logger.warning("WhatsApp message %s matches %d profiles equally; acted on as nobody's",
                           message.wamid or "(system)", len(found))
            return None
    return None


def anyones(profiles: list[UserProfile], message: InboundMessage) -> bool:
    """Whether any of these profiles could be the sender of `message` by sender_of's rules (two
    matching equally is nobody's message, but not a stranger's)."""
    return any(matches(p) for matches in _matchers(message) for p in profiles)


def _note(profile: UserProfile, message: InboundMessage) -> bool:
    before = [getattr(profile, name) for name in INBOUND_FIELDS]
    if message.user_id:
        profile.whatsapp_user_id = message.user_id
    if message.wa_id and message.wa_id != profile.whatsapp_number.lstrip("+"):
        profile.whatsapp_wa_id = message.wa_id
    if message.changed_number:
        profile.whatsapp_notice = (
            f"{message.at:%Y-%m-%d %H:%M} UTC, from WhatsApp: {message.changed_number}. Check the "
            "number on this profile: messages to the old one will not arrive.")
    last = profile.whatsapp_last_inbound_at
    if not message.system and (last is None or message.at > last):
        profile.whatsapp_last_inbound_at = message.at
    return [getattr(profile, name) for name in INBOUND_FIELDS] != before


def _apply(row: NotificationLog, update: StatusUpdate) -> set[str]:
    """Move one row forward by one status; returns the fields that changed (none: nothing did)."""
    new = DeliveryStatus(update.status)
    step = STEP_FIELD[new]
    before = [getattr(row, name) for name in UPDATED_FIELDS]
    if getattr(row, step) is None:
        setattr(row, step, update.at)  # the time of each step, even one that came late
    if update.message_id and not row.provider_message_id:
        # The wamid of a send whose answer never came (a timeout, a crash) arrives here.
        row.provider_message_id = update.message_id[:WAMID_LENGTH]
    if update.pricing is not None:
        row.pricing_type, row.pricing_category, row.pricing_model, row.billable = update.pricing
    current = RANK.get(row.delivery_status, 0)
    if RANK[new] > current:
        row.delivery_status = new
        if new == DeliveryStatus.FAILED:
            row.error_code = update.error_code
            code = int(update.error_code) if update.error_code.isdigit() else None
            row.error_message = errors.explain(code, update.error_title, update.error_details)
            if row.status in SETTLED_BY_FAILURE:
                row.status = NotificationStatus.FAILED
                row.may_have_been_sent = False
        elif row.status in SETTLED_BY_ARRIVAL:
            # Proof of arrival: whatever we feared (a timeout, an earlier failure report), it got
            # there, and a queued retry must not send it again.
            row.status = NotificationStatus.SENT
            row.error_code = row.error_message = ""
            row.may_have_been_sent = False
            row.sent_at = row.sent_at or update.at
    return {name for name, was in zip(UPDATED_FIELDS, before) if getattr(row, name) != was}


def _status(item: dict) -> StatusUpdate | None:
    status, at = item.get("status"), _time(item.get("timestamp"))
    if not isinstance(status, str) or status not in RANK or at is None:
        return None  # e.g. "played" (voice), or a malformed entry
    error = next(iter(_dicts(item.get("errors"))), {})
    data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
    pricing = item.get("pricing") if isinstance(item.get("pricing"), dict) else None
    billable = pricing.get("billable") if pricing else None
    return StatusUpdate(
        message_id=str(item.get("id") or ""),
        status=status,
        at=at,
        callback_id=str(item.get("biz_opaque_callback_data") or ""),
        error_code=str(error.get("code") or ""),
        error_title=str(error.get("title") or error.get("message") or ""),
        error_details=str(data.get("details") or ""),
        pricing=None if pricing is None else (
            str(pricing.get("type") or "")[:40], str(pricing.get("category") or "")[:40],
            str(pricing.get("pricing_model") or "")[:16],
            billable if isinstance(billable, bool) else None),
    )


TEMPLATE_FIELDS = ("message_template_status_update", "template_category_update")


def template_changes(payload: object) -> list[tuple[str, dict]]:
    """The template status and category updates in a payload, as (field, value)."""
    return list(_changes(payload, TEMPLATE_FIELDS))


def _values(payload: object):
    for _, value in _changes(payload, ("messages",)):
        yield value


def _changes(payload: object, fields: tuple[str, ...]):
    if not isinstance(payload, dict):
        return
    for entry in _dicts(payload.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if change.get("field") in fields and isinstance(value, dict):
                yield change["field"], value


def _dicts(items: object) -> list[dict]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _time(raw: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(raw)), tz=dt_timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
