"""django-filter helpers shared by the list endpoints."""
import django_filters


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
