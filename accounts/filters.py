"""Filters for the admin's user list."""
import django_filters

from accounts.models import Role
from Incident.filters import explained_choice_filter


class UserFilter(django_filters.FilterSet):
    role = explained_choice_filter("profile__role", Role.choices)
    is_active = django_filters.BooleanFilter()
