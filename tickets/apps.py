from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from tickets.counts import TICKET_COUNTS

        TICKET_COUNTS.forget_after_migrate(self)
