"""Hot look-ups written with the ORM, compiled to SQL once per process and run again with new values.

Building and compiling a queryset costs far more CPU than running it: a look-up by key with one
`select_related` takes about 0.5 ms of Python to turn into SQL and 0.07 ms to run. Intake reads
five such rows per request (the API token, the project, the customer, the units and the last
request of the units for the repeat check), so compiling dominated its CPU. A `CompiledQuery`
keeps the queryset as the one definition of the look-up, compiles it the first time it is used
with values of a given shape, and afterwards only sends the SQL with the new values and turns the
rows into model instances exactly as the ORM does (converters, deferred fields, `select_related`).

The values that change between calls are the builder's arguments; everything else in the
queryset is fixed when it is first compiled (so it must not read the clock or the settings).
An argument may be a str, an int, an aware datetime, or a list, tuple or set of those; a bool or
None selects another compilation (they change the SQL, e.g. `IS NULL`). Each argument is found in
the compiled parameters by compiling once with stand-in values nobody would use, so a look-up
that transforms its value (`__iexact`, `__contains`, a hashed field) is refused when compiled
rather than run with the wrong value.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

_EPOCH = datetime(1901, 1, 1, tzinfo=UTC)
MAX_PLANS = 32  # compilations kept per query and thread; other shapes run as plain querysets
_MARK = "\x00guanjia-compiled-"


def _stand_in(value: Any, serial: int) -> Any:
    if isinstance(value, bool) or value is None:
        raise TypeError("a bool or None is part of the query's shape, not a value")
    if isinstance(value, str):
        return f"{_MARK}{serial}\x00"
    if isinstance(value, int):
        return -2_000_000_000 - serial  # inside a 32-bit integer column's range, below any id
    if isinstance(value, datetime):
        return _EPOCH + timedelta(microseconds=serial + 1)
    raise TypeError(f"a compiled query takes str, int, datetime or collections of them, not {type(value).__name__}")


def _too_large(value: Any) -> bool:
    """An int no database column holds; the ORM answers those with "no rows" rather than an error."""
    if isinstance(value, list | tuple | set | frozenset):
        return any(map(_too_large, value))
    return isinstance(value, int) and not -(2**63) <= value < 2**63


def _shape(value: Any) -> Any:
    """What of a value decides the SQL: its kind, a collection's length, a bool's or None's value."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return ("many", len(value))
    return type(value).__name__


class _Plan:
    """One compilation: the SQL, its parameters and where each argument's values go."""

    def __init__(self, build: Callable[..., QuerySet], kwargs: dict[str, Any], alias: str):
        connection = connections[alias]
        adapt = connection.ops.adapt_datetimefield_value
        stand_ins: dict[str, Any] = {}
        slots: dict[Any, str | tuple[str, int]] = {}  # a stand-in as the database gets it → where it came from
        serial = 0
        for name, value in kwargs.items():
            if isinstance(value, bool) or value is None:
                stand_ins[name] = value
                continue
            if isinstance(value, list | tuple | set | frozenset):
                many = []
                for i, item in enumerate(value):
                    serial += 1
                    many.append(_stand_in(item, serial))
                    slots[self._as_sent(many[-1], adapt)] = (name, i)
                stand_ins[name] = many
            else:
                serial += 1
                stand_ins[name] = _stand_in(value, serial)
                slots[self._as_sent(stand_ins[name], adapt)] = name
        queryset = build(**stand_ins)
        self.model = queryset.model
        compiler = queryset.query.get_compiler(using=alias)
        try:
            self.sql, params = compiler.as_sql()
        except EmptyResultSet:
            # Nothing can match these values (an empty IN list), or a stand-in was out of a small
            # integer field's range: this shape is not compiled, its queryset is run each time.
            self.sql = None
            return
        self.params = list(params)
        self.places: list[tuple[int, str | tuple[str, int]]] = []
        # A value may stand in the SQL more than once (`Q(owner=pk) | Q(assignee=pk)`): every place is kept.
        for position, param in enumerate(self.params):
            where = slots.get(param) if isinstance(param, str | int | datetime) else None
            if where is not None:
                self.places.append((position, where))
        placed = {where for _position, where in self.places}
        if missing := [str(where) for where in slots.values() if where not in placed]:
            raise ValueError(f"{self.model.__name__}: the query changes the values of {sorted(missing)}")
        self.compiler = compiler
        klass_info = compiler.klass_info
        select_fields = klass_info["select_fields"]
        self.start, self.end = select_fields[0], select_fields[-1] + 1
        self.init_list = [column[0].target.attname for column in compiler.select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, compiler.select, alias)
        self.annotations = compiler.annotation_col_map

    @staticmethod
    def _as_sent(stand_in: Any, adapt: Callable) -> Any:
        return adapt(stand_in) if isinstance(stand_in, datetime) else stand_in

    def run(self, alias: str, kwargs: dict[str, Any]) -> list:
        adapt = connections[alias].ops.adapt_datetimefield_value
        params = list(self.params)
        lists = {name: list(value) for name, value in kwargs.items() if isinstance(value, set | frozenset)}
        for position, where in self.places:
            value = lists.get(where[0], kwargs[where[0]])[where[1]] if isinstance(where, tuple) else kwargs[where]
            params[position] = adapt(value) if isinstance(value, datetime) else value
        with connections[alias].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        found = []
        for row in self.compiler.results_iter(results=[rows]):
            obj = self.model.from_db(alias, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            for attname, column in self.annotations.items():
                setattr(obj, attname, row[column])
            found.append(obj)
        return found


class CompiledQuery:
    """Rows of `model` from the queryset `build(**values)`, compiled once per thread, database and shape.

    `query.all(**values)` is `list(build(**values))`; `query.first(**values)` is its first row or None
    (give the queryset its order, or slice it to one row, in `build`).
    """

    def __init__(self, model, build: Callable[..., QuerySet]):
        self.model = model
        self.build = build
        self._plans = threading.local()  # a compiler belongs to its thread's own connection

    def all(self, **values) -> list:
        alias = router.db_for_read(self.model)
        plans = self._plans.__dict__
        key = (alias, tuple((name, _shape(value)) for name, value in values.items()))
        plan = plans.get(key)
        if plan is None:
            if len(plans) >= MAX_PLANS:  # lists of ever new lengths must not grow the process without end
                return list(self.build(**values).using(alias))
            plan = plans[key] = _Plan(self.build, values, alias)
        if plan.sql is None or any(map(_too_large, values.values())):
            return list(self.build(**values).using(alias))
        return plan.run(alias, values)

    def first(self, **values):
        found = self.all(**values)
        return found[0] if found else None
