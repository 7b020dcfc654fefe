"""Every stored history must replay against today's OrderWorkflow: changes stay deterministic.

When a change to the workflow breaks this, guard it with `workflow.patched(...)` instead of
editing the history. Record new histories with OMS_RECORD_HISTORIES=1 (see histories.py).
"""

from __future__ import annotations

import json

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.workflow.histories import HISTORIES, WORKFLOWS

STORED = sorted(HISTORIES.glob("*.json"))


def test_histories_are_stored():
    assert {path.stem for path in STORED} >= {
        "paid_order_completed",
        "cancelled_during_fulfilment",
        "counter_sale",
        "fulfilled_by_channel",
        "returned_in_two_parts",
        "bol_pull_retried_after_an_outage",
    }


@pytest.mark.parametrize("path", STORED, ids=lambda p: p.stem)
async def test_stored_history_replays(path):
    raw = path.read_text()
    workflow_id = json.loads(raw)["events"][0]["workflowExecutionStartedEventAttributes"]["workflowId"]
    history = WorkflowHistory.from_json(workflow_id, raw)
    result = await Replayer(workflows=WORKFLOWS).replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
