"""Owner-portal data for the demo: an owner already bound to a unit with a request of their own,
a family member's binding request waiting for the butler, and notices from the project.

Everything goes through `services`, as an owner and the staff would do it.
"""

from datetime import timedelta

from django.utils import timezone

from guanjia.cases.choices import CaseType
from guanjia.cases.models import Category
from guanjia.estate.choices import OccupancyRole
from guanjia.estate.identity import reveal_id_number
from guanjia.estate.models import Building, Occupancy
from guanjia.org.choices import Role
from guanjia.org.models import Project, Staff

from . import services
from .choices import NoticeKind, Relation
from .models import PortalAccount

# A number no demo party has (the demo's mobiles are generated from other prefixes).
APPLICANT_PHONE = "13910002026"


def load_demo_portal() -> str | None:
    """Load the portal demo into the first project; returns the owner's phone to sign in with."""
    project = Project.objects.order_by("id").first()
    butler = Staff.objects.filter(role=Role.BUTLER, areas__project=project).order_by("id").first()
    if project is None or butler is None:
        return None
    owners = (
        Occupancy.objects.current()
        .filter(unit__project=project, role=OccupancyRole.OWNER, party__phone__startswith="1")
        .exclude(party__id_number_encrypted="")
        .filter(unit__building__area__butlers=butler)
        .select_related("party", "unit")
        .order_by("id")
    )
    owner, relative = owners[0], owners[1]

    account = PortalAccount.objects.create(phone=owner.party.phone)
    binding = services.do_bind_unit_by_identity(
        account,
        unit=owner.unit,
        name=owner.party.name,
        id_tail=reveal_id_number(owner.party.id_number_encrypted)[-6:],
    )
    services.do_report_case(
        account,
        binding=binding,
        case_type=CaseType.REPAIR,
        description="阳台地漏返水，拖了几次地还是有积水，麻烦尽快安排师傅看一下。",
        category=Category.objects.filter(name="给排水").first(),
        idempotency_key="demo-portal-1",
    )

    applicant = PortalAccount.objects.create(phone=APPLICANT_PHONE)
    services.do_request_binding(
        applicant,
        unit=relative.unit,
        name=relative.party.name[0] + "小雨",
        relation=Relation.FAMILY,
        note=f"我是业主{relative.party.name}的女儿，平时帮父母报修。",
    )

    now = timezone.now()
    services.do_publish_notice(
        butler,
        project=project,
        kind=NoticeKind.WEATHER,
        title="寒潮降温温馨提示",
        body=(
            "受强冷空气影响，未来三天气温将下降8至10℃，并伴有5级左右大风。\n"
            "请各位业主关好门窗，收好阳台和窗台上的花盆、晾晒衣物；外出请注意防寒保暖，"
            "老人和孩子尽量减少外出。\n如发现水管冻裂、漏水，请及时联系管家或拨打服务中心电话。"
        ),
        buildings=list(Building.objects.filter(area__butlers=butler)),
        expires_at=now + timedelta(days=3),
    )
    building = Building.objects.filter(area__butlers=butler).order_by("id").first()
    services.do_publish_notice(
        butler,
        project=project,
        kind=NoticeKind.ANNOUNCEMENT,
        title=f"{building.name}二次供水水箱清洗停水通知",
        body=(
            f"为保障用水卫生，服务中心将于本周六 9:00–15:00 对{building.name}二次供水水箱进行清洗消毒，"
            "期间暂停供水。请提前储水，关闭家中水龙头，恢复供水后先放水 2 分钟再使用。\n"
            "给您带来的不便，敬请谅解。"
        ),
        buildings=[building],
        expires_at=now + timedelta(days=7),
    )
    return owner.party.phone
