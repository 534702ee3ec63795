"""The cost of the personal-data access log: one INSERT per party page, and the page with and without it.

    .venv/bin/python bench/bench_access_log.py                        # scratch SQLite in a temp dir
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_pda .venv/bin/python bench/bench_access_log.py

On SQLite the scratch database is created and migrated for the run (GUANJIA_VAR_DIR is set to a
temporary directory). On PostgreSQL the database in DATABASE_URL must exist and be empty or already
migrated; the run migrates it, adds a few rows and leaves them.

`insert`: N calls of `privacy.services.record_access` in autocommit (each its own transaction, as in
a request), after `--prefill` rows already in the table, so the indexes are not empty.
`page`: N GETs of one party page (/ledger/parties/<id>/) through Django's test client as a
specialist, logging as in production; `page_unlogged`: the same with `record_party_view` replaced
by a no-op. Their difference is what the log costs a page.

Prints one JSON line: {"db", "prefill", "n", "insert": {p50_ms, p95_ms, p99_ms, per_s},
"page": {...}, "page_unlogged": {...}, "machine"}; progress goes to stderr.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)

    return {
        "p50_ms": pick(0.50),
        "p95_ms": pick(0.95),
        "p99_ms": pick(0.99),
        "per_s": round(len(samples) / sum(samples), 1),
        "mean_ms": round(statistics.mean(samples) * 1000, 3),
    }


def timed(fn, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--prefill", type=int, default=200_000)
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL"):
        os.environ["GUANJIA_VAR_DIR"] = tempfile.mkdtemp(prefix="bench_pda_")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from guanjia.estate import views as estate_views
    from guanjia.org.choices import Role, ScopeLevel
    from guanjia.org.models import Staff
    from guanjia.privacy.choices import AccessAction
    from guanjia.privacy.models import PersonalDataAccess
    from guanjia.privacy.services import record_access
    from guanjia.testing import PASSWORD, build_world

    say(f"migrating {connection.vendor}")
    call_command("migrate", verbosity=0)
    setup_test_environment()
    world = build_world() if not Staff.objects.filter(username="admin").exists() else None
    if world is None:
        raise SystemExit("the database already holds the bench's world; use an empty database")
    party = world.owner_a
    user = Staff.objects.create_user(
        "bench_pda", password=PASSWORD, role=Role.SPECIALIST, scope_level=ScopeLevel.PROJECT, project=world.project
    )

    say(f"prefilling {args.prefill} rows")
    now = timezone.now()
    for _ in range(args.prefill // 10_000):
        PersonalDataAccess.objects.bulk_create(
            PersonalDataAccess(
                time=now,
                user=user,
                username=user.username,
                action=AccessAction.VIEW_FULL_PHONE,
                party=party,
                project_id=world.project.pk,
                ip="10.0.0.1",
            )
            for _ in range(10_000)
        )

    say("insert")
    insert = timed(
        lambda: record_access(user, AccessAction.VIEW_FULL_PHONE, party=party, project_id=world.project.pk), args.n
    )

    client = Client(REMOTE_ADDR="10.0.0.2")
    client.login(username=user.username, password=PASSWORD)
    url = f"/ledger/parties/{party.pk}/"
    assert client.get(url).status_code == 200
    say("page")
    page = timed(lambda: client.get(url), args.n // 4)
    real = estate_views.record_party_view
    estate_views.record_party_view = lambda request, party: None
    try:
        say("page without the log")
        client.get(url)
        unlogged = timed(lambda: client.get(url), args.n // 4)
    finally:
        estate_views.record_party_view = real

    print(
        json.dumps(
            {
                "db": connection.vendor,
                "prefill": args.prefill,
                "n": args.n,
                "insert": summary(insert),
                "page": summary(page),
                "page_unlogged": summary(unlogged),
                "machine": {"nproc": os.cpu_count(), "load": round(os.getloadavg()[0], 1)},
            }
        )
    )


if __name__ == "__main__":
    main()
