"""Serve `/api/tickets` as `/api/tickets/` instead of redirecting to it.

Django's APPEND_SLASH answers a slash-less URL with a 301 (or, for a POST with DEBUG on, a 500
page), and HTTP clients follow a 301 as a GET: a client filing a ticket would list tickets
instead. API clients get the endpoint they meant, whatever the method.
"""
from django.urls import Resolver404, resolve

from Incident.errors import API_NOT_FOUND


def _endpoint(path: str) -> str | None:
    """The URL name `path` resolves to, or None when nothing (or only the /api/ catch-all) does."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return None if match.url_name == API_NOT_FOUND else match.url_name or match.view_name


class ApiTrailingSlashMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith("/api/") and not path.endswith("/"):
            if _endpoint(path) is None and _endpoint(path + "/") is not None:
                request.path_info = path + "/"
                request.path = request.path + "/"
        return self.get_response(request)
