"""The SLA sweep: record each missed deadline once per escalation level and notify the people concerned.

Levels (delays are wall-clock time after the deadline, configurable in settings):

1. the deadline has passed → the first-contact owner and the assignee;
2. still overdue `GUANJIA_ESCALATE_TEAM_LEAD_AFTER` later (default 2 hours) → the team leads of the
   case's project (scoped to the project or to its city company);
3. still overdue `GUANJIA_ESCALATE_MANAGER_AFTER` later (default 24 hours) → the managers of the
   project's city company (and managers scoped to the project).

Deadlines watched: first response, plan, resolution, reply and the written notice to the property
company on the case (each only while the case is open and its actual time, e.g. `responded_at` or
`noticed_at`, is empty; suspended cases are skipped, their clock stands still), and pending
follow-up calls of closed cases (level 1, the owner).

For each deadline and level there is one indexed query that finds the overdue cases without a
breach row yet (an anti-join on `SlaBreach`), one bulk insert with `ignore_conflicts`, and one
query for the rows this sweep actually inserted (tagged with its `sweep` id). Only those rows are
notified. A sweep that runs twice, late, or concurrently with another on PostgreSQL therefore
records and notifies each breach once: the unique key (case, kind, level, round) lets exactly one
insert win, and each sweep notifies only what it won.
"""

import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanjia.cases.choices import OPEN_STATUSES, CaseStatus, SlaState
from guanjia.cases.models import Case, FollowUp
from guanjia.org.models import Staff

from .choices import SMS_KINDS, DeadlineKind, EscalationLevel, NotificationKind
from .models import Notification, SlaBreach
from .queries import managers_by_project, team_leads_by_project
from .services import case_link_maker, create_notifications

logger = logging.getLogger(__name__)

# The case is still being worked on: a plan is still useful.
_WORKING = frozenset(OPEN_STATUSES - {CaseStatus.AWAITING_ACCEPTANCE})


@dataclass(frozen=True)
class CaseDeadline:
    kind: str
    due_field: str
    done_field: str
    statuses: frozenset
    # The case's `sla_state` becomes "breached" when this deadline is missed (as `finish_sla` judges).
    breaches_agreement: bool = False


CASE_DEADLINES = (
    CaseDeadline(DeadlineKind.RESPONSE, "response_due", "responded_at", OPEN_STATUSES, True),
    CaseDeadline(DeadlineKind.PLAN, "plan_due", "plan_confirmed_at", _WORKING),
    CaseDeadline(DeadlineKind.RESOLUTION, "resolution_due", "resolved_at", OPEN_STATUSES, True),
    CaseDeadline(DeadlineKind.REPLY, "reply_due", "replied_at", OPEN_STATUSES),
    # Complaints handed to the property company (index case_notice_pending).
    CaseDeadline(DeadlineKind.NOTICE, "notice_due", "noticed_at", OPEN_STATUSES),
)

# Inserting this many breach rows in one step refreshes the table's planner statistics.
ANALYZE_AFTER = 1000

LEVELS = (EscalationLevel.OWNER, EscalationLevel.TEAM_LEAD, EscalationLevel.MANAGER)


def _delay(name: str, default: timedelta) -> timedelta:
    """A delay from settings: a timedelta, or a number of minutes."""
    value = getattr(settings, name, default)
    return value if isinstance(value, timedelta) else timedelta(minutes=float(value))


def level_delays() -> dict[int, timedelta]:
    return {
        EscalationLevel.OWNER: timedelta(0),
        EscalationLevel.TEAM_LEAD: _delay("GUANJIA_ESCALATE_TEAM_LEAD_AFTER", timedelta(hours=2)),
        EscalationLevel.MANAGER: _delay("GUANJIA_ESCALATE_MANAGER_AFTER", timedelta(hours=24)),
    }


@dataclass
class SweepResult:
    sweep: uuid.UUID
    breaches: Counter = field(default_factory=Counter)  # (kind, level) → rows recorded by this sweep
    notifications: int = 0

    @property
    def recorded(self) -> int:
        return sum(self.breaches.values())


def _not_recorded(kind: str, level: int, case_ref: str = "pk", round_ref: str = "reopened_count"):
    return ~Exists(
        SlaBreach.objects.filter(case_id=OuterRef(case_ref), kind=kind, level=level, round=OuterRef(round_ref))
    )


def sweep_sla(now: datetime | None = None) -> SweepResult:
    """Record and notify every deadline missed at `now` (default: the current time). Safe to run at any time."""
    now = now or timezone.now()
    result = SweepResult(sweep=uuid.uuid4())
    delays = level_delays()
    with translation.override(settings.LANGUAGE_CODE):
        for deadline in CASE_DEADLINES:
            for level in LEVELS:
                before = result.recorded
                _sweep_case_deadline(deadline, level, now - delays[level], now, result)
                _refresh_statistics(result.recorded - before)
        _sweep_follow_ups(now, result)
    if result.recorded:
        logger.info("SLA sweep %s recorded %s breaches", result.sweep, dict(result.breaches))
    return result


def _refresh_statistics(inserted: int) -> None:
    """After a large insert, let PostgreSQL see the breach table's new size at once.

    With stale statistics (an empty table that just got thousands of rows) the planner picks a
    nested-loop anti-join for the next query, which turns a 20 ms query into seconds; autovacuum
    would only catch up later.
    """
    if inserted >= ANALYZE_AFTER and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {SlaBreach._meta.db_table}")


def _sweep_case_deadline(deadline: CaseDeadline, level: int, threshold: datetime, now: datetime, result) -> None:
    due = deadline.due_field
    with transaction.atomic():
        rows = list(
            Case.objects.filter(status__in=deadline.statuses, **{f"{due}__lt": threshold})
            .filter(**{f"{deadline.done_field}__isnull": True})
            .filter(_not_recorded(deadline.kind, level))
            .order_by()
            .values_list("pk", due, "reopened_count")
        )
        if not rows:
            return
        _insert(deadline.kind, level, rows, now, result)
        if deadline.breaches_agreement and level == EscalationLevel.OWNER:
            Case.objects.filter(pk__in=[r[0] for r in rows], sla_state=SlaState.RUNNING).update(
                sla_state=SlaState.BREACHED
            )


def _sweep_follow_ups(now: datetime, result) -> None:
    level = EscalationLevel.OWNER
    with transaction.atomic():
        found = (
            FollowUp.objects.filter(done_at__isnull=True, due__lt=now, case__status=CaseStatus.CLOSED)
            .filter(_not_recorded(DeadlineKind.FOLLOW_UP, level, "case_id", "case__reopened_count"))
            .order_by("due")
            .values_list("case_id", "due", "case__reopened_count")
        )
        # One row per case and round: the earliest pending call.
        rows = list({(case_id, rnd): (case_id, due, rnd) for case_id, due, rnd in reversed(list(found))}.values())
        if rows:
            _insert(DeadlineKind.FOLLOW_UP, level, rows, now, result)


def _insert(kind: str, level: int, rows: list[tuple], now: datetime, result: SweepResult) -> None:
    SlaBreach.objects.bulk_create(
        [
            SlaBreach(case_id=case_id, kind=kind, level=level, round=rnd, due=due, detected_at=now, sweep=result.sweep)
            for case_id, due, rnd in rows
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
    # Rows another sweep inserted first keep that sweep's id, so this sees only what it won.
    won = list(
        SlaBreach.objects.filter(sweep=result.sweep, kind=kind, level=level).values(
            "pk",
            "due",
            "case_id",
            "case__number",
            "case__project_id",
            "case__project__name",
            "case__owner_id",
            "case__assignee_id",
        )
    )
    result.breaches[(kind, level)] += len(won)
    result.notifications += create_notifications(_notifications(kind, level, won, now))


def _recipients(level: int, rows: list[dict]) -> dict[int, set[int]]:
    """Breach id → staff ids to tell."""
    if level == EscalationLevel.OWNER:
        return {r["pk"]: {r["case__owner_id"], r["case__assignee_id"]} - {None} for r in rows}
    projects = {r["case__project_id"] for r in rows}
    by_project = (
        team_leads_by_project(projects) if level == EscalationLevel.TEAM_LEAD else managers_by_project(projects)
    )
    return {r["pk"]: by_project.get(r["case__project_id"], set()) for r in rows}


def _notifications(kind: str, level: int, rows: list[dict], now: datetime) -> list[Notification]:
    recipients = _recipients(level, rows)
    if level == EscalationLevel.OWNER:
        wanted = set().union(*recipients.values()) if recipients else set()
        active = set(Staff.objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True))
        recipients = {pk: ids & active for pk, ids in recipients.items()}
    # Texts are translated once per step, not per row: a late first sweep may notify thousands of breaches.
    if kind == DeadlineKind.FOLLOW_UP:
        notification_kind = NotificationKind.FOLLOW_UP_OVERDUE
        title = _("%(number)s: follow-up call overdue")
        body = _("The follow-up call for request %(number)s (%(project)s) was due %(due)s.")
    elif level == EscalationLevel.OWNER:
        notification_kind = NotificationKind.SLA_OVERDUE
        title = _("%(number)s: %(deadline)s overdue")
        body = _("Request %(number)s (%(project)s): the %(deadline)s deadline was %(due)s.")
    else:
        notification_kind = NotificationKind.SLA_ESCALATED
        title = _("Escalated: %(number)s, %(deadline)s overdue")
        body = _("Request %(number)s (%(project)s) is still overdue: the %(deadline)s deadline was %(due)s.")
    deadline = str(DeadlineKind(kind).label)
    link = case_link_maker()
    sms = notification_kind in SMS_KINDS
    out = []
    for row in rows:
        values = {
            "number": row["case__number"],
            "deadline": deadline,
            "project": row["case__project__name"],
            "due": timezone.localtime(row["due"]).strftime("%Y-%m-%d %H:%M"),
        }
        for staff_id in sorted(recipients.get(row["pk"], ())):
            out.append(
                Notification(
                    recipient_id=staff_id,
                    kind=notification_kind,
                    title=(title % values)[:200],
                    body=body % values,
                    link=link(row["case_id"]),
                    case_id=row["case_id"],
                    dedupe_key=f"sla:{row['pk']}",
                    created_at=now,
                    by_sms=sms,
                )
            )
    return out
