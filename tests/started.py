"""Waiting for the workflow of an order the API just took: its 202 comes once the order is in the
intake, and the workflow starts a moment later on a task of its own (services.intake.Intake.start_soon)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from temporalio.client import Client, WorkflowExecutionDescription, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode


async def _once_started(call: Any, within: float) -> Any:
    deadline = time.monotonic() + within
    while True:
        try:
            return await call()
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.05)


async def started_history(client: Client, workflow_id: str, within: float = 15) -> WorkflowHistory:
    history: WorkflowHistory = await _once_started(client.get_workflow_handle(workflow_id).fetch_history, within)
    return history


async def started_description(client: Client, workflow_id: str, within: float = 15) -> WorkflowExecutionDescription:
    described: WorkflowExecutionDescription = await _once_started(
        client.get_workflow_handle(workflow_id).describe, within
    )
    return described
