from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Stable pages over growing tables; `?ordering=` from OrderingFilter is honoured."""

    page_size_query_param = "page_size"
    max_page_size = 500
