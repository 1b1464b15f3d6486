"""Where a layer was constructed: file and line, for messages, annotations and suppressions.

Two sources: call sites recorded while the linter itself builds the model
(``recording_construction``), and, for a model built elsewhere, the source of the user's
classes read with ``ast`` (``self.decoder = nn.Sequential(nn.ConvTranspose2d(...))``).
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import os
import sys
import weakref
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from .records import SourceLocation

_SITES: weakref.WeakKeyDictionary[Any, SourceLocation] = weakref.WeakKeyDictionary()
_OWN_DIR = os.path.dirname(os.path.abspath(__file__))


def _outside(filename: str, skip: tuple[str, ...]) -> bool:
    return not filename.startswith(skip) and not filename.startswith("<")


@contextlib.contextmanager
def recording_construction() -> Iterator[None]:
    """Record the user's line for every ``nn.Module`` constructed inside the block."""
    import torch
    from torch import nn

    skip = (os.path.dirname(os.path.abspath(torch.__file__)), _OWN_DIR)
    original = nn.Module.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        frame: Any = sys._getframe(1)
        while frame is not None and not _outside(os.path.abspath(frame.f_code.co_filename), skip):
            frame = frame.f_back
        if frame is not None:
            try:
                _SITES[self] = SourceLocation(os.path.abspath(frame.f_code.co_filename), frame.f_lineno)
            except TypeError:
                pass

    nn.Module.__init__ = init  # type: ignore[method-assign]
    try:
        yield
    finally:
        nn.Module.__init__ = original  # type: ignore[method-assign]


def recorded_site(module: Any) -> SourceLocation | None:
    try:
        return _SITES.get(module)
    except TypeError:
        return None


@lru_cache(maxsize=64)
def _file_ast(filename: str) -> ast.Module | None:
    try:
        with open(filename, encoding="utf-8") as fh:
            return ast.parse(fh.read(), filename)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None


def _code_file_line(cls: type) -> tuple[str, int] | None:
    """File and a line inside the class body, from a method's code object (works even when
    the defining module is not in ``sys.modules``, where ``inspect.getsource`` fails)."""
    for attr in ("__init__", "forward"):
        fn = cls.__dict__.get(attr)
        code = getattr(fn, "__code__", None)
        if code is not None:
            return code.co_filename, code.co_firstlineno
    return None


@lru_cache(maxsize=256)
def _class_ast(cls: type) -> tuple[str, int, ast.ClassDef] | None:
    """(file, line offset, class node) with node line numbers plus offset = file lines."""
    where = _code_file_line(cls)
    if where is None:
        try:
            filename = inspect.getsourcefile(cls)
            line = inspect.getsourcelines(cls)[1]
        except (OSError, TypeError):
            return None
        if filename is None:
            return None
        where = (filename, line)
    filename, line = where
    tree = _file_ast(os.path.abspath(filename))
    if tree is None:
        return None
    best: ast.ClassDef | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            end = getattr(node, "end_lineno", None) or 10**9
            if node.lineno <= line <= end and (best is None or node.lineno > best.lineno):
                best = node
    if best is None:
        return None
    return os.path.abspath(filename), 0, best


def _is_user_class(cls: type) -> bool:
    return not cls.__module__.startswith("torch.") and cls.__module__ != "torch"


def _call_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


class _Scope:
    """Assignments and appends inside one class body, for resolving a module path."""

    def __init__(self, cls_node: ast.ClassDef):
        selves = {
            fn.args.args[0].arg
            for fn in ast.walk(cls_node)
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.args.args
        } or {"self"}
        self.assigned: dict[str, list[ast.expr]] = {}
        self.appended: dict[str, list[ast.expr]] = {}
        self.local_lists: dict[str, list[ast.expr]] = {}
        for node in ast.walk(cls_node):
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id in selves and node.value is not None:
                        self.assigned.setdefault(t.attr, []).append(node.value)
                    elif isinstance(t, ast.Name) and node.value is not None:
                        self.local_lists.setdefault(t.id, []).extend(_elements(node.value))
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                self.local_lists.setdefault(node.target.id, []).extend(_elements(node.value))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("append", "extend", "add_module"):
                owner = node.func.value
                items: list[ast.expr] = []
                if node.func.attr == "append" and node.args:
                    items = [node.args[0]]
                elif node.func.attr == "extend" and node.args:
                    items = _elements(node.args[0])
                elif node.func.attr == "add_module" and len(node.args) == 2 and isinstance(owner, ast.Name) and owner.id in selves:
                    key = node.args[0]
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        self.assigned.setdefault(key.value, []).append(node.args[1])
                    continue
                if isinstance(owner, ast.Attribute) and isinstance(owner.value, ast.Name) and owner.value.id in selves:
                    self.appended.setdefault(owner.attr, []).extend(items)
                elif isinstance(owner, ast.Name):
                    self.local_lists.setdefault(owner.id, []).extend(items)


@lru_cache(maxsize=256)
def _scope(cls: type) -> _Scope:
    parsed = _class_ast(cls)
    assert parsed is not None
    return _Scope(parsed[2])


def _elements(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, (ast.List, ast.Tuple)):
        return list(node.elts)
    if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
        return [node.elt]
    return []


def _container_items(call: ast.Call, scope: _Scope) -> list[ast.expr]:
    items: list[ast.expr] = []
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            if isinstance(arg.value, ast.Name):
                items.extend(scope.local_lists.get(arg.value.id, []))
            else:
                items.extend(_elements(arg.value))
        elif isinstance(arg, (ast.List, ast.Tuple, ast.ListComp, ast.GeneratorExp)):
            items.extend(_elements(arg))
        elif isinstance(arg, ast.Name):
            items.extend(scope.local_lists.get(arg.id, []))
        else:
            items.append(arg)
    return items


def _resolve(expr: ast.expr, rest: list[str], scope: _Scope, kind: str, extra: list[ast.expr]) -> ast.expr | None:
    if not rest:
        return expr if isinstance(expr, ast.Call) else None
    first = expr.args[0] if isinstance(expr, ast.Call) and expr.args else None
    if isinstance(first, ast.Dict):
        for k, v in zip(first.keys, first.values):
            if isinstance(k, ast.Constant) and k.value == rest[0]:
                return _resolve(v, rest[1:], scope, kind, [])
        return None
    if isinstance(expr, ast.Call) and rest[0].isdigit():
        items = _container_items(expr, scope) + extra
        index = int(rest[0])
        if index < len(items):
            return _resolve(items[index], rest[1:], scope, kind, [])
        matching = [i for i in items if _call_name(i) == kind]
        if len(rest) == 1 and len({getattr(m, "lineno", 0) for m in matching}) == 1:
            return matching[0]
    return None


def static_site(model: Any, name: str, kind: str) -> SourceLocation | None:
    """Find ``name``'s construction in the source of the nearest user-defined ancestor class."""
    parts = name.split(".") if name else []
    for depth in range(len(parts) - 1, -1, -1):
        try:
            owner = model.get_submodule(".".join(parts[:depth]))
        except AttributeError:
            continue
        for cls in type(owner).__mro__:
            if not _is_user_class(cls) or cls is object:
                continue
            parsed = _class_ast(cls)
            if parsed is None:
                continue
            filename, offset, _ = parsed
            scope = _scope(cls)
            rest = parts[depth:]
            for expr in scope.assigned.get(rest[0], []):
                found = _resolve(expr, rest[1:], scope, kind, scope.appended.get(rest[0], []))
                if found is not None:
                    return SourceLocation(filename, found.lineno + offset)
            if rest[0] not in scope.assigned and len(rest) == 2 and rest[1].isdigit():
                items = scope.appended.get(rest[0], [])
                index = int(rest[1])
                if index < len(items) and isinstance(items[index], ast.Call):
                    return SourceLocation(filename, items[index].lineno + offset)
    return None


def site_of(model: Any, name: str, kind: str) -> SourceLocation | None:
    try:
        module = model.get_submodule(name)
    except AttributeError:
        return None
    return recorded_site(module) or static_site(model, name, kind)
