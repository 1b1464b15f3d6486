"""Model inputs as the CLI and pyproject.toml write them, parsed into plain records (no torch).

One forward call takes an *input set*: one or more inputs, positional or named.

CLI (``--input``, repeat it for each input of the call)::

    --input 1,3,64,64                        # positional, float (the model's dtype)
    --input x=1,3,64,64 --input timestep=1:int64
    --input t=scalar:int64                   # a 0-d tensor
    --input scale=2.0 --input flag=true      # plain Python values

pyproject.toml::

    input = [1, 3, 64, 64]                   # one tensor (or a list of shapes: one check each)
    inputs = { sample = [1, 3, 64, 64], timestep = { shape = [1], dtype = "int64" } }
    inputs = [{ ... }, { ... }]              # several input sets: one check each

``check()`` gets the set as ``input_size`` (one float tensor) or ``example_inputs`` (built on
the meta device by ``tensors.example_inputs_of``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

DTYPES = (
    "float32", "float", "float16", "half", "bfloat16", "float64", "double",
    "int64", "long", "int32", "int", "int16", "int8", "uint8", "bool", "complex64", "complex128",
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)$")
CLI_HINT = "expected [NAME=]SHAPE[:DTYPE] such as 1,3,64,64 or timestep=1:int64 (SHAPE 'scalar' for a 0-d tensor)"


class InputSpecError(ValueError):
    """A malformed input; the message names the option or key and what is allowed."""


@dataclass(frozen=True)
class InputSpec:
    """One input of a forward call: a tensor (``shape``, ``dtype``) or a Python ``value``."""

    name: str | None
    shape: tuple[int, ...] | None
    dtype: str | None = None
    """A torch dtype name; None: the model's floating dtype."""
    value: Any = None
    """The Python value when ``shape`` is None."""

    @property
    def is_tensor(self) -> bool:
        return self.shape is not None

    def describe(self) -> str:
        if self.shape is None:
            body = "true" if self.value is True else "false" if self.value is False else repr(self.value)
        else:
            body = "x".join(str(s) for s in self.shape) if self.shape else "scalar"
            if self.dtype is not None:
                body += f":{self.dtype}"
        return f"{self.name}={body}" if self.name else body


InputSet = tuple[InputSpec, ...]


def describe(inputs: Sequence[InputSpec]) -> str:
    """``1x1x28x28`` or ``sample=1x3x64x64,timestep=1:int64`` (the pytest item id's part)."""
    return ",".join(spec.describe() for spec in inputs)


def single_shape(inputs: Sequence[InputSpec]) -> tuple[int, ...] | None:
    """The shape when the set is one positional tensor of the model's dtype (``input_size``)."""
    if len(inputs) == 1 and inputs[0].name is None and inputs[0].shape and inputs[0].dtype is None:
        return inputs[0].shape
    return None


def _dtype(text: str, where: str) -> str:
    if text not in DTYPES:
        import difflib

        close = difflib.get_close_matches(text, DTYPES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputSpecError(f"{where}: unknown dtype {text!r}{hint} (allowed: {', '.join(DTYPES)})")
    return text


def parse_cli(text: str, what: str = "--input") -> InputSpec:
    """One ``--input`` value."""
    where = f"{what} {text!r}"
    name: str | None = None
    body = text
    head, sep, tail = text.partition("=")
    if sep:
        if not _NAME.match(head):
            raise InputSpecError(f"{where}: {head!r} is not an input name; {CLI_HINT}")
        name, body = head, tail
    body = body.strip()
    if body in ("true", "false"):
        return InputSpec(name, None, value=body == "true")
    if _FLOAT.match(body):
        return InputSpec(name, None, value=float(body))
    shape_text, colon, dtype_text = body.partition(":")
    dtype = _dtype(dtype_text, where) if colon else None
    if shape_text == "scalar":
        return InputSpec(name, (), dtype)
    parts = shape_text.replace("x", ",").split(",") if shape_text else []
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if not shape or any(s <= 0 for s in shape):
        raise InputSpecError(f"{where}: {CLI_HINT}, with positive sizes")
    return InputSpec(name, shape, dtype)


def check_cli_set(specs: Sequence[InputSpec], what: str = "--input") -> InputSet:
    """Positional inputs first, then named ones, each name once."""
    seen: set[str] = set()
    named = False
    for spec in specs:
        if spec.name is None and named:
            raise InputSpecError(f"{what} {spec.describe()}: a positional input after a named one; give the positional inputs first")
        if spec.name is not None:
            if spec.name in seen:
                raise InputSpecError(f"{what}: input {spec.name!r} is given twice")
            seen.add(spec.name)
            named = True
    return tuple(specs)


def from_toml(name: str, value: Any, where: str) -> InputSpec:
    """One named input of ``inputs = { ... }``: a shape, ``{ shape, dtype }`` or a plain value."""
    from .config import _toml, _type_name

    hint = 'a shape such as [1, 3, 64, 64], { shape = [1], dtype = "int64" }, or a number or boolean'
    if isinstance(value, (bool, int, float)):
        return InputSpec(name, None, value=value)
    if isinstance(value, list):
        return InputSpec(name, _toml_shape(value, where, hint), None)
    if isinstance(value, dict):
        unknown = [k for k in value if k not in ("shape", "dtype")]
        if unknown or "shape" not in value:
            problem = f"unknown key {unknown[0]!r}" if unknown else "no shape"
            raise InputSpecError(f"{where} = {_toml(value)}: {problem}; expected {hint}")
        dtype = value.get("dtype")
        if dtype is not None and not isinstance(dtype, str):
            raise InputSpecError(f"{where}.dtype = {_toml(dtype)}: expected a dtype name such as \"int64\"")
        return InputSpec(name, _toml_shape(value["shape"], where, hint), _dtype(dtype, f"{where}.dtype") if dtype else None)
    raise InputSpecError(f"{where} = {_toml(value)}: expected {hint}, got {_type_name(value)}")


def _toml_shape(value: Any, where: str, hint: str) -> tuple[int, ...]:
    from .config import _toml

    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in value):
        raise InputSpecError(f"{where} = {_toml(value)}: not a shape; expected {hint} (positive ints; [] for a 0-d tensor)")
    return tuple(value)


def from_toml_set(value: Any, where: str) -> InputSet:
    """``inputs = { sample = [...], timestep = {...} }``: one input set."""
    from .config import _key, _toml, _type_name

    if not isinstance(value, dict) or not value:
        got = _type_name(value) if not isinstance(value, dict) else "an empty table"
        raise InputSpecError(
            f'{where} = {_toml(value)}: expected a table of named inputs such as '
            f'{{ sample = [1, 3, 64, 64], timestep = {{ shape = [1], dtype = "int64" }} }}, got {got}'
        )
    out = []
    for name, spec in value.items():
        if not _NAME.match(name):
            raise InputSpecError(f"{where}.{_key(name)}: {name!r} is not a Python argument name")
        out.append(from_toml(name, spec, f"{where}.{_key(name)}"))
    return tuple(out)
