"""The Temporal floor: the fastest a workflow shaped like a real order runs here (see bench/README.md).

The shape is read from a real order's history in the same run (bench/shape.py): the parent's
activities, search attribute updates and child workflows in their order, each child's activities, and
every activity's input and result at the size the order's were. The floor then does exactly that with
no-op activities: what Temporal alone costs for one order on this machine.

A module of its own, as small as a workflow module can be, because Temporal's sandbox re-executes
the workflow's module for every run: the floor should not pay for the benchmark's own code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from workflows.policies import STEP_RETRY, STEP_TIMEOUT
    from workflows.search_attributes import ORDER_STATUS

ACTIVITY = "activity"
CHILD = "child"
UPSERT = "upsert"


@dataclass
class FloorStep:
    """One command of the shape: an activity (with its input and result sizes), a child workflow
    (with its own steps), or a search attribute update."""

    kind: str
    input_bytes: int = 0
    result_bytes: int = 0
    steps: list[FloorStep] = field(default_factory=list)


@dataclass
class FloorInput:
    steps: list[FloorStep]
    padding: str = ""
    """The workflow input's size, as the order's input is."""


@dataclass
class FloorStepInput:
    step: int
    padding: str
    result_bytes: int


@activity.defn(name="bench_floor_step")
def floor_step(data: FloorStepInput) -> str:
    """Does nothing: a sync activity on a thread pool, like the real worker's, minus the database."""
    return "r" * data.result_bytes


async def run_steps(steps: list[FloorStep], parent_id: str) -> int:
    done = 0
    for n, step in enumerate(steps):
        if step.kind == ACTIVITY:
            await workflow.execute_activity(
                floor_step,
                FloorStepInput(n, "p" * step.input_bytes, step.result_bytes),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=STEP_RETRY,
                summary=f"step {n + 1}",
            )
            done += 1
        elif step.kind == UPSERT:
            workflow.upsert_search_attributes([ORDER_STATUS.value_set(f"FLOOR-{n}")])
        elif step.kind == CHILD:
            done += await workflow.execute_child_workflow(
                FloorChildWorkflow.run,
                FloorInput(step.steps, "p" * step.input_bytes),
                id=f"{parent_id}-child-{n}",
            )
    return done


@workflow.defn(name="BenchFloorChildWorkflow")
class FloorChildWorkflow:
    """A shipment's part of the shape."""

    @workflow.run
    async def run(self, data: FloorInput) -> int:
        return await run_steps(data.steps, workflow.info().workflow_id)


@workflow.defn(name="BenchFloorWorkflow")
class FloorWorkflow:
    """The order's part of the shape, with OrderWorkflow's timeout and retry policy; returns the
    number of activities run (its own and its children's)."""

    @workflow.run
    async def run(self, data: FloorInput) -> int:
        return await run_steps(data.steps, workflow.info().workflow_id)
