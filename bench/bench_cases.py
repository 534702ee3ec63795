"""Service-request scenarios at 1,000,000 requests: intake over HTTP, workbench lists, search, SLA sweep.

    .venv/bin/python bench/bench_cases.py load --cases 1000000     # fresh database, demo + requests
    .venv/bin/python bench/bench_cases.py lists                    # saved views and filters, 200 times each
    .venv/bin/python bench/bench_cases.py search                   # q=漏水
    .venv/bin/python bench/bench_cases.py sweep                    # sweep_sla, then again
    .venv/bin/python bench/bench_cases.py intake                   # gunicorn + wrk, POST /api/v1/cases
    .venv/bin/python bench/bench_cases.py all --cases 1000000      # everything, in that order

Without DATABASE_URL the database is SQLite in --var-dir (default /tmp/guanjia-bench-cases; `load`
starts it afresh). With DATABASE_URL, `load` migrates that database, which must be new (empty).
The load's reference time is kept in --var-dir/bench-cases.json for the sweep.
Each measurement prints one JSON line on stdout; progress goes to stderr.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(), "load": os.getloadavg()[0]}


def percentiles(samples_ms: list[float]) -> dict:
    if not samples_ms:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    ordered = sorted(samples_ms)

    def at(p):
        return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))], 2)

    return {"p50_ms": at(50), "p95_ms": at(95), "p99_ms": at(99), "mean_ms": round(statistics.fmean(ordered), 2)}


def emit(record: dict) -> None:
    print(json.dumps(record, ensure_ascii=False), flush=True)


def setup_django(var_dir: Path) -> None:
    if not os.environ.get("DATABASE_URL"):
        os.environ["GUANJIA_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    import django

    django.setup()


def db_info() -> dict:
    from django.db import connection

    from guanjia.cases.models import Case

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM cases_case")
        total = cursor.fetchone()[0]
    return {"db": connection.vendor, "cases": total, "open_cases": Case.objects.open().count()}


def state_path(var_dir: Path) -> Path:
    return var_dir / "bench-cases.json"


# --- load -----------------------------------------------------------------------------------------


def cmd_load(args) -> None:
    var_dir = Path(args.var_dir)
    if not os.environ.get("DATABASE_URL"):
        shutil.rmtree(var_dir, ignore_errors=True)
    var_dir.mkdir(parents=True, exist_ok=True)
    setup_django(var_dir)
    from django.core.management import call_command
    from django.db import connection

    from guanjia.cases import bulk

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    from guanjia.org.models import Project

    if Project.objects.exists():
        raise SystemExit("The database already holds data: create a fresh one for the benchmark.")
    migrate_s = time.perf_counter() - started
    bulk.ensure_demo(progress=say)
    demo_s = time.perf_counter() - started - migrate_s
    result = bulk.load_cases(args.cases, open_share=args.open_share, progress=say)
    state_path(var_dir).write_text(json.dumps({"now": result.now.isoformat(), "first_id": result.first_id}))
    emit(
        {
            "scenario": "load",
            "db": connection.vendor,
            "cases": result.cases,
            "open_cases": result.open_cases,
            "leak_cases": result.leak_cases,
            "leak_share": round(result.leak_cases / max(1, result.cases), 4),
            "follow_ups": result.follow_ups,
            "unit_links": result.unit_links,
            "migrate_s": round(migrate_s, 1),
            "demo_s": round(demo_s, 1),
            "seconds": result.seconds,
            "cases_per_s": round(result.cases / result.seconds["total"]),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "machine": machine(),
        }
    )


# --- lists and search -----------------------------------------------------------------------------


def _users():
    from guanjia.org.models import Staff

    specialist = Staff.objects.filter(role="specialist", scope_level="project", is_active=True).order_by("id").first()
    manager = Staff.objects.filter(role="manager", scope_level="company", is_active=True).order_by("id").first()
    return {"specialist": specialist, "manager": manager}


def _time_get(client, url: str, reps: int, cap_s: float, **headers) -> tuple[list[float], int, int]:
    samples, bad = [], 0
    response = client.get(url, **headers)  # warm the caches and the connection once
    started = time.perf_counter()
    for _ in range(reps):
        t0 = time.perf_counter()
        response = client.get(url, **headers)
        samples.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            bad += 1
        if time.perf_counter() - started > cap_s:
            break
    return samples, bad, response.status_code


def _measure(label: str, url: str, user_label: str, client, args, info: dict, **headers) -> None:
    samples, bad, last_status = _time_get(client, url, args.reps, args.cap, **headers)
    wall = sum(samples) / 1000
    emit(
        {
            "scenario": label,
            "user": user_label,
            "url": url,
            "n": len(samples),
            **percentiles(samples),
            "throughput_per_s": round(len(samples) / wall, 1) if wall else None,
            "non_200": bad,
            "status": last_status,
            **info,
            "machine": machine(),
        }
    )


def _clients():
    from django.test import Client

    from guanjia.core.models import ApiToken

    web, api = {}, {}
    for label, user in _users().items():
        if user is None:
            continue
        client = Client()
        client.force_login(user)
        web[label] = client
        _token, raw = ApiToken.issue(user, f"bench {label}")
        api[label] = (Client(), {"HTTP_AUTHORIZATION": f"Bearer {raw}"})
    return web, api


def _list_urls(user, project_id: int, category_id: int) -> dict:
    return {
        "my_queue": ("/cases/?view=mine", f"/api/v1/cases?owner={user.pk}"),
        "overdue": ("/cases/?view=overdue", "/api/v1/cases?overdue=true"),
        "due_today": ("/cases/?view=due_today", "/api/v1/cases?due_today=true"),
        "unassigned": ("/cases/?view=unassigned", "/api/v1/cases?unassigned=true"),
        "awaiting_follow_up": ("/cases/?view=follow_up", "/api/v1/cases?awaiting_follow_up=true"),
        "major": ("/cases/?view=major", "/api/v1/cases?major=true"),
        "project_status": (
            f"/cases/?view=all&project={project_id}&status=in_progress",
            f"/api/v1/cases?project={project_id}&status=in_progress",
        ),
        "category": (f"/cases/?view=all&category={category_id}", f"/api/v1/cases?category={category_id}"),
    }


def _run_lists(args, *, search_only: bool) -> None:
    setup_django(Path(args.var_dir))
    from guanjia.cases.models import Category
    from guanjia.org.queries import projects_for

    info = db_info()
    web, api = _clients()
    users = _users()
    leak_root = Category.objects.get(name="渗漏", parent__name="工程质量").pk
    for label, user in users.items():
        if user is None:
            continue
        project_id = projects_for(user).order_by("id").values_list("id", flat=True).first()
        if search_only:
            urls = {"search_漏水": ("/cases/?view=all&q=漏水", "/api/v1/cases?q=漏水")}
        else:
            urls = _list_urls(user, project_id, leak_root)
        for name, (web_url, api_url) in urls.items():
            if args.via in ("web", "both"):
                _measure(f"list:{name}:web", web_url, label, web[label], args, info)
            if args.via in ("api", "both"):
                client, headers = api[label]
                _measure(f"list:{name}:api", api_url, label, client, args, info, **headers)


def cmd_lists(args) -> None:
    _run_lists(args, search_only=False)


def cmd_search(args) -> None:
    _run_lists(args, search_only=True)


# --- SLA sweep ------------------------------------------------------------------------------------


def cmd_sweep(args) -> None:
    var_dir = Path(args.var_dir)
    setup_django(var_dir)
    from datetime import timedelta

    from guanjia.notifications.sweep import sweep_sla

    info = db_info()
    now = datetime.fromisoformat(json.loads(state_path(var_dir).read_text())["now"])
    runs = [
        # The previous run, ten minutes earlier: records the backlog that was already overdue.
        ("sweep:catch_up", now - timedelta(minutes=10)),
        # The run being measured: only what fell due in those ten minutes is new.
        ("sweep:newly_overdue", now),
        ("sweep:again", now),
    ]
    for label, moment in runs:
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        result = sweep_sla(moment)
        seconds = time.perf_counter() - t0
        emit(
            {
                "scenario": label,
                "now": moment.isoformat(),
                "seconds": round(seconds, 2),
                "cpu_s": round(time.process_time() - cpu0, 2),
                "breaches_recorded": result.recorded,
                "notifications": result.notifications,
                "by_kind_level": {f"{k}:{lvl}": v for (k, lvl), v in sorted(result.breaches.items())},
                **info,
                "machine": machine(),
            }
        )


# --- intake over HTTP -----------------------------------------------------------------------------


def _wait_for(url: str, timeout: float = 60) -> None:
    import urllib.error
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - a fixed http:// URL
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the server is up
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"server did not start: {url}")


def _wrk(env: dict, duration: str, connections: int, threads: int) -> dict:
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            duration,
            "--latency",
            # Long enough that no request is abandoned by wrk while the server still records it.
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / "wrk_intake.lua"),
            "http://127.0.0.1:8055",
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    say(out)
    summary = next(line for line in out.splitlines() if line.startswith("JSON "))
    return json.loads(summary[5:])


def cmd_intake(args) -> None:
    var_dir = Path(args.var_dir)
    setup_django(var_dir)
    from django.conf import settings
    from django.db import close_old_connections

    from guanjia.cases.models import Case, Category
    from guanjia.core.models import ApiToken
    from guanjia.estate.models import Occupancy
    from guanjia.org.models import Staff

    info = db_info()
    user = Staff.objects.filter(role="specialist", scope_level="project", is_active=True).order_by("id").first()
    _token, raw = ApiToken.issue(user, "bench intake")
    households = list(
        Occupancy.objects.filter(unit__project_id=user.project_id, end__isnull=True)
        .order_by("id")
        .values_list("unit_id", "party_id")[: args.households]
    )
    category = Category.objects.get(name="卫生间渗漏")
    close_old_connections()
    env = {
        "GJ_TOKEN": raw,
        "GJ_PROJECT": str(user.project_id),
        "GJ_PAIRS": ",".join(f"{unit}:{party}" for unit, party in households),
        "GJ_CATEGORY": str(category.pk),
    }
    server_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "guanjia.settings", "PYTHONPATH": str(ROOT / "src")}
    if not os.environ.get("DATABASE_URL"):
        server_env["GUANJIA_VAR_DIR"] = str(var_dir)
    # Notifications of new requests are queued for the worker; the queue lives in the var dir.
    server_env.setdefault("SECRET_KEY", "bench-" + uuid.uuid4().hex)
    server_env["GUANJIA_SECURE"] = "0"
    log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "guanjia.wsgi:application",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            # wrk keeps its connections open; capping each worker's share spreads them over every worker.
            "--worker-connections",
            str(max(1, -(-args.connections // args.workers))),
            "-b",
            "127.0.0.1:8055",
        ],
        cwd=ROOT,
        env=server_env,
        stdout=log,
        stderr=log,
    )
    try:
        _wait_for("http://127.0.0.1:8055/api/v1/cases")
        # Warm up: each worker loads jieba and fills its caches on its first requests.
        warm_id = "warm-" + uuid.uuid4().hex[:8]
        warm = _wrk({**env, "GJ_RUN": warm_id}, "10s", args.connections, 2)
        time.sleep(2)
        run_id = "run-" + uuid.uuid4().hex[:8]
        before = Case.objects.count()
        t0 = time.perf_counter()
        summary = _wrk({**env, "GJ_RUN": run_id}, args.duration, args.connections, 2)
        wall = time.perf_counter() - t0
        # Requests still in flight when wrk stops are completed by the server but not counted by wrk.
        time.sleep(3)
        mine = Case.objects.filter(intake_key__startswith=f"bench-{run_id}-")
        created = mine.count()
        keys = mine.values("intake_key").distinct().count()
        numbers = mine.values("number").distinct().count()
        after = Case.objects.count()
    finally:
        server.terminate()
        server.wait(timeout=30)
    emit(
        {
            "scenario": "intake:wrk",
            "connections": args.connections,
            "workers": args.workers,
            "threads": args.threads,
            "duration_s": round(wall, 1),
            "n": summary["requests"],
            "requests_per_s": summary["requests_per_s"],
            "cases_per_s": round(summary["status_201"] / summary["duration_s"], 1),
            "p50_ms": summary["p50_ms"],
            "p95_ms": summary["p95_ms"],
            "p99_ms": summary["p99_ms"],
            "max_ms": summary["max_ms"],
            "status_201": summary["status_201"],
            "status_200": summary["status_200"],
            "non_2xx": summary["non_2xx"],
            "socket_errors": summary["socket_errors"],
            "created_in_db": created,
            "distinct_numbers": numbers,
            "cases_added": after - before,
            "distinct_keys": keys,
            # Every 201 is in the database; the few more are requests wrk abandoned when it stopped;
            # no key and no number was recorded twice.
            "in_flight_at_end": created - summary["status_201"],
            "nothing_lost_or_doubled": summary["status_201"] <= created <= summary["status_201"] + args.connections
            and created == keys == numbers,
            "warm_up_requests": warm["requests"],
            "server_log": log.name,
            **info,
            "debug": settings.DEBUG,
            "machine": machine(),
        }
    )


def cmd_all(args) -> None:
    for step in (cmd_load, cmd_lists, cmd_search, cmd_sweep, cmd_intake):
        # Each step sets Django up itself; run them as separate processes so each starts clean.
        argv = [sys.executable, __file__, step.__name__[4:], "--var-dir", args.var_dir]
        if step is cmd_load:
            argv += ["--cases", str(args.cases), "--open-share", str(args.open_share)]
        if step in (cmd_lists, cmd_search):
            argv += ["--reps", str(args.reps), "--cap", str(args.cap), "--via", args.via]
        subprocess.run(argv, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var-dir", default="/tmp/guanjia-bench-cases")  # noqa: S108 - scratch data
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("load", "lists", "search", "sweep", "intake", "all"):
        p = sub.add_parser(name)
        p.add_argument("--var-dir", default=argparse.SUPPRESS)
        if name in ("load", "all"):
            p.add_argument("--cases", type=int, default=1_000_000)
            p.add_argument("--open-share", type=float, default=0.9)
        if name in ("lists", "search", "all"):
            p.add_argument("--reps", type=int, default=200)
            p.add_argument("--cap", type=float, default=30.0, help="stop one measurement after this many seconds")
            p.add_argument("--via", choices=["web", "api", "both"], default="both")
        if name == "intake":
            p.add_argument("--duration", default="30s")
            p.add_argument("--connections", type=int, default=8)
            # docs/deploy.md: 4 on PostgreSQL (two per core); 3 on SQLite, whose one write lock makes a
            # fourth writer lengthen the slowest requests.
            p.add_argument("--workers", type=int, default=4 if os.environ.get("DATABASE_URL") else 3)
            # One thread per worker, as docs/deploy.md advises for intake: threads of one process share
            # the interpreter lock and spend CPU on switching (4 × 2 threads measured 8 % fewer requests).
            p.add_argument("--threads", type=int, default=1)
            p.add_argument("--households", type=int, default=500, help="households the calls come from, in turn")
    args = parser.parse_args()
    {
        "load": cmd_load,
        "lists": cmd_lists,
        "search": cmd_search,
        "sweep": cmd_sweep,
        "intake": cmd_intake,
        "all": cmd_all,
    }[args.command](args)


if __name__ == "__main__":
    main()
