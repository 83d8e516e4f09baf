"""DRF permission classes built on the user's role."""
from rest_framework.permissions import BasePermission

from accounts.models import Role
from accounts.selectors import role_of


class IsAdminRole(BasePermission):
    message = "Only users with the ADMIN role may do this."

    def has_permission(self, request, view) -> bool:
        return role_of(request.user) == Role.ADMIN
