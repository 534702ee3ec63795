"""Back up the installation's database, restore it into a scratch database and print one JSON line.

    GUANJIA_VAR_DIR=/tmp/bk .venv/bin/guanjia migrate && GUANJIA_VAR_DIR=/tmp/bk .venv/bin/guanjia demo
    GUANJIA_VAR_DIR=/tmp/bk .venv/bin/python bench/bench_backup.py
    GUANJIA_VAR_DIR=/tmp/bk .venv/bin/python bench/bench_backup.py --photos 200 --writer

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bk_demo .venv/bin/python bench/bench_backup.py

The installation's database is only read (and written to by --writer). The restore goes into a new
SQLite file in a temporary directory, or on PostgreSQL into a database `bench_restore_<pid>` that
is created for the run and dropped after it.

--photos N backs up N photo-sized files (300 KB of random bytes, which compress like JPEG) from a
temporary media folder instead of MEDIA_ROOT. --writer runs a second process that records requests
through the services for as long as the backup takes, as the web process would; the restore is
then verified against the manifest all the same, which shows the manifest and the dump describe
one instant.

Output: {"db", "cases", "rows", "database_bytes", "media_files", "media_bytes", "archive_bytes",
"backup_s", "check_s", "restore_s", "verified", "written_during_backup", "machine"}.
"""

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

WRITER = """
import time
import django
django.setup()
from guanjia.cases.services import do_record_case
from guanjia.org.models import Staff
actor = Staff.objects.get(username="specialist_lsjy")
print("ready", flush=True)
while True:
    do_record_case(actor, project=actor.project, case_type="repair", channel="hotline",
                   description="备份期间登记的报修：厨房水龙头漏水", caller_name="压测")
    print(time.time(), flush=True)
"""


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def machine() -> dict:
    return {"nproc": os.cpu_count(), "load": round(os.getloadavg()[0], 1)}


class Writer:
    """A second process recording requests until stopped; it prints the time of each one."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WRITER],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout.readline().strip() == "ready"
        for _ in range(5):  # writing for real before the backup starts
            if not self.proc.stdout.readline():
                raise RuntimeError("the writer stopped")

    def stop(self) -> list[float]:
        self.proc.terminate()
        rest = self.proc.stdout.read()
        self.proc.wait()
        return [float(line) for line in rest.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=0, help="back up this many 300 KB files as the media")
    parser.add_argument("--writer", action="store_true", help="record requests in another process meanwhile")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    import django

    django.setup()
    import psycopg
    from django.conf import settings
    from django.db import connection

    from guanjia.core import backup

    work = Path(tempfile.mkdtemp(prefix="guanjia-bench-backup-"))
    media_root = Path(settings.MEDIA_ROOT)
    if args.photos:
        media_root = work / "media"
        for i in range(args.photos):
            path = media_root / "cases" / "2026" / "01" / f"照片_{i:04d}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(os.urandom(300 * 1024))

    target = copy.deepcopy(connection.settings_dict)
    scratch = None
    if connection.vendor == "postgresql":
        scratch = f"bench_restore_{os.getpid()}"
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {scratch}")
        target["NAME"] = scratch
    else:
        target["NAME"] = str(work / "restored.sqlite3")
    connection.close()

    try:
        writer = Writer() if args.writer else None
        say("backing up …")
        archive = work / "backup.tar.gz"
        started, wall = time.monotonic(), time.time()
        manifest = backup.create_backup(archive, media_root=media_root)
        backup_s = time.monotonic() - started
        written = sum(1 for at in writer.stop() if wall <= at <= wall + backup_s) if writer else 0
        say("checking …")
        started = time.monotonic()
        backup.check_archive(archive)
        check_s = time.monotonic() - started
        say("restoring …")
        started = time.monotonic()
        result = backup.restore_backup(archive, db_settings=target, media_root=work / "restored-media")
        restore_s = time.monotonic() - started
    finally:
        if scratch:
            with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
        if not args.keep:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    print(
        json.dumps(
            {
                "db": connection.vendor,
                "cases": manifest["cases"]["count"],
                "rows": sum(manifest["counts"].values()),
                "database_bytes": manifest["database"]["bytes"],
                "media_files": manifest["media"]["files"],
                "media_bytes": manifest["media"]["bytes"],
                "archive_bytes": manifest["archive_bytes"],
                "backup_s": round(backup_s, 2),
                "check_s": round(check_s, 2),
                "restore_s": round(restore_s, 2),
                "verified": result.ok,
                "mismatches": result.mismatches,
                "written_during_backup": written,
                "machine": machine(),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
