"""A person's data (`queries.person_data`) as an xlsx workbook or a JSON file.

The workbook opens with a sheet that says what it is (whose data, when, by whom), then one sheet per
table. The JSON file holds the same tables as lists of objects keyed by the column keys, with the
column labels alongside, so a program and a person can both read it.
"""

import io
import json

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from guanjia.core.xlsx import text_row

from .queries import PersonData

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON = "application/json"


def _about(data: PersonData) -> list[tuple[str, str]]:
    return [
        (_("Personal data of"), data.party.name),
        (_("Exported at"), timezone.localtime(data.exported_at).strftime("%Y-%m-%d %H:%M")),
        (_("Exported by"), data.exported_by),
        (_("ID number"), _("whole") if data.full_id_number else _("masked")),
        (_("Scope"), _("Lists hold what the exporting staff member's scope covers.")),
    ]


def person_xlsx(data: PersonData) -> bytes:
    workbook = Workbook()
    bold = Font(bold=True)
    about = workbook.active
    about.title = _("About this export")[:31]
    for label, value in _about(data):
        about.append(text_row(about, [label, value]))
        about.cell(row=about.max_row, column=1).font = bold
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 50
    for section in data.sections:
        sheet = workbook.create_sheet(section.title[:31])
        sheet.append([label for _key, label in section.columns])
        for cell in sheet[1]:
            cell.font = bold
        for row in section.rows:
            # What owners and staff typed (names, descriptions, messages) stays text, never a formula.
            sheet.append(text_row(sheet, row))
        for index, (_key, label) in enumerate(section.columns):
            width = max([len(str(label)) * 2, *(len(str(r[index] or "")) for r in section.rows[:200])], default=10)
            sheet.column_dimensions[sheet.cell(row=1, column=index + 1).column_letter].width = min(max(width, 10), 60)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def person_json(data: PersonData) -> bytes:
    document = {
        "party_id": data.party.pk,
        "exported_at": data.exported_at.isoformat(),
        "exported_by": data.exported_by,
        "id_number": "whole" if data.full_id_number else "masked",
        "tables": {
            section.key: {
                "title": section.title,
                "columns": {key: label for key, label in section.columns},
                "rows": [dict(zip([key for key, _label in section.columns], row, strict=True)) for row in section.rows],
            }
            for section in data.sections
        },
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode()
