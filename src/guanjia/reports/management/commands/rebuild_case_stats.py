"""`guanjia rebuild_case_stats [--changed]`: count the daily figures the dashboards read, all days afresh.

Run it after loading requests in bulk or changing them in the database by hand (the worker's
five-minute refresh finds only changes made through the services; it also recounts everything
nightly). `--changed` recounts only the days touched since the last run, as the worker does.
Prints one JSON line: `full`, `days`, `rows`, `seconds`, `counted_at`.
"""

import json

from django.core.management.base import BaseCommand

from guanjia.reports.rollup import refresh_case_stats


class Command(BaseCommand):
    help = "Count the daily request figures of the dashboards again (every day, or --changed days only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--changed", action="store_true", help="only the days touched since the last run, as the worker does"
        )

    def handle(self, *args, **options):
        result = refresh_case_stats(full=not options["changed"])
        self.stdout.write(
            json.dumps(
                {
                    "full": result.full,
                    "days": result.days,
                    "rows": result.rows,
                    "seconds": result.seconds,
                    "counted_at": result.counted_at.isoformat(),
                }
            )
        )
