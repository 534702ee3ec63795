"""Console pages of service requests: the workbench, the case page, the hotline entry form and follow-up calls.

Views are thin: they read through `queries` (scoped; a request outside the user's scope is a 404),
write through one `services.do_…` function per action with the version the page showed, and render.
Which buttons a page shows comes from the same rules the services enforce (`permissions.may` and
`services.ALLOWED_FROM`), so a button is never offered for an action that would be refused.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.core.errors import field_errors
from guanjia.core.files import file_download
from guanjia.core.htmx import is_htmx
from guanjia.core.paging import CappedPaginator
from guanjia.estate.models import Occupancy, Unit
from guanjia.estate.queries import search_parties, units_for, units_matching_room
from guanjia.org.models import Department, Staff
from guanjia.privacy.masking import phone_shower
from guanjia.telephony.intake import call_intake

from . import services
from .choices import (
    DONE_STATUSES,
    OPEN_STATUSES,
    UNFINISHED_TASK_STATUSES,
    Acceptance,
    CaseStatus,
    CaseType,
    DissatisfiedAction,
    EventKind,
    FollowUpOutcome,
    Severity,
    SlaState,
    TaskStatus,
    Visibility,
)
from .errors import CaseConflict, CaseTransitionError
from .filters import VIEWS, CaseFilterSet
from .forms import (
    AcceptForm,
    BulkDispatchForm,
    CaseForm,
    CloseForm,
    DispatchForm,
    FollowUpForm,
    MergeForm,
    NoteForm,
    OptionalNoteForm,
    PlanForm,
    ReasonForm,
    ReportForm,
    SplitForm,
    VersionedForm,
)
from .models import Attachment
from .permissions import OFFICE, may, may_accept_as
from .phrases import render_phrases
from .queries import (
    access_case_by_id,
    access_follow_up_by_id,
    access_task_by_id,
    cases_for,
    events_of,
    follow_ups_for,
    open_cases_of,
    tasks_for,
)
from .sla import FOLLOW_UP_MAX_ATTEMPTS

STATUS_COLOURS = {
    CaseStatus.RECORDED: "azure",
    CaseStatus.DISPATCHED: "blue",
    CaseStatus.IN_PROGRESS: "indigo",
    CaseStatus.AWAITING_ACCEPTANCE: "purple",
    CaseStatus.SUSPENDED: "yellow",
    CaseStatus.REOPENED: "orange",
    CaseStatus.CLOSED: "green",
    CaseStatus.FOLLOWED_UP: "teal",
    CaseStatus.ARCHIVED: "secondary",
}
TYPE_COLOURS = {
    CaseType.COMPLAINT: "red",
    CaseType.REPAIR: "orange",
    CaseType.INQUIRY: "cyan",
    CaseType.SUGGESTION: "lime",
    CaseType.PRAISE: "green",
    CaseType.HELP: "purple",
}
TASK_COLOURS = {
    TaskStatus.OPEN: "azure",
    TaskStatus.PLAN_PROPOSED: "purple",
    TaskStatus.PLAN_CONFIRMED: "indigo",
    TaskStatus.DONE: "teal",
    TaskStatus.ACCEPTED: "green",
    TaskStatus.REJECTED: "orange",
    TaskStatus.CANCELLED: "secondary",
}
OUTCOME_COLOURS = {
    FollowUpOutcome.SATISFIED: "green",
    FollowUpOutcome.BASICALLY_SATISFIED: "teal",
    FollowUpOutcome.DISSATISFIED: "red",
    FollowUpOutcome.UNREACHABLE: "yellow",
}
DUE_SOON = timedelta(hours=2)


def _page(request, queryset):
    return CappedPaginator(queryset, settings.GUANJIA_PAGE_SIZE).get_page(request.GET.get("page"))


def _span(delta: timedelta) -> str:
    """A short duration: 2 d 3 h, 3 h 20 min, 12 min."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    return _("%(m)s min") % {"m": minutes}


def _units_prefetch() -> Prefetch:
    return Prefetch("units", queryset=Unit.objects.select_related("building", "entrance"))


def sla_badge(case, now) -> dict | None:
    """The list's SLA column: paused, overdue, due soon or time left on the resolution deadline."""
    if case.status in DONE_STATUSES:
        if case.sla_state == SlaState.BREACHED:
            return {"colour": "red", "text": _("Breached")}
        if case.sla_state == SlaState.MET:
            return {"colour": "green", "text": _("Met")}
        return None
    if case.status == CaseStatus.SUSPENDED or case.paused_since:
        return {"colour": "yellow", "text": _("Paused")}
    if case.resolution_due is None:
        return None
    if case.resolution_due < now:
        return {"colour": "red", "text": _("Overdue %(span)s") % {"span": _span(now - case.resolution_due)}}
    left = case.resolution_due - now
    colour = "orange" if left <= DUE_SOON else "secondary"
    return {"colour": colour, "text": _("%(span)s left") % {"span": _span(left)}}


def _decorate(cases, user, now) -> None:
    show_phone = phone_shower(user)
    for case in cases:
        case.status_colour = STATUS_COLOURS.get(case.status, "secondary")
        case.type_colour = TYPE_COLOURS.get(case.case_type, "secondary")
        case.phone_shown = show_phone(case.party.phone if case.party_id else case.caller_phone)
        case.sla = sla_badge(case, now)
        case.unit_labels = [u.label for u in case.units.all()]


# ------------------------------------------------------------------------------------------------ workbench


@login_required
def workbench(request):
    filters = CaseFilterSet(request.GET, request.user, current_project_id=request.current_project_id)
    page = _page(request, filters.qs)
    _decorate(page, request.user, timezone.now())
    may_bulk = request.user.is_superuser or request.user.role in OFFICE
    context = {
        "filters": filters,
        "page": page,
        "views": VIEWS,
        "current_view": filters.view,
        "may_bulk": may_bulk,
        "bulk_form": BulkDispatchForm(user=request.user) if may_bulk else None,
        "may_record": may(request.user, "record"),
    }
    template = "cases/_case_table.html" if is_htmx(request) else "cases/workbench.html"
    return render(request, template, context)


@login_required
@require_POST
def bulk_dispatch(request):
    """Dispatch each ticked request with the version its row showed; report the ones that failed."""
    form = BulkDispatchForm(request.POST, user=request.user)
    back = reverse("cases:workbench") + _safe_query(request.POST.get("query", ""))
    if not form.is_valid():
        for message in _error_lines(form.errors, form):
            messages.error(request, message)
        return redirect(back)
    department, assignee = form.cleaned_data["department"], form.cleaned_data["assignee"]
    cases = {c.pk: c for c in cases_for(request.user).filter(pk__in=form.cleaned_data["cases"])}
    done, failed = [], []
    for case_id in form.cleaned_data["cases"]:
        case = cases.get(case_id)
        if case is None:
            failed.append((str(case_id), _("This request does not exist or is outside your scope.")))
            continue
        version = request.POST.get(f"version_{case_id}")
        try:
            services.do_dispatch_case(
                request.user,
                case,
                expected_version=int(version) if version and version.isdigit() else case.version,
                department=department,
                assignee=assignee,
            )
        except CaseConflict:
            failed.append((case.number, _("changed by someone else in the meantime")))
        except (ValidationError, PermissionDenied) as exc:
            failed.append((case.number, " ".join(_error_lines(exc))))
        else:
            done.append(case.number)
    if done:
        messages.success(request, _("Dispatched: %(numbers)s") % {"numbers": "、".join(done)})
    for number, reason in failed:
        messages.error(request, _("%(number)s was not dispatched: %(reason)s") % {"number": number, "reason": reason})
    return redirect(back)


def _safe_query(query: str) -> str:
    query = query.lstrip("?")
    return f"?{query}" if query and "\n" not in query and "//" not in query else ""


# ------------------------------------------------------------------------------------------------ the case page


@dataclass
class Clock:
    label: str
    due: object
    done: object
    state: str  # met, late, paused, overdue, soon, running
    text: str


def sla_clocks(case, now) -> list[Clock]:
    rows = [
        (_("First response"), case.response_due, case.responded_at),
        (_("Plan"), case.plan_due, case.plan_confirmed_at),
        (_("Resolution"), case.resolution_due, case.resolved_at),
        (_("Reply to the customer"), case.reply_due, case.replied_at),
        (_("Written notice to the property company"), case.notice_due, case.noticed_at),
    ]
    clocks = []
    for label, due, done in rows:
        if due is None:
            continue
        if done is not None:
            state = "met" if done <= due else "late"
            text = _("Done") if state == "met" else _("Done %(span)s late") % {"span": _span(done - due)}
        elif case.status in DONE_STATUSES:
            state, text = "running", "—"
        elif case.paused_since:
            state, text = (
                "paused",
                _("Paused since %(time)s") % {"time": timezone.localtime(case.paused_since).strftime("%m-%d %H:%M")},
            )
        elif due < now:
            state, text = "overdue", _("Overdue %(span)s") % {"span": _span(now - due)}
        else:
            state = "soon" if due - now <= DUE_SOON else "running"
            text = _("%(span)s left") % {"span": _span(due - now)}
        clocks.append(Clock(label, due, done, state, text))
    return clocks


CASE_ACTIONS = (
    "dispatch",
    "split",
    "start",
    "submit",
    "notice",
    "suspend",
    "resume",
    "close",
    "reopen",
    "archive",
    "merge",
)


def allowed_case_actions(user, case, *, pending_follow_up: bool) -> list[str]:
    """The case actions this user may take now, by the services' own rules."""
    allowed = []
    for action in CASE_ACTIONS:
        if case.status not in services.ALLOWED_FROM[action] or not may(user, action, case):
            continue
        if action == "archive" and pending_follow_up:
            continue
        if action == "merge" and case.merged_into_id:
            continue
        if action == "notice" and (case.notice_due is None or case.noticed_at is not None):
            continue
        allowed.append(action)
    return allowed


def allowed_task_actions(user, case, task) -> list[str]:
    """The task actions this user may take now; repair tasks are accepted by engineering and by cost."""
    allowed = []
    status = task.status
    if status in (TaskStatus.OPEN, TaskStatus.REJECTED) and may(user, "propose_plan", case, task):
        if not (status == TaskStatus.REJECTED and task.plan_confirmed_at):
            allowed.append("propose_plan")
    if status == TaskStatus.PLAN_PROPOSED and may(user, "confirm_plan", case, task):
        allowed += ["confirm_plan", "reject_task"]
    reworking = status == TaskStatus.REJECTED and task.plan_confirmed_at is not None
    if (status == TaskStatus.PLAN_CONFIRMED or reworking) and may(user, "complete_task", case, task):
        allowed.append("complete_task")
    if status == TaskStatus.DONE:
        if case.case_type == CaseType.REPAIR:
            signable = [
                a for a in Acceptance.values if getattr(task, f"{a}_accepted_at") is None and may_accept_as(user, a)
            ]
            if signable:
                task.signable = [(a, Acceptance(a).label) for a in signable]
                allowed.append("accept_task")
            if may_accept_as(user, Acceptance.ENGINEERING) or may_accept_as(user, Acceptance.COST):
                allowed.append("reject_task")
        elif may(user, "accept_task", case, task):
            allowed += ["accept_task", "reject_task"]
    if status in UNFINISHED_TASK_STATUSES and may(user, "cancel_task", case, task):
        allowed.append("cancel_task")
    return allowed


def _event_rows(case, events) -> list[dict]:
    """Timeline rows with the names behind the ids stored in the events' details."""
    department_ids, staff_ids = set(), set()
    for event in events:
        data = event.data or {}
        if data.get("department"):
            department_ids.add(data["department"])
        for key in ("assignee", "from", "to"):
            if event.kind in (EventKind.DISPATCHED, EventKind.OWNER_CHANGED) and data.get(key):
                staff_ids.add(data[key])
    departments = dict(Department.objects.filter(pk__in=department_ids).values_list("pk", "name"))
    staff = {s.pk: str(s) for s in Staff.objects.filter(pk__in=staff_ids).only("username", "display_name")}
    rows = []
    for event in events:
        data, details = event.data or {}, []
        if event.kind == EventKind.DISPATCHED:
            if data.get("department"):
                details.append(departments.get(data["department"], ""))
            if data.get("assignee"):
                details.append(staff.get(data["assignee"], ""))
            if data.get("rule"):
                details.append(_("by a routing rule"))
        if event.kind == EventKind.OWNER_CHANGED:
            details.append(f"{staff.get(data.get('from'), '')} → {staff.get(data.get('to'), '')}")
        if event.kind == EventKind.FOLLOWED_UP and data.get("outcome") in FollowUpOutcome.values:
            details.append(str(FollowUpOutcome(data["outcome"]).label))
            if data.get("attempt"):
                details.append(_("attempt %(n)s") % {"n": data["attempt"]})
        if data.get("reason"):
            details.append(_("Reason: %(reason)s") % {"reason": data["reason"]})
        if data.get("number"):
            details.append(data["number"])
        rows.append(
            {
                "event": event,
                "details": [d for d in details if d],
                "customer": event.visibility == Visibility.CUSTOMER,
                "moved": event.from_status != event.to_status and event.from_status,
                "to_colour": STATUS_COLOURS.get(event.to_status, "secondary"),
            }
        )
    return rows


@login_required
def case_detail(request, pk):
    user = request.user
    case = access_case_by_id(user, pk)
    now = timezone.now()
    units = list(case.units.select_related("building", "entrance"))
    tasks = list(tasks_for(user).filter(case=case).select_related("completed_by").order_by("id"))
    for task in tasks:
        task.colour = TASK_COLOURS.get(task.status, "secondary")
        task.actions = allowed_task_actions(user, case, task)
        task.overdue = task.due and task.status in UNFINISHED_TASK_STATUSES and task.due < now
    follow_ups = list(case.follow_ups.select_related("agent").order_by("-id"))
    pending = next((f for f in follow_ups if f.done_at is None), None)
    actions = allowed_case_actions(user, case, pending_follow_up=pending is not None)
    unfinished = any(t.status in UNFINISHED_TASK_STATUSES for t in tasks) or (
        "close" in actions and case.tasks.filter(status__in=UNFINISHED_TASK_STATUSES).exists()
    )
    initial = {"version": case.version}
    forms = {
        "dispatch": DispatchForm(user=user, initial={**initial, "department": case.department_id}),
        "split": SplitForm(user=user, initial=initial),
        "close": CloseForm(initial=initial),
        "suspend": ReasonForm(initial=initial),
        "reopen": ReasonForm(initial=initial),
        "merge": MergeForm(user=user, initial=initial),
        "note": NoteForm(initial=initial),
    }
    party = case.party
    occupancies = []
    if party is not None:
        visible_units = units_for(user).values("pk")
        occupancies = list(
            Occupancy.objects.current()
            .filter(party=party, unit__in=visible_units)
            .select_related("unit__building", "unit__entrance")
        )
    show_phone = phone_shower(user)
    context = {
        "case": case,
        "status_colour": STATUS_COLOURS.get(case.status, "secondary"),
        "type_colour": TYPE_COLOURS.get(case.case_type, "secondary"),
        "units": units,
        "party": party,
        "occupancies": occupancies,
        "phone": show_phone(party.phone if party else case.caller_phone),
        "events": _event_rows(case, list(events_of(case))),
        "tasks": tasks,
        "attachments": list(case.attachments.all()),
        "clocks": sla_clocks(case, now),
        "actions": actions,
        "forms": forms,
        "unfinished": unfinished,
        "follow_ups": follow_ups,
        "pending_follow_up": pending,
        "may_follow_up": pending is not None
        and case.status in services.ALLOWED_FROM["follow_up"]
        and may(user, "follow_up", case),
        "risks": [
            label
            for flag, label in (
                (case.risk_major, _("Major complaint")),
                (case.risk_group, _("Group complaint")),
                (case.risk_media, _("Media involved")),
                (case.risk_government, _("Government involved")),
            )
            if flag
        ],
        "severity_colour": {"urgent": "orange", "major": "red"}.get(case.severity, "secondary"),
        "is_major": case.severity == Severity.MAJOR,
        "outcome_colours": OUTCOME_COLOURS,
        "may_note": may(user, "note", case),
    }
    return render(request, "cases/case_detail.html", context)


@login_required
def case_attachment(request, pk, attachment_pk):
    """A file of a request the user may see, streamed through that check (never from a public URL)."""
    case = access_case_by_id(request.user, pk)
    attachment = get_object_or_404(Attachment, case=case, pk=attachment_pk)
    return file_download(attachment.file, attachment.name)


def _error_lines(error, form=None) -> list[str]:
    """Readable messages from a ValidationError or form errors, each prefixed with its field's label."""
    errors = field_errors(error) if isinstance(error, ValidationError) else {k: list(v) for k, v in error.items()}
    lines = []
    for field, items in errors.items():
        label = ""
        if form is not None and field in form.fields:
            label = str(form.fields[field].label or "")
        else:
            label = str(FIELD_LABELS.get(field, ""))
        for message in items:
            lines.append(f"{label}：{message}" if label else str(message))
    return lines


FIELD_LABELS = {
    "reason": _("Reason"),
    "note": _("Note"),
    "department": _("Department"),
    "assignee": _("Assignee"),
    "title": _("Task"),
    "due": _("Due"),
    "into": _("Merge into"),
    "plan": _("Plan"),
    "report": _("What was done"),
    "acceptance": _("Acceptance"),
    "outcome": _("Outcome"),
}


def conflict_message() -> str:
    return _("This request was changed by someone else in the meantime; nothing was saved. Reload and try again.")


def _run(request, form, call) -> bool:
    """Validate the form and call the service; turn every refusal into a message. True on success."""
    if not form.is_valid():
        for line in _error_lines(form.errors, form):
            messages.error(request, line)
        return False
    try:
        call(form.cleaned_data)
    except CaseConflict:
        messages.error(request, conflict_message())
    except CaseTransitionError as exc:
        messages.error(request, exc.messages[0])
    except ValidationError as exc:
        for line in _error_lines(exc, form):
            messages.error(request, line)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("You may not do this."))
    else:
        return True
    return False


_CASE_DONE = {
    "dispatch": _("Dispatched."),
    "split": _("Task added."),
    "start": _("Work started."),
    "submit": _("Submitted for acceptance."),
    "close": _("Request closed."),
    "suspend": _("Request suspended."),
    "resume": _("Request resumed."),
    "reopen": _("Request reopened."),
    "archive": _("Request archived."),
    "merge": _("Merged."),
    "note": _("Note added."),
    "notice": _("Written notice recorded."),
}


@login_required
def case_action(request, pk, action):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = request.user
    case = access_case_by_id(user, pk)
    data = request.POST
    s = services

    def v(d):
        return d["version"]

    split_form = SplitForm(data, user=user)
    handlers = {
        "dispatch": (
            DispatchForm(data, user=user),
            lambda d: s.do_dispatch_case(
                user, case, expected_version=v(d), department=d["department"], assignee=d["assignee"], note=d["note"]
            ),
        ),
        "split": (split_form, lambda d: s.do_split_case(user, case, expected_version=v(d), parts=split_form.parts())),
        "start": (OptionalNoteForm(data), lambda d: s.do_start_case(user, case, expected_version=v(d), note=d["note"])),
        "submit": (
            OptionalNoteForm(data),
            lambda d: s.do_submit_for_acceptance(user, case, expected_version=v(d), note=d["note"]),
        ),
        "close": (
            CloseForm(data),
            lambda d: s.do_close_case(user, case, expected_version=v(d), note=d["note"], reason=d["reason"]),
        ),
        "suspend": (
            ReasonForm(data),
            lambda d: s.do_suspend_case(user, case, expected_version=v(d), reason=d["reason"]),
        ),
        "resume": (
            OptionalNoteForm(data),
            lambda d: s.do_resume_case(user, case, expected_version=v(d), note=d["note"]),
        ),
        "reopen": (ReasonForm(data), lambda d: s.do_reopen_case(user, case, expected_version=v(d), reason=d["reason"])),
        "archive": (VersionedForm(data), lambda d: s.do_archive_case(user, case, expected_version=v(d))),
        "merge": (
            MergeForm(data, user=user),
            lambda d: s.do_merge_cases(user, case, into=d["into"], expected_version=v(d), note=d["note"]),
        ),
        "note": (NoteForm(data), lambda d: s.do_add_note(user, case, note=d["note"], visibility=d["visibility"])),
        "notice": (
            OptionalNoteForm(data),
            lambda d: s.do_record_notice(user, case, expected_version=v(d), note=d["note"]),
        ),
    }
    if action not in handlers:
        return redirect("cases:case_detail", pk=case.pk)
    form, call = handlers[action]
    if _run(request, form, call):
        messages.success(request, _CASE_DONE[action])
        if action == "merge":
            return redirect("cases:case_detail", pk=form.cleaned_data["into"].pk)
    return redirect("cases:case_detail", pk=case.pk)


_TASK_DONE = {
    "propose_plan": _("Plan proposed."),
    "confirm_plan": _("Plan confirmed."),
    "complete_task": _("Task completed."),
    "accept_task": _("Acceptance signed."),
    "reject_task": _("Task sent back."),
    "cancel_task": _("Task cancelled."),
}


@login_required
def task_action(request, pk, action):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = request.user
    task = access_task_by_id(user, pk)
    data = request.POST
    s = services
    handlers = {
        "propose_plan": (
            PlanForm(data),
            lambda d: s.do_propose_plan(user, task, expected_version=d["version"], plan=d["plan"]),
        ),
        "confirm_plan": (
            OptionalNoteForm(data),
            lambda d: s.do_confirm_plan(user, task, expected_version=d["version"], note=d["note"]),
        ),
        "complete_task": (
            ReportForm(data),
            lambda d: s.do_complete_task(user, task, expected_version=d["version"], report=d["report"]),
        ),
        "accept_task": (
            AcceptForm(data),
            lambda d: s.do_accept_task(user, task, expected_version=d["version"], acceptance=d["acceptance"] or None),
        ),
        "reject_task": (
            ReasonForm(data),
            lambda d: s.do_reject_task(user, task, expected_version=d["version"], reason=d["reason"]),
        ),
        "cancel_task": (
            ReasonForm(data),
            lambda d: s.do_cancel_task(user, task, expected_version=d["version"], reason=d["reason"]),
        ),
    }
    if action in handlers:
        form, call = handlers[action]
        if _run(request, form, call):
            messages.success(request, _TASK_DONE[action])
    return redirect("cases:case_detail", pk=task.case_id)


# ------------------------------------------------------------------------------------------------ hotline entry


@login_required
def case_new(request):
    user = request.user
    if not may(user, "record"):
        raise PermissionDenied
    initial = {}
    projects = list(CaseForm(user=user).fields["project"].queryset.values_list("pk", flat=True)[:2])
    if request.current_project_id:
        initial["project"] = request.current_project_id
    elif len(projects) == 1:
        initial["project"] = projects[0]
    call = call_intake(request, initial)  # taken during a hotline call (?call=): prefilled, linked below
    form = CaseForm(request.POST or None, user=user, initial=initial)
    picked = call.picked if call else None
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                case = services.do_record_case(
                    user,
                    project=d["project"],
                    case_type=d["case_type"],
                    channel=d["channel"],
                    description=d["description"],
                    category=d["category"],
                    severity=d["severity"],
                    units=d["units"],
                    party=d["party"],
                    caller_name=d["caller_name"],
                    caller_phone=d["caller_phone"],
                    risk_major=d["risk_major"],
                    risk_group=d["risk_group"],
                    risk_media=d["risk_media"],
                    risk_government=d["risk_government"],
                    idempotency_key=d["idempotency_key"],
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                if call:
                    call.link(case)
                messages.success(request, _("Request %(number)s recorded.") % {"number": case.number})
                return redirect("cases:case_detail", pk=case.pk)
        picked = _picked(form)
    return render(request, "cases/case_new.html", {"form": form, "picked": picked})


def _picked(form) -> dict | None:
    """What was picked before a failed submit, so the page shows it again."""
    party = form.cleaned_data.get("party") if hasattr(form, "cleaned_data") else None
    units = form.cleaned_data.get("units") if hasattr(form, "cleaned_data") else None
    if not party and not units:
        return None
    return {
        "party": party.pk if party else "",
        "party_label": party.name if party else "",
        "units": ",".join(str(u.pk) for u in units or []),
        "unit_label": "、".join(u.label for u in units or []),
    }


@login_required
def lookup(request):
    """The hotline form's live search: parties by phone (tail), room or name, their units and open requests."""
    user = request.user
    text = (request.GET.get("q") or "").strip()
    show_phone = phone_shower(user)
    context = {"q": text, "parties": [], "rooms": [], "open_cases": {}}
    if len(text) >= 2:
        visible_units = units_for(user).values("pk")
        current = Prefetch(
            "occupancies",
            queryset=Occupancy.objects.current()
            .filter(unit__in=visible_units)
            .select_related("unit__building", "unit__entrance", "unit__project"),
            to_attr="current_occupancies",
        )
        parties = list(search_parties(user, text).select_related("project").prefetch_related(current)[:8])
        rooms = units_matching_room(units_for(user), text)
        rooms = list(rooms.select_related("building", "entrance", "project")[:8]) if rooms is not None else []
        unit_ids = {o.unit_id for p in parties for o in p.current_occupancies} | {u.pk for u in rooms}
        found = list(
            open_cases_of(user, party_ids=[p.pk for p in parties], unit_ids=unit_ids)
            .prefetch_related("units")
            .order_by("-received_at")[:20]
        )
        by_party: dict[int, list] = {}
        by_unit: dict[int, list] = {}
        for case in found:
            case.status_colour = STATUS_COLOURS.get(case.status, "secondary")
            if case.party_id:
                by_party.setdefault(case.party_id, []).append(case)
            for unit in case.units.all():
                by_unit.setdefault(unit.pk, []).append(case)
        for party in parties:
            party.phone_shown = show_phone(party.phone)
            seen = {c.pk: c for c in by_party.get(party.pk, [])}
            for occupancy in party.current_occupancies:
                seen.update({c.pk: c for c in by_unit.get(occupancy.unit_id, [])})
            party.open_cases = list(seen.values())
            party.unit_ids = ",".join(str(o.unit_id) for o in party.current_occupancies)
            party.unit_label = "、".join(o.unit.label for o in party.current_occupancies)
            party.pick_project = (
                party.current_occupancies[0].unit.project_id if party.current_occupancies else party.project_id
            )
        for unit in rooms:
            unit.open_cases = by_unit.get(unit.pk, [])
        context.update({"parties": parties, "rooms": rooms, "all_digits": text.isdigit() and len(text) >= 7})
    return render(request, "cases/_lookup.html", context)


# ------------------------------------------------------------------------------------------------ follow-ups


@login_required
def follow_up_list(request):
    """Follow-up calls still to make, the most overdue first."""
    pending = (
        follow_ups_for(request.user)
        .filter(done_at__isnull=True)
        .select_related("case__party", "case__category", "case__project", "case__owner")
        .prefetch_related(Prefetch("case__units", queryset=Unit.objects.select_related("building", "entrance")))
        .order_by("due", "id")
    )
    page = _page(request, pending)
    now = timezone.now()
    show_phone = phone_shower(request.user)
    for follow_up in page:
        case = follow_up.case
        follow_up.overdue = follow_up.due < now
        follow_up.when = _span(abs(now - follow_up.due))
        follow_up.phone_shown = show_phone(case.party.phone if case.party_id else case.caller_phone)
        case.type_colour = TYPE_COLOURS.get(case.case_type, "secondary")
        case.unit_labels = [u.label for u in case.units.all()]
    return render(request, "cases/follow_up_list.html", {"page": page, "attempts": FOLLOW_UP_MAX_ATTEMPTS})


@login_required
def follow_up(request, pk):
    """The call page: what was asked and done, the phrases to read out, and the outcome."""
    user = request.user
    follow_up = access_follow_up_by_id(user, pk)
    case = access_case_by_id(user, follow_up.case_id)
    may_call = (
        follow_up.done_at is None and case.status in services.ALLOWED_FROM["follow_up"] and may(user, "follow_up", case)
    )
    form = FollowUpForm(request.POST or None, initial={"version": case.version})
    if request.method == "POST":
        if not may_call:
            raise PermissionDenied
        if form.is_valid():
            outcome = form.cleaned_data["outcome"]
            # The radio only applies to the "dissatisfied" button; the service checks the value.
            then = (form.cleaned_data["then"] or None) if outcome == FollowUpOutcome.DISSATISFIED else None
            try:
                services.do_record_follow_up(
                    user,
                    follow_up,
                    expected_version=form.cleaned_data["version"],
                    outcome=outcome,
                    note=form.cleaned_data["note"],
                    then=then,
                )
            except CaseConflict:
                messages.error(request, conflict_message())
                return redirect("cases:follow_up", pk=follow_up.pk)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                if then == DissatisfiedAction.ESCALATE:
                    messages.warning(
                        request,
                        _("Recorded: not satisfied. The request has been reopened and escalated as a major complaint."),
                    )
                    return redirect("cases:case_detail", pk=case.pk)
                if outcome == FollowUpOutcome.DISSATISFIED:
                    messages.warning(request, _("Recorded: not satisfied. The request has been reopened."))
                    return redirect("cases:case_detail", pk=case.pk)
                if outcome == FollowUpOutcome.UNREACHABLE:
                    messages.info(request, _("Recorded: could not be reached. Try again later."))
                    return redirect("cases:follow_up", pk=follow_up.pk)
                messages.success(request, _("Follow-up recorded."))
                return redirect("cases:follow_up_list")
    now = timezone.now()
    units = list(case.units.select_related("building", "entrance"))
    tasks = list(case.tasks.select_related("department", "completed_by").exclude(status=TaskStatus.CANCELLED))
    done_kinds = {EventKind.STARTED, EventKind.SUBMITTED, EventKind.CLOSED, EventKind.TASK_COMPLETED, EventKind.NOTE}
    work = [e for e in events_of(case) if e.kind in done_kinds and e.note]
    customer = case.party.name if case.party_id else case.caller_name
    phrases = render_phrases(
        customer=customer,
        company=case.project.company.name if case.project.company_id else "",
        agent=str(user),
        received=timezone.localtime(case.received_at).strftime("%m月%d日"),
        subject=case.category.name if case.category_id else case.description[:20],
    )
    context = {
        "follow_up": follow_up,
        "case": case,
        "units": units,
        "tasks": tasks,
        "work": work,
        "phone": phone_shower(user)(case.party.phone if case.party_id else case.caller_phone),
        "customer": customer,
        "phrases": [p for p in phrases if not p["situation"]],
        "situations": [p for p in phrases if p["situation"]],
        "form": form,
        "may_call": may_call,
        "overdue": follow_up.done_at is None and follow_up.due < now,
        "attempts": FOLLOW_UP_MAX_ATTEMPTS,
        "outcomes": [(value, label, OUTCOME_COLOURS[value]) for value, label in FollowUpOutcome.choices],
        "status_colour": STATUS_COLOURS.get(case.status, "secondary"),
        "type_colour": TYPE_COLOURS.get(case.case_type, "secondary"),
        "open_statuses": OPEN_STATUSES,
    }
    return render(request, "cases/follow_up.html", context)
