"""Plain data passed between the stages: trace -> pair -> check -> report.

Nothing here imports torch; every stage after ``trace`` works on these records only, so most
tests need no model at all.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, Union

Shape = tuple[int, ...]

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITY_RANK = {ERROR: 0, WARNING: 1, INFO: 2}
"""The one severity order: lower is more severe."""

MODEL_INPUT = -1
"""Pseudo event index for the model's own input tensors in ``LayerEvent.feeds``."""

from .rules import RULES, Rule  # noqa: E402,F401  (the rule registry lives in rules.py)


@functools.cache
def op_family(op: str) -> tuple[str, int] | None:
    """Map a torch function name to (family, spatial dims); 0 dims means 'from the input'."""
    for prefix, fam in (
        ("conv_transpose", "conv_transpose"),
        ("conv", "conv"),
        ("max_pool", "max_pool"),
        ("avg_pool", "avg_pool"),
        ("max_unpool", "max_unpool"),
        ("adaptive_avg_pool", "adaptive_pool"),
        ("adaptive_max_pool", "adaptive_pool"),
    ):
        if op.startswith(prefix) and op[len(prefix) : len(prefix) + 2] in ("1d", "2d", "3d"):
            return fam, int(op[len(prefix)])
    if op in ("interpolate", "upsample"):
        return "interpolate", 0
    if op in ("pixel_shuffle", "pixel_unshuffle"):
        return op, 2
    if op == "pad":
        return "pad", 0
    return None


_LABELS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def dim_labels(ndim: int) -> tuple[str, ...]:
    """The names of ``ndim`` spatial dims: ``L``; ``H, W``; ``D, H, W`` (``dim0``... beyond)."""
    return _LABELS.get(ndim, tuple(f"dim{i}" for i in range(ndim)))


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 model``, ``2 models``; ``plural(2, "fix", "fixes")`` for the irregular ones."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def fmt_shape(shape: Sequence[int]) -> str:
    """``28x28``."""
    return "x".join(str(s) for s in shape)


def fmt_value(values: Sequence[int]) -> str:
    """``1`` when every dim has the same value, ``(1, 0)`` otherwise."""
    vals = tuple(values)
    if len(set(vals)) == 1:
        return str(vals[0])
    return "(" + ", ".join(str(v) for v in vals) + ")"


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when the message is empty)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def rule_matches(code: str, patterns: tuple[str, ...]) -> bool:
    """True when ``code`` equals or starts with one of ``patterns`` (``CS1`` selects CS101...)."""
    return any(code.startswith(p) for p in patterns)


@dataclass(frozen=True)
class SourceLocation:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{display_path(self.file)}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        """``{"file": ..., "line": ...}``, the file as ``str()`` shows it (relative to the
        working directory when below it, ``/`` as separator)."""
        return {"file": display_path(self.file).replace(os.sep, "/"), "line": self.line}


def display_path(path: str) -> str:
    """A path relative to the working directory when it lies below it, else as given."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # other drive on Windows
        return path
    return path if rel.startswith("..") else rel


# --------------------------------------------------------------------------- layer arguments
# What an op was called with, normalised per spatial dim (one record per family of ops).


@dataclass(frozen=True)
class ConvArgs:
    """``Conv*d`` / ``F.conv*d``: per-dim kernel, stride, padding, dilation."""

    kernel_size: Shape
    stride: Shape
    padding: Shape
    dilation: Shape
    groups: int = 1
    weight_shape: Shape = ()
    bias_shape: Shape | None = None
    same: bool = False
    """``padding="same"``: ``padding`` then holds its left part (the total is d*(k-1))."""


@dataclass(frozen=True)
class TransposeArgs(ConvArgs):
    """``ConvTranspose*d`` / ``F.conv_transpose*d``."""

    output_padding: Shape = ()
    output_size_given: bool = False
    """``forward(x, output_size=...)`` chose the output_padding."""


@dataclass(frozen=True)
class PoolArgs:
    """``MaxPool*d`` / ``AvgPool*d`` (dilation 1 for average pooling)."""

    kernel_size: Shape
    stride: Shape
    padding: Shape
    dilation: Shape
    ceil_mode: bool = False


@dataclass(frozen=True)
class UnpoolArgs:
    """``MaxUnpool*d``."""

    kernel_size: Shape
    stride: Shape
    padding: Shape
    output_size_given: bool = False


@dataclass(frozen=True)
class ResizeArgs:
    """``F.interpolate`` / ``nn.Upsample``: a target ``size`` or a ``scale_factor`` per dim."""

    size: Shape | None = None
    scale_factor: tuple[float, ...] | None = None
    mode: str = "nearest"


@dataclass(frozen=True)
class ShuffleArgs:
    """``PixelShuffle`` / ``PixelUnshuffle``."""

    factor: int


@dataclass(frozen=True)
class AdaptiveArgs:
    """Adaptive pooling: the fixed output size asked for."""

    output_size: Any = None


@dataclass(frozen=True)
class PadArgs:
    """``F.pad``: the pad amounts as given (last dim first) and the mode."""

    pad: tuple[int, ...]
    mode: str = "constant"


@dataclass(frozen=True)
class MergeArgs:
    """``torch.cat``/``stack``/``add``/``sub``/``mul``: the dim a cat or stack joins along."""

    dim: int | None = None


@dataclass(frozen=True)
class NoArgs:
    """An op with nothing to record (a crop by slicing)."""


LayerArgs = Union[  # noqa: UP007 (a runtime alias; `|` needs Python 3.10 types at import)
    ConvArgs, TransposeArgs, PoolArgs, UnpoolArgs, ResizeArgs, ShuffleArgs, AdaptiveArgs, PadArgs, MergeArgs, NoArgs]
WINDOWED = (ConvArgs, PoolArgs, UnpoolArgs)
"""Arguments with a per-dim kernel, stride and padding."""


A = TypeVar("A")


def args_of(e: LayerEvent, kind: type[A]) -> A:
    """``e.params`` as the argument record its op family has (a bug when it is not)."""
    if not isinstance(e.params, kind):
        raise TypeError(f"{e.name}: expected {kind.__name__}, got {type(e.params).__name__}")
    return e.params


def resize_to_size(e: LayerEvent) -> bool:
    """A resize to a given size (``F.interpolate(size=...)``, ``nn.Upsample(size=...)``)."""
    return isinstance(e.params, ResizeArgs) and e.params.size is not None


@dataclass(frozen=True)
class LayerEvent:
    """One recorded op of the traced forward pass.

    ``params`` holds the op's arguments, normalised per spatial dim (one record type per family
    of ops: ``ConvArgs``, ``TransposeArgs``, ``PoolArgs``, ...). ``feeds`` has one entry per tensor input: the indices of the recorded events
    whose outputs reached that input (``MODEL_INPUT`` for the model's input).
    """

    index: int
    name: str
    kind: str
    op: str
    module: bool
    ndim: int
    params: LayerArgs
    in_shapes: tuple[Shape, ...]
    out_shape: Shape
    feeds: tuple[tuple[int, ...], ...] = ()
    location: SourceLocation | None = None
    forced_shape: Shape | None = None
    """Set when the tracer replaced the op's output with this shape (a virtual fix)."""

    @property
    def in_spatial(self) -> Shape:
        return self.in_shapes[0][-self.ndim :] if self.ndim and self.in_shapes else ()

    @property
    def out_spatial(self) -> Shape:
        return self.out_shape[-self.ndim :] if self.ndim else ()


@dataclass(frozen=True)
class Pair:
    down: str | None
    up: str
    evidence: str
    """``explicit`` (named in config), ``skip`` (merged with the down's input), ``mirror`` (order)."""
    detail: str = ""
    via: str | None = None
    """For ``skip`` pairs: the merge event (torch.cat/add/stack) that is the evidence."""
    chain: tuple[str, ...] = ()
    """Ups before ``up`` that undo the down's level together with it (a patch embedding of
    stride 16 undone by four ConvTranspose of stride 2); ``up`` is the chain's end."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"down": self.down, "up": self.up, "evidence": self.evidence}
        if self.chain:
            out["chain"] = list(self.chain)
        return out


@dataclass(frozen=True)
class Fix:
    layer: str
    output_padding: tuple[int, ...]
    verified: bool = True
    """True when a re-trace with every suggested fix applied ran and restored the sizes (only
    verified fixes are reported as ``Finding.fix``)."""

    def to_dict(self) -> dict[str, Any]:
        return {"output_padding": list(self.output_padding), "verified": self.verified}


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    up: str | None = None
    down: str | None = None
    expected: Shape | None = None
    actual: Shape | None = None
    fix: Fix | None = None
    location: SourceLocation | None = None
    suggestions: tuple[str, ...] = ()
    layer: str | None = None
    """The layer at fault, when there is one (equal to ``up`` for pair findings)."""
    holds_for: str = ""
    """For a fixable finding: the input sizes the fix holds for, in words, one line per swept
    dim (filled by ``check(sizes=...)``)."""
    detail: str = ""
    """Why it happens: the downsampling layer's arithmetic in real numbers."""
    witness: str = ""
    """For a pair mismatch that is an error: what shows it matters (the op eager torch would
    raise in, the output size that is not restored, or that the pair was named)."""
    level: tuple[Shape, Shape] | None = None
    """(the size the level took, the size it gives back) when pads written before the down or
    trims written after the up make them differ from ``expected``/``actual``, which are the up's
    own output as it should be and as it is."""

    @property
    def severity(self) -> str:
        return RULES[self.code].severity

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "up": self.up,
            "down": self.down,
            "expected": list(self.expected) if self.expected is not None else None,
            "actual": list(self.actual) if self.actual is not None else None,
            "fix": self.fix.to_dict() if self.fix else None,
            "message": self.message,
            "location": str(self.location) if self.location else None,
            "source": self.location.to_dict() if self.location else None,
            "layer": self.layer,
            "suggestions": list(self.suggestions),
            "detail": self.detail,
            "holds_for": self.holds_for or None,
            "witness": self.witness or None,
            **({"level": {"took": list(self.level[0]), "gives": list(self.level[1])}} if self.level else {}),
        }


@dataclass(frozen=True)
class TraceResult:
    """What one traced forward pass saw."""

    events: tuple[LayerEvent, ...]
    device: str
    """``meta`` or ``cpu`` (the fallback pass)."""
