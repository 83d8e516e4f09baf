"""The ticket list's `count` without counting: an admin's list is every ticket, at most narrowed
by status, priority or category, and a running count (Incident.counters) per such key answers it
from a few rows however many tickets there are. Any other list (a client's or developer's own
tickets, a search, a filter on client, developer or project) counts itself: those lists are
narrow, and their counts cheap."""
from django.contrib.auth.models import AbstractBaseUser

from accounts.models import Role
from accounts.selectors import role_of
from Incident import counters

KEY = ("status", "priority", "category")
# What a page-number request may name besides those filters and still be counted here.
PAGING = {"page", "page_size", "ordering"}

TICKET_COUNTS = counters.Counter(
    name="tickets_count", source="tickets_ticket", change="tickets_ticketcountchange",
    total="tickets_ticketcount", key=KEY, postgres="{r}.status, {r}.priority, {r}.category",
    sqlite="{r}.status, {r}.priority, {r}.category", watched=KEY, lock=7_260_316)
fold = TICKET_COUNTS.fold


def known_count(user: AbstractBaseUser, params) -> int | None:
    """The exact count of the list `params` ask `user` for, or None when the list must count
    itself. Filter values are valid by now: the filter set refused any other with a 400."""
    if role_of(user) != Role.ADMIN or not set(params) <= PAGING | set(KEY):
        return None
    return counters.total(TICKET_COUNTS, **{field: params[field] for field in KEY
                                            if params.get(field)})
