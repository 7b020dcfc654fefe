"""The layers point one way: a module may import only the packages below its own.

domain (standard library only) ← contracts (Temporal payloads, handler names, error types, activity
interfaces) ← config, persistence, integrations (neither of the last two imports the other) ←
services (application use cases) ← activities / api / ops / worker; workflows import only contracts
and domain, so a workflow never drags a database or an HTTP client into Temporal's sandbox.
Read from the source with `ast` (nothing is imported), so a wrong arrow fails here before it can
hide behind an import that happens to work.

Inside persistence the same holds between its parts: master data ← the write side (guarded
writes) ← the read side (read model); the write side never imports the read side.
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
    "config": frozenset({"domain"}),  # the channel names its settings are checked against
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


PERSISTENCE_PARTS: dict[str, frozenset[str]] = {
    "persistence.master_data": frozenset(),
    "persistence.guarded_writes": frozenset({"persistence.master_data"}),
    "persistence.read_model": frozenset({"persistence.master_data", "persistence.guarded_writes"}),
}
"""What each part of persistence may import of the others (all three stand on the package root's
models, engines and unit of work, which the check leaves alone)."""


def _names_imported(path: Path) -> Iterator[tuple[int, str]]:
    """What a file imports, each name of a from-import in full (`from persistence import read_model`
    is persistence.read_model), so a package imported by either spelling is seen."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _wrong_arrows_in_persistence() -> list[str]:
    wrong = []
    for part, allowed in PERSISTENCE_PARTS.items():
        for path in sorted((ROOT / part.replace(".", "/")).rglob("*.py")):
            for line, module in _names_imported(path):
                other = next((p for p in PERSISTENCE_PARTS if module == p or module.startswith(f"{p}.")), part)
                if other != part and other not in allowed:
                    where = f"{path.relative_to(ROOT)}:{line} imports {module}"
                    wrong.append(f"{where} ({part} may import only {sorted(allowed)})")
    return wrong


@pytest.mark.unit
def test_the_write_side_of_persistence_never_imports_the_read_side() -> None:
    assert _wrong_arrows_in_persistence() == []


@pytest.mark.unit
def test_the_persistence_check_sees_a_wrong_arrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A guarded write that imports the read model is found, by either spelling; the other way is not."""
    for part, source in (
        ("guarded_writes", "from persistence.read_model.orders import add_event\nfrom persistence import read_model\n"),
        ("read_model", "from persistence.guarded_writes import inventory\n"),
        ("master_data", "from persistence.models import Location\n"),
    ):
        (tmp_path / "persistence" / part).mkdir(parents=True)
        (tmp_path / "persistence" / part / "module.py").write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    wrong = _wrong_arrows_in_persistence()
    assert [line.split(" (")[0] for line in wrong] == [
        "persistence/guarded_writes/module.py:1 imports persistence.read_model.orders.add_event",
        "persistence/guarded_writes/module.py:2 imports persistence.read_model",
    ]
