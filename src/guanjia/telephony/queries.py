"""Scoped reads of calls: the call list, the screen-pop and the API all go through `calls_for`.

Who sees which call (always inside the user's projects, `org.scope`):

* supervisors (`("call", "supervise")`: team leads, managers, inspectors, administrators) see every
  call of their projects, and company-wide staff also the company line's calls that belong to no
  project (the caller was not recognised);
* everybody else sees only the calls they took themselves, and only inside their projects (or,
  for a company line's unrecognised caller, inside their company);
* butlers (area scope) see only their own calls of their projects.
"""

from datetime import datetime

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from guanjia.org.choices import ScopeLevel
from guanjia.org.models import Project
from guanjia.org.permissions import can
from guanjia.org.scope import scope_of

from .models import Call, HotlineLine


def calls_for(user):
    calls = Call.objects.select_related("line", "project", "agent", "party")
    scope = scope_of(user)
    if scope.empty:
        return calls.none()
    if scope.everything:
        return calls if can(user, "call", "supervise") else calls.filter(agent=user)
    in_projects = Q(project_id__in=scope.project_ids)
    if scope.area_ids is not None:
        return calls.filter(in_projects, agent=user)
    companies = Project.objects.filter(pk__in=scope.project_ids).values("company_id")
    unplaced_own = Q(project__isnull=True, company_id__in=companies, agent=user)
    if not can(user, "call", "supervise"):
        return calls.filter((in_projects & Q(agent=user)) | unplaced_own)
    visible = in_projects | unplaced_own
    if user.scope_level == ScopeLevel.COMPANY and user.company_id:
        visible |= Q(project__isnull=True, company_id=user.company_id)
    return calls.filter(visible)


def access_call_by_id(user, call_id) -> Call:
    return get_object_or_404(calls_for(user), pk=call_id)


def popped_call(user, now: datetime | None = None) -> Call | None:
    """The call the agent's console shows now, if any: one indexed query when nothing rings.

    Scope is checked on the row found (rarely any), so the common answer, "nothing", costs no more.
    """
    now = now or timezone.now()
    call = (
        Call.objects.filter(agent_id=user.pk, pop_until__gt=now)
        .select_related("project", "line")
        .order_by("-pop_until")
        .first()
    )
    if call is None or not calls_for(user).filter(pk=call.pk).exists():
        return None
    return call


def lines_for(user):
    """Lines whose calls the user may post events for: their projects' lines, and for company-wide
    accounts the company's shared lines (a project's account never places calls in other projects)."""
    scope = scope_of(user)
    lines = HotlineLine.objects.select_related("company", "project").filter(active=True)
    if scope.everything:
        return lines
    if scope.empty or scope.area_ids is not None:
        return lines.none()
    in_projects = Q(project_id__in=scope.project_ids)
    if user.scope_level == ScopeLevel.COMPANY and user.company_id:
        return lines.filter(in_projects | Q(project__isnull=True, company_id=user.company_id))
    return lines.filter(in_projects)
