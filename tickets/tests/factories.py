"""Tickets in any status, built through the services so their history is real."""
import factory

from accounts.tests.factories import make_client
from tickets.models import Category, Priority, Ticket


class TicketFactory(factory.django.DjangoModelFactory):
    """A NEW ticket row (with no history); use `ticket_in` for one taken through the lifecycle."""

    class Meta:
        model = Ticket

    title = factory.Sequence(lambda n: f"Login page broken #{n}")
    description = "Users cannot log in to the portal."
    priority = Priority.HIGH
    category = Category.BUG
    project_name = "Web Portal"
    client = factory.LazyFunction(make_client)
