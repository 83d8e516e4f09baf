from django.apps import AppConfig


class WhatsAppConfig(AppConfig):
    """Everything that speaks Meta's WhatsApp Cloud API, plugged into the ledger as a channel."""

    name = "notifications.whatsapp"
    label = "whatsapp"
    verbose_name = "WhatsApp"

    def ready(self) -> None:
        from notifications import channels
        from notifications.whatsapp import checks  # noqa: F401  (registers the WhatsApp settings checks)
        from notifications.whatsapp.channel import WhatsAppChannel

        channels.register(WhatsAppChannel())
        from Incident import front
        from notifications.whatsapp import simulator

        front.add_link("whatsapp_simulator", "/simulator/",
                       "The WhatsApp phone simulator (console mode): answer as each person would",
                       when=simulator.enabled)
