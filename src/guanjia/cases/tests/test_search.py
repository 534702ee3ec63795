"""Full-text search of requests: Chinese words, every kind of text written on a case, scope, odd input."""

import pytest

from guanjia.cases import services as s
from guanjia.cases.choices import Visibility
from guanjia.cases.models import Case
from guanjia.cases.queries import cases_for
from guanjia.cases.search import refresh_search_text, reindex_search, search_cases

from .conftest import record


def found(user, query) -> set[str]:
    return set(search_cases(cases_for(user), query).values_list("description", flat=True))


@pytest.fixture
def leaks(cw):
    for text in ["卫生间漏水严重", "楼上漏水了", "厨房水管漏水", "水漏了一地", "楼上装修噪音太大"]:
        record(cw.specialist, cw.project, description=text)
    return cw


def test_two_character_word_finds_every_text_containing_it(leaks):
    assert found(leaks.specialist, "漏水") == {"卫生间漏水严重", "楼上漏水了", "厨房水管漏水"}


def test_same_characters_in_another_order_are_another_word(leaks):
    assert found(leaks.specialist, "水漏") == {"水漏了一地"}


def test_all_words_of_the_query_must_match(leaks):
    assert found(leaks.specialist, "漏水 厨房") == {"厨房水管漏水"}
    assert found(leaks.specialist, "楼上") == {"楼上漏水了", "楼上装修噪音太大"}
    assert found(leaks.specialist, "楼上漏水") == {"楼上漏水了"}
    assert found(leaks.specialist, "漏水 电梯") == set()


def test_single_character_finds_words_starting_with_it(leaks):
    assert found(leaks.specialist, "噪") == {"楼上装修噪音太大"}


@pytest.mark.parametrize("query", ["", "   ", "，。！？", "---", "*", '""', "()", None])
def test_query_without_words_finds_nothing(leaks, query):
    assert found(leaks.specialist, query) == set()


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "'",
        '漏水"',
        "漏水 OR 噪音",
        "NEAR(漏水 严重)",
        "漏水*",
        "漏水 AND",
        "-漏水",
        "漏水 & 噪音 | !严重",
        "漏水:*",
        "\\",
        "'); DROP TABLE cases_case; --",
        "description:漏水",
        "^漏水",
    ],
)
def test_search_syntax_typed_by_a_user_is_plain_text(leaks, query):
    results = found(leaks.specialist, query)
    assert results <= {"卫生间漏水严重", "楼上漏水了", "厨房水管漏水"}
    assert Case.objects.count() == 5


def test_operator_words_are_ordinary_words_that_must_match_too(leaks):
    assert found(leaks.specialist, "漏水 OR 噪音") == set()
    assert found(leaks.specialist, "漏水*") == {"卫生间漏水严重", "楼上漏水了", "厨房水管漏水"}


def test_search_stays_inside_the_scope_passed_in(cw):
    record(cw.specialist, cw.project, description="1栋卫生间漏水", units=[cw.unit_a])
    record(cw.specialist, cw.project, description="3栋卫生间漏水", units=[cw.unit_b])
    record(cw.outsider, cw.other_project, description="锦江花园卫生间漏水", units=[cw.other_unit])
    assert found(cw.specialist, "漏水") == {"1栋卫生间漏水", "3栋卫生间漏水"}
    assert found(cw.butler, "漏水") == {"3栋卫生间漏水"}
    assert found(cw.outsider, "漏水") == {"锦江花园卫生间漏水"}
    assert found(cw.handler, "漏水") == set()


def test_search_keeps_the_callers_filters_ordering_and_limit(cw):
    cases = [record(cw.specialist, cw.project, description=f"第{n}次反映地下室漏水") for n in range(5)]
    record(cw.specialist, cw.project, description="地下室照明坏了")
    newest = search_cases(cases_for(cw.specialist), "漏水").order_by("-id")[:3]
    assert [c.pk for c in newest] == [c.pk for c in reversed(cases)][:3]
    assert search_cases(cases_for(cw.specialist).filter(pk=cases[0].pk), "地下室").count() == 1
    # The search can itself be a subquery (the scope's tables are then renamed).
    inner = search_cases(cases_for(cw.specialist), "漏水")
    assert Case.objects.filter(pk__in=inner.values("pk")).count() == 5


def test_notes_replies_and_follow_up_notes_are_searchable_once_added(cw):
    case = record(cw.specialist, cw.project, description="门禁卡失灵")
    assert found(cw.specialist, "物业费") == set()
    s.do_add_note(cw.specialist, case, note="业主还问了物业费的事")
    s.do_add_note(cw.specialist, case, note="已告知业主更换门禁卡的时间", visibility=Visibility.CUSTOMER)
    assert found(cw.specialist, "物业费") == {"门禁卡失灵"}
    assert found(cw.specialist, "更换 时间") == {"门禁卡失灵"}
    case = s.do_close_case(cw.specialist, case, expected_version=1, note="已为业主重新制卡")
    assert found(cw.specialist, "制卡") == {"门禁卡失灵"}
    follow_up = case.follow_ups.get()
    s.do_record_follow_up(cw.specialist, follow_up, expected_version=2, outcome="satisfied", note="业主表扬保安")
    assert found(cw.specialist, "表扬") == {"门禁卡失灵"}


def test_task_titles_plans_and_reports_are_searchable_once_added(cw):
    case = record(cw.specialist, cw.project, description="厨房下水道堵塞")
    [task] = s.do_split_case(
        cw.specialist, case, expected_version=1, parts=[{"title": "疏通排水管", "department": cw.dept}]
    )
    assert found(cw.specialist, "疏通") == {"厨房下水道堵塞"}
    task = s.do_propose_plan(cw.handler, task, expected_version=1, plan="用高压水枪冲洗")
    assert found(cw.specialist, "高压") == {"厨房下水道堵塞"}
    task = s.do_confirm_plan(cw.specialist, task, expected_version=2)
    s.do_complete_task(cw.handler, task, expected_version=3, report="已清理出大量油污")
    assert found(cw.specialist, "油污") == {"厨房下水道堵塞"}
    assert found(cw.handler, "油污") == {"厨房下水道堵塞"}


def test_unit_label_is_searchable_but_names_and_phones_are_not(cw):
    record(cw.specialist, cw.project, description="窗户渗水", units=[cw.unit_b], party=cw.owner_b)
    record(cw.specialist, cw.project, description="电梯异响", caller_name="赵敏", caller_phone="13600001111")
    assert found(cw.specialist, "1502") == {"窗户渗水"}
    assert found(cw.specialist, "3栋 1502") == {"窗户渗水"}
    assert found(cw.specialist, "李娜") == set()
    assert found(cw.specialist, "赵敏") == set()
    assert found(cw.specialist, "13600001111") == set()


def test_merged_request_is_found_through_the_one_it_was_merged_into(cw):
    keep = record(cw.specialist, cw.project, description="地库积水")
    duplicate = record(cw.specialist, cw.project, description="车库进水了，车被泡")
    s.do_add_note(cw.specialist, duplicate, note="业主要求赔偿")
    s.do_merge_cases(cw.specialist, duplicate, into=keep, expected_version=1)
    assert found(cw.specialist, "赔偿") == {"地库积水", "车库进水了，车被泡"}
    assert found(cw.specialist, "车库") == {"地库积水", "车库进水了，车被泡"}


def test_refresh_is_idempotent_and_bulk_loaded_text_is_searchable_after_reindex(cw):
    case = record(cw.specialist, cw.project, description="外墙瓷砖脱落")
    assert refresh_search_text(case) == refresh_search_text(case)
    assert found(cw.specialist, "瓷砖") == {"外墙瓷砖脱落"}
    Case.objects.filter(pk=case.pk).update(search_text="幕墙 玻璃")
    reindex_search([case.pk])
    assert found(cw.specialist, "幕墙") == {"外墙瓷砖脱落"}
    assert found(cw.specialist, "瓷砖") == set()


def test_database_has_the_search_index(db):
    from django.db import connection

    from guanjia.cases.search import PG_INDEX

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            assert PG_INDEX in connection.introspection.get_constraints(cursor, "cases_case")
        else:
            assert "case_fts" in connection.introspection.table_names(cursor)
