"""Storms become one message: when more than WHATSAPP_DIGEST_AFTER notifications reach one person
on WhatsApp within DIGEST_WINDOW, the ones after that wait and go out together as one digest
listing them (ticket, event, one line each), inside the 24-hour window as text and outside as the
`ticket_digest` template.

Each waiting row has no due time of its own (the delivery loop never claims it) and a `digest_at`.
The timer pass (`gather`) writes the digest row for each person whose first waiting row is due,
links the rows it covers to it, and the loop sends it like any other. What the digest's send and
its status webhooks learn is copied onto every covered row (`follow`), so each one settles: SENT
with the digest's wamid, delivered, read, or FAILED with the reason.
"""
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min

from notifications import channels
from notifications.channels import Draft
from notifications.messages import ADMIN_FOOTER, MAX_LENGTH, TicketFacts, length
from notifications.models import DIGEST, Channel, NotificationLog, NotificationStatus
from tickets.models import TicketEventType
from tickets.transitions import Party

S = NotificationStatus
DIGEST_WINDOW = timedelta(seconds=60)
PASS = 200  # people one pass writes digests for; the next pass goes on
# What a covered row takes from its digest once the digest's send or webhooks know it.
FOLLOWED = ("provider_message_id", "sent_at", "error_code", "error_message", "http_status",
            "may_have_been_sent", "delivery_status", "wa_sent_at", "delivered_at", "read_at",
            "failed_at")


def mark(rows: list[NotificationLog], now: datetime) -> None:
    """Before they are written: the WhatsApp rows of people who have had more than
    WHATSAPP_DIGEST_AFTER in the last DIGEST_WINDOW wait for a digest (one grouped query). Not
    a page, and not the rows of a page of a HIGH ticket's run (the caller leaves those out)."""
    after = settings.WHATSAPP_DIGEST_AFTER
    # A page is never held back: its buttons are how paging stops.
    waiting = [row for row in rows if row.channel == Channel.WHATSAPP and row.status == S.QUEUED
               and row.held_until is None and row.recipient_id is not None
               and row.event != TicketEventType.TICKET_PAGED]
    if not waiting or after <= 0:
        return
    recent = dict(NotificationLog.objects
                  .filter(recipient_id__in={row.recipient_id for row in waiting},
                          channel=Channel.WHATSAPP, ticket_event__isnull=False,
                          created_at__gte=now - DIGEST_WINDOW)
                  .values_list("recipient_id").annotate(n=Count("pk")).order_by())
    for row in waiting:
        if recent.get(row.recipient_id, 0) >= after:
            row.digest_at, row.next_attempt_at = now + DIGEST_WINDOW, None


def gather(now: datetime) -> list[NotificationLog]:
    """Write a digest for each person whose waiting rows are due; returns what to send now (the
    digests, QUEUED and due; a row that waited alone goes as it is)."""
    people = (NotificationLog.objects.filter(status=S.QUEUED, digest_at__isnull=False,
                                             digest__isnull=True)
              .values("recipient_id").annotate(first=Min("digest_at"))
              .filter(first__lte=now).values_list("recipient_id", flat=True).order_by()[:PASS])
    return [row for row in (_one(recipient_id, now) for recipient_id in people) if row]


def _one(recipient_id: int, now: datetime) -> NotificationLog | None:
    with transaction.atomic():
        rows = list(NotificationLog.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(recipient_id=recipient_id, status=S.QUEUED, digest_at__isnull=False,
                            digest__isnull=True)
                    .select_related("recipient__profile", "ticket").order_by("pk"))
        if not rows:
            return None  # another pass has them
        if len(rows) == 1:  # nothing to gather: it goes as it is
            NotificationLog.objects.filter(pk=rows[0].pk, digest__isnull=True).update(
                digest_at=None, next_attempt_at=now)
            return rows[0]
        digest = channels.get(Channel.WHATSAPP).compose(_draft(rows, now))
        digest.save()
        NotificationLog.objects.filter(pk__in=[row.pk for row in rows], status=S.QUEUED,
                                       digest__isnull=True).update(digest=digest)
        return digest


def _draft(rows: list[NotificationLog], now: datetime) -> Draft:
    user = rows[0].recipient
    lines = [line(row) for row in rows]
    title = f"{len(rows)} ticket updates"
    facts = TicketFacts(title=title, project="", priority="", category="", status="",
                        description="", client_name="", comment="; ".join(lines))
    return Draft(event=DIGEST, party=Party.ADMIN, ticket_id=None, recipient=user, facts=facts,
                 now=now, text=lambda limit=MAX_LENGTH: text(title, lines, limit),
                 base=dict(event=DIGEST, recipient=user, next_attempt_at=now))


def line(row: NotificationLog) -> str:
    """One covered notification: its ticket and what happened."""
    title = row.ticket.title if row.ticket_id else ""
    if len(title) > 40:
        title = title[:39] + "…"
    return f"#{row.ticket_id} \"{title}\": {row.get_event_display()}"


def text(title: str, lines: list[str], limit: int = MAX_LENGTH) -> str:
    """The digest as free text: every line that fits, then how many more."""
    head, tail = f"📬 *{title}*", ("Open each ticket in the app or the API for its details.\n\n"
                                  + ADMIN_FOOTER)
    shown: list[str] = []
    for number, item in enumerate(lines):
        more = len(lines) - number - 1
        candidate = "\n".join([*shown, f"• {item}"])
        rest = f"\n… and {more} more" if more else ""
        if length(f"{head}\n\n{candidate}{rest}\n\n{tail}") > limit:
            shown.append(f"… and {len(lines) - number} more")
            break
        shown.append(f"• {item}")
    return f"{head}\n\n" + "\n".join(shown) + f"\n\n{tail}"


def follow(digest_ids: list[int]) -> int:
    """Copy each settled digest's state (status once it is no longer waiting or sending, wamid,
    delivery reports, error) onto the rows it covers; returns how many rows changed."""
    changed = 0
    for digest in NotificationLog.objects.filter(pk__in=digest_ids, event=DIGEST):
        values = {name: getattr(digest, name) for name in FOLLOWED}
        if digest.status not in (S.QUEUED, S.SENDING):
            values["status"] = digest.status
        changed += NotificationLog.objects.filter(digest=digest).update(**values)
    return changed
