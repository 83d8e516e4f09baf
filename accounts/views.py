"""Account endpoints: the caller's own details, and the user list admins assign from."""
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.filters import UserFilter
from accounts.permissions import IsAdminRole
from accounts.serializers import AdminUserOutputSerializer, MeOutputSerializer, MeUpdateSerializer
from Incident.schema import errors


class MeView(APIView):
    """GET and PATCH /api/auth/me/."""

    @extend_schema(responses={200: MeOutputSerializer, **errors(401)})
    def get(self, request):
        return Response(MeOutputSerializer(request.user).data)

    @extend_schema(request=MeUpdateSerializer, responses={200: MeOutputSerializer, **errors(400, 401)})
    def patch(self, request):
        serializer = MeUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update_own_details(user=request.user, data=serializer.validated_data)
        return Response(MeOutputSerializer(user).data)


@extend_schema(responses={200: AdminUserOutputSerializer(many=True), **errors(400, 401, 403, 404)})
class UserListView(generics.ListAPIView):
    """GET /api/users/ (admins only), e.g. `?role=DEVELOPER` to find whom to assign."""

    permission_classes = [IsAdminRole]
    serializer_class = AdminUserOutputSerializer
    filterset_class = UserFilter

    def get_queryset(self):
        return selectors.users_list()
