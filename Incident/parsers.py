"""The API's JSON parser: DRF's, with nesting too deep for Python's json module answered as a 400.

json raises RecursionError (not ValueError) on very deep nesting, which DRF's parser lets through
as a 500. Size needs nothing here: DRF parses JSON from `request.body`, which enforces
DATA_UPLOAD_MAX_MEMORY_SIZE, and Incident.errors answers that with a 413.
"""
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("The JSON is nested too deeply.") from exc
