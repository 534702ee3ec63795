"""REST API of reports: `GET /reports/metrics`, the figures of `metrics.compute` as JSON.

A bad period or breakdown is a 422 naming the field; narrowing to a company, project or area
outside the caller's scope is a 422 naming that field too (the figures would otherwise be zeros
that look real).
"""

import inspect
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router

from guanjia.cases.api import list_cases
from guanjia.cases.schemas import CaseFilters
from guanjia.core.schemas import Problem
from guanjia.org.permissions import can

from .exports import cases_xlsx_response
from .metrics import GRAINS, MAX_BUCKETS, MAX_DAYS, Period, compute
from .queries import report_scope_for
from .schemas import MetricsOut, MetricsQuery

router = Router()


def period_from(start, end) -> Period:
    """The period of the query; field-keyed ValidationError when it makes no sense."""
    today = timezone.localdate()
    if start is None and end is None:
        return Period.of("month", today)
    if start is None:
        raise ValidationError({"start": _("Give the first day of the period.")})
    end = end or today + timedelta(days=1)
    if end <= start:
        raise ValidationError({"end": _("The end must be after the start (the end day itself is not counted).")})
    if (end - start).days > MAX_DAYS:
        raise ValidationError({"end": _("A period can be at most %(days)s days long.") % {"days": MAX_DAYS}})
    return Period(start, end)


@router.get(
    "/reports/metrics",
    response={200: MetricsOut, 401: Problem, 422: Problem},
    tags=["reports"],
    summary="Report figures",
)
def metrics(request, query: Query[MetricsQuery]):
    """Every figure of the requests in your scope for a period (Beijing dates, end exclusive), in total
    and per group of `breakdown`. Definitions: docs/reports.md."""
    period = period_from(query.start, query.end)
    if query.breakdown in GRAINS and len(period.buckets(query.breakdown)) > MAX_BUCKETS:
        raise ValidationError(
            {"breakdown": _("At most %(count)s periods per breakdown: choose a longer one.") % {"count": MAX_BUCKETS}}
        )
    narrow = {name: getattr(query, name) for name in ("company", "project", "area") if getattr(query, name) is not None}
    if len(narrow) > 1:
        raise ValidationError({name: _("Give only one of company, project and area.") for name in narrow})
    try:
        scope = report_scope_for(request.user, **narrow)
    except Http404:
        if not narrow:
            raise
        field = next(iter(narrow))
        raise ValidationError({field: _("Choose one inside your scope.")}) from None
    report = compute(scope, period, query.breakdown, top=query.top)
    return {**report.as_dict(), "scope": {"level": scope.level, "name": scope.name}}


# The list endpoint's own filtering, without its pagination: an export holds every row of the list.
_filtered_cases = inspect.unwrap(list_cases)


@router.get(
    "/reports/cases.xlsx",
    response={200: None, 401: Problem, 403: Problem, 422: Problem},
    tags=["reports"],
    summary="Export requests to Excel",
    openapi_extra={
        "responses": {
            200: {
                "description": "xlsx workbook, streamed",
                "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}},
            }
        }
    },
)
def export_cases(request, filters: Query[CaseFilters]):
    """Every request that `GET /cases` with the same parameters lists (all pages), as an xlsx file.
    Phones are masked as in the list; the export is logged."""
    if not can(request.user, "cases", "export"):
        raise PermissionDenied
    cases = _filtered_cases(request, filters)
    return cases_xlsx_response(request.user, cases, filters.dict(exclude_none=True), request=request)
