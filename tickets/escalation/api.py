"""/api/escalations/chains/, /api/oncall/rotations/, GET /api/oncall/ (admins only, the admin's
own rules) and POST /api/tickets/{id}/acknowledge/ (admins and the assigned developer)."""
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdminRole
from Incident.errors import InUse
from Incident.schema import errors, set_up_endpoints
from Incident.serializers import (LocalTimeField, NestedListsMixin, StrictModelSerializer,
                                  model_rules)
from tickets import selectors
from tickets.escalation import oncall, runs
from tickets.escalation.runs import STAFF
from tickets.escalation.models import (MAX_REPEAT, Chain, Override, Rotation, RotationMember,
                                       Step, Target)

User = get_user_model()


class StaffField(serializers.PrimaryKeyRelatedField):
    """A user id; only staff (admins and developers) are paged or on call."""

    default_error_messages = {"client": "User {pk} is a client: only admins and developers are "
                              "paged or on call."}

    def __init__(self, **kwargs):
        super().__init__(queryset=User.objects.select_related("profile"), **kwargs)

    def to_internal_value(self, data):
        user = super().to_internal_value(data)
        if getattr(getattr(user, "profile", None), "role", None) not in STAFF:
            self.fail("client", pk=user.pk)
        return user


class StaffList(serializers.ListField):
    """User ids, written as a list; read from a step's users or a rotation's members, in order."""

    def __init__(self, **kwargs):
        super().__init__(child=StaffField(), **kwargs)

    def to_representation(self, people):
        found = people.all()
        # A rotation's members come in shift order; a step's users are a set: by id, so the
        # answer is the same on every database.
        found = found if found.ordered else found.order_by("pk")
        return [getattr(person, "user_id", person.pk) for person in found]


class StepSerializer(StrictModelSerializer):
    users = StaffList(required=False, default=list, help_text="For target USERS: who is paged.")

    class Meta:
        model = Step
        fields = ("wait_minutes", "target", "role", "users", "rotation")

    def validate(self, data):
        people = data.get("users", [])
        model_rules(Step(**{key: value for key, value in data.items() if key != "users"}))
        if data["target"] == Target.USERS and not people:
            raise serializers.ValidationError({"users": "Name at least one user to page."})
        return data


class ChainSerializer(NestedListsMixin, StrictModelSerializer):
    """A chain with its steps, in order; sending `steps` replaces the whole list."""

    steps = StepSerializer(many=True, required=False)
    repeat = serializers.IntegerField(min_value=0, max_value=MAX_REPEAT, required=False,
                                      help_text="Times to start again from the first step.")

    class Meta:
        model = Chain
        fields = ("id", "name", "repeat", "on_high_filed", "steps")

    @transaction.atomic
    def create(self, data):
        steps = data.pop("steps", [])
        chain = Chain.objects.create(**data)
        self._replace(chain, steps)
        return chain

    @transaction.atomic
    def update(self, chain, data):
        steps = data.pop("steps", None)
        chain = super().update(chain, data)
        self._replace(chain, steps)
        return chain

    @staticmethod
    def _replace(chain: Chain, steps) -> None:
        if steps is None:
            return
        chain.steps.all().delete()
        for position, fields in enumerate(steps):
            people = fields.pop("users", [])
            step = Step.objects.create(chain=chain, position=position, **fields)
            step.users.set(people)


class OverrideSerializer(StrictModelSerializer):
    user = StaffField()

    class Meta:
        model = Override
        fields = ("user", "starts_at", "ends_at")

    def validate(self, data):
        model_rules(Override(**data))
        return data


class RotationSerializer(NestedListsMixin, StrictModelSerializer):
    """A rotation with its members (in order) and overrides; sending either replaces the list."""

    members = StaffList(required=False, help_text="User ids in shift order.")
    handoff_time = LocalTimeField(required=False, help_text="Local time of every hand-off.")
    overrides = OverrideSerializer(many=True, required=False)

    class Meta:
        model = Rotation
        fields = ("id", "name", "time_zone", "shift_hours", "starts_on", "handoff_time", "members",
                  "overrides")

    def validate_members(self, members):
        if len({user.pk for user in members}) != len(members):
            raise serializers.ValidationError("Each member may be listed once.")
        return members

    @transaction.atomic
    def create(self, data):
        members, overrides = data.pop("members", []), data.pop("overrides", [])
        rotation = Rotation.objects.create(**data)
        self._replace(rotation, members, overrides)
        return rotation

    @transaction.atomic
    def update(self, rotation, data):
        members, overrides = data.pop("members", None), data.pop("overrides", None)
        rotation = super().update(rotation, data)
        self._replace(rotation, members, overrides)
        return rotation

    @staticmethod
    def _replace(rotation: Rotation, members, overrides) -> None:
        if members is not None:
            rotation.members.all().delete()
            RotationMember.objects.bulk_create(
                RotationMember(rotation=rotation, user=user, position=position)
                for position, user in enumerate(members))
        if overrides is not None:
            rotation.overrides.all().delete()
            Override.objects.bulk_create(Override(rotation=rotation, **fields)
                                         for fields in overrides)


@set_up_endpoints("escalation chain", ChainSerializer, listed="Escalation chains (admins)",
                  deleted="Delete an escalation chain no policy or run uses")
class ChainViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAdminRole]
    serializer_class = ChainSerializer
    queryset = Chain.objects.prefetch_related("steps__users").order_by("name")

    def perform_destroy(self, chain) -> None:
        try:
            chain.delete()
        except ProtectedError as exc:
            raise InUse("Policies or escalation runs use this chain: give the policies another "
                        "chain, or none, first; a chain that has paged stays for the history."
                        ) from exc


@set_up_endpoints("rotation", RotationSerializer, listed="On-call rotations (admins)",
                  deleted="Delete a rotation no escalation step uses")
class RotationViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAdminRole]
    serializer_class = RotationSerializer
    queryset = Rotation.objects.prefetch_related("members", "overrides").order_by("name")

    def perform_destroy(self, rotation) -> None:
        try:
            rotation.delete()
        except ProtectedError as exc:
            raise InUse("Escalation steps page this rotation's on-call person: change those "
                        "steps first.") from exc


Person = inline_serializer("OnCallPerson", {
    "user": serializers.IntegerField(allow_null=True),
    "username": serializers.CharField(allow_null=True),
    "from": serializers.DateTimeField(allow_null=True),
    "until": serializers.DateTimeField(allow_null=True),
    "override": serializers.BooleanField(),
})


def _shift(shift) -> dict | None:
    if shift is None:
        return None
    user = shift.user
    return {"user": user.pk if user else None, "username": user.get_username() if user else None,
            "from": shift.starts_at, "until": shift.ends_at, "override": shift.override}


class OnCallView(APIView):
    """GET /api/oncall/: who is on call now and next, per rotation."""

    permission_classes = [IsAdminRole]

    @extend_schema(summary="Who is on call now and next, per rotation (admins)", responses={
        200: inline_serializer("OnCall", {
            "rotation": serializers.IntegerField(), "name": serializers.CharField(),
            "now": Person, "next": Person}, many=True), **errors(401, 403)})
    def get(self, request):
        now, found = timezone.now(), []
        for rotation in Rotation.objects.prefetch_related("members__user").order_by("name"):
            current = oncall.on_call(rotation, now)
            found.append({"rotation": rotation.pk, "name": rotation.name, "now": _shift(current),
                          "next": _shift(oncall.next_after(rotation, current))})
        return Response(_stamped(found))


def _stamped(rows: list[dict]) -> list[dict]:
    """Times written as the rest of the API writes them."""
    field = serializers.DateTimeField()
    for row in rows:
        for shift in (row["now"], row["next"]):
            for when in ("from", "until"):
                if shift and shift[when]:
                    shift[when] = field.to_representation(shift[when])
    return rows


class AcknowledgeView(APIView):
    """POST /api/tickets/{id}/acknowledge/: stop the ticket's paging; the others paged are told
    who took it."""

    @extend_schema(summary="Acknowledge a ticket's pages (admins and the assigned developer)",
                   request=None, responses={200: inline_serializer("Acknowledged", {
                       "ticket": serializers.IntegerField(),
                       "acknowledged_by": serializers.CharField(),
                       "runs": serializers.ListField(child=serializers.IntegerField())}),
                       **errors(401, 403, 404, 409)})
    def post(self, request, pk: int):
        ticket = selectors.ticket_get(user=request.user, ticket_id=pk)
        ended = runs.acknowledge(ticket_id=ticket.pk, actor=request.user)
        return Response({"ticket": ticket.pk, "acknowledged_by": request.user.get_username(),
                         "runs": [run.pk for run in ended]})
