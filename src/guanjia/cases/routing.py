"""Routing of new cases: ordered rules pick a department and, when the rule has a team, the next team
member in turn. The first-contact owner never changes here; an unmatched case keeps no assignee and
waits in the specialists' queue (status `recorded`).
"""

from dataclasses import dataclass

from guanjia.org.models import Department, Staff
from guanjia.org.scope import sees_project

from .config import active_rules
from .models import Case, RoutingRule


@dataclass(frozen=True)
class Route:
    rule: RoutingRule
    department: Department
    assignee: Staff | None


def covers_project(staff, project_id: int) -> bool:
    """True when the staff member's scope includes the project (a case may only go to someone who sees it)."""
    return sees_project(staff, project_id)


def matching_rule(case: Case, building_ids: set[int] | None = None) -> RoutingRule | None:
    """The first active rule whose conditions all hold for the (saved) case.

    `building_ids` of the case's units, when the caller has them, saves reading the units again.
    """
    project = case.project
    companies = {None, project.company_id, project.company.parent_id}
    rules = [r for r in active_rules() if r.company_id in companies and r.project_id in (None, project.pk)]
    if building_ids is None:
        building_ids = set(case.units.values_list("building_id", flat=True))
    category_ids = {c.pk for c in case.category.lineage()} if case.category_id else set()
    for rule in rules:
        if rule.case_type and rule.case_type != case.case_type:
            continue
        if rule.category_id and rule.category_id not in category_ids:
            continue
        if rule.building_id and rule.building_id not in building_ids:
            continue
        return rule
    return None


def next_in_turn(rule: RoutingRule, project_id: int) -> Staff | None:
    """The team member after the last one served, among active members who can see the project.

    The rule row is locked for the rest of the caller's transaction, so two intakes at the same
    moment get different people instead of both reading the same pointer.
    """
    locked = RoutingRule.objects.select_for_update().get(pk=rule.pk)
    members = [m for m in locked.team.filter(is_active=True).order_by("id") if covers_project(m, project_id)]
    if not members:
        return None
    after = [m for m in members if locked.last_assignee_id is not None and m.pk > locked.last_assignee_id]
    chosen = after[0] if after else members[0]
    RoutingRule.objects.filter(pk=locked.pk).update(last_assignee=chosen)
    return chosen


def route_case(case: Case, building_ids: set[int] | None = None) -> Route | None:
    """Where the case should go, or None when no rule matches. Must run inside the recording transaction."""
    rule = matching_rule(case, building_ids)
    if rule is None:
        return None
    return Route(rule=rule, department=rule.department, assignee=next_in_turn(rule, case.project_id))
