"""Ledger lists to xlsx, row by row, so a large export never holds the whole list in memory."""

import tempfile
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from django.http import FileResponse

from guanjia.core.xlsx import write_workbook

Column = tuple[str, Callable[[Any], Any]]


def write_xlsx(path, sheet_title: str, columns: list[Column], rows: Iterable[Any]) -> int:
    """Write `rows` through `columns` (header, getter) into a workbook; returns the row count."""
    header = [title for title, _getter in columns]
    values = ([_plain(getter(row)) for _title, getter in columns] for row in rows)
    return write_workbook(path, sheet_title, header, values)


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
