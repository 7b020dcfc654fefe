"""Queries behind the KPI report: read model only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from domain.fulfilment import ShipmentStatus
from persistence.models import OrderRecord, ReturnRecord, ShipmentRecord
from persistence.read_model.after_sales import AfterSalesRows, after_sales
from persistence.read_model.defects import SkuDefects, defects_per_sku

TOP_DEFECTS = 10
"""SKUs shown in the report's defects: the ones most written off."""


@dataclass(frozen=True)
class KpiRows:
    orders_by_status: dict[str, int]
    processing_seconds: list[float]
    shipments: int
    fulfilment_cost_by_currency: dict[str, int]
    returns: int = 0
    """Returns accepted in the window (whenever their order was received)."""
    returned_units: int = 0
    refunded_by_currency: dict[str, int] = field(default_factory=dict)
    delivery_seconds_by_carrier: dict[str, list[float]] = field(default_factory=dict)
    """Shipped → delivered per parcel, by carrier, for the parcels of orders received in the window."""
    defects: list[SkuDefects] = field(default_factory=list)
    """Units written off in the window (whenever their order was received), per SKU, most first."""
    after_sales: AfterSalesRows = field(default_factory=AfterSalesRows)
    """Return rates and reasons of the window's orders; refunds, credit and exchanges in the window."""


def _delivery_seconds(session: Session, received: ColumnElement[bool]) -> dict[str, list[float]]:
    rows = session.execute(
        select(ShipmentRecord.carrier, ShipmentRecord.shipped_at, ShipmentRecord.delivered_at)
        .join(OrderRecord, OrderRecord.order_id == ShipmentRecord.order_id)
        .where(received, ShipmentRecord.shipped_at.is_not(None), ShipmentRecord.delivered_at.is_not(None))
    ).all()
    by_carrier: dict[str, list[float]] = {}
    for carrier, shipped_at, delivered_at in rows:
        if shipped_at is not None and delivered_at is not None:
            by_carrier.setdefault(carrier or "unknown", []).append((delivered_at - shipped_at).total_seconds())
    return by_carrier


def kpi_rows(session: Session, since: datetime, until: datetime, channel: str | None) -> KpiRows:
    received = (OrderRecord.received_at >= since) & (OrderRecord.received_at < until)
    if channel:
        received &= OrderRecord.channel == channel
    by_status = dict(
        session.execute(select(OrderRecord.status, func.count()).where(received).group_by(OrderRecord.status)).all()
    )
    shipped = session.execute(
        select(OrderRecord.received_at, OrderRecord.shipped_at).where(received, OrderRecord.shipped_at.is_not(None))
    ).all()
    costs = session.execute(
        select(
            OrderRecord.currency, func.count(ShipmentRecord.shipment_id), func.sum(ShipmentRecord.fulfilment_cost_minor)
        )
        .join(ShipmentRecord, ShipmentRecord.order_id == OrderRecord.order_id)
        .where(received, ShipmentRecord.status != ShipmentStatus.CANCELLED)
        .group_by(OrderRecord.currency)
    ).all()
    returned = (ReturnRecord.created_at >= since) & (ReturnRecord.created_at < until)
    returns_query = select(ReturnRecord.lines, ReturnRecord.currency, ReturnRecord.refund_minor).where(returned)
    if channel:
        returns_query = returns_query.join(OrderRecord, OrderRecord.order_id == ReturnRecord.order_id).where(
            OrderRecord.channel == channel
        )
    returns = session.execute(returns_query).all()
    refunded: dict[str, int] = {}
    for _, currency, refund_minor in returns:
        refunded[currency] = refunded.get(currency, 0) + int(refund_minor)
    return KpiRows(
        delivery_seconds_by_carrier=_delivery_seconds(session, received),
        orders_by_status={status: int(count) for status, count in by_status.items()},
        processing_seconds=[
            (shipped_at - received_at).total_seconds() for received_at, shipped_at in shipped if shipped_at
        ],
        shipments=sum(int(count) for _, count, _ in costs),
        fulfilment_cost_by_currency={currency: int(total or 0) for currency, _, total in costs},
        returns=len(returns),
        returned_units=sum(sum(int(units) for units in lines.values()) for lines, _, _ in returns),
        refunded_by_currency=refunded,
        defects=defects_per_sku(session, since, until, channel=channel, limit=TOP_DEFECTS),
        after_sales=after_sales(session, since, until, channel),
    )
