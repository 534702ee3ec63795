"""Service requests (诉求): the case, its timeline, tasks, follow-ups, attachments, and the
policies that route cases and set their deadlines.

Only `services.py` writes cases, tasks and follow-ups; it locks the case row, checks the version,
writes one `CaseEvent` per change and recomputes deadlines through `sla.py`.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import TimeStampedModel
from guanjia.estate.models import Building, Party, Unit
from guanjia.org.models import Company, Department, Project

from .choices import (
    OPEN_STATUSES,
    PAUSED_STATUSES,
    CaseStatus,
    CaseType,
    Channel,
    EventKind,
    FollowUpOutcome,
    Severity,
    SlaState,
    TaskStatus,
    Visibility,
)


class Category(models.Model):
    """A node of the category tree, e.g. 工程质量 → 渗漏 → 卫生间渗漏. Inactive nodes are kept for old cases."""

    name = models.CharField(_("name"), max_length=50)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort", "name"]
        # Two partial constraints: SQLite has no nulls_distinct=False, and top-level names must be unique too.
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], condition=Q(parent__isnull=False), name="category_name_unique_in_parent"
            ),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="category_root_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def lineage(self) -> list["Category"]:
        """This category and its ancestors, nearest first (the tree is a few levels deep)."""
        chain, node, seen = [], self, set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            chain.append(node)
            node = node.parent
        return chain

    @property
    def path(self) -> str:
        return " / ".join(c.name for c in reversed(self.lineage()))


class CompanyCalendar(models.Model):
    """Working hours and closures of one company, the basis of its SLA deadlines.

    `hours` is `WorkingHours.to_dict()` data; `closures` and `extra_workdays` are lists of ISO dates
    that override the national holiday calendar. A city company without a row uses its group's row,
    and without that `WorkingHours.default()`.
    """

    company = models.OneToOneField(Company, verbose_name=_("company"), on_delete=models.CASCADE, related_name="+")
    hours = models.JSONField(_("working hours"), default=dict, blank=True)
    closures = models.JSONField(_("closures"), default=list, blank=True)
    extra_workdays = models.JSONField(_("extra working days"), default=list, blank=True)

    class Meta:
        verbose_name = _("company calendar")
        verbose_name_plural = _("company calendars")

    def __str__(self) -> str:
        return str(self.company)

    def clean(self):
        from .sla import calendar_config_errors

        errors = calendar_config_errors(self.hours, self.closures, self.extra_workdays)
        if errors:
            raise ValidationError(errors)


class SlaPolicy(models.Model):
    """One service-level agreement: conditions (empty = any) and targets. Policies are tried by `sort`; the
    first active one whose conditions all match applies; when none matches the field defaults apply.

    Targets are minutes of working time of the calendar (`calendar` hours, else the company calendar).
    `category` matches the category and its descendants; `category_keyword` matches a category whose
    name, or an ancestor's name, contains the text (e.g. 漏 for every kind of leak).
    """

    name = models.CharField(_("name"), max_length=100)
    sort = models.PositiveIntegerField(_("sort order"), default=100)
    active = models.BooleanField(_("active"), default=True)
    company = models.ForeignKey(
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    case_type = models.CharField(_("type"), max_length=12, choices=CaseType.choices, blank=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category_keyword = models.CharField(_("category name contains"), max_length=20, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, blank=True)

    response_minutes = models.PositiveIntegerField(_("first response (minutes)"), default=12)
    plan_minutes = models.PositiveIntegerField(_("plan (minutes)"), default=24 * 60)
    resolution_minutes = models.PositiveIntegerField(_("resolution (minutes)"), default=72 * 60)
    reply_minutes = models.PositiveIntegerField(_("reply to the customer (minutes)"), default=48 * 60)
    follow_up_minutes = models.PositiveIntegerField(_("follow-up after closing (minutes)"), default=12 * 60)
    notice_minutes = models.PositiveIntegerField(_("written notice to the property company (minutes)"), default=8 * 60)
    internal_reply_days = models.PositiveSmallIntegerField(_("internal replies (working days)"), default=3)
    calendar = models.JSONField(
        _("working hours"), default=dict, blank=True, help_text=_("Leave empty to use the company calendar.")
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from .sla import calendar_config_errors

        if self.calendar:
            errors = calendar_config_errors(self.calendar, [], [])
            if errors:
                raise ValidationError({"calendar": [m for messages in errors.values() for m in messages]})


class RoutingRule(models.Model):
    """Where new cases go: conditions (empty = any) → a department and optionally a team served in turn.

    Rules are tried by `sort`; the first active match wins. `category` matches descendants too;
    `building` matches when one of the case's units is in it. `last_assignee` is the round-robin
    pointer, moved under a row lock so that concurrent intakes take turns.
    """

    name = models.CharField(_("name"), max_length=100)
    sort = models.PositiveIntegerField(_("sort order"), default=100)
    active = models.BooleanField(_("active"), default=True)
    company = models.ForeignKey(
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    project = models.ForeignKey(
        Project, verbose_name=_("project"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    building = models.ForeignKey(
        Building, verbose_name=_("building"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    case_type = models.CharField(_("type"), max_length=12, choices=CaseType.choices, blank=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.CASCADE, related_name="+")
    team = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("team"), blank=True, related_name="+")
    last_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return self.name


# Status lists in one fixed order: SQLite matches a query to a partial index (`case_open_by_due`)
# only when its IN list is the index condition's, in the same order; a set's order varies by process.
_OPEN = sorted(OPEN_STATUSES)
_ACTIVE = sorted(OPEN_STATUSES | PAUSED_STATUSES)


class CaseQuerySet(models.QuerySet):
    """Queue and deadline filters. Overdue and due-soon are queries on stored deadlines, never timers."""

    def open(self):
        return self.filter(status__in=_OPEN)

    def active(self):
        """Open or suspended: the work still to do."""
        return self.filter(status__in=_ACTIVE)

    def overdue(self, now=None):
        """Open (not suspended) cases past their resolution deadline."""
        return self.open().filter(resolution_due__lt=now or timezone.now())

    def response_overdue(self, now=None):
        return self.open().filter(responded_at__isnull=True, response_due__lt=now or timezone.now())

    def due_soon(self, within: timedelta = timedelta(hours=2), now=None):
        """Open cases whose resolution deadline falls in the next `within` (not yet overdue)."""
        now = now or timezone.now()
        return self.open().filter(resolution_due__gte=now, resolution_due__lt=now + within)

    def awaiting_follow_up(self):
        """Closed cases with a follow-up call still to make. EXISTS, not a join: a join needs DISTINCT
        over every selected column, which made the manager's page four times slower."""
        pending = FollowUp.objects.filter(case=OuterRef("pk"), done_at__isnull=True)
        return self.filter(Exists(pending), status=CaseStatus.CLOSED)

    def at_risk(self):
        """Open or suspended cases with a risk flag (the "major" queue); `case_at_risk_newest` serves it."""
        return self.active().filter(AT_RISK)

    def unassigned(self):
        """Open or suspended cases not yet dispatched to a department or a person (the specialist's
        queue for routing by hand); `case_unassigned_newest` serves it."""
        return self.active().filter(UNASSIGNED)


# A risk flag raised. Kept as one expression: SQLite uses a partial index only for the very same condition.
AT_RISK = Q(risk_major=True) | Q(risk_group=True) | Q(risk_media=True) | Q(risk_government=True)
# Not dispatched yet. One expression for the same reason.
UNASSIGNED = Q(assignee__isnull=True, department__isnull=True)


class Case(TimeStampedModel):
    """A service request (诉求): who called about what, who owns it, where it stands and its deadlines.

    `owner` is the first-contact owner (首问负责人): the staff member who recorded it; only
    `do_change_case_owner` changes it, with an event. `version` grows with every change of state,
    so a stale edit is refused instead of overwriting someone else's. Deadlines are stored by
    `sla.apply_sla`; `total_paused` is the working time spent suspended.
    """

    number = models.CharField(_("number"), max_length=24, unique=True, editable=False)
    # project, owner, department and assignee are looked up through the composite indexes in Meta,
    # which begin with them; single-column indexes as well would only slow down every intake.
    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    case_type = models.CharField(_("type"), max_length=12, choices=CaseType.choices)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.NORMAL)
    units = models.ManyToManyField(Unit, verbose_name=_("units"), blank=True, related_name="cases", through="CaseUnit")
    party = models.ForeignKey(
        Party, verbose_name=_("customer"), null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    caller_name = models.CharField(_("caller name"), max_length=50, blank=True)
    caller_phone = models.CharField(_("caller phone"), max_length=20, blank=True)
    description = models.TextField(_("description"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("first-contact owner"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    status = models.CharField(_("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.RECORDED)
    # Where a suspended case returns to when it resumes.
    resume_status = models.CharField(max_length=20, choices=CaseStatus.choices, blank=True, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    reopened_count = models.PositiveSmallIntegerField(_("times reopened"), default=0, editable=False)

    risk_major = models.BooleanField(_("major complaint"), default=False)
    risk_group = models.BooleanField(_("group complaint"), default=False)
    risk_media = models.BooleanField(_("media involved"), default=False)
    risk_government = models.BooleanField(_("government involved"), default=False)

    repeat_of = models.ForeignKey(
        "self", verbose_name=_("repeat of"), null=True, blank=True, on_delete=models.SET_NULL, related_name="repeats"
    )
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    search_text = models.TextField(blank=True, editable=False)
    # The client's Idempotency-Key: the same intake sent twice by one staff member creates one case.
    intake_key = models.CharField(max_length=64, blank=True, editable=False)

    sla_policy = models.ForeignKey(
        SlaPolicy, verbose_name=_("SLA policy"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sla_state = models.CharField(_("SLA state"), max_length=10, choices=SlaState.choices, blank=True)
    response_due = models.DateTimeField(_("respond by"), null=True, blank=True)
    plan_due = models.DateTimeField(_("plan by"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolve by"), null=True, blank=True)
    reply_due = models.DateTimeField(_("reply by"), null=True, blank=True)
    notice_due = models.DateTimeField(_("notify the property company by"), null=True, blank=True)
    # When customer service recorded the written notice to the property company (`do_record_notice`).
    noticed_at = models.DateTimeField(_("property company notified at"), null=True, blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    plan_confirmed_at = models.DateTimeField(_("plan confirmed at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The SLA clock starts at `received_at` and starts again when the case is reopened.
    sla_started_at = models.DateTimeField(_("clock started at"), null=True, blank=True)
    paused_since = models.DateTimeField(_("paused since"), null=True, blank=True)
    # Working time spent suspended since `sla_started_at`; deadlines are that much later.
    total_paused = models.DurationField(_("total paused working time"), default=timedelta)
    # Working minutes from receipt to resolution, pauses excluded; set on closing, read by reports.
    handling_minutes = models.PositiveIntegerField(_("handling time (working minutes)"), null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-received_at", "-id"]
        indexes = [
            # Queues and the overdue sweep: open cases by deadline.
            models.Index(fields=["status", "resolution_due"], name="case_status_resolution_due"),
            # The sweep asks for cases still waiting for a first response; answered cases, whose
            # response_due lies in the past too, are skipped by putting responded_at first.
            models.Index(fields=["status", "responded_at", "response_due"], name="case_response_pending"),
            models.Index(fields=["plan_due"], condition=Q(plan_confirmed_at__isnull=True), name="case_plan_pending"),
            models.Index(fields=["reply_due"], condition=Q(replied_at__isnull=True), name="case_reply_pending"),
            # The sweep's notice deadline: only complaints handed to the property company and not yet notified.
            models.Index(fields=["notice_due"], condition=Q(noticed_at__isnull=True), name="case_notice_pending"),
            # Lists are newest first; without these every page sorts all matching rows.
            models.Index(fields=["project", "-received_at", "-id"], name="case_project_received"),
            models.Index(fields=["project", "status", "-received_at", "-id"], name="case_project_status_received"),
            models.Index(fields=["-received_at", "-id"], name="case_received"),
            models.Index(fields=["project", "status"], name="case_project_status"),
            # The overdue and due-today lists, most pressing first, across all projects in scope:
            # read in deadline order and stopped after one page instead of sorting every match.
            models.Index(
                fields=["resolution_due", "id"],
                condition=Q(status__in=sorted(OPEN_STATUSES)),
                name="case_open_by_due",
            ),
            # Overdue and due-today queues of a project: open statuses by resolution deadline.
            models.Index(fields=["project", "status", "resolution_due"], name="case_project_status_due"),
            # The major queue: a few flagged requests among a million, newest first, whatever the
            # projects and statuses asked for (they filter the walk; a prefix on them would need a sort).
            # The same for one project, which SQLite would otherwise walk along `case_project_received`.
            models.Index(fields=["-received_at", "-id"], condition=AT_RISK, name="case_at_risk_newest"),
            models.Index(fields=["project", "-received_at", "-id"], condition=AT_RISK, name="case_project_at_risk"),
            # The unassigned queue likewise: without them SQLite reads every case nobody is assigned to.
            models.Index(fields=["-received_at", "-id"], condition=UNASSIGNED, name="case_unassigned_newest"),
            models.Index(
                fields=["project", "-received_at", "-id"], condition=UNASSIGNED, name="case_project_unassigned"
            ),
            models.Index(fields=["assignee", "status"], name="case_assignee_status"),
            models.Index(fields=["department", "status"], name="case_department_status"),
            models.Index(fields=["owner", "status"], name="case_owner_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "intake_key"], condition=~Q(intake_key=""), name="case_intake_key_unique_per_owner"
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def customer_name(self) -> str:
        return self.party.name if self.party_id else self.caller_name


class CaseUnit(models.Model):
    """A unit a request concerns.

    `received_at` repeats the request's (it never changes after intake) so that the repeat-complaint
    check (`repeat.find_repeat_of`) reads a unit's requests of the last 30 days, newest first, from one
    index instead of every request the unit ever had.
    """

    # Look-ups by case use the unique (case, unit) index, by unit the (unit, received_at) one.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, db_index=False)
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, db_index=False)
    received_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "cases_case_units"
        unique_together = [("case", "unit")]
        indexes = [models.Index(fields=["unit", "received_at", "case"], name="case_unit_received")]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.unit_id}"


class CaseEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Case events are immutable.")


class CaseEvent(models.Model):
    """One entry of a case's timeline: who did what when, and what the customer may see.

    Written once by a service (`seq` counts from 1 per case) and never changed. `from_status`
    and `to_status` are the case statuses around the change (equal when the status did not move);
    `data` holds details such as the task, the routing rule or the close reason.
    """

    case = models.ForeignKey(Case, verbose_name=_("service request"), on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField(_("sequence"))
    time = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=24, choices=EventKind.choices)
    from_status = models.CharField(_("from"), max_length=20, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=CaseStatus.choices, blank=True)
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ["case_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="case_event_seq_unique")]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.kind}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Case events are immutable.")
        super().save(*args, **kwargs)


class CaseTask(TimeStampedModel):
    """One part of a case for one department or person (问题分解): plan, work, report, acceptance.

    Repair tasks are accepted twice: by engineering (the work) and by cost (the bill); the task is
    `accepted` when both have signed. Other tasks need one acceptance. `version` guards edits of
    the task itself; the case row is locked too, so the all-tasks-done check sees every task.
    """

    case = models.ForeignKey(Case, verbose_name=_("service request"), on_delete=models.CASCADE, related_name="tasks")
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    title = models.CharField(_("title"), max_length=200)
    due = models.DateTimeField(_("due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    plan = models.TextField(_("plan"), blank=True)
    plan_proposed_at = models.DateTimeField(_("plan proposed at"), null=True, blank=True)
    plan_confirmed_at = models.DateTimeField(_("plan confirmed at"), null=True, blank=True)
    plan_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    report = models.TextField(_("completion report"), blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    engineering_accepted_at = models.DateTimeField(_("engineering accepted at"), null=True, blank=True)
    engineering_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cost_accepted_at = models.DateTimeField(_("cost accepted at"), null=True, blank=True)
    cost_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejection_note = models.TextField(_("rejection reason"), blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["case_id", "id"]
        indexes = [
            models.Index(fields=["department", "status"], name="casetask_department_status"),
            models.Index(fields=["assignee", "status"], name="casetask_assignee_status"),
            models.Index(fields=["status", "due"], name="casetask_status_due"),
        ]

    def __str__(self) -> str:
        return self.title


class FollowUp(models.Model):
    """The follow-up call (回访) after a case closes: due by policy, tried `attempts` times, one outcome.

    A pending follow-up has no `done_at`; "unreachable" counts an attempt and leaves it pending.
    """

    case = models.ForeignKey(
        Case, verbose_name=_("service request"), on_delete=models.CASCADE, related_name="follow_ups"
    )
    due = models.DateTimeField(_("due"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    outcome = models.CharField(_("outcome"), max_length=20, choices=FollowUpOutcome.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("called by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due", "id"]
        indexes = [models.Index(fields=["done_at", "due"], name="followup_pending_due")]

    def __str__(self) -> str:
        return f"{self.case} {self.due:%Y-%m-%d %H:%M}"


class Attachment(models.Model):
    """A photo, drawing or signed form on a case (or one of its tasks)."""

    case = models.ForeignKey(
        Case, verbose_name=_("service request"), on_delete=models.CASCADE, related_name="attachments"
    )
    task = models.ForeignKey(
        CaseTask, verbose_name=_("task"), null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="cases/%Y/%m/")
    name = models.CharField(_("name"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class CaseNumberCounter(models.Model):
    """The last case number handed out on one day; locked while a number is taken (see numbering.py)."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("case number counter")
        verbose_name_plural = _("case number counters")

    def __str__(self) -> str:
        return f"{self.day} {self.last}"
