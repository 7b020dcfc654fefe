"""ReturnWorkflow: one durable run per return, from its request to its settlement.

Started by the order's workflow (a child it abandons on closing: the order may complete while its
return lives on) or directly for a channel's own return (services.returns.open_channel_return).
Its id is the return id (`return-<order id>-<n>`, or `return-<order id>-<channel>-<channel's
return id>`), never personal data. It walks domain.return_lifecycle: awaiting approval ->
requested (RMA issued; expires when no parcel comes in time, yet a late parcel is still received)
-> received -> disposed -> resolved, or rejected / cancelled before the goods came. Each step is an
update whose validator refuses before anything reaches history; each is recorded once by an
activity (activities.return_lifecycle) and shows on the order's timeline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.channel_returns import ChannelReturns, HandleChannelReturnInput
    from contracts.errors import ErrorType
    from contracts.return_labels import ReturnLabelInput, ReturnLabels
    from contracts.return_lifecycle import (
        DisposeReturnInput,
        DisposeReturnRequest,
        DispositionLineInput,
        ReceivedLineInput,
        ReceiveReturnInput,
        ReceiveReturnRequest,
        ReturnDecision,
        ReturnLifecycle,
        ReturnStepInput,
        ReturnView,
        ReturnWorkflowInput,
    )
    from contracts.returns import RefundReturnInput, ReturnAccepted, Returns
    from domain.money import Money
    from domain.order import Order  # noqa: F401 (passed through: the input's Order is the worker's own class)
    from domain.return_lifecycle import (
        FINISHED,
        Condition,
        Disposition,
        DispositionLine,
        Receipt,
        ReceivedLine,
        Resolution,
        ReturnState,
        ReturnStepRefused,
        check_dispositions,
        check_receipt,
        check_transition,
    )
    from workflows.policies import STEP_RETRY, STEP_TIMEOUT

CHANNEL_RETURN_TIMEOUT = timedelta(minutes=2)

Activities = TypeVar("Activities")
StepInput = TypeVar("StepInput")
StepResult = TypeVar("StepResult")


def _refused(exc: ReturnStepRefused) -> ApplicationError:
    return ApplicationError(str(exc), exc.kind.value, type=ErrorType.RETURN_STEP_REFUSED)


def _moved_from(view: ReturnView, state: str) -> Callable[[], bool]:
    return lambda: view.state != state


def _receipt(view: ReturnView) -> Receipt:
    by_condition = {sku: {Condition(c): n for c, n in units.items()} for sku, units in view.received.items()}
    return Receipt(by_condition=by_condition, short=dict(view.short))


def _received_lines(data: ReceiveReturnRequest) -> list[ReceivedLine]:
    return [ReceivedLine(line.sku, line.quantity, line.condition) for line in data.lines]  # type: ignore[arg-type]


def _disposition_lines(data: DisposeReturnRequest) -> list[DispositionLine]:
    return [DispositionLine(line.sku, line.quantity, line.disposition, line.reason) for line in data.lines]  # type: ignore[arg-type]


@workflow.defn
class ReturnWorkflow:
    def __init__(self) -> None:
        self._data: ReturnWorkflowInput | None = None
        self._view: ReturnView | None = None
        self._one_step_at_a_time = asyncio.Lock()
        self._refunded_on_request = False
        self._due_at_receipt: Money | None = None
        """Priced at receipt, refunded when the return is settled."""
        self._label_asked = False

    # -- queries and updates ---------------------------------------------------------------------

    @workflow.query
    def view(self) -> ReturnView:
        assert self._view is not None
        return self._view

    @workflow.update
    async def approve(self, decision: ReturnDecision) -> ReturnView:
        """Support approves a customer's request: the RMA is issued (and refunded on request)."""
        return await self._decide(ReturnState.REQUESTED, decision)

    @approve.validator
    def _may_approve(self, decision: ReturnDecision) -> None:
        self._check(ReturnState.REQUESTED)

    @workflow.update
    async def reject(self, decision: ReturnDecision) -> ReturnView:
        return await self._decide(ReturnState.REJECTED, decision)

    @reject.validator
    def _may_reject(self, decision: ReturnDecision) -> None:
        self._check(ReturnState.REJECTED)

    @workflow.update
    async def cancel(self, decision: ReturnDecision) -> ReturnView:
        return await self._decide(ReturnState.CANCELLED, decision)

    @cancel.validator
    def _may_cancel(self, decision: ReturnDecision) -> None:
        self._check(ReturnState.CANCELLED)
        if self._refunded_on_request:
            raise ApplicationError(
                "refunded on request already: receive the parcel, or let the return expire",
                "out_of_order",
                type=ErrorType.RETURN_STEP_REFUSED,
            )

    @workflow.update
    async def receive(self, data: ReceiveReturnRequest) -> ReturnView:
        """The parcel is in at a location: per line quantity and condition; fewer than announced
        is recorded as short."""
        async with self._one_step_at_a_time:
            self._check(ReturnState.RECEIVED)
            await self._receive(data)
        return self.view()

    @receive.validator
    def _may_receive(self, data: ReceiveReturnRequest) -> None:
        self._check(ReturnState.RECEIVED)
        if not data.location_id:
            raise ApplicationError(
                "where was it received? location_id is missing", "invalid", type=ErrorType.RETURN_STEP_REFUSED
            )
        try:
            check_receipt(self.view().announced, _received_lines(data))
        except ReturnStepRefused as exc:
            raise _refused(exc) from None

    @workflow.update
    async def dispose(self, data: DisposeReturnRequest) -> ReturnView:
        """Every unit received gets a disposition (adding up exactly); the stock is booked, a
        channel's return is told back to the channel, and the return is settled."""
        async with self._one_step_at_a_time:
            self._check(ReturnState.DISPOSED)
            await self._dispose(data)
            await self._resolve(data.by)
        return self.view()

    @dispose.validator
    def _may_dispose(self, data: DisposeReturnRequest) -> None:
        self._check(ReturnState.DISPOSED)
        try:
            check_dispositions(_receipt(self.view()), _disposition_lines(data))
        except ReturnStepRefused as exc:
            raise _refused(exc) from None

    def _check(self, target: ReturnState) -> None:
        try:
            check_transition(ReturnState(self.view().state), target)
        except ReturnStepRefused as exc:
            raise _refused(exc) from None

    # -- the run ---------------------------------------------------------------------------------

    @workflow.run
    async def run(self, data: ReturnWorkflowInput) -> ReturnAccepted:
        opened, request = data.opened, data.request
        self._data = data
        self._view = ReturnView(
            return_id=opened.return_id,
            order_id=opened.order_id,
            rma=opened.rma,
            state=opened.state,
            source=request.source,
            announced=dict(opened.announced),
            refund=Money.zero(data.order.currency),
            external_rma=request.external_rma,
            expires_at=opened.expires_at,
            resolution=request.resolution,
        )
        if opened.refund.amount_minor > 0:
            await self._refund(opened.refund)
            self._refunded_on_request = True
        if request.received:
            await self._at_the_counter(data)
        while ReturnState(self.view().state) not in FINISHED:
            if self.view().state == ReturnState.REQUESTED:
                await self._return_label(data)
                await self._until_received_or_expired()
            else:
                await workflow.wait_condition(_moved_from(self.view(), self.view().state))
        await workflow.wait_condition(workflow.all_handlers_finished)
        view = self.view()
        return ReturnAccepted(view.return_id, view.status or view.state, view.refund, view.rma)

    async def _until_received_or_expired(self) -> None:
        view = self.view()
        assert view.expires_at is not None
        left = view.expires_at - workflow.now()
        try:
            await workflow.wait_condition(
                lambda: view.state != ReturnState.REQUESTED,
                timeout=max(left, timedelta(seconds=1)),
                timeout_summary="return expiry",
            )
        except TimeoutError:
            async with self._one_step_at_a_time:
                if view.state == ReturnState.REQUESTED:
                    await self._step(ReturnState.EXPIRED, "", "")

    async def _return_label(self, data: ReturnWorkflowInput) -> None:
        """Once the RMA is issued, the customer's label back (activities.return_labels: through the
        carrier integration when the order left through one). A channel's return travels on the
        channel's own label. A refusal is final and on the timeline: a person sends a label made
        another way, and the return waits for its parcel all the same."""
        if self._label_asked or data.request.external_rma:
            return
        self._label_asked = True
        view = self.view()
        try:
            await workflow.execute_activity_method(
                ReturnLabels.create_return_label,
                ReturnLabelInput(view.order_id, view.return_id, view.rma, None, dict(view.announced), workflow.now()),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=STEP_RETRY,
                summary=f"return label for {view.rma}",
            )
        except ActivityError:
            workflow.logger.info("no return label for %s: the carrier refused it", view.return_id)

    async def _at_the_counter(self, data: ReturnWorkflowInput) -> None:
        """The goods are here already: received in full where they are, restocked (or scrapped
        with the reason when not fit to sell), settled at once."""
        request, opened = data.request, data.opened
        location = opened.receive_at or ""
        condition = Condition.AS_NEW if request.restock else Condition.DAMAGED
        disposition = Disposition.RESTOCK if request.restock else Disposition.SCRAP
        reason = "" if request.restock else (request.reason or "not fit to sell again")
        lines = sorted(opened.announced.items())
        async with self._one_step_at_a_time:
            await self._receive(
                ReceiveReturnRequest(
                    location, [ReceivedLineInput(sku, n, condition.value) for sku, n in lines], request.requested_by
                )
            )
            await self._dispose(
                DisposeReturnRequest(
                    [DispositionLineInput(sku, n, disposition.value, reason[:200]) for sku, n in lines],
                    request.requested_by,
                )
            )
            await self._resolve(request.requested_by)

    # -- the steps -------------------------------------------------------------------------------

    async def _decide(self, target: ReturnState, decision: ReturnDecision) -> ReturnView:
        async with self._one_step_at_a_time:
            self._check(target)
            due = await self._step(target, decision.by, decision.reason)
            if due.amount_minor > 0:
                await self._refund(due)
                self._refunded_on_request = True
        return self.view()

    async def _step(self, target: ReturnState, by: str, reason: str) -> Money:
        assert self._data is not None
        view = self.view()
        done = await self._activity(
            ReturnLifecycle.record_return_step,
            ReturnStepInput(self._data.order, view.return_id, target.value, by, workflow.now(), reason),
            f"return {target.value.lower()}",
        )
        view.state = target.value
        if target is ReturnState.REQUESTED:
            view.expires_at = workflow.now() + (self._data.opened.expires_at - self._data.opened.requested_at)
        return done.refund

    async def _receive(self, data: ReceiveReturnRequest) -> None:
        assert self._data is not None
        view = self.view()
        received = await self._activity(
            ReturnLifecycle.receive_return,
            ReceiveReturnInput(self._data.order, view.return_id, data.location_id, data.lines, data.by, workflow.now()),
            f"receive at {data.location_id}",
        )
        view.state, view.location_id = ReturnState.RECEIVED.value, data.location_id
        view.received, view.short, view.over_refunded = received.received, received.short, received.over_refunded
        self._due_at_receipt = received.refund

    async def _dispose(self, data: DisposeReturnRequest) -> None:
        assert self._data is not None
        view = self.view()
        disposed = await self._activity(
            ReturnLifecycle.dispose_return,
            DisposeReturnInput(
                view.order_id, view.return_id, view.location_id or "", data.lines, data.by, workflow.now()
            ),
            "dispose",
        )
        view.state = ReturnState.DISPOSED.value
        if view.external_rma:
            await workflow.execute_activity_method(
                ChannelReturns.handle_channel_return,
                HandleChannelReturnInput(
                    channel=view.source,
                    order_id=view.order_id,
                    return_id=view.return_id,
                    external_rma=view.external_rma,
                    received={sku: sum(units.values()) for sku, units in view.received.items()},
                    sellable=disposed.sellable,
                    short=dict(view.short),
                    at=workflow.now(),
                ),
                start_to_close_timeout=CHANNEL_RETURN_TIMEOUT,
                retry_policy=STEP_RETRY,
                summary=f"tell {view.source} of {view.external_rma}",
            )

    async def _resolve(self, by: str) -> None:
        due = self._due_at_receipt
        if due is not None and due.amount_minor > 0:
            await self._refund(due)
        await self._step(ReturnState.RESOLVED, by, "")

    async def _refund(self, amount: Money) -> None:
        view = self.view()
        done = await self._activity(
            Returns.refund_return,
            RefundReturnInput(
                view.order_id,
                view.return_id,
                amount,
                workflow.now(),
                on_channel=bool(view.external_rma),
                as_credit=view.resolution == Resolution.STORE_CREDIT.value,
            ),
            f"{'store credit' if view.resolution == Resolution.STORE_CREDIT.value else 'refund'} {amount.format()}",
        )
        view.status, view.refund = done.status, done.refund

    async def _activity(
        self, method: Callable[[Activities, StepInput], StepResult], arg: StepInput, summary: str
    ) -> StepResult:
        """A step; one the database refuses (a race the validator could not see, a location we do
        not know) fails the update that asked for it with the refusal, and the return waits on."""
        try:
            return await workflow.execute_activity_method(
                method, arg, start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY, summary=summary
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == ErrorType.RETURN_STEP_REFUSED:
                raise ApplicationError(cause.message, *cause.details, type=ErrorType.RETURN_STEP_REFUSED) from None
            raise
