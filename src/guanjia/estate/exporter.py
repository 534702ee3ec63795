"""Ledger lists to xlsx, row by row, so a large export never holds the whole list in memory."""

import tempfile
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.styles import Font

from guanjia.core.xlsx import text_row

Column = tuple[str, Callable[[Any], Any]]


def write_xlsx(path, sheet_title: str, columns: list[Column], rows: Iterable[Any]) -> int:
    """Write `rows` through `columns` (header, getter) into a write-only workbook; returns the row count."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    header = []
    for title, _getter in columns:
        cell = _header_cell(sheet, title)
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append(text_row(sheet, [_plain(getter(row)) for _title, getter in columns]))
        count += 1
    workbook.save(path)
    return count


def _header_cell(sheet, title: str):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=str(title))
    cell.font = Font(bold=True)
    return cell


def _plain(value):
    if value is None or isinstance(value, int | float | str):
        return value
    return str(value)


def xlsx_response(filename: str, sheet_title: str, columns: list[Column], rows: Iterable[Any]) -> FileResponse:
    """An xlsx download of `rows`; the workbook is spooled to a temporary file, not built in memory.

    `response.row_count` is the number of rows written (for the personal-data access log).
    """
    spool = tempfile.TemporaryFile(suffix=".xlsx")
    count = write_xlsx(spool, sheet_title, columns, rows)
    spool.seek(0)
    response = FileResponse(spool, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.row_count = count
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
