"""On-call rotations, escalation chains and their runs: who is paged, when, and what they answered.

A run is a timer: a row with a due time (`due_at`), fired by the timer pass (tickets.escalation.
timers) under a row lock, so a step is taken once however many processes look for due work.
"""
from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from accounts.models import Role
from Incident.zones import known_zone
from tickets.models import Ticket, TicketEvent
from tickets.sla.models import Clock

MAX_REPEAT = 9


class Rotation(models.Model):
    """Who is on call: the members take shifts in order, each `shift_hours` long, the first
    starting on `starts_on` at `handoff_time` (local to `time_zone`, so hand-offs keep their
    local hour across daylight saving). An override puts someone else on call for a while."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[known_zone],
                                 help_text="An IANA name, e.g. Africa/Cairo.")
    shift_hours = models.PositiveIntegerField(
        default=168, validators=[MinValueValidator(1, "A shift lasts at least one hour.")],
        help_text="168: a week each.")
    starts_on = models.DateField(help_text="The first member's first shift starts this day.")
    handoff_time = models.TimeField(default=time(9), help_text="Local time of every hand-off.")

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class RotationMember(models.Model):
    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="rotations")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("rotation", "position", "id")
        constraints = [models.UniqueConstraint(fields=["rotation", "position"],
                                               name="one_member_a_position")]

    def __str__(self) -> str:
        return f"{self.position + 1}. {self.user}"


class Override(models.Model):
    """`user` covers the rotation from `starts_at` to `ends_at` (the latest added wins where two
    overlap)."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="overrides")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ("rotation", "starts_at")

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The end must be after the start."})

    def __str__(self) -> str:
        return f"{self.user} from {self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%Y-%m-%d %H:%M}"


class Chain(models.Model):
    """Steps taken in order, each after its wait; then again from the top `repeat` times."""

    name = models.CharField(max_length=100, unique=True)
    repeat = models.PositiveSmallIntegerField(
        default=0, help_text=f"Times to start again from the first step (at most {MAX_REPEAT}).")
    on_high_filed = models.BooleanField(
        "start when a HIGH ticket is filed", default=False,
        help_text="Also start this chain for every HIGH or CRITICAL ticket as it is filed (the "
        "first such chain by name).")

    class Meta:
        ordering = ("name",)

    def clean(self) -> None:
        if self.repeat > MAX_REPEAT:
            raise ValidationError({"repeat": f"At most {MAX_REPEAT} repeats."})

    def __str__(self) -> str:
        return self.name


class Target(models.TextChoices):
    ASSIGNED = "ASSIGNED", "The assigned developer"
    ROLE = "ROLE", "Everyone with a role"
    USERS = "USERS", "Named users"
    ON_CALL = "ON_CALL", "Whoever is on call in a rotation"


class Step(models.Model):
    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    wait_minutes = models.PositiveIntegerField(
        default=0, help_text="Minutes after the previous step (or the start) before this one.")
    target = models.CharField(max_length=8, choices=Target.choices)
    role = models.CharField(max_length=16, choices=Role.choices, blank=True)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    rotation = models.ForeignKey(Rotation, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="steps")

    class Meta:
        ordering = ("chain", "position", "id")

    def clean(self) -> None:
        if self.target == Target.ROLE and not self.role:
            raise ValidationError({"role": "Name the role to page."})
        if self.target == Target.ON_CALL and self.rotation_id is None:
            raise ValidationError({"rotation": "Name the rotation whose on-call person is paged."})

    def __str__(self) -> str:
        return f"{self.position + 1}. after {self.wait_minutes} min: {self.get_target_display()}"


class Reason(models.TextChoices):
    WARNING = "WARNING", "A deadline is near"
    BREACH = "BREACH", "A deadline passed"
    HIGH_FILED = "HIGH_FILED", "A HIGH ticket was filed"


class RunState(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    ACKNOWLEDGED = "ACKNOWLEDGED", "Acknowledged"
    STOPPED = "STOPPED", "Stopped"  # the clock was met, or the ticket closed or rejected
    EXHAUSTED = "EXHAUSTED", "Every step and repeat taken"


class Run(models.Model):
    """One chain working on one ticket: the next step to take (`round`, `position`) and when."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    chain = models.ForeignKey(Chain, on_delete=models.PROTECT, related_name="runs")
    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, null=True, blank=True,
                              related_name="escalations")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    state = models.CharField(max_length=16, choices=RunState.choices, default=RunState.ACTIVE)
    round = models.PositiveSmallIntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=0, help_text="The next step's index.")
    due_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    why_ended = models.CharField(max_length=200, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                        null=True, blank=True, related_name="+")
    acknowledged_event = models.ForeignKey(TicketEvent, on_delete=models.SET_NULL, null=True,
                                           blank=True, related_name="acknowledged_runs")

    class Meta:
        ordering = ("-started_at",)
        constraints = [
            # One warning and one breach run per clock, one HIGH run per ticket: a start that
            # comes twice (a replayed event) starts nothing new.
            models.UniqueConstraint(fields=["clock", "reason"], name="one_run_a_clock_reason",
                                    condition=Q(clock__isnull=False)),
            models.UniqueConstraint(fields=["ticket", "reason"], name="one_run_a_filing",
                                    condition=Q(clock__isnull=True)),
        ]
        indexes = [models.Index(fields=["due_at"], name="run_due", condition=Q(state="ACTIVE"))]

    def __str__(self) -> str:
        return f"{self.chain} on ticket #{self.ticket_id} ({self.get_state_display()})"


class Answer(models.TextChoices):
    ACKNOWLEDGE = "ACKNOWLEDGE", "Acknowledged"
    SNOOZE = "SNOOZE", "Snoozed 30 min"
    ESCALATE = "ESCALATE", "Escalated now"


class Page(models.Model):
    """One person paged by one step of a run; their notifications hang off `ticket_event`."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="pages")
    round = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="pages")
    ticket_event = models.ForeignKey(TicketEvent, on_delete=models.CASCADE, related_name="pages")
    answer = models.CharField(max_length=16, choices=Answer.choices, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("run", "round", "position", "id")
        constraints = [models.UniqueConstraint(fields=["run", "round", "position", "user"],
                                               name="one_page_a_step_person")]

    def __str__(self) -> str:
        return f"{self.user} (round {self.round + 1}, step {self.position + 1})"
