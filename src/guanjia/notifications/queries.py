"""Reads of notifications (always one person's own) and of the people a case concerns."""

from collections.abc import Iterable

from django.db.models import Q
from django.shortcuts import get_object_or_404

from guanjia.org.choices import Role, ScopeLevel
from guanjia.org.models import Project, Staff

from .models import Notification


def notifications_for(user):
    """A staff member's own notifications; nobody reads anyone else's."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user).select_related("case")


def access_notification_by_id(user, notification_id) -> Notification:
    return get_object_or_404(notifications_for(user), pk=notification_id)


def unread_count(user) -> int:
    return notifications_for(user).unread().count()


def covering(project_ids: Iterable[int], *, include_group: bool = False) -> Q:
    """Staff whose scope includes one of the projects: project or area scope on it, company scope on its
    company, and group scope when `include_group` (the group would otherwise hear of every case)."""
    project_ids = set(project_ids)
    companies = Project.objects.filter(pk__in=project_ids).values("company_id")
    q = Q(scope_level__in=[ScopeLevel.PROJECT, ScopeLevel.AREA], project_id__in=project_ids) | Q(
        scope_level=ScopeLevel.COMPANY, company_id__in=companies
    )
    if include_group:
        q |= Q(scope_level=ScopeLevel.GROUP)
    return q


def supervisors_by_project(project_ids: Iterable[int], role: str) -> dict[int, set[int]]:
    """Active staff of `role` responsible for each project: those scoped to the project itself and
    those scoped to its city company. Group-wide staff are left out on purpose."""
    project_ids = set(project_ids)
    result: dict[int, set[int]] = {pk: set() for pk in project_ids}
    if not project_ids:
        return result
    company_of = dict(Project.objects.filter(pk__in=project_ids).values_list("pk", "company_id"))
    rows = (
        Staff.objects.filter(is_active=True, role=role)
        .filter(covering(project_ids))
        .values_list("pk", "scope_level", "project_id", "company_id")
    )
    for pk, level, project_id, company_id in rows:
        if level == ScopeLevel.COMPANY:
            for project, company in company_of.items():
                if company == company_id:
                    result[project].add(pk)
        elif project_id in result:
            result[project_id].add(pk)
    return result


def team_leads_by_project(project_ids: Iterable[int]) -> dict[int, set[int]]:
    return supervisors_by_project(project_ids, Role.TEAM_LEAD)


def managers_by_project(project_ids: Iterable[int]) -> dict[int, set[int]]:
    return supervisors_by_project(project_ids, Role.MANAGER)


def department_members(department_id: int, project_id: int) -> set[int]:
    """Active members of a department who can see the project (a dispatch without a person goes to them)."""
    return set(
        Staff.objects.filter(is_active=True, department_id=department_id)
        .filter(covering([project_id], include_group=True))
        .values_list("pk", flat=True)
    )
