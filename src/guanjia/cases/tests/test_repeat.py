"""Repeat complaints: same unit, same category family, within 30 days → linked and noted on intake."""

from datetime import timedelta

import pytest
from django.utils import timezone

from guanjia.cases import services as s
from guanjia.cases.choices import CaseType, EventKind
from guanjia.cases.repeat import category_family

from .conftest import category, record


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def leak(cw):
    """The earlier complaint: a bathroom leak in 3栋2单元1502, 20 days ago."""
    return record(
        cw.specialist,
        cw.project,
        description="卫生间漏水",
        units=[cw.unit_b],
        category=category("工程质量", "渗漏", "卫生间渗漏"),
        received_at=days_ago(20),
    )


def again(cw, **extra):
    data = {"description": "又漏水了", "units": [cw.unit_b], "category": category("工程质量", "渗漏", "卫生间渗漏")}
    data.update(extra)
    return record(cw.specialist, cw.project, **data)


def test_same_unit_and_category_within_30_days_is_linked_and_noted(cw, leak):
    case = again(cw)
    assert case.repeat_of == leak
    assert list(leak.repeats.all()) == [case]
    event = case.events.get(kind=EventKind.RECORDED)
    assert event.data["repeat_of"] == leak.pk and event.data["repeat_detected"] is True


def test_another_category_of_the_same_family_is_a_repeat(cw, leak):
    assert again(cw, category=category("工程质量", "渗漏", "外墙渗漏")).repeat_of == leak
    assert again(cw, category=category("工程质量", "渗漏")).repeat_of is not None


def test_a_repair_followed_by_a_complaint_about_it_is_a_repeat(cw, leak):
    repair = again(cw, case_type=CaseType.REPAIR, received_at=days_ago(1))
    assert repair.repeat_of == leak
    assert again(cw).repeat_of == repair  # the most recent earlier request


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"category": ("工程质量", "水电", "给排水")}, id="other family"),
        pytest.param({"category": ("工程质量",)}, id="first-level category only"),
        pytest.param({"category": None}, id="no category"),
        pytest.param({"units": "unit_a"}, id="other unit"),
        pytest.param({"units": None}, id="no unit"),
        pytest.param({"case_type": CaseType.INQUIRY}, id="inquiry"),
        pytest.param({"received_at": 21}, id="before the earlier one"),
    ],
)
def test_not_a_repeat(cw, leak, extra):
    if "category" in extra:
        extra["category"] = category(*extra["category"]) if extra["category"] else None
    if "units" in extra:
        extra["units"] = [getattr(cw, extra["units"])] if extra["units"] else []
    if "received_at" in extra:
        extra["received_at"] = days_ago(extra["received_at"])
    case = again(cw, **extra)
    assert case.repeat_of is None
    assert "repeat_of" not in case.events.get(kind=EventKind.RECORDED).data


def test_window_is_30_days(cw):
    old = again(cw, received_at=days_ago(31))
    assert again(cw).repeat_of is None
    assert again(cw, received_at=old.received_at + timedelta(days=29, hours=23)).repeat_of == old


def test_first_level_category_matches_only_itself(cw):
    first = again(cw, category=category("邻里纠纷"), received_at=days_ago(3))
    assert again(cw, category=category("邻里纠纷")).repeat_of == first
    assert again(cw, category=category("公共秩序", "噪音")).repeat_of is None


def test_a_request_merged_away_is_not_linked(cw, leak):
    duplicate = again(cw, received_at=days_ago(2))
    assert duplicate.repeat_of == leak
    s.do_merge_cases(cw.specialist, duplicate, into=leak, expected_version=1)
    assert again(cw).repeat_of == leak


def test_repeat_chosen_by_the_recorder_is_kept(cw, leak):
    older = again(cw, category=category("公共设施", "电梯"), units=[], received_at=days_ago(25))
    case = again(cw, repeat_of=older)
    assert case.repeat_of == older
    assert case.events.get(kind=EventKind.RECORDED).data["repeat_detected"] is False


def test_category_family_is_the_second_level_ancestor(db):
    leaf = category("工程质量", "渗漏", "卫生间渗漏")
    assert category_family(leaf) == category("工程质量", "渗漏")
    assert category_family(category("工程质量", "渗漏")) == category("工程质量", "渗漏")
    assert category_family(category("邻里纠纷")) == category("邻里纠纷")


def test_a_unit_merged_into_a_request_counts_from_that_request_on(cw, leak):
    # The duplicate names another unit; after the merge the survivor (the leak of 20 days ago) covers it,
    # so a new leak there is a repeat of the survivor.
    duplicate = record(
        cw.specialist,
        cw.project,
        description="楼上漏水",
        units=[cw.unit_a],
        category=category("工程质量", "渗漏", "卫生间渗漏"),
        received_at=days_ago(40),
    )
    s.do_merge_cases(cw.specialist, duplicate, into=leak, expected_version=duplicate.version)
    assert again(cw, units=[cw.unit_a]).repeat_of == leak
    assert {link.received_at for link in leak.units.through.objects.filter(case=leak)} == {leak.received_at}
