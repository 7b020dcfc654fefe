"""Workflow code reaches the clock, randomness, the environment and I/O only through
`temporalio.workflow`: checked in the source of every module under workflows/, because the order
workflow's phases run passed through Temporal's sandbox (integrations/temporal/sandbox.py), where
its run-time restrictions do not look."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from integrations.temporal.sandbox import PASSED_THROUGH

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
MODULES = sorted(WORKFLOWS.rglob("*.py"))

FORBIDDEN_IMPORTS = {
    "random",
    "uuid",
    "os",
    "socket",
    "threading",
    "subprocess",
    "secrets",
    "time",
    "httpx",
    "requests",
}
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "monotonic"),
    ("time", "perf_counter"),
    ("time", "sleep"),
}
FORBIDDEN_BUILTINS = {"open", "input", "print", "exec", "eval", "id", "hash"}


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in FORBIDDEN_IMPORTS]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in FORBIDDEN_IMPORTS:
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                if (func.value.id, func.attr) in FORBIDDEN_CALLS:
                    found.append(f"{func.value.id}.{func.attr}() at line {node.lineno}")
            elif isinstance(func, ast.Name) and func.id in FORBIDDEN_BUILTINS:
                found.append(f"{func.id}() at line {node.lineno}")
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(WORKFLOWS)))
def test_workflow_code_reaches_time_and_io_only_through_temporal(path: Path) -> None:
    assert _offences(path) == []


def test_the_guard_sees_what_it_refuses(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import random\nfrom datetime import datetime\nx = datetime.now()\nopen('f')\n")
    assert len(_offences(bad)) == 3


def test_only_modules_without_a_workflow_are_passed_through() -> None:
    for name in PASSED_THROUGH:
        if not name.startswith("workflows."):
            continue
        path = WORKFLOWS.parent / (name.replace(".", "/") + ".py")
        assert path.exists(), name
        assert "@workflow.defn" not in path.read_text(), f"{name} defines a workflow: it must stay sandboxed"
