"""Who sees which request and task: scope, department handlers, area butlers; 404 outside."""

import pytest
from django.http import Http404

from guanjia.cases import services as s
from guanjia.cases.queries import access_case_by_id, access_task_by_id, cases_for, tasks_for

from .conftest import record


@pytest.fixture
def cases(cw):
    c = type("Cases", (), {})()
    c.area_a = record(cw.specialist, cw.project, units=[cw.unit_a], party=cw.owner_a)
    c.area_b = record(cw.specialist, cw.project, units=[cw.unit_b], party=cw.owner_b)
    c.no_unit_b = record(cw.specialist, cw.project, party=cw.owner_b)
    c.public = record(cw.specialist, cw.project, caller_name="路人")
    c.other = record(cw.outsider, cw.other_project, units=[cw.other_unit])
    return c


def visible(user):
    return set(cases_for(user).values_list("number", flat=True))


def numbers(*cases):
    return {c.number for c in cases}


def test_project_company_and_group_scope(cw, cases):
    mine = numbers(cases.area_a, cases.area_b, cases.no_unit_b, cases.public)
    assert visible(cw.specialist) == mine
    assert visible(cw.manager) == mine
    assert visible(cw.admin) == mine | numbers(cases.other)
    assert visible(cw.outsider) == numbers(cases.other)


def test_butler_sees_cases_of_their_area_and_customers_living_there(cw, cases):
    assert visible(cw.butler) == numbers(cases.area_b, cases.no_unit_b)
    own = record(cw.butler, cw.project, caller_name="巡查")
    assert own.number in visible(cw.butler)


def test_handler_sees_only_what_their_department_works_on(cw, cases):
    assert visible(cw.handler) == set()
    s.do_dispatch_case(cw.specialist, cases.area_a, expected_version=1, department=cw.dept)
    [task] = s.do_split_case(
        cw.specialist, cases.area_b, expected_version=1, parts=[{"title": "核价", "department": cw.cost_dept}]
    )
    assert visible(cw.handler) == numbers(cases.area_a)
    assert visible(cw.handler2) == numbers(cases.area_a)
    assert visible(cw.cost_handler) == numbers(cases.area_b)
    assert list(tasks_for(cw.cost_handler)) == [task]
    assert list(tasks_for(cw.handler)) == []
    assert list(tasks_for(cw.specialist)) == [task]


def test_access_outside_scope_is_404(cw, cases):
    assert access_case_by_id(cw.specialist, cases.area_a.pk) == cases.area_a
    with pytest.raises(Http404):
        access_case_by_id(cw.outsider, cases.area_a.pk)
    with pytest.raises(Http404):
        access_case_by_id(cw.butler, cases.area_a.pk)
    [task] = s.do_split_case(
        cw.specialist, cases.area_a, expected_version=1, parts=[{"title": "维修", "department": cw.dept}]
    )
    assert access_task_by_id(cw.handler, task.pk) == task
    with pytest.raises(Http404):
        access_task_by_id(cw.cost_handler, task.pk)
