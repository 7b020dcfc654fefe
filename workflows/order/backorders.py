"""Backorders: an order (or the rest of one) waits for stock until a restock wakes it, a person
releases or cancels it, or its deadline passes. A wait that makes the history long continues as a
new run of the same order, carrying its state (contracts.order_workflow.OrderRun)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.order_workflow import DEFAULT_HISTORY_LIMIT, OrderRun, OrderWorkflowInput
    from domain.status import OrderStatus

from workflows.order.payment import Payment
from workflows.order.steps import OrderSteps


class Backorders:
    def __init__(self, run: OrderRun, steps: OrderSteps, payment: Payment) -> None:
        self._run = run
        self._steps = steps
        self._payment = payment

    async def wait_for_stock(self, data: OrderWorkflowInput, auto_cancel_after_days: int | None) -> bool:
        """Wait for a restock of a SKU we need, a person's release or cancel (Cancelled), or the
        backorder deadline (the channel's auto-cancel days, else the engine's). True when the
        deadline passed."""
        run = self._run
        if run.backorder_deadline is None:
            seconds = (
                auto_cancel_after_days * 86400
                if auto_cancel_after_days is not None
                else data.backorder_deadline_seconds
            )
            if seconds is not None:
                run.backorder_deadline = workflow.now() + timedelta(seconds=seconds)
        timeout = run.backorder_deadline - workflow.now() if run.backorder_deadline else None
        if self._history_is_long(data):
            await self._continue_as_new(data)
        try:
            if timeout is not None and timeout <= timedelta(0):
                raise TimeoutError
            await workflow.wait_condition(
                lambda: run.release is not None or run.cancel is not None or run.stock_arrived, timeout=timeout
            )
        except TimeoutError:
            return True
        self._steps.raise_if_cancelled()
        return False

    async def wait_for_the_remainder(self, data: OrderWorkflowInput) -> bool:
        """Part shipped, the rest backordered: wait for stock. False when the deadline cancels the
        rest (what left is settled: captured, the rest of the authorization voided)."""
        run = self._run
        waiting = ", ".join(f"{sku} x{units}" for sku, units in sorted(run.remaining.items()))
        await self._steps.set_status(OrderStatus.BACKORDERED, hold_reason=f"waiting for {waiting}")
        if not await self.wait_for_stock(data, run.auto_cancel_days):
            return True
        run.shipped_detail = f"backorder deadline passed: {waiting} will not ship"
        run.remaining = {}
        await self._payment.settle(run.order_now(data.order))
        return False

    def _history_is_long(self, data: OrderWorkflowInput) -> bool:
        """Time to hand over to a fresh run: the history passed its limit (or the server says so),
        and nothing is half done (no shipment running, no signal waiting to be acted on)."""
        run, info = self._run, workflow.info()
        limit = data.history_limit or DEFAULT_HISTORY_LIMIT
        if not (info.is_continue_as_new_suggested() or info.get_current_history_length() >= limit):
            return False
        nothing_pending = run.release is None and run.cancel is None and not run.stock_arrived
        return nothing_pending and not run.pending and not run.in_flight and not run.edit_link_open

    async def _continue_as_new(self, data: OrderWorkflowInput) -> None:
        """Continue as a new run of the same order while it waits for stock, carrying its state; the
        new run waits on (or reserves, if the stock came meanwhile). Queries, signals and updates
        go to the newest run by the order id, so nobody outside notices."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        carried = self._run.handed_on()
        workflow.logger.info(
            "%s continues as new after %d events", self._run.order_id, workflow.info().get_current_history_length()
        )
        workflow.continue_as_new(replace(data, carried=carried))
