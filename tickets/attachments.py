"""Files on tickets: who may add one, who may read one, and the limits every door applies (the API,
and WhatsApp media through notifications.whatsapp.media).

Anyone who may comment on a ticket may attach to it; a file given with a comment belongs to that
comment and shares its visibility (a file of an internal note is staff only). The file is stored
before its row is written: a process that dies between the two leaves a file no row names, never
a row without its file.
"""
import logging
from typing import BinaryIO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import FileResponse, Http404

from accounts.models import Role
from accounts.selectors import role_of
from Incident.errors import ApplicationError, InvalidInput
from Incident.prepared import Prepared
from tickets import filetypes, selectors
from tickets.models import Attachment, Source, Ticket, TicketEvent
from tickets.services import ensure_comment_allowed

logger = logging.getLogger(__name__)
NAME_MAX_LENGTH = 255


class FileTooLarge(ApplicationError):
    status_code = 413
    code = "file_too_large"


class StorageUnavailable(ApplicationError):
    status_code = 503
    code = "storage_unavailable"


class FileTypeNotAllowed(ApplicationError):
    status_code = 415
    code = "file_type_not_allowed"


def check_size(size: int) -> None:
    """413 naming the limit (ATTACHMENT_MAX_BYTES) when `size` bytes is over it."""
    limit = settings.ATTACHMENT_MAX_BYTES
    if size > limit:
        raise FileTooLarge(f"The file is {size:,} bytes; files may be at most {limit:,} bytes "
                           f"({limit / 1024 / 1024:g} MB, ATTACHMENT_MAX_BYTES).",
                           size=size, limit=limit)


def check_type(file: BinaryIO) -> str:
    """The file's content type, read from its content; 415 naming the allowed ones otherwise."""
    kind = filetypes.sniff(file)
    allowed = settings.ATTACHMENT_TYPES
    if kind not in allowed:
        what = f"is {kind}" if kind else "is of no type we recognise"
        raise FileTypeNotAllowed(
            f"The file's content {what}, which is not allowed. Allowed types (read from the "
            f"content, not the name): {', '.join(allowed)} (ATTACHMENT_TYPES).",
            content_type=kind or None, allowed=list(allowed))
    return kind


def attachment_add(*, ticket_id: int, author: AbstractBaseUser, file: BinaryIO, name: str,
                   size: int, comment_id: int | None = None, source: str = Source.API) -> Attachment:
    """Store `file` (`size` bytes, called `name` by its sender) on the ticket, after the same checks
    as a comment: 403 for someone not the ticket's, 409 once it is closed."""
    ticket = selectors.ticket_standing(user=author, ticket_id=ticket_id)
    comment = _comment(author, ticket, comment_id) if comment_id is not None else None
    internal = bool(comment and comment.internal)
    ensure_comment_allowed(ticket=ticket, author=author, internal=internal)
    check_size(size)
    kind = check_type(file)
    attachment = Attachment(ticket=ticket, comment=comment, name=_clean(name) or "file",
                            size=size, content_type=kind, uploaded_by=author, source=source,
                            internal=internal)
    attachment.file.save(attachment.name, file if isinstance(file, File) else File(file), save=False)
    counter = "internal_attachment_count" if internal else "attachment_count"
    try:
        with transaction.atomic():
            attachment.save()
            # Counted only while the ticket stands as it was checked (one conditional update,
            # which holds its row to the end); if it moved meanwhile (closed, reassigned), it is
            # judged again under the lock.
            standing = {field: getattr(ticket, field) for field in selectors.STANDING}
            if not Ticket.objects.filter(**standing).update(**{counter: F(counter) + 1}):
                locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
                ensure_comment_allowed(ticket=locked, author=author, internal=internal)
                Ticket.objects.filter(pk=ticket.pk).update(**{counter: F(counter) + 1})
    except BaseException:
        attachment.file.delete(save=False)
        raise
    return attachment


def _comment(author: AbstractBaseUser, ticket: Ticket, comment_id: int) -> TicketEvent:
    comment = selectors.comments_of(user=author, ticket=ticket).filter(pk=comment_id).first()
    if comment is None:
        raise InvalidInput("comment", f"Ticket #{ticket.pk} has no comment {comment_id} you can "
                           "see; give the id of one of its comments (GET "
                           f"/api/tickets/{ticket.pk}/comments/), or leave comment out.")
    return comment


def _clean(name: str) -> str:
    """The last part of a path, without control characters, at most NAME_MAX_LENGTH long."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch >= " " and ch != "\x7f").strip()
    if len(base) > NAME_MAX_LENGTH:
        stem, dot, ext = base.rpartition(".")
        base = (stem[:NAME_MAX_LENGTH - len(ext) - 1] + dot + ext) if dot and len(ext) < 16 \
            else base[:NAME_MAX_LENGTH]
    return base


def attachments_of(*, user: AbstractBaseUser, ticket: Ticket) -> QuerySet:
    """The ticket's files `user` may see (clients never see those of internal notes)."""
    files = Attachment.objects.filter(ticket=ticket).select_related("uploaded_by")
    if role_of(user) == Role.CLIENT:
        files = files.filter(internal=False)
    return files


def _visible_file(role: str | None, user_id: int, ticket_id: int, attachment_id: int) -> QuerySet:
    files = Attachment.objects.filter(
        pk=attachment_id, ticket_id=ticket_id,
        ticket__in=selectors.visible_tickets(role=role, user_id=user_id))
    if role == Role.CLIENT:
        files = files.filter(internal=False)
    return files.order_by().values(*DOWNLOAD)


# What a download needs of its row, read in one precompiled query per role: a download is a big
# answer to a small question, and compiling the question cost more than asking it.
DOWNLOAD = ("id", "ticket_id", "file", "name", "content_type")
_FILE = Prepared(_visible_file)


def attachment_get(*, user: AbstractBaseUser, ticket_id: int, attachment_id: int) -> Attachment:
    """The file (DOWNLOAD's columns) if `user` may see its ticket and it; 404 otherwise, whether
    the ticket or the file is what they may not see."""
    found = _FILE.rows(role_of(user), user_id=user.pk, ticket_id=int(ticket_id),
                       attachment_id=int(attachment_id))
    if not found:
        raise Http404(f"Ticket #{ticket_id} has no attachment {attachment_id} visible to you.")
    return Attachment(**found[0])


def counted(row, *, role: str | None) -> int:
    """How many files a ticket row (with both counters) shows someone in `role`."""
    count = row["attachment_count"]
    return count if role == Role.CLIENT else count + row["internal_attachment_count"]


def streamed(attachment: Attachment) -> FileResponse:
    """The file as a download: its own content type, its name in Content-Disposition, read from
    the store in chunks (never whole into memory)."""
    try:
        handle = attachment.file.open("rb")
    except OSError as exc:  # includes a file missing from the store
        logger.error("Attachment %s could not be read from storage: %s", attachment.pk,
                     type(exc).__name__)
        raise StorageUnavailable(f"The file of attachment {attachment.pk} could not be read from "
                                 "the file store now. Try again later; if it persists, an admin "
                                 "should check ATTACHMENT_STORAGE.") from exc
    return FileResponse(handle, as_attachment=True, filename=attachment.name,
                        content_type=attachment.content_type)
