"""Filters for GET /api/notifications/logs/."""
import django_filters

from Incident.filters import explained_choice_filter
from notifications.models import Channel, NotificationLog, NotificationStatus
from tickets.models import TicketEventType


class NotificationLogFilter(django_filters.FilterSet):
    channel = explained_choice_filter("channel", Channel.choices)
    status = explained_choice_filter("status", NotificationStatus.choices)
    event = explained_choice_filter("event", TicketEventType.choices)
    ticket = django_filters.NumberFilter(field_name="ticket_id")
    recipient = django_filters.NumberFilter(field_name="recipient_id")

    class Meta:
        model = NotificationLog
        fields = ("channel", "status", "event", "ticket", "recipient")
