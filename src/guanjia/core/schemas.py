"""Schemas every part of the REST API shares: the error body and the page of a list.

Errors follow RFC 9457 (problem details) with one extension, `errors`, that names each bad
field by its name in the API. Lists are pages chosen by `limit` and `offset`, with the total
count and links to the neighbouring pages.
"""

from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase
from pydantic import ConfigDict

from guanjia.core.paging import COUNT_CAP, capped_count

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


class InputSchema(Schema):
    """A request body: unknown fields are refused rather than silently dropped, so a typo shows."""

    model_config = ConfigDict(extra="forbid")


class LinkedLimitOffset(PaginationBase):
    """`limit`/`offset` pages with `count`, `next` and `previous`; `limit` is capped at MAX_LIMIT."""

    class Input(Schema):
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
        items = list(queryset[offset : offset + limit])
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
