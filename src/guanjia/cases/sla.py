"""Service-level deadlines of cases: which policy applies, which calendar counts, when things are due.

`apply_sla(case)` is the one function that sets a case's policy and deadlines; services call it
when a case is recorded, dispatched or reopened. Every deadline is
``calendar.add_working_time(clock start, target + total_paused)``: targets are working time of the
company's calendar (or the policy's own hours, e.g. a 24-hour hotline), so a complaint recorded at
18:30 before a holiday is due in working time after it. For a request that arrives after hours the
12-minute response target therefore runs from the next start of work (the 12-12-24 standard).
`pause_sla` / `resume_sla` stop and restart the clock: resuming moves every deadline not yet met
by exactly the working time of the pause (`BusinessCalendar.shift_for_pause`).
"""

import json
from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext as _

from guanjia.core.calendar import BusinessCalendar, WorkingHours, WorkingHoursError
from guanjia.org.choices import DepartmentKind

from .choices import CaseStatus, CaseType, SlaState
from .config import active_policies, cached, calendar_rows
from .models import Case, SlaPolicy


def default_hours() -> dict:
    return WorkingHours.default().to_dict()


def _dates(values, field: str, errors: dict[str, list[str]]) -> set[date]:
    parsed: set[date] = set()
    if not isinstance(values, list):
        errors.setdefault(field, []).append(_("Enter a list of dates such as 2025-10-01."))
        return parsed
    for value in values:
        try:
            parsed.add(date.fromisoformat(value))
        except (TypeError, ValueError):
            errors.setdefault(field, []).append(_("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": value})
    return parsed


def calendar_config_errors(hours, closures, extra_workdays) -> dict[str, list[str]]:
    """Field-keyed problems of a stored calendar configuration (empty when it is valid)."""
    errors: dict[str, list[str]] = {}
    if hours:
        try:
            WorkingHours.from_dict(hours)
        except WorkingHoursError as exc:
            errors["hours"] = [f"{exc.field}: {exc.message}"]
    closed = _dates(closures, "closures", errors)
    extra = _dates(extra_workdays, "extra_workdays", errors)
    for day in sorted(closed & extra):
        errors.setdefault("extra_workdays", []).append(_("%(date)s is also a closure.") % {"date": day.isoformat()})
    return errors


def company_calendar(company, hours: dict | None = None) -> BusinessCalendar:
    """The business calendar of a company (its own row, else its group's, else the default hours).

    `hours`, when given, replaces the opening hours but keeps the company's closures.
    """
    rows = calendar_rows()
    row = rows.get(company.pk) or rows.get(company.parent_id)

    def build() -> BusinessCalendar:
        base = row.hours if row and row.hours else None
        working_hours = WorkingHours.from_dict(hours or base) if (hours or base) else WorkingHours.default()
        closures = {date.fromisoformat(d) for d in row.closures} if row else set()
        extra = {date.fromisoformat(d) for d in row.extra_workdays} if row else set()
        return BusinessCalendar(working_hours, tz=settings.TIME_ZONE, closures=closures, extra_workdays=extra)

    # Built once per configuration: the calendar keeps the days it has worked out.
    return cached(("calendar", row.pk if row else None, json.dumps(hours, sort_keys=True)), build)


def select_policy(case: Case) -> SlaPolicy:
    """The first active policy whose conditions match the case; an unsaved default policy if none does."""
    company = case.project.company
    lineage = case.category.lineage() if case.category_id else []
    lineage_ids = {c.pk for c in lineage}
    names = [c.name for c in lineage]
    companies = {None, company.pk, company.parent_id}
    for policy in active_policies():
        if policy.company_id not in companies:
            continue
        if policy.case_type and policy.case_type != case.case_type:
            continue
        if policy.severity and policy.severity != case.severity:
            continue
        if policy.category_id and policy.category_id not in lineage_ids:
            continue
        if policy.category_keyword and not any(policy.category_keyword in name for name in names):
            continue
        return policy
    return SlaPolicy(name=_("Default"))


def policy_of(case: Case) -> SlaPolicy:
    return case.sla_policy if case.sla_policy_id else select_policy(case)


def calendar_of(case: Case, policy: SlaPolicy | None = None) -> BusinessCalendar:
    policy = policy or policy_of(case)
    return company_calendar(case.project.company, policy.calendar or None)


def _policy_and_calendar(case: Case) -> tuple[SlaPolicy, BusinessCalendar]:
    """Policy and calendar for `case`, kept on the instance while what selects them is unchanged
    (intake applies the agreement twice when routing dispatches at once: read them once)."""
    key = (case.project_id, case.case_type, case.category_id, case.severity)
    memo = getattr(case, "_sla_memo", None)
    if memo is None or memo[0] != key:
        policy = select_policy(case)
        memo = (key, policy, calendar_of(case, policy))
        case._sla_memo = memo
    return memo[1], memo[2]


def _needs_notice(case: Case) -> bool:
    """A complaint handed to the property company gets a written notice (DOMAIN: within 8 hours)."""
    return (
        case.case_type == CaseType.COMPLAINT
        and case.department_id is not None
        and case.department.kind == DepartmentKind.PROPERTY
    )


def apply_sla(case: Case, *, start: datetime | None = None) -> None:
    """Choose the policy and set every deadline on `case` (not saved; the calling service saves).

    `start` restarts the clock (reopening); otherwise the clock runs from `sla_started_at`, which
    defaults to `received_at`. Paused working time so far is added to every target.
    """
    policy, cal = _policy_and_calendar(case)
    if start is not None:
        case.sla_started_at = start
        case.total_paused = timedelta(0)
    case.sla_started_at = case.sla_started_at or case.received_at
    begin, paused = case.sla_started_at, case.total_paused

    def due(minutes: int) -> datetime:
        return cal.add_working_time(begin, timedelta(minutes=minutes) + paused)

    case.sla_policy = policy if policy.pk else None
    if case.responded_at is None:
        # Working time, so an after-hours arrival is due N minutes after the next start of work
        # (the same moment as `BusinessCalendar.after_hours_deadline`).
        case.response_due = due(policy.response_minutes)
    case.plan_due = due(policy.plan_minutes)
    case.resolution_due = due(policy.resolution_minutes)
    case.reply_due = due(policy.reply_minutes)
    case.notice_due = due(policy.notice_minutes) if _needs_notice(case) else None
    case.sla_state = SlaState.PAUSED if case.status == CaseStatus.SUSPENDED else SlaState.RUNNING


def pause_sla(case: Case, now: datetime) -> None:
    case.paused_since = now
    case.sla_state = SlaState.PAUSED


def resume_sla(case: Case, now: datetime) -> timedelta:
    """Restart the clock; every deadline not yet met moves by the working time of the pause, which is returned."""
    if case.paused_since is None:
        return timedelta(0)
    cal = calendar_of(case)
    paused_at = case.paused_since
    pending = {
        "response_due": case.responded_at is None,
        "plan_due": case.plan_confirmed_at is None,
        "resolution_due": case.resolved_at is None,
        "reply_due": case.replied_at is None,
        "notice_due": case.noticed_at is None,
    }
    for field, unmet in pending.items():
        deadline = getattr(case, field)
        if unmet and deadline is not None:
            setattr(case, field, cal.shift_for_pause(deadline, paused_at, now))
    paused = cal.working_time_between(paused_at, now)
    case.total_paused += paused
    case.paused_since = None
    case.sla_state = SlaState.RUNNING
    return paused


def finish_sla(case: Case) -> None:
    """Judge the agreement when the case closes: met when it was answered and resolved in time."""
    late_response = case.response_due and case.responded_at and case.responded_at > case.response_due
    late_resolution = case.resolution_due and case.resolved_at and case.resolved_at > case.resolution_due
    case.sla_state = SlaState.BREACHED if (late_response or late_resolution) else SlaState.MET
    case.handling_minutes = handling_minutes(case)


def handling_minutes(case: Case) -> int | None:
    """Working minutes from receipt to resolution, minus the time suspended in the last round."""
    end = case.resolved_at or case.closed_at
    if end is None:
        return None
    worked = calendar_of(case).working_time_between(case.received_at, end) - case.total_paused
    return max(0, int(worked.total_seconds() // 60))


def follow_up_due(case: Case, closed_at: datetime) -> datetime:
    policy = policy_of(case)
    return calendar_of(case, policy).add_working_time(closed_at, timedelta(minutes=policy.follow_up_minutes))


# An unreachable owner is called again at a different time of day: two working hours later,
# then six (usually the next working day). The third unreachable call ends the follow-up.
FOLLOW_UP_MAX_ATTEMPTS = 3
FOLLOW_UP_RETRY_AFTER = (timedelta(hours=2), timedelta(hours=6))


def follow_up_retry_due(case: Case, attempts: int, now: datetime) -> datetime | None:
    """When to call again after `attempts` unreachable calls, or None when the follow-up should close."""
    if attempts >= FOLLOW_UP_MAX_ATTEMPTS:
        return None
    gap = FOLLOW_UP_RETRY_AFTER[min(attempts, len(FOLLOW_UP_RETRY_AFTER)) - 1]
    calendar = calendar_of(case)
    # A budget can run out exactly at closing or at lunch; the call is due when work resumes.
    return calendar.next_open(calendar.add_working_time(now, gap))


def task_due(case: Case, start: datetime) -> datetime:
    """Default deadline of a task split from the case: the policy's internal reply time in working days."""
    policy = policy_of(case)
    return calendar_of(case, policy).add_working_days(start, policy.internal_reply_days)
