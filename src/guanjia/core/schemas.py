"""Schemas every part of the REST API shares: the error body and the page of a list.

Errors follow RFC 9457 (problem details) with one extension, `errors`, that names each bad
field by its name in the API. Lists are pages chosen by `limit` and `offset`, with the total
count and links to the neighbouring pages.
"""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase
from pydantic import ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from guanjia.core.paging import COUNT_CAP, capped_count, page_slice

# Problem types. "about:blank" means the HTTP status says it all; the others carry more.
PROBLEM_BLANK = "about:blank"
PROBLEM_INVALID = "urn:guanjia:problem:invalid-input"
PROBLEM_CSRF = "urn:guanjia:problem:csrf-failed"

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class FieldError(Schema):
    field: str | None = Field(
        None, description="The field in the API's own naming (dotted inside lists and objects); null for the whole."
    )
    message: str


class Problem(Schema):
    """An error, as RFC 9457 problem details with the field errors in `errors`."""

    type: str = PROBLEM_BLANK
    title: str
    status: int
    detail: str = ""
    instance: str = ""
    errors: list[FieldError] = []


# The widest integer both databases store (a 64-bit signed column). A bigger id or number
# cannot match any row nor be saved, and SQLite refuses to even send it in a query.
MAX_INTEGER = 2**63 - 1
# The calendar the API takes dates from: a day's margin on each side of Python's own.
FIRST_DAY = date(1, 1, 2)
LAST_DAY = date(9999, 12, 30)
_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


class CheckedInput(Schema):
    """Input of any kind (a body, the query string), read as strictly as the OpenAPI document
    describes it. pydantic alone would take `true` for the number 1 and read `0` or
    `"1700000000"` as a Unix timestamp where a date belongs (silently selecting 1970); and an
    integer wider than a database column fails in the database instead of on its field."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_lax_scalars(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name:
            _refuse_lax(value, cls.model_fields[info.field_name].annotation)
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [cls._storable(item) for item in value]
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            if value > MAX_INTEGER:
                raise PydanticCustomError("less_than_equal", "Input is too large", {"le": MAX_INTEGER})
            if value < -MAX_INTEGER:
                raise PydanticCustomError("greater_than_equal", "Input is too small", {"ge": -MAX_INTEGER})
        elif isinstance(value, str):
            if "\x00" in value:
                # PostgreSQL cannot store it, and no one types it.
                raise PydanticCustomError("null_character", "Null characters are not allowed")
        elif isinstance(value, date):
            # Near the ends of the calendar a time zone shift leaves it (Python and databases
            # fail there), and PostgreSQL refuses offsets beyond ±15:59: keep UTC, in range.
            if not FIRST_DAY <= (value.date() if isinstance(value, datetime) else value) <= LAST_DAY:
                raise PydanticCustomError(
                    "date_out_of_range",
                    "Date out of range",
                    {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
                )
            if isinstance(value, datetime) and value.tzinfo is not None:
                return value.astimezone(UTC)
        return value


def _refuse_lax(value: Any, annotation: Any) -> None:
    kinds = _kinds(annotation)
    if isinstance(value, bool):
        if bool not in kinds and kinds & {int, float, Decimal}:
            raise PydanticCustomError("int_type" if int in kinds else "float_type", "Input should be a number")
    elif kinds & {date, datetime} and not kinds & {int, float, Decimal, str}:
        if isinstance(value, int | float | Decimal):
            raise PydanticCustomError("date_type", "Input should be a valid date")
        if isinstance(value, str) and _NUMBER.fullmatch(value):
            raise PydanticCustomError("date_parsing", "Input should be a valid date")
    elif isinstance(value, list) and list in kinds:
        for item in value:
            _refuse_lax(item, _item_annotation(annotation))


def _kinds(annotation: Any) -> set:
    """The plain types an annotation accepts at its top level: `int | None` → {int, NoneType}."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _kinds(args[0])
    if origin in (Union, UnionType):
        return set().union(*(_kinds(arg) for arg in args))
    return {origin or annotation}


def _item_annotation(annotation: Any) -> Any:
    """`list[int] | None` → int."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is list:
        return args[0] if args else Any
    if origin is Annotated:
        return _item_annotation(args[0])
    for arg in args if origin in (Union, UnionType) else ():
        if get_origin(arg) is list or get_origin(arg) is Annotated:
            return _item_annotation(arg)
    return Any


class InputSchema(CheckedInput):
    """A request body: unknown fields are refused rather than silently dropped, so a typo shows."""

    model_config = ConfigDict(extra="forbid")


def null_clears(*fields: str, to: Any = ""):
    """For an update: these fields sent as null are cleared (set to `to`, the empty text by default).

    Without it, null would reach a column that holds "" for nothing and fail there.
    """

    def clear(value: Any) -> Any:
        return to if value is None else value

    return field_validator(*fields, mode="after")(clear)


class FilterInput(CheckedInput):
    """The filters of a list, read from the query string."""


class LinkedLimitOffset(PaginationBase):
    """`limit`/`offset` pages with `count`, `next` and `previous`; `limit` is capped at MAX_LIMIT."""

    class Input(FilterInput):
        limit: int = Field(DEFAULT_LIMIT, ge=1, description=f"Items per page, at most {MAX_LIMIT}.")
        offset: int = Field(0, ge=0, description="Items to skip.")

    class Output(Schema):
        count: int = Field(..., description=f"Matching items, counted up to {COUNT_CAP:,}.")
        count_capped: bool = Field(
            False, description=f"True when more than {COUNT_CAP:,} items match: `count` is then {COUNT_CAP:,}."
        )
        next: str | None
        previous: str | None
        items: list[Any]

    def paginate_queryset(self, queryset: QuerySet, pagination: Input, request: HttpRequest, **params: Any) -> Any:
        limit = min(pagination.limit, MAX_LIMIT)
        offset = pagination.offset
        count, capped = capped_count(queryset) if isinstance(queryset, QuerySet) else (len(queryset), False)
        items = list(page_slice(queryset, offset, offset + limit, crowded=capped))
        # Past the counted cap, a full page means there may be another one.
        more = offset + limit < count or (capped and len(items) == limit)
        following = offset + limit if more else None
        preceding = max(offset - limit, 0) if offset > 0 else None
        return {
            "count": count,
            "count_capped": capped,
            "next": _page_url(request, limit, following),
            "previous": _page_url(request, limit, preceding),
            "items": items,
        }


def _page_url(request: HttpRequest, limit: int, offset: int | None) -> str | None:
    if offset is None:
        return None
    query = request.GET.copy()
    query["limit"] = str(limit)
    query["offset"] = str(offset)
    return request.build_absolute_uri(f"{request.path}?{urlencode(sorted(query.lists()), doseq=True)}")
