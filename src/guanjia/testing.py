"""Builders for tests: a small organisation with two companies, and staff of every role and scope."""

from datetime import date
from types import SimpleNamespace

from guanjia.estate.choices import OccupancyRole, UnitStatus
from guanjia.estate.models import Building, Entrance, Occupancy, Party, Unit
from guanjia.estate.services import name_pinyin
from guanjia.org.choices import CompanyKind, DepartmentKind, Role, ScopeLevel
from guanjia.org.models import Area, Company, Department, Project, Staff

PASSWORD = "Guanjia-test-2026"  # noqa: S105 - test accounts only


def make_staff(username, role, scope_level, *, company=None, project=None, areas=(), department=None, **extra):
    staff = Staff.objects.create_user(
        username=username,
        password=PASSWORD,
        display_name=extra.pop("display_name", username),
        role=role,
        scope_level=scope_level,
        company=company,
        project=project,
        department=department,
        **extra,
    )
    for area in areas:
        area.butlers.add(staff)
    return staff


def make_unit(building, entrance, floor, number, **extra):
    return Unit.objects.create(
        project=building.project, building=building, entrance=entrance, floor=floor, number=number, **extra
    )


def make_party(name, project, phone="", **extra):
    pinyin, initials = name_pinyin(name)
    return Party.objects.create(
        name=name,
        project=project,
        phone=phone,
        phone_tail=phone[-4:],
        name_pinyin=pinyin,
        name_initials=initials,
        **extra,
    )


def build_world() -> SimpleNamespace:
    """Group → 2 city companies → 1 project each (plus a second project in the first company).

    Project 绿色家园 has two buildings: 1栋 in area A and 3栋 in area B; each has two
    entrances and a few units with one owner each.
    """
    w = SimpleNamespace()
    w.group = Company.objects.create(name="华宇集团", kind=CompanyKind.GROUP)
    w.company = Company.objects.create(name="华宇地产北京公司", parent=w.group, city="北京")
    w.other_company = Company.objects.create(name="华宇地产成都公司", parent=w.group, city="成都")
    w.project = Project.objects.create(company=w.company, name="绿色家园", code="lsjy")
    w.sister_project = Project.objects.create(company=w.company, name="桂园", code="gy")
    w.other_project = Project.objects.create(company=w.other_company, name="锦江花园", code="jjhy")
    w.area_a = Area.objects.create(project=w.project, name="A区")
    w.area_b = Area.objects.create(project=w.project, name="B区")
    w.dept = Department.objects.create(company=w.company, kind=DepartmentKind.ENGINEERING, name="工程部")
    w.b1 = Building.objects.create(project=w.project, name="1栋", number=1, floors=18, area=w.area_a)
    w.b3 = Building.objects.create(project=w.project, name="3栋", number=3, floors=18, area=w.area_b)
    w.other_building = Building.objects.create(project=w.other_project, name="1栋", number=1, floors=6)
    w.e1 = Entrance.objects.create(building=w.b1, name="1单元", number=1)
    w.e32 = Entrance.objects.create(building=w.b3, name="2单元", number=2)
    w.oe = Entrance.objects.create(building=w.other_building, name="1单元", number=1)
    w.unit_a = make_unit(w.b1, w.e1, 5, "501", status=UnitStatus.OCCUPIED)
    w.unit_b = make_unit(w.b3, w.e32, 15, "1502", status=UnitStatus.HANDED_OVER)
    w.other_unit = make_unit(w.other_building, w.oe, 2, "201", status=UnitStatus.SOLD)
    w.owner_a = make_party("张伟", w.project, "13812345678")
    w.owner_b = make_party("李娜", w.project, "13987651502")
    w.other_owner = make_party("王芳", w.other_project, "13711112222")
    start = date(2024, 1, 1)
    for party, unit in ((w.owner_a, w.unit_a), (w.owner_b, w.unit_b), (w.other_owner, w.other_unit)):
        Occupancy.objects.create(party=party, unit=unit, role=OccupancyRole.OWNER, start=start)
    w.admin = make_staff("admin", Role.ADMIN, ScopeLevel.GROUP)
    w.manager = make_staff("manager", Role.MANAGER, ScopeLevel.COMPANY, company=w.company)
    w.specialist = make_staff("specialist", Role.SPECIALIST, ScopeLevel.PROJECT, project=w.project)
    w.butler = make_staff("butler", Role.BUTLER, ScopeLevel.AREA, project=w.project, areas=[w.area_b])
    w.outsider = make_staff("outsider", Role.SPECIALIST, ScopeLevel.PROJECT, project=w.other_project)
    return w
