"""Scripted activities for fast workflow tests: each is registered under the real activity's name
(the temporalio samples' pattern) and answers what the test scripted, or a plain success, while
it records what the workflow asked. The real workflows run on the session's Temporal dev server;
no database, no provider."""

from __future__ import annotations

import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from contracts.inventory import (
    ReleaseStockInput,
    ReleaseStockResult,
    ReservedShipment,
    ReserveStockInput,
    ReserveStockResult,
    SellAtCounterInput,
    SellAtCounterResult,
)
from contracts.order_records import (
    ChangeStatusInput,
    ChangeStatusResult,
    RecordOrderInput,
    RecordOrderResult,
    ValidateOrderInput,
    ValidateOrderResult,
)
from contracts.order_workflow import FulfilmentOptions, OrderWorkflowInput
from contracts.payments import AuthorizePaymentInput, PaymentResult, PaymentStepInput
from contracts.returns import AcceptReturnInput, RefundReturnInput, ReturnAccepted
from contracts.shipments import (
    AutoStepsRequest,
    CloseShipmentInput,
    EscalationInput,
    ShipmentStepDone,
    ShipmentStepRequest,
)
from domain.fulfilment import DONE_STATUS, ShipmentStatus, Step
from domain.money import Money
from domain.order import Order
from domain.payments import PaymentStatus
from workflows.order import OrderWorkflow
from workflows.shipment import ShipmentWorkflow


def reserved_at(*locations: tuple[str, dict[str, int]]) -> Callable[[ReserveStockInput], ReserveStockResult]:
    """An answer to reserve_stock: these shipments reserved (ids as the real activity gives them)."""

    def answer(data: ReserveStockInput) -> ReserveStockResult:
        suffix = "" if data.round == 1 else f"-{data.round}"
        shipments = [
            ReservedShipment(f"shipment-{data.order_id}-{location}{suffix}", location, dict(lines))
            for location, lines in locations
        ]
        return ReserveStockResult(ReserveStockResult.RESERVED, "scripted", shipments=shipments)

    return answer


def _everything_at_ams(data: ReserveStockInput) -> ReserveStockResult:
    return reserved_at(("AMS", data.demand))(data)


class Scripted:
    """Every activity OrderWorkflow and ShipmentWorkflow call. `answer(name, ...)` queues answers for
    the next calls of that activity: a value, a function of the activity's input, or an exception
    to raise. Without a queued answer each succeeds plainly (everything reserved at AMS, a card
    that authorizes with multicapture, every shipment step done)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self._answers: dict[str, deque[Any]] = defaultdict(deque)

    def answer(self, name: str, *answers: Any) -> Scripted:
        self._answers[name].extend(answers)
        return self

    def asked(self, name: str) -> list[Any]:
        """The inputs the workflows gave `name`, in order."""
        return [data for called, data in self.calls if called == name]

    def statuses(self) -> list[str]:
        return [data.status.value for data in self.asked("change_status")]

    def _next(self, name: str, data: Any, default: Any) -> Any:
        self.calls.append((name, data))
        queued = self._answers[name]
        answer = queued.popleft() if queued else default
        if isinstance(answer, BaseException):
            raise answer
        return answer(data) if callable(answer) else answer

    @activity.defn(name="record_order")
    async def record_order(self, data: RecordOrderInput) -> RecordOrderResult:
        return self._next("record_order", data, RecordOrderResult(created=True))

    @activity.defn(name="validate_order")
    async def validate_order(self, data: ValidateOrderInput) -> ValidateOrderResult:
        return self._next("validate_order", data, ValidateOrderResult(hold_reasons=[]))

    @activity.defn(name="change_status")
    async def change_status(self, data: ChangeStatusInput) -> ChangeStatusResult:
        return self._next("change_status", data, lambda d: ChangeStatusResult(d.status))

    @activity.defn(name="reserve_stock")
    async def reserve_stock(self, data: ReserveStockInput) -> ReserveStockResult:
        return self._next("reserve_stock", data, _everything_at_ams)

    @activity.defn(name="release_stock")
    async def release_stock(self, data: ReleaseStockInput) -> ReleaseStockResult:
        return self._next("release_stock", data, ReleaseStockResult(released=True))

    @activity.defn(name="sell_at_counter")
    async def sell_at_counter(self, data: SellAtCounterInput) -> SellAtCounterResult:
        return self._next("sell_at_counter", data, lambda d: SellAtCounterResult(taken=dict(d.lines)))

    @activity.defn(name="authorize_payment")
    async def authorize_payment(self, data: AuthorizePaymentInput) -> PaymentResult:
        default = lambda d: PaymentResult(f"payment-{d.order_id}", PaymentStatus.AUTHORIZED, d.amount, True)  # noqa: E731
        return self._next("authorize_payment", data, default)

    @activity.defn(name="capture_payment")
    async def capture_payment(self, data: PaymentStepInput) -> PaymentResult:
        captured = lambda d: PaymentResult(d.payment_id, PaymentStatus.CAPTURED, d.amount)  # noqa: E731
        return self._next("capture_payment", data, captured)

    @activity.defn(name="void_payment")
    async def void_payment(self, data: PaymentStepInput) -> PaymentResult:
        return self._next("void_payment", data, lambda d: PaymentResult(d.payment_id, PaymentStatus.VOIDED, d.amount))

    @activity.defn(name="accept_return")
    async def accept_return(self, data: AcceptReturnInput) -> ReturnAccepted:
        accepted = lambda d: ReturnAccepted(d.return_id, "ACCEPTED", Money(1000, d.order.currency))  # noqa: E731
        return self._next("accept_return", data, accepted)

    @activity.defn(name="refund_return")
    async def refund_return(self, data: RefundReturnInput) -> ReturnAccepted:
        return self._next("refund_return", data, lambda d: ReturnAccepted(d.return_id, "REFUNDED", d.amount))

    @activity.defn(name="perform_steps_automatically")
    async def perform_steps_automatically(self, data: AutoStepsRequest) -> ShipmentStepDone:
        done = lambda d: ShipmentStepDone(ShipmentStatus.SHIPPED, dict(d.lines), carrier="SBX", tracking_number="T1")  # noqa: E731
        return self._next("perform_steps_automatically", data, done)

    @activity.defn(name="perform_step")
    async def perform_step(self, data: ShipmentStepRequest) -> ShipmentStepDone:
        return self._next("perform_step", data, lambda d: ShipmentStepDone(DONE_STATUS[Step(d.step)], dict(d.lines)))

    @activity.defn(name="close_shipment")
    async def close_shipment(self, data: CloseShipmentInput) -> None:
        return self._next("close_shipment", data, None)

    @activity.defn(name="escalate")
    async def escalate(self, data: EscalationInput) -> None:
        return self._next("escalate", data, None)

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.record_order,
            self.validate_order,
            self.change_status,
            self.reserve_stock,
            self.release_stock,
            self.sell_at_counter,
            self.authorize_payment,
            self.capture_payment,
            self.void_payment,
            self.accept_return,
            self.refund_return,
            self.perform_steps_automatically,
            self.perform_step,
            self.close_shipment,
            self.escalate,
        ]


@asynccontextmanager
async def scripted_order(
    client: Client,
    scripted: Scripted,
    order: Order,
    *,
    auto_confirm: bool = True,
    backorder_deadline_seconds: int | None = None,
    return_window_seconds: int = 1,
) -> AsyncIterator[WorkflowHandle[Any, Any]]:
    """The order's workflow started on a worker of its own (a fresh task queue) with the scripted
    activities; the workflow is terminated when the block ends, if it still runs."""
    queue = f"scripted-{uuid.uuid4()}"
    async with Worker(
        client, task_queue=queue, workflows=[OrderWorkflow, ShipmentWorkflow], activities=scripted.activities()
    ):
        handle = await client.start_workflow(
            OrderWorkflow.run,
            OrderWorkflowInput(
                order,
                datetime.now(UTC),
                return_window_seconds=return_window_seconds,
                backorder_deadline_seconds=backorder_deadline_seconds,
                fulfilment=FulfilmentOptions(auto_confirm=auto_confirm),
            ),
            id=order.order_id,
            task_queue=queue,
        )
        try:
            yield handle
        finally:
            if (await handle.describe()).close_time is None:
                await handle.terminate("test done")
