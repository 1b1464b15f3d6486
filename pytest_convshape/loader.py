"""Load a model from a target string (``path/to/file.py:NAME`` or ``package.module:NAME``) and
build it on the meta device. Every failure is a ``LoadError`` whose message names the target."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any


class LoadError(Exception):
    """A target that cannot be loaded or built; the message names the target and the cause."""


class BuildError(LoadError):
    """The target's class or factory raised when called (with the given kwargs)."""


def split_target(target: str) -> tuple[str, str]:
    if not isinstance(target, str) or target.count(":") < 1:
        raise LoadError(
            f"target {target!r} must look like path/to/file.py:NAME or package.module:NAME"
        )
    where, _, name = target.rpartition(":")
    if len(where) == 1 and where.isalpha():  # a Windows drive letter, no NAME given
        raise LoadError(f"target {target!r} must look like path/to/file.py:NAME or package.module:NAME")
    if not where or not name or not all(part.isidentifier() for part in name.split(".")):
        raise LoadError(
            f"target {target!r} must look like path/to/file.py:NAME or package.module:NAME "
            f"(NAME a class, factory function or module instance)"
        )
    return where, name


def _user_error(exc: BaseException) -> str:
    """The user's own error, with the last frame of their code."""
    own = os.path.dirname(os.path.abspath(__file__))
    torch_dir = os.path.dirname(os.path.abspath(sys.modules["torch"].__file__ or "")) if "torch" in sys.modules else own
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__)
        if "importlib" not in f.filename and not os.path.abspath(f.filename).startswith((own + os.sep, torch_dir + os.sep))
    ]
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def import_where(where: str, target: str) -> ModuleType:
    if where.endswith(".py") or os.sep in where or "/" in where:
        path = os.path.abspath(where)
        if not os.path.isfile(path):
            raise LoadError(f"target {target!r}: file not found: {where}")
        mod_name = "_convshape_target_" + os.path.splitext(os.path.basename(path))[0].replace("-", "_")
        folder = os.path.dirname(path)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        spec = importlib.util.spec_from_file_location(mod_name, path)
        if spec is None or spec.loader is None:
            raise LoadError(f"target {target!r}: cannot import {where} as Python source")
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(mod_name, None)
            if isinstance(exc, ImportError) and "relative import" in str(exc):
                raise LoadError(f"target {target!r}: {where} uses relative imports, so it cannot be loaded as a file; {_package_form(path, target)}") from exc
            raise LoadError(f"target {target!r}: importing {where} raised {_user_error(exc)}") from exc
        return module
    if "." not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(where)
    except ModuleNotFoundError as exc:
        if exc.name and (where == exc.name or where.startswith(exc.name + ".")):
            raise LoadError(f"target {target!r}: module {where!r} not found (is it installed, or is the path right?)") from exc
        raise LoadError(f"target {target!r}: importing {where} raised {_user_error(exc)}") from exc
    except Exception as exc:
        raise LoadError(f"target {target!r}: importing {where} raised {_user_error(exc)}") from exc


def _package_form(path: str, target: str) -> str:
    """``give the target as pkg.models:UNet (...)``: the dotted form of a file inside packages."""
    folder, parts = os.path.dirname(path), [os.path.splitext(os.path.basename(path))[0]]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        parts.insert(0, os.path.basename(folder))
        folder = os.path.dirname(folder)
    name = target.rpartition(":")[2]
    if len(parts) == 1:
        return "put it in a package (a folder with __init__.py) and give the target as package.module:NAME"
    shown = os.path.relpath(folder) if not os.path.relpath(folder).startswith("..") else folder
    return f"give the target as {'.'.join(parts)}:{name} (with {shown} on sys.path: run from there, install the project, or list it in src)"


def find_source(where: str, target: str) -> str | None:
    """The source file of a target's module without importing anything (None when it is not a
    plain source file, e.g. an extension module or a namespace package). Raises ``LoadError``
    with ``resolve``'s words when the file or module does not exist."""
    from importlib.machinery import PathFinder

    if where.endswith(".py") or os.sep in where or "/" in where:
        path = os.path.abspath(where)
        if not os.path.isfile(path):
            raise LoadError(f"target {target!r}: file not found: {where}")
        return path
    search: list[str] | None = [p for p in sys.path if p] + [os.getcwd()]
    spec = None
    parts = where.split(".")
    for i in range(len(parts)):
        name = ".".join(parts[: i + 1])
        if name in sys.modules and getattr(sys.modules[name], "__spec__", None) is not None:
            spec = sys.modules[name].__spec__
        else:
            spec = PathFinder.find_spec(name, search)
        if spec is None:
            raise LoadError(f"target {target!r}: module {where!r} not found (is it installed, or is the path right?)")
        search = list(spec.submodule_search_locations or [])
    origin = getattr(spec, "origin", None)
    return origin if origin and origin.endswith(".py") and os.path.isfile(origin) else None


def check_static(target: str) -> None:
    """``resolve`` without importing: the module's file exists and, when its source says so
    for sure, defines NAME. Raises ``LoadError`` with ``resolve``'s messages; says nothing when
    the source cannot settle it (``from x import *``, a module ``__getattr__``, a dotted NAME)."""
    import ast

    where, name = split_target(target)
    path = find_source(where, target)
    if path is None:
        return
    try:
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return  # the import at run time says what is wrong
    is_file = where.endswith(".py") or os.sep in where or "/" in where
    if is_file and any(isinstance(n, ast.ImportFrom) and n.level > 0 for n in ast.walk(tree)):
        raise LoadError(f"target {target!r}: {where} uses relative imports, so it cannot be loaded as a file; {_package_form(path, target)}")
    names = _top_level_names(tree)
    if names is None or "." in name:
        return
    if name not in names:
        import difflib

        close = difflib.get_close_matches(name, sorted(n for n in names if not n.startswith("_")), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise LoadError(f"target {target!r}: {where} has no name {name!r}{hint}")


def _top_level_names(tree: Any) -> set[str] | None:
    """Names a module's source binds at top level (also inside top-level if/try blocks); None
    when it may bind names the source does not show."""
    import ast

    names: set[str] = set()

    def visit(body: list[Any]) -> bool:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
                if node.name == "__getattr__":
                    return False
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if alias.name == "*":
                        return False
                    names.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for sub in ast.walk(t):
                        if isinstance(sub, ast.Name):
                            names.add(sub.id)
            elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
                blocks = [node.body, getattr(node, "orelse", []), getattr(node, "finalbody", [])]
                blocks += [h.body for h in getattr(node, "handlers", [])]
                if not all(visit(b) for b in blocks):
                    return False
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                func = node.value.func
                if isinstance(func, ast.Attribute) and func.attr in ("update", "__setitem__", "setdefault"):
                    return False  # globals().update(...) and friends
        return True

    return names if visit(tree.body) else None


def resolve(target: str) -> Any:
    where, name = split_target(target)
    module = import_where(where, target)
    obj: Any = module
    for part in name.split("."):
        if not hasattr(obj, part):
            import difflib

            names = [n for n in dir(obj) if not n.startswith("_")]
            close = difflib.get_close_matches(part, names, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise LoadError(f"target {target!r}: {where} has no name {part!r}{hint}")
        obj = getattr(obj, part)
    return obj


def _wants_cuda(exc: BaseException) -> bool:
    import torch

    text = f"{exc} {exc.__cause__}".lower()
    return not torch.cuda.is_available() and ("cuda" in text or "nvidia" in text)


def _cuda_hint(obj: Any) -> str:
    import inspect

    try:
        takes_device = "device" in inspect.signature(obj).parameters
    except (TypeError, ValueError):
        takes_device = False
    if takes_device:
        return "this machine has no CUDA: pass --kwargs '{\"device\": \"cpu\"}' (kwargs = { device = \"cpu\" } in pyproject.toml)"
    return "this machine has no CUDA: build the model on the CPU (or on torch.device('meta')) for the check"


def _device_redirect_mode(target: str) -> Any:
    import torch
    from torch.overrides import TorchFunctionMode

    def is_cuda(value: Any) -> bool:
        if isinstance(value, torch.device):
            return value.type == "cuda"
        if isinstance(value, str):
            return value.split(":")[0] == "cuda"
        return isinstance(value, int) and not isinstance(value, bool)  # .cuda(0), .to(0)

    class Redirect(TorchFunctionMode):
        """CUDA requests (``device="cuda"``, ``.cuda()``, ``.to("cuda")``) go to ``target``."""

        def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: Any = None) -> Any:
            kwargs = dict(kwargs or {})
            if func is torch.Tensor.cuda:
                return args[0].to(target) if target != "meta" else args[0]
            if func is torch.Tensor.to:
                args = tuple(target if is_cuda(a) else a for a in args[:1]) + tuple(
                    (target if is_cuda(a) else a) for a in args[1:]
                )
            if is_cuda(kwargs.get("device")):
                kwargs["device"] = target
            return func(*args, **kwargs)

    return Redirect()


class _DeviceRedirect:
    """Context manager: inside it, what asks for CUDA gets ``target`` ("meta" or "cpu")."""

    def __init__(self, target: str):
        self.mode = _device_redirect_mode(target)

    def __enter__(self) -> None:
        self.mode.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self.mode.__exit__(*exc)


@dataclass
class Built:
    model: Any
    builder: Callable[[], Any] | None
    """Builds a real CPU copy (for the fallback pass), or None for a given instance."""


def build(target: str, kwargs: Mapping[str, Any] | None = None, *, meta: bool = True) -> Built:
    """Resolve ``target`` and turn it into a model. Classes and factories are called with
    ``kwargs`` on the meta device (no parameter memory) while construction sites are recorded."""
    import torch
    from torch import nn

    from .locate import recording_construction

    kwargs = dict(kwargs or {})
    obj = resolve(target)
    if isinstance(obj, nn.Module):
        if kwargs:
            raise LoadError(f"target {target!r} is a module instance; kwargs {kwargs!r} cannot be applied to it")
        return Built(obj, None)
    if not callable(obj):
        raise LoadError(
            f"target {target!r} is {'an' if type(obj).__name__[:1].lower() in 'aeiou' else 'a'} {type(obj).__name__}, "
            f"not an nn.Module subclass, factory or instance"
        )

    def make() -> Any:
        try:
            return obj(**kwargs)
        except Exception as exc:
            kind = "class" if isinstance(obj, type) else "factory"
            raise BuildError(f"target {target!r}: {kind} {getattr(obj, '__name__', repr(obj))}(**{kwargs!r}) raised {_user_error(exc)}") from exc

    if not meta:
        with recording_construction():
            return Built(_module_from(target, make()), make)
    try:
        with torch.device("meta"), recording_construction():
            return Built(_module_from(target, make()), make)
    except BuildError as exc:
        if not _wants_cuda(exc):
            raise
        return _built_without_cuda(target, obj, make, exc)


def _module_from(target: str, model: Any) -> Any:
    from torch import nn

    if not isinstance(model, nn.Module):
        raise LoadError(f"target {target!r} gave a {type(model).__module__}.{type(model).__qualname__}, not a torch.nn.Module")
    return model


def _built_without_cuda(target: str, obj: Any, make: Callable[[], Any], exc: BuildError) -> Built:
    """The constructor asks for CUDA on a machine without it: build on meta anyway (and on the
    CPU for a fallback pass)."""
    import torch

    from .locate import recording_construction

    try:
        with torch.device("meta"), _DeviceRedirect("meta"), recording_construction():
            model = make()
    except BuildError:
        raise BuildError(f"{exc}; {_cuda_hint(obj)}") from exc

    def make_on_cpu() -> Any:
        with _DeviceRedirect("cpu"):
            return make()

    return Built(_module_from(target, model), make_on_cpu)
