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
from contextlib import nullcontext

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
    # Counted without the list's order, so the planner goes through the filter's own index (or reads
    # the table in order) and stops at cap + 1. Walking the list's order index instead visits rows in
    # random order and passes over every one that does not match: at a million requests, 5 % of them
    # in one category, 128 ms against 16 ms on PostgreSQL. The exception is SQLite walking a partial
    # index (the major queue's), which holds only matching rows, where unordered it would pick a
    # plain index on the project and status and read a third of the table.
    if tuple(queryset.query.order_by) in _KEY_ORDERS or not _sqlite_walks_partial_index(queryset):
        queryset = queryset.order_by()
    vendor = connections[queryset.db].vendor
    limited = queryset.values("pk")[: cap + 1]
    found = _count_planned_afresh(limited) if vendor == "postgresql" else limited.count()
    return (cap, True) if found > cap else (found, False)


def _count_planned_afresh(queryset: QuerySet) -> int:
    """`queryset.count()`, planned for its own values every time.

    psycopg prepares statements a connection runs again and again (settings.PG_OPTIONS), and after a
    few runs PostgreSQL may keep one generic plan for any values. A count's cost depends on the
    values more than any other list query's (an owner with 30 requests or with 35,000): with the
    list's order still in it, one owner's generic plan read and sorted all 35,000 (368 ms) where the
    plan for the values stopped at cap + 1 (33 ms). A count plans in well under a millisecond.
    """
    connection = connections[queryset.db]
    sql, params = queryset.query.sql_with_params()
    sql = f"SELECT COUNT(*) FROM ({sql}) subquery"  # noqa: S608 (as QuerySet.count() wraps a sliced query)
    with connection.cursor() as cursor:
        logged = (
            cursor.debug_sql(sql, params, use_last_executed_query=True)
            if hasattr(cursor, "debug_sql")
            else nullcontext()
        )
        with logged, connection.wrap_database_errors:
            cursor.cursor.execute(sql, params, prepare=False)
            return cursor.cursor.fetchone()[0]


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
    """`queryset[start:stop]`: the page's ids first, then its rows by id with their related rows.

    Planning the page's query with its joins (project, category, people) took PostgreSQL 17 to 27 ms
    at a million requests, for 1 ms of work; the ids alone plan in 0.2 ms and the rows by id in 2 ms.
    Sorting carries ids only, too. `crowded`: more than COUNT_CAP rows match (see `_sqlite_walk_index`).
    """
    if (
        not isinstance(queryset, QuerySet)
        or queryset.query.combinator
        or queryset.query.values_select
        or not queryset.query.select_related
    ):
        return queryset[start:stop]
    ids_query = queryset.values_list("pk", flat=True)[start:stop]
    index = crowded and _sqlite_walk_index(queryset)
    if index:
        connection = connections[queryset.db]
        table = connection.ops.quote_name(queryset.model._meta.db_table)
        sql, params = ids_query.query.sql_with_params()
        # The outer FROM comes first: the pk-only select list holds no subquery.
        sql = sql.replace(f"FROM {table}", f"FROM {table} INDEXED BY {connection.ops.quote_name(index)}", 1)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ids = [row[0] for row in cursor.fetchall()]
    else:
        ids = list(ids_query)
    if not ids:
        return []
    rows = {row.pk: row for row in _rows_by_id(queryset, ids)}
    return [rows[pk] for pk in ids if pk in rows]


def _rows_by_id(queryset: QuerySet, ids: list) -> QuerySet:
    """The rows of `ids` with what the list loads alongside them (related rows, prefetches, deferred fields).

    Not `queryset.filter(pk__in=ids)`: its filters would run again, and SQLite then read all 50,000
    matches of a full-text search for 漏水 to check 50 rows (67 ms). A list with annotations keeps
    its filters, which the annotations may need.
    """
    if queryset.query.annotations:
        return queryset.filter(pk__in=ids).order_by()
    rows = queryset.model._base_manager.using(queryset.db).filter(pk__in=ids)
    rows.query.select_related = queryset.query.select_related
    rows.query.deferred_loading = queryset.query.deferred_loading
    return rows.prefetch_related(*queryset._prefetch_related_lookups)


def _sqlite_walk_index(queryset: QuerySet) -> str | None:
    """On SQLite, the index to read a crowded list along, when the planner would sort it instead.

    With more than COUNT_CAP matches a page turns up after a few hundred rows of the index that holds
    the list's order (`case_received` for newest first); sorting reads and orders every match.
    None elsewhere, when no plain index holds the order, or when the planner already walks one.
    """
    indexes = _order_indexes(queryset, partial=False)
    return indexes[0] if indexes and _sorts(_sqlite_plan(queryset)) else None


def _sqlite_walks_partial_index(queryset: QuerySet) -> bool:
    """Whether SQLite reads the list's page along a partial index, without sorting."""
    partial = _order_indexes(queryset, partial=True)
    if not partial:
        return False
    plan = _sqlite_plan(queryset)
    return not _sorts(plan) and any(name in partial for line in plan for name in _SQLITE_INDEX.findall(line))


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
    """SQLite's plan for the list's page: the detail lines of EXPLAIN QUERY PLAN.

    Kept on the queryset: the count and then the page of one list both ask for it.
    """
    plan = queryset.__dict__.get("_guanjia_sqlite_plan")
    if plan is None:
        sql, params = queryset.values_list("pk", flat=True)[:1].query.sql_with_params()
        with connections[queryset.db].cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = [str(row[-1]) for row in cursor.fetchall()]
        queryset.__dict__["_guanjia_sqlite_plan"] = plan
    return plan


def _sorts(plan: list[str]) -> bool:
    """Whether a SQLite plan sorts the matches (rather than walking an index in the list's order)."""
    return any(_SQLITE_SORTS in line for line in plan)
