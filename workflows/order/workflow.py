"""OrderWorkflow: one durable run per order, from intake to the end of its returns window.

The class holds the order's one state (contracts.order_workflow.OrderRun), answers its handlers,
and walks the phases in order; each phase is a module of this package: intake (record, validate),
payment, sourcing and reservation (with backorders), fulfilment (a ShipmentWorkflow per location),
returns, compensation, and the orders fulfilled outside (a counter sale, the channel's own stock).
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.order_edits import EditOrderRequest, EditOrderResult
    from contracts.order_workflow import (
        CancelRequest,
        DeliveredNotice,
        OrderRun,
        OrderState,
        OrderWorkflowInput,
        OrderWorkflowResult,
        ReleaseRequest,
        StockAvailable,
    )
    from contracts.returns import ReturnAccepted, ReturnRequest
    from domain.cancellation import BY_PICKUP
    from domain.order import FULFILLED_BY_US
    from domain.outside_fulfilment import cancel_refusal_for
    from domain.status import OrderStatus, cancel_refusal

from workflows.order.backorders import Backorders
from workflows.order.compensation import Compensation
from workflows.order.edits import OrderEdits
from workflows.order.fulfilment import Fulfilment
from workflows.order.intake import Intake
from workflows.order.outside import OutsideFulfilment
from workflows.order.payment import Payment
from workflows.order.returns import ReturnsDesk
from workflows.order.sourcing import Sourcing
from workflows.order.steps import Cancelled, OrderSteps


@workflow.defn
class OrderWorkflow:
    def __init__(self) -> None:
        self._data: OrderWorkflowInput | None = None
        self._run = run = OrderRun()
        self._steps = steps = OrderSteps(run)
        self._intake = Intake(run, steps)
        self._payment = payment = Payment(run, steps)
        self._backorders = backorders = Backorders(run, steps, payment)
        self._sourcing = sourcing = Sourcing(run, steps, backorders)
        self._fulfilment = fulfilment = Fulfilment(run, steps, payment)
        self._edits = OrderEdits(run, steps, sourcing, fulfilment)
        self._returns = ReturnsDesk(run, steps)
        self._compensation = Compensation(run, steps, payment)
        self._outside = OutsideFulfilment(run, steps, self._intake, self._returns)

    # -- signals, updates and queries ----------------------------------------------------------

    @workflow.signal
    def cancel(self, request: CancelRequest) -> None:
        """Honoured until the first shipment leaves (for orders we do not ship: domain.outside_fulfilment)."""
        run = self._run
        if run.outside is not None:
            refusal = cancel_refusal_for(run.outside, run.status, run.shipping_started)
        else:
            refusal = cancel_refusal(run.status, run.shipping_started)
        if refusal is not None:
            workflow.logger.info("cancel refused for %s: %s", run.order_id, refusal)
            return
        run.cancel = request

    @workflow.signal
    def release(self, request: ReleaseRequest) -> None:
        """A person fixed what held the order (or accepts the channel's total): try again."""
        self._run.release = request
        if request.accept_channel_total and self._run.total_accepted is None:
            self._run.total_accepted = request

    @workflow.signal
    def stock_available(self, notice: StockAvailable) -> None:
        """A SKU this order waits for can be promised again: try to source the backorder now."""
        if notice.sku in self._run.remaining:
            self._run.stock_arrived = True

    @workflow.signal
    def delivered(self, notice: DeliveredNotice) -> None:
        """Every parcel to the customer's address arrived: the returns window counts from then."""
        self._returns.delivered(notice.delivered_at)

    @workflow.signal
    def payment_link_changed(self) -> None:
        """The provider's webhook says the payment link an edit waits for changed: it is read now."""
        self._edits.links.link_changed()

    @workflow.update
    async def request_return(self, request: ReturnRequest) -> ReturnAccepted:
        """Support asks for goods back (workflows.order.returns): a ReturnWorkflow is opened."""
        assert self._data is not None
        return await self._returns.request(self._run.order_now(self._data.order), request, self._data.fulfilment)

    @request_return.validator
    def _return_allowed(self, request: ReturnRequest) -> None:
        assert self._data is not None
        self._returns.check(self._run.order_now(self._data.order), request)

    @workflow.update
    async def edit_order(self, request: EditOrderRequest) -> EditOrderResult:
        """Staff or the channel change the order before it ships (workflows.order.edits)."""
        assert self._data is not None
        return await self._edits.apply(self._data.order, request)

    @edit_order.validator
    def _edit_allowed(self, request: EditOrderRequest) -> None:
        self._edits.check(self._data.order if self._data is not None else None, request)

    @workflow.query
    def state(self) -> OrderState:
        run = self._run
        return OrderState(
            order_id=run.order_id,
            status=run.status,
            hold_reason=run.hold_reason,
            shipping_started=run.shipping_started,
            cancel_requested=run.cancel is not None,
            payment_status=run.payment_status,
            shipments=list(run.shipments.values()),
            price_mismatch=run.price_mismatch and run.status is OrderStatus.ON_HOLD,
            window_closes_at=run.window_closes_at,
            delivered_at=run.delivered_at,
            version=run.edits + 1,
        )

    # -- the run -------------------------------------------------------------------------------

    @workflow.run
    async def run(self, data: OrderWorkflowInput) -> OrderWorkflowResult:
        order, run = data.order, self._run
        self._data, run.order_id, run.remaining = data, order.order_id, order.demand()
        if data.carried is not None:
            run.take_over(data.carried)  # recorded, validated and paid for in an earlier run
        else:
            if order.fulfilled_by != FULFILLED_BY_US:
                run.outside = order.fulfilled_by
            try:
                await self._intake.record(order, data.received_at)
            except Cancelled:
                await self._compensation.compensate(order)
                return OrderWorkflowResult(order.order_id, run.status)
            if run.outside is not None:
                await self._outside.fulfil(data)
                return OrderWorkflowResult(order.order_id, run.status)
        try:
            await self._until_everything_left(data)
        except Cancelled:
            await self._edits.links.call_off("the order is being cancelled")
            await self._compensation.compensate(order)
            return OrderWorkflowResult(order.order_id, run.status)
        run.may_unwind = False
        await self._edits.links.call_off("everything the order still ships has left")
        await self._payment.settle(run.order_now(order))
        await self._steps.set_status(OrderStatus.SHIPPED, detail=run.shipped_detail)
        await self._returns.window(data)
        await self._steps.set_status(OrderStatus.COMPLETED, detail="returns window closed")
        return OrderWorkflowResult(order.order_id, run.status)

    async def _until_everything_left(self, data: OrderWorkflowInput) -> None:
        """The forward path, where a cancel unwinds to the compensation (Cancelled): validate and
        authorize (not again in a continued run), then source, reserve and fulfil until nothing
        remains, or what remains will not ship (a backorder deadline, a cancel after a handover)."""
        order, run = data.order, self._run
        run.may_unwind = True
        if data.carried is None:
            await self._intake.validate_until_released(order)
            await self._payment.authorize(run.order_now(order))
        while True:
            await self._sourcing.reserve(data)
            await self._fulfilment.fulfil_pending(order, data.fulfilment)
            if run.editing or run.edits:
                await self._edits.settled(lambda: self._fulfilment.fulfil_pending(order, data.fulfilment))
            waiting = not run.remaining and self._edits.links.open  # an edit still waits for its payment
            if waiting and await self._edits.links.call_off("everything the order still ships has left"):
                continue  # paid and applied first: what it added is to ship
            if not run.remaining:
                break
            if run.resource_now:  # a short pick: source the missing units elsewhere right away
                run.resource_now = False
                continue
            if not await self._backorders.wait_for_the_remainder(data):
                break
        if not run.handed_over_any:
            # Nothing left any location (every pickup expired): nothing to charge.
            run.cancel = run.cancel or CancelRequest(reason="nothing was handed over", requested_by=BY_PICKUP)
            raise Cancelled
