"""Service requests for the demo: recorded and moved along through the real services.

Each scale-1 project gets requests in every stage (recorded, dispatched, in progress, closed,
followed up), received over the last three days so the workbench shows due-soon and overdue
badges. Everything goes through `services`, so timelines, deadlines and search are real.
"""

import random
from datetime import timedelta

from django.utils import timezone

from guanjia.estate.choices import OccupancyRole
from guanjia.estate.models import Occupancy
from guanjia.org.choices import DepartmentKind, Role
from guanjia.org.models import Department, Project, Staff

from . import services
from .choices import CaseType, Channel, FollowUpOutcome
from .models import Category

# (type, category, description, report) — what owners actually call about.
REQUESTS = [
    (
        CaseType.REPAIR,
        "卫生间渗漏",
        "卫生间漏水，楼下天花板有水渍，请尽快派人查看。",
        "已更换防水层，闭水试验48小时无渗漏。",
    ),
    (CaseType.REPAIR, "外墙渗漏", "下雨后客厅外墙渗水，墙皮起鼓。", "外墙打胶修补完成，雨后复查无渗水。"),
    (CaseType.REPAIR, "给排水", "厨房下水道堵塞，水排不下去。", "已疏通下水管道，排水正常。"),
    (CaseType.REPAIR, "电路", "客厅插座没电，空气开关跳闸后合不上。", "更换损坏插座，线路检测正常。"),
    (CaseType.REPAIR, "电梯", "2单元电梯经常停在12楼不动，老人上下楼不方便。", "维保单位更换门机控制板，运行正常。"),
    (CaseType.REPAIR, "门禁", "单元门禁卡刷不开，已经两天了。", "更换门禁读卡器，业主卡已重新授权。"),
    (CaseType.COMPLAINT, "噪音", "楼上每天晚上十一点后还在装修，噪音很大。", "已约谈装修户，承诺严格按规定时间施工。"),
    (CaseType.COMPLAINT, "保洁", "楼道垃圾两天没人清理，有异味。", "已安排保洁加强清运频次，每日巡查。"),
    (CaseType.COMPLAINT, "停车", "车位经常被外来车辆占用，保安不管。", "已加强道闸管理，外来车辆登记后入场。"),
    (
        CaseType.COMPLAINT,
        "服务态度",
        "前台工作人员态度冷淡，问问题爱答不理。",
        "已对当班人员批评教育并组织服务礼仪培训。",
    ),
    (
        CaseType.COMPLAINT,
        "房产证",
        "交房两年了房产证还没办下来，请给个明确时间。",
        "已与不动产登记中心确认办理进度并书面答复业主。",
    ),
    (CaseType.INQUIRY, "物业费", "想咨询物业费能否按年缴纳，有没有优惠。", "已告知缴费方式和提前缴费优惠政策。"),
    (CaseType.INQUIRY, "装修管理", "装修需要办理什么手续，押金多少？", "已告知装修申请流程及所需材料。"),
    (CaseType.SUGGESTION, "绿化", "建议在儿童游乐区旁边多种几棵遮阴的树。", "已纳入下季度绿化改造计划。"),
    (CaseType.PRAISE, "维修服务", "工程部师傅维修及时、态度好，特此表扬。", "已转达表扬并在月度例会通报。"),
]
CHANNELS = [Channel.HOTLINE] * 5 + [Channel.WALK_IN, Channel.WECHAT, Channel.PORTAL, Channel.PROPERTY_COMPANY]
STAGES = ["recorded", "dispatched", "in_progress", "closed", "followed_up"]
STAGE_WEIGHTS = [2, 3, 3, 2, 3]


def load_demo_cases(seed: int, per_project: int = 30) -> int:
    """Record `per_project` requests in each of the first four projects; returns how many."""
    rng = random.Random(seed)
    categories = {c.name: c for c in Category.objects.all()}
    now = timezone.now()
    count = 0
    for project in Project.objects.order_by("id")[:4]:
        people = _people(project)
        if people is None:
            continue
        owners = list(
            Occupancy.objects.current()
            .filter(unit__project=project, role=OccupancyRole.OWNER)
            .select_related("party", "unit")
            .order_by("id")[: per_project * 4]
        )
        for occupancy in rng.sample(owners, min(per_project, len(owners))):
            case_type, category, description, report = rng.choice(REQUESTS)
            recorder = rng.choice(people["recorders"])
            case = services.do_record_case(
                recorder,
                project=project,
                case_type=case_type,
                channel=rng.choice(CHANNELS),
                description=description,
                category=categories.get(category),
                units=[occupancy.unit],
                party=occupancy.party,
                received_at=now - timedelta(minutes=rng.randint(5, 72 * 60)),
                route=False,
            )
            _advance(case, rng.choices(STAGES, STAGE_WEIGHTS)[0], recorder, people, report)
            count += 1
    return count


def _people(project):
    recorders = list(Staff.objects.filter(project=project, role__in=[Role.SPECIALIST, Role.FRONT_DESK]))
    engineering = Department.objects.filter(company_id=project.company_id, kind=DepartmentKind.ENGINEERING).first()
    handler = Staff.objects.filter(department=engineering, role=Role.HANDLER).first() if engineering else None
    if not recorders or handler is None:
        return None
    return {"recorders": recorders, "department": engineering, "handler": handler}


def _advance(case, stage: str, owner, people, report: str) -> None:
    if stage == "recorded":
        return
    handler = people["handler"]
    case = services.do_dispatch_case(
        owner, case, expected_version=case.version, department=people["department"], assignee=handler
    )
    if stage == "dispatched":
        return
    case = services.do_start_case(handler, case, expected_version=case.version, note="已联系业主，约定上门时间。")
    if stage == "in_progress":
        return
    case = services.do_submit_for_acceptance(handler, case, expected_version=case.version, note=report)
    case = services.do_close_case(owner, case, expected_version=case.version, note="已与业主确认处理结果。")
    if stage == "closed":
        return
    follow_up = case.follow_ups.filter(done_at__isnull=True).first()
    if follow_up is None:  # praise gets no follow-up call
        return
    services.do_record_follow_up(
        owner,
        follow_up,
        expected_version=case.version,
        outcome=FollowUpOutcome.SATISFIED,
        note="业主表示满意。",
    )
