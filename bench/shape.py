"""A real order's shape, read from its history: what the honest floor (bench/floor.py) repeats.

The parent's commands in their order (activities with their input and result sizes, search attribute
updates, child workflows with their own steps) up to where it rests (its returns window's timer), and
the workflow input's size. Payload sizes are as stored, that is after the codec (encrypted): the
floor's payloads go through the same codec, so its stored sizes come out a few dozen bytes larger.
Timers and markers are left out: the floor does not wait out a returns window, and a marker is a
line in the history that costs nothing to run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory

from bench.floor import ACTIVITY, CHILD, UPSERT, FloorStep


@dataclass
class Shape:
    workflow_input_bytes: int
    steps: list[FloorStep]
    events: int
    """The parent's history length when it rested (its children's not counted)."""

    @property
    def activities(self) -> int:
        return _count(self.steps, ACTIVITY)

    @property
    def children(self) -> int:
        return _count(self.steps, CHILD)

    @property
    def upserts(self) -> int:
        return _count(self.steps, UPSERT)

    def describe(self) -> str:
        return (
            f"{self.activities} activities ({_describe(self.steps)}), {self.children} child workflow(s), "
            f"{self.upserts} search attribute updates; input {self.workflow_input_bytes} B"
        )


def _count(steps: list[FloorStep], kind: str) -> int:
    return sum((step.kind == kind) + _count(step.steps, kind) for step in steps)


def _describe(steps: list[FloorStep]) -> str:
    parts = []
    for step in steps:
        if step.kind == ACTIVITY:
            parts.append(f"{step.input_bytes}/{step.result_bytes} B")
        elif step.kind == CHILD:
            parts.append(f"child[{_describe(step.steps)}]")
    return ", ".join(parts)


def _size(payloads: Payloads) -> int:
    return sum(payload.ByteSize() for payload in payloads.payloads)


async def read_shape(client: Client, workflow_id: str) -> Shape:
    """The shape of the workflow `workflow_id` (its latest run), with its children's."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()

    async def child(child_id: str) -> Shape:
        return await read_shape(client, child_id)

    return await shape_of(history, child)


async def shape_of(history: WorkflowHistory, child: Callable[[str], Awaitable[Shape]]) -> Shape:
    """The shape of one history; `child` reads a child workflow's, by its id."""
    steps: list[FloorStep] = []
    by_scheduled: dict[int, FloorStep] = {}
    input_bytes = 0
    for event in history.events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            input_bytes = _size(event.workflow_execution_started_event_attributes.input)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            step = FloorStep(ACTIVITY, input_bytes=_size(event.activity_task_scheduled_event_attributes.input))
            by_scheduled[event.event_id] = step
            steps.append(step)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done = event.activity_task_completed_event_attributes
            if done.scheduled_event_id in by_scheduled:
                by_scheduled[done.scheduled_event_id].result_bytes = _size(done.result)
        elif kind == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            steps.append(FloorStep(UPSERT))
        elif kind == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            shape = await child(event.start_child_workflow_execution_initiated_event_attributes.workflow_id)
            steps.append(FloorStep(CHILD, input_bytes=shape.workflow_input_bytes, steps=shape.steps))
    return Shape(workflow_input_bytes=input_bytes, steps=steps, events=len(history.events))
