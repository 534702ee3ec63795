"""What a report may count: the user's cases and units, optionally narrowed to one company, project or area.

Everything starts from `cases.queries.cases_for` and `estate.queries.units_for`, so a report never
counts a case its reader could not open. Narrowing to something outside the scope is a 404.
"""

from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from guanjia.cases.config import descendant_ids
from guanjia.cases.models import Case
from guanjia.cases.queries import cases_for
from guanjia.estate.models import Occupancy
from guanjia.estate.queries import units_for
from guanjia.org.choices import CompanyKind, Role, ScopeLevel
from guanjia.org.models import Company, Project
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
    return ReportScope(
        cases=cases,
        units=units,
        restricted=restricted,
        level=level,
        name=name,
        projects=_whole_projects(user, scope, company=company, project=project, area=area) if restricted else None,
    )


def _whole_projects(user, scope, *, company=None, project=None, area=None) -> frozenset[int] | None:
    """The projects whose cases are exactly the scope's (see `cases_for`), or None when the scope
    holds only some cases of its projects: a butler's areas, a handler's own requests, one area."""
    if user.role == Role.HANDLER or scope.area_ids is not None or area is not None:
        return None
    if project is not None:
        return frozenset([project])
    if company is None:
        return None if scope.everything else frozenset(scope.project_ids)
    projects = Project.objects.filter(company_id=company)
    if not scope.everything:
        projects = projects.filter(pk__in=scope.project_ids)
    return frozenset(projects.values_list("pk", flat=True))


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


# ------------------------------------------------------------------------------------------------ case collection


def case_studies_for(user):
    """Case studies `user` may read: those of requests the user sees (`cases_for`, so a butler reads
    the studies of their areas' requests). Published ones are for every reader; drafts and studies
    in review or withdrawn only for their author and for reviewers."""
    from guanjia.org.permissions import can

    from .choices import CaseStudyStatus
    from .models import CaseStudy

    if scope_of(user).empty:
        return CaseStudy.objects.none()
    studies = CaseStudy.objects.select_related("project", "category", "author", "reviewer", "case").filter(
        Exists(cases_for(user).filter(pk=OuterRef("case_id")))
    )
    if can(user, "case_study", "review"):
        return studies
    return studies.filter(Q(status=CaseStudyStatus.PUBLISHED) | Q(author=user))


def access_case_study_by_id(user, study_id: int):
    return get_object_or_404(case_studies_for(user), pk=study_id)


class CaseStudyFilter:
    """The collection's filters from the query string: project, type, category (with its subcategories),
    year of the request, and words to find in the title, tags, category and text.

    A project outside the reader's scope is a 404, like every other narrowing; other unreadable
    values are ignored.
    """

    FIELDS = ("project", "case_type", "category", "year", "q")

    def __init__(self, params, user):
        from guanjia.cases.choices import CaseType
        from guanjia.cases.models import Category

        self.user = user
        self.project = None
        self.case_type = params.get("case_type") if params.get("case_type") in CaseType.values else ""
        self.category = None
        self.year = None
        self.q = (params.get("q") or "").strip()[:50]
        project = params.get("project") or ""
        if project:
            if not project.isdigit():
                raise Http404
            self.project = access_project_by_id(user, int(project))
        category = params.get("category") or ""
        if category.isdigit():
            self.category = Category.objects.filter(pk=int(category)).first()
        year = params.get("year") or ""
        if year.isdigit() and 1990 <= int(year) <= 2999:
            self.year = int(year)

    @property
    def values(self) -> dict[str, str]:
        """The filters as the query string carries them (for links and the PDF)."""
        values = {
            "project": str(self.project.pk) if self.project else "",
            "case_type": self.case_type,
            "category": str(self.category.pk) if self.category else "",
            "year": str(self.year or ""),
            "q": self.q,
        }
        return {k: v for k, v in values.items() if v}

    def apply(self, studies):
        if self.project is not None:
            studies = studies.filter(project=self.project)
        if self.case_type:
            studies = studies.filter(case_type=self.case_type)
        if self.category is not None:
            studies = studies.filter(category_id__in=descendant_ids(self.category.pk))
        if self.year:
            studies = studies.filter(occurred_on__year=self.year)
        for word in self.q.split():
            studies = studies.filter(
                Q(title__icontains=word)
                | Q(tags__icontains=word)
                | Q(category_path__icontains=word)
                | Q(unit_label__icontains=word)
                | Q(background__icontains=word)
                | Q(handling__icontains=word)
                | Q(outcome__icontains=word)
                | Q(lessons__icontains=word)
            )
        return studies

    def summary(self) -> list[tuple[str, str]]:
        """(label, value) of each filter set, for the booklet's cover."""
        from guanjia.cases.choices import CaseType

        lines = []
        if self.project is not None:
            lines.append((_("Project"), self.project.name))
        if self.case_type:
            lines.append((_("Type"), str(CaseType(self.case_type).label)))
        if self.category is not None:
            lines.append((_("Category"), self.category.path))
        if self.year:
            lines.append((_("Year"), str(self.year)))
        if self.q:
            lines.append((_("Keywords"), self.q))
        return lines
