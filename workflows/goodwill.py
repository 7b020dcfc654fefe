"""GoodwillWorkflow: carries out one goodwill request support made (already checked and reserved
under the order's lock by services.goodwill), exactly once: a refund through the gateway, or store
credit. A refund the gateway refuses is closed as REFUSED, freeing the amount; nothing was given."""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from contracts.errors import ErrorType
    from contracts.goodwill import GoodwillInput, GoodwillResult, GoodwillStep, GoodwillSteps
    from domain.goodwill import GoodwillForm

from workflows.order.steps import refusal
from workflows.policies import STEP_RETRY, STEP_TIMEOUT


@workflow.defn
class GoodwillWorkflow:
    @workflow.run
    async def run(self, data: GoodwillInput) -> GoodwillResult:
        step = GoodwillStep(data.goodwill_id, workflow.now())
        if data.form is GoodwillForm.STORE_CREDIT:
            return await self._step(GoodwillSteps.credit_goodwill, step, "issue store credit")
        try:
            return await self._step(GoodwillSteps.refund_goodwill, step, "refund")
        except ActivityError as err:
            rejected = refusal(err, ErrorType.PAYMENT_REJECTED)
            if rejected is None:
                raise
            why = GoodwillStep(data.goodwill_id, workflow.now(), why=rejected.message)
            return await self._step(GoodwillSteps.refuse_goodwill, why, "close as refused")

    async def _step(
        self, method: Callable[[GoodwillSteps, GoodwillStep], GoodwillResult], step: GoodwillStep, summary: str
    ) -> GoodwillResult:
        return await workflow.execute_activity_method(
            method,
            step,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
            summary=summary,
        )
