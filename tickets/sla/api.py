"""/api/sla/calendars/ and /api/sla/policies/: the admin's set-up, scriptable (admins only, the
admin's own rules)."""
from django.db import transaction
from django.db.models import ProtectedError
from rest_framework import serializers, viewsets

from accounts.permissions import IsAdminRole
from Incident.errors import InUse
from Incident.schema import set_up_endpoints
from Incident.serializers import (LocalTimeField, NestedListsMixin, StrictModelSerializer,
                                  model_rules)
from tickets.sla.models import Calendar, Holiday, Policy, WorkingInterval


class IntervalSerializer(StrictModelSerializer):
    start, end = LocalTimeField(), LocalTimeField(help_text="00:00 means midnight at the end of the day.")
    class Meta:
        model = WorkingInterval
        fields = ("weekday", "start", "end")

    def validate(self, data):
        model_rules(WorkingInterval(**data))
        return data


class HolidaySerializer(StrictModelSerializer):
    class Meta:
        model = Holiday
        fields = ("day", "name")


class CalendarSerializer(NestedListsMixin, StrictModelSerializer):
    """A calendar with its intervals and holidays; sending either replaces the whole list."""

    intervals = IntervalSerializer(many=True, required=False,
                                   help_text="Working intervals, local to time_zone; weekday 0 is "
                                   "Monday; an end of 00:00 is midnight.")
    holidays = HolidaySerializer(many=True, required=False)

    class Meta:
        model = Calendar
        fields = ("id", "name", "time_zone", "intervals", "holidays")

    def validate_holidays(self, holidays):
        days = [holiday["day"] for holiday in holidays]
        if len(days) != len(set(days)):
            raise serializers.ValidationError("Each day may be listed once.")
        return holidays

    @transaction.atomic
    def create(self, data):
        intervals, holidays = data.pop("intervals", []), data.pop("holidays", [])
        calendar = Calendar.objects.create(**data)
        self._replace(calendar, intervals, holidays)
        return calendar

    @transaction.atomic
    def update(self, calendar, data):
        intervals, holidays = data.pop("intervals", None), data.pop("holidays", None)
        calendar = super().update(calendar, data)
        self._replace(calendar, intervals, holidays)
        return calendar

    @staticmethod
    def _replace(calendar, intervals, holidays) -> None:
        if intervals is not None:
            calendar.intervals.all().delete()
            WorkingInterval.objects.bulk_create(WorkingInterval(calendar=calendar, **interval)
                                                for interval in intervals)
        if holidays is not None:
            calendar.holidays.all().delete()
            Holiday.objects.bulk_create(Holiday(calendar=calendar, **holiday)
                                        for holiday in holidays)


class PolicySerializer(StrictModelSerializer):
    class Meta:
        model = Policy
        fields = ("id", "name", "position", "enabled", "priority", "project_name", "category",
                  "calendar", "first_response_minutes", "resolution_minutes", "chain",
                  "warn_before_minutes")


@set_up_endpoints("calendar", CalendarSerializer, listed="Business calendars (admins)",
                  deleted="Delete a calendar no policy uses")
class CalendarViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAdminRole]
    serializer_class = CalendarSerializer
    queryset = Calendar.objects.prefetch_related("intervals", "holidays").order_by("name")

    def perform_destroy(self, calendar) -> None:
        try:
            calendar.delete()
        except ProtectedError as exc:
            names = ", ".join(sorted(policy.name for policy in exc.protected_objects))
            raise InUse(f"Policies use this calendar ({names}): give them another calendar, or "
                        "none, first.") from exc


@set_up_endpoints("policy", PolicySerializer,
                  listed="SLA policies, in the order they are tried (admins)",
                  deleted="Delete a policy (its clocks keep running)", in_use=False)
class PolicyViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAdminRole]
    serializer_class = PolicySerializer
    queryset = Policy.objects.order_by("position", "id")
