"""Returns: once the order has shipped, support takes goods back (the update `request_return`) until
the returns window closes: checked against what really left (the database), restocked where they
were shipped from, refunded through our gateway (or left to the channel that took the money)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.errors import ErrorType
    from contracts.order_workflow import FulfilmentOptions, OrderRun, OrderWorkflowInput
    from contracts.return_lifecycle import OpenedReturn, OpenReturnInput, ReturnLifecycle, ReturnWorkflowInput
    from contracts.returns import (
        AcceptReturnInput,
        RefundReturnInput,
        ReturnAccepted,
        ReturnRequest,
        Returns,
        replacement_of,
    )
    from domain.carrier_events import returns_window_closes_at
    from domain.exchanges import ExchangeRefused, price_replacement
    from domain.order import FULFILLED_AT_COUNTER, Order
    from domain.return_lifecycle import Resolution, ReturnStepRefused, check_resolution

    # Only started from here, never run inside an order: taken as loaded (as workflows.order.fulfilment
    # takes ShipmentWorkflow), not re-executed in every order's sandbox. That was a third of the CPU
    # an order's sandbox start-up takes (13.9 -> 9.0 ms). Its own runs are sandboxed as ever.
    from workflows.returns import ReturnWorkflow

from workflows.order.steps import OrderSteps, refusal

RETURN_LIFECYCLE = "return-lifecycle-v1"
"""From this patch on a return request opens a ReturnWorkflow (RMA, receipt, disposition, refund);
before it a return was taken, restocked and refunded in one step."""

WINDOW_FROM_DELIVERY = "returns-window-from-delivery-v1"
"""From this patch on the window of an order we ship counts from its delivery when one is reported
(1.0: from the shipping, one timer)."""


def _refused(message: str, kind: str) -> ApplicationError:
    return ApplicationError(message, kind, type=ErrorType.RETURN_REFUSED)


def _fail_update_if_refused(err: ActivityError) -> None:
    """A return the database refused (too many units, not shipped) fails the update with the
    activity's reason; any other failure is left to the caller to raise."""
    refused = refusal(err, ErrorType.RETURN_REFUSED)
    if refused is not None:
        raise ApplicationError(refused.message, *refused.details, type=ErrorType.RETURN_REFUSED) from None


def _moved_from(run: OrderRun, closes: datetime) -> Callable[[], bool]:
    return lambda: run.window_closes_at != closes


class ReturnsDesk:
    def __init__(self, run: OrderRun, steps: OrderSteps) -> None:
        self._run = run
        self._steps = steps
        self._one_at_a_time = asyncio.Lock()
        """So two returns cannot both take the last units."""
        self._window: timedelta | None = None
        """The window's length once one that follows the delivery is open."""

    async def window(self, data: OrderWorkflowInput) -> None:
        """Returns are taken until the window closes; one being handled as it closes is finished first.
        For an order we ship the window counts from the delivery once it is reported (signal
        `delivered`), else from the shipping; a counter sale or an order the channel ships keeps
        the 1.0 window (no carrier tells us of its delivery)."""
        window = timedelta(seconds=data.return_window_seconds)
        if self._run.outside is None and workflow.patched(WINDOW_FROM_DELIVERY):
            await self._until_closed(window)
        else:
            self._run.window_closes_at = workflow.now() + window
            await workflow.sleep(window, summary="returns window")
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def _until_closed(self, window: timedelta) -> None:
        """One timer to the current end of the window; a delivery reported meanwhile moves the end."""
        run = self._run
        run.window_opened_at, self._window = workflow.now(), window
        run.window_closes_at = returns_window_closes_at(run.window_opened_at, run.delivered_at, window)
        while (left := run.window_closes_at - workflow.now()) > timedelta(0):
            try:
                await workflow.wait_condition(
                    _moved_from(run, run.window_closes_at), timeout=left, timeout_summary="returns window"
                )
            except TimeoutError:
                return

    def delivered(self, delivered_at: datetime) -> None:
        """The order reached the customer: an open window now counts from then (never shorter)."""
        run = self._run
        if run.delivered_at is not None and run.delivered_at >= delivered_at:
            return
        run.delivered_at = delivered_at
        if run.window_opened_at is not None and self._window is not None:
            run.window_closes_at = returns_window_closes_at(run.window_opened_at, delivered_at, self._window)

    def check(self, order: Order, request: ReturnRequest) -> None:
        """Refuse before anything reaches history: too early, too late, or shipped by the channel."""
        run = self._run
        if run.outside is not None and run.outside != FULFILLED_AT_COUNTER:
            raise _refused("this order was shipped by the channel: returns go through the channel", "not_shipped")
        if run.window_closes_at is None:
            raise _refused("returns open once the order has shipped", "not_shipped")
        if workflow.now() >= run.window_closes_at:
            raise _refused(f"the returns window closed at {run.window_closes_at.isoformat()}", "window_closed")
        if not request.lines:
            raise _refused("a return needs at least one line", "invalid")
        if len({line.sku for line in request.lines}) != len(request.lines):
            raise _refused("one line per SKU, please", "invalid")
        if any(line.quantity < 1 for line in request.lines):
            raise _refused("every quantity must be at least 1", "invalid")
        try:
            chosen = check_resolution(request.resolution, channel=order.channel, on_channel=bool(request.external_rma))
        except ReturnStepRefused as exc:
            raise _refused(str(exc), exc.kind.value) from None
        if chosen is not Resolution.EXCHANGE and request.replacement:
            raise _refused("replacement lines are for an exchange (resolution: exchange)", "invalid")
        if chosen is Resolution.EXCHANGE:
            try:
                price_replacement(order, replacement_of(request))
            except ExchangeRefused as exc:
                raise _refused(str(exc), "invalid") from None

    async def request(
        self, order: Order, request: ReturnRequest, options: FulfilmentOptions | None = None
    ) -> ReturnAccepted:
        """A return as the current engine takes it: opened as a ReturnWorkflow; histories from
        before the lifecycle replay the one-step return."""
        if workflow.patched(RETURN_LIFECYCLE):
            return await self.open(order, request, options)
        return await self.take(order, request)

    async def open(
        self, order: Order, request: ReturnRequest, options: FulfilmentOptions | None = None
    ) -> ReturnAccepted:
        """Record the request (checked in the database against what left and what open returns
        claim: a refusal fails the update with the reason) and start its ReturnWorkflow, which
        outlives the order's. Goods already here are settled at once and answered when done."""
        async with self._one_at_a_time:
            try:
                opened = await self._open(order, request)
            except ActivityError as err:
                _fail_update_if_refused(err)
                raise
            self._run.returns += 1
            handle = await workflow.start_child_workflow(
                ReturnWorkflow.run,
                ReturnWorkflowInput(order, request, opened, options),
                id=opened.return_id,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                static_summary=f"return {opened.rma}",
            )
        if request.received and request.resolution != Resolution.EXCHANGE.value:
            return await handle
        # An exchange's replacement may wait for stock or for the warehouse: no update waits with it.
        return ReturnAccepted(opened.return_id, opened.state, opened.refund, opened.rma)

    async def _open(self, order: Order, request: ReturnRequest) -> OpenedReturn:
        counter = self._run.outside == FULFILLED_AT_COUNTER  # no shipment records what left: the order says
        return await self._steps.activity(
            ReturnLifecycle.open_return,
            OpenReturnInput(
                key=self._steps.key("return"),
                order=order,
                request=request,
                window_closes_at=self._run.window_closes_at,
                at=workflow.now(),
                shipped=order.demand() if counter else None,
                restock_at=order.pickup_location_id if counter else None,
            ),
            summary="open a return",
            hold_on_refusal=False,
        )

    async def take(self, order: Order, request: ReturnRequest) -> ReturnAccepted:
        """Accept the return (restocked, recorded) and refund it. A refusal by what the database
        knows (too many units, not shipped) fails the update with the reason; the order carries on."""
        async with self._one_at_a_time:
            return_id = f"return-{self._run.order_id}-{self._run.returns + 1}"
            try:
                accepted = await self._accept(order, return_id, request)
            except ActivityError as err:
                _fail_update_if_refused(err)
                raise
            self._run.returns += 1
            return await self._steps.activity(
                Returns.refund_return,
                RefundReturnInput(self._run.order_id, return_id, accepted.refund, workflow.now()),
                summary=f"refund {accepted.refund.format()}",
                hold_on_refusal=False,
            )

    async def _accept(self, order: Order, return_id: str, request: ReturnRequest) -> ReturnAccepted:
        counter = self._run.outside == FULFILLED_AT_COUNTER  # no shipment records what left: the order says
        return await self._steps.activity(
            Returns.accept_return,
            AcceptReturnInput(
                order=order,
                return_id=return_id,
                lines={line.sku: line.quantity for line in request.lines},
                reason=request.reason,
                requested_by=request.requested_by,
                restock=request.restock,
                window_closes_at=self._run.window_closes_at,
                at=workflow.now(),
                shipped=order.demand() if counter else None,
                restock_at=order.pickup_location_id if counter else None,
            ),
            summary=f"accept {return_id}",
            hold_on_refusal=False,
        )
