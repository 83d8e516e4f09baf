"""Filters for GET /api/notifications/logs/."""
import django_filters

from Incident.filters import IdFilter, explained_choice_filter
from notifications.models import EVENTS, Channel, DeliveryStatus, NotificationLog, NotificationStatus


class NotificationLogFilter(django_filters.FilterSet):
    channel = explained_choice_filter("channel", Channel.choices)
    status = explained_choice_filter("status", NotificationStatus.choices)
    event = explained_choice_filter("event", EVENTS)
    delivery_status = explained_choice_filter("delivery_status", DeliveryStatus.choices)
    ticket = IdFilter("ticket_id")
    recipient = IdFilter("recipient_id")

    class Meta:
        model = NotificationLog
        fields = ("channel", "status", "delivery_status", "event", "ticket", "recipient")
