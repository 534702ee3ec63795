"""Business calendar: working-time arithmetic for SLA deadlines.

Two objects:

* `WorkingHours` says when a service point is open on each kind of day: per weekday (0 = Monday … 6 = Sunday)
  a sorted tuple of non-overlapping `(start, end)` ranges, plus the ranges used on an adjusted working day
  (调休上班日 that falls on a weekend; default: Monday's hours) and on a statutory holiday or company closure
  (default: closed). An `end` of `None` means 24:00, the midnight that ends the day; in JSON it is "24:00".
  A lunch break is simply the gap between two ranges, so it is not working time.
* `BusinessCalendar` combines those hours with China's statutory holidays and adjusted working days (the
  `chinesecalendar` package) and with company-specific closures and extra working days, which override it.

Kinds of day (`BusinessCalendar.day_kind`):

* ``workday`` – Monday to Friday, an adjusted working weekend day (调休) or a company extra working day;
* ``restday`` – an ordinary Saturday or Sunday;
* ``holiday`` – a day of a statutory holiday period (including its weekend days) or a company closure.

Two kinds of rule are built on that:

* *Working time* ("reply within 24 working hours"): `add_working_time` and `working_time_between` walk the
  opening ranges of every day, so a service centre open at weekends counts its weekend hours.
* *Working days* ("the design department answers within 3 working days"): `add_working_days` counts only
  workdays; weekends and holidays never count, even where the service centre is open.

Conventions:

* Every method takes timezone-aware datetimes in any zone and returns datetimes in the calendar's zone
  (Asia/Shanghai by default). Naive datetimes are refused with ValueError. Durations are computed on UTC
  instants, so they are exact to the microsecond and would stay right in a zone with daylight saving time.
* Opening ranges are half-open: at 12:00 a range 08:30–12:00 is already closed. `add_working_time` returns
  the earliest moment at which the budget is used up, so a deadline may be the end of a range (12:00), never
  the start of the next one (13:00).
* A zero budget returns `start` when open, else the next opening (`next_open`).
* Pausing a clock: `shift_for_pause(deadline, paused_at, resumed_at)` moves a deadline later by exactly the
  working time during the pause. Equivalently a caller that stores the total paused working time may compute
  ``add_working_time(start, budget + paused)``; both give the same moment.
* chinesecalendar carries data for a fixed range of years (`HOLIDAY_DATA_YEARS`). For a year outside it the
  calendar falls back to plain Monday–Friday workdays with no statutory holidays; upgrade the package each year
  after the State Council publishes the next year's schedule (usually in November), and enter company
  closures for anything known earlier.
* Searches are bounded: if no opening (or working day) is found within `MAX_SCAN_DAYS` days the method raises
  ValueError instead of looping forever on a calendar that is always closed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar.constants import holidays as _statutory_days
from django.utils.translation import gettext

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Years the installed chinesecalendar knows; outside them the calendar uses plain weekdays and weekends.
HOLIDAY_DATA_YEARS = range(min(_statutory_days).year, max(_statutory_days).year + 1)
# How far a search for open time or a working day may run before the calendar is declared always closed.
MAX_SCAN_DAYS = 3 * 366

ONE_DAY = timedelta(days=1)
ZERO = timedelta(0)

TimeRange = tuple[time, time | None]


class DayKind(StrEnum):
    """What a date is for the calendar; see the module docstring."""

    WORKDAY = "workday"
    RESTDAY = "restday"
    HOLIDAY = "holiday"


class WorkingHoursError(ValueError):
    """Invalid opening hours; `field` is the key that is wrong ("mon" … "sun", "adjusted_workday", "holiday")."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def holiday_data_covers(d: date) -> bool:
    """True if chinesecalendar knows the statutory holidays of `d`'s year."""
    return d.year in HOLIDAY_DATA_YEARS


# ----------------------------------------------------------------------------------------------- working hours


def _format_time(t: time | None) -> str:
    if t is None:
        return "24:00"
    return t.strftime("%H:%M:%S" if t.second else "%H:%M")


_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def _parse_time(value: Any, field: str) -> time:
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if match:
        hour, minute, second = (int(g or 0) for g in match.groups())
        if hour <= 23 and minute <= 59 and second <= 59:
            return time(hour, minute, second)
    raise WorkingHoursError(field, gettext("Enter a time as HH:MM, for example 08:30."))


def _parse_end(value: Any, field: str) -> time | None:
    return None if value in ("24:00", "24:00:00") else _parse_time(value, field)


def _offset(t: time | None) -> timedelta:
    """Time since midnight; None (24:00) is a whole day."""
    if t is None:
        return ONE_DAY
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _validate_ranges(ranges: Iterable[Any], field: str) -> tuple[TimeRange, ...]:
    shape = gettext("Enter opening hours as a list of [start, end] pairs.")
    if isinstance(ranges, str | bytes) or not isinstance(ranges, Iterable):
        raise WorkingHoursError(field, shape)
    checked: list[TimeRange] = []
    for pair in ranges:
        if isinstance(pair, str | bytes) or not isinstance(pair, Iterable):
            raise WorkingHoursError(field, shape)
        pair = tuple(pair)
        if len(pair) != 2:
            raise WorkingHoursError(field, shape)
        start, end = pair
        if not isinstance(start, time) or not (end is None or isinstance(end, time)):
            raise WorkingHoursError(field, shape)
        if start.tzinfo is not None or (end is not None and end.tzinfo is not None):
            raise WorkingHoursError(field, gettext("Opening hours are local times without a time zone."))
        if start.microsecond or (end is not None and end.microsecond):
            raise WorkingHoursError(field, gettext("Enter a time as HH:MM, for example 08:30."))
        # time(0) as an end can only mean the midnight that ends the day; store it one way.
        if end == time(0):
            end = None
        if _offset(end) <= _offset(start):
            raise WorkingHoursError(
                field,
                gettext("A range must end after it starts: %(start)s–%(end)s.")
                % {"start": _format_time(start), "end": _format_time(end)},
            )
        checked.append((start, end))
    checked.sort(key=lambda r: _offset(r[0]))
    for (s1, e1), (s2, e2) in pairwise(checked):
        # Touching ranges (12:00–13:00 and 13:00–17:00) are allowed; overlapping ones are a mistake.
        if _offset(s2) < _offset(e1):
            raise WorkingHoursError(
                field,
                gettext("Ranges overlap: %(first)s and %(second)s.")
                % {
                    "first": f"{_format_time(s1)}–{_format_time(e1)}",
                    "second": f"{_format_time(s2)}–{_format_time(e2)}",
                },
            )
    return tuple(checked)


class WorkingHours(Mapping[int, tuple[TimeRange, ...]]):
    """Opening hours: an immutable mapping weekday (0 = Monday … 6 = Sunday) → sorted `(start, end)` ranges.

    `end` None means 24:00. Weekdays missing from `week` are closed. `adjusted_workday` are the hours of an
    adjusted working weekend day (default: Monday's); `holiday` the hours of a statutory holiday or company
    closure (default: closed). Invalid input raises `WorkingHoursError` naming the day.
    """

    __slots__ = ("_week", "adjusted_workday", "holiday")

    _week: tuple[tuple[TimeRange, ...], ...]
    adjusted_workday: tuple[TimeRange, ...]
    holiday: tuple[TimeRange, ...]

    def __init__(
        self,
        week: Mapping[int, Iterable[TimeRange]],
        *,
        adjusted_workday: Iterable[TimeRange] | None = None,
        holiday: Iterable[TimeRange] = (),
    ):
        for key in week:
            if not isinstance(key, int) or isinstance(key, bool) or not 0 <= key <= 6:
                raise WorkingHoursError(str(key), gettext("A weekday is a number from 0 (Monday) to 6 (Sunday)."))
        days = tuple(_validate_ranges(week.get(i, ()), WEEKDAYS[i]) for i in range(7))
        adjusted = days[0] if adjusted_workday is None else _validate_ranges(adjusted_workday, "adjusted_workday")
        object.__setattr__(self, "_week", days)
        object.__setattr__(self, "adjusted_workday", adjusted)
        object.__setattr__(self, "holiday", _validate_ranges(holiday, "holiday"))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("WorkingHours is immutable")

    def __getitem__(self, weekday: int) -> tuple[TimeRange, ...]:
        if not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise KeyError(weekday)
        return self._week[weekday]

    def __iter__(self) -> Iterator[int]:
        return iter(range(7))

    def __len__(self) -> int:
        return 7

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WorkingHours):
            return NotImplemented
        return (self._week, self.adjusted_workday, self.holiday) == (
            other._week,
            other.adjusted_workday,
            other.holiday,
        )

    def __hash__(self) -> int:
        return hash((self._week, self.adjusted_workday, self.holiday))

    def __repr__(self) -> str:
        return f"WorkingHours.from_dict({self.to_dict()!r})"

    @classmethod
    def default(cls) -> WorkingHours:
        """Seed 003's service centre: Mon–Fri 8:30–12:00 and 13:00–17:00, Sat–Sun 9:00–17:00, holidays closed."""
        weekday = ((time(8, 30), time(12)), (time(13), time(17)))
        weekend = ((time(9), time(17)),)
        return cls({0: weekday, 1: weekday, 2: weekday, 3: weekday, 4: weekday, 5: weekend, 6: weekend})

    @classmethod
    def round_the_clock(cls) -> WorkingHours:
        """A hotline staffed 24 hours every day, holidays included."""
        whole_day = ((time(0), None),)
        return cls(dict.fromkeys(range(7), whole_day), adjusted_workday=whole_day, holiday=whole_day)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkingHours:
        """Build from the JSON form written by `to_dict`.

        ``{"mon": [["08:30", "12:00"], ["13:00", "17:00"]], …, "sun": [["09:00", "17:00"]],
        "adjusted_workday": "mon", "holiday": []}``. Times are "HH:MM" or "HH:MM:SS"; an end may be "24:00".
        Missing weekdays are closed; `adjusted_workday` is a weekday name (use that day's hours) or a list of
        ranges and defaults to "mon"; `holiday` defaults to closed. Unknown keys are refused, so a typo does not
        silently close a day.
        """
        if not isinstance(data, Mapping):
            raise WorkingHoursError("hours", gettext("Enter opening hours as an object keyed by weekday."))
        for key in data:
            if key not in (*WEEKDAYS, "adjusted_workday", "holiday"):
                raise WorkingHoursError(str(key), gettext("Unknown key; use mon … sun, adjusted_workday, holiday."))
        week = {i: cls._ranges_from_json(data.get(name, []), name) for i, name in enumerate(WEEKDAYS)}
        adjusted = data.get("adjusted_workday", "mon")
        if isinstance(adjusted, str):
            if adjusted not in WEEKDAYS:
                raise WorkingHoursError(
                    "adjusted_workday", gettext("Enter a weekday (mon … sun) or a list of [start, end] pairs.")
                )
            adjusted_ranges = week[WEEKDAYS.index(adjusted)]
        else:
            adjusted_ranges = cls._ranges_from_json(adjusted, "adjusted_workday")
        holiday = cls._ranges_from_json(data.get("holiday", []), "holiday")
        return cls(week, adjusted_workday=adjusted_ranges, holiday=holiday)

    @staticmethod
    def _ranges_from_json(value: Any, field: str) -> list[TimeRange]:
        if not isinstance(value, list) or not all(isinstance(p, list) and len(p) == 2 for p in value):
            raise WorkingHoursError(field, gettext("Enter opening hours as a list of [start, end] pairs."))
        return [(_parse_time(start, field), _parse_end(end, field)) for start, end in value]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (for a JSONField); `from_dict(h.to_dict()) == h`."""

        def dump(ranges: tuple[TimeRange, ...]) -> list[list[str]]:
            return [[_format_time(s), _format_time(e)] for s, e in ranges]

        data: dict[str, Any] = {name: dump(self._week[i]) for i, name in enumerate(WEEKDAYS)}
        data["adjusted_workday"] = "mon" if self.adjusted_workday == self._week[0] else dump(self.adjusted_workday)
        data["holiday"] = dump(self.holiday)
        return data


# ---------------------------------------------------------------------------------------------------- calendar


class BusinessCalendar:
    """Working time of one company (or one service point) in one time zone.

    `closures` are dates the company is closed (they count as holidays); `extra_workdays` are dates it works
    although the national calendar rests (they count as workdays and use the adjusted-workday hours when they
    fall on a weekend). Both override chinesecalendar; a date may not be in both.
    """

    def __init__(
        self,
        hours: WorkingHours,
        tz: str | ZoneInfo = "Asia/Shanghai",
        closures: Iterable[date] = frozenset(),
        extra_workdays: Iterable[date] = frozenset(),
    ):
        if not isinstance(hours, WorkingHours):
            raise TypeError("hours must be a WorkingHours")
        self.hours = hours
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        self.closures = frozenset(closures)
        self.extra_workdays = frozenset(extra_workdays)
        for d in self.closures | self.extra_workdays:
            if isinstance(d, datetime) or not isinstance(d, date):
                raise TypeError(f"closures and extra_workdays hold dates, not {type(d).__name__}")
        both = self.closures & self.extra_workdays
        if both:
            raise ValueError(f"{min(both).isoformat()} is both a closure and an extra workday")
        # Deadlines cluster around "now", so a few thousand days cover every realistic working set.
        self._day = functools.lru_cache(maxsize=4096)(self._compute_day)

    def __repr__(self) -> str:
        return (
            f"BusinessCalendar({self.hours!r}, tz={self.tz.key!r}, closures={len(self.closures)} days, "
            f"extra_workdays={len(self.extra_workdays)} days)"
        )

    # ------------------------------------------------------------------------------------------------ days

    def day_kind(self, d: date) -> DayKind:
        """workday, restday or holiday; see the module docstring. An aware datetime is read as its local date."""
        d = self._as_date(d)
        if d in self.closures:
            return DayKind.HOLIDAY
        if d in self.extra_workdays:
            return DayKind.WORKDAY
        if not holiday_data_covers(d):
            return DayKind.WORKDAY if d.weekday() < 5 else DayKind.RESTDAY
        resting, name = chinese_calendar.get_holiday_detail(d)
        if not resting:
            return DayKind.WORKDAY
        # A resting day with a festival name is part of a statutory holiday, even on a Saturday or Sunday.
        return DayKind.HOLIDAY if name else DayKind.RESTDAY

    def is_working_day(self, d: date) -> bool:
        """True for days counted by "N working days" rules: workdays only, never weekends or holidays."""
        return self.day_kind(d) is DayKind.WORKDAY

    def next_working_day(self, d: date) -> date:
        """`d` if it is a working day, else the first working day after it."""
        first = d = self._as_date(d)
        for _ in range(MAX_SCAN_DAYS):
            if self.is_working_day(d):
                return d
            d += ONE_DAY
        raise ValueError(gettext("No working day within three years after %(date)s.") % {"date": first.isoformat()})

    def hours_on(self, d: date) -> tuple[TimeRange, ...]:
        """The `WorkingHours` ranges that apply on `d`."""
        d = self._as_date(d)
        kind = self.day_kind(d)
        if kind is DayKind.HOLIDAY:
            return self.hours.holiday
        if kind is DayKind.WORKDAY and d.weekday() >= 5:
            return self.hours.adjusted_workday
        return self.hours[d.weekday()]

    def ranges_on(self, d: date) -> list[tuple[datetime, datetime]]:
        """Opening ranges of `d` as aware datetimes in the calendar's zone (an end of 24:00 is next midnight)."""
        return [(a.astimezone(self.tz), b.astimezone(self.tz)) for a, b in self._day(self._as_date(d))[0]]

    def _compute_day(self, d: date) -> tuple[tuple[tuple[datetime, datetime], ...], timedelta]:
        """Opening ranges of `d` as UTC instants, and their total length."""
        ranges = []
        for start, end in self.hours_on(d):
            a = datetime.combine(d, start, tzinfo=self.tz).astimezone(UTC)
            b = datetime.combine(d + ONE_DAY if end is None else d, end or time(0), tzinfo=self.tz).astimezone(UTC)
            ranges.append((a, b))
        return tuple(ranges), sum((b - a for a, b in ranges), ZERO)

    # ------------------------------------------------------------------------------------------------ moments

    def is_open(self, dt: datetime) -> bool:
        """True if `dt` lies inside an opening range (ranges include their start, not their end)."""
        s = self._utc(dt)
        return any(a <= s < b for a, b in self._day(self._local_date(s))[0])

    def next_open(self, dt: datetime) -> datetime:
        """`dt` itself if open, else the start of the next opening range."""
        return self.add_working_time(dt, ZERO)

    def next_start_of_work(self, dt: datetime) -> datetime:
        """The first moment at or after `dt` when work starts after a closed period.

        For a closed `dt` this is `next_open(dt)`; for an open one it is the start of the next opening after the
        current one closes. Ranges that touch (17:00–24:00 then 00:00–08:00) are one opening, so a calendar that
        is never closed has no start of work and raises ValueError.
        """
        s = self._utc(dt)
        day = first = self._local_date(s)
        previous = self._day(day - ONE_DAY)[0]
        previous_end = previous[-1][1] if previous else None
        for _ in range(MAX_SCAN_DAYS):
            for a, b in self._day(day)[0]:
                if a >= s and a != previous_end:
                    return a.astimezone(self.tz)
                previous_end = b
            day += ONE_DAY
        raise ValueError(gettext("No opening hours within three years after %(date)s.") % {"date": first.isoformat()})

    def after_hours_deadline(self, dt: datetime, minutes: int = 12) -> datetime:
        """Deadline of the "handled within 12 minutes of the start of work" rule for a request arriving at `dt`.

        For a request that arrives while closed this is `minutes` after the next opening; one that arrives while
        open gets `minutes` of working time from arrival.
        """
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        return self.add_working_time(dt, timedelta(minutes=minutes))

    def add_working_time(self, start: datetime, delta: timedelta) -> datetime:
        """The earliest moment at which `delta` of opening time has elapsed after `start`.

        A zero `delta` gives `start` if open, else the next opening. Whole days are skipped by their total, so
        a budget of months costs one step per calendar day.
        """
        if delta < ZERO:
            raise ValueError("delta must not be negative")
        s = self._utc(start)
        remaining = delta
        day = first = self._local_date(s)
        closed_days = 0
        while True:
            ranges, total = self._day(day)
            if ranges and ranges[0][0] >= s and remaining > total:
                remaining -= total
            else:
                for a, b in ranges:
                    if b <= s:
                        continue
                    a = max(a, s)
                    if remaining <= b - a:
                        return (a + remaining).astimezone(self.tz)
                    remaining -= b - a
            closed_days = 0 if total else closed_days + 1
            if closed_days >= MAX_SCAN_DAYS:
                raise ValueError(
                    gettext("No opening hours within three years after %(date)s.") % {"date": first.isoformat()}
                )
            day += ONE_DAY

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Opening time between `a` and `b` (zero if `b` is not after `a`); the inverse of `add_working_time`."""
        s, e = self._utc(a), self._utc(b)
        if e <= s:
            return ZERO
        elapsed = ZERO
        day, last = self._local_date(s), self._local_date(e)
        while day <= last:
            ranges, total = self._day(day)
            if ranges and ranges[0][0] >= s and ranges[-1][1] <= e:
                elapsed += total
            else:
                for x, y in ranges:
                    lo, hi = max(x, s), min(y, e)
                    if hi > lo:
                        elapsed += hi - lo
            day += ONE_DAY
        return elapsed

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """The same clock time `n` working days later ("reply within 3 working days").

        Only workdays count (see `is_working_day`). With n = 0 a start on a non-working day moves to the same
        clock time on the next working day, which is also how a deadline is moved off a holiday.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError("n must be a non-negative integer")
        local = self._utc(start).astimezone(self.tz)
        day = self.next_working_day(local.date()) if n == 0 else local.date()
        for _ in range(n):
            day = self.next_working_day(day + ONE_DAY)
        return datetime.combine(day, local.time(), tzinfo=self.tz)

    def move_off_holiday(self, dt: datetime) -> datetime:
        """A deadline that falls on a holiday (statutory or closure) moves to the same clock time on the next
        working day; any other deadline stays as it is."""
        if self.day_kind(dt) is not DayKind.HOLIDAY:
            return self._utc(dt).astimezone(self.tz)
        return self.add_working_days(dt, 0)

    def shift_for_pause(self, deadline: datetime, paused_at: datetime, resumed_at: datetime) -> datetime:
        """The deadline after the clock was paused from `paused_at` to `resumed_at` (waiting for the customer).

        The working time that was left at the pause is granted again from the resumption, so the deadline moves
        later by exactly `working_time_between(paused_at, resumed_at)`. A pause that starts at or after the
        deadline leaves it unchanged: the case was already overdue.
        """
        if self._utc(resumed_at) < self._utc(paused_at):
            raise ValueError("resumed_at must not be before paused_at")
        remaining = self.working_time_between(paused_at, deadline)
        if remaining == ZERO:
            return self._utc(deadline).astimezone(self.tz)
        return self.add_working_time(resumed_at, remaining)

    # ------------------------------------------------------------------------------------------------ helpers

    @staticmethod
    def _utc(dt: datetime) -> datetime:
        if not isinstance(dt, datetime):
            raise TypeError(f"expected a datetime, got {type(dt).__name__}")
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError("naive datetime: pass a timezone-aware datetime")
        return dt.astimezone(UTC)

    def _local_date(self, utc_dt: datetime) -> date:
        return utc_dt.astimezone(self.tz).date()

    def _as_date(self, d: date) -> date:
        if isinstance(d, datetime):
            return self._local_date(self._utc(d))
        if not isinstance(d, date):
            raise TypeError(f"expected a date, got {type(d).__name__}")
        return d
