"""Counts of long lists stop at COUNT_CAP: the page says "more than N" and the API `count_capped`."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from guanjia.cases.choices import CaseType, Channel
from guanjia.cases.models import Case
from guanjia.cases.services import do_record_case
from guanjia.core import paging
from guanjia.core.models import ApiToken
from guanjia.core.paging import CappedPaginator, capped_count


@pytest.fixture
def five_cases(world):
    for n in range(5):
        do_record_case(
            world.specialist,
            project=world.project,
            case_type=CaseType.INQUIRY,
            channel=Channel.HOTLINE,
            description=f"咨询第{n}件",
            caller_name="王先生",
        )
    return Case.objects.all()


def test_count_is_exact_up_to_the_cap_and_capped_beyond(five_cases):
    assert capped_count(five_cases, 5) == (5, False)
    assert capped_count(five_cases, 4) == (4, True)


def counting_sql(queryset) -> str:
    with CaptureQueriesContext(connection) as queries:
        capped_count(queryset, 3)
    return queries[-1]["sql"].upper()


def test_the_count_leaves_the_list_order_to_the_filters_index(five_cases):
    # Unordered, the planner counts through the filter's own index and stops at cap + 1; walking the
    # order's index would pass over every row that does not match (SQLite's partial-index walk aside).
    for order in (("-received_at", "-id"), ("resolution_due", "id"), ("-id",)):
        assert "ORDER BY" not in counting_sql(five_cases.order_by(*order))
    assert capped_count(five_cases.order_by("-received_at", "-id"), 3) == (3, True)
    assert capped_count(five_cases.order_by("-id"), 5) == (5, False)


def test_sqlite_counts_in_order_only_along_a_partial_index(five_cases, monkeypatch):
    # Which index SQLite walks depends on its statistics; the decision is what is tested here.
    major = five_cases.at_risk().order_by("-received_at", "-id")
    on_sqlite = connection.vendor == "sqlite"
    for plan, ordered_on_sqlite in (
        (["SEARCH cases_case USING INDEX case_project_at_risk (project_id=?)"], True),
        (["SCAN cases_case USING INDEX case_at_risk_newest"], True),
        (["SEARCH cases_case USING INDEX case_project_received (project_id=?)"], False),
        (["SEARCH cases_case USING INDEX case_project_at_risk (project_id=?)", "USE TEMP B-TREE FOR ORDER BY"], False),
    ):
        monkeypatch.setattr(paging, "_sqlite_plan", lambda queryset, plan=plan: plan)
        assert ("ORDER BY" in counting_sql(major)) is (ordered_on_sqlite and on_sqlite)


def test_a_crowded_page_on_sqlite_walks_the_order_index_and_shows_the_same_rows(world, five_cases, monkeypatch):
    # A filter with its own index (the owner): SQLite would read every match through it and sort.
    mine = five_cases.filter(owner=world.specialist).select_related("project").order_by("-received_at", "-id")
    expected = list(mine.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        walked = paging.page_slice(mine, 1, 4, crowded=True)
    assert [c.pk for c in walked] == expected[1:4]
    walks = any('INDEXED BY "case_received"' in q["sql"] for q in queries)
    assert len(queries) == (3 if connection.vendor == "sqlite" else 2)  # (the plan,) the ids, the rows
    assert walks is (connection.vendor == "sqlite")
    with CaptureQueriesContext(connection) as queries:
        plain = paging.page_slice(mine, 1, 4, crowded=False)
    assert [c.pk for c in plain] == expected[1:4]
    assert not any("INDEXED BY" in q["sql"] for q in queries)
    with CaptureQueriesContext(connection) as queries:
        assert {c.project.name for c in plain} == {world.project.name}
    assert len(queries) == 0  # the related rows came with the page
    # Through the workbench: a capped count means crowded, and the page is the same.
    monkeypatch.setattr(paging, "COUNT_CAP", 3)
    paginator = CappedPaginator(mine.all(), 2)  # a fresh queryset: no plan read yet
    with CaptureQueriesContext(connection) as queries:
        second = paginator.page(2)
    # The count and the page both need SQLite's plan; it is asked for once.
    explained = sum(q["sql"].startswith("EXPLAIN") for q in queries)
    assert explained == (1 if connection.vendor == "sqlite" else 0)
    assert paginator.capped and [c.pk for c in second] == expected[2:3]  # pages end at the cap


def test_paginator_offers_only_the_counted_pages(five_cases, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 3)
    paginator = CappedPaginator(five_cases.order_by("id"), 2)
    assert (paginator.count, paginator.capped, paginator.num_pages) == (3, True, 2)


def test_workbench_says_more_than_the_cap(client, world, five_cases, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 3)
    client.force_login(world.specialist)
    page = client.get("/cases/?view=all").content.decode()
    assert "共 3 条以上" in page


def test_api_count_is_capped_and_next_pages_go_on(world, five_cases, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 3)
    _token, raw = ApiToken.issue(world.specialist, "t")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    first = api.get("/api/v1/cases?limit=2").json()
    assert (first["count"], first["count_capped"], len(first["items"])) == (3, True, 2)
    # Past the counted cap a full page still links to the next one, until a short page ends the list.
    second = api.get(first["next"]).json()
    assert len(second["items"]) == 2 and second["next"]
    third = api.get(second["next"]).json()
    assert len(third["items"]) == 1 and third["next"] is None
    seen = {c["id"] for page in (first, second, third) for c in page["items"]}
    assert seen == set(five_cases.values_list("id", flat=True))
    monkeypatch.setattr(paging, "COUNT_CAP", 10)
    exact = api.get("/api/v1/cases?limit=2").json()
    assert (exact["count"], exact["count_capped"]) == (5, False)


def test_postgresql_plans_the_count_for_its_own_values_every_time(five_cases):
    # Prepared statements get one generic plan after a few runs; the count must not (see the docstring).
    if connection.vendor != "postgresql":
        pytest.skip("statements are prepared on PostgreSQL only")
    newest = five_cases.order_by("-received_at", "-id")

    def prepared_counts() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement ILIKE '%%COUNT(*)%%'")
            return cursor.fetchone()[0]

    for _ in range(10):
        assert capped_count(newest, 3) == (3, True)
    assert prepared_counts() == 0
    for _ in range(10):
        newest.count()
    assert prepared_counts() == 1  # what an ordinary count does: the check above can fail
