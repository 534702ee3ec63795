"""A periodic report as its reader sees it, drawn only from its data (`periodic.report_data`).

A submitted report's data is its frozen snapshot; a draft's is counted afresh. The page, the xlsx
and the PDF all print `ReportDocument`, so the three always agree. Charts are small SVG drawn here
(no JavaScript, so WeasyPrint prints them as they are on screen).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from guanjia.core.xlsx import text_row

from .choices import ReportKind, ReportScopeLevel
from .metrics import Period
from .models import Report
from .periodic import report_data

DASH = "—"


def data_of(report: Report) -> dict:
    """What the report shows: the snapshot once submitted, else the figures as they are now."""
    if report.snapshot is not None:
        return report.snapshot
    return report_data(report.kind, report.scope_level, report.scope_id, Period(report.period_start, report.period_end))


def _percent(rate: dict | None) -> str:
    if not rate or rate.get("rate") is None:
        return DASH
    return f"{100 * rate['rate']:.1f}%"


def _plain(value) -> str:
    return DASH if value is None else str(value)


# The columns of the table by group: (title, value of a group's figures as text).
def _columns():
    return [
        (_("Requests received"), lambda f: str(f["received"])),
        (_("Requests closed"), lambda f: str(f["closed"])),
        (_("Closing rate"), lambda f: _percent(f["closing_rate"])),
        (_("First response in time"), lambda f: _percent(f["on_time"]["response"])),
        (_("Resolved in time"), lambda f: _percent(f["on_time"]["resolution"])),
        (_("Follow-up in time"), lambda f: _percent(f["on_time"]["follow_up"])),
        (_("Satisfaction"), lambda f: _percent(f["satisfaction"])),
        (_("Average handling (h)"), lambda f: _plain(f["handling"]["avg_hours"])),
        (_("Handling, 90th percentile (h)"), lambda f: _plain(f["handling"]["p90_hours"])),
        (_("Reopen rate"), lambda f: _percent(f["reopen_rate"])),
        (_("Complaints"), lambda f: str(f["complaints"])),
        (_("Repeat-complaint rate"), lambda f: _percent(f["repeat_complaint_rate"])),
        (_("Complaints per 100 households"), lambda f: _plain(f["complaints_per_100_households"])),
    ]


GROUP_TITLES = {
    ReportScopeLevel.COMPANY: lambda: _("Project"),
    ReportScopeLevel.PROJECT: lambda: _("Area"),
    ReportScopeLevel.AREA: lambda: _("Building"),
}


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    total: list[str] | None = None


class ReportDocument:
    def __init__(self, report: Report, data: dict | None = None):
        self.report = report
        self.data = data if data is not None else data_of(report)
        self.figures = self.data["figures"]

    @property
    def title(self) -> str:
        kind = ReportKind(self.data["kind"]).label
        return f"{self.data['scope']['name']} {kind}（{self.period_label}）"

    @property
    def period_label(self) -> str:
        period = self.data["period"]
        return f"{period['start']} – {Period(_date(period['start']), _date(period['end'])).last_day.isoformat()}"

    @property
    def counted_at(self) -> str:
        from django.utils import timezone
        from django.utils.dateparse import parse_datetime

        moment = parse_datetime(self.data["counted_at"])
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""

    def summary(self) -> list[tuple[str, str]]:
        total = self.figures["total"]
        return [(title, value(total)) for title, value in _columns()]

    def by_group(self) -> Table:
        columns = _columns()
        headers = [GROUP_TITLES[self.data["scope"]["level"]](), *[t for t, _v in columns]]
        rows = [[g["label"], *[v(g) for _t, v in columns]] for g in self.figures["groups"]]
        total = [_("Total"), *[v(self.figures["total"]) for _t, v in columns]]
        return Table(headers, rows, total)

    def top_categories(self) -> Table:
        rows = [[c["label"], str(c["received"]), _percent(c["share"])] for c in self.figures["top_categories"]]
        return Table([_("Category"), _("Requests received"), _("Share")], rows)

    def complaints_by_category(self) -> Table:
        rows = [
            [g["label"], str(g["received"]), str(g["closed"]), _percent(g["closing_rate"])]
            for g in self.data["complaints_by_category"]
            if g["received"] or g["closed"]
        ]
        return Table([_("Category"), _("Complaints received"), _("Complaints closed"), _("Closing rate")], rows)

    def group_chart(self) -> SafeString:
        groups = [g for g in self.figures["groups"] if g["received"] or g["closed"]][:15]
        return bar_chart(
            [(g["label"], g["received"], g["closed"]) for g in groups], (_("Requests received"), _("Requests closed"))
        )

    def category_chart(self) -> SafeString:
        cats = self.figures["top_categories"]
        return bar_chart([(c["label"], c["received"], None) for c in cats], (_("Requests received"), ""))

    def xlsx(self) -> bytes:
        """The report as a workbook: the summary with the commentary, the table by group, the categories."""
        book = Workbook()
        bold, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDE6F0")
        sheet = book.active
        sheet.title = _("Key figures")[:31]
        sheet.append([self.title])
        sheet["A1"].font = Font(bold=True, size=14)
        sheet.append([_("Period"), self.period_label])
        sheet.append([_("Status"), str(self.report.get_status_display())])
        sheet.append([_("Figures counted at"), self.counted_at])
        sheet.append([])
        for title, value in self.summary():
            sheet.append([title, value])
        sheet.append([])
        sheet.append([_("Commentary")])
        sheet.cell(row=sheet.max_row, column=1).font = bold
        sheet.append(text_row(sheet, [self.report.commentary]))
        sheet.cell(row=sheet.max_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions["A"].width = 32
        sheet.column_dimensions["B"].width = 40
        for name, table in (
            (_("By group"), self.by_group()),
            (_("Top categories"), self.top_categories()),
            (_("Complaints by category"), self.complaints_by_category()),
        ):
            ws = book.create_sheet(name[:31])
            ws.append(table.headers)
            for cell in ws[1]:
                cell.font, cell.fill = bold, head_fill
            for row in table.rows:
                ws.append(text_row(ws, row))
            if table.total:
                ws.append(table.total)
                for cell in ws[ws.max_row]:
                    cell.font = bold
            ws.column_dimensions["A"].width = 28
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


def _date(text: str):
    from datetime import date

    return date.fromisoformat(text)


def bar_chart(items: list[tuple[str, int, int | None]], legend: tuple[str, str]) -> SafeString:
    """Horizontal bars, one row per item (first value dark, optional second light), as inline SVG."""
    if not items:
        return mark_safe("")
    label_w, bar_w, row_h, top = 190, 330, 22, 24
    peak = max(max(a, b or 0) for _l, a, b in items) or 1
    height = top + row_h * len(items) + 6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="gj-chart" viewBox="0 0 {label_w + bar_w + 60} {height}" '
        f'width="100%" role="img" font-family="Noto Sans CJK SC, sans-serif" font-size="11">',
        f'<rect x="{label_w}" y="6" width="10" height="10" fill="#206bc4"/>'
        f'<text x="{label_w + 14}" y="15">{escape(legend[0])}</text>',
    ]
    if legend[1]:
        parts.append(
            f'<rect x="{label_w + 90}" y="6" width="10" height="10" fill="#a8c5ea"/>'
            f'<text x="{label_w + 104}" y="15">{escape(legend[1])}</text>'
        )
    for i, (label, first, second) in enumerate(items):
        y = top + i * row_h
        short = label if len(label) <= 16 else label[:15] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(short)}</text>')
        w1 = round(bar_w * first / peak, 1)
        h = 8 if second is not None else 14
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{w1}" height="{h}" fill="#206bc4"/>')
        parts.append(f'<text x="{label_w + w1 + 4}" y="{y + 2 + h - 1}">{first}</text>')
        if second is not None:
            w2 = round(bar_w * second / peak, 1)
            parts.append(f'<rect x="{label_w}" y="{y + 11}" width="{w2}" height="8" fill="#a8c5ea"/>')
            parts.append(f'<text x="{label_w + w2 + 4}" y="{y + 19}" fill="#555">{second}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
