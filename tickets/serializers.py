"""API shapes for tickets: input serializers validate, output serializers render."""
from django.utils import timezone
from rest_framework import serializers

from accounts.models import Role
from accounts.selectors import role_of
from accounts.serializers import UserSummarySerializer, person, user_summary
from Incident.serializers import ExplainedChoiceField, StrictModelSerializer, StrictSerializer
from tickets import transitions
from tickets.attachments import counted
from tickets.transitions import Action
from tickets.models import Attachment, Satisfaction, Ticket, TicketEvent, TicketStatus
from tickets.selectors import allowed_actions_for, may_comment
from tickets.sla import clocks

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
                           "can_comment", "events", "attachment_count", "attachments")


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
    actor = UserSummarySerializer(allow_null=True, help_text="null for what time did (a "
                                  "service-level clock breached).")

    class Meta:
        model = TicketEvent
        fields = ("id", "event", "from_status", "to_status", "actor", "note", "source", "internal",
                  "created_at")

    def to_representation(self, event: TicketEvent) -> dict:
        return event_shown(event_columns_of(event))


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
        help_text="Admins and the ticket's developer only: a note for staff that the client "
        "never sees, by any channel.")


class TicketOutputSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display")
    client = UserSummarySerializer()
    assigned_developer = UserSummarySerializer(allow_null=True)
    allowed_actions = serializers.SerializerMethodField()
    can_comment = serializers.SerializerMethodField()
    attachment_count = serializers.SerializerMethodField(
        help_text="Files on the ticket you may see (GET /api/tickets/{id}/attachments/).")
    satisfaction = serializers.SerializerMethodField(
        help_text="The client's rating of the fix once closed: {score: 1-3, label, comment, "
        "rated_at}, or null.")

    class Meta:
        model = Ticket
        fields = (
            "id", "title", "description", "priority", "category", "project_name", "status",
            "status_display", "client", "assigned_developer", "resolution", "rejection_reason",
            "created_at", "updated_at", "allowed_actions", "can_comment", "attachment_count",
            "satisfaction",
        )

    def get_allowed_actions(self, ticket: Ticket) -> list[str]:
        return allowed_actions_for(user=self.context["request"].user, ticket=ticket)

    def get_can_comment(self, ticket: Ticket) -> bool:
        """Whether the caller may POST /api/tickets/{id}/comments/ now."""
        return may_comment(user=self.context["request"].user, ticket=ticket)

    def get_attachment_count(self, ticket: Ticket) -> int:
        return counted(columns_of(ticket), role=role_of(self.context["request"].user))

    def get_satisfaction(self, ticket: Ticket) -> dict | None:
        return rating(columns_of(ticket))

    def to_representation(self, ticket: Ticket) -> dict:
        # Built by hand, the same fields as declared above (the schema reads those): a list page
        # spent half its time in DRF's per-field machinery (tests compare the two paths).
        viewer = self.context["request"].user
        return shown(columns_of(ticket), viewer_id=viewer.pk, role=role_of(viewer))


# A ticket's output as columns, named as .values() names them: a list page reads exactly these
# rows (no model instances), a single ticket is turned into the same mapping, and `shown` makes
# the output of either.
PERSON = ("username", "first_name", "last_name")
OWN_COLUMNS = ("id", "title", "description", "priority", "category", "project_name", "status",
               "resolution", "rejection_reason", "created_at", "updated_at", "client_id",
               "assigned_developer_id", "attachment_count", "internal_attachment_count",
               "satisfaction", "satisfaction_comment", "rated_at")
COLUMNS = (*OWN_COLUMNS, *(f"{who}__{field}" for who in ("client", "assigned_developer")
                           for field in PERSON))


def columns_of(ticket: Ticket) -> dict:
    row = {name: getattr(ticket, name) for name in OWN_COLUMNS}
    for who in ("client", "assigned_developer"):
        user = getattr(ticket, who)
        row.update({f"{who}__{field}": getattr(user, field) if user else None for field in PERSON})
    return row


def shown(row, *, viewer_id: int, role: str | None, zone=None) -> dict:
    """The output of one ticket (`COLUMNS`) for the viewer, whose role (and time zone, `zone`)
    a page reads once."""
    zone = zone or timezone.get_current_timezone()
    status, developer = row["status"], row["assigned_developer_id"]
    who = transitions.parties(role=role, user_id=viewer_id, client_id=row["client_id"],
                              developer_id=developer)
    return {
        "id": row["id"], "title": row["title"], "description": row["description"],
        "priority": row["priority"], "category": row["category"],
        "project_name": row["project_name"], "status": status,
        "status_display": STATUS_LABELS[status],
        "client": person(row["client_id"], row["client__username"], row["client__first_name"],
                         row["client__last_name"]),
        "assigned_developer": None if developer is None else person(
            developer, row["assigned_developer__username"],
            row["assigned_developer__first_name"], row["assigned_developer__last_name"]),
        "resolution": row["resolution"], "rejection_reason": row["rejection_reason"],
        "created_at": timestamp(row["created_at"], zone),
        "updated_at": timestamp(row["updated_at"], zone),
        "allowed_actions": transitions.allowed_actions(status, who),
        "can_comment": transitions.may_comment(status, who),
        "attachment_count": counted(row, role=role),
        "satisfaction": rating(row, zone),
    }


def sla_of(ticket_ids: list[int], *, role: str | None, zone=None) -> dict[int, list[dict]]:
    """The tickets' service-level clocks for staff (one query); none for clients."""
    if role not in (Role.ADMIN, Role.DEVELOPER) or not ticket_ids:
        return {pk: [] for pk in ticket_ids}
    return clocks.shown(ticket_ids, now=timezone.now(), stamp=lambda at: timestamp(at, zone))


def rating(row, zone=None) -> dict | None:
    score = row["satisfaction"]
    if score is None:
        return None
    return {"score": score, "label": Satisfaction(score).label,
            "comment": row["satisfaction_comment"], "rated_at": timestamp(row["rated_at"], zone)}


class AttachmentSerializer(serializers.ModelSerializer):
    """A file on a ticket; `download_url` streams it to whoever may see it (never a public URL)."""

    uploaded_by = UserSummarySerializer()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ("id", "name", "size", "content_type", "comment", "internal", "source",
                  "uploaded_by", "created_at", "download_url")

    def get_download_url(self, attachment: Attachment) -> str:
        return download_path(attachment.ticket_id, attachment.pk)

    def to_representation(self, attachment: Attachment) -> dict:
        return attachment_shown(attachment)


def attachment_shown(attachment: Attachment, zone=None) -> dict:
    return {"id": attachment.pk, "name": attachment.name, "size": attachment.size,
            "content_type": attachment.content_type, "comment": attachment.comment_id,
            "internal": attachment.internal, "source": attachment.source,
            "uploaded_by": user_summary(attachment.uploaded_by),
            "created_at": timestamp(attachment.created_at, zone),
            "download_url": download_path(attachment.ticket_id, attachment.pk)}


def download_path(ticket_id: int, attachment_id: int) -> str:
    return f"/api/tickets/{ticket_id}/attachments/{attachment_id}/download/"


class AttachmentInputSerializer(StrictSerializer):
    """Body of POST /api/tickets/{id}/attachments/ (multipart/form-data)."""

    file = serializers.FileField(help_text="The file; its type is read from its content.")
    comment = serializers.IntegerField(
        required=False, help_text="The id of one of the ticket's comments the file belongs to; "
        "a file of an internal note is internal too.")


class TicketDetailSerializer(TicketOutputSerializer):
    events = TicketEventSerializer(many=True)
    attachments = AttachmentSerializer(many=True)
    sla = serializers.SerializerMethodField(
        help_text="Staff only (clients get []): the service-level clocks, each {metric, state, "
        "policy, target_minutes, due_at, seconds_left, at_risk, met_at, breached_at}.")

    class Meta(TicketOutputSerializer.Meta):
        fields = (*TicketOutputSerializer.Meta.fields, "events", "attachments", "sla")

    def get_sla(self, ticket: Ticket) -> list[dict]:
        return sla_of([ticket.pk], role=role_of(self.context["request"].user))[ticket.pk]

    def to_representation(self, ticket: Ticket) -> dict:
        return {**super().to_representation(ticket), "sla": self.get_sla(ticket),
                "events": [event_shown(event_columns_of(event)) for event in ticket.events.all()],
                "attachments": [attachment_shown(a) for a in ticket.attachments.all()]}


# A history row's output as columns, the same way: a ticket's page reads exactly these.
EVENT_COLUMNS = ("id", "event", "from_status", "to_status", "note", "source", "internal",
                 "created_at", "actor_id", *(f"actor__{field}" for field in PERSON))


def event_columns_of(event: TicketEvent) -> dict:
    row = {name: getattr(event, name) for name in EVENT_COLUMNS[:-len(PERSON)]}
    row.update({f"actor__{field}": getattr(event.actor, field, None) for field in PERSON})
    return row


def event_shown(row, zone=None) -> dict:
    return {"id": row["id"], "event": row["event"], "from_status": row["from_status"],
            "to_status": row["to_status"],
            "actor": person(row["actor_id"], *(row[f"actor__{f}"] for f in PERSON))
            if row["actor_id"] else None,
            "note": row["note"], "source": row["source"], "internal": row["internal"],
            "created_at": timestamp(row["created_at"], zone)}


def timestamp(value, zone=None) -> str | None:
    """A datetime as every other field of the API writes it (DRF's ISO 8601 form: in the current
    time zone, or `zone`, UTC written as Z), without a DRF field's machinery for every value."""
    if value is None:
        return None
    written = value.astimezone(zone or timezone.get_current_timezone()).isoformat()
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


class RatingSerializer(StrictSerializer):
    """Body of POST /api/tickets/{id}/rating/."""

    score = ExplainedChoiceField(
        choices=Satisfaction.choices, required=False,
        help_text="1 (😞), 2 (😐) or 3 (😀). Rating again replaces the score.")
    comment = serializers.CharField(required=False, allow_blank=True, default="",
                                    max_length=DESCRIPTION_MAX_LENGTH,
                                    help_text="What you want to add; kept with the rating.")

    def validate(self, data):
        if "score" not in data and not data.get("comment"):
            raise serializers.ValidationError({"score": ["Send a score (1, 2 or 3), a comment, "
                                                         "or both."]})
        return data


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
