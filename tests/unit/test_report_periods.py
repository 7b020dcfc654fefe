"""domain.report_periods: ISO weeks and calendar months, as the reports cut them (UTC days)."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from domain.report_periods import Granularity, next_period, period_label, period_start, periods

days = st.dates(min_value=date(1900, 1, 8), max_value=date(9998, 12, 1))
cuts = st.sampled_from(list(Granularity))
window_starts = st.dates(min_value=date(1900, 1, 8), max_value=date(9996, 12, 31))
"""First days of a window up to 800 days long whose last period still ends before year 10,000 (the
last date Python's `date` holds): near 9999 the window itself, not the rule, would overflow."""


@given(days, cuts)
def test_a_day_lies_in_its_period_and_the_period_is_one_of_a_kind(day, granularity):
    start = period_start(day, granularity)
    end = next_period(start, granularity)
    assert start <= day < end
    assert period_start(start, granularity) == start  # the first day starts its own period
    assert period_start(end - timedelta(days=1), granularity) == start  # and so does the last one
    assert period_start(end, granularity) == end  # the next begins right after


@given(days)
def test_a_week_is_monday_to_sunday_and_labelled_by_its_iso_year(day):
    start = period_start(day, Granularity.WEEK)
    assert start.isoweekday() == 1 and next_period(start, Granularity.WEEK) - start == timedelta(days=7)
    year, week, _ = day.isocalendar()
    assert period_label(start, Granularity.WEEK) == f"{year}-W{week:02d}"


@given(days)
def test_a_month_starts_on_its_first(day):
    start = period_start(day, Granularity.MONTH)
    assert (start.year, start.month, start.day) == (day.year, day.month, 1)
    assert period_label(start, Granularity.MONTH) == f"{day.year}-{day.month:02d}"


@given(window_starts, st.integers(min_value=0, max_value=800), cuts)
def test_periods_cover_the_window_without_gap_or_overlap(first, length, granularity):
    last = first + timedelta(days=length)
    starts = periods(first, last, granularity)
    assert starts[0] <= first and next_period(starts[-1], granularity) > last
    assert all(next_period(a, granularity) == b for a, b in pairwise(starts))


def test_week_53_and_the_turn_of_the_year():
    # 2026 has 53 ISO weeks: its W53 runs from Monday 28 December to Sunday 3 January 2027.
    assert period_start(date(2027, 1, 3), Granularity.WEEK) == date(2026, 12, 28)
    assert period_label(date(2026, 12, 28), Granularity.WEEK) == "2026-W53"
    assert period_label(period_start(date(2027, 1, 4), Granularity.WEEK), Granularity.WEEK) == "2027-W01"
    # 2024-12-30 is a Monday whose week is 2025-W01: the label's year is the ISO year, not the day's.
    assert period_label(date(2024, 12, 30), Granularity.WEEK) == "2025-W01"
    assert next_period(date(2026, 12, 1), Granularity.MONTH) == date(2027, 1, 1)
    assert periods(date(2026, 12, 31), date(2027, 1, 1), Granularity.MONTH) == [date(2026, 12, 1), date(2027, 1, 1)]
