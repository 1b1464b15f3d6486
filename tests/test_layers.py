"""The layers of DESIGN.md, checked rather than hoped for: the pure stages (arithmetic, records,
pairing, checks, report, config, suppress, and whatever they import from the package) import
neither torch nor pytest nor numpy, even inside a function; pytest is imported by the plugin
alone; torch only by the modules of the trace side. Read from the sources with ``ast``."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_convshape"
PURE = ("arithmetic", "records", "pairing", "checks", "report", "config", "suppress")
TORCH_SIDE = {"trace", "fastshape", "tensors", "loader", "locate", "branches"}
"""Modules allowed to import torch (at the top or inside a function; imports for type
annotations only, under ``if TYPE_CHECKING:``, do not count)."""


@functools.cache
def _imports(module: str) -> tuple[set[str], set[str]]:
    """(package modules, outside top-level packages) that ``module`` imports anywhere."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(), filename=f"{module}.py")
    for node in ast.walk(tree):  # annotations only: not an import at run time
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            node.body = []
    own, outside = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "pytest_convshape" and len(parts) > 1:
                    own.add(parts[1])
                else:
                    outside.add(parts[0])
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from . import x / from .x import y
                if node.module:
                    own.add(node.module.split(".")[0])
                else:
                    own.update(a.name for a in node.names)
            else:
                outside.add((node.module or "").split(".")[0])
    return {m for m in own if (PACKAGE / f"{m}.py").exists()}, outside


def _closure(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += sorted(_imports(m)[0])
    return seen


def _modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py"))


@pytest.mark.parametrize("module", PURE)
def test_pure_stages_import_no_torch_pytest_or_numpy(module):
    offenders = {
        m: sorted(_imports(m)[1] & {"torch", "pytest", "numpy", "_pytest"})
        for m in sorted(_closure(module))
    }
    offenders = {m: found for m, found in offenders.items() if found}
    assert offenders == {}, f"{module} reaches {offenders} (through the package's own imports)"


def test_pytest_is_imported_by_the_plugin_alone():
    importers = sorted(m for m in _modules() if _imports(m)[1] & {"pytest", "_pytest"})
    assert importers == ["plugin"]


def test_torch_stays_on_the_trace_side():
    importers = {m for m in _modules() if "torch" in _imports(m)[1]}
    assert importers <= TORCH_SIDE, f"torch imported outside the trace side: {sorted(importers - TORCH_SIDE)}"


@pytest.mark.parametrize("module", ["api", "inputs", "plugin", "cli", "report", "config"])
def test_no_torch_at_the_top_of_the_faces(module):
    """The faces and the orchestration import torch only through the trace side (or lazily)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    top = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            top.add((node.module or "").split(".")[0])
    assert "torch" not in top and "numpy" not in top
