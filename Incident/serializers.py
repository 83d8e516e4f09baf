"""Serializer habits shared by every API: refuse fields that would be ignored, explain choices."""
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class ExplainedChoiceField(serializers.ChoiceField):
    """A ChoiceField whose error lists the allowed values, so the caller can fix the request."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = ", ".join(str(key) for key in self.choices)
        self.error_messages["invalid_choice"] = f'"{{input}}" is not a valid choice. Allowed: {allowed}.'


class StrictSerializerMixin:
    """Answer 400 for keys the serializer would otherwise drop without a word.

    A client that sends `status` or a misspelt field should learn that nothing happened to it.
    `read_only_hints` maps a field name to the explanation given when it is sent.
    """

    read_only_hints: dict[str, str] = {}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            errors = {}
            for key in data:
                if key in writable:
                    continue
                if key in self.read_only_hints:
                    errors[key] = [self.read_only_hints[key]]
                elif key in self.fields:
                    errors[key] = ["This field is read-only."]
                else:
                    allowed = ", ".join(sorted(writable)) or "none"
                    errors[key] = [f"Unknown field. Writable fields: {allowed}."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictModelSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    serializer_choice_field = ExplainedChoiceField


class StrictSerializer(StrictSerializerMixin, serializers.Serializer):
    pass


class NestedListsMixin:
    """Every 400 of the API is {field: [sentences]}: a nested list's problems are written out
    with the item they are about ("item 2, end: ...")."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(
                {field: _sentences(problems) for field, problems in exc.detail.items()}) from exc


def _sentences(problems, where: str = "") -> list[str]:
    if isinstance(problems, dict):  # a field's problems, or a list's by position ({1: ...})
        return [sentence for key, inner in problems.items()
                for sentence in _sentences(inner, f"{where}item {int(key) + 1}, "
                                           if str(key).isdigit() else f"{where}{key}: ")]
    if isinstance(problems, list) and problems and not all(isinstance(p, str) for p in problems):
        return [sentence for index, inner in enumerate(problems) if inner
                for sentence in _sentences(inner, f"{where}item {index + 1}, ")]
    if isinstance(problems, list):
        return [f"{where}{problem}" for problem in problems]
    return [f"{where}{problems}"]


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$",
                      "example": "09:00"})
class LocalTimeField(serializers.TimeField):
    """A wall-clock time in a zone named elsewhere (a calendar's, a rotation's): no offset, so
    not OpenAPI's `time` format, which demands one."""


def model_rules(instance) -> None:
    """The admin's own rule for `instance` (its model's clean()), as the API's 400."""
    try:
        instance.clean()
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.message_dict) from exc
