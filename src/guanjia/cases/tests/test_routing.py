"""Routing rules: ordered matching on project, building, type and category; round robin; unmatched queue."""

from guanjia.cases.choices import CaseStatus, CaseType, EventKind
from guanjia.cases.models import RoutingRule
from guanjia.cases.routing import matching_rule

from .conftest import category, record


def rule(cw, name, sort=100, team=(), **conditions):
    r = RoutingRule.objects.create(name=name, sort=sort, department=conditions.pop("department", cw.dept), **conditions)
    r.team.set(team)
    return r


def test_unmatched_case_stays_recorded_without_assignee_in_the_specialist_queue(cw):
    rule(cw, "只管维修", case_type=CaseType.REPAIR)
    case = record(cw.specialist, cw.project)
    assert (case.status, case.department, case.assignee) == (CaseStatus.RECORDED, None, None)
    assert case.events.get().data == {"routing": "unmatched"}


def test_first_matching_rule_by_order_dispatches_and_keeps_the_owner(cw):
    rule(cw, "物业服务", sort=20, department=cw.property_dept, category=category("物业服务"))
    first = rule(cw, "绿色家园投诉", sort=10, project=cw.project, case_type=CaseType.COMPLAINT, team=[cw.handler])
    case = record(cw.front_desk, cw.project, category=category("物业服务", "保洁"))
    assert case.status == CaseStatus.DISPATCHED
    assert (case.department, case.assignee, case.owner) == (cw.dept, cw.handler, cw.front_desk)
    dispatched = case.events.get(kind=EventKind.DISPATCHED)
    assert dispatched.actor is None and dispatched.data["rule"] == first.pk
    # Routing is not a response by a person: the first-response clock still runs.
    assert case.responded_at is None


def test_category_rule_matches_descendants_and_building_rule_needs_a_unit_there(cw):
    leaks = rule(cw, "渗漏", sort=10, category=category("工程质量", "渗漏"))
    building3 = rule(cw, "3栋", sort=20, department=cw.property_dept, building=cw.b3)
    leak = record(cw.specialist, cw.project, category=category("工程质量", "渗漏", "卫生间渗漏"), route=False)
    assert matching_rule(leak) == leaks
    noise_b3 = record(cw.specialist, cw.project, units=[cw.unit_b], route=False)
    assert matching_rule(noise_b3) == building3
    noise_b1 = record(cw.specialist, cw.project, units=[cw.unit_a], route=False)
    assert matching_rule(noise_b1) is None


def test_rules_of_another_project_or_inactive_rules_do_not_match(cw):
    rule(cw, "锦江花园", project=cw.other_project)
    rule(cw, "停用", active=False)
    assert record(cw.specialist, cw.project).status == CaseStatus.RECORDED


def test_round_robin_takes_turns_and_skips_inactive_or_out_of_scope_members(cw):
    cw.handler2.is_active = False
    cw.handler2.save()
    team = [cw.handler, cw.handler2, cw.outsider, cw.property_handler]
    rule(cw, "轮流", team=team)
    assignees = [record(cw.specialist, cw.project).assignee for _ in range(4)]
    assert assignees == [cw.handler, cw.property_handler, cw.handler, cw.property_handler]


def test_rule_without_team_sets_only_the_department(cw):
    rule(cw, "工程部", department=cw.dept)
    case = record(cw.specialist, cw.project)
    assert (case.status, case.department, case.assignee) == (CaseStatus.DISPATCHED, cw.dept, None)
