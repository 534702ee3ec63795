"""Scoped reads of requests, tasks and follow-ups. Every list, detail, export and API call goes through these.

Who sees which request (always inside the user's projects, `org.scope`):

* group, company and project scope: every request of the visible projects;
* department handlers: only requests their department (or they themselves) work on: the request's
  department or assignee, or one of its tasks; engineering and cost handlers also see repairs whose
  tasks wait for their acceptance;
* area scope (butlers): requests on a unit in their areas, requests without a unit from a customer
  living in their areas, and requests they own or are assigned. Requests about other areas stay
  hidden even inside the same project, since they carry other households' personal data.
"""

from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404

from guanjia.estate.models import Occupancy
from guanjia.org.choices import DepartmentKind, Role
from guanjia.org.scope import scope_of

from .choices import CaseType, TaskStatus
from .models import Case, CaseEvent, CaseTask, Category, FollowUp


def cases_for(user):
    scope = scope_of(user)
    cases = Case.objects.select_related("project", "category", "owner", "assignee", "department", "party")
    if scope.empty:
        return cases.none()
    if not scope.everything:
        cases = cases.filter(project_id__in=scope.project_ids)
    personal = Q(owner=user) | Q(assignee=user)
    if user.role == Role.HANDLER:
        task_here = CaseTask.objects.filter(case=OuterRef("pk")).filter(
            Q(assignee=user) | (Q(department_id=user.department_id) if user.department_id else Q(pk__in=[]))
        )
        department = Q(department_id=user.department_id) if user.department_id else Q(pk__in=[])
        visible = personal | department | Exists(task_here)
        if user.department_id and user.department.kind in (DepartmentKind.ENGINEERING, DepartmentKind.COST):
            # Engineering and cost sign the acceptance of every repair task, not only their own.
            awaiting = CaseTask.objects.filter(case=OuterRef("pk"), status=TaskStatus.DONE)
            visible |= Q(case_type=CaseType.REPAIR) & Exists(awaiting)
        return cases.filter(visible)
    if scope.area_ids is not None:
        units = Case.units.through.objects.filter(case_id=OuterRef("pk"))
        on_area_unit = Exists(units.filter(unit__building__area_id__in=scope.area_ids))
        party_lives_here = Exists(
            Occupancy.objects.filter(party_id=OuterRef("party_id"), unit__building__area_id__in=scope.area_ids)
        )
        return cases.filter(on_area_unit | (~Exists(units) & party_lives_here) | personal)
    return cases


def tasks_for(user):
    """A handler's tasks are those of their department or assigned to them; others see the tasks of their requests."""
    tasks = CaseTask.objects.select_related("case", "department", "assignee")
    if user.role == Role.HANDLER:
        mine = Q(assignee=user) | (Q(department_id=user.department_id) if user.department_id else Q(pk__in=[]))
        return tasks.filter(mine, Exists(cases_for(user).filter(pk=OuterRef("case_id"))))
    # EXISTS rather than IN: SQLite would otherwise materialise every visible case id first.
    return tasks.filter(Exists(cases_for(user).filter(pk=OuterRef("case_id"))))


def follow_ups_for(user):
    return FollowUp.objects.select_related("case", "agent").filter(case__in=cases_for(user).values("pk"))


def events_of(case, *, customer_only: bool = False):
    """The timeline of a case the caller has already accessed, oldest first."""
    events = CaseEvent.objects.filter(case=case).select_related("actor").order_by("seq")
    if customer_only:
        events = events.filter(visibility="customer")
    return events


def active_categories():
    return Category.objects.filter(active=True).select_related("parent")


def access_case_by_id(user, case_id) -> Case:
    return get_object_or_404(cases_for(user), pk=case_id)


def access_task_by_id(user, task_id) -> CaseTask:
    return get_object_or_404(tasks_for(user), pk=task_id)


def access_follow_up_by_id(user, follow_up_id) -> FollowUp:
    return get_object_or_404(follow_ups_for(user), pk=follow_up_id)


# ------------------------------------------------------------------------------------------------ console helpers


def open_cases_of(user, *, party_ids=(), unit_ids=()):
    """Open (or suspended) requests in the user's scope from these customers or about these units."""
    from .choices import OPEN_STATUSES, PAUSED_STATUSES

    about = Q(party_id__in=list(party_ids)) | Q(
        pk__in=Case.units.through.objects.filter(unit_id__in=list(unit_ids)).values("case_id")
    )
    return cases_for(user).filter(about, status__in=OPEN_STATUSES | PAUSED_STATUSES)


def assignable_staff(user):
    """Active staff whose scope overlaps the user's projects: the people a request may be sent to.

    The dispatch service still checks that the chosen person sees the request's own project.
    """
    from guanjia.org.choices import ScopeLevel
    from guanjia.org.models import Project, Staff

    staff = Staff.objects.filter(is_active=True).select_related("department").order_by("department__name", "username")
    scope = scope_of(user)
    if scope.everything:
        return staff
    if scope.empty:
        return staff.none()
    companies = Project.objects.filter(pk__in=scope.project_ids).values("company_id")
    return staff.filter(
        Q(scope_level=ScopeLevel.GROUP)
        | Q(scope_level=ScopeLevel.COMPANY, company_id__in=companies)
        | Q(scope_level__in=[ScopeLevel.PROJECT, ScopeLevel.AREA], project_id__in=scope.project_ids)
    )


# ------------------------------------------------------------------------------------------------ allowed actions


def allowed_actions(user, case) -> list[str]:
    """The transitions `user` may make on `case` now (role or relation, and status), as the API names them.

    The services check the same again, with the row locked; this only decides what to offer.
    """
    from .choices import CaseStatus
    from .permissions import may
    from .services import ALLOWED_FROM

    names = {"submit_for_acceptance": "submit"}
    actions = []
    for action in ("dispatch", "split", "start", "submit_for_acceptance", "close", "follow_up", "archive"):
        key = names.get(action, action)
        if case.status in ALLOWED_FROM[key] and may(user, key, case):
            actions.append(action)
    for action in ("suspend", "resume", "reopen", "merge", "change_owner", "note"):
        if (action not in ALLOWED_FROM or case.status in ALLOWED_FROM[action]) and may(user, action, case):
            actions.append(action)
    # The written notice to the property company: once, while a notice deadline is set.
    pending_notice = case.notice_due and case.noticed_at is None
    if pending_notice and case.status in ALLOWED_FROM["notice"] and may(user, "notice", case):
        actions.append("notice")
    pending_follow_up = None
    if {"follow_up", "archive"} & set(actions):
        pending_follow_up = FollowUp.objects.filter(case=case, done_at__isnull=True).exists()
    if "follow_up" in actions and not pending_follow_up:
        actions.remove("follow_up")
    if "archive" in actions and pending_follow_up and case.status == CaseStatus.CLOSED:
        actions.remove("archive")
    return actions


def allowed_task_actions(user, case, task) -> list[str]:
    """The transitions `user` may make on one task of `case` now, as the API names them."""
    from .choices import UNFINISHED_TASK_STATUSES, Acceptance
    from .permissions import may, may_accept_as

    status = task.status
    actions = []
    if status in (TaskStatus.OPEN, TaskStatus.REJECTED) and may(user, "propose_plan", case, task):
        actions.append("propose_plan")
    if status == TaskStatus.PLAN_PROPOSED and may(user, "confirm_plan", case, task):
        actions += ["confirm_plan", "reject"]
    reworking = status == TaskStatus.REJECTED and task.plan_confirmed_at is not None
    if (status == TaskStatus.PLAN_CONFIRMED or reworking) and may(user, "complete_task", case, task):
        actions.append("complete")
    if status == TaskStatus.DONE:
        if case.case_type == CaseType.REPAIR:
            signable = [
                a for a in Acceptance.values if getattr(task, f"{a}_accepted_at") is None and may_accept_as(user, a)
            ]
            may_judge = bool(signable) or any(may_accept_as(user, a) for a in Acceptance.values)
        else:
            signable = may_judge = may(user, "accept_task", case, task)
        if signable:
            actions.append("accept")
        if may_judge:
            actions.append("reject")
    if status in UNFINISHED_TASK_STATUSES and may(user, "cancel_task", case, task):
        actions.append("cancel")
    return actions


def workable_tasks_for(user):
    """The tasks `user` sees, plus, for engineering and cost handlers, repair tasks waiting for their acceptance.

    `cases_for` shows those handlers every repair with a task to accept; this lets them reach the task itself.
    """
    tasks = tasks_for(user)
    if user.role != Role.HANDLER or not user.department_id:
        return tasks
    if user.department.kind not in (DepartmentKind.ENGINEERING, DepartmentKind.COST):
        return tasks
    awaiting = Q(status=TaskStatus.DONE, case__case_type=CaseType.REPAIR, case__in=cases_for(user).values("pk"))
    return CaseTask.objects.select_related("case", "department", "assignee").filter(
        Q(pk__in=tasks.values("pk")) | awaiting
    )


def access_workable_task_by_id(user, task_id) -> CaseTask:
    return get_object_or_404(workable_tasks_for(user), pk=task_id)
