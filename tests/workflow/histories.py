"""Replaying a finished workflow's history against today's code; storing it for future replays."""

from __future__ import annotations

import os
from pathlib import Path

from temporalio.client import WorkflowHandle
from temporalio.worker import Replayer

from workflows.channel_pull import ChannelPullWorkflow
from workflows.order import OrderWorkflow
from workflows.shipment import ShipmentWorkflow
from workflows.stock_feed import StockFeedWorkflow

HISTORIES = Path(__file__).resolve().parent.parent / "histories"
WORKFLOWS = [OrderWorkflow, ShipmentWorkflow, ChannelPullWorkflow, StockFeedWorkflow]
"""Every workflow type a stored history may belong to."""


async def replay_and_maybe_store(handle: WorkflowHandle, name: str) -> None:
    """Replay must succeed; with OMS_RECORD_HISTORIES=1 a history not stored yet is kept under
    tests/histories/. Stored ones are never overwritten: they are what older code produced."""
    history = await handle.fetch_history()
    await Replayer(workflows=WORKFLOWS).replay_workflow(history)
    target = HISTORIES / f"{name}.json"
    if os.environ.get("OMS_RECORD_HISTORIES") == "1" and not target.exists():
        HISTORIES.mkdir(exist_ok=True)
        target.write_text(history.to_json())
