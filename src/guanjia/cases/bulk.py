"""Many realistic service requests at once, for benchmarks: `load_cases(1_000_000)`.

Builds on the demo data (loaded at scale 1 first when the database holds no project) and spreads
the requests over its projects, units, customers, staff and the default category tree. Rows are
written straight into the tables (SQLite: executemany; PostgreSQL: COPY), because the services
check scope, take a case number under a lock and tokenise each text, which is right for one
intake and far too slow for a million. What the services would store is reproduced instead:

* descriptions come from a few thousand distinct phrasings; each is tokenised once
  (`guanjia.core.search.tokens_for`) together with the unit label, as `search.search_source` does;
  about 5 % of them contain 漏水;
* case numbers follow `numbering.py` (one sequence per Beijing day) and the day counters are moved
  past them, so requests recorded afterwards through the API get fresh numbers;
* deadlines are consistent with the statuses: open requests mostly due in the coming weeks, a small
  share already overdue, and a few falling due in the ten minutes before `now`, like between two
  runs of the SLA sweep.

The search index is dropped during the load and rebuilt at the end (`search.create_search_index`),
which is much faster than keeping it up to date row by row. No timeline events are written.
"""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from .models import Case, CaseNumberCounter, Category, FollowUp, SlaPolicy

_TZ = ZoneInfo("Asia/Shanghai")
LEAK_SHARE = 0.05

# Where the problem is, what it is (by category), and what the caller adds.
_PLACES = [
    *("卫生间", "厨房", "主卧", "次卧", "客厅", "阳台"),
    *("书房", "楼道", "地下车库", "电梯厅", "单元门口", "小区花园"),
]
_DETAILS = [
    "请尽快派人处理",
    "已经反映过一次了",
    "业主情绪比较激动",
    "希望今天下午上门",
    "家里有老人小孩",
    "周末在家",
    "请先电话联系",
    "要求给出书面答复",
    "影响正常生活",
    "物业说不归他们管",
]
_LEAKS = {
    "卫生间渗漏": ["漏水，楼下天花板渗水", "地漏返水，墙角漏水", "防水没做好，一直漏水"],
    "外墙渗漏": ["外墙漏水，墙面发霉", "下雨后窗边漏水"],
    "屋面渗漏": ["顶楼屋面漏水，天花板起皮"],
    "窗户渗漏": ["窗框漏水，窗台积水"],
    "地下室渗漏": ["地下室漏水，墙面有水渍"],
    "管道漏水": ["水管漏水，水表一直在转", "暖气管漏水，地板泡了", "下水管漏水，有异味"],
}
_OTHERS = {
    "卫生间渗漏": ["墙面潮湿发霉", "吊顶有水渍"],
    "给排水": ["下水道堵塞", "水压太小", "热水器出水不热"],
    "电路": ["插座没电", "跳闸频繁", "灯不亮"],
    "燃气": ["燃气表不走字", "燃气灶打不着火"],
    "供暖": ["暖气不热", "地暖温度太低"],
    "墙面开裂": ["墙面开裂，裂缝越来越大", "瓷砖开裂"],
    "空鼓": ["地砖空鼓", "墙砖空鼓脱落"],
    "地面起砂": ["地面起砂，一直掉灰"],
    "门窗变形": ["入户门关不严", "推拉门变形"],
    "门窗密封": ["窗户密封条老化，进风"],
    "五金配件": ["门锁坏了", "窗户把手松动"],
    "保洁": ["垃圾没有及时清运", "楼道卫生差"],
    "绿化": ["绿化带杂草没人修剪", "树枝挡住窗户"],
    "安保": ["门岗不登记外来人员", "夜间巡逻不到位"],
    "停车": ["车位被占", "地库照明不足"],
    "维修服务": ["报修三天没人来", "维修师傅没修好"],
    "服务态度": ["前台态度差", "管家不回电话"],
    "电梯": ["电梯经常停运", "电梯异响"],
    "门禁": ["门禁卡失灵", "人脸识别开不了门"],
    "消防设施": ["消防通道堆放杂物", "灭火器过期"],
    "照明": ["路灯不亮", "楼道感应灯坏了"],
    "噪音": ["楼上夜间噪音", "装修噪音太大"],
    "装修管理": ["邻居违规装修", "装修垃圾乱堆"],
    "违章搭建": ["顶楼违章搭建", "院子私自加建"],
    "宠物": ["小区遛狗不拴绳", "宠物粪便没人管"],
    "物业费": ["物业费账单有误", "咨询物业费缴纳方式"],
    "水电费": ["电费比平时高很多", "水费账单有疑问"],
    "停车费": ["停车费收费标准不清楚"],
    "房产证": ["房产证什么时候办", "办证材料咨询"],
    "按揭": ["按揭放款进度咨询"],
    "合同备案": ["合同备案进度咨询"],
    "交房延期": ["交房延期要求赔偿"],
    "验房问题": ["验房问题还没整改完"],
    "销售承诺": ["销售承诺的配套没有兑现"],
}
_CASE_TYPES = {
    "工程质量": [("repair", 70), ("complaint", 30)],
    "物业服务": [("complaint", 60), ("help", 25), ("suggestion", 15)],
    "公共设施": [("repair", 60), ("complaint", 40)],
    "公共秩序": [("complaint", 80), ("help", 20)],
    "费用": [("inquiry", 70), ("complaint", 30)],
    "产权办理": [("inquiry", 85), ("complaint", 15)],
    "销售服务": [("complaint", 90), ("inquiry", 10)],
    "交房": [("complaint", 70), ("repair", 30)],
}
_CHANNELS = [("hotline", 55), ("wechat", 20), ("walk_in", 10), ("portal", 8), ("patrol", 4), ("letter", 3)]
_OPEN = [("recorded", 8), ("dispatched", 30), ("in_progress", 45), ("awaiting_acceptance", 10), ("reopened", 3)]
_OPEN_AND_PAUSED = [*_OPEN, ("suspended", 4)]
_DONE = [("closed", 10), ("followed_up", 30), ("archived", 60)]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英"]


def _pick(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


@dataclass
class BulkResult:
    cases: int = 0
    open_cases: int = 0
    leak_cases: int = 0
    follow_ups: int = 0
    unit_links: int = 0
    first_id: int = 0
    last_id: int = 0
    now: datetime | None = None
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class _Text:
    description: str
    category_id: int
    root: str
    leak: bool
    tokens: list[str]
    # The category (or a parent) is a kind of leak: the 4-hour policy applies.
    leak_policy: bool


def _texts(categories: dict[str, Category], roots: dict[int, str]) -> tuple[list[_Text], list[_Text]]:
    """(leak texts, other texts), each tokenised once."""
    from guanjia.core.search import token_list

    leak, other = [], []
    for group, target in ((_LEAKS, leak), (_OTHERS, other)):
        for name, problems in group.items():
            category = categories.get(name)
            if category is None:
                continue
            for problem in problems:
                for place in _PLACES:
                    for detail in _DETAILS:
                        text = f"{place}{problem}，{detail}。"
                        if (group is _LEAKS) != ("漏水" in text):
                            continue
                        target.append(
                            _Text(
                                text,
                                category.pk,
                                roots[category.pk],
                                group is _LEAKS,
                                token_list(text),
                                "漏" in category.path,
                            )
                        )
    return leak, other


def _root_names() -> tuple[dict[str, Category], dict[int, str]]:
    nodes = {c.pk: c for c in Category.objects.all()}
    roots = {}
    for pk, node in nodes.items():
        top = node
        while top.parent_id is not None:
            top = nodes[top.parent_id]
        roots[pk] = top.name
    return {c.name: c for c in nodes.values()}, roots


def _policy_ids() -> dict[str, int | None]:
    by_name = {p.name: p.pk for p in SlaPolicy.objects.all()}
    return {
        "leak": by_name.get("渗漏 4 小时"),
        "complaint": by_name.get("投诉 24 小时"),
        "default": by_name.get("默认"),
    }


def ensure_demo(seed: int = 2026, progress: Callable[[str], None] | None = None) -> None:
    """Load the demo data at scale 1 unless the database already holds projects."""
    from guanjia import demodata
    from guanjia.org.models import Project

    if not Project.objects.exists():
        demodata.load(1, seed, progress=progress)


def _organisation():
    """Per project: units with their label tokens and occupants, staff who record, departments."""
    from guanjia.core.search import token_list
    from guanjia.estate.models import Occupancy, Unit
    from guanjia.org.models import Department, Project, Staff

    projects = {}
    for project in Project.objects.all():
        projects[project.pk] = {"company": project.company_id, "units": [], "owners": [], "departments": []}
    occupants: dict[int, list[int]] = {}
    for unit_id, party_id in Occupancy.objects.filter(end__isnull=True).values_list("unit_id", "party_id"):
        occupants.setdefault(unit_id, []).append(party_id)
    for unit in Unit.objects.select_related("building", "entrance"):
        projects[unit.project_id]["units"].append((unit.pk, token_list(unit.label), occupants.get(unit.pk, [])))
    for staff_id, project_id in Staff.objects.filter(
        is_active=True, project__isnull=False, role__in=["specialist", "front_desk", "butler", "team_lead"]
    ).values_list("pk", "project_id"):
        projects[project_id]["owners"].append(staff_id)
    handlers: dict[int, list[int]] = {}
    for staff_id, department_id in Staff.objects.filter(is_active=True, department__isnull=False).values_list(
        "pk", "department_id"
    ):
        handlers.setdefault(department_id, []).append(staff_id)
    for department in Department.objects.all():
        targets = [projects[department.project_id]] if department.project_id in projects else []
        if department.project_id is None:
            targets = [p for p in projects.values() if p["company"] == department.company_id]
        for p in targets:
            p["departments"].append((department.pk, handlers.get(department.pk, [])))
    fallback = list(Staff.objects.filter(is_active=True).values_list("pk", flat=True)[:1])
    usable = {}
    for pk, p in projects.items():
        if not p["units"]:
            continue
        p["owners"] = p["owners"] or fallback
        usable[pk] = p
    return usable


def load_cases(
    n: int = 1_000_000,
    *,
    seed: int = 2026,
    now: datetime | None = None,
    open_share: float = 0.8,
    batch_size: int = 20_000,
    progress: Callable[[str], None] | None = None,
) -> BulkResult:
    """Add `n` requests to the demo data; `now` (default: the current time) anchors every deadline."""
    from . import search

    started = time.perf_counter()
    result = BulkResult(now=(now or datetime.now(UTC)).astimezone(UTC))
    now = result.now
    rng = random.Random(seed)
    say = progress or (lambda line: None)

    categories, roots = _root_names()
    leak_texts, other_texts = _texts(categories, roots)
    policies = _policy_ids()
    projects = _organisation()
    project_ids = sorted(projects)
    result.seconds["prepare"] = round(time.perf_counter() - started, 1)
    say(f"{len(leak_texts) + len(other_texts)} distinct descriptions, {len(project_ids)} projects")

    vendor = connection.vendor
    case_fields = [f for f in Case._meta.local_concrete_fields]
    columns = [f.column for f in case_fields]
    through = Case.units.through._meta.db_table
    fu_fields = [f for f in FollowUp._meta.local_concrete_fields if f.attname != "id"]

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Case._meta.db_table}")  # noqa: S608 - model names
        next_id = cursor.fetchone()[0] + 1
    result.first_id = next_id

    if vendor == "postgresql":

        def value(v):
            return v

    else:

        def value(v):
            if isinstance(v, datetime):
                return v.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
            if isinstance(v, timedelta):
                return (v.days * 86400 + v.seconds) * 1_000_000 + v.microseconds
            if isinstance(v, date):
                return v.isoformat()
            return v

    def write(table: str, cols: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(cols))
                sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})"  # noqa: S608 - model names
                cursor.executemany(sql, rows)

    day_counters: dict[date, int] = {}
    numbers_used = dict(CaseNumberCounter.objects.values_list("day", "last"))

    if vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")
    search.drop_search_index(connection)

    def one_case(case_id: int):
        pid = project_ids[rng.randrange(len(project_ids))]
        project = projects[pid]
        leak = rng.random() < LEAK_SHARE
        text = rng.choice(leak_texts if leak else other_texts)
        case_type = _pick(rng, _CASE_TYPES.get(text.root, [("complaint", 50), ("help", 50)]))
        unit = project["units"][rng.randrange(len(project["units"]))] if rng.random() < 0.92 else None
        party = rng.choice(unit[2]) if unit and unit[2] and rng.random() < 0.8 else None
        is_open = rng.random() < open_share
        status = _pick(rng, _OPEN_AND_PAUSED) if is_open else _pick(rng, _DONE)
        severity = _pick(rng, [("normal", 90), ("urgent", 8), ("major", 2)])
        if text.leak_policy:
            policy, resolution = policies["leak"], timedelta(hours=4)
        elif case_type == "complaint":
            policy, resolution = policies["complaint"], timedelta(hours=24)
        else:
            policy, resolution = policies["default"], timedelta(hours=72)

        r = {
            "id": case_id,
            "project_id": pid,
            "case_type": case_type,
            "channel": _pick(rng, _CHANNELS),
            "category_id": text.category_id,
            "severity": severity,
            "party_id": party,
            "caller_name": "" if party else rng.choice(_SURNAMES) + rng.choice(_GIVEN),
            "caller_phone": "" if party else f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            "description": text.description,
            "owner_id": rng.choice(project["owners"]),
            "status": status,
            "resume_status": "in_progress" if status == "suspended" else "",
            "version": rng.randint(1, 6),
            "reopened_count": 1 if status == "reopened" else 0,
            "risk_major": severity == "major",
            "risk_group": rng.random() < 0.004,
            "risk_media": rng.random() < 0.001,
            "risk_government": rng.random() < 0.001,
            "intake_key": "",
            "sla_policy_id": policy,
            "total_paused": timedelta(0),
        }
        if status != "recorded" and project["departments"]:
            department, handlers = rng.choice(project["departments"])
            r["department_id"] = department
            r["assignee_id"] = rng.choice(handlers) if handlers and rng.random() < 0.7 else None

        if is_open:
            received = now - timedelta(seconds=rng.randrange(60 * 86400))
            kind = rng.random()
            if kind < 0.02:  # overdue for a while: earlier sweeps have seen them
                due = now - timedelta(seconds=rng.randrange(3600, 10 * 86400))
            elif kind < 0.021:  # newly overdue since the last sweep, ten minutes ago
                due = now - timedelta(seconds=rng.randrange(1, 600))
            else:
                due = now + timedelta(seconds=rng.randrange(60, 30 * 86400))
            received = min(received, due - resolution)
            started_at = received
            # The deadline is later than the policy's when the clock was stopped in between.
            r["total_paused"] = max(timedelta(0), due - (received + resolution))
            r["received_at"] = received
            r["resolution_due"] = due
            r["response_due"] = received + timedelta(minutes=12)
            r["responded_at"] = received + timedelta(minutes=rng.randint(1, 11))
            r["plan_due"] = min(due, received + timedelta(hours=1 if text.leak_policy else 24))
            if status in ("in_progress", "awaiting_acceptance", "suspended"):
                r["plan_confirmed_at"] = r["plan_due"] - timedelta(minutes=rng.randint(1, 50))
            else:
                r["plan_due"] = due
            r["reply_due"] = due
            if rng.random() < 0.8:
                r["replied_at"] = received + timedelta(hours=rng.randint(1, 8))
            r["sla_state"] = "paused" if status == "suspended" else "running"
            if status == "suspended":
                r["paused_since"] = now - timedelta(hours=rng.randint(1, 72))
            result.open_cases += 1
        else:
            if status == "closed":  # waiting for the follow-up call, due within 12 hours of closing
                closed = now - timedelta(seconds=rng.randrange(12 * 3600))
            else:
                closed = now - timedelta(seconds=rng.randrange(3 * 86400, 730 * 86400))
            received = closed - timedelta(seconds=rng.randrange(1800, 10 * 86400))
            started_at = received
            r["received_at"] = received
            r["response_due"] = received + timedelta(minutes=12)
            r["responded_at"] = received + timedelta(minutes=rng.randint(1, 30))
            r["resolution_due"] = received + resolution
            r["plan_due"] = received + timedelta(hours=1 if text.leak_policy else 24)
            r["plan_confirmed_at"] = received + timedelta(minutes=rng.randint(5, 60))
            r["reply_due"] = received + timedelta(hours=48)
            r["replied_at"] = received + timedelta(hours=rng.randint(1, 40))
            r["resolved_at"] = closed - timedelta(minutes=rng.randint(1, 120))
            r["closed_at"] = closed
            r["sla_state"] = "met" if r["resolved_at"] <= r["resolution_due"] else "breached"
        r["sla_started_at"] = started_at
        r["created_at"] = received
        r["updated_at"] = now

        day = received.astimezone(_TZ).date()
        n_day = day_counters.get(day, numbers_used.get(day, 0)) + 1
        day_counters[day] = n_day
        r["number"] = f"TS-{day:%Y%m%d}-{n_day:04d}"
        tokens = text.tokens + unit[1] if unit else text.tokens
        r["search_text"] = " ".join(dict.fromkeys(tokens))
        if text.leak:
            result.leak_cases += 1
        row = tuple(value(r.get(f.attname, None)) for f in case_fields)
        link = (case_id, unit[0], value(r["received_at"])) if unit else None
        follow_up = None
        if status == "closed":
            fu = {
                "case_id": case_id,
                "due": r["closed_at"] + timedelta(hours=12),
                "attempts": 0,
                "outcome": "",
                "note": "",
                "agent_id": None,
                "created_at": r["closed_at"],
                "done_at": None,
            }
            follow_up = tuple(value(fu[f.attname]) for f in fu_fields)
        return row, link, follow_up

    written = 0
    with transaction.atomic():
        while written < n:
            count = min(batch_size, n - written)
            rows, links, follow_ups = [], [], []
            for i in range(count):
                row, link, follow_up = one_case(next_id + written + i)
                rows.append(row)
                if link:
                    links.append(link)
                if follow_up:
                    follow_ups.append(follow_up)
            write(Case._meta.db_table, columns, rows)
            write(through, ["case_id", "unit_id", "received_at"], links)
            write(FollowUp._meta.db_table, [f.column for f in fu_fields], follow_ups)
            written += count
            result.unit_links += len(links)
            result.follow_ups += len(follow_ups)
            if written % (batch_size * 10) == 0 or written == n:
                say(f"{written} cases in {time.perf_counter() - started:.0f} s")
        for day, last in day_counters.items():
            CaseNumberCounter.objects.update_or_create(day=day, defaults={"last": last})
        _reset_sequences()
    result.cases = written
    result.last_id = next_id + written - 1
    result.seconds["insert"] = round(time.perf_counter() - started - result.seconds["prepare"], 1)

    mark = time.perf_counter()
    search.create_search_index(connection)
    result.seconds["search_index"] = round(time.perf_counter() - mark, 1)
    mark = time.perf_counter()
    with connection.cursor() as cursor:
        # On PostgreSQL also what autovacuum does soon after a bulk load: the visibility map, without
        # which counts and index-only scans read the table (and a server may run with it off).
        cursor.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")
        if vendor == "sqlite":
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA cache_size=-2000")
    result.seconds["analyze"] = round(time.perf_counter() - mark, 1)
    result.seconds["total"] = round(time.perf_counter() - started, 1)
    return result


def _reset_sequences() -> None:
    """Move PostgreSQL's id sequences past the ids given here."""
    from django.core.management.color import no_style

    if connection.vendor != "postgresql":
        return
    statements = connection.ops.sequence_reset_sql(no_style(), [Case, FollowUp, Case.units.through])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
