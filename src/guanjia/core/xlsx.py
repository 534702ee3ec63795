"""Writing what people typed into a workbook without letting it run.

openpyxl stores any text that starts with "=" as a formula, so a party named
`=HYPERLINK("http://…","点这里")` or a description `=cmd|' /C calc'!A0` would become a live
formula in the exported file, run by Excel or WPS when a colleague opens it. Every row that
carries such text goes through `text_row`, which keeps it a plain string.
"""

from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import TYPE_STRING


def text_row(sheet, values: Iterable[Any]) -> list[Any]:
    """`values` for `sheet.append()`, with text that looks like a formula kept as text."""
    return [_text_cell(sheet, value) if isinstance(value, str) and value.startswith("=") else value for value in values]


def _text_cell(sheet, value: str):
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = TYPE_STRING
    return cell
