"""Escalation runs: started when a clock is about to breach or breaches (its policy's chain) or a
HIGH ticket is filed, stepped by the timer pass, ended by an acknowledgement (or Start), a met
clock, or the ticket's end.

Every start, step, page, snooze and end is a staff-only line on the ticket's history; a page is a
TICKET_PAGED event whose notifications (notifications.intents) go to the people its step named.
"""
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role
from tickets import events
from tickets.escalation import oncall
from tickets.escalation.errors import NotAcknowledgeable, NothingToAcknowledge
from tickets.escalation.models import Answer, Chain, Page, Reason, Run, RunState, Step, Target
from tickets.models import HIGH_PRIORITIES, Source, Ticket, TicketEvent, TicketEventType
from tickets.sla.models import Clock, ClockState

E = TicketEventType
User = get_user_model()
SNOOZE = timedelta(minutes=30)
STAFF = (Role.ADMIN, Role.DEVELOPER)
# A run nobody has acknowledged yet: stepping, or done stepping with its pages still open.
OPEN = (RunState.ACTIVE, RunState.EXHAUSTED)


def on_event(event: TicketEvent) -> None:
    """Start, follow or end the ticket's runs for one of its events (subscribed to tickets.events)."""
    ticket, now = event.ticket, event.created_at
    if event.event == E.TICKET_CREATED and ticket.priority in HIGH_PRIORITIES:
        chain = Chain.objects.filter(on_high_filed=True).order_by("name").first()
        if chain is not None:
            start(ticket=ticket, chain=chain, clock=None, reason=Reason.HIGH_FILED, now=now)
    elif event.event == E.SLA_CHANGED:
        _follow_clocks(ticket, now)
    elif event.event in (E.TICKET_CLOSED, E.TICKET_REJECTED):
        _end(_open(ticket), RunState.STOPPED, now,
             f"the ticket was {'closed' if event.event == E.TICKET_CLOSED else 'rejected'}")
    elif event.event == E.WORK_STARTED and _open(ticket).exists():
        _acknowledged(ticket, event.actor, now, source=event.source, how="started work")


def start(*, ticket: Ticket, chain: Chain, clock: Clock | None, reason: str,
          now: datetime) -> Run | None:
    """Start `chain` on the ticket, once per (clock, reason) or (ticket, reason); its first step
    is taken at once when it has no wait."""
    steps = list(chain.steps.all())
    if not steps:
        return None
    try:
        with transaction.atomic():
            run = Run.objects.create(ticket=ticket, chain=chain, clock=clock, reason=reason,
                                     started_at=now, due_at=now + _wait(steps[0]))
    except IntegrityError:
        return None  # this start came before (a replayed event)
    what = f" for the {clock.get_metric_display().lower()} target" if clock else ""
    _line(ticket, E.ESCALATION_CHANGED, None,
          f"Escalation: {chain.name} started{what} ({run.get_reason_display().lower()})")
    if run.due_at <= now:
        fire(run, now)
    return run


def fire(run: Run, now: datetime) -> bool:
    """Take the run's next step: page the people it names and schedule the one after. A
    conditional update on the step the caller read, so a step is taken once."""
    steps = list(run.chain.steps.all())
    if run.position >= len(steps):
        return False
    step, nxt = steps[run.position], _after(run, len(steps))
    changes = ({"state": RunState.EXHAUSTED, "due_at": None, "ended_at": now,
                "why_ended": "every step and repeat taken"} if nxt is None else
               {"round": nxt[0], "position": nxt[1], "due_at": now + _wait(steps[nxt[1]])})
    if not Run.objects.filter(pk=run.pk, state=RunState.ACTIVE, round=run.round,
                              position=run.position).update(**changes):
        return False  # taken or ended by someone else meanwhile
    people = paged_by(step, run.ticket, now)
    where = (f"{run.chain.name}, step {run.position + 1} of {len(steps)}"
             + (f", round {run.round + 1}" if run.chain.repeat else ""))
    why = run.get_reason_display()
    if run.clock_id:
        why += f": {run.clock.get_metric_display().lower()}"
    if not people:
        _line(run.ticket, E.ESCALATION_CHANGED, None,
              f"Escalation: nobody to page at {where} ({step.get_target_display().lower()}: "
              "none active); the chain moves on")
    else:
        names = ", ".join(person.get_username() for person in people)
        page_event = TicketEvent.objects.create(
            ticket=run.ticket, event=E.TICKET_PAGED, from_status=run.ticket.status,
            to_status=run.ticket.status, internal=True, note=f"{why} ({where}). Paged: {names}")
        Page.objects.bulk_create(Page(run=run, round=run.round, position=run.position, user=person,
                                      ticket_event=page_event) for person in people)
        events.emit(page_event)
    if nxt is None:
        _line(run.ticket, E.ESCALATION_CHANGED, None,
              f"Escalation: {run.chain.name} ended: every step and repeat taken")
    return True


def paged_by(step: Step, ticket: Ticket, now: datetime) -> list[AbstractBaseUser]:
    """The active staff a step pages (never a client, whatever the step says)."""
    if step.target == Target.ASSIGNED:
        found = [ticket.assigned_developer] if ticket.assigned_developer_id else []
    elif step.target == Target.ROLE:
        found = list(User.objects.filter(profile__role=step.role).order_by("username"))
    elif step.target == Target.USERS:
        found = list(step.users.order_by("username"))
    else:
        found = [oncall.on_call(step.rotation, now).user]
    people = [user for user in found if user is not None and user.is_active]
    staff = set(User.objects.filter(pk__in=[user.pk for user in people],
                                    profile__role__in=STAFF).values_list("pk", flat=True))
    return [user for user in people if user.pk in staff]


def acknowledge(*, ticket_id: int, actor: AbstractBaseUser, source: str = Source.API,
                page: Page | None = None) -> list[Run]:
    """End the ticket's active runs as acknowledged by `actor`: an admin, the assigned developer,
    or (`page`) someone a run paged, tapping Acknowledge. Raises NotAcknowledgeable (403) or
    NothingToAcknowledge (409)."""
    with transaction.atomic():
        ticket = (Ticket.objects.select_for_update(of=("self",))
                  .select_related("assigned_developer").get(pk=ticket_id))
        allowed = (getattr(getattr(actor, "profile", None), "role", None) == Role.ADMIN
                   or ticket.assigned_developer_id == actor.pk
                   or (page is not None and page.user_id == actor.pk))
        if not allowed:
            raise NotAcknowledgeable("Only an admin, the ticket's assigned developer or someone "
                                     "it paged may acknowledge its pages.")
        runs = list(_open(ticket).select_for_update())
        if not runs:
            raise NothingToAcknowledge(f"Ticket #{ticket.pk} has no page waiting for an "
                                       "acknowledgement: nothing is escalating.")
        _acknowledged(ticket, actor, timezone.now(), source=source, how="acknowledged")
    return runs


def answer(*, page_id: int, actor: AbstractBaseUser, what: str) -> str:
    """A paged person's tap (Acknowledge, Snooze 30 min, Escalate now), acted on once; returns
    what to tell them."""
    now = timezone.now()
    with transaction.atomic():
        page = (Page.objects.select_for_update(of=("self",)).select_related("run__ticket", "run__chain")
                .filter(pk=page_id, user=actor).first())
        if page is None:
            return "That page was sent to someone else, so it does nothing from this number."
        run, ticket = page.run, page.run.ticket
        label = f"ticket #{ticket.pk} \"{ticket.title}\""
        if page.answer:
            return f"You already answered this page of {label} ({page.get_answer_display()})."
        if run.state not in OPEN or (run.state != RunState.ACTIVE and what != Answer.ACKNOWLEDGE):
            who = f" by {run.acknowledged_by.get_username()}" if run.acknowledged_by_id else ""
            return (f"Nothing done: paging for {label} has ended ({run.get_state_display().lower()}"
                    f"{who}{', ' + run.why_ended if run.why_ended and not who else ''}).")
        Page.objects.filter(pk=page.pk, answer="").update(answer=what, answered_at=now)
        if what == Answer.ACKNOWLEDGE:
            try:
                acknowledge(ticket_id=ticket.pk, actor=actor, source=Source.WHATSAPP, page=page)
            except NothingToAcknowledge:
                return f"Nothing done: paging for {label} has already ended."
            return f"Acknowledged: {label} is yours. The others paged are told you took it."
        run = Run.objects.select_for_update().get(pk=run.pk)
        if what == Answer.SNOOZE:
            Run.objects.filter(pk=run.pk, state=RunState.ACTIVE).update(due_at=now + SNOOZE)
            _line(ticket, E.ESCALATION_CHANGED, actor, f"Escalation: {run.chain.name} snoozed "
                  f"30 min by {actor.get_username()}", source=Source.WHATSAPP)
            return (f"Snoozed: the next step for {label} waits 30 minutes. Tap Acknowledge on "
                    "the next page to take it.")
        _line(ticket, E.ESCALATION_CHANGED, actor, f"Escalation: {run.chain.name} escalated now "
              f"by {actor.get_username()}", source=Source.WHATSAPP)
        fire(run, now)
        return f"Escalated: the next step for {label} is paging now."


def hurry(*, run_id: int, now: datetime, why: str) -> int:
    """Bring the run's next step forward to `now` (once: a conditional update); 1 if it moved."""
    run = Run.objects.select_related("chain", "ticket").filter(pk=run_id).first()
    if run is None or not Run.objects.filter(pk=run_id, state=RunState.ACTIVE,
                                             due_at__gt=now).update(due_at=now):
        return 0
    _line(run.ticket, E.ESCALATION_CHANGED, None,
          f"Escalation: {run.chain.name} moves on at once: {why}")
    return 1


# --- Helpers --------------------------------------------------------------------------------------


def _follow_clocks(ticket: Ticket, now: datetime) -> None:
    """Runs follow the clocks they serve: a warning starts the policy's chain once, a breach
    starts it again (ending the warning's run), a met or paused clock ends what serves it."""
    clocks = list(Clock.objects.filter(ticket=ticket).select_related("policy__chain"))
    if not clocks:
        return
    runs = {(run.clock_id, run.reason): run for run in
            Run.objects.filter(ticket=ticket, clock__isnull=False).select_for_update()}
    for clock in clocks:
        chain = clock.policy.chain if clock.policy else None
        serving = [run for (clock_id, _), run in runs.items()
                   if clock_id == clock.pk and run.state in OPEN]
        metric = clock.get_metric_display().lower()
        if clock.state in (ClockState.MET, ClockState.STOPPED, ClockState.PAUSED) or clock.met_at:
            why = {ClockState.PAUSED: f"the {metric} clock paused while the client checks",
                   ClockState.STOPPED: "the ticket was rejected"}.get(
                       clock.state, f"the {metric} target was reached")
            _end(Run.objects.filter(pk__in=[run.pk for run in serving]), RunState.STOPPED, now, why)
        elif clock.state == ClockState.BREACHED and chain and (clock.pk, Reason.BREACH) not in runs:
            warned = [run.pk for run in serving if run.reason == Reason.WARNING]
            _end(Run.objects.filter(pk__in=warned), RunState.STOPPED, now,
                 "the deadline passed: the breach's run takes over")
            start(ticket=ticket, chain=chain, clock=clock, reason=Reason.BREACH, now=now)
        elif (clock.state == ClockState.RUNNING and clock.warned_at and chain
              and (clock.pk, Reason.WARNING) not in runs):
            start(ticket=ticket, chain=chain, clock=clock, reason=Reason.WARNING, now=now)


def _acknowledged(ticket: Ticket, actor, now: datetime, *, source: str, how: str) -> None:
    runs = list(_open(ticket).select_related("chain"))
    chains = ", ".join(sorted({run.chain.name for run in runs}))
    event = TicketEvent.objects.create(
        ticket=ticket, event=E.TICKET_ACKNOWLEDGED, from_status=ticket.status,
        to_status=ticket.status, actor=actor, internal=True, source=source,
        note=f"{actor.get_username()} {how}: paging stopped ({chains})")
    Run.objects.filter(pk__in=[run.pk for run in runs], state__in=OPEN).update(
        state=RunState.ACKNOWLEDGED, acknowledged_by=actor, acknowledged_event=event, ended_at=now,
        due_at=None, why_ended=f"{how} by {actor.get_username()}")
    events.emit(event)


def _end(runs, state: str, now: datetime, why: str) -> None:
    ended = list(runs.filter(state__in=OPEN).select_related("chain", "ticket"))
    for run in ended:
        if Run.objects.filter(pk=run.pk, state=run.state).update(
                state=state, due_at=None, ended_at=now, why_ended=why):
            _line(run.ticket, E.ESCALATION_CHANGED, None,
                  f"Escalation: {run.chain.name} ended: {why}")


def _open(ticket: Ticket):
    return Run.objects.filter(ticket=ticket, state__in=OPEN)


def _after(run: Run, steps: int) -> tuple[int, int] | None:
    """The (round, position) after the run's current step; None when the chain is done."""
    if run.position + 1 < steps:
        return run.round, run.position + 1
    if run.round < run.chain.repeat:
        return run.round + 1, 0
    return None


def _wait(step: Step) -> timedelta:
    return timedelta(minutes=step.wait_minutes)


def _line(ticket: Ticket, kind: str, actor, note: str, source: str = Source.API) -> None:
    TicketEvent.objects.create(ticket=ticket, event=kind, from_status=ticket.status,
                               to_status=ticket.status, actor=actor, internal=True, note=note,
                               source=source)
