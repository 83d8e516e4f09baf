"""Files people send on WhatsApp become attachments of the ticket they are about.

A photo, document, voice note or video that replies to a ticket's notification (or comes from
someone with one open ticket) is written down at once as a MediaDownload row; the file itself is
fetched from Graph after the webhook has answered, and stored as an attachment with its caption as
the comment it belongs to. A fetch that fails for a passing reason is due again later (rows with a
due time, fetched by the recovery pass); one that cannot succeed, or runs out of tries, still
leaves the caption on the ticket, with why the file is missing. Either way the sender is told.
"""
import logging
import mimetypes
from datetime import datetime, timedelta
from io import BytesIO

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone

from Incident import deferred
from Incident.errors import ApplicationError
from notifications import services
from notifications.whatsapp.clients import get_whatsapp_client
from notifications.whatsapp.models import MediaDownload, MediaState
from notifications.whatsapp.types import MediaUnavailable
from tickets import attachments
from tickets import services as tickets
from tickets.models import Source

logger = logging.getLogger(__name__)

# What the person is told they sent.
LABELS = {"image": "photo", "document": "document", "audio": "voice note", "video": "video"}
# Seconds before each try after a failed one: Meta keeps what people send for 7 days.
AGAIN_AFTER = (60, 300, 1800, 7200, 21600)
# How long a claim lasts: a process that died holding one leaves the row to the next pass.
LEASE = timedelta(minutes=5)
# Seconds one download may take, and one recovery pass may spend on downloads.
FETCH_TIME = 60.0
PASS_TIME = 30.0


def described(message) -> dict:
    """What a received message says of the file it carries: what queue() needs to fetch it."""
    return {"kind": message.kind, "media_id": message.media_id, "mime_type": message.mime_type,
            "filename": message.filename, "caption": message.text}


def queue(*, received, user, ticket, internal: bool, file: dict) -> MediaDownload:
    """Write down the file described (described()) that came with `received`, in the caller's
    transaction, and have it fetched once the caller's work is done: after a webhook's answer, or
    after the transaction commits."""
    row = MediaDownload.objects.create(message=received, user=user, ticket=ticket,
                                       internal=internal, **file)
    if not deferred.defer(fetch, [row.pk]):
        transaction.on_commit(lambda: fetch([row.pk]))
    return row


def fetch(ids: list[int] | None = None, *, now: datetime | None = None,
          budget: float = PASS_TIME) -> int:
    """Fetch these rows (or every due one) that nobody else is fetching, until `budget` seconds
    are spent; returns how many were fetched or given up."""
    now = now or timezone.now()
    due = MediaDownload.objects.filter(state=MediaState.WAITING, due_at__lte=now)
    if ids is not None:
        due = due.filter(pk__in=ids)
    started, done = timezone.now(), 0
    for pk in due.order_by("due_at", "pk").values_list("pk", flat=True)[:100]:
        if (timezone.now() - started).total_seconds() > budget:
            break
        claim = _claim(pk, now=timezone.now())
        if claim is not None:
            done += _fetch_one(pk, claim)
    return done


def _claim(pk: int, *, now: datetime) -> datetime | None:
    """The row for this caller alone (one conditional update), or None when another has it. The
    lease's end is the claim: only its holder writes the outcome."""
    until = now + LEASE
    taken = MediaDownload.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=pk, state=MediaState.WAITING).update(claimed_until=until, tries=F("tries") + 1)
    return until if taken else None


def _fetch_one(pk: int, claim: datetime) -> int:
    row = MediaDownload.objects.get(pk=pk)
    try:
        media = get_whatsapp_client().fetch_media(
            row.media_id, max_bytes=settings.ATTACHMENT_MAX_BYTES, within=FETCH_TIME)
    except MediaUnavailable as exc:
        return _failed(pk, claim, exc)
    except Exception:  # a client bug must not stop the others; the row is tried again
        logger.exception("Fetching WhatsApp media %s failed unexpectedly", pk)
        return _failed(pk, claim, MediaUnavailable("an error on our side", again=True))
    with transaction.atomic():
        row = _still_ours(pk, claim)
        if row is None:
            return 0
        try:
            comment = tickets.comment_add(
                ticket_id=row.ticket_id, author=row.user, internal=row.internal,
                body=row.caption or f"(a {LABELS[row.kind]} sent on WhatsApp)",
                source=Source.WHATSAPP)
            stored = attachments.attachment_add(
                ticket_id=row.ticket_id, author=row.user, file=BytesIO(media.content),
                name=_name(row, media.mime_type), size=len(media.content), comment_id=comment.pk,
                source=Source.WHATSAPP)
        except (ApplicationError, Http404) as exc:  # e.g. closed, or no longer theirs, meanwhile
            transaction.set_rollback(True)
            why = str(getattr(exc, "detail", exc)).rstrip(".")
        else:
            row.state, row.attachment, row.error, row.claimed_until = (
                MediaState.STORED, stored, "", None)
            row.save(update_fields=["state", "attachment", "error", "claimed_until"])
            services.schedule_reply(
                user=row.user, ticket=row.ticket, ticket_event=comment,
                text=f"Added your {LABELS[row.kind]} to ticket #{row.ticket_id} "
                     f"\"{row.ticket.title}\".")
            return 1
    return _failed(pk, claim, MediaUnavailable(why, again=False))


def _failed(pk: int, claim: datetime, exc: MediaUnavailable) -> int:
    """Due again later when trying again may help and tries are left; else given up, keeping the
    caption on the ticket with why its file is missing."""
    with transaction.atomic():
        row = _still_ours(pk, claim)
        if row is None:
            return 0
        row.error, row.claimed_until = exc.why, None
        if exc.again and row.tries <= len(AGAIN_AFTER):
            row.due_at = timezone.now() + timedelta(seconds=AGAIN_AFTER[row.tries - 1])
            row.save(update_fields=["error", "claimed_until", "due_at"])
            return 0
        row.state = MediaState.FAILED
        row.save(update_fields=["state", "error", "claimed_until"])
        label, event = LABELS[row.kind], None
        note = f"[The {label} sent with this on WhatsApp could not be fetched: {exc.why}.]"
        try:
            with transaction.atomic():
                event = tickets.comment_add(
                    ticket_id=row.ticket_id, author=row.user, internal=row.internal,
                    body=f"{row.caption}\n\n{note}" if row.caption else note,
                    source=Source.WHATSAPP)
        except ApplicationError:
            pass  # e.g. closed meanwhile: the row (and the person's message) still say it
        services.schedule_reply(
            user=row.user, ticket=row.ticket, ticket_event=event,
            text=f"Your {label} could not be added to ticket #{row.ticket_id}: {exc.why}."
                 + (" Your caption was kept as a comment." if event and row.caption else "")
                 + " Please send it again, or upload it through the API "
                   f"(POST /api/tickets/{row.ticket_id}/attachments/).")
    return 1


def _still_ours(pk: int, claim: datetime) -> MediaDownload | None:
    return (MediaDownload.objects.select_for_update().select_related("ticket", "user")
            .filter(pk=pk, state=MediaState.WAITING, claimed_until=claim).first())


def _name(row: MediaDownload, mime_type: str) -> str:
    """A document keeps the name it was sent with; a photo or recording has none, so it gets one
    from its kind and time."""
    if row.filename:
        return row.filename
    extension = mimetypes.guess_extension((mime_type or row.mime_type).split(";")[0].strip()) or ""
    stamp = timezone.localtime(row.created_at).strftime("%Y-%m-%d %H.%M.%S")
    return f"WhatsApp {LABELS[row.kind]} {stamp}{extension}"
