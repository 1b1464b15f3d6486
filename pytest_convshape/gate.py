"""The models of ``[tool.convshape]``: resolve, build (on the meta device) and check each one.
The one path the pytest items and ``convshape`` without a TARGET share. Imports torch only
when a model is built."""

from __future__ import annotations

import sys
from typing import Any, Sequence

from . import suppress
from .config import ModelSpec, Settings, format_shape, _toml
from .report import Report


class ModelError(Exception):
    """A model of ``[tool.convshape]`` that cannot be built or checked; the message names
    pyproject.toml, the entry and the cause."""


def _strip_target(message: str, target: str, root: Any = None) -> str:
    """``loader`` messages start with ``target '...'``; the caller names the target itself.
    Absolute paths below the project folder are shown relative to it."""
    if message.startswith(f"target {target!r}: "):
        message = message[len(f"target {target!r}: ") :]
    elif message.startswith(f"target {target!r} "):
        message = "it " + message[len(f"target {target!r} ") :]
    if root is not None:
        import os

        message = message.replace(str(root).rstrip(os.sep) + os.sep, "")
    return message


class Gate:
    """Builds each model entry once per process and checks it for each of its inputs."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.display = settings.display
        self._resolved: dict[int, str] = {}
        self._built: dict[int, Any] = {}

    def _where(self, spec: ModelSpec, key: str = "target") -> str:
        value = spec.target if key == "target" else None
        shown = f" = {_toml(value)}" if value is not None else ""
        return f"{self.display}: {spec.key}.{key}{shown}"

    def _path_setup(self) -> None:
        root = str(self.settings.root)
        if root not in sys.path:
            sys.path.insert(0, root)

    def resolve(self, spec: ModelSpec) -> None:
        """Import the target's module and look its name up (no model is built). Raises
        ``ConfigError`` naming pyproject.toml, the key and the value."""
        from .config import ConfigError
        from .loader import LoadError, resolve

        if spec.index in self._resolved:
            return
        self._path_setup()
        load_target = spec.load_target(self.settings.root)
        try:
            resolve(load_target)
        except LoadError as exc:
            raise ConfigError(f"{self._where(spec)}: {_strip_target(str(exc), load_target, self.settings.root)}") from None
        self._resolved[spec.index] = load_target

    def resolve_all(self) -> list[str]:
        """Messages for every entry whose module or name cannot be found."""
        from .config import ConfigError

        problems = []
        for spec in self.settings.models:
            try:
                self.resolve(spec)
            except ConfigError as exc:
                problems.append(str(exc))
        return problems

    def build(self, spec: ModelSpec) -> Any:
        from .config import _toml
        from .loader import BuildError, LoadError, build

        if spec.index not in self._built:
            self.resolve(spec)
            load_target = self._resolved[spec.index]
            try:
                self._built[spec.index] = build(load_target, spec.kwargs)
            except LoadError as exc:
                where = self._where(spec)
                if spec.kwargs and (isinstance(exc, BuildError) or "kwargs" in str(exc)):
                    where = f"{self.display}: {spec.key}.kwargs = {_toml(dict(spec.kwargs))} ({spec.target})"
                self._built[spec.index] = ModelError(f"{where}: {_strip_target(str(exc), load_target, self.settings.root)}")
        built = self._built[spec.index]
        if isinstance(built, ModelError):
            raise built
        return built

    def check(
        self,
        spec: ModelSpec,
        shape: Sequence[int],
        *,
        select: Sequence[str] = (),
        ignore: Sequence[str] = (),
    ) -> Report:
        """``check()`` of one entry and one input, with the settings' and the given
        select/ignore, then suppressions (per-module-ignores and inline comments)."""
        from .api import InputError

        built = self.build(spec)
        select = tuple(select) or self.settings.select
        ignore = self.settings.ignores_for(spec) + tuple(ignore)
        try:
            report = lint(
                built, shape, target=spec.target, pairs=spec.pairs, sizes=spec.sizes_arg,
                select=select, ignore=ignore, per_module_ignores=self.settings.globs_for(spec),
            )
        except InputError as exc:
            raise ModelError(f"{self.display}: {spec.key}.input {format_shape(shape)} ({spec.target}): {exc}") from None
        except (ValueError, TypeError) as exc:
            text = str(exc)
            key = "pairs" if spec.pairs and text.startswith("pairs") else "sizes" if spec.sizes and text.startswith("sizes") else "input"
            if text.startswith(f"{key}: "):
                text = text[len(key) + 2 :]
            raise ModelError(f"{self.display}: {spec.key}.{key} ({spec.target}, input {format_shape(shape)}): {text}") from None
        if spec.id is not None:
            report = _with_extra(report, id=spec.id)
        return report


def lint(
    built: Any,
    shape: Sequence[int],
    *,
    target: str,
    pairs: Sequence[tuple[str, str]] = (),
    sizes: Any = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    per_module_ignores: Any = (),
) -> Report:
    """``check()`` of a model the linter built (``loader.Built``) for one input shape, then
    the suppressions: the one path of the CI gate and of ``convshape TARGET``."""
    from .api import check

    report = check(
        built.model,
        input_size=tuple(shape),
        pairs=pairs,
        sizes=sizes,
        select=select,
        ignore=ignore,
        target=target,
        cpu_builder=built.builder,
    )
    return suppress.apply(report, select=select, ignore=ignore, per_module_ignores=per_module_ignores)


def _with_extra(report: Report, **extra: Any) -> Report:
    import dataclasses

    return dataclasses.replace(report, extra={**report.extra, **extra})
