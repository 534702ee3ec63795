"""Periodic reports: periods of each kind, drafting by the worker, scope, submission freezes the figures."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanjia.cases.models import Case
from guanjia.reports import services
from guanjia.reports.choices import ReportKind, ReportStatus
from guanjia.reports.document import ReportDocument
from guanjia.reports.metrics import Period
from guanjia.reports.models import Report
from guanjia.reports.periodic import last_finished, period_of
from guanjia.reports.tasks import generate_periodic_reports

from .conftest import OCTOBER


@pytest.mark.parametrize(
    ("kind", "day", "start", "end"),
    [
        ("weekly", date(2025, 10, 15), date(2025, 10, 13), date(2025, 10, 20)),
        ("weekly", date(2025, 10, 19), date(2025, 10, 13), date(2025, 10, 20)),
        ("half_monthly", date(2025, 10, 15), date(2025, 10, 1), date(2025, 10, 16)),
        ("half_monthly", date(2025, 10, 16), date(2025, 10, 16), date(2025, 11, 1)),
        ("half_monthly", date(2024, 2, 29), date(2024, 2, 16), date(2024, 3, 1)),
        ("monthly", date(2025, 12, 31), date(2025, 12, 1), date(2026, 1, 1)),
        ("quarterly", date(2025, 11, 5), date(2025, 10, 1), date(2026, 1, 1)),
        ("quarterly", date(2025, 3, 31), date(2025, 1, 1), date(2025, 4, 1)),
        ("annual", date(2025, 6, 1), date(2025, 1, 1), date(2026, 1, 1)),
    ],
)
def test_period_of_each_kind(kind, day, start, end):
    assert period_of(kind, day) == Period(start, end)


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        (date(2025, 11, 25), date(2025, 10, 26), date(2025, 11, 26)),
        (date(2025, 11, 26), date(2025, 11, 26), date(2025, 12, 26)),
        (date(2026, 1, 10), date(2025, 12, 26), date(2026, 1, 26)),
    ],
)
def test_monthly_period_with_a_cutoff_day(settings, day, start, end):
    settings.GUANJIA_MONTHLY_REPORT_CUTOFF_DAY = 25
    assert period_of("monthly", day) == Period(start, end)


def test_last_finished_period_is_the_one_before_today():
    assert last_finished("half_monthly", date(2025, 11, 1)) == Period(date(2025, 10, 16), date(2025, 11, 1))
    assert last_finished("half_monthly", date(2025, 10, 16)) == Period(date(2025, 10, 1), date(2025, 10, 16))
    assert last_finished("monthly", date(2025, 11, 5)) == OCTOBER
    assert last_finished("weekly", date(2025, 11, 3)) == Period(date(2025, 10, 27), date(2025, 11, 3))


def test_the_worker_drafts_each_report_once(world):
    generate_periodic_reports.call_local()
    count = Report.objects.count()
    assert count > 0
    assert Report.objects.filter(kind=ReportKind.WEEKLY, scope_level="area").count() == 2
    assert Report.objects.filter(kind=ReportKind.MONTHLY, scope_level="company").count() == 2  # not the group
    assert generate_periodic_reports.call_local() == 0
    assert Report.objects.count() == count
    assert set(Report.objects.values_list("status", flat=True)) == {ReportStatus.DRAFT}


def _card(html: str) -> str:
    return html[html.index("gj-periodic-report") :]


def _pdf_text(data: bytes) -> str:
    """The words of every page (the file itself differs by its creation time)."""
    import re
    import zlib

    # WeasyPrint writes text as glyph ids; compare the decompressed page streams instead.
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S)
    out = []
    for raw in streams:
        try:
            out.append(zlib.decompress(raw))
        except zlib.error:
            continue
    return repr(out)


def _monthly(world, level="company", scope_id=None):
    report, _ = services.do_generate_report(ReportKind.MONTHLY, level, scope_id or world.company.pk, OCTOBER)
    return report


def test_submitted_report_is_frozen(client, october):
    w = october.world
    report = _monthly(w)
    before = ReportDocument(report).by_group()
    received = before.total[1]
    assert received == "5"
    services.do_submit_report(w.manager, report, "十月投诉以噪音为主。")
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED and report.author == w.manager
    client.force_login(w.manager)
    xlsx_before = client.get(f"/reports/periodic/{report.pk}/report.xlsx").content
    page_before = _card(client.get(f"/reports/periodic/{report.pk}/").content.decode())
    pdf_before = _pdf_text(client.get(f"/reports/periodic/{report.pk}/report.pdf").content)
    # A request of October moves to another company: a live count would change.
    Case.objects.filter(project=w.project, received_at__gte=OCTOBER.bounds[0]).update(project=w.other_project)
    report.refresh_from_db()
    after = ReportDocument(report).by_group()
    # The "Total" label is translated when shown, so compare the figures.
    assert after.total[1:] == before.total[1:] and after.rows == before.rows
    assert client.get(f"/reports/periodic/{report.pk}/report.xlsx").content != b""
    from io import BytesIO

    from openpyxl import load_workbook

    def cells(data):
        book = load_workbook(BytesIO(data))
        return [[c.value for c in row] for ws in book.worksheets[1:] for row in ws.iter_rows()]

    assert cells(client.get(f"/reports/periodic/{report.pk}/report.xlsx").content) == cells(xlsx_before)
    assert _card(client.get(f"/reports/periodic/{report.pk}/").content.decode()) == page_before
    assert _pdf_text(client.get(f"/reports/periodic/{report.pk}/report.pdf").content) == pdf_before
    # Frozen: no more edits.
    with pytest.raises(ValidationError) as exc:
        services.do_update_commentary(w.manager, report, "改")
    assert "status" in exc.value.message_dict


def test_draft_follows_the_cases_until_submitted(october):
    w = october.world
    report = _monthly(w)
    assert ReportDocument(report).by_group().total[1] == "5"
    Case.objects.filter(project=w.project).update(project=w.other_project)
    assert ReportDocument(report).by_group().total[1] != "5"


def test_readers_see_only_reports_of_their_scope(client, october):
    w = october.world
    company = _monthly(w)
    other = _monthly(w, scope_id=w.other_company.pk)
    project = _monthly(w, "project", w.project.pk)
    client.force_login(w.manager)
    assert client.get(f"/reports/periodic/{company.pk}/").status_code == 200
    assert client.get(f"/reports/periodic/{other.pk}/").status_code == 404
    html = client.get("/reports/periodic/").content.decode()
    assert f"/reports/periodic/{company.pk}/" in html and f"/reports/periodic/{other.pk}/" not in html
    client.force_login(w.specialist)
    assert client.get(f"/reports/periodic/{company.pk}/").status_code == 404  # above their level
    assert client.get(f"/reports/periodic/{project.pk}/").status_code == 200
    client.force_login(w.outsider)
    assert client.get(f"/reports/periodic/{project.pk}/report.pdf").status_code == 404


def test_only_writers_may_edit_and_submit(client, october, settings):
    from guanjia.org.choices import Role, ScopeLevel
    from guanjia.testing import make_staff

    w = october.world
    report = _monthly(w)
    inspector = make_staff("inspector", Role.INSPECTOR, ScopeLevel.GROUP)
    with pytest.raises(PermissionDenied):
        services.do_submit_report(inspector, report)
    client.force_login(inspector)
    assert client.post(f"/reports/periodic/{report.pk}/", {"commentary": "x", "action": "save"}).status_code == 403
    client.force_login(w.manager)
    response = client.post(f"/reports/periodic/{report.pk}/", {"commentary": "初稿", "action": "save"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.commentary == "初稿" and report.status == ReportStatus.DRAFT
    too_long = "字" * (services.COMMENTARY_MAX + 1)
    html = client.post(f"/reports/periodic/{report.pk}/", {"commentary": too_long, "action": "submit"}).content.decode()
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT and report.commentary == "初稿"
    assert "20000" in html


def test_pdf_of_a_report(client, october):
    w = october.world
    report = _monthly(w)
    client.force_login(w.manager)
    response = client.get(f"/reports/periodic/{report.pk}/report.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
