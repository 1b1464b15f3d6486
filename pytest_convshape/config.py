"""``[tool.convshape]`` from pyproject.toml into frozen settings. Pure: no torch, no imports of
user code; every problem is a ``ConfigError`` whose message names the file, the key, the bad
value and what is allowed.

Schema (keys are kebab-case, like ruff's)::

    [tool.convshape]
    select = ["CS1", "CS2"]                          # codes or prefixes; default: all
    ignore = ["CS901"]                               # codes or prefixes
    per-module-ignores = { "decoder.*" = ["CS301"] } # globs over qualified layer names
    collect = true                                   # false: no pytest items from `models`

    [[tool.convshape.models]]
    target = "mypkg.models:UNet"                     # or "src/models.py:UNet" (relative to pyproject.toml)
    id = "unet"                                      # optional; shown in the item id instead of target
    kwargs = { channels = 3 }                        # optional, passed to the class or factory
    input = [[1, 3, 256, 256], [1, 3, 257, 257]]     # one shape or a list of shapes
    pairs = [["enc.0", "dec.3"]]                     # optional (down, up) layer names
    ignore = ["CS303"]                               # optional, added to the global ignore
    per-module-ignores = { "head.*" = ["CS901"] }    # optional, added to the global ones
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from .records import RULES

TABLE = "tool.convshape"
TOP_KEYS = ("select", "ignore", "per-module-ignores", "collect", "models")
MODEL_KEYS = ("target", "id", "kwargs", "input", "pairs", "sizes", "ignore", "per-module-ignores")
REQUIRED_MODEL_KEYS = ("target", "input")

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
    inputs: tuple[Shape, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict, hash=False)
    id: str | None = None
    pairs: tuple[tuple[str, str], ...] = ()
    ignore: tuple[str, ...] = ()
    per_module_ignores: Globs = ()
    sizes: tuple[tuple[int, tuple[int, int, int]], ...] = ()
    """Input dims to sweep: (dim, (first, last, step))."""

    @property
    def sizes_arg(self) -> dict[int, tuple[int, int, int]] | None:
        """``sizes`` as ``check()`` takes it."""
        return dict(self.sizes) or None

    @property
    def key(self) -> str:
        """``tool.convshape.models[N]``: how messages name this entry."""
        return f"{TABLE}.models[{self.index}]"

    @property
    def label(self) -> str:
        return self.id or self.target

    def item_name(self, shape: Shape) -> str:
        return f"convshape[{self.label}-{format_shape(shape)}]"

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
    ignore: tuple[str, ...] = ()
    per_module_ignores: Globs = ()
    collect: bool = True
    models: tuple[ModelSpec, ...] = ()

    @property
    def root(self) -> Path:
        return self.path.parent if self.path is not None else Path.cwd()

    @property
    def present(self) -> bool:
        return self.path is not None

    def ignores_for(self, model: ModelSpec | None = None) -> tuple[str, ...]:
        return self.ignore + (model.ignore if model else ())

    def globs_for(self, model: ModelSpec | None = None) -> Globs:
        return self.per_module_ignores + (model.per_module_ignores if model else ())

    def describe(self) -> str:
        """One line for the pytest header and the CLI: which settings are active."""
        n_inputs = sum(len(m.inputs) for m in self.models)
        parts = [
            f"{_plural(len(self.models), 'model')}, {_plural(n_inputs, 'input')}",
            f"select {', '.join(self.select)}" if self.select else "select all",
        ]
        if self.ignore:
            parts.append(f"ignore {', '.join(self.ignore)}")
        if self.per_module_ignores:
            parts.append(
                "per-module-ignores "
                + "; ".join(f"{g} -> {', '.join(codes)}" for g, codes in self.per_module_ignores)
            )
        return "; ".join(parts)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def format_shape(shape: Sequence[int]) -> str:
    return "x".join(str(s) for s in shape)


def is_path_target(where: str) -> bool:
    return where.endswith(".py") or "/" in where or os.sep in where


# --------------------------------------------------------------------------- reading


def _toml_loads(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib.loads(text)


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
            raise self.fail(key, f'expected an array of rule codes or prefixes such as ["CS101", "CS3"], got {got}', value)
        for c in value:
            if not is_known_code(c):
                import difflib

                close = difflib.get_close_matches(c.upper(), list(RULES), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.fail(key, f"unknown code {c!r}{hint} (allowed: codes or prefixes of {', '.join(RULES)})", value)
        return tuple(value)

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

    def inputs(self, value: Any, key: str) -> tuple[Shape, ...]:
        if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
            shapes = tuple(self.shape(v, key, value) for v in value)
        elif isinstance(value, list) and value and not any(isinstance(v, list) for v in value):
            shapes = (self.shape(value, key, value),)
        else:
            raise self.fail(key, f"expected {_SHAPE_HINT}, got {_type_name(value) if not isinstance(value, list) else 'an empty or mixed array'}", value)
        seen: set[Shape] = set()
        for s in shapes:
            if s in seen:
                raise self.fail(key, f"shape {format_shape(s)} is listed twice", value)
            seen.add(s)
        return shapes

    def sizes(self, value: Any, key: str, inputs: tuple[Shape, ...]) -> tuple[tuple[int, tuple[int, int, int]], ...]:
        """``sizes = { 2 = "8:512", 3 = [8, 512, 8] }``: input dims to sweep."""
        hint = 'expected a table of dim = "FIRST:LAST[:STEP]" (or [first, last, step]) such as { 2 = "8:512" }'
        if not isinstance(value, dict) or not value:
            raise self.fail(key, f"{hint}, got {_type_name(value) if not isinstance(value, dict) else 'an empty table'}", value)
        rank = min(len(s) for s in inputs)
        out = []
        for dim_text, spec in value.items():
            sub = f"{key}.{_key(dim_text)}"
            if not (isinstance(dim_text, str) and dim_text.isdigit()) or not 2 <= int(dim_text) < rank:
                allowed = ", ".join(str(d) for d in range(2, rank)) or "none (the inputs have no spatial dims)"
                raise self.fail(sub, f"{dim_text} is not a spatial dim of the inputs; allowed: {allowed}", spec)
            nums: list[Any] = []
            if isinstance(spec, str):
                try:
                    nums = [int(p) for p in spec.split(":")]
                except ValueError:
                    nums = []
            elif isinstance(spec, list):
                nums = spec
            if not (len(nums) in (2, 3) and all(isinstance(n, int) and not isinstance(n, bool) for n in nums)):
                raise self.fail(sub, hint, spec)
            first, last, step = nums[0], nums[1], nums[2] if len(nums) == 3 else 1
            if first < 1 or last < first or step < 1:
                raise self.fail(sub, "expected 1 <= FIRST <= LAST and STEP >= 1", spec)
            if (last - first) // step + 1 > 1_000_000:
                raise self.fail(sub, "at most 1,000,000 sizes per dim", spec)
            out.append((int(dim_text), (first, last, step)))
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


def is_known_code(code: Any) -> bool:
    return isinstance(code, str) and code.startswith("CS") and any(c.startswith(code) for c in RULES)


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
    select = check.codes(table["select"], f"{TABLE}.select") if "select" in table else ()
    ignore = check.codes(table["ignore"], f"{TABLE}.ignore") if "ignore" in table else ()
    globs = check.globs(table["per-module-ignores"], f"{TABLE}.per-module-ignores") if "per-module-ignores" in table else ()
    collect = table.get("collect", True)
    if not isinstance(collect, bool):
        raise check.fail(f"{TABLE}.collect", f"expected true or false, got {_type_name(collect)}", collect)
    raw_models = table.get("models", [])
    if not isinstance(raw_models, list) or not all(isinstance(m, dict) for m in raw_models):
        raise check.fail(
            f"{TABLE}.models",
            f"expected an array of tables ([[tool.convshape.models]] with target and input), got {_type_name(raw_models)}",
            raw_models,
        )
    root = path.parent
    models: list[ModelSpec] = []
    labels: dict[str, int] = {}
    for i, raw in enumerate(raw_models):
        key = f"{TABLE}.models[{i}]"
        check.keys(raw, MODEL_KEYS, key)
        for required in REQUIRED_MODEL_KEYS:
            if required not in raw:
                raise check.fail(key, f"required key {required!r} is missing (every model needs target and input)")
        target = check.target(raw["target"], f"{key}.target", root)
        ident = raw.get("id")
        if ident is not None and (not isinstance(ident, str) or not re.match(r"^[A-Za-z0-9_.-]+$", ident)):
            raise check.fail(f"{key}.id", 'expected a name of letters, digits, "_", "-" and ".", such as "unet-small"', ident)
        kwargs = raw.get("kwargs", {})
        if not isinstance(kwargs, dict):
            raise check.fail(f"{key}.kwargs", f"expected a table of keyword arguments such as {{ channels = 3 }}, got {_type_name(kwargs)}", kwargs)
        inputs = check.inputs(raw["input"], f"{key}.input")
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
    return Settings(
        path=path,
        display=shown,
        select=select,
        ignore=ignore,
        per_module_ignores=globs,
        collect=collect,
        models=tuple(models),
    )
