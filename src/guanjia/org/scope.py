"""Which projects and buildings a staff member may see. Every scoped query starts here.

The per-model scoping functions (`projects_for`, `units_for`, `parties_for`, …) live in the
apps' `queries.py` and all call `scope_of(user)`; nothing else decides visibility.
"""

from dataclasses import dataclass

from .choices import ScopeLevel


@dataclass(frozen=True)
class Scope:
    """`everything` for group scope; otherwise the visible project ids, and for an area
    scope also the visible area ids (then only the buildings of those areas are visible)."""

    everything: bool = False
    project_ids: frozenset[int] = frozenset()
    area_ids: frozenset[int] | None = None

    @property
    def empty(self) -> bool:
        return not self.everything and not self.project_ids


NOTHING = Scope()


def scope_of(user) -> Scope:
    """The scope of a user, computed once per request and kept on the user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    cached = getattr(user, "_guanjia_scope", None)
    if cached is not None:
        return cached
    from .models import Area, Project

    if user.is_superuser or user.scope_level == ScopeLevel.GROUP:
        scope = Scope(everything=True)
    elif user.scope_level == ScopeLevel.COMPANY:
        scope = Scope(
            project_ids=frozenset(Project.objects.filter(company_id=user.company_id).values_list("id", flat=True))
        )
    elif user.scope_level == ScopeLevel.PROJECT:
        scope = Scope(project_ids=frozenset([user.project_id]) if user.project_id else frozenset())
    elif user.scope_level == ScopeLevel.AREA:
        areas = list(Area.objects.filter(butlers=user).values_list("id", "project_id"))
        scope = Scope(project_ids=frozenset(p for _, p in areas), area_ids=frozenset(a for a, _ in areas))
    else:
        scope = NOTHING
    user._guanjia_scope = scope
    return scope


def filter_by_scope(queryset, user, *, project: str, area: str | None = None):
    """Restrict a queryset by the user's scope, given the lookup paths to its project and area.

    `project` is e.g. "project_id" or "unit__project_id"; `area` e.g. "building__area_id".
    Models without an area path are hidden from area-scoped users only through `project`.
    """
    scope = scope_of(user)
    if scope.everything:
        return queryset
    if scope.empty:
        return queryset.none()
    queryset = queryset.filter(**{f"{project}__in": scope.project_ids})
    if scope.area_ids is not None and area is not None:
        queryset = queryset.filter(**{f"{area}__in": scope.area_ids})
    return queryset


def sees_project(user, project_id: int | None) -> bool:
    """`projects_for(user)` holds this project: the same test without a query."""
    scope = scope_of(user)
    return scope.everything or project_id in scope.project_ids


def sees_area(user, project_id: int | None, area_id: int | None) -> bool:
    """The test `filter_by_scope(…, project=…, area=…)` applies to one row, without a query."""
    scope = scope_of(user)
    if scope.everything:
        return True
    if project_id not in scope.project_ids:
        return False
    return scope.area_ids is None or area_id in scope.area_ids
