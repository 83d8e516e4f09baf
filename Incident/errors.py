"""Domain errors and the one place they become HTTP responses.

Services raise these typed errors; `api_exception_handler` turns them (and Django's own errors)
into JSON a person can act on, so no view carries its own error formatting.
"""
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApplicationError(Exception):
    """A refusal that the caller can understand and act on."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def as_body(self) -> dict[str, Any]:
        return {"detail": self.detail, "code": self.code, **self.extra}


class InvalidInput(ApplicationError):
    """One input field is wrong; rendered like a serializer error: {field: [message]}."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field

    def as_body(self) -> dict[str, Any]:
        return {self.field: [self.detail]}


class Forbidden(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "forbidden"


class Conflict(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class InUse(Conflict):
    """Set-up another record still needs (a calendar a policy names): change that one first."""

    code = "in_use"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self) -> None:
        super().__init__(
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes. "
            "Shorten the long text fields."
        )


# The URL name of the /api/ catch-all (Incident.urls), so middleware can tell "no endpoint".
API_NOT_FOUND = "api-not-found"


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(exc.as_body(), status=exc.status_code)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        media_type = context["request"].content_type or "none"
        exc = exceptions.UnsupportedMediaType(media_type, detail=_wrong_body(context, media_type))
    if isinstance(exc, RequestDataTooBig):
        # Django's own refusal of an oversized body, raised when DRF reads request.body.
        exc = PayloadTooLarge()
    if isinstance(exc, Http404):
        # A selector's "no such ticket": DRF's own 404, so it carries a code like every error.
        exc = exceptions.NotFound(str(exc) or None)
    if isinstance(exc, DjangoValidationError):
        # A model-level rule that slipped past the serializer: still a 400, never a 500.
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        _add_code(response, exc)
    return response


def _wrong_body(context: dict, media_type: str) -> str:
    view = context.get("view")
    accepted = [parser.media_type for parser in getattr(view, "parser_classes", ())]
    if accepted == ["multipart/form-data"]:
        return (f"This endpoint takes a file upload (multipart/form-data), and the request's "
                f"Content-Type is {media_type}. Send the file as the form field `file` (curl -F "
                "file=@screenshot.png; Postman: Body → form-data, a key `file` of type File).")
    return (f"This API reads JSON bodies only, and the request's Content-Type is {media_type}. "
            "Send the body as JSON with the header Content-Type: application/json.")


def _add_code(response: Response, exc: exceptions.APIException) -> None:
    """Give every {"detail": ...} body the machine-readable code README promises.

    Field errors ({field: [...]}) stay as they are: their keys already say what is wrong.
    """
    data = response.data
    if isinstance(data, dict) and "detail" in data and "code" not in data:
        codes = exc.get_codes()
        code = codes.get("code") if isinstance(codes, dict) else codes
        if isinstance(code, str):
            data["code"] = code


@csrf_exempt  # a 404 changes nothing; without this an unknown PATCH would get the CSRF page
def api_not_found(request, path: str = ""):
    """Every /api/ URL that no endpoint matches, with DEBUG on or off: a short JSON 404."""
    return JsonResponse(
        {"detail": f"No endpoint at {request.path}. The endpoints are listed at /api/docs/.",
         "code": "not_found"},
        status=404,
    )


def not_found(request, exception=None):
    """404 for URLs no view matches: JSON under /api/, Django's page elsewhere (the admin)."""
    if request.path.startswith("/api/"):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """500 as JSON under /api/, so an API client never has to read an HTML error page."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "Internal server error; it has been logged.", "code": "server_error"},
            status=500,
        )
    return defaults.server_error(request)
