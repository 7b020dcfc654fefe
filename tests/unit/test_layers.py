"""The layers point one way: a module may import only the packages below its own.

domain (standard library only) ← contracts (Temporal payloads, handler names, error types, activity
interfaces) ← config, persistence, integrations (neither of the last two imports the other) ←
services (application use cases) ← activities / api / ops / worker; workflows import only contracts
and domain, so a workflow never drags a database or an HTTP client into Temporal's sandbox.
Read from the source with `ast` (nothing is imported), so a wrong arrow fails here before it can
hide behind an import that happens to work.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BELOW: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "contracts": frozenset({"domain"}),
    "config": frozenset(),
    "persistence": frozenset({"domain", "contracts", "config"}),
    "integrations": frozenset({"domain", "contracts", "config"}),
    "workflows": frozenset({"domain", "contracts"}),
    "services": frozenset({"domain", "contracts", "config", "persistence", "integrations", "workflows"}),
}
_SERVED = BELOW["services"] | {"services"}
BELOW |= {
    "activities": _SERVED,
    "api": _SERVED,
    "ops": _SERVED | {"activities", "api", "worker", "migrations"},
    "worker": _SERVED | {"activities", "ops"},
    "migrations": frozenset({"domain", "config", "persistence"}),
    "sandboxes": frozenset({"ops"}),
    "bench": _SERVED | {"activities", "api", "ops", "worker", "sandboxes"},
}
"""What each top-level package may import from the others (bench measures everything; ops starts
and supervises the processes, so it sits on top with the worker)."""

THIRD_PARTY: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "contracts": frozenset({"temporalio"}),
    "workflows": frozenset({"temporalio"}),
}
"""Packages held to a short list of outside libraries: the domain is the standard library alone."""

OURS = frozenset(BELOW)


def _modules() -> Iterator[tuple[str, Path]]:
    for layer in sorted(OURS):
        package = ROOT / layer
        if package.is_dir():
            for path in sorted(package.rglob("*.py")):
                yield layer, path
        elif (ROOT / f"{layer}.py").is_file():
            yield layer, ROOT / f"{layer}.py"


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def _standard(top: str) -> bool:
    return top in sys.stdlib_module_names or top == "__future__"


def _wrong_arrows() -> list[str]:
    wrong = []
    for layer, path in _modules():
        allowed = BELOW[layer]
        for line, module in _imports(path):
            top = module.split(".")[0]
            where = f"{path.relative_to(ROOT)}:{line} imports {module}"
            if top in OURS and top != layer and top not in allowed:
                wrong.append(f"{where} ({layer} may import only {sorted(allowed)})")
            elif layer in THIRD_PARTY and top not in OURS | THIRD_PARTY[layer] and not _standard(top):
                wrong.append(f"{where} ({layer} may use only the standard library and {sorted(THIRD_PARTY[layer])})")
    return wrong


@pytest.mark.unit
def test_every_import_points_down_the_layers() -> None:
    assert _wrong_arrows() == []


@pytest.mark.unit
def test_the_check_sees_a_wrong_arrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk finds an upward import (a workflow importing an activity) and a library in the domain."""
    for package, source in (
        ("workflows", "from activities.inventory import InventoryActivities\n"),
        ("domain", "import sqlalchemy\n"),
        ("activities", "from contracts.inventory import Inventory\n"),
    ):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / "module.py").write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    wrong = _wrong_arrows()
    assert len(wrong) == 2
    assert wrong[0].startswith("domain/module.py:1 imports sqlalchemy")
    assert wrong[1].startswith("workflows/module.py:1 imports activities.inventory")
