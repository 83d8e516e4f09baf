"""Plain Django views returning the same page of the same ticket fields as the API, with
`.values()` and no DRF: the yardstick for the API's own serialization (`make bench`)."""
from django.http import JsonResponse
from django.urls import path

from Incident.urls import urlpatterns as product
from tickets.models import Ticket, TicketEvent

FIELDS = ("id", "title", "description", "priority", "category", "project_name", "status",
          "client_id", "client__username", "client__first_name", "client__last_name",
          "assigned_developer_id", "assigned_developer__username", "resolution",
          "rejection_reason", "created_at", "updated_at")
EVENT_FIELDS = ("id", "event", "from_status", "to_status", "actor_id", "actor__username", "note",
                "created_at")


def tickets(request):
    size = int(request.GET.get("page_size", 50))
    return JsonResponse({"results": list(
        Ticket.objects.order_by("-created_at", "-id").values(*FIELDS)[:size])})


def ticket(request, pk: int):
    row = Ticket.objects.values(*FIELDS).get(pk=pk)
    row["events"] = list(TicketEvent.objects.filter(ticket_id=pk).order_by("created_at", "id")
                         .values(*EVENT_FIELDS))
    return JsonResponse(row)


urlpatterns = [path("bare/tickets/", tickets), path("bare/tickets/<int:pk>/", ticket), *product]
