from datetime import UTC, datetime

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, pagination

from orders.selectors import MAX_PAGE_SIZE

MAX_POSITION_CHARS = 128  # a position is a timestamp, an id or a name


def invalid_cursor() -> exceptions.ValidationError:
    return exceptions.ValidationError({"cursor": ["is not a cursor this server issued (follow the next/previous links)"]})


class CursorPagination(pagination.CursorPagination):
    """Stable pages over growing tables; `?ordering=` from OrderingFilter is honoured.

    A cursor is client-held text: its position is checked against the ordering field before it reaches a query,
    so a forged one (a non-date, a NUL, an offset PostgreSQL refuses) is a 400 naming `cursor`, not a 500."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE  # as gRPC ListOrders' limit

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None and "\x00" in encoded:
            raise invalid_cursor()
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise invalid_cursor() from None
        except UnicodeError:
            raise invalid_cursor() from None
        if cursor is None or cursor.position is None:
            return cursor
        return cursor._replace(position=self._position_clean(cursor.position))

    def _position_clean(self, position: str) -> str:
        """The position as _get_position_from_instance writes it (str of the field's value, UTC for times)."""
        if len(position) > MAX_POSITION_CHARS or "\x00" in position:
            raise invalid_cursor()
        try:
            field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
            value = field.to_python(position)
            if isinstance(value, datetime):
                if value.tzinfo is None:
                    raise ValueError
                value = value.astimezone(UTC)
        except (FieldDoesNotExist, DjangoValidationError, ValueError, TypeError, OverflowError):
            raise invalid_cursor() from None
        return str(value)
