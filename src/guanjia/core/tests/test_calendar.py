"""Working-time arithmetic of the business calendar, with China's 2025 and 2026 holiday schedules."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from guanjia.core.calendar import (
    HOLIDAY_DATA_YEARS,
    BusinessCalendar,
    DayKind,
    WorkingHours,
    WorkingHoursError,
    holiday_data_covers,
)

SH = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
M = timedelta(minutes=1)
US = timedelta(microseconds=1)


def at(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=SH)


@pytest.fixture(scope="module")
def cal():
    return BusinessCalendar(WorkingHours.default())


CALL_CENTRE = WorkingHours.from_dict({day: [["09:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri")})
NIGHT_SHIFT = WorkingHours.from_dict({"mon": [["00:00", "08:00"], ["17:00", "24:00"]], "tue": [["00:00", "08:00"]]})


# ------------------------------------------------------------------------------------------------ kinds of day


def test_national_day_2025_is_a_holiday_including_its_weekend_days(cal):
    for day in range(1, 9):
        assert cal.day_kind(date(2025, 10, day)) is DayKind.HOLIDAY
        assert not cal.is_working_day(date(2025, 10, day))
        assert cal.ranges_on(date(2025, 10, day)) == []


def test_adjusted_working_saturday_counts_as_working_day_with_weekday_hours(cal):
    for adjusted in (date(2025, 9, 28), date(2025, 10, 11), date(2026, 2, 14), date(2026, 2, 28), date(2026, 10, 10)):
        assert adjusted.weekday() >= 5
        assert cal.day_kind(adjusted) is DayKind.WORKDAY
        assert cal.is_working_day(adjusted)
    assert cal.ranges_on(date(2025, 10, 11)) == [
        (at(2025, 10, 11, 8, 30), at(2025, 10, 11, 12)),
        (at(2025, 10, 11, 13), at(2025, 10, 11, 17)),
    ]


def test_ordinary_weekend_is_open_but_not_a_working_day(cal):
    saturday = date(2025, 10, 18)
    assert cal.day_kind(saturday) is DayKind.RESTDAY
    assert not cal.is_working_day(saturday)
    assert cal.ranges_on(saturday) == [(at(2025, 10, 18, 9), at(2025, 10, 18, 17))]


def test_2026_spring_festival_and_national_day(cal):
    assert all(cal.day_kind(date(2026, 2, d)) is DayKind.HOLIDAY for d in range(15, 24))
    assert cal.day_kind(date(2026, 2, 24)) is DayKind.WORKDAY
    assert all(cal.day_kind(date(2026, 10, d)) is DayKind.HOLIDAY for d in range(1, 8))
    assert cal.day_kind(date(2026, 9, 20)) is DayKind.WORKDAY  # Sunday, adjusted
    # A complaint at 18:30 on the last working day before National Day 2026 is handled on 8 October.
    assert cal.after_hours_deadline(at(2026, 9, 30, 18, 30)) == at(2026, 10, 8, 8, 42)


def test_aware_datetime_is_read_as_its_shanghai_date(cal):
    # 2025-09-30 17:00 UTC is already 1 October in Shanghai.
    assert cal.day_kind(datetime(2025, 9, 30, 17, tzinfo=UTC)) is DayKind.HOLIDAY


def test_years_without_holiday_data_fall_back_to_plain_weekdays(cal):
    assert 2025 in HOLIDAY_DATA_YEARS and 2026 in HOLIDAY_DATA_YEARS
    for national_day in (date(2003, 10, 1), date(2099, 10, 1)):  # Wednesday, Thursday
        assert not holiday_data_covers(national_day)
        assert cal.day_kind(national_day) is DayKind.WORKDAY
    assert cal.day_kind(date(2099, 10, 3)) is DayKind.RESTDAY  # Saturday
    # Arithmetic runs across the edge of the data instead of failing.
    last_year = max(HOLIDAY_DATA_YEARS)
    start = at(last_year, 12, 20, 9)
    deadline = cal.add_working_time(start, 30 * 8 * H)
    assert deadline.year == last_year + 1
    assert cal.working_time_between(start, deadline) == 30 * 8 * H


def test_company_closure_is_skipped():
    cal = BusinessCalendar(WorkingHours.default(), closures=frozenset({date(2025, 11, 14)}))
    assert cal.day_kind(date(2025, 11, 14)) is DayKind.HOLIDAY
    # Thursday 16:00 + 2 h: one hour on Thursday, the closed Friday skipped, one hour from Saturday's opening.
    assert cal.add_working_time(at(2025, 11, 13, 16), 2 * H) == at(2025, 11, 15, 10)
    assert cal.add_working_days(at(2025, 11, 13, 16), 1) == at(2025, 11, 17, 16)


def test_company_extra_workday_counts_as_working_day():
    saturday, national_day_thursday = date(2025, 11, 15), date(2025, 10, 2)
    cal = BusinessCalendar(WorkingHours.default(), extra_workdays=frozenset({saturday, national_day_thursday}))
    assert cal.is_working_day(saturday)
    assert cal.ranges_on(saturday)[0] == (at(2025, 11, 15, 8, 30), at(2025, 11, 15, 12))
    assert cal.add_working_days(at(2025, 11, 14, 10), 1) == at(2025, 11, 15, 10)
    assert cal.day_kind(national_day_thursday) is DayKind.WORKDAY
    assert cal.after_hours_deadline(at(2025, 9, 30, 18, 30)) == at(2025, 10, 2, 8, 42)


def test_a_date_cannot_be_both_closure_and_extra_workday():
    with pytest.raises(ValueError, match="2025-11-15"):
        BusinessCalendar(WorkingHours.default(), closures={date(2025, 11, 15)}, extra_workdays={date(2025, 11, 15)})
    with pytest.raises(TypeError):
        BusinessCalendar(WorkingHours.default(), closures={datetime(2025, 11, 15, tzinfo=SH)})


# ------------------------------------------------------------------------------------------------ working time


def test_complaint_after_hours_before_national_day_is_due_in_working_time_after_the_holiday(cal):
    recorded = at(2025, 9, 30, 18, 30)
    # Nothing of the holiday counts: 9 Oct 7.5 h + 10 Oct 7.5 h + adjusted Saturday 11 Oct 7.5 h + Sunday 1.5 h.
    assert cal.add_working_time(recorded, 24 * H) == at(2025, 10, 12, 10, 30)
    assert cal.working_time_between(recorded, at(2025, 10, 9, 8, 30)) == timedelta(0)
    assert cal.after_hours_deadline(recorded) == at(2025, 10, 9, 8, 42)


def test_lunch_break_is_not_working_time(cal):
    wednesday = at(2025, 11, 12, 11)
    assert cal.add_working_time(wednesday, 2 * H) == at(2025, 11, 12, 14)
    assert cal.working_time_between(wednesday, at(2025, 11, 12, 14)) == 2 * H
    assert not cal.is_open(at(2025, 11, 12, 12, 30))
    assert cal.next_open(at(2025, 11, 12, 12, 30)) == at(2025, 11, 12, 13)


def test_budget_used_up_at_noon_is_due_at_noon_not_after_lunch(cal):
    assert cal.add_working_time(at(2025, 11, 12, 11), H) == at(2025, 11, 12, 12)
    assert not cal.is_open(at(2025, 11, 12, 12))
    assert cal.is_open(at(2025, 11, 12, 12) - US)


def test_zero_budget_is_start_when_open_else_next_opening(cal):
    assert cal.add_working_time(at(2025, 11, 12, 9), timedelta(0)) == at(2025, 11, 12, 9)
    assert cal.add_working_time(at(2025, 11, 12, 17), timedelta(0)) == at(2025, 11, 13, 8, 30)


def test_friday_night_arrival_is_due_12_minutes_after_saturday_opening(cal):
    assert cal.next_start_of_work(at(2025, 11, 14, 22)) == at(2025, 11, 15, 9)
    assert cal.after_hours_deadline(at(2025, 11, 14, 22)) == at(2025, 11, 15, 9, 12)


def test_arrival_before_an_adjusted_sunday_uses_weekday_opening(cal):
    assert cal.after_hours_deadline(at(2025, 9, 27, 18)) == at(2025, 9, 28, 8, 42)


def test_arrival_during_opening_gets_12_working_minutes(cal):
    assert cal.after_hours_deadline(at(2025, 11, 12, 11, 55)) == at(2025, 11, 12, 13, 7)
    assert cal.next_start_of_work(at(2025, 11, 12, 11, 55)) == at(2025, 11, 12, 13)


def test_round_the_clock_calendar_is_plain_addition_even_on_holidays():
    hotline = BusinessCalendar(WorkingHours.round_the_clock())
    start = at(2025, 9, 30, 18, 30)
    assert hotline.add_working_time(start, 4 * H) == start + 4 * H
    assert hotline.add_working_time(start, timedelta(days=10)) == start + timedelta(days=10)
    assert hotline.working_time_between(start, at(2025, 10, 9)) == at(2025, 10, 9) - start
    assert hotline.is_open(at(2025, 10, 1, 3))
    with pytest.raises(ValueError, match=r"three years|三年内"):
        hotline.next_start_of_work(start)


def test_range_ending_at_midnight_carries_over_to_next_morning():
    cal = BusinessCalendar(CALL_CENTRE)
    assert cal.is_open(at(2025, 11, 13) - US)
    assert not cal.is_open(at(2025, 11, 13, 0))
    assert cal.add_working_time(at(2025, 11, 12, 23), 2 * H) == at(2025, 11, 13, 10)
    assert cal.working_time_between(at(2025, 11, 12, 23), at(2025, 11, 13, 10)) == 2 * H
    assert cal.add_working_time(at(2025, 11, 12, 23), H) == at(2025, 11, 13, 0)


def test_touching_ranges_across_midnight_are_one_opening():
    cal = BusinessCalendar(NIGHT_SHIFT)
    # Monday 17:00 – Tuesday 08:00 is one shift; work next starts the following Monday at midnight.
    assert cal.next_start_of_work(at(2025, 11, 10, 20)) == at(2025, 11, 17, 0)
    assert cal.next_start_of_work(at(2025, 11, 10, 9)) == at(2025, 11, 10, 17)
    assert cal.add_working_time(at(2025, 11, 10, 23), 2 * H) == at(2025, 11, 11, 1)


def test_utc_input_gives_the_same_instant_in_shanghai_time(cal):
    deadline = cal.add_working_time(datetime(2025, 11, 12, 3, tzinfo=UTC), 2 * H)  # 11:00 in Shanghai
    assert deadline == at(2025, 11, 12, 14)
    assert deadline.tzinfo == SH


def test_long_budgets_round_trip(cal):
    start = at(2025, 1, 2, 10)
    deadline = cal.add_working_time(start, timedelta(days=30))
    assert cal.working_time_between(start, deadline) == timedelta(days=30)


def test_bad_arguments_are_refused(cal):
    with pytest.raises(ValueError, match="naive"):
        cal.add_working_time(datetime(2025, 11, 12, 9), H)
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_time(at(2025, 11, 12, 9), -H)
    with pytest.raises(TypeError):
        cal.is_open(date(2025, 11, 12))
    with pytest.raises(ValueError):
        cal.add_working_days(at(2025, 11, 12, 9), -1)


def test_calendar_that_never_opens_raises_instead_of_looping():
    closed = BusinessCalendar(WorkingHours({}))
    with pytest.raises(ValueError, match=r"three years|三年内"):
        closed.add_working_time(at(2025, 11, 12, 9), H)
    with pytest.raises(ValueError, match=r"three years|三年内"):
        closed.next_start_of_work(at(2025, 11, 12, 9))
    assert closed.working_time_between(at(2025, 1, 1), at(2025, 12, 31)) == timedelta(0)


# ------------------------------------------------------------------------------------------------ working days


def test_three_working_days_from_before_national_day_end_on_the_adjusted_saturday(cal):
    assert cal.add_working_days(at(2025, 9, 30, 18, 30), 3) == at(2025, 10, 11, 18, 30)


def test_working_days_skip_weekends_even_when_open(cal):
    assert cal.add_working_days(at(2025, 11, 15, 10), 3) == at(2025, 11, 19, 10)  # Saturday → Wednesday
    assert cal.add_working_days(at(2025, 11, 14, 10), 1) == at(2025, 11, 17, 10)  # Friday → Monday


def test_deadline_on_a_statutory_holiday_moves_to_the_next_working_day(cal):
    assert cal.move_off_holiday(at(2025, 10, 3, 15)) == at(2025, 10, 9, 15)
    assert cal.add_working_days(at(2025, 10, 3, 15), 0) == at(2025, 10, 9, 15)
    assert cal.move_off_holiday(at(2025, 11, 15, 15)) == at(2025, 11, 15, 15)  # ordinary Saturday stays
    assert cal.move_off_holiday(at(2025, 11, 12, 15)) == at(2025, 11, 12, 15)


# ------------------------------------------------------------------------------------------------ pause and resume


def test_pausing_and_resuming_moves_the_deadline_by_exactly_the_paused_working_time(cal):
    start = at(2025, 11, 10, 9)
    deadline = cal.add_working_time(start, 16 * H)
    assert deadline == at(2025, 11, 12, 10)
    paused_at, resumed_at = at(2025, 11, 11, 10), at(2025, 11, 12, 10)
    paused = cal.working_time_between(paused_at, resumed_at)
    assert paused == timedelta(hours=7, minutes=30)
    new_deadline = cal.shift_for_pause(deadline, paused_at, resumed_at)
    assert new_deadline == at(2025, 11, 13, 10)
    assert cal.working_time_between(deadline, new_deadline) == paused
    assert cal.add_working_time(start, 16 * H + paused) == new_deadline


def test_pause_over_a_holiday_only_counts_working_time(cal):
    deadline = at(2025, 9, 30, 17)
    new_deadline = cal.shift_for_pause(deadline, at(2025, 9, 30, 16), at(2025, 10, 9, 9))
    assert new_deadline == at(2025, 10, 9, 10)


def test_pause_after_the_deadline_leaves_it_overdue(cal):
    deadline = at(2025, 11, 12, 10)
    assert cal.shift_for_pause(deadline, at(2025, 11, 12, 11), at(2025, 11, 14, 11)) == deadline
    with pytest.raises(ValueError, match="resumed_at"):
        cal.shift_for_pause(deadline, at(2025, 11, 12, 9), at(2025, 11, 12, 8))


# ------------------------------------------------------------------------------------------------ working hours


def test_default_hours_round_trip_through_json():
    data = WorkingHours.default().to_dict()
    assert data["mon"] == [["08:30", "12:00"], ["13:00", "17:00"]]
    assert data["sat"] == [["09:00", "17:00"]]
    assert data["adjusted_workday"] == "mon"
    assert data["holiday"] == []
    assert WorkingHours.from_dict(data) == WorkingHours.default()
    assert WorkingHours.from_dict(WorkingHours.round_the_clock().to_dict()) == WorkingHours.round_the_clock()
    assert CALL_CENTRE.to_dict()["mon"] == [["09:00", "24:00"]]


def test_hours_are_an_immutable_weekday_mapping():
    hours = WorkingHours.default()
    assert len(hours) == 7 and list(hours) == list(range(7))
    assert hours[5] == ((time(9), time(17)),)
    assert hours.adjusted_workday == hours[0]
    with pytest.raises(KeyError):
        hours[7]
    with pytest.raises(AttributeError):
        hours.holiday = ()


def test_unsorted_ranges_are_sorted_and_midnight_end_is_normalised():
    hours = WorkingHours({0: [(time(13), time(17)), (time(8, 30), time(12))], 1: [(time(20), time(0))]})
    assert hours[0] == ((time(8, 30), time(12)), (time(13), time(17)))
    assert hours[1] == ((time(20), None),)


def test_times_may_omit_the_leading_zero_and_carry_seconds():
    hours = WorkingHours.from_dict({"mon": [["8:30", "12:00:30"]]})
    assert hours[0] == ((time(8, 30), time(12, 0, 30)),)
    assert hours.to_dict()["mon"] == [["08:30", "12:00:30"]]


def test_explicit_adjusted_and_holiday_hours():
    hours = WorkingHours.from_dict(
        {"mon": [["08:30", "17:00"]], "adjusted_workday": [["09:00", "12:00"]], "holiday": [["10:00", "16:00"]]}
    )
    cal = BusinessCalendar(hours)
    assert cal.ranges_on(date(2025, 10, 11)) == [(at(2025, 10, 11, 9), at(2025, 10, 11, 12))]
    assert cal.ranges_on(date(2025, 10, 1)) == [(at(2025, 10, 1, 10), at(2025, 10, 1, 16))]
    assert WorkingHours.from_dict(hours.to_dict()) == hours


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"mon": [["08:30", "12:00"], ["11:00", "17:00"]]}, "mon"),  # overlap
        ({"tue": [["17:00", "08:30"]]}, "tue"),  # ends before it starts
        ({"wed": [["8h30", "12:00"]]}, "wed"),  # not a time
        ({"wed": [["08", "12:00"]]}, "wed"),
        ({"wed": [["08:30", "12:60"]]}, "wed"),
        ({"wed": [["08:30+08:00", "12:00"]]}, "wed"),
        ({"thu": [["24:00", "24:00"]]}, "thu"),  # 24:00 only as an end
        ({"fri": ["08:30-12:00"]}, "fri"),  # not a pair
        ({"sat": "09:00-17:00"}, "sat"),
        ({"mond": []}, "mond"),  # typo must not silently close Monday
        ({"adjusted_workday": "monday"}, "adjusted_workday"),
        ({"holiday": [["09:00", None]]}, "holiday"),
    ],
)
def test_invalid_hours_name_the_wrong_day(data, field):
    with pytest.raises(WorkingHoursError) as error:
        WorkingHours.from_dict(data)
    assert error.value.field == field


def test_invalid_hours_in_constructor_are_refused():
    with pytest.raises(WorkingHoursError) as error:
        WorkingHours({7: [(time(9), time(17))]})
    assert error.value.field == "7"
    with pytest.raises(WorkingHoursError) as error:
        WorkingHours({0: [(time(9), time(17, tzinfo=SH))]})
    assert error.value.field == "mon"


# ------------------------------------------------------------------------------------------------ properties

CALENDARS = [
    BusinessCalendar(WorkingHours.default()),
    BusinessCalendar(
        WorkingHours.default(),
        closures=frozenset({date(2025, 3, 5), date(2025, 3, 6), date(2026, 7, 1)}),
        extra_workdays=frozenset({date(2025, 3, 8), date(2025, 10, 3), date(2026, 1, 1)}),
    ),
    BusinessCalendar(WorkingHours.round_the_clock()),
    BusinessCalendar(CALL_CENTRE),
    BusinessCalendar(NIGHT_SHIFT),
]
calendars = st.sampled_from(CALENDARS)
starts = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31, 23, 59, 59), timezones=st.sampled_from([SH, UTC])
)
budgets = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10))
PROPERTY = settings(max_examples=200, deadline=None)


@PROPERTY
@given(calendars, starts, budgets)
def test_working_time_between_inverts_add_working_time(cal, start, budget):
    assert cal.working_time_between(start, cal.add_working_time(start, budget)) == budget


@PROPERTY
@given(calendars, starts, budgets, budgets)
def test_add_working_time_is_monotonic_in_the_budget(cal, start, a, b):
    small, large = sorted((a, b))
    assert cal.add_working_time(start, small) <= cal.add_working_time(start, large)


@PROPERTY
@given(calendars, starts, budgets)
def test_deadline_is_inside_an_opening_or_at_its_end(cal, start, budget):
    deadline = cal.add_working_time(start, budget)
    assert deadline >= start
    if budget:
        assert cal.is_open(deadline - US)
    else:
        assert deadline == start if cal.is_open(start) else cal.is_open(deadline)


@PROPERTY
@given(calendars, starts, budgets, budgets.filter(bool))
def test_budgets_add_up(cal, start, first, second):
    assert cal.add_working_time(cal.add_working_time(start, first), second) == cal.add_working_time(
        start, first + second
    )


@PROPERTY
@given(calendars, starts, starts, starts)
def test_working_time_between_adds_up_over_consecutive_intervals(cal, a, b, c):
    a, b, c = sorted((a, b, c))
    assert cal.working_time_between(a, b) + cal.working_time_between(b, c) == cal.working_time_between(a, c)


@PROPERTY
@given(calendars, starts, st.integers(min_value=0, max_value=30))
def test_add_working_days_lands_on_a_working_day_at_the_same_clock_time(cal, start, n):
    due = cal.add_working_days(start, n)
    assert cal.is_working_day(due.date())
    assert due.time() == start.astimezone(SH).time()
    if n:
        # The due date is the n-th working day after the start date.
        first = start.astimezone(SH).date() + timedelta(days=1)
        days = [first + timedelta(days=i) for i in range((due.date() - first).days + 1)]
        assert sum(cal.is_working_day(d) for d in days) == n


@PROPERTY
@given(starts, budgets)
def test_round_the_clock_add_is_plain_addition(start, budget):
    assert CALENDARS[2].add_working_time(start, budget) == start + budget


@PROPERTY
@given(calendars, starts, budgets.filter(bool), budgets, budgets)
def test_pause_keeps_the_budget(cal, start, budget, pause_offset, pause_length):
    deadline = cal.add_working_time(start, budget)
    paused_at = start + pause_offset
    assume(paused_at < deadline)
    resumed_at = paused_at + pause_length
    new_deadline = cal.shift_for_pause(deadline, paused_at, resumed_at)
    paused = cal.working_time_between(paused_at, resumed_at)
    assert cal.working_time_between(start, new_deadline) - paused == budget
    assert cal.working_time_between(deadline, new_deadline) == paused
