"""Service-level clocks: set when a ticket is filed, moved by what happens to it, breached by time.

- Filed: the first enabled policy (by position) that matches the ticket starts its two clocks.
- First response is met when the client first sees staff act: open, reject, or a public comment
  by someone other than the client.
- Resolution pauses at FINISHED (the client is checking), resumes on a reopen (the same clock, its
  working time so far kept), is met when the ticket is closed, and stops when it is rejected.
- A priority change re-reads the policy: a running clock's deadline is its new target from the
  working time already spent.
- Breached: the recovery pass (`breach_due`) turns each running clock past its `due_at` into
  BREACHED with one conditional update, so two passes never both breach it.

Each change is a staff-only SLA_CHANGED line on the ticket's history. Everything here runs inside
the ticket change's own transaction (tickets.events), or in the pass's.
"""
import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone

from tickets import events
from tickets.models import Ticket, TicketEvent, TicketEventType
from tickets.sla import calendars
from tickets.sla.models import AT_RISK, Clock, ClockState, Metric, Policy

logger = logging.getLogger(__name__)
E = TicketEventType
PASS = 500  # clocks one recovery pass breaches at most
LATE = timedelta(seconds=60)  # a timer found this long after its moment is logged (here, escalation)
# Events that move no clock: the clocks' own lines, and escalation's.
QUIET = (E.SLA_CHANGED, E.TICKET_PAGED, E.TICKET_ACKNOWLEDGED, E.ESCALATION_CHANGED,
         E.TICKET_UPDATED, E.TICKET_RATED)


def policy_for(ticket: Ticket) -> Policy | None:
    """The first enabled policy, by position, that covers the ticket."""
    for policy in Policy.objects.filter(enabled=True).select_related("calendar"):
        if policy.priority and policy.priority != ticket.priority:
            continue
        if policy.project_name and policy.project_name.lower() != ticket.project_name.lower():
            continue
        if policy.category and policy.category != ticket.category:
            continue
        return policy
    return None


def on_event(event: TicketEvent) -> None:
    """Move the ticket's clocks for one of its events (subscribed to tickets.events)."""
    ticket, now = event.ticket, event.created_at
    if event.event in QUIET:
        return
    if event.event == E.TICKET_CREATED:
        _start(ticket, now, event)
        return
    clocks = {clock.metric: clock for clock in Clock.objects.select_for_update(of=("self",))
              .filter(ticket_id=ticket.pk).select_related("policy__calendar")}
    if not clocks:
        return
    changes = []
    first, resolution = clocks.get(Metric.FIRST_RESPONSE), clocks.get(Metric.RESOLUTION)
    if first is not None and _responds(event, ticket):
        changes.append(_meet(first, now))
    if resolution is not None:
        if event.event == E.WORK_FINISHED:
            changes.append(_pause(resolution, now))
        elif event.event == E.TICKET_REOPENED:
            changes.append(_resume(resolution, now))
        elif event.event == E.TICKET_CLOSED:
            changes.append(_meet(resolution, resolution.paused_at or now))
        elif event.event == E.TICKET_REJECTED:
            changes.append(_stop(resolution, now))
    _record(ticket, event.actor, [change for change in changes if change])


def priority_changed(ticket: Ticket, actor, now: datetime) -> None:
    """Re-read the policy after the ticket's priority changed; deadlines follow the new targets,
    from the working time already spent (paused time stays paused)."""
    policy = policy_for(ticket)
    if policy is None:
        return
    changes = []
    for clock in Clock.objects.select_for_update().filter(
            ticket_id=ticket.pk, state__in=(ClockState.RUNNING, ClockState.PAUSED)):
        clock.policy, clock.target_seconds = policy, _target(policy, clock.metric)
        if clock.state == ClockState.RUNNING:
            _schedule(clock, _hours(clock), clock.run_started_at)
        clock.save(update_fields=["policy", "target_seconds", "due_at", "warn_at"])
        changes.append(f"{clock.get_metric_display()}: target {_minutes(clock)} ({policy.name})"
                       + _due(clock))
    _record(ticket, actor, changes)


def warn_due(now: datetime) -> int:
    """Give each running clock past its policy's `warn_before` its one warning (a conditional
    update, so once); returns how many. The warning starts the policy's escalation chain."""
    due = list(Clock.objects.filter(state=ClockState.RUNNING, warned_at__isnull=True,
                                    warn_at__lte=now, due_at__gt=now,
                                    policy__warn_before_minutes__isnull=False)
               .order_by("warn_at", "pk").values_list("pk", "warn_at")[:PASS])
    warned = 0
    for pk, warn_at in due:
        with transaction.atomic():
            if not Clock.objects.filter(pk=pk, state=ClockState.RUNNING, warned_at__isnull=True,
                                        warn_at=warn_at).update(warned_at=now):
                continue
            clock = Clock.objects.select_related("ticket").get(pk=pk)
            _record(clock.ticket, None, [f"{clock.get_metric_display()}: at risk" + _due(clock)])
            warned += 1
        _late("warned", pk, now, warn_at)
    return warned


def breach_due(now: datetime | None = None) -> int:
    """Breach every running clock past its deadline, each exactly once; returns how many."""
    now = now or timezone.now()
    due = list(Clock.objects.filter(state=ClockState.RUNNING, due_at__lte=now)
               .order_by("due_at", "pk").values_list("pk", "due_at")[:PASS])
    breached = 0
    for pk, due_at in due:
        with transaction.atomic():
            if not Clock.objects.filter(pk=pk, state=ClockState.RUNNING, due_at=due_at).update(
                    state=ClockState.BREACHED, breached_at=F("due_at"), warn_at=None):
                continue  # met, paused or breached meanwhile, by another process
            clock = Clock.objects.select_related("ticket").get(pk=pk)
            _record(clock.ticket, None, [f"{clock.get_metric_display()}: breached (target "
                                         f"{_minutes(clock)}, due {_local(due_at)})"])
            breached += 1
        _late("breached", pk, now, due_at)
    return breached


def _late(what: str, pk: int, now: datetime, due: datetime) -> None:
    if now - due > LATE:
        logger.warning("SLA clock %s %s %.0f s after its time: the timer pass runs late", pk, what,
                       (now - due).total_seconds())


# --- Moves ----------------------------------------------------------------------------------------


def _start(ticket: Ticket, now: datetime, event: TicketEvent) -> None:
    policy = policy_for(ticket)
    if policy is None:
        return
    hours = calendars.Hours.of(policy.calendar) if policy.calendar else None
    changes = []
    for metric in Metric:
        target = _target(policy, metric)
        clock = Clock(ticket=ticket, metric=metric, policy=policy, target_seconds=target,
                      started_at=now, run_started_at=now)
        _schedule(clock, hours, now)
        clock.save()
        changes.append(f"{clock.get_metric_display()}: running, target {_minutes(clock)} "
                       f"({policy.name})" + _due(clock))
    _record(ticket, event.actor, changes)


def _responds(event: TicketEvent, ticket: Ticket) -> bool:
    if event.event in (E.TICKET_OPENED, E.TICKET_REJECTED):
        return True
    return (event.event == E.COMMENT_ADDED and not event.internal
            and event.actor_id != ticket.client_id)


def _meet(clock: Clock, at: datetime) -> str:
    if clock.state in (ClockState.RUNNING, ClockState.PAUSED):
        clock.state, clock.met_at, clock.due_at, clock.warn_at = ClockState.MET, at, None, None
        clock.save(update_fields=["state", "met_at", "due_at", "warn_at"])
        return f"{clock.get_metric_display()}: met"
    if clock.state == ClockState.BREACHED and clock.met_at is None:
        clock.met_at = at
        clock.save(update_fields=["met_at"])
        return f"{clock.get_metric_display()}: reached after its breach"
    return ""


def _pause(clock: Clock, now: datetime) -> str:
    if clock.state not in (ClockState.RUNNING, ClockState.BREACHED) or clock.paused_at:
        return ""
    clock.spent_seconds += calendars.between(_hours(clock), clock.run_started_at, now)
    clock.paused_at, clock.run_started_at = now, None
    if clock.state == ClockState.RUNNING:
        clock.state, clock.due_at, clock.warn_at = ClockState.PAUSED, None, None
    clock.save(update_fields=["spent_seconds", "paused_at", "run_started_at", "state", "due_at",
                              "warn_at"])
    return f"{clock.get_metric_display()}: paused while the client checks the fix"


def _resume(clock: Clock, now: datetime) -> str:
    if not clock.paused_at:
        return ""
    clock.paused_at, clock.run_started_at = None, now
    if clock.state == ClockState.PAUSED:
        clock.state = ClockState.RUNNING
        _schedule(clock, _hours(clock), now)
    clock.save(update_fields=["paused_at", "run_started_at", "state", "due_at", "warn_at"])
    return f"{clock.get_metric_display()}: running again after the reopen" + _due(clock)


def _stop(clock: Clock, now: datetime) -> str:
    if clock.state not in (ClockState.RUNNING, ClockState.PAUSED):
        return ""
    clock.state, clock.due_at, clock.warn_at, clock.paused_at = ClockState.STOPPED, None, None, now
    clock.save(update_fields=["state", "due_at", "warn_at", "paused_at"])
    return f"{clock.get_metric_display()}: stopped (the ticket was rejected)"


# --- Helpers --------------------------------------------------------------------------------------


def _schedule(clock: Clock, hours, since: datetime) -> None:
    """The running clock's deadline and its at-risk moment, counted in working time from `since`
    (when its running stretch began) with the time spent before it."""
    left = clock.target_seconds - clock.spent_seconds
    before = clock.policy.warn_before_minutes if clock.policy else None
    warning = before * 60 if before is not None else clock.target_seconds * (1 - AT_RISK)
    clock.due_at = calendars.add(hours, since, max(left, 0))
    clock.warn_at = calendars.add(hours, since, max(left - warning, 0))


def _target(policy: Policy, metric: str) -> int:
    minutes = (policy.first_response_minutes if metric == Metric.FIRST_RESPONSE
               else policy.resolution_minutes)
    return minutes * 60


def _hours(clock: Clock) -> calendars.Hours | None:
    calendar = clock.policy.calendar if clock.policy else None
    return calendars.Hours.of(calendar) if calendar else None


def _minutes(clock: Clock) -> str:
    return f"{clock.target_seconds // 60} working minutes"


def _local(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}"


def _due(clock: Clock) -> str:
    return f", due {_local(clock.due_at)}" if clock.due_at else ""


def _record(ticket: Ticket, actor, changes: list[str]) -> None:
    """The changes as one staff-only line on the ticket's history, emitted for escalation (it
    notifies nobody by itself)."""
    if changes:
        events.emit(TicketEvent.objects.create(
            ticket=ticket, event=E.SLA_CHANGED, from_status=ticket.status, to_status=ticket.status,
            actor=actor, internal=True, note="SLA: " + "; ".join(changes)))


# --- Reading ---------------------------------------------------------------------------------------


def nearest_deadline() -> Subquery:
    """A ticket's nearest running deadline, for a ticket query (none: null)."""
    return Subquery(Clock.objects.filter(ticket=OuterRef("pk"), state=ClockState.RUNNING)
                    .order_by("due_at").values("due_at")[:1])


def standing() -> dict:
    """Annotations for a ticket query: its nearest deadline, the moment that one is at risk,
    and whether any clock breached (the admin list's column)."""
    running = Clock.objects.filter(ticket=OuterRef("pk"), state=ClockState.RUNNING)
    return {"sla_due": nearest_deadline(),
            "sla_warn": Subquery(running.order_by("warn_at").values("warn_at")[:1]),
            "sla_breached": Exists(Clock.objects.filter(ticket=OuterRef("pk"),
                                                        state=ClockState.BREACHED))}


def shown(ticket_ids: list[int], *, now: datetime, stamp) -> dict[int, list[dict]]:
    """Each ticket's clocks as the API shows them (one query for a page of tickets); `stamp`
    writes a time as the rest of the API does."""
    found: dict[int, list[dict]] = {pk: [] for pk in ticket_ids}
    for row in (Clock.objects.filter(ticket_id__in=ticket_ids).order_by("ticket_id", "metric")
                .values("ticket_id", "metric", "state", "target_seconds", "due_at", "warn_at",
                        "met_at", "breached_at", "policy__name")):
        running = row["state"] == ClockState.RUNNING
        found[row["ticket_id"]].append({
            "metric": row["metric"], "state": row["state"], "policy": row["policy__name"],
            "target_minutes": row["target_seconds"] // 60,
            "due_at": stamp(row["due_at"] if running else None),
            "seconds_left": round((row["due_at"] - now).total_seconds()) if running else None,
            "at_risk": running and row["warn_at"] is not None and row["warn_at"] <= now,
            "met_at": stamp(row["met_at"]), "breached_at": stamp(row["breached_at"]),
        })
    return found

