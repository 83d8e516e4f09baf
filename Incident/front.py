"""The front page at `/`: what this service is and where its doors are; JSON for API clients."""
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape

LINKS = (
    ("admin", "/admin/", "Django admin: tickets, users and their WhatsApp numbers, the "
                         "notification log and its insights"),
    ("api_docs", "/api/docs/", "The REST API, browsable (Swagger UI); the schema is at /api/schema/"),
    ("health", "/healthz", "Health: the database and, when configured, the cache and the broker"),
)
# Doors an app adds (name, URL, what it is, whether it is open now): the WhatsApp simulator.
_added: list[tuple[str, str, str, Callable[[], bool]]] = []


def add_link(name: str, url: str, text: str, *, when: Callable[[], bool]) -> None:
    _added.append((name, url, text, when))


def links() -> list[tuple[str, str, str]]:
    return [*LINKS, *[(name, url, text) for name, url, text, when in _added if when()]]


ABOUT = ("Incident management: clients file tickets through the REST API, staff move them from "
         "NEW to CLOSED, and every change tells the right people on WhatsApp.")


def front_page(request: HttpRequest) -> HttpResponse:
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"service": "incident", "about": ABOUT,
                             "links": {name: request.build_absolute_uri(url)
                                       for name, url, _ in links()}})
    items = "".join(f'<li><a href="{url}">{escape(url)}</a>: {escape(text)}</li>'
                    for _, url, text in links())
    return HttpResponse(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>Incident</title></head><body style=\"font-family: sans-serif; max-width: 44em; "
        f"margin: 2em auto; line-height: 1.5\"><h1>Incident</h1><p>{escape(ABOUT)}</p>"
        f"<ul>{items}</ul><p>Get a token with <code>POST /api/auth/token/</code> "
        "(username and password), then send it as <code>Authorization: Bearer …</code>.</p>"
        "</body></html>")
