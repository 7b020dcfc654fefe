"""Reserving and releasing stock for an order, exactly once per workflow step."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from temporalio import activity

from domain.sourcing import choose_single_location
from domain.status import OrderStatus
from persistence import inventory
from persistence import orders as order_store
from persistence.db import SessionFactory
from persistence.idempotency import run_once
from persistence.models import ShipmentRecord
from workflows.payloads import ReleaseStockInput, ReleaseStockResult, ReserveStockInput, ReserveStockResult


def shipment_id_for(order_id: str, location_id: str) -> str:
    return f"shipment-{order_id}-{location_id}"


class InventoryActivities:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._session_factory = session_factory

    @activity.defn
    def reserve_stock(self, data: ReserveStockInput) -> ReserveStockResult:
        """Plan from fresh stock and reserve it in one transaction; a lost race reports a conflict."""
        try:
            stored = run_once(self._session_factory, data.idempotency_key, lambda s: self._reserve(s, data))
        except inventory.InsufficientStock as exc:
            # Another order took the stock between our read and our guarded update: nothing was
            # reserved (the transaction rolled back) and the workflow plans again.
            return ReserveStockResult(ReserveStockResult.CONFLICT, str(exc))
        return ReserveStockResult(**stored)

    def _reserve(self, session: Session, data: ReserveStockInput) -> dict[str, Any]:
        decision = choose_single_location(data.demand, inventory.candidates_for(session, data.demand))
        if decision.location_id is None:
            # Stored like a success: the workflow's next attempt uses a new key and looks again.
            order_store.set_status(
                session, data.order_id, OrderStatus.BACKORDERED, hold_reason=decision.reason, at=data.at
            )
            return {"outcome": ReserveStockResult.INSUFFICIENT, "reason": decision.reason}
        inventory.reserve(session, decision.location_id, data.demand, data.order_id)
        shipment_id = shipment_id_for(data.order_id, decision.location_id)
        session.add(
            ShipmentRecord(
                shipment_id=shipment_id,
                order_id=data.order_id,
                location_id=decision.location_id,
                status="RESERVED",
                lines=dict(data.demand),
                created_at=data.at,
            )
        )
        order_store.set_status(session, data.order_id, OrderStatus.RESERVED, detail=decision.reason, at=data.at)
        return {
            "outcome": ReserveStockResult.RESERVED,
            "reason": decision.reason,
            "location_id": decision.location_id,
            "shipment_id": shipment_id,
        }

    @activity.defn
    def release_stock(self, data: ReleaseStockInput) -> ReleaseStockResult:
        def effect(session: Session) -> dict[str, Any]:
            inventory.release(session, data.location_id, data.demand, data.order_id)
            record = session.get(ShipmentRecord, data.shipment_id)
            if record is not None:
                record.status = "CANCELLED"
                record.cancelled_at = data.at
            order_store.add_event(
                session,
                data.order_id,
                "stock_released",
                f"{sum(data.demand.values())} units at {data.location_id}",
                data.at,
            )
            return {"released": True}

        run_once(self._session_factory, data.idempotency_key, effect)
        return ReleaseStockResult(released=True)
