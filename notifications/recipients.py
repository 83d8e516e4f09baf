"""Who is told about which ticket event, and as what audience."""
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from accounts.models import Role
from notifications.messages import Audience
from tickets.models import Ticket
from tickets.models import TicketEventType as E

User = get_user_model()

# Per event, who is told, in this order. "admins" means every active ADMIN.
RECIPIENTS: dict[str, tuple[str, ...]] = {
    E.TICKET_CREATED: ("admins",),
    E.TICKET_OPENED: ("client",),
    E.DEVELOPER_ASSIGNED: ("developer", "client"),
    E.WORK_STARTED: ("client",),
    E.WORK_FINISHED: ("client", "admins"),
    E.TICKET_CLOSED: ("client", "developer"),
    E.TICKET_REJECTED: ("client",),
}


@dataclass(frozen=True)
class Recipient:
    user: AbstractBaseUser
    audience: Audience


def recipients_for(*, ticket: Ticket, event: str, actor_id: int | None) -> list[Recipient]:
    """The people to tell about `event`: never the actor who caused it, never an inactive user,
    and each person once (an admin who filed the ticket hears as its client)."""
    found: list[Recipient] = []
    for group in RECIPIENTS.get(event, ()):
        if group == "client":
            found.append(Recipient(ticket.client, Audience.CLIENT))
        elif group == "developer" and ticket.assigned_developer is not None:
            found.append(Recipient(ticket.assigned_developer, Audience.DEVELOPER))
        elif group == "admins":
            admins = User.objects.filter(is_active=True, profile__role=Role.ADMIN).select_related(
                "profile"
            ).order_by("username")
            found.extend(Recipient(admin, Audience.ADMIN) for admin in admins)

    seen: set[int] = set()
    chosen: list[Recipient] = []
    for recipient in found:
        user = recipient.user
        if user.pk == actor_id or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        chosen.append(recipient)
    return chosen
