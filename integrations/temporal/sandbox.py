"""The workflow sandbox the workers run: Temporal's own, with the order workflow's phases passed through.

The sandbox re-executes a workflow's module and every module it imports that is not passed through,
for every run it starts (and again after an eviction from the sticky cache), so that workflow code
cannot share state between runs or reach the clock, the network or the file system unnoticed.
Temporal's guidance is to pass through every module in a separate file whose calls are
deterministic. The order workflow's phases (workflows.order.* but the workflow itself) are such:
they hold no state at module level (constants and classes only; each run makes its own instances),
and they reach time, timers and activities only through `temporalio.workflow`.
tests/unit/test_workflow_determinism.py keeps them so: it refuses the clock, randomness, the
environment and I/O in every workflow module, and tests/workflow/test_replay.py replays stored
histories through this runner.

What it saves, measured as CPU per sandbox start-up of OrderWorkflow (prepare_workflow, process
time, 2 busy cores): 9-11 ms with everything under workflows.order re-executed, 3.3-3.5 ms with the
phases passed through; every order starts one. In the worker under bench.orders, the sandbox's
importer fell from 28 % to 5 % of the time the worker held the GIL (py-spy --gil).
"""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

PASSED_THROUGH = (
    # Every workflow module imports these inside imports_passed_through() already; named here too so
    # the sandbox's sys.modules finds them when a passed-through phase imported them first (the data
    # converter resolves a dataclass's type hints through sys.modules).
    "contracts",
    "domain",
    "workflows.policies",
    "workflows.refusals",
    "workflows.search_attributes",
    "workflows.order.backorders",
    "workflows.order.compensation",
    "workflows.order.edit_links",
    "workflows.order.edits",
    "workflows.order.fulfilment",
    "workflows.order.intake",
    "workflows.order.outside",
    "workflows.order.payment",
    "workflows.order.returns",
    "workflows.order.sourcing",
    "workflows.order.steps",
)
"""The contracts and the domain (pure), and every module under workflows/ but the workflows themselves
(the modules defining a @workflow.defn class stay sandboxed: each run gets its own copy)."""


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH))
