"""The numbers staff steer by: orders by status, processing time (intake to shipped), delivery time
per carrier (shipped to delivered), fulfilment cost and returns over a window, from the read model alone;
the same window day by day for the KPI charts (`charts`); and the business reports: product and
channel performance per week or month (`performance`), the money figures now and for a period
(`financials`), and the stock value per location (`stock_value`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from domain.kpis import DurationStats
from domain.report_periods import Granularity, period_label, periods
from persistence.read_model.financials import Financials
from persistence.read_model.kpi_series import KpiSeriesRows
from persistence.read_model.kpis import KpiRows
from persistence.read_model.product_performance import PerformanceFilter, PerformanceRow
from persistence.read_model.stock_value import StockValueRows
from services.errors import Unprocessable
from services.unit_of_work import UnitOfWorkFactory

DEFAULT_WINDOW = timedelta(days=7)
CHART_WINDOW = timedelta(days=30)
"""The charts' default: the last 30 days (UTC), today included."""
LONGEST_CHART_WINDOW = timedelta(days=400)
"""A day per point: a longer window would draw more points than a chart can show."""
PERFORMANCE_WINDOW = timedelta(days=91)
"""The performance report's default: the last 13 weeks (UTC), today included."""
LONGEST_REPORT_WINDOW = timedelta(days=3 * 366)
EARLIEST_DAY, LATEST_DAY = date(1970, 1, 1), date(9998, 12, 1)
"""Days a report may name: the last one's period and the day after must still be dates."""
MOST_TOP = 1000


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
        return KpiReport(since, until, channel, rows, rows.processing, rows.delivery_by_carrier)

    def performance(
        self,
        first: date | None,
        last: date | None,
        granularity: Granularity,
        *,
        channel: str | None = None,
        sku: str | None = None,
        top: int | None = None,
    ) -> PerformanceReport:
        """Sold and returned per period, channel, SKU and currency, from `first` to `last` (whole UTC
        days, default the last 13 weeks); `top`: only the SKUs among the `top` by revenue in some
        currency over the whole window."""
        if top is not None and not 1 <= top <= MOST_TOP:
            raise Unprocessable(f"top must be from 1 to {MOST_TOP}")
        since, until = report_window(first, last, datetime.now(UTC).date(), PERFORMANCE_WINDOW)
        with self._units(read_only=True) as uow:
            rows = uow.reports.performance(PerformanceFilter(since, until, granularity, channel, sku, top))
        starts = periods(since.date(), (until - timedelta(days=1)).date(), granularity)
        return PerformanceReport(
            since, until, granularity, channel, sku, top, [(d, period_label(d, granularity)) for d in starts], rows
        )

    def financials(self, first: date | None, last: date | None) -> FinancialReport:
        """Now, and for whole UTC days from `first` to `last` (default: the last 30)."""
        since, until = report_window(first, last, datetime.now(UTC).date(), CHART_WINDOW)
        with self._units(read_only=True) as uow:
            now = uow.reports.financials(None, None)
            period = uow.reports.financials(since, until)
        return FinancialReport(datetime.now(UTC), since, until, now, period)

    def stock_value(self, location_id: str | None = None) -> StockValueRows:
        with self._units(read_only=True) as uow:
            return uow.reports.stock_value(location_id)

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


def report_window(first: date | None, last: date | None, today: date, default: timedelta) -> tuple[datetime, datetime]:
    """Whole UTC days from `first` to `last` included (default: `default` up to today)."""
    last = last or today
    if not EARLIEST_DAY <= last <= LATEST_DAY or (first is not None and not EARLIEST_DAY <= first <= LATEST_DAY):
        raise Unprocessable(f"choose days from {EARLIEST_DAY} to {LATEST_DAY}")
    first = first or last - default + timedelta(days=1)
    if first > last:
        raise Unprocessable("the first day must not be after the last")
    if last - first >= LONGEST_REPORT_WINDOW:
        raise Unprocessable(f"choose at most {LONGEST_REPORT_WINDOW.days} days")
    return datetime.combine(first, time.min, UTC), datetime.combine(last, time.min, UTC) + timedelta(days=1)


@dataclass(frozen=True)
class PerformanceReport:
    since: datetime
    until: datetime
    granularity: Granularity
    channel: str | None
    sku: str | None
    top: int | None
    periods: list[tuple[date, str]]
    """Every period of the window (its first day, its label), so one without sales shows as none."""
    rows: list[PerformanceRow]

    def label(self, start: date) -> str:
        return period_label(start, self.granularity)


@dataclass(frozen=True)
class FinancialReport:
    at: datetime
    since: datetime
    until: datetime
    now: Financials
    period: Financials
