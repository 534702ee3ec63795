"""Readable case numbers: TS-20251123-0001, one sequence per (local) day for the whole system.

One sequence rather than one per company keeps the number short enough to read over the phone
and unique without a company prefix. A number is taken with one statement, an upsert of the
day's counter row that returns the new value (PostgreSQL, and SQLite ≥ 3.35). Intake takes it
in its own short transaction before recording, so concurrent intakes wait on the counter row
only for that statement and not for the whole recording; `Case.number` is unique as a last guard.
A number taken by an intake that then fails is not reused: gaps are harmless, duplicates are not.
"""

from datetime import date

from django.db import connections, router
from django.utils import timezone

from .models import CaseNumberCounter

PREFIX = "TS"


def format_case_number(day: date, n: int) -> str:
    return f"{PREFIX}-{day:%Y%m%d}-{n:04d}"


def next_case_number(day: date | None = None) -> str:
    """Take the next number of `day` (default: today in Asia/Shanghai).

    Outside a transaction the statement commits at once; inside one the counter row stays locked
    until that transaction ends.
    """
    day = day or timezone.localdate()
    table = CaseNumberCounter._meta.db_table
    connection = connections[router.db_for_write(CaseNumberCounter)]
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" ("day", "last") VALUES (%s, 1) '  # noqa: S608 - the table name is ours
            f'ON CONFLICT ("day") DO UPDATE SET "last" = "{table}"."last" + 1 RETURNING "last"',
            [day],
        )
        last = cursor.fetchone()[0]
    return format_case_number(day, last)
