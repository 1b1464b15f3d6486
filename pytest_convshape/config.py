"""``[tool.convshape]`` from pyproject.toml into frozen settings. Pure: no torch, no imports of
user code; every problem is a ``ConfigError`` whose message names the file, the key, the bad
value and what is allowed.

Schema (keys are kebab-case, like ruff's; rules are codes, prefixes or names)::

    [tool.convshape]
    select = ["CS1", "CS2"]                          # default: all
    extend-select = ["CS905"]                        # added to select
    ignore = ["CS901"]
    per-module-ignores = { "decoder.*" = ["CS301"] } # globs over qualified layer names
    fail-on = "error"                                # or "warning"
    collect = true                                   # false: no pytest items from `models`
    src = [".", "src"]                               # folders put on sys.path for module targets

    [[tool.convshape.models]]
    target = "mypkg.models:UNet"                     # or "src/models.py:UNet" (relative to pyproject.toml)
    id = "unet"                                      # optional; shown in the item id instead of target
    kwargs = { channels = 3 }                        # optional, passed to the class or factory
    input = [[1, 3, 256, 256], [1, 3, 257, 257]]     # one shape or a list of shapes (one check each)
    inputs = { sample = [1, 3, 64, 64], timestep = { shape = [1], dtype = "int64" } }  # or a list of such tables
    pairs = [["enc.0", "dec.3"]]                     # optional (down, up) layer names
    sizes = { 2 = "8:512", "sample.3" = "8:512" }    # optional sweeps (NAME.DIM for a named input)
    ignore = ["CS303"]                               # optional, added to the global ignore
    per-module-ignores = { "head.*" = ["CS901"] }    # optional, added to the global ones
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import codes as selectors
from .inputspec import InputSet, InputSpec, InputSpecError, from_toml_set
from .inputspec import describe as describe_inputs
from .records import fmt_shape, plural
from .sizes_text import SizeRangeError, parse_size_range

if TYPE_CHECKING:
    from .policy import Policy

TABLE = "tool.convshape"
TOP_KEYS = ("select", "extend-select", "ignore", "per-module-ignores", "fail-on", "collect", "src", "models")
MODEL_KEYS = ("target", "id", "kwargs", "input", "inputs", "pairs", "sizes", "ignore", "per-module-ignores")
DEFAULT_SRC = (".", "src")

Shape = tuple[int, ...]
Globs = tuple[tuple[str, tuple[str, ...]], ...]

_GLOB_CHARS = re.compile(r"^[A-Za-z0-9_.*?\[\]!#-]+$")
_SHAPE_HINT = "a shape of positive ints such as [1, 3, 256, 256], or a list of such shapes"


class ConfigError(ValueError):
    """A bad ``[tool.convshape]`` setting; the message is complete and fit for the user."""


@dataclass(frozen=True)
class ModelSpec:
    """One entry of ``[[tool.convshape.models]]``."""

    index: int
    target: str
    """As written in pyproject.toml (shown in ids and reports)."""
    inputs: tuple[InputSet, ...]
    """One input set per check (``input``: one positional tensor each; ``inputs``: named ones)."""
    kwargs: Mapping[str, Any] = field(default_factory=dict, hash=False)
    id: str | None = None
    pairs: tuple[tuple[str, str], ...] = ()
    ignore: tuple[str, ...] = ()
    per_module_ignores: Globs = ()
    sizes: tuple[tuple[str, tuple[int, int, int]], ...] = ()
    """Input dims to sweep: (``"2"`` or ``"sample.2"``, (first, last, step))."""

    @property
    def sizes_arg(self) -> dict[Any, tuple[int, int, int]] | None:
        """``sizes`` as ``check()`` takes it."""
        return {(int(k) if k.isdigit() else k): v for k, v in self.sizes} or None

    @property
    def key(self) -> str:
        """``tool.convshape.models[N]``: how messages name this entry."""
        return f"{TABLE}.models[{self.index}]"

    @property
    def label(self) -> str:
        return self.id or self.target

    def item_name(self, inputs: InputSet) -> str:
        return f"convshape[{self.label}-{describe_inputs(inputs)}]"

    def load_target(self, root: Path) -> str:
        """The target for ``loader.build``: file paths made absolute against ``root``."""
        where, _, name = self.target.rpartition(":")
        if is_path_target(where):
            return f"{(root / where).resolve()}:{name}"
        return self.target


@dataclass(frozen=True)
class Settings:
    """Everything ``[tool.convshape]`` says. ``path`` is None when there is no table."""

    path: Path | None = None
    display: str = "pyproject.toml"
    """How messages name the file (relative to the working directory when below it)."""
    select: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_module_ignores: Globs = ()
    fail_on: str = "error"
    collect: bool = True
    src: tuple[str, ...] = DEFAULT_SRC
    models: tuple[ModelSpec, ...] = ()

    @property
    def root(self) -> Path:
        return self.path.parent if self.path is not None else Path.cwd()

    @property
    def present(self) -> bool:
        return self.path is not None

    def source_roots(self) -> list[str]:
        """Folders to put on ``sys.path`` for module targets (``src``, relative to the root)."""
        return [str((self.root / folder).resolve()) for folder in self.src if (self.root / folder).is_dir()]

    def policy(self, model: ModelSpec | None = None) -> Policy:
        """The ``policy.Policy`` these settings give (for one model entry: with its own
        ``ignore`` and ``per-module-ignores`` added)."""
        from .policy import Policy

        return Policy(
            select=self.select,
            extend_select=self.extend_select,
            ignore=self.ignore + (model.ignore if model else ()),
            per_module_ignores=self.per_module_ignores + (model.per_module_ignores if model else ()),
            fail_on=self.fail_on,
        )

    def describe(self) -> str:
        """One line for the pytest header and the CLI: which settings are active."""
        n_inputs = sum(len(m.inputs) for m in self.models)
        return f"{plural(len(self.models), 'model')}, {plural(n_inputs, 'input')}; {self.policy().describe()}"


def is_path_target(where: str) -> bool:
    return where.endswith(".py") or "/" in where or os.sep in where


# --------------------------------------------------------------------------- reading


def _toml_loads(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    loaded: dict[str, Any] = tomllib.loads(text)
    return loaded


def mentions_table(text: str) -> bool:
    """Cheap pre-check before parsing: could this pyproject.toml have ``[tool.convshape]``?"""
    return "convshape" in text


def load(path: str | os.PathLike[str], *, display: str | None = None) -> Settings:
    """Settings from the pyproject.toml at ``path``; empty settings (``path`` None) when the
    file has no ``[tool.convshape]`` table. ``display`` is how messages name the file."""
    path = Path(path)
    shown = display or _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    if not mentions_table(text):
        return Settings()
    try:
        data = _toml_loads(text)
    except ValueError as exc:
        raise ConfigError(f"{shown}: not valid TOML: {exc}") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict) or "convshape" not in tool:
        return Settings()
    return parse(tool["convshape"], path, display=shown)


def find(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The pyproject.toml with a ``[tool.convshape]`` table in ``start`` (default: the working
    directory) or the nearest folder above it, like pytest and ruff find theirs."""
    folder = Path(start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
            except OSError:
                continue
            if mentions_table(text) and _has_table(text):
                return path
    return None


def _has_table(text: str) -> bool:
    try:
        data = _toml_loads(text)
    except ValueError:
        return True  # a broken file that mentions the table: let load() report it
    tool = data.get("tool", {})
    return isinstance(tool, dict) and "convshape" in tool


def _display(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


# --------------------------------------------------------------------------- validation


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__}"


def _toml(value: Any) -> str:
    """A value the way it would be written in TOML (for messages)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + " }" if value else "{}"
    return repr(value)


def _key(k: str) -> str:
    return k if re.match(r"^[A-Za-z0-9_-]+$", k) else _toml(k)


class _Checker:
    def __init__(self, shown: str):
        self.shown = shown

    def fail(self, key: str, problem: str, value: Any = ..., ) -> ConfigError:
        shown_value = "" if value is ... else f" = {_toml(value)}"
        return ConfigError(f"{self.shown}: {key}{shown_value}: {problem}")

    def keys(self, table: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
        import difflib

        for k in table:
            if k in allowed:
                continue
            close = difflib.get_close_matches(k, allowed, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise self.fail(f"{where}.{_key(k)}", f"unknown key{hint} (allowed: {', '.join(allowed)})")

    def codes(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            got = _type_name(value) if not isinstance(value, list) else "an array with non-string items"
            raise self.fail(key, f'expected an array of rule codes, prefixes or names such as ["CS101", "CS3", "shape-not-restored"], got {got}', value)
        out = []
        for c in value:
            resolved = selectors.resolve_or_none(c)
            if resolved is None:
                raise self.fail(key, selectors.unknown_reason(c), value)
            out.append(resolved)
        return tuple(out)

    def globs(self, value: Any, key: str) -> Globs:
        if not isinstance(value, dict):
            raise self.fail(
                key, f'expected a table of glob = [codes] such as {{ "decoder.*" = ["CS301"] }}, got {_type_name(value)}', value
            )
        out = []
        for glob, codes in value.items():
            sub = f"{key}.{_key(glob)}"
            problem = glob_problem(glob)
            if problem:
                raise self.fail(key, f"bad glob {glob!r}: {problem}", value)
            out.append((glob, self.codes(codes, sub)))
        return tuple(out)

    def shape(self, value: Any, key: str, whole: Any) -> Shape:
        if not isinstance(value, list) or not value:
            raise self.fail(key, f"{_toml(value)} is not a shape; expected {_SHAPE_HINT}", whole)
        for v in value:
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise self.fail(key, f"{_toml(v)} in {_toml(value)} is not a positive int; expected {_SHAPE_HINT}", whole)
        return tuple(value)

    def inputs(self, value: Any, key: str) -> tuple[InputSet, ...]:
        """``input``: one shape or a list of shapes, one positional tensor per check."""
        if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
            shapes = tuple(self.shape(v, key, value) for v in value)
        elif isinstance(value, list) and value and not any(isinstance(v, list) for v in value):
            shapes = (self.shape(value, key, value),)
        else:
            raise self.fail(key, f"expected {_SHAPE_HINT}, got {_type_name(value) if not isinstance(value, list) else 'an empty or mixed array'}", value)
        seen: set[Shape] = set()
        for s in shapes:
            if s in seen:
                raise self.fail(key, f"shape {fmt_shape(s)} is listed twice", value)
            seen.add(s)
        return tuple((InputSpec(None, s),) for s in shapes)

    def named_inputs(self, value: Any, key: str) -> tuple[InputSet, ...]:
        """``inputs``: a table of named inputs (one check) or an array of such tables."""
        if isinstance(value, list) and value and not any(isinstance(v, dict) for v in value):
            raise self.fail(
                key,
                f"inputs takes named inputs such as {{ x = {_toml(value if not isinstance(value[0], list) else value[0])} }}; "
                "for positional tensors write input = [...] (one shape, or a list of shapes)",
                value,
            )
        tables = value if isinstance(value, list) and value else [value]
        try:
            sets = tuple(from_toml_set(t, f"{key}[{i}]" if isinstance(value, list) else key) for i, t in enumerate(tables))
        except InputSpecError as exc:
            raise ConfigError(f"{self.shown}: {exc}") from None
        seen: set[str] = set()
        for one in sets:
            text = describe_inputs(one)
            if text in seen:
                raise self.fail(key, f"the input set {text} is listed twice", value)
            seen.add(text)
        return sets

    def sizes(self, value: Any, key: str, inputs: tuple[InputSet, ...]) -> tuple[tuple[str, tuple[int, int, int]], ...]:
        """``sizes = { 2 = "8:512", "sample.3" = [8, 512, 8] }``: input dims to sweep."""
        hint = 'expected a table of dim = "FIRST:LAST[:STEP]" (or [first, last, step]) such as { 2 = "8:512" }'
        if not isinstance(value, dict) or not value:
            raise self.fail(key, f"{hint}, got {_type_name(value) if not isinstance(value, dict) else 'an empty table'}", value)
        out = []
        for dim_text, spec in value.items():
            sub = f"{key}.{_key(dim_text)}"
            name, _, dim_part = dim_text.rpartition(".")
            rank = _rank(inputs, name or None)
            if rank is None:
                raise self.fail(sub, f"{name!r} is not a tensor input of every input set (the names come from `inputs`)", spec)
            if not dim_part.isdigit() or not 2 <= int(dim_part) < rank:
                allowed = ", ".join(str(d) for d in range(2, rank)) or "none (the inputs have no spatial dims)"
                raise self.fail(sub, f"{dim_part} is not a spatial dim of the inputs; allowed: {allowed}", spec)
            try:
                size_range = parse_size_range(spec if isinstance(spec, (str, list)) else None)
            except SizeRangeError as exc:
                raise self.fail(sub, hint if exc.syntax else str(exc), spec) from None
            out.append((dim_text, size_range))
        return tuple(out)

    def pairs(self, value: Any, key: str) -> tuple[tuple[str, str], ...]:
        if not isinstance(value, list):
            raise self.fail(key, f'expected an array of [down, up] layer names such as [["enc.0", "dec.3"]], got {_type_name(value)}', value)
        out = []
        for p in value:
            if not (isinstance(p, list) and len(p) == 2 and all(isinstance(n, str) and n for n in p)):
                raise self.fail(key, f'{_toml(p)} is not a pair; expected [down, up] layer names such as ["enc.0", "dec.3"]', value)
            out.append((p[0], p[1]))
        return tuple(out)

    def target(self, value: Any, key: str, root: Path) -> str:
        allowed = 'expected "package.module:NAME" or "path/to/file.py:NAME" (a class, factory or module instance)'
        if not isinstance(value, str):
            raise self.fail(key, f"{allowed}, got {_type_name(value)}", value)
        where, sep, name = value.rpartition(":")
        if not sep or not where or not name or not all(p.isidentifier() for p in name.split(".")):
            raise self.fail(key, allowed, value)
        if is_path_target(where):
            if not (root / where).is_file():
                raise self.fail(key, f"file {where} not found (paths are relative to the folder of {self.shown})", value)
        elif not all(p.isidentifier() for p in where.split(".")):
            raise self.fail(key, allowed, value)
        return value


def _rank(inputs: tuple[InputSet, ...], name: str | None) -> int | None:
    """The smallest rank of the swept input over the input sets (None: not in every set)."""
    ranks = []
    for one in inputs:
        tensors = [s for s in one if s.is_tensor and (name is None or s.name == name)]
        if not tensors:
            return None
        ranks.append(len(tensors[0].shape or ()))
    return min(ranks) if ranks else None


def glob_problem(glob: Any) -> str:
    """Why ``glob`` is not a usable pattern over qualified layer names ('' when it is)."""
    example = 'globs match qualified layer names, for example "decoder.*" or "encoder.0"'
    if not isinstance(glob, str) or not glob.strip():
        return f"empty; {example}"
    if not _GLOB_CHARS.match(glob):
        bad = sorted({c for c in glob if not _GLOB_CHARS.match(c)})
        return f"contains {', '.join(repr(c) for c in bad)}; {example}"
    depth = 0
    for c in glob:
        if c == "[":
            if depth:
                return f"nested '['; {example}"
            depth = 1
        elif c == "]" and depth:
            depth = 0
    if depth:
        return f"'[' without a closing ']'; {example}"
    return ""


def parse(table: Any, path: str | os.PathLike[str], *, display: str | None = None) -> Settings:
    """Validate the ``[tool.convshape]`` table (already parsed from TOML)."""
    path = Path(path)
    shown = display or _display(path)
    check = _Checker(shown)
    if not isinstance(table, dict):
        raise check.fail(TABLE, f"expected a table, got {_type_name(table)}", table)
    check.keys(table, TOP_KEYS, TABLE)

    def codes_at(key: str) -> tuple[str, ...]:
        return check.codes(table[key], f"{TABLE}.{key}") if key in table else ()

    globs = check.globs(table["per-module-ignores"], f"{TABLE}.per-module-ignores") if "per-module-ignores" in table else ()
    collect = table.get("collect", True)
    if not isinstance(collect, bool):
        raise check.fail(f"{TABLE}.collect", f"expected true or false, got {_type_name(collect)}", collect)
    fail_on = table.get("fail-on", "error")
    if fail_on not in ("error", "warning"):
        raise check.fail(f"{TABLE}.fail-on", 'expected "error" or "warning"', fail_on)
    src = table.get("src", list(DEFAULT_SRC))
    if not isinstance(src, list) or not all(isinstance(p, str) and p for p in src):
        raise check.fail(f"{TABLE}.src", 'expected an array of folders such as [".", "src"]', src)
    raw_models = table.get("models", [])
    if not isinstance(raw_models, list) or not all(isinstance(m, dict) for m in raw_models):
        raise check.fail(
            f"{TABLE}.models",
            f"expected an array of tables ([[tool.convshape.models]] with target and input), got {_type_name(raw_models)}",
            raw_models,
        )
    models = _models(check, raw_models, path.parent)
    return Settings(
        path=path,
        display=shown,
        select=codes_at("select"),
        extend_select=codes_at("extend-select"),
        ignore=codes_at("ignore"),
        per_module_ignores=globs,
        fail_on=fail_on,
        collect=collect,
        src=tuple(src),
        models=models,
    )


def _models(check: _Checker, raw_models: list[dict[str, Any]], root: Path) -> tuple[ModelSpec, ...]:
    models: list[ModelSpec] = []
    labels: dict[str, int] = {}
    for i, raw in enumerate(raw_models):
        key = f"{TABLE}.models[{i}]"
        check.keys(raw, MODEL_KEYS, key)
        if "target" not in raw:
            raise check.fail(key, "required key 'target' is missing (every model needs target and input)")
        if "input" in raw and "inputs" in raw:
            raise check.fail(key, "give input (one positional tensor) or inputs (named inputs), not both")
        if "input" not in raw and "inputs" not in raw:
            raise check.fail(key, "required key 'input' is missing (every model needs target and input, or inputs for named inputs)")
        target = check.target(raw["target"], f"{key}.target", root)
        ident = raw.get("id")
        if ident is not None and (not isinstance(ident, str) or not re.match(r"^[A-Za-z0-9_.-]+$", ident)):
            raise check.fail(f"{key}.id", 'expected a name of letters, digits, "_", "-" and ".", such as "unet-small"', ident)
        kwargs = raw.get("kwargs", {})
        if not isinstance(kwargs, dict):
            raise check.fail(f"{key}.kwargs", f"expected a table of keyword arguments such as {{ channels = 3 }}, got {_type_name(kwargs)}", kwargs)
        inputs = check.inputs(raw["input"], f"{key}.input") if "input" in raw else check.named_inputs(raw["inputs"], f"{key}.inputs")
        spec = ModelSpec(
            index=i,
            target=target,
            inputs=inputs,
            sizes=check.sizes(raw["sizes"], f"{key}.sizes", inputs) if "sizes" in raw else (),
            kwargs=kwargs,
            id=ident,
            pairs=check.pairs(raw["pairs"], f"{key}.pairs") if "pairs" in raw else (),
            ignore=check.codes(raw["ignore"], f"{key}.ignore") if "ignore" in raw else (),
            per_module_ignores=check.globs(raw["per-module-ignores"], f"{key}.per-module-ignores") if "per-module-ignores" in raw else (),
        )
        if spec.label in labels:
            first = labels[spec.label]
            what = f"id {_toml(spec.label)}" if ident is not None else f"target {_toml(spec.label)}"
            raise check.fail(
                key,
                f"duplicate model: {what} is already listed as {TABLE}.models[{first}]; "
                f"list all shapes in one entry (input = [[...], [...]]) or give each entry a distinct id",
            )
        labels[spec.label] = i
        models.append(spec)
    return tuple(models)
