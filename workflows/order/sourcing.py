"""Sourcing and reservation: what is still wanted is planned by the channel's routing rules over
fresh stock and reserved in one activity. A lost race plans again; no stock waits as a backorder; a
channel's rules may hold the order for a person or cancel it."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.inventory import Inventory, ReserveStockInput, ReserveStockResult
    from contracts.order_workflow import CancelRequest, OrderRun, OrderWorkflowInput, ShipmentState
    from domain.cancellation import BY_DEADLINE, BY_SOURCING
    from domain.fulfilment import ShipmentStatus
    from domain.order import Order
    from domain.status import OrderStatus

from workflows.order.backorders import Backorders
from workflows.order.steps import Cancelled, OrderSteps

MAX_RESERVE_ATTEMPTS = 5
"""Races lost in a row before the order waits as a backorder instead of planning again at once."""


class Sourcing:
    def __init__(self, run: OrderRun, steps: OrderSteps, backorders: Backorders) -> None:
        self._run = run
        self._steps = steps
        self._backorders = backorders

    async def reserve(self, data: OrderWorkflowInput) -> None:
        """Source and reserve what is still wanted; wait (hold, backorder) until something is.
        Returns without a reservation only when part of the order has left already (the rest
        then waits as a backorder in the order's own loop)."""
        run, conflicts = self._run, 0
        while True:
            self._steps.raise_if_cancelled()
            if run.editing:  # an edit changes what is wanted: reserve what it leaves
                await workflow.wait_condition(lambda: not run.editing)
                self._steps.raise_if_cancelled()
            if run.edits and not run.remaining:
                return  # an edit took away what was waiting
            self._steps.expect_a_person(or_stock=True)
            result = await self._reserve_once(run.order_now(data.order))
            if result.shipments:
                self._take(result)
                return
            if result.outcome == ReserveStockResult.CONFLICT and conflicts < MAX_RESERVE_ATTEMPTS:
                conflicts += 1  # lost a race for the last units: plan again on fresh stock
                continue
            conflicts = 0
            if run.handed_over_any:
                return
            if result.outcome == ReserveStockResult.CANCEL:
                run.cancel = CancelRequest(reason=f"routing: {result.reason}", requested_by=BY_SOURCING)
                raise Cancelled
            if result.outcome == ReserveStockResult.HOLD:
                self._steps.mark(OrderStatus.ON_HOLD, result.reason)
                await self._steps.wait_for_a_person()
                continue
            if result.outcome == ReserveStockResult.CONFLICT:
                await self._steps.set_status(OrderStatus.BACKORDERED, hold_reason=result.reason)
            else:
                self._steps.mark(OrderStatus.BACKORDERED, result.reason)
            if await self._backorders.wait_for_stock(data, result.auto_cancel_after_days):
                run.cancel = CancelRequest(reason="backorder deadline passed", requested_by=BY_DEADLINE)
                raise Cancelled

    async def reserve_now(self, order: Order) -> bool:
        """An edit's demand, reserved at once while the order's shipments run: True when some was
        (its shipments wait in `pending`); what was not remains for the order's own loop."""
        result = await self._reserve_once(order)
        if not result.shipments:
            return False
        run, status = self._run, self._run.status
        self._take(result)
        self._steps.mark(status, run.hold_reason)  # the order goes on as it was (in fulfilment)
        return True

    async def _reserve_once(self, order: Order) -> ReserveStockResult:
        run = self._run
        run.sourcing = True
        try:
            return await self._reserve_activity(order)
        finally:
            run.sourcing = False

    async def _reserve_activity(self, order: Order) -> ReserveStockResult:
        return await self._steps.activity(
            Inventory.reserve_stock,
            ReserveStockInput(
                order.order_id,
                dict(self._run.remaining),
                self._steps.key("reserve"),
                workflow.now(),
                channel=order.channel,
                destination=order.destination(),
                unit_values=order.unit_values(),
                round=self._run.reserved_rounds + 1,
            ),
            summary="source and reserve stock",
        )

    def _take(self, result: ReserveStockResult) -> None:
        """The shipments reserved wait to be fulfilled; what could not be reserved remains."""
        run = self._run
        run.reserved_rounds += 1
        run.pending.extend(result.shipments)
        for shipment in result.shipments:
            run.shipments[shipment.shipment_id] = ShipmentState(
                shipment.shipment_id, shipment.location_id, ShipmentStatus.RESERVED
            )
        run.remaining = dict(result.unfilled)
        run.auto_cancel_days = result.auto_cancel_after_days
        self._steps.mark(OrderStatus.RESERVED)
