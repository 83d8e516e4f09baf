from django.apps import AppConfig


class SlaConfig(AppConfig):
    """Business calendars: when a team works, so that deadlines count working time only."""

    name = "tickets.sla"
    label = "sla"
    verbose_name = "Service levels"
