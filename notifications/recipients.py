"""Who is told about a ticket event: the parties of notifications.messages.NOTICES, as users."""
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from accounts.models import Role
from notifications.messages import parties
from tickets.escalation.models import Page
from tickets.models import Ticket
from tickets.models import TicketEventType as E
from tickets.transitions import Party

User = get_user_model()
# What notifying reads of a user: a message to every admin should not load each one whole.
RECIPIENT_FIELDS = ("username", "first_name", "last_name", "email", "is_active", "profile__role",
                    "profile__time_zone", "profile__quiet_start", "profile__quiet_end",
                    "profile__whatsapp_number", "profile__whatsapp_last_inbound_at",
                    "profile__whatsapp_opted_out_at", "profile__whatsapp_verified_at",
                    "profile__whatsapp_number_origin")


@dataclass(frozen=True)
class Recipient:
    user: AbstractBaseUser
    party: Party  # decides the text they read
    page: int | None = None  # the page they answer with its buttons (Party.PAGED of a page)


def recipients_for(*, ticket: Ticket, event: str, actor_id: int | None,
                   ticket_event_id: int | None = None) -> list[Recipient]:
    """The people to tell about `event` (a ticket event, or INTERNAL_NOTE: staff only): never the
    actor who caused it, never an inactive user, and each person once (an admin who filed the
    ticket hears as its client). Party.PAGED: those the page `ticket_event_id` paged, or for an
    acknowledgement everyone paged in the runs it ended."""
    found: list[Recipient] = []
    for party in parties(event):
        if party == Party.OWNER:
            found.append(Recipient(ticket.client, party))
        elif party == Party.ASSIGNED_DEVELOPER and ticket.assigned_developer is not None:
            found.append(Recipient(ticket.assigned_developer, party))
        elif party == Party.ADMIN:
            admins = (User.objects.filter(is_active=True, profile__role=Role.ADMIN)
                      .select_related("profile").only(*RECIPIENT_FIELDS).order_by("username"))
            found.extend(Recipient(admin, party) for admin in admins)
        elif party == Party.PAGED and ticket_event_id is not None:
            found.extend(_paged(event, ticket_event_id))

    seen: set[int] = set()
    chosen: list[Recipient] = []
    for recipient in found:
        user = recipient.user
        if user.pk == actor_id or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        chosen.append(recipient)
    return chosen


def _paged(event: str, ticket_event_id: int) -> list[Recipient]:
    pages = (Page.objects.filter(ticket_event_id=ticket_event_id) if event == E.TICKET_PAGED
             else Page.objects.filter(run__acknowledged_event_id=ticket_event_id))
    pages = pages.select_related("user__profile").order_by("user__username", "pk")
    return [Recipient(page.user, Party.PAGED, page.pk) for page in pages]
