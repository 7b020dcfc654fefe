"""The Temporal floor: the fastest a workflow of K no-op activities runs here (see bench/README.md).

A module of its own, as small as a workflow module can be, because Temporal's sandbox re-executes
the workflow's module for every run: the floor should not pay for the benchmark's own code.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from workflows.policies import STEP_RETRY, STEP_TIMEOUT


@dataclass
class FloorInput:
    activities: int


@dataclass
class FloorStepInput:
    step: int


@activity.defn(name="bench_floor_step")
def floor_step(data: FloorStepInput) -> None:
    """Does nothing: a sync activity on a thread pool, like the real worker's, minus the database."""


@workflow.defn(name="BenchFloorWorkflow")
class FloorWorkflow:
    """K no-op activities in sequence, with OrderWorkflow's timeout and retry policy."""

    @workflow.run
    async def run(self, data: FloorInput) -> int:
        for step in range(data.activities):
            await workflow.execute_activity(
                floor_step,
                FloorStepInput(step),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=STEP_RETRY,
                summary=f"step {step + 1}",
            )
        return data.activities
