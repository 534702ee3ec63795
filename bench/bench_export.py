"""Export scenario on the 1,000,000-request database of bench_cases.py: every request to one xlsx file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_cases .venv/bin/python bench/bench_export.py
    .venv/bin/python bench/bench_export.py --limit 100000     # a smaller run (the first N by the list order)

`export:cases:xlsx` GETs /reports/cases.xlsx?view=all as the first group-scope user (the
workbench's "All" queue with no filter: every request), through Django's test client, and reads
the streamed body to the end without keeping it. The database is only read.

Prints one JSON line: rows, bytes, seconds to the first byte and to the end, rows/s, the process's
resident memory before the export and its peak (`resource.getrusage`, Linux: KiB), `db`, `cases`,
`machine`; progress goes to stderr.
"""

import argparse
import json
import os
import platform
import resource
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


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var-dir", default="/tmp/guanjia-bench-cases")  # noqa: S108 - scratch data
    parser.add_argument("--limit", type=int, default=0, help="export only the first N requests of the list")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        os.environ["GUANJIA_VAR_DIR"] = args.var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from guanjia.org.models import Staff

    # Query logging would keep every chunk's SQL; production runs without DEBUG.
    settings.DEBUG = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM cases_case")
        (cases,) = cursor.fetchone()
    user = Staff.objects.filter(is_active=True, scope_level="group").order_by("id").first()
    client = Client()
    client.force_login(user)
    if args.limit:
        # Cap the list by patching the filter set's queryset: the export path stays the same.
        from guanjia.cases import filters

        original = filters.CaseFilterSet.qs

        def limited(self):
            return original.fget(self)[: args.limit]

        filters.CaseFilterSet.qs = property(limited)

    before = current_rss_mb()
    say(f"export of {args.limit or cases} requests as {user.username} …")
    started = time.perf_counter()
    response = client.get("/reports/cases.xlsx", {"view": "all"})
    assert response.status_code == 200, response.status_code
    first_byte = None
    size = 0
    for piece in response.streaming_content:
        if first_byte is None:
            first_byte = time.perf_counter() - started
        size += len(piece)
    elapsed = time.perf_counter() - started
    rows = args.limit or cases
    record = {
        "scenario": "export:cases:xlsx",
        "rows": rows,
        "bytes": size,
        "first_byte_s": round(first_byte or 0, 1),
        "seconds": round(elapsed, 1),
        "rows_per_s": round(rows / elapsed),
        "rss_before_mb": before,
        "peak_rss_mb": peak_rss_mb(),
        "target_peak_rss_mb": 300,
        "db": connection.vendor,
        "cases": cases,
        "machine": machine(),
    }
    print(json.dumps(record, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
