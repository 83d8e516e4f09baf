from django.apps import AppConfig


class EmailConfig(AppConfig):
    """Email through Django's mail framework, plugged into the ledger as a channel."""

    name = "notifications.email"
    label = "notifications_email"
    verbose_name = "Email"

    def ready(self) -> None:
        from notifications import channels
        from notifications.email.channel import EmailChannel

        channels.register(EmailChannel())
