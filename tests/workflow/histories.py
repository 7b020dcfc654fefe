"""Replaying a finished workflow's history against today's code; storing it for future replays."""

from __future__ import annotations

import os
from pathlib import Path

from temporalio.client import WorkflowHandle
from temporalio.worker import Replayer

from workflows.order import OrderWorkflow
from workflows.shipment import ShipmentWorkflow

HISTORIES = Path(__file__).resolve().parent.parent / "histories"


async def replay_and_maybe_store(handle: WorkflowHandle, name: str) -> None:
    """Replay must succeed; with OMS_RECORD_HISTORIES=1 a history not stored yet is kept under
    tests/histories/. Stored ones are never overwritten: they are what older code produced."""
    history = await handle.fetch_history()
    await Replayer(workflows=[OrderWorkflow, ShipmentWorkflow]).replay_workflow(history)
    target = HISTORIES / f"{name}.json"
    if os.environ.get("OMS_RECORD_HISTORIES") == "1" and not target.exists():
        HISTORIES.mkdir(exist_ok=True)
        target.write_text(history.to_json())
