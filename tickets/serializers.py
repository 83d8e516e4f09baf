"""API shapes for tickets: input serializers validate, output serializers render."""
from django.utils import timezone
from rest_framework import serializers

from accounts.serializers import UserSummarySerializer, user_summary
from Incident.serializers import StrictModelSerializer, StrictSerializer
from tickets import transitions
from tickets.transitions import Action
from tickets.models import Ticket, TicketEvent, TicketStatus
from tickets.selectors import allowed_actions_for, may_comment

ACTION_PATHS = ", ".join(f"POST /api/tickets/{{id}}/{action}/" for action in transitions.ACTIONS)
DESCRIPTION_MAX_LENGTH = 10_000
# get_status_display() flattens the field's choices on every call.
STATUS_LABELS = dict(TicketStatus.choices)

# Fields a client might send that only the lifecycle may set: say where to go instead.
LIFECYCLE_FIELD_HINTS = {
    "status": f"Status cannot be written; it changes through the actions: {ACTION_PATHS}.",
    "assigned_developer": "Set through POST /api/tickets/{id}/assign/ with {\"developer\": <id>}.",
    "resolution": "Set through POST /api/tickets/{id}/finish/ with {\"resolution\": \"...\"}.",
    "rejection_reason": "Set through POST /api/tickets/{id}/reject/ with {\"reason\": \"...\"}.",
    "client": "The client is whoever creates the ticket.",
}
READ_ONLY_OUTPUT_FIELDS = ("id", "status_display", "created_at", "updated_at", "allowed_actions",
                           "can_comment", "events")


class TicketInputSerializer(StrictModelSerializer):
    """Body of POST /api/tickets/ and PATCH /api/tickets/{id}/."""

    read_only_hints = {
        **LIFECYCLE_FIELD_HINTS,
        **{name: "This field is read-only." for name in READ_ONLY_OUTPUT_FIELDS},
    }

    class Meta:
        model = Ticket
        fields = ("title", "description", "priority", "category", "project_name")
        extra_kwargs = {"description": {"max_length": DESCRIPTION_MAX_LENGTH}}


class TicketEventSerializer(serializers.ModelSerializer):
    actor = UserSummarySerializer()

    class Meta:
        model = TicketEvent
        fields = ("id", "event", "from_status", "to_status", "actor", "note", "source", "internal",
                  "created_at")

    def to_representation(self, event: TicketEvent) -> dict:
        return {"id": event.pk, "event": event.event, "from_status": event.from_status,
                "to_status": event.to_status, "actor": user_summary(event.actor),
                "note": event.note, "source": event.source, "internal": event.internal,
                "created_at": timestamp(event.created_at)}


class CommentSerializer(serializers.ModelSerializer):
    """A comment: a COMMENT_ADDED row of the ticket's history."""

    author = UserSummarySerializer(source="actor")
    body = serializers.CharField(source="note")

    class Meta:
        model = TicketEvent
        fields = ("id", "author", "body", "internal", "source", "created_at")

    def to_representation(self, event: TicketEvent) -> dict:
        return {"id": event.pk, "author": user_summary(event.actor), "body": event.note,
                "internal": event.internal, "source": event.source,
                "created_at": timestamp(event.created_at)}


class CommentInputSerializer(StrictSerializer):
    """Body of POST /api/tickets/{id}/comments/."""

    body = serializers.CharField(max_length=DESCRIPTION_MAX_LENGTH)
    internal = serializers.BooleanField(
        required=False, default=False,
        help_text="Admins only: a note for staff that the client never sees.")


class TicketOutputSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display")
    client = UserSummarySerializer()
    assigned_developer = UserSummarySerializer(allow_null=True)
    allowed_actions = serializers.SerializerMethodField()
    can_comment = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = (
            "id", "title", "description", "priority", "category", "project_name", "status",
            "status_display", "client", "assigned_developer", "resolution", "rejection_reason",
            "created_at", "updated_at", "allowed_actions", "can_comment",
        )

    def get_allowed_actions(self, ticket: Ticket) -> list[str]:
        return allowed_actions_for(user=self.context["request"].user, ticket=ticket)

    def get_can_comment(self, ticket: Ticket) -> bool:
        """Whether the caller may POST /api/tickets/{id}/comments/ now."""
        return may_comment(user=self.context["request"].user, ticket=ticket)

    def to_representation(self, ticket: Ticket) -> dict:
        # Built by hand, the same fields as declared above (the schema reads those): a list page
        # spent half its time in DRF's per-field machinery, much of it inspecting the signature
        # of get_status_display and get_full_name for every value (tests compare the two paths).
        developer = ticket.assigned_developer
        return {
            "id": ticket.pk, "title": ticket.title, "description": ticket.description,
            "priority": ticket.priority, "category": ticket.category,
            "project_name": ticket.project_name, "status": ticket.status,
            "status_display": STATUS_LABELS[ticket.status], "client": user_summary(ticket.client),
            "assigned_developer": user_summary(developer) if developer is not None else None,
            "resolution": ticket.resolution, "rejection_reason": ticket.rejection_reason,
            "created_at": timestamp(ticket.created_at), "updated_at": timestamp(ticket.updated_at),
            "allowed_actions": self.get_allowed_actions(ticket),
            "can_comment": self.get_can_comment(ticket),
        }


class TicketDetailSerializer(TicketOutputSerializer):
    events = TicketEventSerializer(many=True)

    class Meta(TicketOutputSerializer.Meta):
        fields = (*TicketOutputSerializer.Meta.fields, "events")

    def to_representation(self, ticket: Ticket) -> dict:
        render = TicketEventSerializer().to_representation
        return {**super().to_representation(ticket),
                "events": [render(event) for event in ticket.events.all()]}


def timestamp(value) -> str | None:
    """A datetime as every other field of the API writes it (DRF's ISO 8601 form: in the current
    time zone, UTC written as Z), without a DRF field's machinery for every value."""
    if value is None:
        return None
    written = value.astimezone(timezone.get_current_timezone()).isoformat()
    return written[:-6] + "Z" if written.endswith("+00:00") else written


# --- Action bodies ---------------------------------------------------------------------------------


class NoBodySerializer(StrictSerializer):
    """open, start and close take no fields; anything sent is refused rather than ignored."""


class AssignSerializer(StrictSerializer):
    developer = serializers.IntegerField(help_text="Id of an active user with the DEVELOPER role.")


class FinishSerializer(StrictSerializer):
    resolution = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=DESCRIPTION_MAX_LENGTH
    )


class RejectSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=DESCRIPTION_MAX_LENGTH)


class ReopenSerializer(StrictSerializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=DESCRIPTION_MAX_LENGTH,
        help_text="What is still wrong, for the developer.")


ACTION_INPUTS: dict[str, type[serializers.Serializer]] = {
    Action.OPEN: NoBodySerializer,
    Action.ASSIGN: AssignSerializer,
    Action.START: NoBodySerializer,
    Action.FINISH: FinishSerializer,
    Action.CLOSE: NoBodySerializer,
    Action.REJECT: RejectSerializer,
    Action.REOPEN: ReopenSerializer,
}
