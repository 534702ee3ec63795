"""Readable case numbers: TS-20251123-0001, one sequence per (local) day for the whole system.

One sequence rather than one per company keeps the number short enough to read over the phone
and unique without a company prefix. The day's counter row is created if missing (a conflicting
insert is ignored) and then locked with SELECT … FOR UPDATE, so concurrent intakes queue on it
and each takes the next number in the caller's transaction; `Case.number` is unique as a last guard.
A number taken by a transaction that rolls back is not reused: gaps are harmless, duplicates are not.
"""

from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import CaseNumberCounter

PREFIX = "TS"


def format_case_number(day: date, n: int) -> str:
    return f"{PREFIX}-{day:%Y%m%d}-{n:04d}"


def next_case_number(day: date | None = None) -> str:
    """Take the next number of `day` (default: today in Asia/Shanghai). Must run inside a transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_case_number must run inside transaction.atomic")
    day = day or timezone.localdate()
    CaseNumberCounter.objects.bulk_create([CaseNumberCounter(day=day, last=0)], ignore_conflicts=True)
    counter = CaseNumberCounter.objects.select_for_update().get(day=day)
    CaseNumberCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    return format_case_number(day, counter.last + 1)
