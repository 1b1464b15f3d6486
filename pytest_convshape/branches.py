"""Resampling layers that never ran because an ``if`` chose another branch.

A forward with a data-dependent branch (``if x.mean() > 0:``, ``if t.item() < 500:``) or a
shape-dependent one runs one branch per input; the layers of the other branch are never traced,
so nothing about them is checked. The report names each such layer and the ``if`` that chose,
found in the source of the model's classes with ``ast``: the innermost ``if`` (or ``x if c else
y``) around every use of the layer's attribute in its owner's class.
"""

from __future__ import annotations

import ast
import functools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .records import LayerEvent, SourceLocation


@dataclass(frozen=True)
class Unran:
    layer: str
    kind: str
    location: SourceLocation | None
    """Where the layer was constructed."""
    condition: str
    """The ``if`` as written: ``if x.sum() > 0:``."""
    where: SourceLocation

    def describe(self) -> str:
        built = f", {self.location}" if self.location else ""
        return f"{self.layer} ({self.kind}{built}) never ran: `{self.condition}` ({self.where}) chose another branch, so it was not checked"

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "kind": self.kind,
            "location": str(self.location) if self.location else None,
            "condition": self.condition,
            "condition_location": str(self.where),
        }


@functools.cache
def _resampling_classes() -> tuple[Any, tuple[Any, ...]]:
    from torch import nn
    from torch.nn.modules.conv import _ConvNd
    from torch.nn.modules.pooling import _AvgPoolNd, _MaxPoolNd, _MaxUnpoolNd

    return _ConvNd, (nn.Upsample, nn.PixelShuffle, nn.PixelUnshuffle, _MaxPoolNd, _AvgPoolNd, _MaxUnpoolNd)


def _resampling(module: Any) -> bool:
    conv, others = _resampling_classes()
    if isinstance(module, conv):
        return bool(module.transposed) or any(s > 1 for s in module.stride)
    return isinstance(module, others)


def never_ran(model: Any, events: Sequence[LayerEvent]) -> tuple[Unran, ...]:
    """Resampling layers of ``model`` with no event, each guarded by an ``if`` in the source."""
    from .locate import site_of

    ran = {e.name.split("#")[0].split(":")[0] for e in events}
    out = []
    for name, module in model.named_modules():
        if not name or name in ran or not _resampling(module):
            continue
        guard = guarding_if(model, name)
        if guard is not None:
            condition, where = guard
            out.append(Unran(name, type(module).__name__, site_of(model, name, type(module).__name__), condition, where))
    return tuple(out)


def guarding_if(model: Any, name: str) -> tuple[str, SourceLocation] | None:
    """The ``if`` around every use of ``name``'s attribute in the nearest user class that uses it."""
    from .locate import _class_ast, _is_user_class

    parts = name.split(".")
    for depth in range(len(parts) - 1, -1, -1):
        try:
            owner = model.get_submodule(".".join(parts[:depth]))
        except AttributeError:
            return None
        for cls in type(owner).__mro__:
            if cls is object or not _is_user_class(cls):
                continue
            parsed = _class_ast(cls)
            if parsed is None:
                continue
            filename, _, node = parsed
            uses = list(_uses(node, parts[depth]))
            if not uses:
                continue
            guards = [_innermost_if(node, use) for use in uses]
            if any(g is None for g in guards):
                return None  # used unconditionally at this level: not a branch the linter can name
            first = guards[0]
            assert first is not None
            return _if_text(filename, first), SourceLocation(filename, first.lineno)
    return None


def _self_names(cls_node: ast.ClassDef) -> set[str]:
    return {
        fn.args.args[0].arg
        for fn in ast.walk(cls_node)
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.args.args
    } or {"self"}


def _uses(cls_node: ast.ClassDef, attr: str) -> Iterable[ast.Attribute]:
    """Loads of ``self.<attr>`` inside the class's methods other than ``__init__``."""
    selves = _self_names(cls_node)
    for fn in cls_node.body:
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or fn.name == "__init__":
            continue
        for node in ast.walk(fn):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == attr
                and isinstance(node.ctx, ast.Load)
                and isinstance(node.value, ast.Name)
                and node.value.id in selves
            ):
                yield node


def _innermost_if(root: ast.AST, target: ast.AST) -> ast.If | ast.IfExp | None:
    """The innermost ``if`` whose branches (not its test) contain ``target``."""
    found: ast.If | ast.IfExp | None = None

    def visit(node: ast.AST, guard: ast.If | ast.IfExp | None) -> bool:
        nonlocal found
        if node is target:
            found = guard
            return True
        if isinstance(node, (ast.If, ast.IfExp)):
            if visit(node.test, guard):
                return True
            branches = [node.body, node.orelse] if isinstance(node, ast.If) else [[node.body], [node.orelse]]
            return any(visit(child, node) for branch in branches for child in branch)
        return any(visit(child, guard) for child in ast.iter_child_nodes(node))

    visit(root, None)
    return found


@lru_cache(maxsize=64)
def _lines(filename: str) -> tuple[str, ...]:
    try:
        with open(filename, encoding="utf-8") as fh:
            return tuple(fh.read().splitlines())
    except (OSError, UnicodeDecodeError):
        return ()


def _if_text(filename: str, node: ast.If | ast.IfExp) -> str:
    lines = _lines(os.path.abspath(filename))
    test = node.test
    if lines and test.end_lineno == test.lineno and test.lineno <= len(lines):
        cond = lines[test.lineno - 1][test.col_offset : test.end_col_offset]
    else:
        cond = ast.unparse(test)
    return f"if {cond}:" if isinstance(node, ast.If) else f"... if {cond} else ..."
