"""Pagination for list endpoints: page numbers (20 a page, `?page_size=` up to 100, with an exact
`count`), and, for ticket lists, a cursor mode (`?cursor=`) whose cost does not grow with the depth
of the page or the size of the table: no COUNT, no OFFSET."""
from base64 import b64decode
from functools import partial

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.exceptions import NotFound

from Incident.errors import InvalidInput
from Incident.prepared import Rows, ends_with_id

MAX_PAGE_SIZE = 100


class FromNearerEnd(Paginator):
    """A page past the middle is read from the other end, in reverse order, and turned round:
    OFFSET costs every row it skips, so the last of a hundred thousand tickets' pages costs what
    the first does. Only for an order that ends with the id (no ties), where both ways agree.
    Rows that are `counted` (a list that reads every row to order them) give a page and the count
    in one pass."""

    def __init__(self, *args, count: int | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if count is not None:  # known without counting the rows (tickets.counts)
            self.count = count

    def page(self, number):
        rows = self.object_list
        if isinstance(rows, Rows) and rows.counted and not self.orphans and "count" not in vars(self):
            return self._counted_page(rows, number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if bottom > self.count - top and _reversible(rows):
            turned = list(rows.reverse()[self.count - top:self.count - bottom])
            return self._get_page(turned[::-1], number, self)
        return super().page(number)

    def _counted_page(self, rows: Rows, number):
        """The page and the count in one pass; counted apart only for a page past the end."""
        try:
            asked = int(number)
        except (TypeError, ValueError):
            asked = 0
        if asked < 1:
            self.validate_number(number)  # refuses it before anything is read
        found, total = rows.page((asked - 1) * self.per_page, self.per_page)
        self.count = total if total is not None else rows.count()
        return self._get_page(found, self.validate_number(number), self)


def _reversible(rows) -> bool:
    if isinstance(rows, QuerySet):
        return ends_with_id(rows)
    return isinstance(rows, Rows) and rows.ends_with_id()


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    # Set by a view that knows the list's count without counting it.
    known_count: int | None = None

    @property
    def django_paginator_class(self):  # what DRF's paginate_queryset makes its paginator with
        return partial(FromNearerEnd, count=self.known_count)


class TicketCursorPagination(pagination.CursorPagination):
    """Keyset pages in the list's own order (`?ordering=`), newest first by default; equal keys
    are told apart by id."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    # What `?ordering=` names, as columns: priority sorts by severity (tickets_list annotates it).
    COLUMNS = {"created_at": "created_at", "updated_at": "updated_at", "priority": "priority_rank"}

    def get_ordering(self, request, queryset, view):
        asked = request.query_params.get("ordering", "-created_at").split(",")[0].strip()
        if asked.lstrip("-") == "sla_due":
            # Tickets without a deadline have no position in that order to resume a page from.
            raise InvalidInput("ordering", "Cursor mode orders by created_at, updated_at or "
                               "priority; ordering by sla_due pages by number (leave out cursor).")
        field = self.COLUMNS.get(asked.lstrip("-"), "created_at")
        descending = asked.startswith("-") or asked.lstrip("-") not in self.COLUMNS
        return (f"-{field}", "-id") if descending else (field, "id")

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        # Text with no base64 letters in it ("%%%") decodes to nothing, which DRF takes for the
        # first page; only an empty cursor asks for that.
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded and not b64decode(encoded.encode("ascii")):
            raise NotFound(self.invalid_cursor_message)
        return cursor

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (NotFound, DjangoValidationError, ValueError):  # undecodable, or a forged position
            raise InvalidInput("cursor", "This cursor is not one the API gave out (or it was cut "
                               "short). Start again with ?cursor= and follow the `next` links.")


class TicketPagination(PageNumberPagination):
    """Page numbers, unless the request asks for cursor mode with a `cursor` parameter (empty
    for the first page)."""

    def __init__(self) -> None:
        self.cursor = None

    def paginate_queryset(self, queryset, request, view=None):
        if "cursor" in request.query_params:
            self.cursor = TicketCursorPagination()
            return self.cursor.paginate_queryset(queryset, request, view)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        if self.cursor is not None:
            return self.cursor.get_paginated_response(data)
        return super().get_paginated_response(data)

    def get_schema_operation_parameters(self, view):
        return [*super().get_schema_operation_parameters(view), {
            "name": "cursor", "required": False, "in": "query",
            "description": "Cursor mode: send it empty for the first page, then follow `next`. "
                           "No `count`; the cost of a page does not grow with its depth.",
            "schema": {"type": "string"},
        }]

    def get_paginated_response_schema(self, schema):
        paged = super().get_paginated_response_schema(schema)
        paged["required"] = ["results"]  # cursor pages carry no count
        return paged
