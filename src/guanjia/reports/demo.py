"""Reports for the demo: the drafts of the periods now running for the first project, its butler's
area and its city company, so the report pages have something to show on day one (the worker drafts
the finished periods on schedule); and a few typical cases of the first project written up for the
case collection, two published and one waiting for review."""

from django.utils import timezone

from guanjia.cases.choices import DONE_STATUSES, CaseType, EventKind
from guanjia.cases.models import Case
from guanjia.org.choices import Role
from guanjia.org.models import Area, Project, Staff

from . import casebook
from .choices import ReportKind, ReportScopeLevel
from .periodic import period_of
from .services import do_generate_report


def load_demo_reports() -> int:
    project = Project.objects.order_by("id").first()
    area = Area.objects.filter(project=project).order_by("id").first()
    if project is None:
        return 0
    today = timezone.localdate()
    wanted = [
        (ReportKind.MONTHLY, ReportScopeLevel.COMPANY, project.company_id),
        (ReportKind.MONTHLY, ReportScopeLevel.PROJECT, project.pk),
        (ReportKind.HALF_MONTHLY, ReportScopeLevel.PROJECT, project.pk),
    ]
    if area is not None:
        wanted.append((ReportKind.WEEKLY, ReportScopeLevel.AREA, area.pk))
    for kind, level, scope_id in wanted:
        do_generate_report(kind, level, scope_id, period_of(kind, today))
    load_demo_case_studies(project)
    return len(wanted)


# What a specialist would write under "lessons learned", by the category of the request.
LESSONS = {
    "卫生间渗漏": "渗漏报修要当天上门，先止水、再查因；影响楼下住户的，两户同时安抚，修复后请两户共同确认。"
    "闭水试验必须做满48小时，不能为了赶进度缩短。",
    "噪音": "装修噪音投诉要当晚到场核实、及时制止；对屡次违规的装修户，用装修承诺书和押金约束。"
    "夜间巡查记录要留存，作为回访和后续处理的依据。",
    "电梯": "电梯故障涉及老人和孩子出行，要在首次答复时给出明确的修复时间；维保单位到场后全程跟进，"
    "修复后连续三天回访，确认运行正常。",
    "保洁": "环境卫生投诉要当天清理到位，并找出原因（排班、频次、外包单位考核）；整改后连续一周巡查拍照留档，"
    "回访时把整改情况告诉业主。",
    "给排水": "下水堵塞要先疏通恢复使用，再查清堵塞原因；属公共管道的，同时排查同一立管的其他住户，避免反复报修。",
    "停车": "车位被占投诉涉及业主切身利益，要当场协调挪车；"
    "同时从道闸登记和巡逻频次上堵住漏洞，并书面告知业主改进措施。",
    "房产证": "产权办理类投诉的关键是信息透明：主动向业主说明办理节点和卡点，每周同步一次进度，"
    "不能等业主来问。答复要书面留存。",
}
DEFAULT_LESSON = "首问负责人全程跟进，处理进度及时告知客户；办结后按时回访，确认客户满意。"


def load_demo_case_studies(project) -> int:
    """Three closed requests of `project` written up: two published by the team lead, one in review."""
    author = Staff.objects.filter(project=project, role=Role.SPECIALIST).order_by("id").first()
    reviewer = Staff.objects.filter(project=project, role=Role.TEAM_LEAD).order_by("id").first()
    if author is None or reviewer is None:
        return 0
    chosen, seen = [], set()
    closed = Case.objects.filter(
        project=project,
        case_type__in=[CaseType.COMPLAINT, CaseType.REPAIR],
        status__in=DONE_STATUSES,
        merged_into=None,
        case_study=None,
    )
    for case in closed.select_related("category").order_by("received_at", "id"):
        key = case.category_id
        if key in seen:
            continue
        seen.add(key)
        chosen.append(case)
        if len(chosen) == 3:
            break
    for i, case in enumerate(chosen):
        study, _ = casebook.do_mark_case_typical(author, case)
        lessons = LESSONS.get(case.category.name if case.category_id else "", DEFAULT_LESSON)
        # The department's report of what was done is an internal note: the author writes it into the result.
        report = case.events.filter(kind=EventKind.SUBMITTED).exclude(note="").order_by("-seq").first()
        outcome = f"{report.note}\n{study.outcome}" if report else study.outcome
        study = casebook.do_update_case_study(
            author, study, expected_version=study.version, lessons=lessons, outcome=outcome
        )
        study = casebook.do_submit_case_study(author, study, expected_version=study.version)
        if i < 2:
            casebook.do_approve_case_study(
                reviewer, study, expected_version=study.version, comment="内容翔实，同意收录。"
            )
    return len(chosen)
