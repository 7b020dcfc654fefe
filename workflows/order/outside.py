"""Orders whose goods we do not ship: nothing is reserved, picked or paid here.

A counter sale already left the store with its customer: its stock record catches up, and it can no
longer be cancelled (only returned). A channel-fulfilled order ships from the channel's own stock:
recorded for reporting, and cancelled when the channel says so until its returns window closes.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from contracts.errors import ErrorType
    from contracts.inventory import Inventory, SellAtCounterInput, SellAtCounterResult
    from contracts.order_workflow import OrderRun, OrderWorkflowInput
    from domain.order import FULFILLED_AT_COUNTER, Order
    from domain.outside_fulfilment import COUNTER_SALE_REFUSAL, channel_fulfilment_detail, counter_sale_detail
    from domain.status import OrderStatus

from workflows.order.intake import Intake
from workflows.order.returns import ReturnsDesk
from workflows.order.steps import OrderSteps, refusal


class OutsideFulfilment:
    def __init__(self, run: OrderRun, steps: OrderSteps, intake: Intake, returns: ReturnsDesk) -> None:
        self._run = run
        self._steps = steps
        self._intake = intake
        self._returns = returns

    async def fulfil(self, data: OrderWorkflowInput) -> None:
        """From recorded to COMPLETED (or CANCELLED by the channel)."""
        order, run = data.order, self._run
        if run.outside == FULFILLED_AT_COUNTER:
            store = await self._sell_at_counter(order)
            await self._steps.set_status(OrderStatus.SHIPPED, detail=counter_sale_detail(store))
            await self._returns.window(data)
        else:
            if run.cancel is None:
                await self._steps.set_status(OrderStatus.SHIPPED, detail=channel_fulfilment_detail(order.channel))
                with contextlib.suppress(TimeoutError):  # the window closed without a cancel
                    await workflow.wait_condition(
                        lambda: run.cancel is not None,
                        timeout=timedelta(seconds=data.return_window_seconds),
                        timeout_summary="returns window",
                    )
            if run.cancel is not None:
                reason = run.cancel.reason or f"cancelled by {order.channel}"
                await self._steps.set_status(OrderStatus.CANCELLED, detail=reason, cancel=run.cancel)
                return
        await self._steps.set_status(OrderStatus.COMPLETED, detail="returns window closed")

    async def _sell_at_counter(self, order: Order) -> str:
        """Take the sale off the store's stock once. An unknown SKU or store holds the order: the
        record is for a person to fix, and a release tries again. Returns the store."""
        run = self._run
        if run.cancel is not None:
            # It started this run (a channel's cancel) before the run knew this was a counter sale.
            workflow.logger.info("cancel refused for %s: %s", run.order_id, COUNTER_SALE_REFUSAL)
            run.cancel = None
        await self._intake.validate_until_released(order)
        store = order.pickup_location_id or ""
        key = f"{run.order_id}:counter-sale"  # one per order, not per attempt: the sale is taken once
        while True:
            self._steps.expect_a_person()
            try:
                result: SellAtCounterResult = await self._steps.activity(
                    Inventory.sell_at_counter,
                    SellAtCounterInput(order.order_id, store, order.demand(), key, workflow.now()),
                    summary=f"sell at the counter at {store}",
                )
            except ActivityError as err:
                unknown = refusal(err, ErrorType.UNKNOWN_STORE)
                if unknown is None:
                    raise
                await self._steps.set_status(OrderStatus.ON_HOLD, hold_reason=f"counter sale: {unknown.message}")
                await self._steps.wait_for_a_person()
                continue
            run.shipping_started = True
            if result.short:
                workflow.logger.warning("counter sale %s: the stock record was short %s", run.order_id, result.short)
            return store
