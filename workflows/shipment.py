"""ShipmentWorkflow: the part of an order one location fulfils, step by step, as staff confirm it.

A child of OrderWorkflow (id = the shipment id, `shipment-<order id>-<location>`), running on the
location's task queue. It owns its shipment's reservation from the moment it starts: the goods
leave stock at the handover (ship, or collect at the counter), a short pick writes off what was
not on the shelf and reports it back for re-sourcing, and a withdrawal or an uncollected pickup
releases what is still held. The order decides about money.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.errors import ErrorType
    from contracts.order_workflow import CancelRequest
    from contracts.shipments import (
        AutoStepsRequest,
        CloseShipmentInput,
        EscalationInput,
        ShipmentOutcome,
        ShipmentProgress,
        Shipments,
        ShipmentStepDone,
        ShipmentStepRequest,
        ShipmentWorkflowInput,
        StepConfirmation,
    )
    from domain.fulfilment import (
        HANDOVER,
        STEPS,
        Confirmation,
        ConfirmationRefused,
        ShipmentKind,
        ShipmentStatus,
        Step,
        check_confirmation,
        next_step,
        step_location,
    )
    from workflows.policies import STEP_RETRY, STEP_TIMEOUT

Activities = TypeVar("Activities")
StepInput = TypeVar("StepInput")
StepResult = TypeVar("StepResult")


class _Expired(Exception):
    pass


@workflow.defn
class ShipmentWorkflow:
    @workflow.init
    def __init__(self, data: ShipmentWorkflowInput) -> None:
        # The input is known before any handler runs: staff can confirm (or a query can ask) as soon
        # as the read model shows the shipment, which can be the workflow's very first task.
        self._input = data
        self._kind = ShipmentKind(data.kind)
        self._lines: dict[str, int] = dict(data.lines)
        self._done = 0
        self._status = ShipmentStatus.RESERVED
        self._finished_as: ShipmentStatus | None = None
        self._withdraw: CancelRequest | None = None
        self._confirmations: dict[str, StepConfirmation] = {}
        self._escalated: list[str] = []
        self._carrier: str | None = None
        self._tracking: str | None = None
        self._handed_over = False

    # -- staff and the order talk to it ----------------------------------------------------------

    @workflow.update
    async def confirm_step(self, confirmation: StepConfirmation) -> ShipmentProgress:
        """Accepted only when it is the step the shipment waits for (the validator); answers once
        the step is recorded, so the caller sees the shipment as it now is."""
        self._confirmations[confirmation.step] = confirmation
        done_before = self._done
        await workflow.wait_condition(lambda: self._done > done_before or self._finished_as is not None)
        return self.progress()

    @confirm_step.validator
    def _validate_confirmation(self, confirmation: StepConfirmation) -> None:
        expected = self._expected_step()
        if self._input.auto_confirm and self._finished_as is None:
            raise ApplicationError(
                f"{self._input.location_id} confirms its steps by itself (sandbox warehouse)",
                "out_of_order",
                type=ErrorType.CONFIRMATION_REFUSED,
            )
        try:
            check_confirmation(
                Confirmation(
                    confirmation.step,
                    confirmation.location_id,
                    confirmation.quantities,
                    confirmation.parcels,
                    confirmation.carrier,
                    confirmation.tracking_number,
                ),
                expected=expected,
                finished_as=self._finished_as,
                step_location_id=step_location(
                    expected or Step.PICK, self._kind, self._input.location_id, self._input.pickup_location_id
                ),
                requested=self._lines,
            )
        except ConfirmationRefused as refused:
            raise ApplicationError(str(refused), refused.kind.value, type=ErrorType.CONFIRMATION_REFUSED) from None

    @workflow.signal
    def withdraw(self, request: CancelRequest) -> None:
        """The order no longer wants this shipment: honoured until the goods are handed over."""
        if not self._handed_over:
            self._withdraw = request

    @workflow.query
    def progress(self) -> ShipmentProgress:
        expected = self._expected_step()
        return ShipmentProgress(
            shipment_id=self._input.shipment_id,
            order_id=self._input.order_id,
            location_id=self._input.location_id,
            kind=self._kind.value,
            status=self._status,
            next_step=expected.value if expected else None,
            lines=dict(self._lines),
            carrier=self._carrier,
            tracking_number=self._tracking,
            escalated=list(self._escalated),
        )

    # -- the run -------------------------------------------------------------------------------

    @workflow.run
    async def run(self, data: ShipmentWorkflowInput) -> ShipmentOutcome:
        short: dict[str, int] = {}
        if data.auto_confirm:
            return await self._all_steps_at_once()
        while (step := self._expected_step()) is not None:
            if self._withdraw is not None and not self._handed_over:
                return await self._close(ShipmentStatus.WITHDRAWN, self._withdraw.reason or "withdrawn", short)
            try:
                confirmation, due_at = await self._await_confirmation(step)
            except _Expired:
                return await self._close(ShipmentStatus.EXPIRED, "not collected in time", short)
            if confirmation is None:
                continue  # withdrawn while waiting
            done = await self._perform(step, confirmation, due_at)
            if done.status == ShipmentStatus.STOPPED_BY_CANCEL:  # the order's cancel was taken first: nothing leaves
                self._withdraw = self._withdraw or CancelRequest(reason="order cancelled", requested_by="order")
                outcome = await self._close(ShipmentStatus.WITHDRAWN, "order cancelled before it left", short)
                outcome.cancelled_order = True
                return outcome
            short.update(done.short)
            self._lines, self._status = dict(done.lines), done.status
            self._carrier = done.carrier or self._carrier
            self._tracking = done.tracking_number or self._tracking
            if step is HANDOVER[self._kind]:
                self._handed_over = True
            self._done += 1
            if not self._lines:  # nothing found to pick: the whole shipment goes back for re-sourcing
                self._finished_as = self._status
                return ShipmentOutcome(data.shipment_id, self._status, short=short)
        self._finished_as = self._status
        return ShipmentOutcome(
            data.shipment_id,
            self._status,
            handed_over=dict(self._lines),
            short=short,
            carrier=self._carrier,
            tracking_number=self._tracking,
        )

    async def _perform(self, step: Step, confirmation: StepConfirmation, due_at: datetime | None) -> ShipmentStepDone:
        """Record a step staff confirmed (the goods leave stock at the handover)."""
        data = self._input
        return await self._activity(
            Shipments.perform_step,
            ShipmentStepRequest(
                data.order_id,
                data.shipment_id,
                data.location_id,
                step.value,
                dict(self._lines),
                f"{data.shipment_id}:{step.value}",
                workflow.now(),
                confirmation=confirmation,
                due_at=due_at,
                handover=step is HANDOVER[self._kind],
            ),
            summary=f"{step.value} at {step_location(step, self._kind, data.location_id, data.pickup_location_id)}",
        )

    async def _all_steps_at_once(self) -> ShipmentOutcome:
        """The location confirms by itself: one activity records every step (fewer round trips
        through Temporal for the sandbox and for warehouse systems that answer at once)."""
        data = self._input
        if self._withdraw is not None:
            return await self._close(ShipmentStatus.WITHDRAWN, self._withdraw.reason or "withdrawn", {})
        steps = [step.value for step in STEPS[self._kind]]
        done: ShipmentStepDone = await self._activity(
            Shipments.perform_steps_automatically,
            AutoStepsRequest(
                data.order_id,
                data.shipment_id,
                data.location_id,
                steps,
                HANDOVER[self._kind].value,
                dict(self._lines),
                f"{data.shipment_id}:auto",
                workflow.now(),
            ),
            summary=f"{' → '.join(steps)} at {data.location_id} (confirmed by the location)",
        )
        if done.status == ShipmentStatus.STOPPED_BY_CANCEL:
            outcome = await self._close(ShipmentStatus.WITHDRAWN, "order cancelled before it left", {})
            outcome.cancelled_order = True
            return outcome
        self._lines, self._status, self._done = dict(done.lines), done.status, len(steps)
        self._carrier, self._tracking = done.carrier, done.tracking_number
        self._handed_over = self._finished_as is None and bool(done.lines)
        self._finished_as = self._status
        return ShipmentOutcome(
            data.shipment_id,
            self._status,
            handed_over=dict(self._lines),
            short=dict(done.short),
            carrier=self._carrier,
            tracking_number=self._tracking,
        )

    async def _await_confirmation(self, step: Step) -> tuple[StepConfirmation | None, datetime | None]:
        """Wait for staff to confirm `step`; past its deadline raise one escalation and keep
        waiting. A pickup waits for the customer until it expires instead."""
        data = self._input
        if step is Step.COLLECT:
            deadline_seconds: int | None = data.pickup_expiry_seconds
        else:
            deadline_seconds = data.sla_seconds.get(step.value)
        due_at = workflow.now() + timedelta(seconds=deadline_seconds) if deadline_seconds else None
        arrived = lambda: step.value in self._confirmations or self._withdraw is not None  # noqa: E731
        try:
            await workflow.wait_condition(
                arrived, timeout=timedelta(seconds=deadline_seconds) if deadline_seconds else None
            )
        except TimeoutError:
            if step is Step.COLLECT:
                raise _Expired from None
            await self._escalate(step, due_at)
            await workflow.wait_condition(arrived)
        if self._withdraw is not None and not self._handed_over:
            return None, None
        return self._confirmations.pop(step.value), due_at

    async def _escalate(self, step: Step, due_at: datetime | None) -> None:
        assert self._input is not None and due_at is not None
        data = self._input
        self._escalated.append(step.value)
        await self._activity(
            Shipments.escalate,
            EscalationInput(
                data.order_id,
                data.shipment_id,
                step_location(step, self._kind, data.location_id, data.pickup_location_id),
                step.value,
                due_at,
                f"{data.shipment_id}:escalate:{step.value}",
                workflow.now(),
            ),
            summary=f"escalate: {step.value} late",
        )

    async def _close(self, status: ShipmentStatus, reason: str, short: dict[str, int]) -> ShipmentOutcome:
        """Withdraw the pick request and release what this shipment still holds."""
        data = self._input
        await self._activity(
            Shipments.close_shipment,
            CloseShipmentInput(
                data.order_id,
                data.shipment_id,
                data.location_id,
                dict(self._lines),
                status,
                reason,
                f"{data.shipment_id}:close",
                workflow.now(),
            ),
            summary=f"{status.lower()}: release {sum(self._lines.values())} units",
        )
        self._status = self._finished_as = status
        return ShipmentOutcome(data.shipment_id, status, short=short, released=dict(self._lines))

    def _expected_step(self) -> Step | None:
        if self._finished_as is not None:
            return None
        return next_step(self._kind, self._done)

    @staticmethod
    async def _activity(
        method: Callable[[Activities, StepInput], StepResult], arg: StepInput, *, summary: str
    ) -> StepResult:
        return await workflow.execute_activity_method(
            method, arg, start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY, summary=summary
        )
