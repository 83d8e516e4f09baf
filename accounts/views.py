"""Account endpoints: the caller's own details, and the user list admins assign from."""
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.filters import UserFilter
from accounts.permissions import IsAdminRole
from accounts.serializers import AdminUserOutputSerializer, MeUpdateSerializer, UserOutputSerializer


class MeView(APIView):
    """GET and PATCH /api/auth/me/."""

    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)

    def patch(self, request):
        serializer = MeUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update_own_details(user=request.user, data=serializer.validated_data)
        return Response(UserOutputSerializer(user).data)


class UserListView(generics.ListAPIView):
    """GET /api/users/ (admins only), e.g. `?role=DEVELOPER` to find whom to assign."""

    permission_classes = [IsAdminRole]
    serializer_class = AdminUserOutputSerializer
    filterset_class = UserFilter

    def get_queryset(self):
        return selectors.users_list()
