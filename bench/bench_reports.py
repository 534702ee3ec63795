"""Report scenarios on the 1,000,000-request database of bench_cases.py: dashboards and monthly figures.

    .venv/bin/python bench/bench_cases.py load                  # once: the database (see bench/README.md)
    .venv/bin/guanjia migrate reports                           # the report indexes and the roll-up table
    psql … -c 'VACUUM ANALYZE'                                  # as autovacuum would have done by now
    .venv/bin/guanjia rebuild_case_stats                        # the daily roll-up, all days (prints its time)
    .venv/bin/python bench/bench_reports.py                     # every scenario below
    .venv/bin/python bench/bench_reports.py --only dashboard    # scenarios whose name contains this

Without DATABASE_URL the database is SQLite in --var-dir (the one `bench_cases.py load` made there).
The requests are only read; first the daily roll-up is refreshed as the worker does every five
minutes (`rollup:refresh`: the days touched since its last run; all days if it was never counted).
Scenarios:

* `dashboard:<level>:<grain>:page:cold|warm`: GET /reports/ (the HTML page, as the console serves
  it) for the first group-scope, company-scope and project-scope user, month and week; cold with
  the dashboard cache off (every figure counted afresh), warm within the cache time;
* `dashboard:<level>:<grain>:parts`: the same dashboard built once more with each part timed
  (queue now, the period by group, trends, category mix, hot spots), to show where time goes;
  `…:parts:requests` the same with every figure counted from the requests (no roll-up);
* `metrics:company:month`: `compute` for a city company's last full month by project (what the
  monthly report needs), and `GET /api/v1/reports/metrics` with the same question.

Each measurement prints one JSON line on stdout: `n`, `p50_ms`, `p95_ms`, `max_ms`, `queries`,
`db`, `cases`, `machine`; progress goes to stderr.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
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


def emit(record: dict) -> None:
    print(json.dumps(record, ensure_ascii=False), flush=True)


def summary(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)

    def at(p):
        return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))], 1)

    return {
        "n": len(ordered),
        "p50_ms": at(50),
        "p95_ms": at(95),
        "max_ms": round(ordered[-1], 1),
        "mean_ms": round(statistics.fmean(ordered), 1),
    }


def setup_django(var_dir: Path) -> None:
    if not os.environ.get("DATABASE_URL"):
        os.environ["GUANJIA_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    import django

    django.setup()


def db_info() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), COUNT(closed_at) FROM cases_case")
        total, closed = cursor.fetchone()
    return {"db": connection.vendor, "cases": total, "closed_cases": closed}


def timed(fn, reps: int, cap_s: float) -> tuple[list[float], int, object]:
    """Run `fn` once to warm up, then `reps` times (or until `cap_s`); (samples ms, queries of one run, result)."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = fn()
    queries = len(captured.captured_queries)
    samples, started = [], time.perf_counter()
    for _ in range(reps):
        t0 = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - t0) * 1000)
        reset_queries()
        if time.perf_counter() - started > cap_s:
            break
    return samples, queries, result


def users() -> dict:
    from guanjia.org.models import Staff

    active = Staff.objects.filter(is_active=True).order_by("id")
    return {
        "group": active.filter(scope_level="group").first(),
        "company": active.filter(scope_level="company", role="manager").first(),
        "project": active.filter(scope_level="project", role="specialist").first(),
    }


def last_full_month():
    from django.utils import timezone

    from guanjia.reports.metrics import Period

    return Period.of("month", timezone.localdate()).shift("month", -1)


def time_parts(scope, grain: str, rollup: bool = True) -> dict[str, float]:
    """Milliseconds of each part of `build_dashboard`, run once each as it runs them."""
    from django.utils import timezone

    from guanjia.reports import dashboard as board
    from guanjia.reports.metrics import Period, analytic_queries, compute, hot_spots, snapshot
    from guanjia.reports.queries import CHILD_BREAKDOWN

    now = timezone.now()
    today = timezone.localdate(now)
    child = CHILD_BREAKDOWN[scope.level]
    period = Period.of(grain, today)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal started
        timings[name] = round((time.perf_counter() - started) * 1000, 1)
        started = time.perf_counter()

    with analytic_queries():
        snapshot(scope, child, now=now)
        lap("queue_now")
        compute(scope, period, child, now=now, top=10, rollup=rollup)
        lap("period_by_group")
        trend_parts = {"received", "closed", "follow_up", "satisfaction"}
        trend = Period.last(grain, board.TREND_LENGTH, today)
        compute(scope, trend, grain, now=now, top=0, parts=trend_parts, percentile=False, rollup=rollup)
        lap("trend")
        compute(scope, period, "category_root", now=now, top=0, parts={"received"}, rollup=rollup)
        lap("category_mix")
        places = (board.HOT_SPOT_PLACES[scope.level], "category")
        hot_spots(scope, period, grain, places, now=now, rollup=rollup)
        lap("hot_spots")
    return timings


def bench_dashboards(args, info: dict) -> None:
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client

    from guanjia.reports.queries import report_scope_for

    for level, user in users().items():
        if user is None or (args.only and args.only not in f"dashboard:{level}"):
            continue
        client = Client()
        client.force_login(user)
        for grain in ("month", "week"):
            url = f"/reports/?grain={grain}"

            def get(url=url, client=client):
                response = client.get(url)
                assert response.status_code == 200, response.status_code
                return response

            # Cold: every request counts afresh (the cache off); warm: within the cache time.
            for cache_state, seconds in (("cold", 0), ("warm", 300)):
                settings.GUANJIA_DASHBOARD_CACHE_SECONDS = seconds
                cache.clear()
                say(f"dashboard {level} {grain} {cache_state} …")
                samples, queries, _ = timed(get, args.reps, args.cap)
                emit(
                    {
                        "scenario": f"dashboard:{level}:{grain}:page:{cache_state}",
                        "user": user.username,
                        "url": url,
                        **summary(samples),
                        "queries": queries,
                        **info,
                        "machine": machine(),
                    }
                )
            # Where the time goes: each part once, in the order build_dashboard runs them.
            for suffix, rollup in (("", True), (":requests", False)):
                timings = time_parts(report_scope_for(user), grain, rollup)
                emit(
                    {
                        "scenario": f"dashboard:{level}:{grain}:parts{suffix}",
                        "user": user.username,
                        "parts_ms": timings,
                        "total_ms": round(sum(timings.values()), 1),
                        **info,
                        "machine": machine(),
                    }
                )


def bench_company_month(args, info: dict) -> None:
    from django.test import Client

    from guanjia.core.models import ApiToken
    from guanjia.reports.metrics import compute
    from guanjia.reports.queries import report_scope_for

    if args.only and args.only not in "metrics:company:month":
        return
    user = users()["company"]
    period = last_full_month()
    scope = report_scope_for(user)
    say(f"monthly figures of {scope.name}, {period.label()} …")
    samples, queries, report = timed(lambda: compute(scope, period, "project"), args.reps, args.cap)
    emit(
        {
            "scenario": "metrics:company:month",
            "user": user.username,
            "period": period.label(),
            "received": report.total.received,
            "closed": report.total.closed,
            **summary(samples),
            "queries": queries,
            **info,
            "machine": machine(),
        }
    )
    _token, raw = ApiToken.issue(user, "bench reports")
    client = Client()
    url = f"/api/v1/reports/metrics?start={period.start}&end={period.end}&breakdown=project"

    def get():
        response = client.get(url, headers={"Authorization": f"Bearer {raw}"})
        assert response.status_code == 200, response.content
        return response

    samples, queries, _ = timed(get, args.reps, args.cap)
    emit(
        {
            "scenario": "metrics:company:month:api",
            "user": user.username,
            "url": url,
            **summary(samples),
            "queries": queries,
            **info,
            "machine": machine(),
        }
    )


def refresh_rollup(info: dict) -> None:
    """What the worker does every five minutes, before the dashboards read the roll-up."""
    from guanjia.reports.rollup import refresh_case_stats

    say("refreshing the daily roll-up …")
    result = refresh_case_stats()
    emit(
        {
            "scenario": "rollup:refresh",
            "full": result.full,
            "days": result.days,
            "rows": result.rows,
            "seconds": result.seconds,
            **info,
            "machine": machine(),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var-dir", default="/tmp/guanjia-bench-cases")  # noqa: S108 - scratch data
    parser.add_argument("--reps", type=int, default=5, help="timed runs per measurement, after one warm-up")
    parser.add_argument("--cap", type=float, default=60.0, help="stop one measurement after this many seconds")
    parser.add_argument("--only", default="", help="run the scenarios whose name contains this text")
    args = parser.parse_args()
    setup_django(Path(args.var_dir))
    info = db_info()
    refresh_rollup(info)
    bench_company_month(args, info)
    bench_dashboards(args, info)


if __name__ == "__main__":
    main()
