"""ShipmentWorkflow: the part of an order one location fulfils, step by step, as staff confirm it.

A child of OrderWorkflow (id = the shipment id, `shipment-<order id>-<location>`), running on the
location's task queue. It owns its shipment's reservation from the moment it starts: the goods
leave stock at the handover (ship, or collect at the counter), a short pick writes off what was
not on the shelf and reports it back for re-sourcing, and a withdrawal or an uncollected pickup
releases what is still held. The order decides about money.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.errors import ErrorType
    from contracts.order_workflow import CancelRequest
    from contracts.shipments import (
        AutoStepsRequest,
        CloseShipmentInput,
        EscalationInput,
        Label,
        LabelInput,
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
        LABEL_DUE_SECONDS,
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

LABEL_PATCH = "carrier-label-v1"
"""Packing with a carrier integration asks the carrier for the label before the shipment can leave."""

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
        self._label: str | None = None
        """The carrier label: None (no carrier integration), pending, ready or refused."""
        self._label_problem: str | None = None

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
        if self._input.auto_confirm and self._finished_as is None and self._label != "refused":
            raise ApplicationError(
                f"{self._input.location_id} confirms its steps by itself (sandbox warehouse)",
                "out_of_order",
                type=ErrorType.CONFIRMATION_REFUSED,
            )
        carrier, tracking = self._check_against_label(confirmation)
        try:
            check_confirmation(
                Confirmation(
                    confirmation.step,
                    confirmation.location_id,
                    confirmation.quantities,
                    confirmation.parcels,
                    carrier,
                    tracking,
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

    def _check_against_label(self, confirmation: StepConfirmation) -> tuple[str | None, str | None]:
        """A shipment with a carrier label ships with the label's carrier and tracking, never typed
        ones; while the label is pending it cannot ship. Answers the carrier and tracking to check."""
        if confirmation.step != Step.SHIP.value or self._label not in ("pending", "ready"):
            return confirmation.carrier, confirmation.tracking_number
        if self._label == "pending":
            raise ApplicationError(
                "the carrier label is pending: the shipment ships once the carrier has answered"
                + (f" ({self._label_problem})" if self._label_problem else ""),
                "out_of_order",
                type=ErrorType.CONFIRMATION_REFUSED,
            )
        if confirmation.carrier or confirmation.tracking_number:
            raise ApplicationError(
                f"the carrier label gives carrier and tracking ({self._carrier} {self._tracking}): leave them out",
                "invalid",
                type=ErrorType.CONFIRMATION_REFUSED,
            )
        return self._carrier, self._tracking

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
            label=self._label,
            label_problem=self._label_problem,
        )

    # -- the run -------------------------------------------------------------------------------

    @workflow.run
    async def run(self, data: ShipmentWorkflowInput) -> ShipmentOutcome:
        short: dict[str, int] = {}
        if data.auto_confirm:
            finished = await self._all_steps_at_once()
            if finished is not None:
                return finished
        while (step := self._expected_step()) is not None:
            if self._withdraw is not None and not self._handed_over:
                return await self._close(ShipmentStatus.WITHDRAWN, self._withdraw.reason or "withdrawn", short)
            confirmation: StepConfirmation | None = None
            due_at: datetime | None = None
            if not self._ships_by_itself(step):
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
            if done.label_pending and workflow.patched(LABEL_PATCH):
                await self._carrier_label()
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

    def _ships_by_itself(self, step: Step) -> bool:
        """A location that confirms by itself ships once the carrier's label is there."""
        return self._input.auto_confirm and step is Step.SHIP and self._label == "ready"

    async def _carrier_label(self) -> None:
        """Ask the carrier for the packed shipment's label (retried with backoff while the carrier
        does not answer); past its deadline the late label is escalated once. A refusal holds the
        shipment for a person, with the carrier's words: they ship it with a label made another
        way (typing its carrier and tracking) or cancel the order."""
        data = self._input
        self._label = "pending"
        request = workflow.start_activity_method(
            Shipments.request_label,
            LabelInput(data.order_id, data.shipment_id, data.location_id, workflow.now()),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
            summary=f"carrier label for {data.shipment_id}",
        )
        seconds = data.sla_seconds.get("label", LABEL_DUE_SECONDS)
        due_at = workflow.now() + timedelta(seconds=seconds)
        answered = lambda: request.done() or self._withdraw is not None  # noqa: E731
        try:
            await workflow.wait_condition(answered, timeout=timedelta(seconds=seconds))
        except TimeoutError:
            await self._escalate_label(due_at)
            await workflow.wait_condition(answered)
        if not request.done():  # withdrawn while the carrier had not answered: the run closes it
            request.cancel()
            with contextlib.suppress(ActivityError, asyncio.CancelledError):
                await request
            return
        try:
            label: Label = await request
        except ActivityError as failed:
            self._label, self._label_problem = "refused", str(failed.cause or failed)
            await self._escalate_label(due_at)
            return
        self._label, self._label_problem = "ready", None
        self._carrier, self._tracking = label.carrier, label.tracking_number

    async def _escalate_label(self, due_at: datetime) -> None:
        if "label" in self._escalated:
            return
        data = self._input
        self._escalated.append("label")
        await self._activity(
            Shipments.escalate,
            EscalationInput(
                data.order_id,
                data.shipment_id,
                data.location_id,
                "label",
                due_at,
                f"{data.shipment_id}:escalate:label",
                workflow.now(),
            ),
            summary="escalate: carrier label late or refused",
        )

    async def _perform(
        self, step: Step, confirmation: StepConfirmation | None, due_at: datetime | None
    ) -> ShipmentStepDone:
        """Record a step staff confirmed (the goods leave stock at the handover); without a
        confirmation, the location's own (after the carrier's label, for a location that confirms by itself)."""
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

    async def _all_steps_at_once(self) -> ShipmentOutcome | None:
        """The location confirms by itself: one activity records every step (fewer round trips
        through Temporal for the sandbox and for warehouse systems that answer at once). With a
        carrier integration it stops at pack: None, and the run asks for the label, then ships."""
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
        if done.label_pending and workflow.patched(LABEL_PATCH):
            self._lines, self._status = dict(done.lines), done.status
            self._done = steps.index(Step.PACK.value) + 1
            await self._carrier_label()
            return None
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
