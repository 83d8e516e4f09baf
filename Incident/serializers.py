"""Serializer habits shared by every API: refuse fields that would be ignored, explain choices."""
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
