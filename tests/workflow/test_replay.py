"""Every stored history must replay against today's workflows: changes stay deterministic.

The histories are the 1.0 baseline, one per journey (tests.workflow.histories.JOURNEYS). A change
to workflow code that breaks this is guarded with `workflow.patched(...)` or shipped under Worker
Versioning; the history is never edited or re-recorded to make it pass.
"""

from __future__ import annotations

import json

import pytest
from temporalio.client import WorkflowHistory

from tests.workflow.histories import HISTORIES, JOURNEYS, replayer

STORED = sorted(HISTORIES.glob("*.json"))


def test_every_journey_has_its_stored_history():
    assert {path.stem for path in STORED} == set(JOURNEYS)


@pytest.mark.parametrize("strict", [False, True], ids=["worker-sandbox", "strict-sandbox"])
@pytest.mark.parametrize("path", STORED, ids=lambda p: p.stem)
async def test_stored_history_replays(path, strict):
    raw = path.read_text()
    workflow_id = json.loads(raw)["events"][0]["workflowExecutionStartedEventAttributes"]["workflowId"]
    history = WorkflowHistory.from_json(workflow_id, raw)
    result = await replayer(strict=strict).replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
