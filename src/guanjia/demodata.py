"""Deterministic demo data: a group with city companies, projects, buildings, units, owners and staff.

`plan_organisation()` and `plan_project()` generate plain rows from a seeded random generator
(no database, no clock), so the same seed always gives the same data; `load()` writes them
with bulk inserts one project at a time, so memory stays bounded at any scale. The loader
writes no change history: demo data is initial data, not a change made by someone.

Scale 1 is one group, two city companies, four projects, about 40 buildings, 6,000 units and
8,000 parties; scale N multiplies projects (and everything in them) by N, spread over more
city companies. Staff are created per company and per project.
"""

import hashlib
import math
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

DEMO_PASSWORD = "guanjia2026"  # noqa: S105 - published demo accounts, printed on every start
DEFAULT_SEED = 2026
# Dates are relative to this day, never to today, so a seed gives the same data in any year.
ANCHOR = date(2026, 1, 1)
GROUP_NAME = "华宇集团"
BATCH = 2000
_TZ = ZoneInfo("Asia/Shanghai")

# --- reference data -----------------------------------------------------------------------

# (city, username code, districts, ID-card region codes of the city, landline area code, local prefixes)
CITIES = (
    (
        "北京",
        "bj",
        ("朝阳区", "海淀区", "丰台区", "昌平区"),
        ("110101", "110102", "110105", "110106", "110108"),
        "010",
        "6",
    ),
    (
        "成都",
        "cd",
        ("锦江区", "武侯区", "成华区", "青羊区"),
        ("510104", "510105", "510106", "510107", "510108"),
        "028",
        "68",
    ),
    ("上海", "sh", ("徐汇区", "浦东新区", "长宁区", "闵行区"), ("310101", "310104", "310105", "310115"), "021", "56"),
    ("广州", "gz", ("天河区", "越秀区", "海珠区", "番禺区"), ("440103", "440104", "440106"), "020", "38"),
    ("深圳", "sz", ("南山区", "福田区", "罗湖区", "龙岗区"), ("440303", "440304", "440305"), "0755", "28"),
    ("杭州", "hz", ("西湖区", "上城区", "滨江区", "余杭区"), ("330102", "330106"), "0571", "8"),
    ("武汉", "wh", ("武昌区", "江岸区", "洪山区", "汉阳区"), ("420102", "420106"), "027", "8"),
    ("西安", "xa", ("雁塔区", "碑林区", "未央区", "长安区"), ("610103", "610113"), "029", "8"),
    ("南京", "nj", ("鼓楼区", "玄武区", "建邺区", "江宁区"), ("320102", "320106"), "025", "58"),
    ("重庆", "cq", ("渝中区", "江北区", "渝北区", "沙坪坝区"), ("500103", "500106"), "023", "6"),
    ("天津", "tj", ("河西区", "和平区", "南开区", "西青区"), ("120101", "120103"), "022", "2"),
    ("苏州", "suz", ("姑苏区", "吴中区", "工业园区", "相城区"), ("320506", "320508"), "0512", "6"),
    ("长沙", "cs", ("岳麓区", "芙蓉区", "天心区", "雨花区"), ("430102", "430104"), "0731", "8"),
    ("郑州", "zz", ("金水区", "中原区", "二七区", "郑东新区"), ("410102", "410105"), "0371", "6"),
    ("青岛", "qd", ("市南区", "市北区", "崂山区", "黄岛区"), ("370202", "370203"), "0532", "8"),
    ("合肥", "hf", ("蜀山区", "庐阳区", "包河区", "政务区"), ("340103", "340104"), "0551", "6"),
    ("昆明", "km", ("五华区", "盘龙区", "西山区", "官渡区"), ("530102", "530103"), "0871", "6"),
    ("厦门", "xm", ("思明区", "湖里区", "集美区", "海沧区"), ("350203", "350206"), "0592", "5"),
    ("济南", "jn", ("历下区", "市中区", "槐荫区", "历城区"), ("370102", "370103"), "0531", "8"),
    ("沈阳", "sy", ("和平区", "沈河区", "浑南区", "皇姑区"), ("210102", "210103"), "024", "2"),
)
# Where people moved from: provincial capitals and prefecture cities across the country.
ORIGIN_REGIONS = (
    "130102", "130104", "140105", "150102", "220102", "230102", "360102", "450103", "520102",
    "620102", "511002", "511102", "410102", "370102", "430102", "420102", "610103", "500103",
)  # fmt: skip

COMMUNITY_NAMES = (
    "绿色家园", "桂园", "锦江花园", "翠湖天地", "金色家园", "枫林绿洲", "蓝湾国际", "华宇城", "紫荆苑",
    "天鹅湖", "春江花月", "世纪城", "锦绣江南", "碧水云天", "紫云台", "香樟林", "水岸花城", "海棠湾",
    "君悦府", "银杏苑", "玉兰园", "丽景湾", "美林湖", "幸福里", "和平里", "书香门第", "观澜府",
    "云顶山居", "滨江壹号", "公园大道", "学府花园", "凤凰城", "百合苑", "橡树湾", "青城雅居", "南湖国际",
    "翡翠城", "星河湾", "东方花园", "阳光水岸", "御景园", "芳草地", "清华园", "湖畔佳苑", "悦澜山",
    "金桂苑", "半岛花园", "望江楼苑", "梧桐苑", "锦华苑", "知春里", "听涛苑", "长滩壹号", "香山美墅",
    "明珠花园", "瑞景园", "怡和园", "新城国际", "时代广场", "彩虹城",
)  # fmt: skip
ROADS = (
    "建设路", "人民路", "解放路", "中山路", "滨河路", "科技路", "学府路", "长江路", "湖滨路", "文化路",
    "光华大道", "锦绣路", "迎宾大道", "东风路", "和平路", "新华路", "青年路", "花园路", "望江路", "丽水路",
)  # fmt: skip
PROPERTY_BRANDS = ("锦诚", "佳和", "安居", "嘉宝", "华信")

SURNAMES = (
    ("王", 72), ("李", 72), ("张", 69), ("刘", 54), ("陈", 45), ("杨", 33), ("黄", 24), ("赵", 22), ("吴", 21),
    ("周", 21), ("徐", 16), ("孙", 15), ("马", 15), ("朱", 14), ("胡", 13), ("郭", 12), ("何", 12), ("林", 11),
    ("高", 11), ("罗", 11), ("郑", 10), ("梁", 10), ("谢", 8), ("宋", 8), ("唐", 8), ("许", 7), ("韩", 7),
    ("冯", 7), ("邓", 7), ("曹", 7), ("彭", 6), ("曾", 6), ("肖", 6), ("田", 6), ("董", 6), ("袁", 5),
    ("潘", 5), ("于", 5), ("蒋", 5), ("蔡", 5), ("余", 5), ("杜", 5), ("叶", 5), ("程", 5), ("苏", 4),
    ("魏", 4), ("吕", 4), ("丁", 4), ("任", 4), ("沈", 4), ("姚", 4), ("卢", 4), ("姜", 3), ("崔", 3),
    ("钟", 3), ("谭", 3), ("陆", 3), ("汪", 3), ("范", 3), ("金", 3), ("石", 3), ("廖", 3), ("贾", 3),
    ("夏", 3), ("韦", 3), ("付", 3), ("方", 3), ("白", 3), ("邹", 3), ("孟", 3), ("熊", 2), ("秦", 2),
    ("邱", 2), ("江", 2), ("尹", 2), ("薛", 2), ("闫", 2), ("段", 2), ("雷", 2), ("侯", 2), ("龙", 2),
    ("史", 2), ("陶", 2), ("黎", 2), ("贺", 2), ("顾", 2), ("毛", 2), ("郝", 2), ("龚", 2), ("邵", 2),
    ("万", 2), ("钱", 2), ("严", 2), ("武", 2), ("戴", 2), ("莫", 1), ("孔", 1), ("向", 1), ("汤", 1),
    ("欧阳", 1), ("司马", 1), ("上官", 1), ("诸葛", 1),
)  # fmt: skip
# Given names by generation: people born before 1975 and after.
GIVEN_NAMES = {
    ("male", "classic"): (
        "建国", "建华", "国庆", "志强", "卫东", "红军", "德明", "国强", "建军", "志刚", "永红", "福生", "长青",
        "伟", "强", "军", "勇", "刚", "斌", "平", "明", "华", "林", "波", "辉", "宏伟", "振华", "立新", "广平",
        "春生", "金贵", "树林", "海涛", "宝山", "玉成", "庆丰", "跃进", "文斌", "治国", "学军",
    ),
    ("female", "classic"): (
        "秀英", "桂英", "秀兰", "玉兰", "桂兰", "淑珍", "凤英", "玉梅", "丽华", "淑英", "秀珍", "红梅", "小红",
        "芳", "丽", "敏", "静", "霞", "燕", "英", "萍", "红", "艳", "琴", "素芬", "春梅", "美玲", "海燕",
        "建英", "丽萍", "雪梅", "凤兰", "月娥", "桂芳", "翠花", "玉珍", "慧敏", "爱华", "卫红", "冬梅",
    ),
    ("male", "modern"): (
        "浩", "宇", "磊", "杰", "涛", "鹏", "超", "晨", "博", "睿", "浩然", "子轩", "宇轩", "俊杰", "子豪",
        "晓东", "志远", "思远", "天佑", "一鸣", "明轩", "嘉懿", "皓轩", "文博", "泽宇", "昊天", "家豪", "晓峰",
        "俊熙", "鑫", "帅", "凯", "旭", "楠", "毅", "亮", "阳", "伟杰", "建宇", "博文",
    ),
    ("female", "modern"): (
        "婷", "雪", "倩", "洁", "颖", "琳", "晶", "欣怡", "梓涵", "雨桐", "诗涵", "可馨", "子涵", "思琪",
        "婷婷", "晓燕", "佳怡", "梦瑶", "雨欣", "欣妍", "语嫣", "一诺", "紫萱", "心怡", "晓雪", "静怡", "梦琪",
        "雅静", "悦", "璐", "丹", "瑶", "蕾", "薇", "莉", "晓丽", "慧", "佳琪", "文静", "思雨",
    ),
}  # fmt: skip
MOBILE_PREFIXES = (
    ("139", 8), ("138", 8), ("137", 6), ("136", 6), ("135", 6), ("134", 3), ("150", 5), ("151", 5), ("152", 3),
    ("157", 3), ("158", 5), ("159", 5), ("182", 4), ("183", 3), ("187", 4), ("188", 3), ("130", 4), ("131", 4),
    ("132", 3), ("155", 3), ("156", 3), ("185", 4), ("186", 5), ("176", 3), ("175", 2), ("166", 2), ("133", 3),
    ("153", 2), ("180", 3), ("181", 3), ("189", 4), ("177", 3), ("173", 2), ("199", 3), ("191", 2), ("198", 2),
)  # fmt: skip
TRADES = (
    ("餐饮管理", "兰香", "蜀味", "川府", "鑫源", "老街"),
    ("便利店", "好邻居", "喜客", "快乐", "惠民", "美宜"),
    ("商贸", "恒丰", "永盛", "金泰", "宏达", "德利"),
    ("医药连锁", "康宁", "仁和", "百草", "益生", "济民"),
    ("教育咨询", "启明", "博学", "新航", "智慧树", "优学"),
    ("美容美发", "丝域", "伊人", "名流", "尚美", "雅致"),
)  # fmt: skip

# name, colour (Tabler palette), description
TAGS = (
    ("重点客户", "red", "需要重点关注、优先响应的客户"),
    ("孤寡老人", "orange", "独居老人，定期走访关怀"),
    ("困难户", "yellow", "生活困难，需要帮扶"),
    ("沉默客户", "secondary", "很少联系，重要通知需主动上门"),
    ("VIP", "purple", "高价值客户"),
    ("租户", "cyan", "租住本小区"),
    ("业委会委员", "green", "业主委员会成员"),
)
DEPARTMENTS = (
    ("customer_service", "客服部"),
    ("engineering", "工程部"),
    ("property", "物业公司"),
    ("sales", "营销部"),
    ("design", "设计部"),
    ("cost", "成本部"),
    ("finance", "财务部"),
    ("legal", "法务部"),
)
CONTACT_SUMMARIES = (
    ("phone", "电话回访：业主对报修处理结果表示满意。"),
    ("phone", "业主来电咨询车位租赁事宜，已告知办理流程和所需材料。"),
    ("phone", "提醒业主缴纳本年度物业费，业主表示月底前缴清。"),
    ("visit", "入户走访：家中老人独居，身体尚可，已登记关怀需求。"),
    ("visit", "上门查看卫生间渗水情况，已拍照并转工程部处理。"),
    ("walk_in", "业主到前台办理装修申报，已收取图纸，等待审核。"),
    ("walk_in", "业主到前台反映楼道灯不亮，已派单维修。"),
    ("wechat", "微信沟通装修申报材料，已发送材料清单。"),
    ("wechat", "业主微信反馈电梯异响，已通知维保单位检查。"),
    ("sms", "短信通知停水安排：本周六9:00至12:00。"),
    ("other", "业主在社区活动中提出增设儿童游乐设施的建议。"),
)

# Unit status weights by how long ago the project was delivered.
_STATUS_WEIGHTS = {
    "old": (("occupied", 76), ("vacant", 8), ("renovating", 3), ("handed_over", 5), ("sold", 2), ("unsold", 6)),
    "recent": (("occupied", 55), ("vacant", 7), ("renovating", 12), ("handed_over", 18), ("sold", 3), ("unsold", 5)),
    "new": (("occupied", 25), ("vacant", 2), ("renovating", 28), ("handed_over", 35), ("sold", 5), ("unsold", 5)),
}
_SOLD = {"sold", "handed_over", "occupied", "vacant", "renovating"}
_HANDED_OVER = {"handed_over", "occupied", "vacant", "renovating"}
RESIDENCE_AREAS = (89, 92, 96, 105, 110, 118, 125, 128, 135, 143, 150, 165, 180)
SCALE_1_PROJECTS = (
    ("绿色家园", date(2012, 6, 28)),
    ("桂园", date(2016, 9, 30)),
    ("锦江花园", date(2019, 12, 20)),
    ("翠湖天地", date(2025, 6, 30)),
)
# (company, n-th project of the company) → the scale-1 project
_PRESETS = {
    (1, 0): SCALE_1_PROJECTS[0],
    (1, 1): SCALE_1_PROJECTS[1],
    (2, 0): SCALE_1_PROJECTS[2],
    (2, 1): SCALE_1_PROJECTS[3],
}
UNITS_PER_PROJECT = 1500


# --- plans: plain rows, no database --------------------------------------------------------


@dataclass
class StaffRow:
    username: str
    display_name: str
    phone: str
    role: str
    scope_level: str
    company: int | None = None  # index into OrgPlan.companies
    project: int | None = None  # global project index
    department: str = ""  # department kind of the company
    areas: tuple[int, ...] = ()  # area indexes of the project


@dataclass
class ProjectSpec:
    index: int
    company: int
    name: str
    code: str
    address: str
    property_company: str
    delivered_on: date


@dataclass
class OrgPlan:
    # (name, short name, city, username code, city index); index 0 is the group
    companies: list[tuple[str, str, str, str, int]]
    projects: list[ProjectSpec]
    staff: list[StaffRow]


@dataclass
class ProjectPlan:
    spec: ProjectSpec
    areas: list[str] = field(default_factory=list)
    # (name, number, floors, area index, entrance count)
    buildings: list[tuple[str, int, int, int, int]] = field(default_factory=list)
    # (building index, entrance number or 0, floor, number, kind, floor area, status, handed over on)
    units: list[tuple] = field(default_factory=list)
    # (kind, name, gender, phone, phone2, id number, tags)
    parties: list[tuple] = field(default_factory=list)
    # (party index, unit index, role, start, end)
    occupancies: list[tuple] = field(default_factory=list)
    # (party index, unit index, staff username, channel, time, summary)
    contacts: list[tuple] = field(default_factory=list)
    staff: list[StaffRow] = field(default_factory=list)


def _weighted(pairs):
    values = [v for v, _ in pairs]
    cum, total = [], 0
    for _, w in pairs:
        total += w
        cum.append(total)
    return values, cum


_SURNAMES = _weighted(SURNAMES)
_PREFIXES = _weighted(MOBILE_PREFIXES)


class People:
    """Makes people: names, genders, birth dates, phones and ID numbers, all from one generator.

    ID numbers are unique across the whole load (the set of the first 17 digits), as real
    ones are; the duplicate check of the party form would otherwise flag demo data.
    """

    def __init__(self, rng: random.Random, used_ids: set[int]):
        self.rng = rng
        self.used_ids = used_ids

    def surname(self) -> str:
        values, cum = _SURNAMES
        return self.rng.choices(values, cum_weights=cum)[0]

    def name(self, gender: str, born: int, surname: str | None = None) -> str:
        era = "classic" if born < 1975 else "modern"
        return (surname or self.surname()) + self.rng.choice(GIVEN_NAMES[(gender, era)])

    def mobile(self) -> str:
        values, cum = _PREFIXES
        return self.rng.choices(values, cum_weights=cum)[0] + f"{self.rng.randrange(10**8):08d}"

    def landline(self, city: int) -> str:
        *_, area, starts = CITIES[city]
        local_len = 7 if area == "0592" else 8
        return f"{area}-{self.rng.choice(starts)}{self.rng.randrange(10 ** (local_len - 1)):0{local_len - 1}d}"

    def id_number(self, city: int, born: date, gender: str) -> str:
        from guanjia.estate.identity import id_check_digit

        rng = self.rng
        regions = CITIES[city][3] if rng.random() < 0.6 else ORIGIN_REGIONS
        region = rng.choice(regions)
        while True:
            seq = rng.randrange(0, 100) * 10 + rng.choice((1, 3, 5, 7, 9) if gender == "male" else (0, 2, 4, 6, 8))
            first17 = f"{region}{born:%Y%m%d}{seq:03d}"
            key = int(first17)
            if key not in self.used_ids:
                self.used_ids.add(key)
                return first17 + id_check_digit(first17)
            born += timedelta(days=1)  # another real person born a day later

    def birth(self, earliest: int, latest: int) -> date:
        year = self.rng.randint(earliest, latest)
        return date(year, 1, 1) + timedelta(days=self.rng.randrange(365))

    def person(
        self, city: int, earliest: int, latest: int, *, gender: str | None = None, surname: str | None = None
    ) -> tuple[str, str, date, str, str]:
        """(name, gender, birth date, mobile, ID number)."""
        gender = gender or self.rng.choice(("male", "female"))
        born = self.birth(earliest, latest)
        return self.name(gender, born.year, surname), gender, born, self.mobile(), self.id_number(city, born, gender)


def _area(centiares: int) -> Decimal:
    """Square metres with two decimals, from hundredths: 8936 → 89.36."""
    return Decimal(centiares).scaleb(-2)


def _project_code(name: str, used: set[str]) -> str:
    from pypinyin import Style, lazy_pinyin

    base = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower() or "p"
    code, n = base, 1
    while code in used:
        n += 1
        code = f"{base}{n}"
    used.add(code)
    return code


def company_count(scale: int) -> int:
    return min(len(CITIES), max(2, 2 * round(math.sqrt(scale))))


def plan_organisation(scale: int = 1, seed: int = DEFAULT_SEED) -> OrgPlan:
    """The group, its city companies, the projects and the company-level staff."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    rng = random.Random(f"{seed}:org")
    people = People(rng, set())
    n_companies = company_count(scale)
    companies = [(GROUP_NAME, "集团", "", "hy", -1)]
    for i in range(n_companies):
        city, code = CITIES[i][0], CITIES[i][1]
        companies.append((f"华宇地产{city}城市公司", f"{city}公司", city, code, i))
    n_projects = 4 * scale
    projects: list[ProjectSpec] = []
    used_names: dict[int, set[str]] = {}
    used_codes: set[str] = set()
    for p in range(n_projects):
        company = 1 + p * n_companies // n_projects
        city_index = companies[company][4]
        taken = used_names.setdefault(company, set())
        preset = _PRESETS.get((company, len(taken)))
        if preset:  # the scale-1 projects exist at every scale, so their logins do too
            name, delivered = preset
        else:
            name = next((n for n in rng.sample(COMMUNITY_NAMES, len(COMMUNITY_NAMES)) if n not in taken), None)
            if name is None:  # more projects in one city than names: later phases
                name = f"{rng.choice(COMMUNITY_NAMES)}{len(taken) // len(COMMUNITY_NAMES) + 1}期"
            delivered = date(2008, 1, 1) + timedelta(days=rng.randrange((date(2025, 9, 30) - date(2008, 1, 1)).days))
        taken.add(name)
        city, _, districts, *_ = CITIES[city_index]
        address = f"{city}市{rng.choice(districts)}{rng.choice(ROADS)}{rng.randint(1, 399)}号"
        if rng.random() < 0.7:
            property_company = f"{city}华宇物业服务有限公司"
        else:
            property_company = f"{city}{rng.choice(PROPERTY_BRANDS)}物业服务有限公司"
        projects.append(
            ProjectSpec(p, company, name, _project_code(name, used_codes), address, property_company, delivered)
        )

    def staff_person(city: int) -> tuple[str, str]:
        name, _, _, phone, _ = people.person(city, 1970, 1998)
        return name, phone

    staff = [StaffRow("admin", *staff_person(0), role="admin", scope_level="group", company=0)]
    staff.append(StaffRow("inspector", *staff_person(0), role="inspector", scope_level="group", company=0))
    for c, (_, _, _, code, city_index) in enumerate(companies):
        if c == 0:
            continue
        staff.append(StaffRow(f"manager_{code}", *staff_person(city_index), "manager", "company", company=c))
        for kind, _ in DEPARTMENTS:
            staff.append(
                StaffRow(
                    f"handler_{code}_{kind}",
                    *staff_person(city_index),
                    "handler",
                    "company",
                    company=c,
                    department=kind,
                )
            )
    return OrgPlan(companies, projects, staff)


def plan_project(org: OrgPlan, spec: ProjectSpec, seed: int = DEFAULT_SEED, used_ids: set[int] | None = None):
    """Areas, buildings, units, parties, occupancies, contacts and staff of one project."""
    rng = random.Random(f"{seed}:project:{spec.index}")
    people = People(rng, used_ids if used_ids is not None else set())
    city = org.companies[spec.company][4]
    plan = ProjectPlan(spec)
    age = (ANCHOR - spec.delivered_on).days / 365
    statuses = _weighted(_STATUS_WEIGHTS["old" if age >= 3 else "recent" if age >= 1 else "new"])

    # Buildings: high-rises sized so the project lands near UNITS_PER_PROJECT, plus villas in some.
    n_high = rng.randint(8, 9)
    villas = rng.randint(4, 6) if spec.index % 4 in (1, 3) else 0
    budget = UNITS_PER_PROJECT - 200 - villas  # shops and parking fill the rest
    layouts = []
    for b in range(n_high):
        entrances, per_floor = rng.randint(2, 3), rng.randint(2, 4)
        share = budget / (n_high - b)
        floors = max(18, min(33, round(share / (entrances * per_floor))))
        budget -= floors * entrances * per_floor
        layouts.append((floors, entrances, per_floor))
    n_buildings = n_high + villas
    n_areas = max(1, math.ceil(n_buildings / 4))
    plan.areas = [f"{chr(ord('A') + a)}区" for a in range(n_areas)]
    for b, (floors, entrances, _) in enumerate(layouts):
        plan.buildings.append((f"{b + 1}栋", b + 1, floors, b * n_areas // n_buildings, entrances))
    for v in range(villas):
        b = n_high + v
        plan.buildings.append((f"{b + 1}栋", b + 1, rng.randint(1, 3), b * n_areas // n_buildings, 0))

    def handover_date() -> date:
        extra = rng.randrange(60) if rng.random() < 0.9 else rng.randrange(730)
        return min(spec.delivered_on + timedelta(days=extra), ANCHOR - timedelta(days=1))

    def unit_status(weights=statuses) -> str:
        return rng.choices(weights[0], cum_weights=weights[1])[0]

    # Units
    for b, (floors, entrances, per_floor) in enumerate(layouts):
        areas = [_area(rng.choice(RESIDENCE_AREAS) * 100 + rng.randrange(100)) for _ in range(per_floor)]
        for e in range(1, entrances + 1):
            for f in range(1, floors + 1):
                for k in range(1, per_floor + 1):
                    status = unit_status()
                    handed = handover_date() if status in _HANDED_OVER else None
                    plan.units.append((b, e, f, f"{f}{k:02d}", "residence", areas[k - 1], status, handed))
    for v in range(villas):
        status = unit_status()
        handed = handover_date() if status in _HANDED_OVER else None
        area = _area(rng.randrange(22000, 45000))
        plan.units.append((n_high + v, 0, 1, "101", "villa", area, status, handed))
    shop_status = _weighted((("occupied", 70), ("vacant", 15), ("unsold", 10), ("renovating", 5)))
    park_status = _weighted((("sold", 45), ("handed_over", 25), ("unsold", 30)))
    n_shops = rng.randint(30, 50)
    for s in range(n_shops):
        b = s % min(3, n_high)  # shops line the street side of the first buildings
        status = unit_status(shop_status)
        handed = handover_date() if status in _HANDED_OVER else None
        area = _area(rng.randrange(3000, 30000))
        plan.units.append((b, 0, 1, f"S-{101 + s // min(3, n_high)}", "shop", area, status, handed))
    n_parking = UNITS_PER_PROJECT - len(plan.units)
    for s in range(max(n_parking, 100)):
        b = s % n_high
        status = unit_status(park_status)
        handed = handover_date() if status in _HANDED_OVER else None
        area = _area(rng.randrange(1200, 1500))
        plan.units.append((b, 0, -1, f"B1-{1 + s // n_high:03d}", "parking", area, status, handed))

    # Parties and occupancies
    tag_rate = {"重点客户": 0.03, "VIP": 0.02, "沉默客户": 0.03, "困难户": 0.01}
    owners_by_building: dict[int, list[int]] = {}
    owner_list: list[int] = []

    def add_party(kind, name, gender="", phone="", id_number="", born: date | None = None, tags=()) -> int:
        tags = list(tags)
        if kind == "person":
            for tag, rate in tag_rate.items():
                if rng.random() < rate:
                    tags.append(tag)
            if born and born.year < 1952 and rng.random() < 0.15:
                tags.append("孤寡老人")
        phone2 = people.landline(city) if kind == "person" and rng.random() < 0.05 else ""
        plan.parties.append((kind, name, gender, phone, phone2, id_number, tuple(sorted(set(tags)))))
        return len(plan.parties) - 1

    def add_person(earliest, latest, *, tags=(), surname=None, gender=None) -> tuple[int, str, str, date]:
        """(party index, surname, gender, birth date) of a new person."""
        surname = surname or people.surname()
        name, gender, born, phone, id_number = people.person(city, earliest, latest, gender=gender, surname=surname)
        return add_party("person", name, gender, phone, id_number, born, tags), surname, gender, born

    def add_organisation(trade_index=None) -> int:
        trade, *brands = TRADES[rng.randrange(len(TRADES)) if trade_index is None else trade_index]
        name = f"{CITIES[city][0]}{rng.choice(brands)}{trade}有限公司"
        return add_party("organisation", name, phone=people.mobile())

    def occupy(party, unit, role, start, end=None):
        plan.occupancies.append((party, unit, role, start, end))

    def purchase_date() -> date:
        return spec.delivered_on - timedelta(days=rng.randrange(90, 900))

    for u, (b, _, _, _, kind, _, status, handed) in enumerate(plan.units):
        if status not in _SOLD:
            continue
        bought = purchase_date()
        if kind == "parking":
            candidates = owners_by_building.get(b)
            if candidates and rng.random() < 0.85:
                occupy(rng.choice(candidates), u, "owner", bought)
            else:
                occupy(add_person(1955, 1995)[0], u, "owner", bought)
            continue
        if kind == "shop":
            owner = add_organisation() if rng.random() < 0.35 else add_person(1955, 1990)[0]
            occupy(owner, u, "owner", bought)
            if status == "occupied" and rng.random() < 0.6:
                occupy(add_organisation(), u, "tenant", ANCHOR - timedelta(days=rng.randrange(30, 1500)))
            continue
        # Residences and villas
        if owner_list and rng.random() < 0.03:  # someone who bought a second flat here
            occupy(rng.choice(owner_list), u, "owner", bought)
            continue
        resold = status in ("occupied", "vacant") and age >= 2 and rng.random() < 0.07
        if resold:
            first = add_person(1945, 1985)[0]
            sold_on = (handed or spec.delivered_on) + timedelta(days=365 + rng.randrange(max(1, int(age * 365) - 425)))
            sold_on = min(sold_on, ANCHOR - timedelta(days=60))
            occupy(first, u, "owner", bought, sold_on)
            bought = sold_on
        owner, surname, owner_gender, owner_born = add_person(1950, 1996)
        occupy(owner, u, "owner", bought)
        owners_by_building.setdefault(b, []).append(owner)
        owner_list.append(owner)
        if rng.random() < 0.28:  # spouse on the deed
            spouse_gender = "female" if owner_gender == "male" else "male"
            year = owner_born.year
            occupy(add_person(year - 4, min(year + 4, 2000), gender=spouse_gender)[0], u, "owner", bought)
        if status != "occupied":
            continue
        move_in = handed or bought
        if rng.random() < 0.2:  # family member living there: an ageing parent or a grown child
            year = owner_born.year
            if year > 1982 or (year >= 1968 and rng.random() < 0.5):
                resident = add_person(year - 32, year - 24, surname=surname)[0]
            else:
                resident = add_person(year + 22, min(year + 32, 2004), surname=surname)[0]
            occupy(resident, u, "resident", move_in)
        r = rng.random()
        if r < 0.12:
            tenant = add_person(1975, 2002, tags=("租户",) if rng.random() < 0.6 else ())[0]
            occupy(tenant, u, "tenant", max(move_in, ANCHOR - timedelta(days=rng.randrange(30, 900))))
        elif r < 0.16:
            start = move_in + timedelta(days=rng.randrange(30, 200))
            end = min(start + timedelta(days=365 * rng.randint(1, 2)), ANCHOR - timedelta(days=15))
            if end > start:
                occupy(add_person(1975, 2002)[0], u, "tenant", start, end)

    # Owners' committee members, chosen among owners.
    for owner in rng.sample(owner_list, min(5, len(owner_list))):
        kind, name, gender, phone, phone2, id_number, tags = plan.parties[owner]
        plan.parties[owner] = (kind, name, gender, phone, phone2, id_number, tuple(sorted({*tags, "业委会委员"})))

    # Staff of the project: a team lead, two specialists, a front desk, one or two butlers per area.
    code = spec.code
    project = spec.index
    company = spec.company

    def staff(username, role, scope_level, areas=()):
        name, _, _, phone, _ = people.person(city, 1975, 2000)
        plan.staff.append(StaffRow(username, name, phone, role, scope_level, company, project, "", areas))

    staff(f"teamlead_{code}", "team_lead", "project")
    staff(f"specialist_{code}", "specialist", "project")
    staff(f"specialist_{code}_2", "specialist", "project")
    staff(f"frontdesk_{code}", "front_desk", "project")
    n = 0
    for a in range(len(plan.areas)):
        for _ in range(rng.randint(1, 2)):
            n += 1
            staff(f"butler_{code}_{n}", "butler", "area", (a,))

    # Contacts: a few records on some parties, by the project's butlers and specialists.
    authors = [s.username for s in plan.staff if s.role in ("butler", "specialist", "front_desk")]
    unit_of: dict[int, int] = {}
    for party, unit, *_ in plan.occupancies:
        unit_of.setdefault(party, unit)
    for party in range(len(plan.parties)):
        if rng.random() >= 0.05:
            continue
        for _ in range(rng.randint(1, 3)):
            channel, summary = rng.choice(CONTACT_SUMMARIES)
            day = ANCHOR - timedelta(days=rng.randrange(1, 540))
            when = datetime(day.year, day.month, day.day, rng.randint(8, 19), rng.randrange(60), tzinfo=_TZ)
            plan.contacts.append((party, unit_of.get(party), rng.choice(authors), channel, when, summary))
    return plan


def iter_plans(scale: int = 1, seed: int = DEFAULT_SEED) -> Iterator[tuple[OrgPlan, ProjectPlan]]:
    org = plan_organisation(scale, seed)
    used_ids: set[int] = set()
    for spec in org.projects:
        yield org, plan_project(org, spec, seed, used_ids)


def plan_digest(scale: int = 1, seed: int = DEFAULT_SEED) -> str:
    """A SHA-256 over every generated row: equal digests mean identical demo data."""
    digest = hashlib.sha256()
    org = plan_organisation(scale, seed)
    digest.update(repr(org.companies).encode() + repr(org.projects).encode() + repr(org.staff).encode())
    used_ids: set[int] = set()
    for spec in org.projects:
        plan = plan_project(org, spec, seed, used_ids)
        for rows in (plan.areas, plan.buildings, plan.units, plan.parties, plan.occupancies, plan.contacts):
            digest.update(repr(rows).encode())
        digest.update(repr(plan.staff).encode())
    return digest.hexdigest()


# --- loading ---------------------------------------------------------------------------------


@dataclass
class LoadResult:
    scale: int
    seed: int
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


@contextmanager
def _fast_sqlite():
    """On SQLite, skip the fsync after each commit while loading: it is initial data, and a
    crash mid-load leaves nothing worth keeping anyway."""
    from django.db import connection

    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield  # SQLite refuses to change the safety level inside a transaction
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MB: index pages of the big tables stay in memory
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA cache_size=-2000")


class _PinyinCache(dict):
    """name_pinyin per distinct name: converting is slow and names repeat a lot."""

    def __missing__(self, name):
        from guanjia.estate.services import name_pinyin

        value = self[name] = name_pinyin(name)
        return value


def load(scale: int = 1, seed: int = DEFAULT_SEED, *, progress: Callable[[str], None] | None = None) -> LoadResult:
    """Write the demo data into the (empty) database, all or nothing."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from guanjia.estate.models import Tag

    started = time.perf_counter()
    result = LoadResult(scale, seed)
    counts = dict.fromkeys(
        ("companies", "projects", "areas", "buildings", "units", "parties", "occupancies", "contacts", "staff"), 0
    )
    password = make_password(DEMO_PASSWORD)  # hashing is slow on purpose: do it once for every account
    pinyin = _PinyinCache()
    with _fast_sqlite(), transaction.atomic():
        org = plan_organisation(scale, seed)
        Tag.objects.bulk_create([Tag(name=n, colour=c, description=d) for n, c, d in TAGS], ignore_conflicts=True)
        tag_ids = dict(Tag.objects.values_list("name", "id"))
        ids = _load_organisation(org, password, counts)
        used_ids: set[int] = set()
        for spec in org.projects:
            plan = plan_project(org, spec, seed, used_ids)
            _load_project(plan, ids, tag_ids, password, pinyin, counts)
            if progress and (spec.index + 1) % max(1, len(org.projects) // 10) == 0:
                progress(f"{spec.index + 1}/{len(org.projects)} projects, {counts['units']} units")
    _analyze()
    result.counts = counts
    result.seconds = time.perf_counter() - started
    return result


def _analyze() -> None:
    """Refresh the planner's statistics: the tables went from empty to large in one go."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA optimize" if connection.vendor == "sqlite" else "ANALYZE")


@dataclass
class _Ids:
    companies: list[int]
    projects: list[int]
    departments: dict[tuple[int, str], int]


def _staff_objects(rows: list[StaffRow], ids: _Ids, password: str, project_id=None):
    from guanjia.org.models import Staff

    return [
        Staff(
            username=row.username,
            password=password,
            display_name=row.display_name,
            phone=row.phone,
            role=row.role,
            scope_level=row.scope_level,
            company_id=ids.companies[row.company] if row.company is not None else None,
            project_id=project_id,
            department_id=ids.departments.get((row.company, row.department)) if row.department else None,
            is_staff=row.role == "admin",
            is_superuser=row.role == "admin",
        )
        for row in rows
    ]


def _load_organisation(org: OrgPlan, password: str, counts: dict) -> _Ids:
    from guanjia.org.models import Company, Department, Project, Staff

    group = Company.objects.create(name=org.companies[0][0], short_name=org.companies[0][1], kind="group")
    cities = Company.objects.bulk_create(
        [Company(name=n, short_name=s, city=c, kind="city", parent=group) for n, s, c, _, _ in org.companies[1:]]
    )
    company_ids = [group.pk] + [c.pk for c in cities]
    departments = Department.objects.bulk_create(
        [Department(company_id=cid, kind=kind, name=name) for cid in company_ids[1:] for kind, name in DEPARTMENTS]
    )
    department_ids = {}
    for d in departments:
        department_ids[(company_ids.index(d.company_id), d.kind)] = d.pk
    projects = Project.objects.bulk_create(
        [
            Project(
                company_id=company_ids[p.company],
                name=p.name,
                code=p.code,
                address=p.address,
                property_company=p.property_company,
                delivered_on=p.delivered_on,
            )
            for p in org.projects
        ],
        batch_size=BATCH,
    )
    ids = _Ids(company_ids, [p.pk for p in projects], department_ids)
    Staff.objects.bulk_create(_staff_objects(org.staff, ids, password), batch_size=BATCH)
    counts["companies"] += len(company_ids)
    counts["projects"] += len(projects)
    counts["staff"] += len(org.staff)
    return ids


def _load_project(plan: ProjectPlan, ids: _Ids, tag_ids: dict, password: str, pinyin, counts: dict) -> None:
    from guanjia.estate.identity import protect_id_number
    from guanjia.estate.models import Building, ContactLog, Entrance, Occupancy, Party, Unit
    from guanjia.org.models import Area, Staff

    project_id = ids.projects[plan.spec.index]
    areas = Area.objects.bulk_create([Area(project_id=project_id, name=name) for name in plan.areas])
    buildings = Building.objects.bulk_create(
        [
            Building(project_id=project_id, name=name, number=number, floors=floors, area=areas[area])
            for name, number, floors, area, _ in plan.buildings
        ]
    )
    entrances = Entrance.objects.bulk_create(
        [
            Entrance(building=buildings[b], name=f"{e}单元", number=e)
            for b, (*_, n_entrances) in enumerate(plan.buildings)
            for e in range(1, n_entrances + 1)
        ]
    )
    entrance_ids = {(e.building_id, e.number): e.pk for e in entrances}
    staff = Staff.objects.bulk_create(_staff_objects(plan.staff, ids, password, project_id))
    staff_ids = {s.username: s.pk for s in staff}
    Area.butlers.through.objects.bulk_create(
        [
            Area.butlers.through(area_id=areas[a].pk, staff_id=staff_ids[row.username])
            for row in plan.staff
            for a in row.areas
        ]
    )
    now = datetime.now(tz=_TZ)
    building_ids = [b.pk for b in buildings]
    units = Unit.objects.bulk_create(
        (
            Unit(
                project_id=project_id,
                building_id=building_ids[b],
                entrance_id=entrance_ids[(building_ids[b], e)] if e else None,
                floor=floor,
                number=number,
                kind=kind,
                floor_area=area,
                status=status,
                handed_over_on=handed,
                created_at=now,
            )
            for b, e, floor, number, kind, area, status, handed in plan.units
        ),
        batch_size=BATCH,
    )
    unit_ids = [u.pk for u in units]
    del units

    def party(kind, name, gender, phone, phone2, id_number, tags):
        pinyin_name, initials = pinyin[name]
        encrypted, digest, masked = protect_id_number(id_number)
        return Party(
            project_id=project_id,
            kind=kind,
            name=name,
            name_pinyin=pinyin_name,
            name_initials=initials,
            gender=gender,
            phone=phone,
            phone_tail=phone[-4:],
            phone2=phone2,
            id_number_encrypted=encrypted,
            id_number_digest=digest,
            id_number_masked=masked,
            created_at=now,
        )

    parties = Party.objects.bulk_create((party(*row) for row in plan.parties), batch_size=BATCH)
    party_ids = [p.pk for p in parties]
    del parties
    Party.tags.through.objects.bulk_create(
        (
            Party.tags.through(party_id=party_ids[i], tag_id=tag_ids[tag])
            for i, row in enumerate(plan.parties)
            for tag in row[6]
        ),
        batch_size=BATCH,
    )
    Occupancy.objects.bulk_create(
        (
            Occupancy(party_id=party_ids[p], unit_id=unit_ids[u], role=role, start=start, end=end, created_at=now)
            for p, u, role, start, end in plan.occupancies
        ),
        batch_size=BATCH,
    )
    ContactLog.objects.bulk_create(
        (
            ContactLog(
                party_id=party_ids[p],
                unit_id=unit_ids[u] if u is not None else None,
                staff_id=staff_ids[author],
                channel=channel,
                time=when,
                summary=summary,
            )
            for p, u, author, channel, when, summary in plan.contacts
        ),
        batch_size=BATCH,
    )
    counts["areas"] += len(plan.areas)
    counts["buildings"] += len(plan.buildings)
    counts["units"] += len(plan.units)
    counts["parties"] += len(plan.parties)
    counts["occupancies"] += len(plan.occupancies)
    counts["contacts"] += len(plan.contacts)
    counts["staff"] += len(plan.staff)


# --- logins ----------------------------------------------------------------------------------

# One representative account per role, in the order people meet them.
_LOGIN_ORDER = ("admin", "manager", "team_lead", "specialist", "front_desk", "butler", "handler", "inspector")


def login_lines() -> list[str]:
    """One line per role: "role  username / password — scope", for the demo accounts present.

    Empty when the database holds staff but not the demo accounts (a real installation);
    a hint to load the demo when it holds no staff at all.
    """
    from django.contrib.auth.hashers import check_password
    from django.utils.translation import gettext as _

    from guanjia.org.choices import Role
    from guanjia.org.models import Staff

    admin = Staff.objects.filter(username="admin").first()
    if admin is None or not check_password(DEMO_PASSWORD, admin.password):
        if not Staff.objects.exists():
            return [_("No demo data yet: run “guanjia demo” to load it.")]
        return []
    lines = []
    for role in _LOGIN_ORDER:
        staff = (
            Staff.objects.filter(role=role, password=admin.password)
            .select_related("company", "project", "department")
            .order_by("id")
            .first()
        )
        if staff is None:
            continue
        lines.append(f"{Role(role).label}  {staff.username} / {DEMO_PASSWORD} — {_scope_text(staff)}")
    return lines


def _scope_text(staff) -> str:
    if staff.scope_level == "group":
        return GROUP_NAME
    if staff.scope_level == "company":
        company = staff.company.name if staff.company else ""
        return f"{company} {staff.department.name}" if staff.department else company
    if staff.scope_level == "area":
        return "、".join(str(area) for area in staff.areas.select_related("project"))
    return staff.project.name if staff.project else ""
