"""OrderWorkflow: one durable run per order, from intake to the end of its returns window."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.errors import ErrorType
    from contracts.inventory import (
        Inventory,
        ReleaseStockInput,
        ReservedShipment,
        ReserveStockInput,
        ReserveStockResult,
        SellAtCounterInput,
        SellAtCounterResult,
    )
    from contracts.order_records import (
        ChangeStatusInput,
        OrderRecords,
        RecordOrderInput,
        RecordOrderResult,
        ValidateOrderInput,
        ValidateOrderResult,
    )
    from contracts.order_workflow import (
        DEFAULT_HISTORY_LIMIT,
        CancelRequest,
        FulfilmentOptions,
        OrderCarried,
        OrderState,
        OrderWorkflowInput,
        OrderWorkflowResult,
        ReleaseRequest,
        ShipmentState,
        StockAvailable,
    )
    from contracts.payments import AuthorizePaymentInput, PaymentResult, Payments, PaymentStepInput
    from contracts.returns import AcceptReturnInput, RefundReturnInput, ReturnAccepted, ReturnRequest, Returns
    from contracts.shipments import ShipmentOutcome, ShipmentWorkflowInput
    from domain.allocation import charge_for_parcel, charged_for
    from domain.cancellation import BY_DEADLINE, BY_PAYMENT, BY_PICKUP, BY_SOURCING
    from domain.fulfilment import ShipmentStatus, shipment_kind, sla_for
    from domain.money import Money
    from domain.order import FULFILLED_AT_COUNTER, FULFILLED_BY_US, Order
    from domain.outside_fulfilment import (
        COUNTER_SALE_REFUSAL,
        cancel_refusal_for,
        channel_fulfilment_detail,
        counter_sale_detail,
    )
    from domain.sourcing import Destination
    from domain.status import OrderStatus, cancel_refusal
    from workflows.policies import STEP_RETRY, STEP_TIMEOUT
    from workflows.search_attributes import ORDER_STATUS
    from workflows.shipment import ShipmentWorkflow

MAX_RESERVE_ATTEMPTS = 5


class _Cancelled(Exception):
    """Raised inside the run to unwind to the compensation path."""


@workflow.defn
class OrderWorkflow:
    def __init__(self) -> None:
        self._order_id = ""
        self._input: OrderWorkflowInput | None = None
        self._status = OrderStatus.RECEIVED
        self._hold_reason: str | None = None
        self._cancel: CancelRequest | None = None
        self._release: ReleaseRequest | None = None
        self._total_accepted: ReleaseRequest | None = None
        self._may_unwind = False
        """Inside the run's forward path, where a cancel unwinds to the compensation (not while
        compensating, settling or answering a return)."""
        """The release that accepted the channel's total of an order that does not reconcile."""
        self._price_mismatch = False
        self._stock_arrived = False
        self._shipping_started = False
        self._payment: PaymentResult | None = None
        self._payment_status: str | None = None
        self._captured = 0
        self._left_units: dict[str, int] = {}
        """Units handed over to carriers or customers so far, per SKU."""
        self._remaining: dict[str, int] = {}
        self._pending: list[ReservedShipment] = []
        self._reserved_rounds = 0
        self._shipments: dict[str, ShipmentState] = {}
        self._backorder_deadline: datetime | None = None
        self._auto_cancel_days: int | None = None
        self._shipped_detail = "everything shipped"
        self._steps: dict[str, int] = {}
        self._in_flight: dict[str, tuple[ReservedShipment, Any]] = {}
        self._withdrawn = False
        self._resource_now = False
        self._handed_over_any = False
        self._not_collected: dict[str, int] = {}
        self._window_closes_at: datetime | None = None
        self._returns = 0
        self._returns_lock = asyncio.Lock()
        self._outside: str | None = None
        """How an order we do not ship is fulfilled (counter or channel); None: by us."""

    # -- signals and queries -------------------------------------------------------------------

    @workflow.signal
    def cancel(self, request: CancelRequest) -> None:
        if self._outside is not None:
            refusal = cancel_refusal_for(self._outside, self._status, self._shipping_started)
        else:
            refusal = cancel_refusal(self._status, self._shipping_started)
        if refusal is not None:
            workflow.logger.info("cancel refused for %s: %s", self._order_id, refusal)
            return
        self._cancel = request

    @workflow.signal
    def release(self, request: ReleaseRequest) -> None:
        self._release = request
        if request.accept_channel_total and self._total_accepted is None:
            self._total_accepted = request

    @workflow.signal
    def stock_available(self, notice: StockAvailable) -> None:
        """A SKU this order waits for can be promised again: try to source the backorder now."""
        if notice.sku in self._remaining:
            self._stock_arrived = True

    @workflow.update
    async def request_return(self, request: ReturnRequest) -> ReturnAccepted:
        """Support takes goods back: checked against what really left (the database), restocked
        where they were shipped from, refunded through our gateway (or left to the channel that
        took the money). One return at a time, so two cannot both take the last units."""
        async with self._returns_lock:
            assert self._input is not None
            order = self._input.order
            return_id = f"return-{self._order_id}-{self._returns + 1}"
            counter = self._outside == FULFILLED_AT_COUNTER
            try:
                accepted = await self._accept_return(order, return_id, request, counter)
            except ActivityError as err:
                cause = err.cause
                if isinstance(cause, ApplicationError) and cause.type == ErrorType.RETURN_REFUSED:
                    # Refused by what the database knows (too many units, not shipped): the update
                    # fails with the reason; the workflow carries on.
                    raise ApplicationError(cause.message, *cause.details, type=ErrorType.RETURN_REFUSED) from None
                raise
            self._returns += 1
            refunded: ReturnAccepted = await self._activity(
                Returns.refund_return,
                RefundReturnInput(self._order_id, return_id, accepted.refund, workflow.now()),
                summary=f"refund {accepted.refund.format()}",
                hold_on_refusal=False,
            )
            return refunded

    async def _accept_return(
        self, order: Order, return_id: str, request: ReturnRequest, counter: bool
    ) -> ReturnAccepted:
        accepted: ReturnAccepted = await self._activity(
            Returns.accept_return,
            AcceptReturnInput(
                order=order,
                return_id=return_id,
                lines={line.sku: line.quantity for line in request.lines},
                reason=request.reason,
                requested_by=request.requested_by,
                restock=request.restock,
                window_closes_at=self._window_closes_at,
                at=workflow.now(),
                shipped=order.demand() if counter else None,
                restock_at=order.pickup_location_id if counter else None,
            ),
            summary=f"accept {return_id}",
            hold_on_refusal=False,
        )
        return accepted

    @request_return.validator
    def _return_allowed(self, request: ReturnRequest) -> None:
        """Refuse before anything reaches history: too early, too late, or shipped by the channel."""
        if self._outside is not None and self._outside != FULFILLED_AT_COUNTER:
            raise ApplicationError(
                "this order was shipped by the channel: returns go through the channel",
                "not_shipped",
                type=ErrorType.RETURN_REFUSED,
            )
        if self._window_closes_at is None:
            raise ApplicationError(
                "returns open once the order has shipped", "not_shipped", type=ErrorType.RETURN_REFUSED
            )
        if workflow.now() >= self._window_closes_at:
            raise ApplicationError(
                f"the returns window closed at {self._window_closes_at.isoformat()}",
                "window_closed",
                type=ErrorType.RETURN_REFUSED,
            )
        if not request.lines:
            raise ApplicationError("a return needs at least one line", "invalid", type=ErrorType.RETURN_REFUSED)
        if len({line.sku for line in request.lines}) != len(request.lines):
            raise ApplicationError("one line per SKU, please", "invalid", type=ErrorType.RETURN_REFUSED)
        if any(line.quantity < 1 for line in request.lines):
            raise ApplicationError("every quantity must be at least 1", "invalid", type=ErrorType.RETURN_REFUSED)

    @workflow.query
    def state(self) -> OrderState:
        return OrderState(
            order_id=self._order_id,
            status=self._status,
            hold_reason=self._hold_reason,
            shipping_started=self._shipping_started,
            cancel_requested=self._cancel is not None,
            payment_status=self._payment_status,
            shipments=list(self._shipments.values()),
            price_mismatch=self._price_mismatch and self._status is OrderStatus.ON_HOLD,
        )

    # -- the run -------------------------------------------------------------------------------

    @workflow.run
    async def run(self, data: OrderWorkflowInput) -> OrderWorkflowResult:
        order = data.order
        self._order_id, self._input = order.order_id, data
        self._remaining = order.demand()
        if data.carried is not None:
            self._resume(data.carried)  # recorded, validated and paid for in an earlier run
        else:
            if order.fulfilled_by != FULFILLED_BY_US:
                self._outside = order.fulfilled_by
            if not await self._record(order, data.received_at):
                return OrderWorkflowResult(order.order_id, self._status)
            if self._outside is not None:
                return await self._run_outside(order, data)
        try:
            self._may_unwind = True
            if data.carried is None:
                await self._validate_until_released(order)
                await self._authorize(order)
            while True:
                await self._reserve(order)
                await self._fulfil_pending(order)
                if not self._remaining:
                    break
                if self._resource_now:  # a short pick: source the missing units elsewhere right away
                    self._resource_now = False
                    continue
                if not await self._wait_for_the_remainder(order):
                    break
            if not self._handed_over_any:
                # Nothing left any location (every pickup expired): nothing to charge.
                self._cancel = self._cancel or CancelRequest(reason="nothing was handed over", requested_by=BY_PICKUP)
                raise _Cancelled
        except _Cancelled:
            await self._compensate(order)
            return OrderWorkflowResult(order.order_id, self._status)
        self._may_unwind = False
        await self._settle_payment(order)
        await self._set_status(OrderStatus.SHIPPED, detail=self._shipped_detail)
        await self._returns_window(data)
        await self._set_status(OrderStatus.COMPLETED, detail="returns window closed")
        return OrderWorkflowResult(order.order_id, self._status)

    async def _returns_window(self, data: OrderWorkflowInput) -> None:
        """Returns are taken (update `request_return`) until the window closes; one being handled
        as it closes is finished first."""
        window = timedelta(seconds=data.return_window_seconds)
        self._window_closes_at = workflow.now() + window
        await workflow.sleep(window, summary="returns window")
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def _run_outside(self, order: Order, data: OrderWorkflowInput) -> OrderWorkflowResult:
        """An order whose goods we do not ship: nothing is reserved, picked or paid here.

        A counter sale already left the store with its customer: its stock record catches up, and
        it can no longer be cancelled (only returned). A channel-fulfilled order ships from the
        channel's own stock: recorded for reporting, and cancelled when the channel says so until
        its returns window closes.
        """
        window = timedelta(seconds=data.return_window_seconds)
        if self._outside == FULFILLED_AT_COUNTER:
            store = await self._sell_at_counter(order)
            await self._set_status(OrderStatus.SHIPPED, detail=counter_sale_detail(store))
            await self._returns_window(data)
        else:
            if self._cancel is None:
                await self._set_status(OrderStatus.SHIPPED, detail=channel_fulfilment_detail(order.channel))
                with contextlib.suppress(TimeoutError):  # the window closed without a cancel
                    await workflow.wait_condition(
                        lambda: self._cancel is not None, timeout=window, timeout_summary="returns window"
                    )
            if self._cancel is not None:
                reason = self._cancel.reason or f"cancelled by {order.channel}"
                await self._set_status(OrderStatus.CANCELLED, detail=reason, cancel=self._cancel)
                return OrderWorkflowResult(order.order_id, self._status)
        await self._set_status(OrderStatus.COMPLETED, detail="returns window closed")
        return OrderWorkflowResult(order.order_id, self._status)

    async def _sell_at_counter(self, order: Order) -> str:
        """Take the sale off the store's stock once. An unknown SKU or store holds the order: the
        record is for a person to fix, and a release tries again. Returns the store."""
        if self._cancel is not None:
            # It started this run (a channel's cancel) before the run knew this was a counter sale.
            workflow.logger.info("cancel refused for %s: %s", self._order_id, COUNTER_SALE_REFUSAL)
            self._cancel = None
        await self._validate_until_released(order)
        store = order.pickup_location_id or ""
        while True:
            self._expect_a_person()
            try:
                result: SellAtCounterResult = await self._activity(
                    Inventory.sell_at_counter,
                    # One key per order, not per attempt: whatever happens, the sale is taken once.
                    SellAtCounterInput(
                        order.order_id, store, order.demand(), f"{self._order_id}:counter-sale", workflow.now()
                    ),
                    summary=f"sell at the counter at {store}",
                )
            except ActivityError as err:
                cause = err.cause
                if not (isinstance(cause, ApplicationError) and cause.type == ErrorType.UNKNOWN_STORE):
                    raise
                await self._set_status(OrderStatus.ON_HOLD, hold_reason=f"counter sale: {cause.message}")
                await self._wait_for_a_person()
                continue
            self._shipping_started = True
            if result.short:
                workflow.logger.warning("counter sale %s: the stock record was short %s", self._order_id, result.short)
            return store

    async def _record(self, order: Order, received_at: datetime) -> bool:
        """Record the order. One the database cannot hold as sent is kept as a placeholder ON_HOLD
        (the activity says why) and waits for a person: a release tries again, a cancel ends it
        (False)."""
        while True:
            recorded: RecordOrderResult = await self._activity(
                OrderRecords.record_order, RecordOrderInput(order, received_at), summary="record order"
            )
            if recorded.hold_reason is None:
                return True
            self._mark(OrderStatus.ON_HOLD, recorded.hold_reason)
            try:
                await self._wait_for_a_person()
            except _Cancelled:
                await self._compensate(order)
                return False
            self._expect_a_person()

    async def _validate_until_released(self, order: Order) -> None:
        attempt = 0
        while True:
            attempt += 1
            self._expect_a_person()
            result: ValidateOrderResult = await self._activity(
                OrderRecords.validate_order,
                ValidateOrderInput(order, attempt, workflow.now(), channel_total_accepted=self._total_accepted),
                summary="validate",
            )
            self._price_mismatch = result.price_mismatch
            if not result.hold_reasons:
                if self._status is OrderStatus.ON_HOLD:
                    await self._set_status(OrderStatus.RECEIVED, detail="released")
                return
            self._mark(OrderStatus.ON_HOLD, "; ".join(result.hold_reasons))
            await self._wait_for_a_person()

    async def _authorize(self, order: Order) -> None:
        self._raise_if_cancelled()
        if order.payment_collected:
            return
        while True:
            self._expect_a_person()
            try:
                self._payment = await self._activity(
                    Payments.authorize_payment,
                    AuthorizePaymentInput(
                        order.order_id, order.total, order.payment_method, self._key("authorize"), workflow.now()
                    ),
                    summary=f"authorize {order.total.format()}",
                )
                self._payment_status = "authorized"
                return
            except ActivityError as err:
                cause = err.cause
                if isinstance(cause, ApplicationError) and cause.type == ErrorType.PAYMENT_DECLINED:
                    self._payment_status = "declined"
                    self._cancel = CancelRequest(reason=f"payment declined: {cause.message}", requested_by=BY_PAYMENT)
                    raise _Cancelled from err
                if not (isinstance(cause, ApplicationError) and cause.type == ErrorType.PAYMENT_REJECTED):
                    raise
                # The gateway refused the request itself (e.g. no usable payment method): a person
                # looks at it; a release tries again with a fresh step key.
                await self._set_status(OrderStatus.ON_HOLD, hold_reason=f"payment rejected: {cause.message}")
                await self._wait_for_a_person()

    async def _reserve(self, order: Order) -> None:
        """Source and reserve what is still wanted; wait (hold, backorder) until something is."""
        conflicts = 0
        while True:
            self._raise_if_cancelled()
            self._expect_a_person(or_stock=True)
            address = order.shipping_address
            result = await self._activity(
                Inventory.reserve_stock,
                ReserveStockInput(
                    order.order_id,
                    dict(self._remaining),
                    self._key("reserve"),
                    workflow.now(),
                    channel=order.channel,
                    destination=Destination(
                        country=address.country,
                        latitude=address.latitude,
                        longitude=address.longitude,
                        pickup_location_id=order.pickup_location_id,
                    ),
                    unit_values=order.unit_values(),
                    round=self._reserved_rounds + 1,
                ),
                summary="source and reserve stock",
            )
            shipments = result.shipments
            if shipments:
                self._reserved_rounds += 1
                self._pending.extend(shipments)
                for shipment in shipments:
                    self._shipments[shipment.shipment_id] = ShipmentState(
                        shipment.shipment_id, shipment.location_id, ShipmentStatus.RESERVED
                    )
                self._remaining = dict(result.unfilled)
                self._auto_cancel_days = result.auto_cancel_after_days
                self._mark(OrderStatus.RESERVED)
                return
            if result.outcome == ReserveStockResult.CONFLICT and conflicts < MAX_RESERVE_ATTEMPTS:
                conflicts += 1  # lost a race for the last units: plan again on fresh stock
                continue
            conflicts = 0
            if self._handed_over_any:
                return  # part of the order has left: the remainder waits as a backorder (run's loop)
            if result.outcome == ReserveStockResult.CANCEL:
                self._cancel = CancelRequest(reason=f"routing: {result.reason}", requested_by=BY_SOURCING)
                raise _Cancelled
            if result.outcome == ReserveStockResult.HOLD:
                self._mark(OrderStatus.ON_HOLD, result.reason)
                await self._wait_for_a_person()
                continue
            if result.outcome == ReserveStockResult.CONFLICT:
                await self._set_status(OrderStatus.BACKORDERED, hold_reason=result.reason)
            else:
                self._mark(OrderStatus.BACKORDERED, result.reason)
            if await self._wait_for_stock(result.auto_cancel_after_days):
                self._cancel = CancelRequest(reason="backorder deadline passed", requested_by=BY_DEADLINE)
                raise _Cancelled

    async def _fulfil_pending(self, order: Order) -> None:
        if self._pending:
            await self._run_shipment_workflows(order)

    async def _run_shipment_workflows(self, order: Order) -> None:
        """Each shipment runs as its own workflow at its location, all at the same time. A cancel
        withdraws every shipment that has not left; what a pick did not find is sourced again."""
        if not self._handed_over_any:
            self._raise_if_cancelled()
        assert self._input is not None
        options = self._input.fulfilment or FulfilmentOptions()
        for shipment in self._pending:
            kind = shipment_kind(shipment.location_id, order.pickup_location_id, shipment.transfer_to)
            handle = await workflow.start_child_workflow(
                ShipmentWorkflow.run,
                ShipmentWorkflowInput(
                    order_id=order.order_id,
                    shipment_id=shipment.shipment_id,
                    location_id=shipment.location_id,
                    location_kind=shipment.location_kind,
                    lines=dict(shipment.lines),
                    kind=kind.value,
                    pickup_location_id=order.pickup_location_id,
                    auto_confirm=options.auto_confirm,
                    sla_seconds=sla_for(shipment.location_kind, options.slas or None),
                    pickup_expiry_seconds=options.pickup_expiry_seconds,
                ),
                id=shipment.shipment_id,
                task_queue=shipment.task_queue or workflow.info().task_queue,
                static_summary=f"{kind.value} of {sum(shipment.lines.values())} units from {shipment.location_id}",
            )
            self._in_flight[shipment.shipment_id] = (shipment, handle)
        self._pending = []
        if self._status is OrderStatus.RESERVED:
            self._mark(OrderStatus.IN_FULFILMENT)
        while self._in_flight:
            await workflow.wait_condition(
                lambda: (
                    any(handle.done() for _, handle in self._in_flight.values())
                    or (self._cancel is not None and not self._withdrawn)
                )
            )
            if self._cancel is not None and not self._withdrawn:
                self._withdrawn = True
                for shipment_id, (_, handle) in self._in_flight.items():
                    if not handle.done():
                        await self._withdraw(shipment_id, handle, self._cancel)
                continue
            for shipment_id in [sid for sid, (_, handle) in self._in_flight.items() if handle.done()]:
                shipment, handle = self._in_flight.pop(shipment_id)
                await self._settle_shipment(order, shipment, handle.result())
        if self._cancel is not None:
            if not self._handed_over_any:
                raise _Cancelled
            # The cancel came after a shipment had left: that one stands, the rest is cancelled.
            self._remaining = {}
            self._shipped_detail = (
                f"cancelled after a shipment had left ({self._cancel.reason}): the rest will not ship"
            )

    @staticmethod
    async def _withdraw(shipment_id: str, handle: Any, request: CancelRequest) -> None:
        """Ask a shipment to stand down. One that already ended on the server (its end and this
        cancel reached the order together) cannot be signalled: its outcome, already on its way
        to us, says what became of it, so the failed signal is not the order's failure."""
        try:
            await handle.signal(ShipmentWorkflow.withdraw, request)
        except ApplicationError as err:
            workflow.logger.info("shipment %s had already ended: %s", shipment_id, err.message)

    async def _settle_shipment(self, order: Order, shipment: ReservedShipment, outcome: ShipmentOutcome) -> None:
        self._shipments[shipment.shipment_id] = ShipmentState(
            shipment.shipment_id, shipment.location_id, outcome.status, outcome.carrier, outcome.tracking_number
        )
        if outcome.cancelled_order and self._cancel is None:
            # The cancel was taken (the database says so) before its signal reached us.
            self._cancel = CancelRequest(reason="cancelled", requested_by="api")
        if outcome.short and self._cancel is None:
            for sku, units in outcome.short.items():
                self._remaining[sku] = self._remaining.get(sku, 0) + units
            self._resource_now = True
        if outcome.status == ShipmentStatus.EXPIRED:
            for sku, units in outcome.released.items():
                self._not_collected[sku] = self._not_collected.get(sku, 0) + units
            left = ", ".join(f"{sku} x{units}" for sku, units in sorted(self._not_collected.items()))
            self._shipped_detail = f"not collected in time: {left}"
        if not outcome.handed_over:
            return
        self._shipping_started = self._handed_over_any = True
        value = self._value_leaving(order, outcome.handed_over)
        payment = self._payment
        if payment is None:
            return
        last = self._nothing_left_to_ship()
        if payment.multicapture and not last:
            await self._capture_amount(order, value, final=False)
        elif not payment.multicapture and not last:
            self._payment_status = "authorized; captured when the last shipment leaves"

    async def _settle_payment(self, order: Order) -> None:
        """Everything that will leave has left: take its money (the final capture) and release the rest."""
        if self._payment is None:
            return
        due = charged_for(order, self._left_units).amount_minor - self._captured
        if due > 0:
            await self._capture_amount(order, due)
        await self._void_the_rest(order)

    def _value_leaving(self, order: Order, parcel: dict[str, int]) -> int:
        """The share of the order's total this parcel carries (domain.allocation: the parts of an
        order add up to its total to the cent, however it was split); counts it as shipped."""
        value = charge_for_parcel(order, self._left_units, parcel).amount_minor
        for sku, units in parcel.items():
            self._left_units[sku] = self._left_units.get(sku, 0) + units
        return value

    async def _capture_amount(self, order: Order, amount: int, *, final: bool = True) -> None:
        assert self._payment is not None
        everything_shipped = self._nothing_left_to_ship()
        money = Money(amount, order.currency)
        try:
            await self._activity(
                Payments.capture_payment,
                PaymentStepInput(
                    order.order_id, self._payment.payment_id, money, self._key("capture"), workflow.now(), final=final
                ),
                summary=f"capture {money.format()}" + ("" if final else " (more to follow)"),
            )
        except ActivityError as err:
            cause = err.cause
            if not (isinstance(cause, ApplicationError) and cause.type == ErrorType.PAYMENT_REJECTED):
                raise
            # The goods are gone; the order goes on, and the payment shows what needs a person.
            workflow.logger.warning("capture refused for %s: %s", self._order_id, cause.message)
            self._payment_status = f"capture refused: {cause.message}"
            return
        self._captured += amount
        self._payment_status = "captured" if everything_shipped else "partially captured"

    async def _wait_for_the_remainder(self, order: Order) -> bool:
        """Part shipped, the rest backordered: wait for stock. False when the deadline cancels the rest."""
        waiting = ", ".join(f"{sku} x{units}" for sku, units in sorted(self._remaining.items()))
        await self._set_status(OrderStatus.BACKORDERED, hold_reason=f"waiting for {waiting}")
        if not await self._wait_for_stock(self._auto_cancel_days):
            return True
        self._shipped_detail = f"backorder deadline passed: {waiting} will not ship"
        self._remaining = {}
        await self._settle_payment(order)
        return False

    async def _compensate(self, order: Order) -> None:
        """Undo exactly what was done, each step once: release stock, void the authorization."""
        self._may_unwind = False
        for shipment in self._pending:
            await self._activity(
                Inventory.release_stock,
                ReleaseStockInput(
                    order.order_id,
                    shipment.shipment_id,
                    shipment.location_id,
                    dict(shipment.lines),
                    self._key("release"),
                    workflow.now(),
                ),
                summary=f"release stock at {shipment.location_id}",
            )
            self._shipments[shipment.shipment_id] = ShipmentState(
                shipment.shipment_id, shipment.location_id, ShipmentStatus.CANCELLED
            )
        self._pending = []
        await self._void_the_rest(order)
        reason = self._cancel.reason if self._cancel else ""
        await self._set_status(OrderStatus.CANCELLED, detail=reason or "cancelled", cancel=self._cancel)

    async def _void_the_rest(self, order: Order) -> None:
        if self._payment is None or self._payment.amount.amount_minor - self._captured <= 0:
            return
        rest = Money(self._payment.amount.amount_minor - self._captured, order.currency)
        await self._activity(
            Payments.void_payment,
            PaymentStepInput(order.order_id, self._payment.payment_id, rest, self._key("void"), workflow.now()),
            summary=f"void {rest.format()}",
        )
        self._payment_status = "voided" if self._captured == 0 else "captured"

    # -- waiting -------------------------------------------------------------------------------

    def _expect_a_person(self, *, or_stock: bool = False) -> None:
        """Forget earlier releases (and restocks) before a step whose outcome may be a hold.

        Here and not when the wait begins: the step writes the hold where people see it before the
        workflow gets to wait, and a release sent in between must not be lost."""
        self._release = None
        if or_stock:
            self._stock_arrived = False

    async def _wait_for_a_person(self) -> None:
        await workflow.wait_condition(lambda: self._release is not None or self._cancel is not None)
        self._raise_if_cancelled()

    async def _wait_for_stock(self, auto_cancel_after_days: int | None) -> bool:
        """Wait for a restock of a SKU we need, a person's release or cancel, or the backorder
        deadline. True when the deadline passed."""
        if self._backorder_deadline is None:
            assert self._input is not None
            seconds = (
                auto_cancel_after_days * 86400
                if auto_cancel_after_days is not None
                else self._input.backorder_deadline_seconds
            )
            if seconds is not None:
                self._backorder_deadline = workflow.now() + timedelta(seconds=seconds)
        timeout = self._backorder_deadline - workflow.now() if self._backorder_deadline else None
        if self._history_is_long():
            await self._continue_as_new()
        try:
            if timeout is not None and timeout <= timedelta(0):
                raise TimeoutError
            await workflow.wait_condition(
                lambda: self._release is not None or self._cancel is not None or self._stock_arrived,
                timeout=timeout,
            )
        except TimeoutError:
            return True
        self._raise_if_cancelled()
        return False

    # -- continuing as new ---------------------------------------------------------------------

    def _history_is_long(self) -> bool:
        """Time to hand over to a fresh run: the history passed its limit (or the server says so),
        and nothing is half done (no shipment running, no signal waiting to be acted on)."""
        assert self._input is not None
        info = workflow.info()
        limit = self._input.history_limit or DEFAULT_HISTORY_LIMIT
        if not (info.is_continue_as_new_suggested() or info.get_current_history_length() >= limit):
            return False
        nothing_pending = self._release is None and self._cancel is None and not self._stock_arrived
        return nothing_pending and not self._pending and not self._in_flight

    async def _continue_as_new(self) -> None:
        """Continue as a new run of the same order while it waits for stock, carrying what it knows;
        the new run waits on (or reserves, if the stock came meanwhile). Queries, signals and
        updates go to the newest run by the order id, so nobody outside notices."""
        assert self._input is not None
        await workflow.wait_condition(workflow.all_handlers_finished)
        carried = OrderCarried(
            status=self._status,
            hold_reason=self._hold_reason,
            payment=self._payment,
            payment_status=self._payment_status,
            captured=self._captured,
            left_units=dict(self._left_units),
            remaining=dict(self._remaining),
            reserved_rounds=self._reserved_rounds,
            shipments=list(self._shipments.values()),
            steps=dict(self._steps),
            backorder_deadline=self._backorder_deadline,
            auto_cancel_days=self._auto_cancel_days,
            shipped_detail=self._shipped_detail,
            handed_over_any=self._handed_over_any,
            shipping_started=self._shipping_started,
            not_collected=dict(self._not_collected),
            total_accepted=self._total_accepted,
            runs=(self._input.carried.runs + 1) if self._input.carried else 1,
        )
        workflow.logger.info(
            "%s continues as new after %d events", self._order_id, workflow.info().get_current_history_length()
        )
        workflow.continue_as_new(replace(self._input, carried=carried))

    def _resume(self, carried: OrderCarried) -> None:
        self._status, self._hold_reason = carried.status, carried.hold_reason
        self._payment, self._payment_status = carried.payment, carried.payment_status
        self._captured = carried.captured
        self._left_units, self._remaining = dict(carried.left_units), dict(carried.remaining)
        self._reserved_rounds = carried.reserved_rounds
        self._shipments = {shipment.shipment_id: shipment for shipment in carried.shipments}
        self._steps = dict(carried.steps)
        self._backorder_deadline, self._auto_cancel_days = carried.backorder_deadline, carried.auto_cancel_days
        self._shipped_detail = carried.shipped_detail
        self._handed_over_any, self._shipping_started = carried.handed_over_any, carried.shipping_started
        self._not_collected = dict(carried.not_collected)
        self._total_accepted = carried.total_accepted

    # -- helpers -------------------------------------------------------------------------------

    def _nothing_left_to_ship(self) -> bool:
        return not self._pending and not self._remaining and not self._in_flight

    def _raise_if_cancelled(self) -> None:
        if self._cancel is not None:
            raise _Cancelled

    def _key(self, step: str) -> str:
        """A stable idempotency key per step occurrence: the same on every retry and replay."""
        self._steps[step] = self._steps.get(step, 0) + 1
        return f"{self._order_id}:{step}:{self._steps[step]}"

    def _mark(self, status: OrderStatus, hold_reason: str | None = None) -> None:
        """Record a status the activity already wrote to the read model."""
        self._status, self._hold_reason = status, hold_reason
        workflow.upsert_search_attributes([ORDER_STATUS.value_set(status.value)])

    async def _set_status(
        self,
        status: OrderStatus,
        *,
        hold_reason: str | None = None,
        detail: str = "",
        cancel: CancelRequest | None = None,
    ) -> None:
        """`cancel`, with CANCELLED: who asked, so the selling channel hears of it unless it asked
        itself. Only the activity's input grows (no new command), so histories replay as they were."""
        await self._activity(
            OrderRecords.change_status,
            ChangeStatusInput(
                self._order_id,
                status,
                self._key(f"status-{status.value}"),
                workflow.now(),
                hold_reason=hold_reason,
                detail=detail,
                cancel=cancel,
            ),
            summary=f"status {status.value}",
            hold_on_refusal=False,
        )
        self._mark(status, hold_reason)

    async def _activity(self, method: Any, arg: Any, *, summary: str, hold_on_refusal: bool = True) -> Any:
        """Run a step. One the database refuses for its data (ErrorType.STORAGE_REFUSED: it would fail the
        same way on every retry) holds the order for a person instead of failing it: a release
        runs the step again, a cancel unwinds where that is possible. `hold_on_refusal` False:
        the refusal goes to the caller (a return request answers it; a status write cannot hold)."""
        while True:
            try:
                return await workflow.execute_activity_method(
                    method, arg, start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY, summary=summary
                )
            except ActivityError as err:
                cause = err.cause
                if not (
                    hold_on_refusal and isinstance(cause, ApplicationError) and cause.type == ErrorType.STORAGE_REFUSED
                ):
                    raise
                await self._hold_refused_step(cause.message)

    async def _hold_refused_step(self, refusal: str) -> None:
        """ON_HOLD with the refusal until a person releases (the step runs again) or, on the
        forward path, cancels (the order unwinds)."""
        before, reason_before = self._status, self._hold_reason
        self._expect_a_person()
        way_out = "fix it and release to try again" + (", or cancel" if self._may_unwind else "")
        await self._set_status(OrderStatus.ON_HOLD, hold_reason=f"{refusal} ({way_out})")
        await workflow.wait_condition(
            lambda: self._release is not None or (self._cancel is not None and self._may_unwind)
        )
        if self._release is None:
            raise _Cancelled
        await self._set_status(before, hold_reason=reason_before, detail="released: the refused step runs again")
