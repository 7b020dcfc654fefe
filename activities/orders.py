"""Recording, validating and moving orders through their statuses in the read model."""

from __future__ import annotations

from sqlalchemy.orm import Session
from temporalio import activity

from domain.order import hold_reasons
from domain.status import OrderStatus
from persistence import backorders, inventory
from persistence import orders as order_store
from persistence.db import SessionFactory
from persistence.idempotency import run_once
from persistence.unit_of_work import UnitOfWork
from workflows.payloads import (
    ChangeStatusInput,
    ChangeStatusResult,
    RecordOrderInput,
    RecordOrderResult,
    ValidateOrderInput,
    ValidateOrderResult,
)


class OrderActivities:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._session_factory = session_factory

    @activity.defn
    def record_order(self, data: RecordOrderInput) -> RecordOrderResult:
        with UnitOfWork(self._session_factory) as uow:
            created = order_store.record_order(uow.session, data.order, data.received_at)
            uow.commit()
        return RecordOrderResult(created=created)

    @activity.defn
    def validate_order(self, data: ValidateOrderInput) -> ValidateOrderResult:
        """Decide whether a person must look at the order; a hold is written to the read model here."""
        order = data.order

        def effect(session: Session) -> dict[str, list[str]]:
            known = inventory.known_skus(session, (line.sku for line in order.lines))
            reasons = hold_reasons(order, known)
            if reasons:
                order_store.set_status(
                    session, order.order_id, OrderStatus.ON_HOLD, hold_reason="; ".join(reasons), at=data.at
                )
            return {"hold_reasons": reasons}

        result = run_once(self._session_factory, f"{order.order_id}:validate:{data.attempt}", effect)
        return ValidateOrderResult(hold_reasons=list(result["hold_reasons"]))

    @activity.defn
    def change_status(self, data: ChangeStatusInput) -> ChangeStatusResult:
        def effect(session: Session) -> dict[str, str]:
            if data.status in (OrderStatus.CANCELLED, OrderStatus.SHIPPED, OrderStatus.COMPLETED):
                backorders.forget(session, data.order_id)  # nothing waits for stock any more
            order_store.set_status(
                session, data.order_id, data.status, hold_reason=data.hold_reason, detail=data.detail, at=data.at
            )
            return {"status": data.status.value}

        run_once(self._session_factory, data.idempotency_key, effect)
        return ChangeStatusResult(status=data.status)
