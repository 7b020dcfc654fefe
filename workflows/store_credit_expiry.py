"""StoreCreditExpiryWorkflow: one run of the store credit expiry, started daily by its Temporal
Schedule (ops.store_credit): what is left of every lot past its expiry is written off. A run that is
retried or overlaps another writes the same entry ids, which the ledger keeps once."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.store_credit import ExpireCreditInput, ExpireCreditResult, StoreCredit

from workflows.policies import STEP_RETRY

EXPIRY_TIMEOUT = timedelta(minutes=30)
"""One run over every account with credit past its expiry."""


@workflow.defn
class StoreCreditExpiryWorkflow:
    @workflow.run
    async def run(self) -> ExpireCreditResult:
        return await workflow.execute_activity_method(
            StoreCredit.expire_store_credit,
            ExpireCreditInput(workflow.now()),
            start_to_close_timeout=EXPIRY_TIMEOUT,
            retry_policy=STEP_RETRY,
            summary="write off expired store credit",
        )
