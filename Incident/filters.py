"""django-filter helpers shared by the list endpoints."""
import django_filters
from django import forms


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
