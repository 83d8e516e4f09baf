"""django-filter helpers shared by the list endpoints."""
import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend


class FilterBackend(DjangoFilterBackend):
    """django-filter deep-copies every filter of the set for each request; a request that names
    none of them (most list pages) gets the list as it is without that work."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not request.query_params.keys() & filterset_class.base_filters:
            return queryset
        return super().filter_queryset(request, queryset, view)


def explained_choice_filter(field_name: str, choices) -> django_filters.ChoiceFilter:
    """A ChoiceFilter whose 400 lists the allowed values instead of only refusing the input."""
    allowed = ", ".join(value for value, _ in choices)
    return django_filters.ChoiceFilter(
        field_name=field_name,
        choices=choices,
        error_messages={
            "invalid_choice": f"%(value)s is not one of the allowed values: {allowed}."
        },
    )


# The largest primary key SQLite and PostgreSQL (bigint) store: a bigger number would reach the
# database and fail there, as a 500, instead of being refused here.
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number from 1 to MAX_ID, else a 400 that names the filter."""

    field_class = forms.IntegerField

    def __init__(self, field_name: str, **kwargs) -> None:
        super().__init__(field_name=field_name, min_value=1, max_value=MAX_ID, **kwargs)
