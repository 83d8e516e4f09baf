from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from tickets.counts import TICKET_COUNTS

        post_migrate.connect(lambda using="default", **kwargs: TICKET_COUNTS.forget_if_empty(using),
                             sender=self, weak=False, dispatch_uid="tickets.ticket_counts")
