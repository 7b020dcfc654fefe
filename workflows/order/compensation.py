"""Compensation: a cancelled order undoes exactly what was done, each step once: stock reserved for
shipments that never started is released, the authorization is voided, the order ends CANCELLED.
(Shipments that did start release their own stock when they are withdrawn: workflows.shipment.)"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.inventory import Inventory, ReleaseStockInput
    from contracts.order_workflow import OrderRun, ShipmentState
    from domain.fulfilment import ShipmentStatus
    from domain.order import Order
    from domain.status import OrderStatus

from workflows.order.payment import Payment
from workflows.order.steps import OrderSteps


class Compensation:
    def __init__(self, run: OrderRun, steps: OrderSteps, payment: Payment) -> None:
        self._run = run
        self._steps = steps
        self._payment = payment

    async def compensate(self, order: Order) -> None:
        run = self._run
        run.may_unwind = False
        for shipment in run.pending:
            await self._steps.activity(
                Inventory.release_stock,
                ReleaseStockInput(
                    order.order_id,
                    shipment.shipment_id,
                    shipment.location_id,
                    dict(shipment.lines),
                    self._steps.key("release"),
                    workflow.now(),
                ),
                summary=f"release stock at {shipment.location_id}",
            )
            run.shipments[shipment.shipment_id] = ShipmentState(
                shipment.shipment_id, shipment.location_id, ShipmentStatus.CANCELLED
            )
        run.pending = []
        await self._payment.void_the_rest(order)
        reason = run.cancel.reason if run.cancel else ""
        await self._steps.set_status(OrderStatus.CANCELLED, detail=reason or "cancelled", cancel=run.cancel)
