from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from notifications import checks  # noqa: F401  (registers the WhatsApp settings checks)
        from notifications.tally import LOG_COUNTS

        LOG_COUNTS.forget_after_migrate(self)
