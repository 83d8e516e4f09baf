"""OpenAPI descriptions of the error bodies every endpoint may answer with (see Incident.errors)."""
from drf_spectacular.utils import (OpenApiExample, OpenApiResponse, extend_schema,
                                   extend_schema_view, inline_serializer)
from rest_framework import serializers

Error = inline_serializer("Error", {
    "detail": serializers.CharField(),
    "code": serializers.CharField(required=False),
})
Conflict = inline_serializer("Conflict", {
    "detail": serializers.CharField(),
    "code": serializers.CharField(),
    "status": serializers.CharField(),
    "allowed_actions": serializers.ListField(child=serializers.CharField()),
})
KeyReused = inline_serializer("IdempotencyKeyReused", {
    "detail": serializers.CharField(),
    "code": serializers.CharField(),
    "ticket": serializers.IntegerField(help_text="The ticket the key filed."),
})
# {"priority": ["..."], "title": ["..."]}, or {"detail": "...", "code": "..."} for the request as a
# whole (malformed JSON, a bad filter): any keys, each a message or a list of them.
FieldErrors = {
    "type": "object",
    "description": "Each wrong field mapped to what is wrong with it, or `detail` and `code`.",
    "additionalProperties": {
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}],
    },
}

FileRefused = inline_serializer("FileRefused", {
    "detail": serializers.CharField(),
    "code": serializers.CharField(),
    "limit": serializers.IntegerField(required=False, help_text="413: the most bytes allowed."),
    "size": serializers.IntegerField(required=False, help_text="413: the file's bytes."),
    "allowed": serializers.ListField(child=serializers.CharField(), required=False,
                                     help_text="415: the allowed content types."),
    "content_type": serializers.CharField(required=False, allow_null=True,
                                          help_text="415: what the content is."),
})

_ERRORS = {
    400: OpenApiResponse(FieldErrors, "Malformed JSON, or missing or invalid fields (each named).",
                         examples=[OpenApiExample("Bad choice", value={"priority": [
                             '"URGENT" is not a valid choice. Allowed: LOW, MEDIUM, HIGH, CRITICAL.']})]),
    401: OpenApiResponse(Error, "No token, or an expired or invalid one."),
    403: OpenApiResponse(Error, "Visible to you, but not yours to do.",
                         examples=[OpenApiExample("Not yours", value={
                             "detail": "Only an admin can open this ticket.", "code": "action_not_permitted"})]),
    404: OpenApiResponse(Error, "No such ticket visible to you, or (in a list) a page past the end."),
    422: OpenApiResponse(KeyReused, "The Idempotency-Key was already used with a different body.",
                         examples=[OpenApiExample("Key reused", value={
                             "detail": "The Idempotency-Key 'k1' already filed ticket 7 with a "
                             "different body in the last 24 hours. Send a new key for a new ticket.",
                             "code": "idempotency_key_reused", "ticket": 7})]),
    429: OpenApiResponse(Error, "Too many attempts from your address; the Retry-After header says"
                         " how many seconds to wait."),
    413: OpenApiResponse(FileRefused, "The file is over the size limit, which the body names.",
                         examples=[OpenApiExample("Too large", value={
                             "detail": "The file is 20,000,000 bytes; files may be at most "
                             "16,777,216 bytes (16 MB, ATTACHMENT_MAX_BYTES).",
                             "code": "file_too_large", "size": 20000000, "limit": 16777216})]),
    415: OpenApiResponse(FileRefused, "The body is not of the type this endpoint reads, or the "
                         "file's content is not of an allowed type (the body lists them)."),
    503: OpenApiResponse(Error, "The file store could not give the file now; try again later."),
    409: OpenApiResponse(Conflict, "The current status does not allow it.",
                         examples=[OpenApiExample("Wrong status", value={
                             "detail": "Cannot open a ticket whose status is CLOSED.",
                             "code": "transition_not_allowed", "status": "CLOSED", "allowed_actions": []})]),
}


def errors(*codes: int) -> dict:
    """The documented error responses for these status codes."""
    return {code: _ERRORS[code] for code in codes}


def set_up_endpoints(noun: str, serializer, *, listed: str, deleted: str, in_use: bool = True):
    """The schema of an admins' set-up viewset (list, add, read, replace, change, delete):
    `listed` and `deleted` are those two operations' summaries; `in_use`: a delete may answer 409
    (something still uses it)."""
    return extend_schema_view(
        list=extend_schema(summary=listed, responses={
            200: serializer(many=True), **errors(401, 403, 404)}),
        create=extend_schema(summary=f"Add a {noun}", responses={
            201: serializer, **errors(400, 401, 403)}),
        retrieve=extend_schema(summary=f"A {noun}", responses={
            200: serializer, **errors(401, 403, 404)}),
        update=extend_schema(summary=f"Replace a {noun}", responses={
            200: serializer, **errors(400, 401, 403, 404)}),
        partial_update=extend_schema(summary=f"Change a {noun}", responses={
            200: serializer, **errors(400, 401, 403, 404)}),
        destroy=extend_schema(summary=deleted, responses={
            204: None, **errors(401, 403, 404, *((409,) if in_use else ()))}),
    )


def bearer_first(result: dict, generator, request, public) -> dict:
    """drf-spectacular sorts the security schemes by name, which put the admin's session cookie
    first in Swagger's Authorize dialog; the API's clients use the bearer token."""
    schemes = result.get("components", {}).get("securitySchemes")
    if schemes and "jwtAuth" in schemes:
        result["components"]["securitySchemes"] = {
            "jwtAuth": schemes["jwtAuth"], **{k: v for k, v in schemes.items() if k != "jwtAuth"}}
    return result
