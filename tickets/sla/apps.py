from django.apps import AppConfig


class SlaConfig(AppConfig):
    """Business calendars: when a team works, so that deadlines count working time only."""

    name = "tickets.sla"
    label = "sla"
    verbose_name = "Service levels"

    def ready(self) -> None:
        from tickets import events
        from tickets.sla import clocks

        events.subscribe(clocks.on_event)
