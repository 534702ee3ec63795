"""Schemas of the reports API: the query of `GET /reports/metrics` and the figures it answers with."""

from datetime import date
from typing import Literal

from ninja import Field, Schema

from guanjia.core.schemas import FilterInput

from .metrics import BREAKDOWNS


class MetricsQuery(FilterInput):
    start: date | None = Field(
        None, description="First day (Beijing date). Without start and end: the current calendar month."
    )
    end: date | None = Field(
        None, description="The day after the last day (exclusive). Without it: up to and including today."
    )
    breakdown: Literal[BREAKDOWNS] = Field(  # type: ignore[valid-type]
        "none", description="Group the figures by this key; day, week and month cut the period in time."
    )
    company: int | None = Field(None, description="Count only this city company (id), inside your scope.")
    project: int | None = Field(None, description="Count only this project (id), inside your scope.")
    area: int | None = Field(None, description="Count only this area (id), inside your scope.")
    top: int = Field(10, ge=0, le=50, description="How many top categories to list (0: none).")


class RateOut(Schema):
    numerator: int
    denominator: int
    rate: float | None = Field(description="numerator / denominator, 4 decimals; null when nothing to judge.")


class OnTimeOut(Schema):
    response: RateOut
    resolution: RateOut
    reply: RateOut
    follow_up: RateOut


class HandlingOut(Schema):
    cases: int = Field(description="Closed requests with a known handling time.")
    avg_hours: float | None
    p90_hours: float | None


class FollowUpsOut(Schema):
    created: int = Field(description="Follow-ups created in the period (not cancelled by a reopening).")
    unreachable: int = Field(description="Follow-ups ended in the period after the last unanswered call.")


class FiguresOut(Schema):
    key: int | str | None = Field(description="Id, value or bucket start of the group; null for the total.")
    label: str
    received: int
    closed: int
    closing_rate: RateOut
    on_time: OnTimeOut
    handling: HandlingOut
    satisfaction: RateOut
    follow_ups: FollowUpsOut
    reopen_rate: RateOut
    complaints: int
    repeat_complaint_rate: RateOut
    households: int | None
    complaints_per_100_households: float | None


class CategoryCountOut(Schema):
    key: int | None
    label: str
    received: int
    share: RateOut


class PeriodOut(Schema):
    start: date
    end: date = Field(description="Exclusive.")


class ScopeOut(Schema):
    level: str = Field(description="group, company, project or area.")
    name: str


class MetricsOut(Schema):
    period: PeriodOut
    breakdown: str
    scope: ScopeOut
    generated_at: str
    total: FiguresOut
    groups: list[FiguresOut]
    top_categories: list[CategoryCountOut]
