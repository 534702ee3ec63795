"""What a report may count: the user's cases and units, optionally narrowed to one company, project or area.

Everything starts from `cases.queries.cases_for` and `estate.queries.units_for`, so a report never
counts a case its reader could not open. Narrowing to something outside the scope is a 404.
"""

from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from guanjia.cases.models import Case
from guanjia.cases.queries import cases_for
from guanjia.estate.models import Occupancy
from guanjia.estate.queries import units_for
from guanjia.org.choices import CompanyKind, ScopeLevel
from guanjia.org.models import Company
from guanjia.org.queries import access_project_by_id, areas_for, companies_for, projects_for
from guanjia.org.scope import scope_of

from .metrics import ReportScope

# The dashboard of each level and the breakdown its table shows: one level down.
LEVELS = ("group", "company", "project", "area")
CHILD_BREAKDOWN = {"group": "company", "company": "project", "project": "area", "area": "building"}


def _level_of(user) -> str:
    scope = scope_of(user)
    if scope.everything:
        return "group"
    return {
        ScopeLevel.COMPANY: "company",
        ScopeLevel.PROJECT: "project",
        ScopeLevel.AREA: "area",
    }.get(user.scope_level, "project")


def _group_name() -> str:
    group = Company.objects.filter(kind=CompanyKind.GROUP).order_by("pk").first()
    return group.name if group else _("Whole group")


def narrow_to_area(cases, units, area):
    """The cases and units of one area, as a butler sees it: cases on a unit of its buildings, and
    cases without a unit from a customer living there."""
    linked = Case.units.through.objects.filter(case_id=OuterRef("pk"))
    on_unit = Exists(linked.filter(unit__building__area_id=area.pk))
    lives_here = Exists(Occupancy.objects.filter(party_id=OuterRef("party_id"), unit__building__area_id=area.pk))
    cases = cases.filter(Q(project_id=area.project_id) & (on_unit | (~Exists(linked) & lives_here)))
    return cases, units.filter(building__area_id=area.pk)


def report_scope_for(user, *, company=None, project=None, area=None) -> ReportScope:
    """The cases and units `user` may count; `company`, `project` or `area` (ids) narrow them further.

    The narrowest one given wins, and it may not be above the reader's own level. Area narrowing
    follows a butler's view of an area: cases on a unit of its buildings, and cases without a unit
    from a customer living there.
    """
    scope = scope_of(user)
    if scope.empty:
        raise Http404
    cases = cases_for(user)
    units = units_for(user)
    level = _level_of(user)
    name = ""
    if level == "group":
        name = _group_name()
    elif level == "company" and user.company_id:
        name = user.company.name
    elif level == "project" and user.project_id:
        name = user.project.name
    elif level == "area":
        name = "、".join(str(a) for a in areas_for(user))
    narrowest = "area" if area is not None else "project" if project is not None else "company" if company else None
    if narrowest and LEVELS.index(narrowest) < LEVELS.index(level):
        # A project's specialist asking for "their company" would get a company dashboard holding
        # one project: narrowing only goes down from the reader's own level.
        raise Http404
    if area is not None:
        chosen = get_object_or_404(areas_for(user), pk=area)
        cases, units = narrow_to_area(cases, units, chosen)
        level, name = "area", str(chosen)
    elif project is not None:
        chosen = access_project_by_id(user, project)
        cases = cases.filter(project_id=chosen.pk)
        units = units.filter(project_id=chosen.pk)
        level, name = "project", chosen.name
    elif company is not None:
        chosen = get_object_or_404(companies_for(user), pk=company)
        cases = cases.filter(project__company_id=chosen.pk)
        units = units.filter(project__company_id=chosen.pk)
        level, name = "company", chosen.name
    # Follow-ups need no check against the scope when every case counts.
    restricted = bool(cases.query.where)
    return ReportScope(cases=cases, units=units, restricted=restricted, level=level, name=name)


def reports_for(user):
    """Periodic reports the user may read: those of a company, project or area inside their scope,
    and not above their own level (a project's specialist reads the project's reports, not the company's)."""
    from .models import Report

    if scope_of(user).empty:
        return Report.objects.none()
    level = _level_of(user)
    allowed = Q(pk__in=[])
    if level == "group" or level == "company":
        allowed |= Q(scope_level="company", scope_id__in=companies_for(user).values("pk"))
    if level in ("group", "company", "project"):
        allowed |= Q(scope_level="project", scope_id__in=projects_for(user).values("pk"))
    allowed |= Q(scope_level="area", scope_id__in=areas_for(user).values("pk"))
    return Report.objects.filter(allowed)


def access_report_by_id(user, report_id: int):
    return get_object_or_404(reports_for(user), pk=report_id)
