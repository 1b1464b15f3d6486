"""The models of ``[tool.convshape]``: resolve, build (on the meta device) and check each one.
The one path the pytest items and ``convshape`` without a TARGET share. Imports torch only
when a model is built."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

from .config import ModelSpec, Settings, _toml
from .inputspec import InputSet
from .inputspec import describe as describe_inputs
from .policy import Policy, merge
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


def add_source_roots(settings: Settings) -> None:
    """Put the project's folder and its ``src`` folders on ``sys.path`` (module targets such as
    ``mypkg.models:UNet`` in a src layout import without installing the project)."""
    for folder in reversed([str(settings.root)] + settings.source_roots()):
        if folder not in sys.path:
            sys.path.insert(0, folder)


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
        add_source_roots(self.settings)

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

    def resolve_all(self, static: bool = False) -> list[str]:
        """Messages for every entry whose module or name cannot be found. ``static``: read the
        sources instead of importing them (collection stays as cheap as without the gate;
        what the sources cannot settle is found when the item runs)."""
        from .config import ConfigError
        from .loader import LoadError, check_static

        problems = []
        for spec in self.settings.models:
            try:
                if static:
                    self._path_setup()
                    load_target = spec.load_target(self.settings.root)
                    try:
                        check_static(load_target)
                    except LoadError as exc:
                        raise ConfigError(f"{self._where(spec)}: {_strip_target(str(exc), load_target, self.settings.root)}") from None
                else:
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

    def check(self, spec: ModelSpec, inputs: InputSet, overrides: Mapping[str, Any] | None = None) -> Report:
        """``check()`` of one entry and one input set, with the settings of the table and the
        entry, and ``overrides`` (CLI flags: ``select``, ``extend_select``, ``ignore``,
        ``fail_on``) merged on top."""
        from .api import InputError

        built = self.build(spec)
        where = self.settings.policy(spec)
        try:
            return lint(
                built, inputs, target=spec.target, pairs=spec.pairs, sizes=spec.sizes_arg,
                policy=merge(where, **dict(overrides or {}), where="--"), report_id=spec.id,
            )
        except InputError as exc:
            raise ModelError(
                f"{self.display}: {spec.key}.{_input_key(spec)} {describe_inputs(inputs)} ({spec.target}): {_pyproject_terms(str(exc))}"
            ) from None
        except (ValueError, TypeError) as exc:
            text = str(exc)
            key = "pairs" if spec.pairs and text.startswith("pairs") else "sizes" if spec.sizes and text.startswith("sizes") else _input_key(spec)
            if text.startswith(f"{key}: "):
                text = text[len(key) + 2 :]
            raise ModelError(f"{self.display}: {spec.key}.{key} ({spec.target}, input {describe_inputs(inputs)}): {text}") from None


def _pyproject_terms(message: str) -> str:
    """``check()``'s advice in pyproject.toml's words."""
    import re

    message = message.replace(
        "give the inputs it needs as example_inputs (a tuple of positional inputs or a dict of keyword inputs)",
        'name every input of forward() in inputs = { ... }, e.g. inputs = { x = [1, 3, 64, 64], timestep = { shape = [1], dtype = "int64" } }',
    )
    return re.sub(
        r"add the batch dim: (\d+(?:x\d+)*)$",
        lambda m: f"add the batch dim: [{', '.join(m.group(1).split('x'))}]",
        message,
    )


def _input_key(spec: ModelSpec) -> str:
    return "input" if all(len(s) == 1 and s[0].name is None and s[0].dtype is None for s in spec.inputs) else "inputs"


def lint(
    built: Any,
    inputs: InputSet,
    *,
    target: str,
    policy: Policy,
    pairs: Sequence[tuple[str, str]] = (),
    sizes: Any = None,
    report_id: str | None = None,
) -> Report:
    """``check()`` of a model the linter built (``loader.Built``) for one input set, under the
    merged settings ``policy``: the one path of the CI gate and of ``convshape TARGET``."""
    from .api import check
    from .tensors import example_inputs_of

    report = check(
        built.model,
        **example_inputs_of(inputs, built.model),
        pairs=pairs,
        sizes=sizes,
        config=policy,
        target=target,
        cpu_builder=built.builder,
    )
    if report_id is not None:
        report = _with_extra(report, id=report_id)
    return report


def _with_extra(report: Report, **extra: Any) -> Report:
    import dataclasses

    return dataclasses.replace(report, extra={**report.extra, **extra})
