"""What the sourcing function needs, read fresh inside the reserving transaction, and the plan made
from it (`plan_on_stock`): the one way both the reserving activity and the admin's routing preview
plan an order, so the preview cannot route differently from the real thing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.routing import RoutingPolicy
from domain.sourcing import CostProfile, SourcingLocation, SourcingPlan, SourcingRequest, plan_shipments
from persistence.models import Location, ShipmentRecord, StockLevel


def sourcing_locations(session: Session, at: datetime) -> list[SourcingLocation]:
    locations = list(session.scalars(select(Location).where(Location.active.is_(True)).order_by(Location.location_id)))
    used: dict[str, int] = {}
    if any(location.daily_order_capacity is not None for location in locations):
        # Capacity is per calendar day in UTC: shipments sourced there since midnight.
        midnight = datetime.combine(at.date(), time(0), tzinfo=at.tzinfo)
        used = dict(
            session.execute(
                select(ShipmentRecord.location_id, func.count())
                .where(ShipmentRecord.created_at >= midnight)
                .group_by(ShipmentRecord.location_id)
            ).all()
        )
    return [
        SourcingLocation(
            location_id=location.location_id,
            kind=location.kind,
            country=location.country,
            latitude=location.latitude,
            longitude=location.longitude,
            priority=location.priority,
            group=location.group,
            cost=CostProfile(location.cost_base_minor, location.cost_per_km_minor),
            ship_from_store=location.ship_from_store,
            remaining_capacity=(
                max(location.daily_order_capacity - used.get(location.location_id, 0), 0)
                if location.daily_order_capacity is not None
                else None
            ),
        )
        for location in locations
    ]


def available_by_location(session: Session, skus: Iterable[str]) -> dict[str, dict[str, int]]:
    """location → sku → units free to promise (on hand - reserved - safety stock, never below 0)."""
    result: dict[str, dict[str, int]] = {}
    rows = session.execute(
        select(
            StockLevel.location_id,
            StockLevel.sku,
            StockLevel.on_hand - StockLevel.reserved - StockLevel.safety_stock,
        ).where(StockLevel.sku.in_(sorted(set(skus))))
    )
    for location_id, sku, units in rows:
        result.setdefault(location_id, {})[sku] = max(int(units), 0)
    return result


def plan_on_stock(
    session: Session, request: SourcingRequest, at: datetime, routing: RoutingPolicy | None
) -> SourcingPlan:
    """Where the order would ship from now: `plan_shipments` over the active locations (with the
    capacity left on `at`'s day) and the stock free to promise, by `routing` (None: the default policy)."""
    return plan_shipments(
        request,
        available_by_location(session, request.demand),
        sourcing_locations(session, at),
        *((routing,) if routing else ()),
    )
