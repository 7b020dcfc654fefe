"""The numbers staff steer by: orders by status, processing time (intake to shipped), delivery time
per carrier (shipped to delivered), fulfilment cost and returns over a window, from the read model alone;
and the same window day by day for the KPI charts (`charts`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from domain.kpis import DurationStats, duration_stats
from persistence.read_model.kpi_series import KpiSeriesRows
from persistence.read_model.kpis import KpiRows
from services.errors import Unprocessable
from services.unit_of_work import UnitOfWorkFactory

DEFAULT_WINDOW = timedelta(days=7)
CHART_WINDOW = timedelta(days=30)
"""The charts' default: the last 30 days (UTC), today included."""
LONGEST_CHART_WINDOW = timedelta(days=400)
"""A day per point: a longer window would draw more points than a chart can show."""


@dataclass(frozen=True)
class KpiReport:
    since: datetime
    until: datetime
    channel: str | None
    rows: KpiRows
    processing: DurationStats
    delivery_by_carrier: dict[str, DurationStats]
    """Shipped → delivered per carrier (parcels of the orders received in the window)."""

    @property
    def orders(self) -> int:
        return sum(self.rows.orders_by_status.values())


class Reports:
    def __init__(self, units: UnitOfWorkFactory) -> None:
        self._units = units

    def kpis(self, since: datetime | None, until: datetime | None, channel: str | None) -> KpiReport:
        """Orders received in [since, until) (default: the last 7 days)."""
        until = until or datetime.now(UTC)
        since = since or until - DEFAULT_WINDOW
        if since >= until:
            raise Unprocessable("since must be before until")
        with self._units(read_only=True) as uow:
            rows = uow.reports.kpis(since, until, channel)
        delivery = {carrier: duration_stats(seconds) for carrier, seconds in rows.delivery_seconds_by_carrier.items()}
        return KpiReport(since, until, channel, rows, duration_stats(rows.processing_seconds), delivery)

    def charts(self, first: date | None, last: date | None, channel: str | None) -> KpiCharts:
        """Orders received from `first` to `last` (whole UTC days, default the last 30), day by day."""
        since, until = chart_window(first, last, datetime.now(UTC).date())
        # Not the report's `kpis` rows as well: they carry every duration to Python, 1.5 s and more
        # at 100,000 orders over 90 days (bench/kpis.py); the charts' totals come from their own series.
        with self._units(read_only=True) as uow:
            series = uow.reports.kpi_series(since, until, channel)
        days = [(since + timedelta(days=n)).date().isoformat() for n in range((until - since).days)]
        return KpiCharts(since, until, channel, days, series)


@dataclass(frozen=True)
class KpiCharts:
    since: datetime
    """Midnight UTC of the first day."""
    until: datetime
    """Midnight UTC after the last day."""
    channel: str | None
    days: list[str]
    """Every day of the window ('YYYY-MM-DD'), so a day without orders is drawn as a zero."""
    series: KpiSeriesRows


def chart_window(first: date | None, last: date | None, today: date) -> tuple[datetime, datetime]:
    """Whole UTC days from `first` to `last` included (default: the 30 days up to today)."""
    last = last or today
    first = first or last - CHART_WINDOW + timedelta(days=1)
    if first > last:
        raise Unprocessable("the first day must not be after the last")
    if last - first >= LONGEST_CHART_WINDOW:
        raise Unprocessable(f"choose at most {LONGEST_CHART_WINDOW.days} days")
    since = datetime.combine(first, time.min, UTC)
    return since, datetime.combine(last, time.min, UTC) + timedelta(days=1)
