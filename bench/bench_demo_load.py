"""Load the demo data at a given scale into a fresh database and print one JSON line.

    .venv/bin/python bench/bench_demo_load.py --scale 100
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_demo .venv/bin/python bench/bench_demo_load.py --scale 100

Without DATABASE_URL the database is a new SQLite file in a temporary directory. With it,
that database is migrated and emptied first (everything in it is lost).
Output: {"scale", "db", "units", "parties", "occupancies", "seconds", "units_per_s", "peak_rss_mb"}.
"""

import argparse
import json
import os
import resource
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite directory")
    args = parser.parse_args()

    tmp = None
    if not os.environ.get("DATABASE_URL"):
        tmp = tempfile.mkdtemp(prefix="guanjia-bench-demo-")
        os.environ["GUANJIA_VAR_DIR"] = tmp
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from guanjia import demodata

    call_command("migrate", verbosity=0)
    if tmp is None:
        call_command("flush", interactive=False, verbosity=0)
    result = demodata.load(args.scale, args.seed, progress=lambda line: print(line, file=sys.stderr))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "scale": args.scale,
                "db": connection.vendor,
                "units": result.counts["units"],
                "parties": result.counts["parties"],
                "occupancies": result.counts["occupancies"],
                "seconds": round(result.seconds, 1),
                "units_per_s": round(result.counts["units"] / result.seconds),
                "peak_rss_mb": round(peak),
            }
        )
    )
    if tmp is not None and not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
