"""Ledger import benchmark: a 10,000-row owner workbook (with its 10,000 rooms) into a fresh project.

    .venv/bin/python bench/bench_import.py                      # SQLite in a temporary directory
    psql -h 127.0.0.1 -U postgres -c 'drop database if exists bench_import' -c 'create database bench_import'
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_import .venv/bin/python bench/bench_import.py

Migrates the database, creates a company, a project with 20 buildings and a staff member,
writes the workbook to a temporary file, then times validation (`validate_ledger`) and the
commit (`do_import_ledger`) separately, then imports the same workbook again (everything
matches, nothing is written) as `reimport_s`. Prints one JSON object.
"""

import argparse
import atexit
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彩春菊兰凤洁梅琳素云莲真环雪荣爱"
    "妹霞香月莺媛瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉"
    "君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥"
)
REGIONS = ("110105", "110108", "310104", "310115", "440305", "510107", "330106", "320102")
BUILDINGS, ENTRANCES, FLOORS, ROOMS_PER_FLOOR = 20, 2, 25, 10  # 20 × 2 × 25 × 10 = 10,000 rooms


def setup_django() -> None:
    if not os.environ.get("DATABASE_URL"):
        var_dir = tempfile.mkdtemp(prefix="guanjia-bench-import-")
        atexit.register(shutil.rmtree, var_dir, ignore_errors=True)
        os.environ["GUANJIA_VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def make_project(tag: str):
    from guanjia.estate.models import Building
    from guanjia.org.choices import CompanyKind, Role, ScopeLevel
    from guanjia.org.models import Company, Project, Staff

    group = Company.objects.create(name=f"基准集团{tag}", kind=CompanyKind.GROUP)
    company = Company.objects.create(name=f"基准城市公司{tag}", parent=group, city="北京")
    project = Project.objects.create(company=company, name=f"基准花园{tag}", code=f"bench-{tag}")
    Building.objects.bulk_create(
        Building(project=project, name=f"{n}栋", number=n, floors=FLOORS) for n in range(1, BUILDINGS + 1)
    )
    user = Staff.objects.create_user(
        username=f"bench-{tag}", role=Role.MANAGER, scope_level=ScopeLevel.COMPANY, company=company
    )
    return project, user


def id_number(rng: random.Random, serial: int) -> str:
    from guanjia.estate.identity import id_check_digit

    born = date(1950, 1, 1) + timedelta(days=rng.randrange(20000))
    first17 = f"{rng.choice(REGIONS)}{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + id_check_digit(first17)


def write_workbook(path: Path, rows: int, rng: random.Random) -> None:
    from openpyxl import Workbook

    from guanjia.estate.importer import PARTY_COLUMNS, SHEET_PARTIES, SHEET_UNITS, UNIT_COLUMNS

    workbook = Workbook(write_only=True)
    units = workbook.create_sheet(SHEET_UNITS)
    parties = workbook.create_sheet(SHEET_PARTIES)
    units.append(list(UNIT_COLUMNS))
    parties.append(list(PARTY_COLUMNS))
    kinds, statuses = ("住宅",) * 8 + ("商铺", "车位"), ("已交付", "已入住", "已售", "空置")
    seen_ids: set[str] = set()
    count = 0
    for building in range(1, BUILDINGS + 1):
        for entrance in range(1, ENTRANCES + 1):
            for floor in range(1, FLOORS + 1):
                for room in range(1, ROOMS_PER_FLOOR + 1):
                    if count == rows:
                        break
                    number = f"{floor}{room:02d}"
                    units.append(
                        [f"{building}栋", f"{entrance}单元", floor, number, rng.choice(kinds),
                         round(rng.uniform(45, 180), 2), rng.choice(statuses), date(2023, 6, 30), ""]
                    )  # fmt: skip
                    while (ident := id_number(rng, count)) in seen_ids:
                        pass
                    seen_ids.add(ident)
                    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
                    parties.append(
                        [f"{building}栋", f"{entrance}单元", number, name, "业主", f"139{count:08d}",
                         "", ident, rng.choice(("男", "女")), "VIP" if count % 50 == 0 else "",
                         date(2023, 7, 1) + timedelta(days=rng.randrange(300))]
                    )  # fmt: skip
                    count += 1
    workbook.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="owner rows (and as many rooms); at most 10,000")
    parser.add_argument("--seed", type=int, default=20260101)
    args = parser.parse_args()
    rows = min(args.rows, BUILDINGS * ENTRANCES * FLOORS * ROOMS_PER_FLOOR)
    setup_django()
    from django.db import connection

    from guanjia.estate.importer import do_import_ledger, validate_ledger
    from guanjia.estate.models import Party

    if Party.objects.exists():
        # Earlier runs' ID numbers would collide with this run's (correctly reported as problems).
        raise SystemExit("bench_import needs an empty database: drop and create it again first")
    rng = random.Random(args.seed)
    project, user = make_project(f"{int(time.time())}{rng.randrange(1000):03d}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.xlsx"
        write_workbook(path, rows, rng)
        size = path.stat().st_size
        started, cpu_started = time.perf_counter(), time.process_time()
        with path.open("rb") as handle:
            plan = validate_ledger(user, project, handle)
        validated, cpu_validated = time.perf_counter(), time.process_time()
        if plan.problems:
            raise SystemExit(f"the generated workbook has problems: {plan.problems[:5]}")
        summary = do_import_ledger(plan)
        committed, cpu_committed = time.perf_counter(), time.process_time()
        # The same workbook again: everything is matched, nothing is written.
        with path.open("rb") as handle:
            again = do_import_ledger(validate_ledger(user, project, handle))
        reimported, cpu_reimported = time.perf_counter(), time.process_time()
        assert again["units_created"] == again["parties_created"] == again["occupancies_created"] == 0
    result = {
        "rows": rows,
        "unit_rows": rows,
        "workbook_kb": round(size / 1024),
        "validate_s": round(validated - started, 2),
        "commit_s": round(committed - validated, 2),
        "total_s": round(committed - started, 2),
        # CPU seconds of this process; the database server's own time is not included.
        "validate_cpu_s": round(cpu_validated - cpu_started, 2),
        "commit_cpu_s": round(cpu_committed - cpu_validated, 2),
        "reimport_s": round(reimported - committed, 2),
        "reimport_cpu_s": round(cpu_reimported - cpu_committed, 2),
        "db": connection.vendor,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "created": {k: v for k, v in summary.items() if k.endswith("created")},
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
