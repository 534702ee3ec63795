"""Pages of long lists that stay fast at a million rows: counts stop at `COUNT_CAP`.

Counting every matching row is what makes a list slow once there are hundreds of thousands of
them (the page itself comes from an index, newest first). Nobody pages through 1,000 requests;
beyond that the list says "more than 1,000" and a filter narrows it down.
"""

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

COUNT_CAP = 1_000
_KEY_ORDERS = {("id",), ("-id",), ("pk",), ("-pk",)}


def capped_count(queryset: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """(count, capped): the number of rows, or `cap` (default COUNT_CAP) and True when there are more."""
    cap = COUNT_CAP if cap is None else cap
    # On PostgreSQL the list's own order is kept: the planner then counts along the index that serves
    # the page and stops after cap + 1 rows, where an unordered count may scan the table on a wrong
    # row estimate. Not for an order on the primary key alone (search results): walking the key would
    # pass over every non-matching row, where the unordered count goes through the filter's own index.
    # SQLite's planner picks the same index either way and would only add a sort.
    if connections[queryset.db].vendor != "postgresql" or tuple(queryset.query.order_by) in _KEY_ORDERS:
        queryset = queryset.order_by()
    found = queryset.values("pk")[: cap + 1].count()
    return (cap, True) if found > cap else (found, False)


class CappedPaginator(Paginator):
    """A `Paginator` whose count stops at COUNT_CAP (`capped` tells); pages beyond it are not offered."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.capped = False

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        count, self.capped = capped_count(self.object_list)
        return count
