"""API pagination: limit/offset, with bounds the database can take."""

from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 10**15  # far past any real table, well inside PostgreSQL's bigint


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """DRF's limit/offset, but an absurd offset (say 2**63) gives an empty page, not a database error."""

    max_limit = 1000

    def get_offset(self, request):  # type: ignore[no-untyped-def]
        return min(super().get_offset(request), MAX_OFFSET)
