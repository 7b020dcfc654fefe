"""What the staff dashboard's pages read: the overview of what needs a person, orders, stock, one
SKU everywhere and late steps. The same queries as the JSON API (the order and stock services
share them), so the page and the API never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.kpis import DurationStats
from persistence.guarded_writes.inventory import StockRow
from persistence.models import Escalation, OrderRecord
from persistence.read_model.kpis import KpiRows
from persistence.read_model.overview import StuckNotice
from services.stock import StockView, stock_view
from services.unit_of_work import UnitOfWorkFactory

WEEK = timedelta(days=7)
LATE_ON_THE_OVERVIEW = 10
LATE_ON_THEIR_PAGE = 200
RECENT_ORDERS_OF_A_SKU = 10


@dataclass(frozen=True)
class Overview:
    by_status: dict[str, int]
    by_channel: dict[str, int]
    """Orders received in the last 7 days, per channel."""
    waiting: list[OrderRecord]
    """On hold or backordered, the longest-waiting first."""
    stuck: list[StuckNotice]
    late: list[Escalation]
    late_count: int
    week: KpiRows
    processing: DurationStats


@dataclass(frozen=True)
class SkuPage:
    stock: StockView
    recent: list[OrderRecord]
    recent_count: int


class Dashboard:
    def __init__(self, units: UnitOfWorkFactory) -> None:
        self._units = units

    def overview(self) -> Overview:
        now = datetime.now(UTC)
        week_ago = now - WEEK
        with self._units(read_only=True) as uow:
            week = uow.reports.kpis(week_ago, now, None)
            late, late_count = uow.shipments.escalations(open_only=True, limit=LATE_ON_THE_OVERVIEW)
            return Overview(
                by_status=uow.reports.orders_by_status(),
                by_channel=uow.reports.orders_by_channel(week_ago),
                waiting=uow.reports.waiting_for_a_person(),
                stuck=uow.reports.stuck_notices(),
                late=late,
                late_count=late_count,
                week=week,
                processing=week.processing,
            )

    def stock(
        self, *, location_id: str | None, sku_prefix: str | None, below_safety: bool | None, limit: int, offset: int
    ) -> tuple[list[StockRow], int]:
        """Stock records by SKU then location (a location we do not know simply matches nothing)."""
        with self._units(read_only=True) as uow:
            return uow.stock.page(
                location_id=location_id, sku_prefix=sku_prefix, below_safety=below_safety, limit=limit, offset=offset
            )

    def sku(self, sku: str) -> SkuPage | None:
        """None when no location holds a stock record for the SKU."""
        with self._units(read_only=True) as uow:
            view = stock_view(uow.stock, uow.channels, sku)
            if view is None:
                return None
            recent, recent_count = uow.orders.page(sku=sku, limit=RECENT_ORDERS_OF_A_SKU)
        return SkuPage(view, recent, recent_count)

    def late(self) -> tuple[list[Escalation], int]:
        with self._units(read_only=True) as uow:
            return uow.shipments.escalations(open_only=True, limit=LATE_ON_THEIR_PAGE)
