"""How an OrderWorkflow takes a step, whatever its phase: an activity with the engine's timeout and
retries, a stable idempotency key per step, a status written to the read model, and a hold for a
person when the database refuses a step's data or the order needs a decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from contracts.errors import ErrorType
    from contracts.order_records import ChangeStatusInput, OrderRecords
    from contracts.order_workflow import CancelRequest, OrderRun
    from domain.status import OrderStatus
    from workflows.policies import STEP_RETRY, STEP_TIMEOUT
    from workflows.search_attributes import ORDER_STATUS

from workflows.refusals import refusal

__all__ = ["Cancelled", "OrderSteps", "refusal"]

Activities = TypeVar("Activities")
StepInput = TypeVar("StepInput")
StepResult = TypeVar("StepResult")


class Cancelled(Exception):
    """Raised inside the run to unwind to the compensation path."""


class OrderSteps:
    """The order's way of doing things, shared by its phases; `run` is the order's one state."""

    def __init__(self, run: OrderRun) -> None:
        self._run = run

    async def activity(
        self,
        method: Callable[[Activities, StepInput], StepResult],
        arg: StepInput,
        *,
        summary: str,
        hold_on_refusal: bool = True,
    ) -> StepResult:
        """Run a step. One the database refuses for its data (ErrorType.STORAGE_REFUSED: it would
        fail the same way on every retry) holds the order for a person instead of failing it: a
        release runs the step again, a cancel unwinds where that is possible. `hold_on_refusal`
        False: the refusal goes to the caller (a return request answers it; a status write cannot hold)."""
        while True:
            try:
                return await workflow.execute_activity_method(
                    method, arg, start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY, summary=summary
                )
            except ActivityError as err:
                refused = refusal(err, ErrorType.STORAGE_REFUSED)
                if not hold_on_refusal or refused is None:
                    raise
                await self._hold_refused_step(refused.message)

    def key(self, step: str) -> str:
        """A stable idempotency key per step occurrence: the same on every retry and replay."""
        self._run.steps[step] = self._run.steps.get(step, 0) + 1
        return f"{self._run.order_id}:{step}:{self._run.steps[step]}"

    def mark(self, status: OrderStatus, hold_reason: str | None = None) -> None:
        """Record a status the activity already wrote to the read model."""
        self._run.status, self._run.hold_reason = status, hold_reason
        workflow.upsert_search_attributes([ORDER_STATUS.value_set(status.value)])

    async def set_status(
        self,
        status: OrderStatus,
        *,
        hold_reason: str | None = None,
        detail: str = "",
        cancel: CancelRequest | None = None,
    ) -> None:
        """`cancel`, with CANCELLED: who asked, so the selling channel hears of it unless it asked itself."""
        await self.activity(
            OrderRecords.change_status,
            ChangeStatusInput(
                self._run.order_id,
                status,
                self.key(f"status-{status.value}"),
                workflow.now(),
                hold_reason=hold_reason,
                detail=detail,
                cancel=cancel,
            ),
            summary=f"status {status.value}",
            hold_on_refusal=False,
        )
        self.mark(status, hold_reason)

    # -- a person decides ------------------------------------------------------------------------

    def expect_a_person(self, *, or_stock: bool = False) -> None:
        """Forget earlier releases (and restocks) before a step whose outcome may be a hold.

        Here and not when the wait begins: the step writes the hold where people see it before the
        workflow gets to wait, and a release sent in between must not be lost."""
        self._run.release = None
        if or_stock:
            self._run.stock_arrived = False

    async def wait_for_a_person(self) -> None:
        """Until a release (return) or a cancel (raises Cancelled)."""
        await workflow.wait_condition(lambda: self._run.release is not None or self._run.cancel is not None)
        self.raise_if_cancelled()

    def raise_if_cancelled(self) -> None:
        if self._run.cancel is not None:
            raise Cancelled

    async def _hold_refused_step(self, refused: str) -> None:
        """ON_HOLD with the refusal until a person releases (the step runs again) or, on the
        forward path, cancels (the order unwinds)."""
        run = self._run
        before, reason_before = run.status, run.hold_reason
        self.expect_a_person()
        way_out = "fix it and release to try again" + (", or cancel" if run.may_unwind else "")
        await self.set_status(OrderStatus.ON_HOLD, hold_reason=f"{refused} ({way_out})")
        await workflow.wait_condition(lambda: run.release is not None or (run.cancel is not None and run.may_unwind))
        if run.release is None:
            raise Cancelled
        await self.set_status(before, hold_reason=reason_before, detail="released: the refused step runs again")
