"""The services' one way to the workflows: start an order, signal it, ask it, send it a return or a
shipment step. A small gateway, so a service test can put a fake in its place and the services never
see Temporal's exceptions: the engine's answers arrive as the errors below.

The gateway connects on first use (`connect` may raise EngineUnavailable): a service asks the
database what it can first, so an unknown order is 404 whether or not the engine is up.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

from temporalio.client import Client, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from contracts.goodwill import GoodwillInput
from contracts.order_edits import EditOrderRequest, EditOrderResult
from contracts.order_workflow import CancelRequest, DeliveredNotice, OrderState, OrderWorkflowInput, ReleaseRequest
from contracts.return_lifecycle import (
    DisposeReturnRequest,
    ReceiveReturnRequest,
    ReturnDecision,
    ReturnView,
    ReturnWorkflowInput,
)
from contracts.returns import ReturnAccepted, ReturnRequest
from contracts.shipments import ShipmentProgress, StepConfirmation
from domain.status import OrderStatus
from services.errors import Unavailable
from workflows.goodwill import GoodwillWorkflow
from workflows.order import OrderWorkflow
from workflows.returns import ReturnWorkflow
from workflows.search_attributes import CHANNEL, ORDER_STATUS
from workflows.shipment import ShipmentWorkflow

Connect = Callable[[], Awaitable[Client]]

RETURN_STEPS: dict[str, object] = {
    "approve": ReturnWorkflow.approve,
    "reject": ReturnWorkflow.reject,
    "cancel": ReturnWorkflow.cancel,
    "receive": ReturnWorkflow.receive,
    "dispose": ReturnWorkflow.dispose,
}
"""The steps people take on a return, by the name the API gives them: ReturnWorkflow's updates."""


class EngineUnavailable(Unavailable):
    """The workflow engine cannot be reached: a channel redelivers later, the order is not lost."""

    def __init__(self) -> None:
        super().__init__("the workflow engine is unavailable; retry later", retry_after=5)


class EngineError(Unavailable):
    """The engine answered a call with an error; `reason` is its own words."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the workflow engine refused the call: {reason}", retry_after=5)
        self.reason = reason


class WorkflowNotFound(EngineError):
    """No such workflow, or its run ended (perhaps long ago)."""


class WorkflowNotRunning(EngineError):
    """The workflow has ended and takes no more updates."""


class QueryFailed(EngineError):
    """The workflow could not answer the query."""


class UpdateFailed(EngineError):
    """The workflow refused an update (its validator) or failed it. `error_type` and `refusal`: the
    workflow's ApplicationError type and first detail (the refusal's kind), when it raised one."""

    def __init__(self, reason: str, *, error_type: str | None, message: str, refusal: str | None) -> None:
        super().__init__(reason)
        self.error_type = error_type
        self.refused_because = message
        self.refusal = refusal


class WorkflowGateway(Protocol):
    async def connect(self) -> None:
        """Reach the engine now (EngineUnavailable when it cannot be)."""

    async def start_order(
        self, data: OrderWorkflowInput, *, task_queue: str, cancel: CancelRequest | None = None
    ) -> bool:
        """Start the order's workflow, cancelled at once when `cancel` is given. False: a run of that
        order id already exists (within the engine's retention)."""

    async def start_goodwill(self, data: GoodwillInput, *, task_queue: str) -> bool:
        """Start the workflow that carries out reserved goodwill. False: it was started before."""

    async def order_state(self, order_id: str) -> OrderState: ...

    async def cancel_order(self, order_id: str, request: CancelRequest) -> None: ...

    async def release_order(self, order_id: str, request: ReleaseRequest) -> None: ...

    async def order_delivered(self, order_id: str, notice: DeliveredNotice) -> None:
        """Tell the order its parcels arrived (WorkflowNotFound once its run has ended)."""

    async def request_return(self, order_id: str, request: ReturnRequest) -> ReturnAccepted: ...

    async def start_return(self, data: ReturnWorkflowInput, *, task_queue: str) -> bool:
        """Start a return's own workflow (a channel's return). False: it runs (or ran) already."""

    async def return_view(self, return_id: str) -> ReturnView: ...

    async def return_step(
        self, return_id: str, step: str, arg: ReturnDecision | ReceiveReturnRequest | DisposeReturnRequest
    ) -> ReturnView:
        """One of RETURN_STEPS (approve, reject, cancel, receive, dispose) on the return's workflow."""

    async def edit_order(self, order_id: str, request: EditOrderRequest) -> EditOrderResult: ...

    async def shipment_progress(self, shipment_id: str) -> ShipmentProgress: ...

    async def confirm_step(self, shipment_id: str, confirmation: StepConfirmation) -> ShipmentProgress: ...


class TemporalWorkflows:
    """The gateway over a Temporal client, through typed handles. `connect` gives the client (the
    API's connects on first use and raises EngineUnavailable while the engine is away)."""

    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    @classmethod
    def on(cls, client: Client) -> TemporalWorkflows:
        """For a process that holds its client already (the worker, scripts, tests)."""

        async def connected() -> Client:
            return client

        return cls(connected)

    async def connect(self) -> None:
        await self._connect()

    async def start_order(
        self, data: OrderWorkflowInput, *, task_queue: str, cancel: CancelRequest | None = None
    ) -> bool:
        client = await self._connect()
        order = data.order
        try:
            async with _engine_errors():
                await client.start_workflow(
                    OrderWorkflow.run,
                    data,
                    id=order.order_id,
                    task_queue=task_queue,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    search_attributes=TypedSearchAttributes(
                        [
                            SearchAttributePair(ORDER_STATUS, OrderStatus.RECEIVED.value),
                            SearchAttributePair(CHANNEL, order.channel),
                        ]
                    ),
                    static_summary=f"{order.channel} order {order.reference or order.external_id}",
                    start_signal="cancel" if cancel is not None else None,
                    start_signal_args=[cancel] if cancel is not None else [],
                )
        except WorkflowAlreadyStartedError:
            return False
        return True

    async def start_goodwill(self, data: GoodwillInput, *, task_queue: str) -> bool:
        client = await self._connect()
        try:
            async with _engine_errors():
                await client.start_workflow(
                    GoodwillWorkflow.run,
                    data,
                    id=data.goodwill_id,
                    task_queue=task_queue,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    static_summary=f"goodwill on {data.order_id} as {data.form.value}",
                )
        except WorkflowAlreadyStartedError:
            return False
        return True

    async def order_state(self, order_id: str) -> OrderState:
        client = await self._connect()
        async with _engine_errors():
            return await client.get_workflow_handle(order_id).query(OrderWorkflow.state)

    async def cancel_order(self, order_id: str, request: CancelRequest) -> None:
        client = await self._connect()
        async with _engine_errors():
            await client.get_workflow_handle(order_id).signal(OrderWorkflow.cancel, request)

    async def release_order(self, order_id: str, request: ReleaseRequest) -> None:
        client = await self._connect()
        async with _engine_errors():
            await client.get_workflow_handle(order_id).signal(OrderWorkflow.release, request)

    async def order_delivered(self, order_id: str, notice: DeliveredNotice) -> None:
        client = await self._connect()
        async with _engine_errors():
            await client.get_workflow_handle(order_id).signal(OrderWorkflow.delivered, notice)

    async def request_return(self, order_id: str, request: ReturnRequest) -> ReturnAccepted:
        client = await self._connect()
        async with _engine_errors():
            return await client.get_workflow_handle(order_id).execute_update(OrderWorkflow.request_return, request)

    async def start_return(self, data: ReturnWorkflowInput, *, task_queue: str) -> bool:
        client = await self._connect()
        try:
            async with _engine_errors():
                await client.start_workflow(
                    ReturnWorkflow.run,
                    data,
                    id=data.opened.return_id,
                    task_queue=task_queue,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    static_summary=f"return {data.opened.rma}",
                )
        except WorkflowAlreadyStartedError:
            return False
        return True

    async def return_view(self, return_id: str) -> ReturnView:
        client = await self._connect()
        async with _engine_errors():
            return await client.get_workflow_handle(return_id).query(ReturnWorkflow.view)

    async def payment_link_changed(self, owner: str) -> None:
        """Wake the workflow waiting for a payment link (a return, or an order whose edit waits for
        its payment: both take the signal `payment_link_changed`): it reads the link again. One that
        finished meanwhile has nothing to wake; it reads links on its own schedule anyway."""
        client = await self._connect()
        with contextlib.suppress(WorkflowNotFound, WorkflowNotRunning):
            async with _engine_errors():
                if owner.startswith("order-"):  # an order whose edit waits for its payment
                    await client.get_workflow_handle(owner).signal(OrderWorkflow.payment_link_changed)
                else:
                    await client.get_workflow_handle(owner).signal(ReturnWorkflow.payment_link_changed)

    async def return_step(
        self, return_id: str, step: str, arg: ReturnDecision | ReceiveReturnRequest | DisposeReturnRequest
    ) -> ReturnView:
        client = await self._connect()
        async with _engine_errors():
            update: Any = RETURN_STEPS[step]
            answer: ReturnView = await client.get_workflow_handle(return_id).execute_update(update, arg)
            return answer

    async def edit_order(self, order_id: str, request: EditOrderRequest) -> EditOrderResult:
        client = await self._connect()
        async with _engine_errors():
            return await client.get_workflow_handle(order_id).execute_update(OrderWorkflow.edit_order, request)

    async def shipment_progress(self, shipment_id: str) -> ShipmentProgress:
        client = await self._connect()
        async with _engine_errors():
            return await client.get_workflow_handle(shipment_id).query(ShipmentWorkflow.progress)

    async def confirm_step(self, shipment_id: str, confirmation: StepConfirmation) -> ShipmentProgress:
        client = await self._connect()
        async with _engine_errors():
            return await client.get_workflow_handle(shipment_id).execute_update(
                ShipmentWorkflow.confirm_step, confirmation
            )


@asynccontextmanager
async def _engine_errors() -> AsyncIterator[None]:
    """The engine's exceptions as the gateway's own."""
    try:
        yield
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise WorkflowNotFound(exc.message) from None
        if exc.status is RPCStatusCode.FAILED_PRECONDITION:
            raise WorkflowNotRunning(exc.message) from None
        raise EngineError(exc.message) from exc
    except WorkflowQueryFailedError as exc:
        raise QueryFailed(str(exc)) from None
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError):
            refusal = str(cause.details[0]) if cause.details else None
            raise UpdateFailed(str(cause), error_type=cause.type, message=cause.message, refusal=refusal) from None
        raise UpdateFailed(str(cause or exc), error_type=None, message=str(cause or exc), refusal=None) from None
