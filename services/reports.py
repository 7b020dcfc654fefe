"""The numbers staff steer by: orders by status, processing time (intake to shipped), delivery time
per carrier (shipped to delivered), fulfilment cost and returns over a window, from the read model alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.kpis import DurationStats, duration_stats
from persistence.read_model.kpis import KpiRows
from services.errors import Unprocessable
from services.unit_of_work import UnitOfWorkFactory

DEFAULT_WINDOW = timedelta(days=7)


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
