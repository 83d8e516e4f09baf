from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from django.utils import timezone

        from Incident import health
        from notifications.insights import queue
        from notifications.services import schedule_ticket_notifications
        from notifications.tally import LOG_COUNTS
        from tickets import events

        # Every ticket event writes its notifications in the change's own transaction.
        events.subscribe(schedule_ticket_notifications)
        # /healthz shows what waits to be sent.
        health.add_figures("notifications", lambda: queue(timezone.now()).as_dict())

        LOG_COUNTS.forget_after_migrate(self)
