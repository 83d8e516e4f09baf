"""A business calendar: a time zone, working intervals per weekday (several a day), holidays."""
from datetime import time

from django.core.exceptions import ValidationError
from django.db import models

from Incident.zones import known_zone
from tickets.models import Category, Priority, Ticket


MIDNIGHT = time(0)


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class Calendar(models.Model):
    """When a team works. Its intervals are local times in `time_zone`, so a deadline moves with
    daylight saving as the team's clocks do."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[known_zone],
                                 help_text="An IANA name, e.g. Africa/Cairo.")

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name} ({self.time_zone})"


class WorkingInterval(models.Model):
    """One stretch of working time on a weekday, e.g. Monday 09:00–13:00."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="intervals")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        ordering = ("weekday", "start")

    def clean(self) -> None:
        if self.start is not None and self.end is not None and self.end != MIDNIGHT \
                and self.end <= self.start:
            raise ValidationError({"end": "The end must be after the start (00:00 for midnight)."})

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class Holiday(models.Model):
    """A day the calendar does not work, whatever its weekday."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="holidays")
    day = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ("day",)
        constraints = [models.UniqueConstraint(fields=["calendar", "day"], name="one_holiday_a_day")]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.name}".strip()


class Policy(models.Model):
    """Targets for the tickets it covers: the first enabled policy, by position, whose priority
    (and project and category, when given) match a ticket sets its clocks."""

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0, help_text="Lower positions are tried first.")
    enabled = models.BooleanField(default=True)
    priority = models.CharField(max_length=16, choices=Priority.choices, blank=True,
                                help_text="Blank: any priority.")
    project_name = models.CharField(max_length=200, blank=True,
                                    help_text="Blank: any project (exact, any case, otherwise).")
    category = models.CharField(max_length=16, choices=Category.choices, blank=True,
                                help_text="Blank: any category.")
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, null=True, blank=True,
                                 help_text="Blank: round the clock (24/7).")
    first_response_minutes = models.PositiveIntegerField(
        help_text="Working minutes until the client sees staff act: open, reject or a public "
        "comment.")
    resolution_minutes = models.PositiveIntegerField(
        help_text="Working minutes until the work is finished; FINISHED pauses it while the client "
        "checks, and a reopen resumes the same clock.")
    chain = models.ForeignKey(
        "escalation.Chain", on_delete=models.PROTECT, null=True, blank=True, related_name="policies",
        help_text="Started once when a clock is about to breach (warn_before) and once when it "
        "breaches; blank: nobody is paged.")
    warn_before_minutes = models.PositiveIntegerField(
        "warn before (minutes)", null=True, blank=True,
        help_text="Working minutes before a deadline when it is at risk and the chain starts a "
        "first time (the warning); blank: no warning, and at risk once 75 % of the target is "
        "used.")

    class Meta:
        verbose_name_plural = "policies"
        ordering = ("position", "id")

    def __str__(self) -> str:
        return self.name


class Metric(models.TextChoices):
    FIRST_RESPONSE = "FIRST_RESPONSE", "First response"
    RESOLUTION = "RESOLUTION", "Resolution"


class ClockState(models.TextChoices):
    RUNNING = "RUNNING", "Running"
    PAUSED = "PAUSED", "Paused"
    MET = "MET", "Met"
    BREACHED = "BREACHED", "Breached"
    STOPPED = "STOPPED", "Stopped (ticket rejected)"


# The share of a target after which a running clock is "at risk" (GET /api/tickets/?sla=at_risk).
AT_RISK = 0.75


class Clock(models.Model):
    """One ticket's deadline for one metric. Working time used so far is `spent_seconds` (before
    the running stretch that began at `run_started_at`); `due_at` is when the target is reached if
    it keeps running. A breach is a conditional update by the recovery pass, so it happens once."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="clocks")
    metric = models.CharField(max_length=16, choices=Metric.choices)
    policy = models.ForeignKey(Policy, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="clocks")
    target_seconds = models.PositiveIntegerField()
    state = models.CharField(max_length=8, choices=ClockState.choices, default=ClockState.RUNNING)
    started_at = models.DateTimeField()
    run_started_at = models.DateTimeField(null=True, blank=True)
    spent_seconds = models.FloatField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)
    # When a running clock is at risk: AT_RISK of its target used, in working time.
    warn_at = models.DateTimeField(null=True, blank=True)
    # When the warning was given (the timer pass, once: a conditional update).
    warned_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True,
                                  help_text="When the target was reached (late, if breached).")
    breached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("ticket", "metric")
        constraints = [models.UniqueConstraint(fields=["ticket", "metric"], name="one_clock_a_metric")]
        indexes = [models.Index(fields=["due_at"], name="clock_due",
                                condition=models.Q(state="RUNNING")),
                   models.Index(fields=["warn_at"], name="clock_warn",
                                condition=models.Q(state="RUNNING", warned_at__isnull=True)),
                   # The insights page's clocks settled in its period.
                   models.Index(fields=["met_at"], name="clock_met"),
                   models.Index(fields=["breached_at"], name="clock_breached")]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} of ticket #{self.ticket_id}: {self.get_state_display()}"
