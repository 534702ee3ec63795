"""Pages of long lists that stay fast at a million rows: counts stop at `COUNT_CAP`.

Counting every matching row is what makes a list slow once there are hundreds of thousands of
them (the page itself comes from an index, newest first). Nobody pages through 1,000 requests;
beyond that the list says "more than 1,000" and a filter narrows it down.

SQLite keeps no value histograms, so for a filter with an index of its own (a category, an owner)
it cannot tell a few hundred matches from a hundred thousand: it reads them all through that index
and sorts them, when walking the list's own order index would find a page after a few hundred rows.
The count, which comes first, tells which case it is; see `_sqlite_walk_index`.
"""

import re

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

COUNT_CAP = 1_000
_KEY_ORDERS = {("id",), ("-id",), ("pk",), ("-pk",)}
_SQLITE_SORTS = "USE TEMP B-TREE FOR ORDER BY"
_SQLITE_INDEX = re.compile(r"USING (?:COVERING )?INDEX (\w+)")


def capped_count(queryset: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """(count, capped): the number of rows, or `cap` (default COUNT_CAP) and True when there are more."""
    cap = COUNT_CAP if cap is None else cap
    # On PostgreSQL the list's own order is kept: the planner then counts along the index that serves
    # the page and stops after cap + 1 rows, where an unordered count may scan the table on a wrong
    # row estimate. Not for an order on the primary key alone (search results): walking the key would
    # pass over every non-matching row, where the unordered count goes through the filter's own index.
    # SQLite likewise when it walks a partial index in order (the major queue's): that index holds only
    # matching rows. Walking a plain index may pass over many rows that do not match, where the
    # unordered count goes through the filter's own index and stops at cap + 1.
    vendor = connections[queryset.db].vendor
    if tuple(queryset.query.order_by) in _KEY_ORDERS or not (
        vendor == "postgresql" or (vendor == "sqlite" and _sqlite_walks_partial_index(queryset))
    ):
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

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = page_slice(self.object_list, bottom, top, crowded=self.capped)
        return self._get_page(rows, number, self)


def page_slice(queryset, start: int, stop: int, *, crowded: bool):
    """`queryset[start:stop]`. `crowded`: more than COUNT_CAP rows match (see `_sqlite_walk_index`)."""
    index = crowded and isinstance(queryset, QuerySet) and _sqlite_walk_index(queryset)
    if not index:
        return queryset[start:stop]
    connection = connections[queryset.db]
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    sql, params = queryset.values_list("pk", flat=True)[start:stop].query.sql_with_params()
    # The outer FROM comes first: the pk-only select list holds no subquery.
    sql = sql.replace(f"FROM {table}", f"FROM {table} INDEXED BY {connection.ops.quote_name(index)}", 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    rows = {row.pk: row for row in queryset.filter(pk__in=ids)}
    return [rows[pk] for pk in ids if pk in rows]


def _sqlite_walk_index(queryset: QuerySet) -> str | None:
    """On SQLite, the index to read a crowded list along, when the planner would sort it instead.

    With more than COUNT_CAP matches a page turns up after a few hundred rows of the index that holds
    the list's order (`case_received` for newest first); sorting reads and orders every match.
    None elsewhere, when no plain index holds the order, or when the planner already walks one.
    """
    indexes = _order_indexes(queryset, partial=False)
    return indexes[0] if indexes and _sqlite_sorts(queryset) else None


def _sqlite_walks_partial_index(queryset: QuerySet) -> bool:
    """Whether SQLite reads the list's page along a partial index, without sorting."""
    partial = _order_indexes(queryset, partial=True)
    if not partial:
        return False
    plan = _sqlite_plan(queryset)
    if any(_SQLITE_SORTS in line for line in plan):
        return False
    return any(name in partial for line in plan for name in _SQLITE_INDEX.findall(line))


def _order_indexes(queryset: QuerySet, *, partial: bool) -> list[str]:
    """On SQLite, the model's plain (or partial) indexes that end with the list's order."""
    order = list(queryset.query.order_by)
    if connections[queryset.db].vendor != "sqlite" or not order:
        return []
    return [
        ix.name
        for ix in queryset.model._meta.indexes
        if (ix.condition is not None) is partial
        and list(ix.fields[-len(order) :]) == order
        and (partial or len(ix.fields) == len(order))
    ]


def _sqlite_plan(queryset: QuerySet) -> list[str]:
    """SQLite's plan for the list's page: the detail lines of EXPLAIN QUERY PLAN."""
    sql, params = queryset.values_list("pk", flat=True)[:1].query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return [str(row[-1]) for row in cursor.fetchall()]


def _sqlite_sorts(queryset: QuerySet) -> bool:
    """Whether SQLite's plan for the list's page sorts the matches (rather than walking an index)."""
    return any(_SQLITE_SORTS in line for line in _sqlite_plan(queryset))
