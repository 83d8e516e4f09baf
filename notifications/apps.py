from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from notifications import checks  # noqa: F401  (registers the WhatsApp settings checks)
        from notifications.tally import LOG_COUNTS

        post_migrate.connect(lambda using="default", **kwargs: LOG_COUNTS.forget_if_empty(using),
                             sender=self, weak=False, dispatch_uid="notifications.log_counts")
