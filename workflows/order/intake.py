"""Intake: the order recorded once, then checked before anything is reserved or charged; what
cannot be recorded as sent, or does not pass the checks, waits ON_HOLD for a person."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.order_records import (
        OrderRecords,
        RecordOrderInput,
        RecordOrderResult,
        ValidateOrderInput,
        ValidateOrderResult,
    )
    from contracts.order_workflow import OrderRun
    from domain.order import Order
    from domain.status import OrderStatus

from workflows.order.steps import OrderSteps


class Intake:
    def __init__(self, run: OrderRun, steps: OrderSteps) -> None:
        self._run = run
        self._steps = steps

    async def record(self, order: Order, received_at: datetime) -> None:
        """Record the order. One the database cannot hold as sent is kept as a placeholder ON_HOLD
        (the activity says why) and waits for a person: a release tries again; a cancel raises
        Cancelled (nothing was done yet but the placeholder)."""
        while True:
            recorded: RecordOrderResult = await self._steps.activity(
                OrderRecords.record_order, RecordOrderInput(order, received_at), summary="record order"
            )
            if recorded.hold_reason is None:
                return
            self._steps.mark(OrderStatus.ON_HOLD, recorded.hold_reason)
            await self._steps.wait_for_a_person()
            self._steps.expect_a_person()

    async def validate_until_released(self, order: Order) -> None:
        """Check the order (unknown SKUs, totals that do not reconcile, currencies); held until a
        person fixes what is wrong and releases it, or cancels (Cancelled)."""
        attempt = 0
        while True:
            attempt += 1
            self._steps.expect_a_person()
            checked = self._run.order_now(order)  # an edit made while held is checked as it now stands
            result: ValidateOrderResult = await self._steps.activity(
                OrderRecords.validate_order,
                ValidateOrderInput(checked, attempt, workflow.now(), channel_total_accepted=self._run.total_accepted),
                summary="validate",
            )
            self._run.price_mismatch = result.price_mismatch
            if not result.hold_reasons:
                if self._run.status is OrderStatus.ON_HOLD:
                    await self._steps.set_status(OrderStatus.RECEIVED, detail="released")
                return
            self._steps.mark(OrderStatus.ON_HOLD, "; ".join(result.hold_reasons))
            self._run.held_at_intake = True
            try:
                await self._steps.wait_for_a_person()
            finally:
                self._run.held_at_intake = False
