"""Plain Django views returning the same page of the same ticket fields as the API, with
`.values()` and no DRF: the yardstick for the API's own serialization; and a bare upload and
download of a file through the same storage, the yardstick for attachments (`make bench`)."""
import uuid

from django.core.files.storage import storages
from django.http import FileResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

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


@csrf_exempt
def upload(request):
    """Django's own multipart parsing and a save into the attachments storage: no checks."""
    sent = request.FILES["file"]
    key = storages["attachments"].save(f"bare/{uuid.uuid4().hex}", sent)
    return JsonResponse({"key": key, "size": sent.size}, status=201)


def download(request, key: str):
    return FileResponse(storages["attachments"].open(f"bare/{key}", "rb"), as_attachment=True,
                        filename="file.png")


urlpatterns = [path("bare/tickets/", tickets), path("bare/tickets/<int:pk>/", ticket),
               path("bare/files/", upload), path("bare/files/<str:key>/", download), *product]
