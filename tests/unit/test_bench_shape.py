"""bench.shape reads an order's shape from its history, so the floor repeats what the order does:
a stored history of a paid order (tests/histories) gives its activities in order, its search
attribute updates and its shipment's child workflow with that child's own activities."""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.client import WorkflowHistory

from bench.floor import ACTIVITY, CHILD, UPSERT
from bench.shape import Shape, shape_of

HISTORIES = Path(__file__).parent.parent / "histories"


def _history(name: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(name, json.loads((HISTORIES / f"{name}.json").read_text()))


async def test_a_paid_orders_shape_has_its_activities_updates_and_its_shipments_child() -> None:
    asked: list[str] = []

    async def child(workflow_id: str) -> Shape:
        asked.append(workflow_id)
        return await shape_of(_history("paid_order_shipment"), child)

    shape = await shape_of(_history("paid_order_completed"), child)

    assert len(asked) == 1 and asked[0].startswith("shipment-")
    kinds = [step.kind for step in shape.steps]
    assert kinds.count(CHILD) == 1 and shape.children == 1
    assert kinds.count(UPSERT) == shape.upserts >= 1
    assert kinds.index(CHILD) > kinds.index(ACTIVITY)  # recorded and reserved before it ships
    (shipment,) = (step for step in shape.steps if step.kind == CHILD)
    assert [step.kind for step in shipment.steps].count(ACTIVITY) >= 1
    assert shape.activities == kinds.count(ACTIVITY) + len(shipment.steps) - [s.kind for s in shipment.steps].count(
        UPSERT
    )
    activities = [step for step in shape.steps if step.kind == ACTIVITY]
    assert all(step.input_bytes > 0 and step.result_bytes > 0 for step in activities)
    assert shape.workflow_input_bytes > 0 and shape.events > len(shape.steps)
