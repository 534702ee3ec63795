"""A small, hand-counted October 2025 for the report tests.

Cases are built through the services with a fake clock, so every deadline, pause and handling
time is what the real system stores. October 2025 holds the National Day holiday (10-01 … 10-08);
the default calendar works Mon–Fri 8:30–12:00 and 13:00–17:00, Sat–Sun 9:00–17:00.
"""

from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from guanjia.cases import services as s
from guanjia.cases.choices import CaseType, Channel, FollowUpOutcome, Visibility
from guanjia.cases.models import Case, Category, FollowUp
from guanjia.reports.metrics import Period

SHANGHAI = ZoneInfo("Asia/Shanghai")
OCTOBER = Period(date(2025, 10, 1), date(2025, 11, 1))


def at(*args) -> datetime:
    """An aware Shanghai time: at(2025, 10, 13, 10, 0)."""
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _no_cached_dashboards():
    """Dashboards are cached per reader; a test's database is new, the process cache is not."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    """Set "now" for the services: clock.set(at(2025, 10, 13, 10, 0))."""

    class Clock:
        now = None

        def set(self, moment: datetime) -> datetime:
            self.now = moment
            monkeypatch.setattr("django.utils.timezone.now", lambda: self.now)
            return moment

    clock = Clock()
    # `FollowUp.created_at` has `default=timezone.now`, bound when the model was imported: point
    # the field's cached default at the clock too, so follow-ups are created "at the closing".
    monkeypatch.setattr(FollowUp._meta.get_field("created_at"), "_get_default", lambda: clock.now)
    return clock


def category(*path: str) -> Category:
    node = None
    for name in path:
        node = Category.objects.get(name=name, parent=node)
    return node


def record(actor, project, **extra) -> Case:
    data = {
        "project": project,
        "case_type": CaseType.COMPLAINT,
        "channel": Channel.HOTLINE,
        "description": "楼上装修噪音太大",
        "caller_name": "张伟",
        "route": False,
    }
    data.update(extra)
    return s.do_record_case(actor, **data)


def close(actor, case) -> Case:
    case.refresh_from_db()
    return s.do_close_case(actor, case, expected_version=case.version, note="已处理")


def follow_up(actor, case, outcome: str, note: str = "") -> None:
    case.refresh_from_db()
    pending = case.follow_ups.get(done_at__isnull=True)
    s.do_record_follow_up(actor, pending, expected_version=case.version, outcome=outcome, note=note)


@pytest.fixture
def october(world, clock):
    """Nine requests around October 2025; the tests read them at 2025-11-05 12:00.

    c1  complaint 绿色家园, 09-30 18:30 (before the holiday, so before the period); closed 10-09 10:00
        after 90 working minutes; follow-up satisfied in time.
    c2  leak repair on 3栋1502 (area B), 10-13 10:00; answered 10:05; closed 16:00 (4-hour deadline
        15:00 missed); follow-up late and dissatisfied → reopened; closed again 10-16 11:00 in time;
        the second follow-up is never made.
    c3  inquiry 10-20 09:00, suspended 09:05 and still suspended.
    c4  plumbing repair on 1栋501 (area A), 10-27 11:00, suspended 14:00–15:00, closed 10-28 09:00
        (270 working minutes); follow-up basically satisfied.
    c5  complaint on 1栋501, 10-29 10:00, a repeat of c4, untouched.
    c6  complaint at 锦江花园 (the other company), 10-15 10:00, closed late 10-20 10:00; the follow-up
        ends after three unreachable calls.
    c7  praise 10-31 16:00, closed 11-03 09:00 (received in October, closed in November).
    c8  complaint 10-30 09:00, merged into c5 (a duplicate: counted nowhere).
    """
    w = world
    sp, other = w.specialist, w.outsider
    leak = category("工程质量", "渗漏", "卫生间渗漏")
    plumbing = category("工程质量", "水电", "给排水")
    noise = category("公共秩序", "噪音")

    clock.set(at(2025, 9, 30, 18, 30))
    c1 = record(sp, w.project, category=noise)
    clock.set(at(2025, 10, 9, 10, 0))
    close(sp, c1)
    clock.set(at(2025, 10, 10, 9, 0))
    follow_up(sp, c1, FollowUpOutcome.SATISFIED)

    clock.set(at(2025, 10, 13, 10, 0))
    c2 = record(sp, w.project, case_type=CaseType.REPAIR, category=leak, units=[w.unit_b], party=w.owner_b)
    clock.set(at(2025, 10, 13, 10, 5))
    s.do_add_note(sp, c2, note="师傅马上上门", visibility=Visibility.CUSTOMER)
    clock.set(at(2025, 10, 13, 16, 0))
    close(sp, c2)
    clock.set(at(2025, 10, 16, 9, 0))
    follow_up(sp, c2, FollowUpOutcome.DISSATISFIED, note="还在漏")
    clock.set(at(2025, 10, 16, 11, 0))
    close(sp, c2)

    clock.set(at(2025, 10, 15, 10, 0))
    c6 = record(other, w.other_project, units=[w.other_unit], category=noise)
    clock.set(at(2025, 10, 20, 10, 0))
    close(other, c6)
    for moment in (at(2025, 10, 20, 11, 0), at(2025, 10, 20, 14, 0), at(2025, 10, 21, 11, 0)):
        clock.set(moment)
        follow_up(other, c6, FollowUpOutcome.UNREACHABLE)

    clock.set(at(2025, 10, 20, 9, 0))
    c3 = record(sp, w.project, case_type=CaseType.INQUIRY, description="物业费怎么交")
    clock.set(at(2025, 10, 20, 9, 5))
    s.do_suspend_case(sp, c3, expected_version=c3.version, reason="等业主提供缴费单")

    clock.set(at(2025, 10, 27, 11, 0))
    c4 = record(sp, w.project, case_type=CaseType.REPAIR, category=plumbing, units=[w.unit_a], party=w.owner_a)
    clock.set(at(2025, 10, 27, 14, 0))
    c4 = s.do_suspend_case(sp, c4, expected_version=c4.version, reason="等业主在家")
    clock.set(at(2025, 10, 27, 15, 0))
    c4 = s.do_resume_case(sp, c4, expected_version=c4.version)
    clock.set(at(2025, 10, 28, 9, 0))
    close(sp, c4)
    clock.set(at(2025, 10, 28, 10, 0))
    follow_up(sp, c4, FollowUpOutcome.BASICALLY_SATISFIED)

    clock.set(at(2025, 10, 29, 10, 0))
    c5 = record(sp, w.project, category=noise, units=[w.unit_a], party=w.owner_a, repeat_of=c4)

    clock.set(at(2025, 10, 30, 9, 0))
    c8 = record(sp, w.project, category=noise, units=[w.unit_a], party=w.owner_a)
    s.do_merge_cases(sp, c8, into=c5, expected_version=c8.version)

    clock.set(at(2025, 10, 31, 16, 0))
    c7 = record(sp, w.project, case_type=CaseType.PRAISE, description="感谢保安帮忙搬东西")
    clock.set(at(2025, 11, 3, 9, 0))
    close(sp, c7)

    clock.set(at(2025, 11, 5, 12, 0))
    cases = {name: Case.objects.get(pk=c.pk) for name, c in locals().items() if isinstance(c, Case)}
    return SimpleNamespace(world=w, now=clock.now, **cases)
