import io
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.utils import translation
from openpyxl import load_workbook

from guanjia.core.models import ObjectChange
from guanjia.estate.choices import OccupancyRole, UnitKind, UnitStatus
from guanjia.estate.identity import id_check_digit, id_digest, protect_id_number
from guanjia.estate.importer import (
    PARTY_COLUMNS,
    SHEET_HELP,
    SHEET_PARTIES,
    SHEET_UNITS,
    UNIT_COLUMNS,
    build_template,
    format_problem,
    import_ledger,
    validate_ledger,
)
from guanjia.estate.models import Entrance, Occupancy, Party, Tag, Unit
from guanjia.testing import make_party


def id_number(first17: str) -> str:
    return first17 + id_check_digit(first17)


ZHAO_ID = id_number("11010519800101123")
QIAN_ID = id_number("31010419900215234")


def make_workbook(units=(), parties=(), template: bytes | None = None) -> io.BytesIO:
    """The downloadable template filled with rows given as {header: value} dicts."""
    workbook = load_workbook(io.BytesIO(template or build_template()))
    for sheet_name, columns, rows in ((SHEET_UNITS, UNIT_COLUMNS, units), (SHEET_PARTIES, PARTY_COLUMNS, parties)):
        sheet = workbook[sheet_name]
        for row in rows:
            sheet.append([row.get(header) for header in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


UNIT_ROWS = [
    {
        "楼栋": "1栋",
        "单元": "1单元",
        "楼层": 6,
        "房号": "601",
        "类型": "住宅",
        "建筑面积": 95.5,
        "状态": "已交付",
        "交付日期": date(2024, 3, 1),
    },
    {"楼栋": "3栋", "单元": "2", "房号": "1601", "类型": "商铺", "状态": "sold", "备注": "临街"},
    {"楼栋": "3栋", "单元": "3单元", "房号": "301"},
]
PARTY_ROWS = [
    {"楼栋": "1栋", "单元": "1单元", "房号": "601", "姓名": "赵敏", "身份": "业主", "手机": "13600001111",
     "身份证号": ZHAO_ID, "性别": "女", "标签": "重点客户、VIP", "入住日期": "2024-03-05"},
    {"楼栋": "3栋", "单元": "2单元", "房号": "1601", "姓名": "钱多多", "身份": "租户", "手机": "136 0000 2222",
     "身份证号": QIAN_ID},
    # The same person again, for a second room: one party, two occupancies.
    {"楼栋": "3栋", "单元": "3", "房号": "301", "姓名": "赵敏", "手机": "13600001111"},
    # An existing room that is not in sheet 房号.
    {"楼栋": "3栋", "单元": "2单元", "房号": "1502", "姓名": "周杰", "身份": "住户", "手机": "010-62345678"},
]  # fmt: skip


def ledger_counts():
    return {
        "units": Unit.objects.count(),
        "entrances": Entrance.objects.count(),
        "parties": Party.objects.count(),
        "occupancies": Occupancy.objects.count(),
        "tags": Tag.objects.count(),
        "history": ObjectChange.objects.count(),
    }


def only_problem(result) -> dict:
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


# --- the template ---------------------------------------------------------------------------


def test_template_has_the_data_sheets_with_headers_and_choice_lists():
    workbook = load_workbook(io.BytesIO(build_template()))
    assert workbook.sheetnames == [SHEET_UNITS, SHEET_PARTIES, SHEET_HELP]
    units, parties = workbook[SHEET_UNITS], workbook[SHEET_PARTIES]
    assert [c.value for c in units[1]] == list(UNIT_COLUMNS)
    assert [c.value for c in parties[1]] == list(PARTY_COLUMNS)
    assert units.max_row == 1 and parties.max_row == 1  # data sheets start clean
    unit_lists = {dv.formula1 for dv in units.data_validations.dataValidation}
    assert '"住宅,商铺,车位,别墅"' in unit_lists
    assert '"未售,已售,已交付,已入住,空置,装修中"' in unit_lists
    assert '"业主,住户,租户"' in {dv.formula1 for dv in parties.data_validations.dataValidation}


# --- a good workbook --------------------------------------------------------------------------


def test_template_round_trip_creates_units_parties_and_occupancies_with_history(world):
    result = import_ledger(world.specialist, world.project, make_workbook(UNIT_ROWS, PARTY_ROWS))

    assert result.problems == []
    assert result.summary["units_created"] == 3
    assert result.summary["entrances_created"] == 1
    assert result.summary["parties_created"] == 3
    assert result.summary["occupancies_created"] == 4
    unit = Unit.objects.get(building=world.b1, number="601")
    assert (unit.entrance, unit.floor, unit.kind, unit.status) == (world.e1, 6, UnitKind.RESIDENCE, "handed_over")
    assert unit.floor_area == Decimal("95.50") and unit.handed_over_on == date(2024, 3, 1)
    assert unit.project == world.project
    shop = Unit.objects.get(building=world.b3, number="1601")
    assert (shop.entrance, shop.floor, shop.kind, shop.status, shop.note) == (
        world.e32,
        16,  # taken from the room number
        UnitKind.SHOP,
        UnitStatus.SOLD,
        "临街",
    )
    new_entrance = Entrance.objects.get(building=world.b3, number=3)
    assert new_entrance.name == "3单元"
    assert Unit.objects.get(building=world.b3, entrance=new_entrance, number="301").floor == 3

    zhao = Party.objects.get(name="赵敏")
    assert zhao.project == world.project
    assert (zhao.phone, zhao.phone_tail, zhao.gender) == ("13600001111", "1111", "female")
    assert (zhao.name_pinyin, zhao.name_initials) == ("zhaomin", "zm")
    assert zhao.id_number_digest == id_digest(ZHAO_ID)
    assert zhao.id_number_masked == ZHAO_ID[:4] + "*" * 10 + ZHAO_ID[-4:]
    assert sorted(zhao.tags.values_list("name", flat=True)) == ["VIP", "重点客户"]
    assert sorted(o.unit.label for o in zhao.occupancies.all()) == ["1栋1单元601", "3栋3单元301"]
    assert zhao.occupancies.get(unit=unit).start == date(2024, 3, 5)
    assert Party.objects.get(name="钱多多").phone == "13600002222"
    tenant = Occupancy.objects.get(party__name="钱多多")
    assert (tenant.unit, tenant.role) == (shop, OccupancyRole.TENANT)
    resident = Occupancy.objects.get(party__name="周杰")
    assert (resident.unit, resident.role) == (world.unit_b, OccupancyRole.RESIDENT)
    assert resident.party.phone == "010-62345678"

    unit_history = ObjectChange.objects.get(content_type=ContentType.objects.get_for_model(Unit), object_id=unit.pk)
    assert (unit_history.action, unit_history.source, unit_history.user) == ("create", "import", world.specialist)
    assert unit_history.changes["number"] == [None, "601"]
    assert unit_history.changes["occupancy"][1].startswith("赵敏")
    party_history = ObjectChange.objects.get(content_type=ContentType.objects.get_for_model(Party), object_id=zhao.pk)
    assert party_history.action == "create" and party_history.source == "import"
    assert party_history.changes["id_number_masked"] == [None, zhao.id_number_masked]
    assert ZHAO_ID not in str(party_history.changes)  # the whole ID number never reaches the history
    # An existing room that gained a resident records it in its own history.
    assert ObjectChange.objects.filter(
        content_type=ContentType.objects.get_for_model(Unit), object_id=world.unit_b.pk, action="update"
    ).exists()


def test_reimporting_the_same_file_updates_rather_than_duplicates(world):
    first = import_ledger(world.specialist, world.project, make_workbook(UNIT_ROWS, PARTY_ROWS))
    assert first.problems == []
    counts = ledger_counts()

    again = import_ledger(world.specialist, world.project, make_workbook(UNIT_ROWS, PARTY_ROWS))

    assert again.problems == []
    assert again.summary["units_created"] == again.summary["parties_created"] == 0
    assert again.summary["occupancies_created"] == again.summary["units_updated"] == 0
    assert again.summary["units_unchanged"] == 3
    assert ledger_counts() == counts  # not even a history row for nothing changed

    changed_rows = [dict(UNIT_ROWS[0], 建筑面积=101, 状态="已入住"), *UNIT_ROWS[1:]]
    changed = import_ledger(world.specialist, world.project, make_workbook(changed_rows, PARTY_ROWS))

    assert changed.summary["units_updated"] == 1 and changed.summary["units_created"] == 0
    unit = Unit.objects.get(building=world.b1, number="601")
    assert unit.floor_area == Decimal("101.00") and unit.status == UnitStatus.OCCUPIED
    update = ObjectChange.objects.filter(object_id=unit.pk, action="update", source="import").get(
        content_type=ContentType.objects.get_for_model(Unit)
    )
    assert update.changes["floor_area"] == ["95.50", "101.00"]
    assert Unit.objects.count() == counts["units"]


def test_existing_party_is_matched_by_name_and_phone_and_gains_the_new_unit(world):
    rows = [{"楼栋": "1栋", "单元": "1单元", "房号": "601", "姓名": "李娜", "手机": "13987651502", "身份证号": QIAN_ID}]

    result = import_ledger(world.specialist, world.project, make_workbook([UNIT_ROWS[0]], rows))

    assert result.problems == []
    assert result.summary["parties_created"] == 0 and result.summary["parties_updated"] == 1
    world.owner_b.refresh_from_db()
    assert world.owner_b.id_number_digest == id_digest(QIAN_ID)
    assert sorted(o.unit.label for o in world.owner_b.occupancies.all()) == ["1栋1单元601", "3栋2单元1502"]


def test_existing_party_is_matched_by_id_number_and_its_phone_updated(world):
    world.owner_a.id_number_encrypted, world.owner_a.id_number_digest, world.owner_a.id_number_masked = (
        protect_id_number(ZHAO_ID)
    )
    world.owner_a.save()
    rows = [{"楼栋": "1栋", "单元": "1单元", "房号": "501", "姓名": "张伟", "手机": "13700009999", "身份证号": ZHAO_ID}]

    result = import_ledger(world.specialist, world.project, make_workbook(parties=rows))

    assert result.problems == []
    assert Party.objects.filter(name="张伟").count() == 1
    world.owner_a.refresh_from_db()
    assert (world.owner_a.phone, world.owner_a.phone_tail) == ("13700009999", "9999")
    # 张伟 already owns 501: no second occupancy.
    assert result.summary["occupancies_created"] == 0
    assert world.owner_a.occupancies.count() == 1


# --- bad input: a clear problem naming the place, and nothing changes ------------------------------


BAD_INPUT = {
    "invalid ID number": (
        UNIT_ROWS,
        [*PARTY_ROWS[:1], dict(PARTY_ROWS[1], 身份证号="310104199002152340")],
        (SHEET_PARTIES, 3, "身份证号"),
        "check digit",
    ),
    "duplicate room": (
        [*UNIT_ROWS, {"楼栋": "3栋", "单元": "2单元", "房号": "1601"}],
        PARTY_ROWS,
        (SHEET_UNITS, 5, "房号"),
        "see row 3",
    ),
    "unknown building": (
        [*UNIT_ROWS[:1], dict(UNIT_ROWS[1], 楼栋="9栋")],
        PARTY_ROWS[:1],
        (SHEET_UNITS, 3, "楼栋"),
        "9栋",
    ),
    "bad phone": (
        UNIT_ROWS,
        [dict(PARTY_ROWS[0], 手机="1234567")],
        (SHEET_PARTIES, 2, "手机"),
        "1234567",
    ),
    "room that does not exist": (
        [],
        [dict(PARTY_ROWS[0], 房号="9901")],
        (SHEET_PARTIES, 2, "房号"),
        "1栋1单元9901",
    ),
    "unknown kind": (
        [dict(UNIT_ROWS[0], 类型="厂房")],
        [],
        (SHEET_UNITS, 2, "类型"),
        "厂房",
    ),
    "bad date": (
        [dict(UNIT_ROWS[0], 交付日期="2024-02-30")],
        [],
        (SHEET_UNITS, 2, "交付日期"),
        "2024-02-30",
    ),
    "ID number Excel turned into a number": (
        UNIT_ROWS,
        [dict(PARTY_ROWS[0], 身份证号=float(ZHAO_ID[:17]))],
        (SHEET_PARTIES, 2, "身份证号"),
        "as text",
    ),
    "missing name": (
        UNIT_ROWS,
        [dict(PARTY_ROWS[0], 姓名=None)],
        (SHEET_PARTIES, 2, "姓名"),
        "empty",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_row_is_reported_by_sheet_row_and_column_and_nothing_changes(world, case):
    units, parties, (sheet, row, column), words = case
    before = ledger_counts()

    with translation.override("en"):
        result = import_ledger(world.specialist, world.project, make_workbook(units, parties))

    problem = only_problem(result)
    assert (problem["sheet"], problem["row"], problem["column"]) == (sheet, row, column)
    assert words in problem["message"]
    assert result.summary == {}
    assert ledger_counts() == before


def test_every_problem_of_the_workbook_is_reported_at_once(world):
    units = [dict(UNIT_ROWS[0], 楼栋="9栋"), dict(UNIT_ROWS[1], 建筑面积="大约90")]
    parties = [dict(PARTY_ROWS[0], 手机="12", 身份证号="123", 性别="未说")]

    result = import_ledger(world.specialist, world.project, make_workbook(units, parties))

    places = {(p["sheet"], p["row"], p["column"]) for p in result.problems}
    assert places == {
        (SHEET_UNITS, 2, "楼栋"),
        (SHEET_UNITS, 3, "建筑面积"),
        (SHEET_PARTIES, 2, "手机"),
        (SHEET_PARTIES, 2, "身份证号"),
        (SHEET_PARTIES, 2, "性别"),
    }


def test_id_number_of_another_name_in_the_ledger_is_a_problem(world):
    make_party("孙丽", world.project, "13500001111", id_number_digest=id_digest(ZHAO_ID))

    result = import_ledger(world.specialist, world.project, make_workbook(UNIT_ROWS, PARTY_ROWS[:1]))

    problem = only_problem(result)
    assert (problem["row"], problem["column"]) == (2, "身份证号")
    assert "孙丽" in problem["message"]


def test_id_number_of_a_party_outside_scope_is_a_problem_without_naming_it(world):
    world.other_owner.id_number_digest = id_digest(ZHAO_ID)
    world.other_owner.save()

    result = import_ledger(world.specialist, world.project, make_workbook(UNIT_ROWS, PARTY_ROWS[:1]))

    problem = only_problem(result)
    assert (problem["sheet"], problem["row"], problem["column"]) == (SHEET_PARTIES, 2, "身份证号")
    assert "王芳" not in problem["message"]
    assert not Party.objects.filter(name="赵敏").exists()


def test_one_id_number_for_two_names_in_the_workbook_is_a_problem(world):
    parties = [PARTY_ROWS[0], dict(PARTY_ROWS[1], 身份证号=ZHAO_ID)]

    with translation.override("en"):
        result = import_ledger(world.specialist, world.project, make_workbook(UNIT_ROWS, parties))

    problem = only_problem(result)
    assert (problem["row"], problem["column"]) == (3, "身份证号")
    assert "Row 2" in problem["message"] and "赵敏" in problem["message"]


def test_same_person_listed_twice_for_one_room_is_a_problem(world):
    parties = [PARTY_ROWS[0], dict(PARTY_ROWS[0], 标签=None)]

    result = import_ledger(world.specialist, world.project, make_workbook(UNIT_ROWS, parties))

    problem = only_problem(result)
    assert (problem["sheet"], problem["row"], problem["column"]) == (SHEET_PARTIES, 3, "姓名")


def test_not_a_workbook_and_missing_columns_are_problems(world):
    with translation.override("en"):
        not_xlsx = import_ledger(world.specialist, world.project, io.BytesIO(b"name,phone\n"))
    assert "not an Excel workbook" in only_problem(not_xlsx)["message"]

    workbook = load_workbook(io.BytesIO(build_template()))
    workbook[SHEET_UNITS]["A1"] = "栋号"
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    missing = import_ledger(world.specialist, world.project, buffer)
    problem = only_problem(missing)
    assert (problem["sheet"], problem["row"], problem["column"]) == (SHEET_UNITS, 1, "楼栋")


def test_blank_rows_are_skipped_and_row_numbers_are_those_of_the_sheet(world):
    units = [UNIT_ROWS[0], {}, {}, dict(UNIT_ROWS[1], 楼栋="9栋")]

    result = import_ledger(world.specialist, world.project, make_workbook(units))

    assert only_problem(result)["row"] == 5


def test_choices_accept_chinese_labels_and_value_codes(world):
    units = [dict(UNIT_ROWS[0], 类型="parking", 状态="Vacant"), dict(UNIT_ROWS[1], 类型="别墅", 状态="装修中")]

    result = import_ledger(world.specialist, world.project, make_workbook(units))

    assert result.problems == []
    assert Unit.objects.get(number="601").kind == UnitKind.PARKING
    assert Unit.objects.get(number="601").status == UnitStatus.VACANT
    assert Unit.objects.get(number="1601").kind == UnitKind.VILLA


def test_dry_run_validates_and_writes_nothing(world):
    before = ledger_counts()

    result = import_ledger(world.specialist, world.project, make_workbook(UNIT_ROWS, PARTY_ROWS), dry_run=True)

    assert result.problems == [] and result.total_rows == 7
    assert ledger_counts() == before


def test_buildings_outside_a_users_area_are_unknown_to_them(world):
    world.butler.role = "manager"  # may import; still sees area B (3栋) only
    world.butler.save()

    result = import_ledger(world.butler, world.project, make_workbook(UNIT_ROWS[:1]))

    assert only_problem(result)["column"] == "楼栋"


def test_import_requires_the_import_permission_and_a_project_in_scope(world):
    with pytest.raises(PermissionDenied):
        validate_ledger(world.butler, world.project, make_workbook(UNIT_ROWS))
    with pytest.raises(PermissionDenied):
        validate_ledger(world.specialist, world.other_project, make_workbook(UNIT_ROWS))


def test_problems_read_as_sheet_row_column_and_message():
    problem = {"sheet": "业主", "row": 3, "column": "手机", "message": "bad"}
    with translation.override("en"):
        assert format_problem(problem) == "业主, row 3, column 手机: bad"


def test_validation_reports_progress_with_the_total_first(world):
    calls = []

    validate_ledger(
        world.specialist, world.project, make_workbook(UNIT_ROWS, PARTY_ROWS), progress=lambda *a: calls.append(a)
    )

    assert calls[0] == (0, 7) and calls[-1] == (7, 7)


def test_party_registered_elsewhere_is_matched_by_name_and_room(world):
    # Registered at the sister project, living in 3栋2单元1502; the row gives no phone.
    lodger = make_party("王五", world.sister_project)
    Occupancy.objects.create(party=lodger, unit=world.unit_b, role=OccupancyRole.RESIDENT, start=date(2024, 1, 1))
    rows = [{"楼栋": "3栋", "单元": "2单元", "房号": "1502", "姓名": "王五", "身份": "住户", "性别": "男"}]

    result = import_ledger(world.specialist, world.project, make_workbook(parties=rows))

    assert result.problems == []
    assert result.summary["parties_created"] == 0 and result.summary["occupancies_created"] == 0
    lodger.refresh_from_db()
    assert lodger.gender == "male"
