"""OrderWorkflow: one durable run per order, from intake to the end of its returns window."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.fulfilment import FulfilmentActivities
    from activities.inventory import InventoryActivities
    from activities.orders import OrderActivities
    from activities.payments import PaymentActivities
    from domain.order import Order
    from domain.status import OrderStatus, cancel_refusal
    from workflows.payloads import (
        PAYMENT_DECLINED,
        AuthorizePaymentInput,
        CancelRequest,
        ChangeStatusInput,
        OrderState,
        OrderWorkflowInput,
        OrderWorkflowResult,
        PaymentResult,
        PaymentStepInput,
        RecordOrderInput,
        ReleaseRequest,
        ReleaseStockInput,
        ReserveStockInput,
        ReserveStockResult,
        ShipmentState,
        ShipmentStepInput,
        ShipmentStepResult,
        ValidateOrderInput,
    )
    from workflows.search_attributes import ORDER_STATUS

# Transient faults (database restarting, gateway timeouts) retry with backoff forever: the order
# waits, nothing is lost. Business outcomes are non-retryable ApplicationErrors.
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=1)
)
STEP_TIMEOUT = timedelta(seconds=30)
MAX_RESERVE_ATTEMPTS = 5


class _Cancelled(Exception):
    """Raised inside the run to unwind to the compensation path."""


@workflow.defn
class OrderWorkflow:
    def __init__(self) -> None:
        self._order_id = ""
        self._status = OrderStatus.RECEIVED
        self._hold_reason: str | None = None
        self._cancel: CancelRequest | None = None
        self._release: ReleaseRequest | None = None
        self._shipping_started = False
        self._payment: PaymentResult | None = None
        self._payment_status: str | None = None
        self._reservation: ReserveStockResult | None = None
        self._shipment: ShipmentStepResult | None = None
        self._steps: dict[str, int] = {}

    # -- signals and queries -------------------------------------------------------------------

    @workflow.signal
    def cancel(self, request: CancelRequest) -> None:
        refusal = cancel_refusal(self._status, self._shipping_started)
        if refusal is not None:
            workflow.logger.info("cancel refused for %s: %s", self._order_id, refusal)
            return
        self._cancel = request

    @workflow.signal
    def release(self, request: ReleaseRequest) -> None:
        self._release = request

    @workflow.query
    def state(self) -> OrderState:
        shipments = []
        if self._reservation is not None and self._reservation.shipment_id and self._reservation.location_id:
            shipment = self._shipment
            shipments.append(
                ShipmentState(
                    shipment_id=self._reservation.shipment_id,
                    location_id=self._reservation.location_id,
                    status=shipment.status if shipment else "RESERVED",
                    carrier=shipment.carrier if shipment else None,
                    tracking_number=shipment.tracking_number if shipment else None,
                )
            )
        return OrderState(
            order_id=self._order_id,
            status=self._status,
            hold_reason=self._hold_reason,
            shipping_started=self._shipping_started,
            cancel_requested=self._cancel is not None,
            payment_status=self._payment_status,
            shipments=shipments,
        )

    # -- the run -------------------------------------------------------------------------------

    @workflow.run
    async def run(self, data: OrderWorkflowInput) -> OrderWorkflowResult:
        order = data.order
        self._order_id = order.order_id
        await self._activity(
            OrderActivities.record_order, RecordOrderInput(order, data.received_at), summary="record order"
        )
        try:
            await self._validate_until_released(order)
            await self._authorize(order)
            await self._reserve_until_stocked(order)
            await self._fulfil(order)
        except _Cancelled:
            await self._compensate(order)
            return OrderWorkflowResult(order.order_id, self._status)
        if self._payment is not None:
            self._payment = await self._activity(
                PaymentActivities.capture_payment,
                PaymentStepInput(
                    order.order_id, self._payment.payment_id, order.total, self._key("capture"), workflow.now()
                ),
                summary=f"capture {order.total.format()}",
            )
            self._payment_status = "captured"
        await self._set_status(OrderStatus.SHIPPED, detail="everything shipped")
        await workflow.sleep(timedelta(seconds=data.return_window_seconds), summary="returns window")
        await self._set_status(OrderStatus.COMPLETED, detail="returns window closed")
        return OrderWorkflowResult(order.order_id, self._status)

    async def _validate_until_released(self, order: Order) -> None:
        attempt = 0
        while True:
            attempt += 1
            result = await self._activity(
                OrderActivities.validate_order, ValidateOrderInput(order, attempt, workflow.now()), summary="validate"
            )
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
        try:
            self._payment = await self._activity(
                PaymentActivities.authorize_payment,
                AuthorizePaymentInput(
                    order.order_id, order.total, order.payment_method, self._key("authorize"), workflow.now()
                ),
                summary=f"authorize {order.total.format()}",
            )
            self._payment_status = "authorized"
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == PAYMENT_DECLINED:
                self._payment_status = "declined"
                self._cancel = CancelRequest(reason=f"payment declined: {cause.message}", requested_by="payment")
                raise _Cancelled from err
            raise

    async def _reserve_until_stocked(self, order: Order) -> None:
        conflicts = 0
        while True:
            self._raise_if_cancelled()
            result = await self._activity(
                InventoryActivities.reserve_stock,
                ReserveStockInput(order.order_id, order.demand(), self._key("reserve"), workflow.now()),
                summary="reserve stock",
            )
            if result.outcome == ReserveStockResult.RESERVED:
                self._reservation = result
                self._mark(OrderStatus.RESERVED)
                return
            if result.outcome == ReserveStockResult.CONFLICT and conflicts < MAX_RESERVE_ATTEMPTS:
                conflicts += 1  # lost a race for the last units: plan again on fresh stock
                continue
            conflicts = 0
            if result.outcome == ReserveStockResult.CONFLICT:
                await self._set_status(OrderStatus.BACKORDERED, hold_reason=result.reason)
            else:
                self._mark(OrderStatus.BACKORDERED, result.reason)
            await self._wait_for_a_person()

    async def _fulfil(self, order: Order) -> None:
        reservation = self._reservation
        assert reservation is not None and reservation.shipment_id and reservation.location_id
        steps = [
            ("pick", FulfilmentActivities.pick_shipment),
            ("pack", FulfilmentActivities.pack_shipment),
            ("ship", FulfilmentActivities.ship_shipment),
        ]
        for name, step in steps:
            self._raise_if_cancelled()
            if name == "ship":
                self._shipping_started = True  # from here on, cancel is refused: use returns
            self._shipment = await self._activity(
                step,
                ShipmentStepInput(
                    order.order_id,
                    reservation.shipment_id,
                    reservation.location_id,
                    order.demand(),
                    self._key(name),
                    workflow.now(),
                ),
                summary=f"{name} at {reservation.location_id}",
            )
            if name == "pick":
                self._mark(OrderStatus.IN_FULFILMENT)

    async def _compensate(self, order: Order) -> None:
        """Undo exactly what was done, each step once: release stock, void the authorization."""
        reservation = self._reservation
        if reservation is not None and reservation.shipment_id and reservation.location_id:
            await self._activity(
                InventoryActivities.release_stock,
                ReleaseStockInput(
                    order.order_id,
                    reservation.shipment_id,
                    reservation.location_id,
                    order.demand(),
                    self._key("release"),
                    workflow.now(),
                ),
                summary="release stock",
            )
            self._reservation = None
        if self._payment is not None:
            await self._activity(
                PaymentActivities.void_payment,
                PaymentStepInput(
                    order.order_id, self._payment.payment_id, self._payment.amount, self._key("void"), workflow.now()
                ),
                summary="void authorization",
            )
            self._payment, self._payment_status = None, "voided"
        reason = self._cancel.reason if self._cancel else ""
        await self._set_status(OrderStatus.CANCELLED, detail=reason or "cancelled")

    # -- helpers -------------------------------------------------------------------------------

    async def _wait_for_a_person(self) -> None:
        self._release = None
        await workflow.wait_condition(lambda: self._release is not None or self._cancel is not None)
        self._raise_if_cancelled()

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

    async def _set_status(self, status: OrderStatus, *, hold_reason: str | None = None, detail: str = "") -> None:
        await self._activity(
            OrderActivities.change_status,
            ChangeStatusInput(
                self._order_id,
                status,
                self._key(f"status-{status.value}"),
                workflow.now(),
                hold_reason=hold_reason,
                detail=detail,
            ),
            summary=f"status {status.value}",
        )
        self._mark(status, hold_reason)

    async def _activity(self, method: Any, arg: Any, *, summary: str) -> Any:
        return await workflow.execute_activity_method(
            method, arg, start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY, summary=summary
        )
