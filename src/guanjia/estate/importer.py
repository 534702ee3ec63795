"""Ledger import: units (房号) and their owners, residents and tenants (业主) from an xlsx workbook.

The import runs in two steps. `validate_ledger` reads the whole workbook, checks every row
against the project's ledger and collects every problem as {"sheet", "row", "column",
"message"}; it writes nothing. `do_import_ledger` commits a plan without problems in one
transaction, so an import is applied completely or not at all. Both are bulk: the existing
buildings, entrances, units, parties and occupancies of the project are read once into
dictionaries, and new rows (including their change history) are written with bulk_create.

The sheet names and column headers are the workbook contract that staff fill in, so they
are literal Chinese constants here, not translated UI text.
"""

import io
import logging
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from guanjia.core.errors import require
from guanjia.core.history import snapshot
from guanjia.core.models import ObjectChange
from guanjia.core.xlsx import text_row
from guanjia.org.permissions import can
from guanjia.org.queries import projects_for
from guanjia.org.scope import filter_by_scope

from .choices import Gender, OccupancyRole, UnitKind, UnitStatus
from .identity import id_digest, normalize_phone, protect_id_number, validate_id_number
from .models import Entrance, ImportJob, Occupancy, Party, Tag, Unit
from .queries import buildings_for, occupancies_for, parties_for, units_for
from .services import name_pinyin

logger = logging.getLogger(__name__)

SOURCE = "import"
BATCH = 500  # rows per bulk statement, and how often progress is reported

# --- the workbook contract ----------------------------------------------------------------

SHEET_UNITS = "房号"
SHEET_PARTIES = "业主"
SHEET_HELP = "说明"

BUILDING = "楼栋"
ENTRANCE = "单元"
FLOOR = "楼层"
ROOM = "房号"
KIND = "类型"
FLOOR_AREA = "建筑面积"
STATUS = "状态"
HANDOVER = "交付日期"
NOTE = "备注"
NAME = "姓名"
ROLE = "身份"
PHONE = "手机"
PHONE2 = "备用电话"
ID_NUMBER = "身份证号"
GENDER = "性别"
TAGS = "标签"
START = "入住日期"

UNIT_COLUMNS = (BUILDING, ENTRANCE, FLOOR, ROOM, KIND, FLOOR_AREA, STATUS, HANDOVER, NOTE)
PARTY_COLUMNS = (BUILDING, ENTRANCE, ROOM, NAME, ROLE, PHONE, PHONE2, ID_NUMBER, GENDER, TAGS, START)
REQUIRED = {SHEET_UNITS: (BUILDING, ROOM), SHEET_PARTIES: (BUILDING, ROOM, NAME)}
# Columns kept as text in the template, so Excel does not turn 0101 into 101 or round ID numbers.
TEXT_COLUMNS = {ENTRANCE, ROOM, PHONE, PHONE2, ID_NUMBER}

# The Chinese labels staff write. They match the zh-Hans translations of the choices, and stay
# here so that a workbook imports the same whatever language the uploader uses.
KIND_LABELS = {"住宅": UnitKind.RESIDENCE, "商铺": UnitKind.SHOP, "车位": UnitKind.PARKING, "别墅": UnitKind.VILLA}
STATUS_LABELS = {
    "未售": UnitStatus.UNSOLD,
    "已售": UnitStatus.SOLD,
    "已交付": UnitStatus.HANDED_OVER,
    "已入住": UnitStatus.OCCUPIED,
    "空置": UnitStatus.VACANT,
    "装修中": UnitStatus.RENOVATING,
}
# Other words staff use for the same status, accepted but not offered in the template's lists.
STATUS_ALIASES = {"已交房": UnitStatus.HANDED_OVER, "交付": UnitStatus.HANDED_OVER, "入住": UnitStatus.OCCUPIED}
ROLE_LABELS = {"业主": OccupancyRole.OWNER, "住户": OccupancyRole.RESIDENT, "租户": OccupancyRole.TENANT}
GENDER_LABELS = {"男": Gender.MALE, "女": Gender.FEMALE}

COLUMN_HELP = {
    BUILDING: (gettext_lazy("Required. A building of the project, e.g. 3栋."), "3栋"),
    ENTRANCE: (gettext_lazy("Optional. 2单元 or 2; a missing entrance is created."), "2单元"),
    FLOOR: (gettext_lazy("Whole number; empty means taken from the room number (1502 → 15)."), "15"),
    ROOM: (gettext_lazy("Required. The room number within the building and entrance."), "1502"),
    KIND: (gettext_lazy("One of: %(choices)s. Empty means 住宅."), "住宅"),
    FLOOR_AREA: (gettext_lazy("Square metres, up to 2 decimals."), "89.50"),
    STATUS: (gettext_lazy("One of: %(choices)s. Empty means 未售 for a new room."), "已交付"),
    HANDOVER: (gettext_lazy("A date such as 2024-03-31."), "2024-03-31"),
    NOTE: (gettext_lazy("Up to 200 characters."), ""),
    NAME: (gettext_lazy("Required. The person's or organisation's name."), "张伟"),
    ROLE: (gettext_lazy("One of: %(choices)s. Empty means 业主."), "业主"),
    PHONE: (gettext_lazy("Mainland mobile or landline, e.g. 13812345678 or 010-12345678."), "13812345678"),
    PHONE2: (gettext_lazy("Optional second phone, same format."), ""),
    ID_NUMBER: (gettext_lazy("18-character resident ID number, entered as text."), "11010519491231002X"),
    GENDER: (gettext_lazy("男 or 女."), "男"),
    TAGS: (gettext_lazy("Separated by 、 or a comma, e.g. 重点客户、VIP."), "VIP"),
    START: (gettext_lazy("Move-in date; empty means the day of the import."), "2024-05-01"),
}


@cache
def _choice_map(kind: str) -> dict[str, str]:
    """Everything accepted for a choice column: the value codes, the English and zh-Hans labels."""
    choices, literal = {
        KIND: (UnitKind, KIND_LABELS),
        STATUS: (UnitStatus, STATUS_LABELS),
        ROLE: (OccupancyRole, ROLE_LABELS),
        GENDER: (Gender, GENDER_LABELS),
    }[kind]
    mapping: dict[str, str] = {}
    for value, label in choices.choices:
        if not value:
            continue
        mapping[value.lower()] = value
        for language in ("en", "zh-hans"):
            with translation.override(language):
                mapping[str(label).strip().lower()] = value
    mapping.update({label: str(value) for label, value in literal.items()})
    if kind == STATUS:
        mapping.update({label: str(value) for label, value in STATUS_ALIASES.items()})
    return mapping


def choice_labels(kind: str) -> list[str]:
    return list({KIND: KIND_LABELS, STATUS: STATUS_LABELS, ROLE: ROLE_LABELS, GENDER: GENDER_LABELS}[kind])


# --- the template ---------------------------------------------------------------------------


def build_template() -> bytes:
    """The empty workbook staff download and fill in: two data sheets and an instructions sheet."""
    workbook = Workbook()
    units = workbook.active
    units.title = SHEET_UNITS
    parties = workbook.create_sheet(SHEET_PARTIES)
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDE7F3")
    for sheet, columns in ((units, UNIT_COLUMNS), (parties, PARTY_COLUMNS)):
        for index, header in enumerate(columns, start=1):
            cell = sheet.cell(row=1, column=index, value=header)
            cell.font = header_font
            cell.fill = header_fill
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = 22 if header in (ID_NUMBER, NOTE, TAGS) else 12
            if header in TEXT_COLUMNS:
                sheet.column_dimensions[letter].number_format = "@"
        sheet.freeze_panes = "A2"
        for header, kind in ((KIND, KIND), (STATUS, STATUS), (ROLE, ROLE), (GENDER, GENDER)):
            if header in columns:
                letter = get_column_letter(columns.index(header) + 1)
                validation = DataValidation(
                    type="list",
                    formula1='"{}"'.format(",".join(choice_labels(kind))),
                    allow_blank=True,
                    showErrorMessage=True,
                    error=_("Choose a value from the list."),
                )
                validation.add(f"{letter}2:{letter}20001")
                sheet.add_data_validation(validation)

    help_sheet = workbook.create_sheet(SHEET_HELP)
    help_sheet.append([_("How to fill in this workbook")])
    help_sheet["A1"].font = Font(bold=True, size=13)
    for line in (
        _("Row 1 of each sheet holds the column headers; do not change them. Data starts in row 2."),
        _("Sheet “%(units)s” lists rooms; sheet “%(parties)s” lists owners, residents and tenants by room.")
        % {"units": SHEET_UNITS, "parties": SHEET_PARTIES},
        _(
            "Buildings must already exist in the project. Rooms are matched by building, entrance and room number: "
            "an existing room is updated, a new one is created."
        ),
        _("People are matched by ID number, else by name and phone; empty cells leave existing values unchanged."),
        _("The whole workbook is checked first. If any row has a problem, nothing is imported."),
    ):
        help_sheet.append([line])
    help_sheet.append([])
    help_sheet.append([_("Sheet"), _("Column"), _("Rule"), _("Example")])
    for cell in help_sheet[help_sheet.max_row]:
        cell.font = header_font
    for sheet_name, columns in ((SHEET_UNITS, UNIT_COLUMNS), (SHEET_PARTIES, PARTY_COLUMNS)):
        for header in columns:
            rule, example = COLUMN_HELP[header]
            kind = header if header in (KIND, STATUS, ROLE) else None
            text = str(rule) % {"choices": "、".join(choice_labels(kind))} if kind else str(rule)
            if header in (BUILDING, ENTRANCE, ROOM) and sheet_name == SHEET_PARTIES:
                text = _("The room the person belongs to, as in sheet “%(units)s”.") % {"units": SHEET_UNITS}
            help_sheet.append([sheet_name, header, text, example])
    help_sheet.column_dimensions["A"].width = 8
    help_sheet.column_dimensions["B"].width = 12
    help_sheet.column_dimensions["C"].width = 80
    help_sheet.column_dimensions["D"].width = 22
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def build_problem_workbook(problems: Iterable[dict]) -> bytes:
    """The problems of an import as a workbook, to fix the rows one by one."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Problems")[:31])
    sheet.append([_("Sheet"), _("Row"), _("Column"), _("Problem")])
    for problem in problems:
        sheet.append(text_row(sheet, [problem["sheet"], problem["row"] or None, problem["column"], problem["message"]]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def format_problem(problem: dict) -> str:
    """One problem as a line: sheet, row, column, message."""
    if not problem.get("row"):
        return f"{problem['sheet']} {problem['message']}".strip()
    if not problem.get("column"):
        return _("%(sheet)s, row %(row)s: %(message)s") % problem
    return _("%(sheet)s, row %(row)s, column %(column)s: %(message)s") % problem


# --- reading cells ------------------------------------------------------------------------------


class CellError(Exception):
    """A cell's value is not acceptable; the message says why."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _code(value: Any) -> str:
    """Room numbers, phones and ID numbers: full-width digits and spaces normalised away."""
    return unicodedata.normalize("NFKC", _text(value)).replace(" ", "")


def _limit(text: str, max_length: int) -> str:
    if len(text) > max_length:
        raise CellError(_("At most %(max)s characters.") % {"max": max_length})
    return text


def _choice(value: Any, kind: str) -> str | None:
    text = _text(value)
    if not text:
        return None
    found = _choice_map(kind).get(text.lower())
    if found is None:
        raise CellError(
            _("“%(value)s” is not one of: %(choices)s.") % {"value": text, "choices": "、".join(choice_labels(kind))}
        )
    return found


_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and 1 < value < 2958466:
        # A date cell without date formatting arrives as Excel's serial day number.
        return from_excel(value).date()
    text = unicodedata.normalize("NFKC", _text(value))
    match = _DATE_TEXT.match(text) or re.match(r"^(\d{4})(\d{2})(\d{2})$", text)
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise CellError(_("“%(value)s” is not a date; write it as 2024-03-31.") % {"value": text})


def _floor(value: Any) -> int | None:
    text = _code(value)
    if not text:
        return None
    if not re.fullmatch(r"-?\d{1,3}", text):
        raise CellError(_("“%(value)s” is not a floor number.") % {"value": text})
    return int(text)


def _floor_area(value: Any) -> Decimal | None:
    text = _code(value)
    if not text:
        return None
    try:
        number = Decimal(text.removesuffix("m²").removesuffix("㎡"))
    except InvalidOperation as exc:
        raise CellError(_("“%(value)s” is not a number.") % {"value": text}) from exc
    if not number.is_finite() or number < 0 or number >= 10_000_000:
        raise CellError(_("The floor area must be between 0 and 9999999.99."))
    return number.quantize(Decimal("0.01"))


def _entrance(value: Any) -> tuple[str, int] | None:
    """(name, number) from 2单元 or 2; other names (A座) are kept as written, with number 0."""
    text = _code(value)
    if not text:
        return None
    match = re.fullmatch(r"(\d{1,3})(?:单元)?", text)
    if match:
        number = int(match.group(1))
        return f"{number}单元", number
    return _limit(text, 30), 0


def _room(value: Any) -> str:
    return _limit(_code(value).removesuffix("室"), 20)


def _tags(value: Any) -> list[str]:
    names = [name.strip() for name in re.split(r"[、,，;；]", _text(value)) if name.strip()]
    for name in names:
        if len(name) > 20:
            raise CellError(_("The tag “%(value)s” is longer than 20 characters.") % {"value": name})
    return list(dict.fromkeys(names))


def _floor_from_room(number: str) -> int:
    digits = re.match(r"^(\d+)", number)
    if digits and len(digits.group(1)) >= 3:
        return int(digits.group(1)[:-2])
    return 1


# --- the plan --------------------------------------------------------------------------------


@dataclass
class UnitPlan:
    row: int
    building: Any
    entrance: tuple[str, int] | None
    number: str
    key: tuple  # (building id, entrance name or None, room number)
    values: dict[str, Any]  # only the columns the row fills in
    existing: Unit | None = None


@dataclass
class PartyPlan:
    row: int
    name: str
    existing: Party | None = None
    phone: str = ""
    phone2: str = ""
    id_number: str = ""
    digest: str = ""
    gender: str | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class OccupancyPlan:
    row: int
    party: PartyPlan
    unit_key: tuple
    role: str
    start: date | None


@dataclass
class LedgerPlan:
    """What `validate_ledger` found: the problems, or else everything to write."""

    user: Any
    project: Any
    total_rows: int = 0
    problems: list[dict] = field(default_factory=list)
    units: list[UnitPlan] = field(default_factory=list)
    parties: list[PartyPlan] = field(default_factory=list)
    occupancies: list[OccupancyPlan] = field(default_factory=list)
    existing_units: dict[tuple, Unit] = field(default_factory=dict)
    entrances: dict[tuple, Entrance] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.problems


Progress = Callable[[int, int], None]


def _read_sheets(file, plan: LedgerPlan) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """{sheet: [(row number, {header: value})]} for the data sheets present, blank rows left out."""
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        plan.problems.append(_problem("", 0, "", _("This file is not an Excel workbook (.xlsx).")))
        return {}
    sheets = {}
    try:
        for name in (SHEET_UNITS, SHEET_PARTIES):
            if name not in workbook.sheetnames:
                continue
            rows = workbook[name].iter_rows(values_only=True)
            header_row = next(rows, ()) or ()
            headers = [_text(h).rstrip("*＊").strip() for h in header_row]
            missing = [h for h in REQUIRED[name] if h not in headers]
            for header in missing:
                plan.problems.append(_problem(name, 1, header, _("This column is missing.")))
            if missing:
                continue
            positions = {h: i for i, h in reversed(list(enumerate(headers))) if h}
            data = []
            for number, values in enumerate(rows, start=2):
                if not values or all(_text(v) == "" for v in values):
                    continue
                data.append((number, {h: values[i] if i < len(values) else None for h, i in positions.items()}))
            sheets[name] = data
    finally:
        workbook.close()
    if not sheets and not plan.problems:
        plan.problems.append(
            _problem(
                "",
                0,
                "",
                _("The workbook has no sheet named “%(units)s” or “%(parties)s”.")
                % {"units": SHEET_UNITS, "parties": SHEET_PARTIES},
            )
        )
    return sheets


def _problem(sheet: str, row: int, column: str, message: str) -> dict:
    return {"sheet": sheet, "row": row, "column": column, "message": str(message)}


def importable_projects(user):
    """The projects a user may import into: in scope, and only for roles that may import."""
    return projects_for(user) if can(user, "ledger", "import") else projects_for(user).none()


def import_jobs_for(user):
    """Import jobs of the projects in the user's scope, and the user's own."""
    jobs = ImportJob.objects.select_related("project", "created_by")
    in_scope = filter_by_scope(jobs, user, project="project_id")
    return jobs.filter(Q(pk__in=in_scope.values("pk")) | Q(created_by=user.pk))


class _Validator:
    """Checks the rows of one workbook against one project; fills `plan`."""

    def __init__(self, plan: LedgerPlan, progress: Progress | None):
        self.plan = plan
        self.user, self.project = plan.user, plan.project
        self.progress = progress
        self.done = 0
        buildings = list(buildings_for(self.user).filter(project=self.project))
        self.buildings = {b.name: b for b in buildings}
        self.buildings_by_number: dict[int, list] = defaultdict(list)
        for building in buildings:
            self.buildings_by_number[building.number].append(building)
        by_pk = {b.pk: b for b in buildings}
        for entrance in Entrance.objects.filter(building_id__in=list(by_pk)):
            entrance.building = by_pk[entrance.building_id]
            plan.entrances[(entrance.building_id, entrance.name)] = entrance
        self.entrance_by_number = {(e.building_id, e.number): e for e in plan.entrances.values() if e.number}
        for unit in units_for(self.user).filter(project=self.project):
            # The scoped buildings carry their project, which Building.__str__ needs for the history.
            unit.building, unit.project = by_pk[unit.building_id], self.project
            entrance_name = unit.entrance.name if unit.entrance_id else None
            plan.existing_units[(unit.building_id, entrance_name, unit.number)] = unit
        self.unit_rows: dict[tuple, int] = {}

    def tick(self) -> None:
        self.done += 1
        if self.progress and self.done % BATCH == 0:
            self.progress(self.done, self.plan.total_rows)

    def building(self, sheet: str, row: int, value: Any):
        text = _text(value)
        if not text:
            self.plan.problems.append(_problem(sheet, row, BUILDING, _("This cell must not be empty.")))
            return None
        found = self.buildings.get(text)
        if found is None:
            # 3, 3号楼 or 3幢 for the building numbered 3, when only one building has that number.
            match = re.fullmatch(r"(\d+)\s*(?:栋|幢|号楼|座|#)?", unicodedata.normalize("NFKC", text))
            candidates = self.buildings_by_number.get(int(match.group(1)), []) if match else []
            found = candidates[0] if len(candidates) == 1 else None
        if found is None:
            self.plan.problems.append(
                _problem(
                    sheet,
                    row,
                    BUILDING,
                    _("There is no building “%(name)s” in %(project)s.") % {"name": text, "project": self.project.name},
                )
            )
        return found

    def entrance_name(self, building, entrance: tuple[str, int] | None) -> str | None:
        """The name under which the row's entrance is known: an existing entrance's, else as parsed."""
        if entrance is None:
            return None
        name, number = entrance
        if (building.pk, name) in self.plan.entrances:
            return name
        existing = self.entrance_by_number.get((building.pk, number)) if number else None
        return existing.name if existing else name

    def cell(self, sheet: str, row: int, column: str, parse, value: Any):
        try:
            return parse(value)
        except CellError as exc:
            self.plan.problems.append(_problem(sheet, row, column, str(exc)))
        except ValidationError as exc:
            self.plan.problems.append(_problem(sheet, row, column, " ".join(exc.messages)))
        return None

    def place(self, sheet: str, row: int, cells: dict[str, Any]) -> tuple | None:
        """(building, entrance, room number, key) of a row, or None when the row names no valid place."""
        building = self.building(sheet, row, cells.get(BUILDING))
        entrance = self.cell(sheet, row, ENTRANCE, _entrance, cells.get(ENTRANCE))
        if _text(cells.get(ROOM)) == "":
            self.plan.problems.append(_problem(sheet, row, ROOM, _("This cell must not be empty.")))
            return None
        number = self.cell(sheet, row, ROOM, _room, cells.get(ROOM))
        if building is None or number is None or (entrance is None and _text(cells.get(ENTRANCE))):
            return None
        entrance_name = self.entrance_name(building, entrance)
        return building, entrance, number, (building.pk, entrance_name, number)

    # -- sheet 房号 --

    def unit_row(self, row: int, cells: dict[str, Any]) -> None:
        sheet = SHEET_UNITS
        place = self.place(sheet, row, cells)
        values = {
            "floor": self.cell(sheet, row, FLOOR, _floor, cells.get(FLOOR)),
            "kind": self.cell(sheet, row, KIND, lambda v: _choice(v, KIND), cells.get(KIND)),
            "floor_area": self.cell(sheet, row, FLOOR_AREA, _floor_area, cells.get(FLOOR_AREA)),
            "status": self.cell(sheet, row, STATUS, lambda v: _choice(v, STATUS), cells.get(STATUS)),
            "handed_over_on": self.cell(sheet, row, HANDOVER, _date, cells.get(HANDOVER)),
            "note": self.cell(sheet, row, NOTE, lambda v: _limit(_text(v), 200), cells.get(NOTE)) or None,
        }
        if place is None:
            return
        building, entrance, number, key = place
        first = self.unit_rows.get(key)
        if first is not None:
            self.plan.problems.append(
                _problem(sheet, row, ROOM, _("This room is listed twice; see row %(row)s.") % {"row": first})
            )
            return
        self.unit_rows[key] = row
        values = {name: value for name, value in values.items() if value is not None}
        existing = self.plan.existing_units.get(key)
        if existing is None:
            values.setdefault("floor", _floor_from_room(number))
        self.plan.units.append(UnitPlan(row, building, entrance, number, key, values, existing))


class _PartyValidator(_Validator):
    """Adds the 业主 sheet: who the people are, and which rooms they belong to."""

    def __init__(self, plan: LedgerPlan, progress: Progress | None, digests: set[str]):
        super().__init__(plan, progress)
        visible = parties_for(self.user)
        self.by_digest: dict[str, Party] = {}
        self.by_name_phone: dict[tuple, Party] = {}
        self.by_pk: dict[int, Party] = {}
        for party in visible.filter(project=self.project):
            self._remember(party)
        digest_list = sorted(digests)
        for start in range(0, len(digest_list), BATCH):
            for party in visible.filter(id_number_digest__in=digest_list[start : start + BATCH]):
                self._remember(party)
        # An ID number may only belong to one party; one outside the user's scope still counts,
        # as in the services' own check, but nothing of that party is read.
        self.foreign_digests: set[str] = set()
        for start in range(0, len(digest_list), BATCH):
            chunk = digest_list[start : start + BATCH]
            self.foreign_digests.update(
                digest
                for pk, digest in Party.objects.filter(id_number_digest__in=chunk).values_list("pk", "id_number_digest")
                if pk not in self.by_pk
            )
        today = timezone.localdate()
        self.occupants: dict[int, set[int]] = defaultdict(set)  # unit id → party ids
        self.open_occupancies: set[tuple] = set()  # (party id, unit id, role)
        for party_id, unit_id, role, end in (
            occupancies_for(self.user)
            .filter(unit__project=self.project)
            .values_list("party_id", "unit_id", "role", "end")
        ):
            self.occupants[unit_id].add(party_id)
            if end is None or end >= today:
                self.open_occupancies.add((party_id, unit_id, role))
        elsewhere = sorted({pk for pks in self.occupants.values() for pk in pks} - set(self.by_pk))
        for start in range(0, len(elsewhere), BATCH):
            for party in visible.filter(pk__in=elsewhere[start : start + BATCH]):
                self._remember(party)
        self.plans_by_digest: dict[str, PartyPlan] = {}
        self.plans_by_name_phone: dict[tuple, PartyPlan] = {}
        self.plans_by_name_room: dict[tuple, PartyPlan] = {}
        self.plans_by_pk: dict[int, PartyPlan] = {}
        self.listed: dict[tuple, int] = {}

    def _remember(self, party: Party) -> None:
        if party.pk in self.by_pk:
            return
        self.by_pk[party.pk] = party
        if party.id_number_digest:
            self.by_digest.setdefault(party.id_number_digest, party)
        if party.phone and party.project_id == self.project.pk:
            self.by_name_phone.setdefault((party.name, party.phone), party)

    def party_row(self, row: int, cells: dict[str, Any]) -> None:
        sheet = SHEET_PARTIES
        problems_before = len(self.plan.problems)
        place = self.place(sheet, row, cells)
        name = _text(cells.get(NAME))
        if not name:
            self.plan.problems.append(_problem(sheet, row, NAME, _("This cell must not be empty.")))
        else:
            name = self.cell(sheet, row, NAME, lambda v: _limit(v, 100), name) or ""
        role = self.cell(sheet, row, ROLE, lambda v: _choice(v, ROLE), cells.get(ROLE)) or OccupancyRole.OWNER
        phone = self.cell(sheet, row, PHONE, lambda v: normalize_phone(_code(v)), cells.get(PHONE)) or ""
        phone2 = self.cell(sheet, row, PHONE2, lambda v: normalize_phone(_code(v)), cells.get(PHONE2)) or ""
        id_number = self.cell(sheet, row, ID_NUMBER, _id_number, cells.get(ID_NUMBER)) or ""
        gender = self.cell(sheet, row, GENDER, lambda v: _choice(v, GENDER), cells.get(GENDER))
        tags = self.cell(sheet, row, TAGS, _tags, cells.get(TAGS)) or []
        start = self.cell(sheet, row, START, _date, cells.get(START))
        if len(self.plan.problems) > problems_before or place is None:
            return
        building, _entrance, number, key = place
        unit = self.plan.existing_units.get(key)
        if unit is None and key not in self.unit_rows:
            self.plan.problems.append(
                _problem(
                    sheet,
                    row,
                    ROOM,
                    _("Room %(room)s does not exist in %(project)s; add it to sheet “%(sheet)s”.")
                    % {
                        "room": f"{building.name}{key[1] or ''}{number}",
                        "project": self.project.name,
                        "sheet": SHEET_UNITS,
                    },
                )
            )
            return
        party = self.match(row, name, phone, id_number, key, unit)
        if party is None:
            return
        party.phone = party.phone or phone
        party.phone2 = party.phone2 or phone2
        party.gender = party.gender if party.gender is not None else gender
        party.tags.extend(t for t in tags if t not in party.tags)
        if id_number and not party.id_number:
            party.id_number, party.digest = id_number, id_digest(id_number)
        listing = (id(party), key, role)
        if listing in self.listed:
            self.plan.problems.append(
                _problem(
                    sheet,
                    row,
                    NAME,
                    _("This person is already listed for this room as %(role)s in row %(row)s.")
                    % {"role": OccupancyRole(role).label, "row": self.listed[listing]},
                )
            )
            return
        self.listed[listing] = row
        if party.existing and unit and (party.existing.pk, unit.pk, role) in self.open_occupancies:
            return
        self.plan.occupancies.append(OccupancyPlan(row, party, key, role, start))

    def match(self, row: int, name: str, phone: str, id_number: str, key: tuple, unit: Unit | None):
        """The party a row is about: by ID number, else name and phone, else name and room."""
        sheet = SHEET_PARTIES
        digest = id_digest(id_number) if id_number else ""
        if digest in self.foreign_digests:
            self.plan.problems.append(_problem(sheet, row, ID_NUMBER, _("Another party already has this ID number.")))
            return None
        # Rows already seen in this workbook first, then the ledger.
        plan = self.plans_by_digest.get(digest) if digest else None
        if plan is None and phone:
            plan = self.plans_by_name_phone.get((name, phone))
        if plan is None:
            plan = self.plans_by_name_room.get((name, key))
        if plan is not None:
            if plan.name != name:
                self.plan.problems.append(
                    _problem(
                        sheet,
                        row,
                        ID_NUMBER,
                        _("Row %(row)s gives this ID number to %(name)s.") % {"row": plan.row, "name": plan.name},
                    )
                )
                return None
            if digest and plan.digest and plan.digest != digest:
                self.plan.problems.append(
                    _problem(
                        sheet,
                        row,
                        ID_NUMBER,
                        _("Row %(row)s gives %(name)s another ID number.") % {"row": plan.row, "name": name},
                    )
                )
                return None
            self._index(plan, name, phone, digest, key)
            return plan

        existing = self.by_digest.get(digest) if digest else None
        if existing is not None and existing.name != name:
            self.plan.problems.append(
                _problem(
                    sheet,
                    row,
                    ID_NUMBER,
                    _("This ID number belongs to %(name)s in the ledger.") % {"name": existing.name},
                )
            )
            return None
        if existing is None and phone:
            existing = self.by_name_phone.get((name, phone))
            if existing is not None and digest and existing.id_number_digest not in ("", digest):
                self.plan.problems.append(
                    _problem(
                        sheet,
                        row,
                        ID_NUMBER,
                        _("%(name)s with this phone has another ID number in the ledger.") % {"name": name},
                    )
                )
                return None
        if existing is None and unit is not None:
            existing = next(
                (
                    self.by_pk[pk]
                    for pk in sorted(self.occupants.get(unit.pk, ()))
                    if pk in self.by_pk and self.by_pk[pk].name == name
                ),
                None,
            )
        if existing is not None and existing.pk in self.plans_by_pk:
            plan = self.plans_by_pk[existing.pk]
        else:
            plan = PartyPlan(row=row, name=name, existing=existing, gender=None)
            if existing is not None:
                self.plans_by_pk[existing.pk] = plan
            self.plan.parties.append(plan)
        self._index(plan, name, phone, digest, key)
        return plan

    def _index(self, plan: PartyPlan, name: str, phone: str, digest: str, key: tuple) -> None:
        if digest:
            self.plans_by_digest.setdefault(digest, plan)
        if phone:
            self.plans_by_name_phone.setdefault((name, phone), plan)
        self.plans_by_name_room.setdefault((name, key), plan)


def _id_number(value: Any) -> str:
    if isinstance(value, float) or (isinstance(value, int) and len(str(value)) > 15):
        raise CellError(_("Enter the ID number as text: Excel has rounded it to a number."))
    text = _code(value)
    return validate_id_number(text) if text else ""


def _id_digests(rows: list[tuple[int, dict]]) -> set[str]:
    digests = set()
    for _row, cells in rows:
        try:
            value = _id_number(cells.get(ID_NUMBER))
        except (CellError, ValidationError):
            continue
        if value:
            digests.add(id_digest(value))
    return digests


def validate_ledger(user, project, file, *, progress: Progress | None = None) -> LedgerPlan:
    """Read and check a whole workbook for `project`; writes nothing.

    `file` is a path or a binary file object. `progress(rows_done, total_rows)` is called every BATCH rows.
    Raises PermissionDenied when the user may not import into the project.
    """
    require(can(user, "ledger", "import"), _("You may not import ledgers."))
    if not projects_for(user).filter(pk=project.pk).exists():
        raise PermissionDenied(_("This project is outside your scope."))
    plan = LedgerPlan(user=user, project=project)
    sheets = _read_sheets(file, plan)
    unit_rows = sheets.get(SHEET_UNITS, [])
    party_rows = sheets.get(SHEET_PARTIES, [])
    plan.total_rows = len(unit_rows) + len(party_rows)
    if not sheets:
        return plan
    if progress:
        progress(0, plan.total_rows)
    validator = _PartyValidator(plan, progress, _id_digests(party_rows))
    for row, cells in unit_rows:
        validator.unit_row(row, cells)
        validator.tick()
    for row, cells in party_rows:
        validator.party_row(row, cells)
        validator.tick()
    if progress:
        progress(validator.done, plan.total_rows)
    if not plan.problems and not (plan.units or plan.occupancies or plan.parties):
        plan.problems.append(_problem("", 0, "", _("The workbook has no rows to import.")))
    return plan


# --- committing ----------------------------------------------------------------------------------


class _History:
    """ObjectChange rows built like `record_change` does, written with one bulk_create."""

    def __init__(self, user):
        self.user = user if getattr(user, "pk", None) else None
        self.rows: list[ObjectChange] = []
        self.now = timezone.now()

    def add(self, instance, before: dict, after: dict, extra: dict | None = None, *, action: str = "") -> None:
        action = action or (ObjectChange.Action.UPDATE if before else ObjectChange.Action.CREATE)
        changes = {
            name: [before.get(name), after.get(name)]
            for name in sorted(set(before) | set(after))
            if before.get(name) != after.get(name)
        }
        changes.update(extra or {})
        if not changes and action == ObjectChange.Action.UPDATE:
            return
        self.rows.append(
            ObjectChange(
                time=self.now,
                user=self.user,
                content_type=ContentType.objects.get_for_model(type(instance)),
                object_id=instance.pk,
                object_repr=str(instance)[:200],
                action=action,
                changes=changes,
                source=SOURCE,
            )
        )


def _apply(instance, values: dict) -> None:
    for name, value in values.items():
        setattr(instance, name, value)


def do_import_ledger(plan: LedgerPlan) -> dict:
    """Write a validated plan in one transaction; returns counts of what was created and updated.

    Raises ValueError for a plan with problems. The change history of every created or
    changed unit and party is written too (source "import"). Other connections cannot see
    progress inside the transaction, so none is reported; the writes are bulk and short.
    """
    if plan.problems:
        raise ValueError("A ledger plan with problems cannot be imported.")
    user, project = plan.user, plan.project
    now = timezone.now()
    today = timezone.localdate()
    summary = dict.fromkeys(
        (
            "units_created",
            "units_updated",
            "units_unchanged",
            "entrances_created",
            "parties_created",
            "parties_updated",
            "parties_unchanged",
            "occupancies_created",
        ),
        0,
    )
    # Prepare everything in memory first, so the transaction holds only the writes.
    new_entrances: dict[tuple, Entrance] = {}
    units_by_key: dict[tuple, Unit] = dict(plan.existing_units)
    new_units: list[Unit] = []
    changed_units: list[tuple[Unit, dict]] = []
    for item in plan.units:
        entrance = None
        building_id, entrance_name, _number = item.key
        if entrance_name is not None:
            key = (building_id, entrance_name)
            entrance = plan.entrances.get(key) or new_entrances.get(key)
            if entrance is None:
                number = item.entrance[1] if item.entrance else 0
                entrance = new_entrances[key] = Entrance(building=item.building, name=entrance_name, number=number)
        if item.existing is not None:
            unit = item.existing
            # Raw values decide whether anything changed; display snapshots only for what did.
            changes = {name: value for name, value in item.values.items() if getattr(unit, name) != value}
            if changes:
                before = snapshot(unit)
                _apply(unit, changes)
                unit.updated_at = now
                changed_units.append((unit, before))
            else:
                summary["units_unchanged"] += 1
        else:
            unit = Unit(project=project, building=item.building, entrance=entrance, number=item.number)
            _apply(unit, item.values)
            new_units.append(unit)
        units_by_key[item.key] = unit

    tag_names = sorted({name for party in plan.parties for name in party.tags})
    new_parties: list[Party] = []
    changed_parties: list[tuple[Party, dict, dict]] = []
    unchanged_parties: list[Party] = []
    party_of_plan: dict[int, Party] = {}
    tags_of_party: dict[int, list[str]] = {}  # id() of a new Party → its tags
    existing_tags: dict[int, set[str]] = defaultdict(set)
    existing_ids = [p.existing.pk for p in plan.parties if p.existing is not None and p.tags]
    for start in range(0, len(existing_ids), BATCH):
        for party_id, tag_name in Party.tags.through.objects.filter(
            party_id__in=existing_ids[start : start + BATCH]
        ).values_list("party_id", "tag__name"):
            existing_tags[party_id].add(tag_name)
    for item in plan.parties:
        if item.existing is not None:
            party = item.existing
            changes: dict[str, Any] = {}
            if item.phone and item.phone != party.phone:
                changes.update(phone=item.phone, phone_tail=item.phone[-4:])
            if item.phone2 and item.phone2 != party.phone2:
                changes["phone2"] = item.phone2
            if item.gender is not None and item.gender != party.gender:
                changes["gender"] = item.gender
            if item.id_number and not party.id_number_digest:
                encrypted, digest, masked = protect_id_number(item.id_number)
                changes.update(id_number_encrypted=encrypted, id_number_digest=digest, id_number_masked=masked)
            extra = {}
            old_tags = existing_tags.get(party.pk, set())
            if set(item.tags) - old_tags:
                extra["tags"] = ["、".join(sorted(old_tags)) or None, "、".join(sorted(old_tags | set(item.tags)))]
            if changes or extra:
                before = snapshot(party)
                _apply(party, changes)
                party.updated_at = now
                changed_parties.append((party, before, extra))
            else:
                unchanged_parties.append(party)
        else:
            party = Party(project=project, name=item.name, phone=item.phone, phone2=item.phone2)
            party.phone_tail = item.phone[-4:]
            party.gender = item.gender or ""
            party.name_pinyin, party.name_initials = name_pinyin(item.name)
            if item.id_number:
                party.id_number_encrypted, party.id_number_digest, party.id_number_masked = protect_id_number(
                    item.id_number
                )
            new_parties.append(party)
            tags_of_party[id(party)] = item.tags
        party_of_plan[id(item)] = party

    history = _History(user)
    with transaction.atomic():
        if new_entrances:
            Entrance.objects.bulk_create(new_entrances.values(), batch_size=BATCH)
            summary["entrances_created"] = len(new_entrances)
            for unit in new_units:
                if unit.entrance is not None:
                    # Assigning the object (not entrance_id) keeps it cached for the labels below.
                    unit.entrance = unit.entrance
        for start in range(0, len(new_units), BATCH):
            Unit.objects.bulk_create(new_units[start : start + BATCH])
        if changed_units:
            Unit.objects.bulk_update(
                [unit for unit, _before in changed_units],
                ["floor", "kind", "floor_area", "status", "handed_over_on", "note", "updated_at"],
                batch_size=BATCH,
            )

        tags = {}
        if tag_names:
            Tag.objects.bulk_create([Tag(name=name) for name in tag_names], ignore_conflicts=True)
            tags = dict(Tag.objects.filter(name__in=tag_names).values_list("name", "pk"))
        for start in range(0, len(new_parties), BATCH):
            Party.objects.bulk_create(new_parties[start : start + BATCH])
        if changed_parties:
            Party.objects.bulk_update(
                [party for party, _before, _extra in changed_parties],
                [
                    "phone",
                    "phone_tail",
                    "phone2",
                    "gender",
                    "id_number_encrypted",
                    "id_number_digest",
                    "id_number_masked",
                    "updated_at",
                ],
                batch_size=BATCH,
            )
        links = [
            Party.tags.through(party_id=party_of_plan[id(item)].pk, tag_id=tags[name])
            for item in plan.parties
            for name in item.tags
        ]
        Party.tags.through.objects.bulk_create(links, batch_size=BATCH, ignore_conflicts=True)

        occupancies = []
        unit_labels: dict[int, list[str]] = defaultdict(list)
        party_labels: dict[int, list[str]] = defaultdict(list)
        for item in plan.occupancies:
            unit = units_by_key[item.unit_key]
            party = party_of_plan[id(item.party)]
            role = OccupancyRole(item.role)
            occupancies.append(Occupancy(party=party, unit=unit, role=item.role, start=item.start or today))
            unit_labels[unit.pk].append(f"{party.name}（{role.label}）")
            party_labels[party.pk].append(f"{unit.label}（{role.label}）")
        for start in range(0, len(occupancies), BATCH):
            Occupancy.objects.bulk_create(occupancies[start : start + BATCH])

        def occupancy_extra(labels: dict[int, list[str]], pk: int) -> dict:
            # Like do_add_occupancy, the unit's and the party's history say who moved in where.
            return {"occupancy": [None, "、".join(labels[pk])]} if pk in labels else {}

        for unit in new_units:
            history.add(unit, {}, snapshot(unit), occupancy_extra(unit_labels, unit.pk))
        for unit, before in changed_units:
            history.add(unit, before, snapshot(unit), occupancy_extra(unit_labels, unit.pk))
        recorded = {unit.pk for unit in new_units} | {unit.pk for unit, _before in changed_units}
        if unit_labels.keys() - recorded:
            by_pk = {unit.pk: unit for unit in units_by_key.values()}
            for pk in unit_labels.keys() - recorded:
                # An existing, unchanged unit that only gained occupants.
                history.add(by_pk[pk], {}, {}, occupancy_extra(unit_labels, pk), action=ObjectChange.Action.UPDATE)
        for party in new_parties:
            extra = occupancy_extra(party_labels, party.pk)
            if tags_of_party[id(party)]:
                extra["tags"] = [None, "、".join(tags_of_party[id(party)])]
            history.add(party, {}, snapshot(party), extra)
        for party, before, extra in changed_parties:
            history.add(party, before, snapshot(party), {**extra, **occupancy_extra(party_labels, party.pk)})
        for party in unchanged_parties:
            if party.pk in party_labels:
                history.add(party, {}, {}, occupancy_extra(party_labels, party.pk), action=ObjectChange.Action.UPDATE)
        ObjectChange.objects.bulk_create(history.rows, batch_size=BATCH)

    summary.update(
        units_created=len(new_units),
        units_updated=len(changed_units),
        parties_created=len(new_parties),
        parties_updated=len(changed_parties),
        parties_unchanged=len(unchanged_parties),
        occupancies_created=len(occupancies),
    )
    return summary


# --- running an import ----------------------------------------------------------------------------


@dataclass
class ImportResult:
    problems: list[dict]
    summary: dict
    total_rows: int


def import_ledger(user, project, file, *, dry_run: bool = False, progress: Progress | None = None) -> ImportResult:
    """Validate a workbook and, unless `dry_run` or problems were found, commit it."""
    plan = validate_ledger(user, project, file, progress=progress)
    if plan.problems or dry_run:
        return ImportResult(plan.problems, {}, plan.total_rows)
    return ImportResult([], do_import_ledger(plan), plan.total_rows)


def run_import_job(job_id: int) -> ImportJob | None:
    """Validate and commit one uploaded workbook, recording progress and the outcome on the job.

    Only a waiting job is started, so a job delivered twice runs once.
    """
    Status = ImportJob.Status
    if not ImportJob.objects.filter(pk=job_id, status=Status.PENDING).update(status=Status.VALIDATING):
        return ImportJob.objects.filter(pk=job_id).first()
    job = ImportJob.objects.select_related("project", "created_by").get(pk=job_id)

    def report(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(processed_rows=done, total_rows=total)

    def finish(status: str, errors: list | None = None, summary: dict | None = None) -> ImportJob:
        job.status, job.errors, job.summary = status, errors or [], summary or {}
        job.finished_at = timezone.now()
        # The workbook holds whole ID numbers; once read, they are kept only encrypted in the ledger.
        if job.file:
            job.file.delete(save=False)
        fields = ["status", "errors", "summary", "finished_at", "processed_rows", "total_rows", "file"]
        job.save(update_fields=fields)
        return job

    try:
        if job.project is None or job.created_by is None:
            raise PermissionDenied(_("This project is outside your scope."))
        with job.file.open("rb") as handle:
            plan = validate_ledger(job.created_by, job.project, handle, progress=report)
        job.total_rows = plan.total_rows
        job.processed_rows = plan.total_rows
        if plan.problems:
            return finish(Status.INVALID, plan.problems)
        ImportJob.objects.filter(pk=job.pk).update(
            status=Status.COMMITTING, total_rows=plan.total_rows, processed_rows=0
        )
        summary = do_import_ledger(plan)
        summary["rows"] = plan.total_rows
        return finish(Status.DONE, summary=summary)
    except PermissionDenied as exc:
        return finish(Status.FAILED, [_problem("", 0, "", str(exc) or _("You may not import ledgers."))])
    except IntegrityError:
        logger.warning("Ledger import %s collided with a concurrent change", job_id, exc_info=True)
        message = _("The ledger changed while importing; nothing was imported. Please upload the file again.")
        return finish(Status.FAILED, [_problem("", 0, "", message)])
    except Exception:
        logger.exception("Ledger import %s failed", job_id)
        return finish(Status.FAILED, [_problem("", 0, "", _("The import stopped unexpectedly; nothing was imported."))])
