"""Compensation: a cancelled order undoes exactly what was done, each step once: stock reserved for
shipments that never started is released, the authorization is voided, store credit the order spent
goes back to the customer's account, the order ends CANCELLED.
(Shipments that did start release their own stock when they are withdrawn: workflows.shipment.)"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.inventory import Inventory, ReleaseStockInput
    from contracts.order_workflow import OrderRun, ShipmentState
    from contracts.store_credit import ReverseCreditInput, ReverseCreditResult, StoreCredit
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
        if run.editing:  # an edit being applied may still reserve: what it reserves is released here too
            await workflow.wait_condition(lambda: not run.editing)
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
        if order.store_credit is not None and workflow.patched("store-credit-reversal-v1"):
            await self._give_credit_back(order)
        reason = run.cancel.reason if run.cancel else ""
        await self._steps.set_status(OrderStatus.CANCELLED, detail=reason or "cancelled", cancel=run.cancel)

    async def _give_credit_back(self, order: Order) -> None:
        """What the order spent of the customer's store credit goes back to their account, into the
        lots it came from (with their expiry)."""
        assert order.store_credit is not None
        back: ReverseCreditResult = await self._steps.activity(
            StoreCredit.reverse_store_credit,
            ReverseCreditInput(order.order_id, self._steps.key("credit-reverse"), workflow.now()),
            summary=f"give back {order.store_credit.format()} store credit",
        )
        workflow.logger.info("store credit given back for %s: %d entries", order.order_id, len(back.given_back))
