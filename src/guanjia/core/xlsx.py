"""Writing what people typed into a workbook without letting it run.

openpyxl stores any text that starts with "=" as a formula, so a party named
`=HYPERLINK("http://…","点这里")` or a description `=cmd|' /C calc'!A0` would become a live
formula in the exported file, run by Excel or WPS when a colleague opens it. Every row that
carries such text goes through `text_row`, which keeps it a plain string.
"""

from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Font


def write_workbook(target, sheet_title: str, header: list[str], rows: Iterable[list]) -> int:
    """A bold header and `rows` into a write-only workbook saved to `target` (a path or binary file),
    row by row, so a large export never holds the whole list in memory; returns the row count."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    bold = Font(bold=True)
    cells = []
    for title in header:
        cell = WriteOnlyCell(sheet, value=str(title))
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    count = 0
    for row in rows:
        sheet.append(text_row(sheet, row))
        count += 1
    workbook.save(target)
    return count


def text_row(sheet, values: Iterable[Any]) -> list[Any]:
    """`values` for `sheet.append()`, with text that looks like a formula kept as text."""
    return [_text_cell(sheet, value) if isinstance(value, str) and value.startswith("=") else value for value in values]


def _text_cell(sheet, value: str):
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = TYPE_STRING
    return cell
