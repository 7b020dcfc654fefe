"""The periods the business reports are cut into: ISO weeks (Monday to Sunday) or calendar months,
in UTC. One rule for the SQL that groups (persistence.read_model.business_reports compiles the
same cut per database) and for the labels and empty periods the reports show, so a row is never
put in one week by the database and shown under another."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum


class Granularity(StrEnum):
    WEEK = "week"
    """An ISO 8601 week: Monday to Sunday, numbered by the year its Thursday falls in (W01 to W53)."""
    MONTH = "month"


def period_start(day: date, granularity: Granularity) -> date:
    """The first day of the period `day` falls in: its ISO week's Monday, or its month's first."""
    if granularity is Granularity.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_period(start: date, granularity: Granularity) -> date:
    """The first day of the period after the one starting at `start`."""
    if granularity is Granularity.WEEK:
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def period_label(start: date, granularity: Granularity) -> str:
    """ "2026-W53" (the ISO week's year, which may differ from its Monday's) or "2026-12"."""
    if granularity is Granularity.WEEK:
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{start.year}-{start.month:02d}"


def periods(first: date, last: date, granularity: Granularity) -> list[date]:
    """Every period's first day from the one holding `first` to the one holding `last`, so a
    period without sales is shown as zero rather than left out."""
    start, end = period_start(first, granularity), period_start(last, granularity)
    found: list[date] = []
    while start <= end:
        found.append(start)
        start = next_period(start, granularity)
    return found
