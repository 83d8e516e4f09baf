"""A business calendar: a time zone, working intervals per weekday (several a day), holidays."""
import zoneinfo
from datetime import time

from django.core.exceptions import ValidationError
from django.db import models


MIDNIGHT = time(0)


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


def _known_zone(name: str) -> None:
    if name not in zoneinfo.available_timezones():
        raise ValidationError(f"\"{name}\" is not an IANA time zone; use a name such as "
                              "Africa/Cairo, Europe/Berlin or America/New_York.")


class Calendar(models.Model):
    """When a team works. Its intervals are local times in `time_zone`, so a deadline moves with
    daylight saving as the team's clocks do."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[_known_zone],
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
