"""Ticket endpoints. Thin: parse input, call a service or selector, render the ticket."""
import re

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema,
                                   extend_schema_view)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounts.selectors import role_of
from Incident.errors import InvalidInput
from Incident.filters import FilterBackend
from Incident.pagination import TicketPagination
from Incident.prepared import Prepared, Rows
from Incident.schema import errors
from tickets import attachments, counts, selectors, services
from tickets.models import Ticket
from tickets.filters import TicketFilter, TicketSearchFilter
from tickets.transitions import Action
from tickets.serializers import (
    ACTION_INPUTS,
    COLUMNS,
    EVENT_COLUMNS,
    AttachmentInputSerializer,
    AttachmentSerializer,
    RatingSerializer,
    sla_of,
    attachment_shown,
    CommentInputSerializer,
    CommentSerializer,
    TicketDetailSerializer,
    TicketInputSerializer,
    TicketOutputSerializer,
    event_shown,
    shown,
)


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="Any unique string (a UUID) you choose per ticket. Sending the same key again "
    "within 24 hours returns the ticket it filed (201, header Idempotent-Replayed: true) instead "
    "of filing and notifying twice; with a different body it is a 422.",
)
# What a multipart body carries besides its file (boundaries, headers, the comment field): a body
# longer than the file limit and this is refused before a byte of it is read.
MULTIPART_OVERHEAD = 64 * 1024
KEY_FORM = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces
# Ticket lists in page-number mode, one plan per role and set of filters (Incident.prepared).
LISTS = Prepared()
PAGE_PARAMS = {TicketPagination.page_query_param, TicketPagination.page_size_query_param}


def idempotency_key(request) -> str:
    """The request's Idempotency-Key header, or "" when it has none."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return ""
    if not KEY_FORM.match(key):
        raise InvalidInput(
            "Idempotency-Key",
            "The Idempotency-Key header must be 1 to 255 printable ASCII characters without "
            "spaces, e.g. a UUID such as 3f2b8c1e-0d4a-4c55-9a7e-2b1f0c9d8e7a.",
        )
    return key


def _action_schema(action_name: Action, summary: str):
    return extend_schema(
        summary=summary,
        request=ACTION_INPUTS[action_name],
        responses={200: TicketDetailSerializer, **errors(400, 401, 403, 404, 409)},
    )


@extend_schema_view(
    list=extend_schema(summary="Tickets visible to you", responses={200: TicketOutputSerializer(many=True), **errors(400, 401, 404)}),
    retrieve=extend_schema(summary="A ticket with its history", responses={200: TicketDetailSerializer, **errors(401, 404)}),
    create=extend_schema(
        summary="File a ticket (CLIENT or ADMIN)",
        request=TicketInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: TicketDetailSerializer, **errors(400, 401, 403, 422)},
        examples=[OpenApiExample("New ticket", request_only=True, value={
            "title": "Login page not working", "description": "Users cannot login to the portal...",
            "priority": "HIGH", "category": "BUG", "project_name": "Web Portal"})],
    ),
    partial_update=extend_schema(
        summary="Edit a ticket's details",
        request=TicketInputSerializer,
        responses={200: TicketDetailSerializer, **errors(400, 401, 403, 404, 409)},
    ),
    open=_action_schema(Action.OPEN, "Open a NEW ticket (ADMIN)"),
    assign=_action_schema(Action.ASSIGN, "Assign a developer (ADMIN)"),
    start=_action_schema(Action.START, "Start work (the assigned developer)"),
    finish=_action_schema(Action.FINISH, "Finish work (the assigned developer)"),
    close=_action_schema(Action.CLOSE, "Close a FINISHED ticket (ADMIN or the ticket's client)"),
    reject=_action_schema(Action.REJECT, "Reject a NEW or OPENED ticket with a reason (ADMIN)"),
    reopen=_action_schema(Action.REOPEN, "Not fixed: send a FINISHED ticket back to work (ADMIN or "
                          "the ticket's client)"),
)
class TicketViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """/api/tickets/: list, create, read, edit details, and one POST per lifecycle action.

    There is no DELETE (a ticket's history is the record) and no PUT (PATCH edits details).
    """

    http_method_names = ["get", "post", "patch", "head", "options"]
    serializer_class = TicketOutputSerializer
    filter_backends = [FilterBackend, TicketSearchFilter]
    filterset_class = TicketFilter
    pagination_class = TicketPagination
    search_fields = ["title", "description", "project_name"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return Ticket.objects.none()
        return self._visible(role_of(self.request.user), self.request.user.pk)

    def _visible(self, role: str | None, user_id: int):
        return selectors.tickets_list(
            role=role, user_id=user_id,
            by_priority="priority" in self.request.query_params.get("ordering", ""))

    def _listed(self, role: str | None, user_id: int):
        """The list this request asks for, filtered, searched and ordered, as rows of the output's
        columns (not model instances: a page of 50 made 150 of them)."""
        tickets = self.filter_queryset(self._visible(role, user_id))
        ranked = [name for name in ("priority_rank",) if name in tickets.query.annotations]
        return tickets.values(*COLUMNS, *ranked)

    def list(self, request, *args, **kwargs):
        role, params = role_of(request.user), request.query_params
        # A cursor is a position written into the SQL, and `sla` compares with the time now:
        # neither can be part of a precompiled list.
        if "cursor" in params or "sla" in params:
            rows = self._listed(role, request.user.pk)
        else:  # the same list, compiled once per role and what the request filters by
            shape = (role, tuple((name, tuple(values)) for name, values in sorted(params.lists())
                                 if name not in PAGE_PARAMS))
            rows = Rows(LISTS, shape, lambda shape, user_id: self._listed(role, user_id),
                        counted=TicketSearchFilter.ranks(params), user_id=request.user.pk).prepare()
        self.paginator.known_count = counts.known_count(request.user, params)
        page = self.paginate_queryset(rows)
        zone = timezone.get_current_timezone()
        return self.get_paginated_response(
            [shown(row, viewer_id=request.user.pk, role=role, zone=zone) for row in page])

    def get_serializer_class(self):
        if self.action == "retrieve":
            return TicketDetailSerializer
        return TicketOutputSerializer

    def get_object(self):
        return selectors.ticket_get(user=self.request.user, ticket_id=self.kwargs["pk"])

    def create(self, request):
        key = idempotency_key(request)
        serializer = TicketInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not key:
            ticket = services.ticket_create(client=request.user, **serializer.validated_data)
            return self._detail(ticket.pk, status.HTTP_201_CREATED)
        ticket, replayed = services.ticket_create_once(
            client=request.user, key=key, fields=serializer.validated_data
        )
        response = self._detail(ticket.pk, status.HTTP_201_CREATED)
        response["Idempotent-Replayed"] = "true" if replayed else "false"
        return response

    def partial_update(self, request, pk=None):
        ticket = selectors.ticket_get(user=request.user, ticket_id=pk)
        services.ensure_edit_allowed(ticket=ticket, actor=request.user)
        serializer = TicketInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.ticket_update(ticket_id=ticket.pk, actor=request.user, changes=serializer.validated_data)
        return self._detail(ticket.pk)

    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        return self._transition(request, pk, Action.OPEN)

    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        return self._transition(request, pk, Action.ASSIGN)

    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._transition(request, pk, Action.START)

    @action(detail=True, methods=["post"])
    def finish(self, request, pk=None):
        return self._transition(request, pk, Action.FINISH)

    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._transition(request, pk, Action.CLOSE)

    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._transition(request, pk, Action.REJECT)

    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._transition(request, pk, Action.REOPEN)

    @extend_schema(
        methods=["GET"], summary="A ticket's comments (internal notes only for staff)",
        responses={200: CommentSerializer(many=True), **errors(401, 404)})
    @extend_schema(
        methods=["POST"], summary="Comment on a ticket (its client, its developer or an admin)",
        request=CommentInputSerializer,
        responses={201: CommentSerializer, **errors(400, 401, 403, 404, 409)},
        examples=[OpenApiExample("Comment", request_only=True,
                                 value={"body": "Still broken after the update."})])
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def comments(self, request, pk=None):
        ticket = selectors.ticket_get(user=request.user, ticket_id=pk)
        if request.method == "GET":
            comments = selectors.comments_of(user=request.user, ticket=ticket)
            return Response([CommentSerializer().to_representation(c) for c in comments])
        serializer = CommentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = services.comment_add(ticket_id=ticket.pk, author=request.user,
                                       **serializer.validated_data)
        return Response(CommentSerializer().to_representation(comment),
                        status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rate the fix of a closed ticket (its client)",
        request=RatingSerializer,
        responses={200: TicketDetailSerializer, **errors(400, 401, 403, 404, 409)},
        examples=[OpenApiExample("Happy", request_only=True,
                                 value={"score": 3, "comment": "Fixed within the hour, thanks."})])
    @action(detail=True, methods=["post"])
    def rating(self, request, pk=None):
        ticket = selectors.ticket_get(user=request.user, ticket_id=pk)
        services.ensure_rating_allowed(ticket=ticket, actor=request.user)
        serializer = RatingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.ticket_rate(ticket_id=ticket.pk, actor=request.user,
                             score=serializer.validated_data.get("score"),
                             comment=serializer.validated_data["comment"])
        return self._detail(ticket.pk)

    @extend_schema(
        methods=["GET"], summary="A ticket's files (those of internal notes only for staff)",
        responses={200: AttachmentSerializer(many=True), **errors(401, 404)})
    @extend_schema(
        methods=["POST"], summary="Attach a file (anyone who may comment on the ticket)",
        description="multipart/form-data with `file` and, optionally, `comment` (the id of one of "
        "the ticket's comments). Limits: ATTACHMENT_MAX_BYTES (16 MB by default) and "
        "ATTACHMENT_TYPES, read from the file's content, not its name.",
        request={"multipart/form-data": AttachmentInputSerializer},
        responses={201: AttachmentSerializer, **errors(400, 401, 403, 404, 409, 413, 415)})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[],
            parser_classes=[MultiPartParser])
    def attachments(self, request, pk=None):
        if request.method == "GET":
            ticket = selectors.ticket_get(user=request.user, ticket_id=pk)
            files = attachments.attachments_of(user=request.user, ticket=ticket)
            zone = timezone.get_current_timezone()
            return Response([attachment_shown(f, zone) for f in files])
        # A ticket the caller may not see is a 404 before the upload is read; its announced length
        # is refused before the upload is read and spooled to disk.
        selectors.ticket_standing(user=request.user, ticket_id=pk)
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
        if announced > settings.ATTACHMENT_MAX_BYTES + MULTIPART_OVERHEAD:
            attachments.check_size(announced - MULTIPART_OVERHEAD)
        serializer = AttachmentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        # attachment_add checks who may see and attach (404, 403, 409) before storing anything.
        added = attachments.attachment_add(
            ticket_id=pk, author=request.user, file=upload, name=upload.name,
            size=upload.size, comment_id=serializer.validated_data.get("comment"))
        return Response(attachment_shown(added), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Download a file (whoever may see it)",
        responses={(200, "application/octet-stream"): OpenApiResponse(
            OpenApiTypes.BINARY, "The file, with its content type and its name in "
            "Content-Disposition."), **errors(401, 404, 503)})
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_id>\d+)/download",
            pagination_class=None, filter_backends=[])
    def download(self, request, pk=None, attachment_id=None):
        found = attachments.attachment_get(user=request.user, ticket_id=pk,
                                           attachment_id=int(attachment_id))
        return attachments.streamed(found)

    def perform_content_negotiation(self, request, force=False):
        # A download answers whatever the client accepts (a browser, `Accept: image/png`); its
        # errors are still JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "download")

    def _transition(self, request, pk, action_name: Action) -> Response:
        ticket = selectors.ticket_get(user=request.user, ticket_id=pk)
        # Refuse a move that is not the caller's, or not possible now, before judging its body:
        # "you may not reject" helps more than "reason is required". The service checks again
        # under the row lock.
        services.ensure_action_allowed(ticket=ticket, actor=request.user, action=action_name)
        serializer = ACTION_INPUTS[action_name](data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.ticket_transition(
            ticket_id=ticket.pk,
            actor=request.user,
            action=action_name,
            developer_id=data.get("developer"),
            resolution=data.get("resolution", ""),
            reason=data.get("reason", ""),
        )
        return self._detail(ticket.pk)

    def retrieve(self, request, *args, **kwargs):
        return self._detail(kwargs["pk"])

    def _detail(self, ticket_id: int, code: int = status.HTTP_200_OK) -> Response:
        # Rows of the output's columns, as the list reads them (TicketDetailSerializer's shape).
        user, zone = self.request.user, timezone.get_current_timezone()
        row, events = selectors.ticket_values(user=user, ticket_id=ticket_id, columns=COLUMNS,
                                              event_columns=EVENT_COLUMNS)
        shown_row = shown(row, viewer_id=user.pk, role=role_of(user), zone=zone)
        shown_row["sla"] = sla_of([row["id"]], role=role_of(user), zone=zone)[row["id"]]
        # Read only when there are some: most tickets have none, and a create reads this page.
        files = attachments.attachments_of(user=user, ticket=Ticket(pk=row["id"])) if (
            shown_row["attachment_count"]) else []
        return Response({**shown_row, "events": [event_shown(e, zone) for e in events],
                         "attachments": [attachment_shown(f, zone) for f in files]}, status=code)
