"""What the warehouse floor and the store counter read: a location's open shipments with what a
picker needs beside them (product names and EANs, bins, the order's number and addressee, open late
steps), in a handful of queries however long the list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from domain.fulfilment import ShipmentKind, ShipmentStatus
from persistence.models import Escalation, Location, OrderRecord, Product, ShipmentRecord, StockLevel

FLOOR_LIMIT = 500
"""The most shipments one pick list or counter reads (a location with more has a bigger problem)."""


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    channel: str
    external_id: str
    reference: str
    shipping_address: dict[str, Any]
    customer_email: str


@dataclass(frozen=True)
class FloorRows:
    """Shipments and everything the floor shows beside them, by key."""

    shipments: list[ShipmentRecord]
    orders: dict[str, OrderFacts] = field(default_factory=dict)
    products: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """SKU → (name, EAN) from the catalogue."""
    bins: dict[tuple[str, str], str] = field(default_factory=dict)
    """(location, SKU) → bin."""
    location_kinds: dict[str, str] = field(default_factory=dict)
    late: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Shipment id → {step: due_at} of its open escalations."""


_WAITING = (
    ShipmentStatus.RESERVED,
    ShipmentStatus.PICKED,
    ShipmentStatus.PACKED,
    ShipmentStatus.READY_FOR_PICKUP,
)


def open_at(session: Session, location_id: str) -> FloorRows:
    """Shipments with a step still to be done at or for `location_id`: its own (reserved, picked,
    packed, waiting at its counter) and the transfers on their way to it to be put on its shelf."""
    query = (
        select(ShipmentRecord)
        .where(
            or_(
                and_(ShipmentRecord.location_id == location_id, ShipmentRecord.status.in_(_WAITING)),
                and_(
                    ShipmentRecord.transfer_to == location_id,
                    or_(
                        ShipmentRecord.status.in_(_WAITING),
                        and_(
                            ShipmentRecord.status == ShipmentStatus.SHIPPED,
                            ShipmentRecord.kind == ShipmentKind.TRANSFER_COLLECT,
                        ),
                    ),
                ),
            )
        )
        .order_by(ShipmentRecord.created_at, ShipmentRecord.shipment_id)
        .limit(FLOOR_LIMIT)
    )
    return _with_facts(session, list(session.scalars(query)))


def expired_at(session: Session, location_id: str, limit: int) -> FloorRows:
    """Pickups at the store that were not collected in time, latest first."""
    query = (
        select(ShipmentRecord)
        .where(
            ShipmentRecord.status == ShipmentStatus.EXPIRED,
            or_(
                and_(ShipmentRecord.location_id == location_id, ShipmentRecord.transfer_to.is_(None)),
                ShipmentRecord.transfer_to == location_id,
            ),
        )
        .order_by(ShipmentRecord.created_at.desc(), ShipmentRecord.shipment_id)
        .limit(limit)
    )
    return _with_facts(session, list(session.scalars(query)))


def one(session: Session, shipment_id: str) -> FloorRows | None:
    record = session.get(ShipmentRecord, shipment_id)
    return None if record is None else _with_facts(session, [record])


def _with_facts(session: Session, shipments: list[ShipmentRecord]) -> FloorRows:
    if not shipments:
        return FloorRows([])
    order_ids = {s.order_id for s in shipments}
    skus = {sku for s in shipments for sku in [*(s.lines or {}), *(s.short_lines or {})]}
    places = {s.location_id for s in shipments}
    orders = {
        row.order_id: OrderFacts(
            row.order_id,
            row.channel,
            row.external_id,
            row.reference,
            dict(row.shipping_address or {}),
            row.customer_email,
        )
        for row in session.execute(
            select(
                OrderRecord.order_id,
                OrderRecord.channel,
                OrderRecord.external_id,
                OrderRecord.reference,
                OrderRecord.shipping_address,
                OrderRecord.customer_email,
            ).where(OrderRecord.order_id.in_(order_ids))
        )
    }
    products = {
        row.sku: (row.name, row.ean)
        for row in session.execute(select(Product.sku, Product.name, Product.ean).where(Product.sku.in_(skus)))
    }
    bins = {
        (row.location_id, row.sku): row.bin
        for row in session.execute(
            select(StockLevel.location_id, StockLevel.sku, StockLevel.bin).where(
                StockLevel.location_id.in_(places), StockLevel.sku.in_(skus), StockLevel.bin.is_not(None)
            )
        )
    }
    kinds = {
        row.location_id: row.kind
        for row in session.execute(select(Location.location_id, Location.kind).where(Location.location_id.in_(places)))
    }
    late: dict[str, dict[str, Any]] = {}
    for row in session.execute(
        select(Escalation.shipment_id, Escalation.step, Escalation.due_at).where(
            Escalation.shipment_id.in_({s.shipment_id for s in shipments}), Escalation.resolved_at.is_(None)
        )
    ):
        late.setdefault(row.shipment_id, {})[row.step] = row.due_at
    return FloorRows(shipments, orders, products, bins, kinds, late)
