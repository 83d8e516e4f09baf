"""Domain errors and the one place they become HTTP responses.

Services raise these typed errors; `api_exception_handler` turns them (and Django's own errors)
into JSON a person can act on, so no view carries its own error formatting.
"""
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views import defaults
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


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self) -> None:
        super().__init__(
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes. "
            "Shorten the long text fields."
        )


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(exc.as_body(), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        # Django's own refusal of an oversized body, raised when DRF reads request.body.
        exc = PayloadTooLarge()
    if isinstance(exc, DjangoValidationError):
        # A model-level rule that slipped past the serializer: still a 400, never a 500.
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    return drf_exception_handler(exc, context)


def not_found(request, exception=None):
    """404 for URLs no view matches: JSON under /api/, Django's page elsewhere (the admin)."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": f"No endpoint at {request.path}.", "code": "not_found"}, status=404
        )
    return defaults.page_not_found(request, exception)


def server_error(request):
    """500 as JSON under /api/, so an API client never has to read an HTML error page."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "Internal server error; it has been logged.", "code": "server_error"},
            status=500,
        )
    return defaults.server_error(request)
