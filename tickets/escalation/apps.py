from django.apps import AppConfig


class EscalationConfig(AppConfig):
    """On-call rotations and escalation chains: who is paged when a deadline passes, until someone
    acknowledges."""

    name = "tickets.escalation"
    label = "escalation"
    verbose_name = "Escalation and on-call"

    def ready(self) -> None:
        from tickets import events
        from tickets.escalation import runs

        events.subscribe(runs.on_event)
