"""Pick, pack and ship a shipment through the warehouse provider; shipping moves stock out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.status import OrderStatus
from integrations.providers import Dispatch, Warehouse
from persistence import inventory
from persistence import orders as order_store
from persistence.db import SessionFactory
from persistence.idempotency import run_once, stored_result
from persistence.models import ShipmentRecord
from workflows.payloads import ShipmentStepInput, ShipmentStepResult


def _step_result(record: ShipmentRecord) -> dict[str, Any]:
    return {
        "shipment_id": record.shipment_id,
        "status": record.status,
        "carrier": record.carrier,
        "tracking_number": record.tracking_number,
        "label_ref": record.label_ref,
    }


T = TypeVar("T")


class FulfilmentActivities:
    def __init__(self, session_factory: SessionFactory, warehouse: Warehouse) -> None:
        self._session_factory = session_factory
        self._warehouse = warehouse

    def _step(
        self,
        data: ShipmentStepInput,
        call_warehouse: Callable[[], T],
        apply: Callable[[Session, ShipmentRecord, T], None],
    ) -> ShipmentStepResult:
        """Call the warehouse or carrier with no transaction open (it dedupes by shipment), then
        record the outcome exactly once; a retry of a recorded step calls nobody."""
        stored = stored_result(self._session_factory, data.idempotency_key)
        if stored is not None:
            return ShipmentStepResult(**stored)
        outcome = call_warehouse()

        def effect(session: Session) -> dict[str, Any]:
            record = session.get(ShipmentRecord, data.shipment_id)
            if record is None:
                raise ApplicationError(
                    f"shipment {data.shipment_id} is not recorded", type="UnknownShipment", non_retryable=True
                )
            apply(session, record, outcome)
            return _step_result(record)

        return ShipmentStepResult(**run_once(self._session_factory, data.idempotency_key, effect))

    @activity.defn
    def pick_shipment(self, data: ShipmentStepInput) -> ShipmentStepResult:
        def apply(session: Session, record: ShipmentRecord, _: None) -> None:
            record.status, record.picked_at = "PICKED", data.at
            order_store.set_status(
                session,
                data.order_id,
                OrderStatus.IN_FULFILMENT,
                detail=f"picked at {data.location_id}",
                at=data.at,
                only_from=OrderStatus.RESERVED,
            )

        return self._step(
            data, lambda: self._warehouse.request_pick(data.shipment_id, data.location_id, data.demand), apply
        )

    @activity.defn
    def pack_shipment(self, data: ShipmentStepInput) -> ShipmentStepResult:
        def apply(session: Session, record: ShipmentRecord, _: None) -> None:
            record.status, record.packed_at = "PACKED", data.at
            order_store.add_event(session, data.order_id, "packed", data.shipment_id, data.at)

        return self._step(data, lambda: self._warehouse.confirm_pack(data.shipment_id), apply)

    @activity.defn
    def ship_shipment(self, data: ShipmentStepInput) -> ShipmentStepResult:
        def apply(session: Session, record: ShipmentRecord, dispatch: Dispatch) -> None:
            inventory.ship(session, data.location_id, data.demand, data.order_id)
            record.status, record.shipped_at = "SHIPPED", data.at
            record.carrier, record.tracking_number = dispatch.carrier, dispatch.tracking_number
            record.label_ref = dispatch.label_ref
            order_store.add_event(
                session, data.order_id, "shipped", f"{dispatch.carrier} {dispatch.tracking_number}", data.at
            )

        return self._step(data, lambda: self._warehouse.dispatch(data.shipment_id, data.location_id), apply)
