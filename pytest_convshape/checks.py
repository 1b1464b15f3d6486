"""Findings from pairs: compare shapes, validate parameters the way eager torch does, and
derive the fix with the arithmetic in real numbers."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from . import arithmetic as ar
from .pairing import CROP, MERGE, PAD, RESIZE, UP, Graph
from .records import (
    ConvArgs,
    Finding,
    Fix,
    LayerEvent,
    Pair,
    PoolArgs,
    ResizeArgs,
    Shape,
    ShuffleArgs,
    TransposeArgs,
    UnpoolArgs,
    args_of,
    dim_labels,
    fmt_shape,
    fmt_value,
    op_family,
)


def label(name: str | None) -> str:
    """A layer name for messages: the root module's empty name reads as "the model"."""
    return name if name else "the model"


def subject(e: LayerEvent) -> str:
    """The start of a message about ``e``: ``decoder.0: ConvTranspose2d`` for a module layer,
    ``decoder:F.conv_transpose2d`` for a functional call (its name already says the op)."""
    return f"{label(e.name)}: {e.kind}" if e.module else e.name


def fmt_size(values: Sequence[int]) -> str:
    vals = tuple(values)
    return str(vals[0]) if len(set(vals)) == 1 else fmt_shape(vals)


def _per_dim(texts: Sequence[str], ndim: int, dims: Sequence[int]) -> str:
    """One arithmetic line when all listed dims read the same, else labelled per dim."""
    chosen = [texts[i] for i in dims]
    if len(set(chosen)) == 1 and (len(dims) == ndim or ndim == 1):
        return chosen[0]
    labels = dim_labels(ndim)
    return "; ".join(f"{labels[i]}: {texts[i]}" for i in dims)


def family(e: LayerEvent) -> str:
    fam = op_family(e.op)
    return fam[0] if fam else e.op


def _plain(e: LayerEvent, dim: int) -> str:
    return f"{e.in_spatial[dim]} -> {e.out_spatial[dim]}"


def up_arithmetic(e: LayerEvent, dim: int) -> str:
    """How ``e`` computed its output size in ``dim``, with the real numbers."""
    try:
        return _up_arithmetic(e, dim)
    except ValueError:  # sizes the formulas reject (an empty input): say what happened
        return _plain(e, dim)


def _up_arithmetic(e: LayerEvent, dim: int) -> str:
    p, size, out = e.params, e.in_spatial[dim], e.out_spatial[dim]
    if isinstance(p, TransposeArgs):
        return ar.conv_transpose_arithmetic(
            size, p.kernel_size[dim], p.stride[dim], p.padding[dim], p.dilation[dim], p.output_padding[dim]
        )
    if isinstance(p, UnpoolArgs):
        if p.output_size_given:
            return f"output_size gives {out}"
        return f"({size}-1)*{p.stride[dim]} - 2*{p.padding[dim]} + {p.kernel_size[dim]} = {out}"
    if isinstance(p, ShuffleArgs):
        return f"{size}*{p.factor} = {out}"
    if isinstance(p, ResizeArgs):
        return f"floor({size}*{p.scale_factor[dim]:g}) = {out}" if p.scale_factor else f"size={out}"
    return f"{size} -> {out}"


def down_arithmetic(e: LayerEvent, dim: int) -> str:
    try:
        return _down_arithmetic(e, dim)
    except ValueError:
        return _plain(e, dim)


def _down_arithmetic(e: LayerEvent, dim: int) -> str:
    p, size = e.params, e.in_spatial[dim]
    if isinstance(p, TransposeArgs):
        return f"{size} -> {e.out_spatial[dim]}"
    if isinstance(p, ConvArgs):
        return ar.conv_arithmetic(size, p.kernel_size[dim], p.stride[dim], p.padding[dim], p.dilation[dim])
    if isinstance(p, PoolArgs):
        return ar.pool_arithmetic(size, p.kernel_size[dim], p.stride[dim], p.padding[dim], p.dilation[dim], p.ceil_mode)
    if isinstance(p, ShuffleArgs):
        return f"{size}/{p.factor} = {e.out_spatial[dim]}"
    if isinstance(p, ResizeArgs) and p.scale_factor:
        return f"floor({size}*{p.scale_factor[dim]:g}) = {e.out_spatial[dim]}"
    return f"{size} -> {e.out_spatial[dim]}"


def arithmetic_of(e: LayerEvent, dim: int) -> str:
    """The size arithmetic of any resampling-capable layer, by its family."""
    if family(e) in ("conv_transpose", "max_unpool", "pixel_shuffle"):
        return up_arithmetic(e, dim)
    return down_arithmetic(e, dim)


def down_preimage(e: LayerEvent, dim: int) -> list[int]:
    """All input sizes that the down maps to the same output size as the one it saw."""
    p, size, out = e.params, e.in_spatial[dim], e.out_spatial[dim]

    def f(n: int) -> int | None:
        if isinstance(p, ConvArgs) and not isinstance(p, TransposeArgs):
            return ar.conv_output_size(n, p.kernel_size[dim], p.stride[dim], p.padding[dim], p.dilation[dim])
        if isinstance(p, PoolArgs):
            return ar.pool_output_size(n, p.kernel_size[dim], p.stride[dim], p.padding[dim], p.dilation[dim], p.ceil_mode)
        return None

    if f(size) is None or not isinstance(p, (ConvArgs, PoolArgs)):
        return [size]
    stride = max(p.stride[dim], 1)
    return [n for n in range(max(1, size - stride), size + stride + 1) if f(n) == out]


def _why(down: LayerEvent, dims: Sequence[int]) -> str:
    """The down's arithmetic, and the point: several input sizes give the same output."""
    texts = [down_arithmetic(down, i) for i in range(down.ndim)]
    line = f"{label(down.name)} ({down.kind}) maps {fmt_shape(down.in_spatial)} to {fmt_shape(down.out_spatial)}: {_per_dim(texts, down.ndim, dims)}"
    many = [down_preimage(down, i) for i in dims]
    if any(len(m) > 1 for m in many):
        sizes = many[0] if len({tuple(m) for m in many}) == 1 else None
        if sizes is not None:
            listed = ", ".join(str(n) for n in sizes)
            line += f"; input sizes {listed} all give {down.out_spatial[dims[0]]}, so the upsampling layer cannot tell which one to restore"
        else:
            line += "; several input sizes give the same output, so the upsampling layer cannot tell which one to restore"
    return line


@dataclass(frozen=True)
class Mismatch:
    """A pair whose up does not give back the size its down's level took."""

    pair: Pair
    up: LayerEvent
    down: LayerEvent
    expected: Shape
    """The size the level took (before the pads written in front of the down)."""
    actual: Shape
    """The size the level gives back (the up's output and what its output chain adds)."""
    chain: tuple[LayerEvent, ...] = ()
    """Crops, pads and small resizes written right after the up."""
    pads: tuple[LayerEvent, ...] = ()
    """Pads written right in front of the down."""

    @property
    def delta(self) -> Shape:
        return tuple(e - a for e, a in zip(self.expected, self.actual))

    @property
    def target(self) -> Shape:
        """The output size the up itself must give for the level to round-trip (the size a
        virtual fix forces)."""
        return tuple(o + d for o, d in zip(self.up.out_spatial, self.delta))

    @property
    def fix_site(self) -> tuple[str, Shape]:
        """Where a virtual fix forces a size: the up's output (to ``target``), or, when the up
        gives back the right size and its output chain breaks it, the chain's end (to the size
        the level took)."""
        if self.chain and (self.culprit is not self.up or any(v < 1 for v in self.target)):
            return self.chain[-1].name, self.expected
        return self.up.name, self.target

    @property
    def culprit(self) -> LayerEvent:
        """The layer at fault: the up, unless its own output is right and an event of its
        output chain changes the size."""
        chain_delta = tuple(a - o for a, o in zip(self.actual, self.up.out_spatial))
        if any(chain_delta) and self.up.out_spatial == self.expected:
            for ev in self.chain:
                if ev.out_spatial != ev.in_spatial:
                    return ev
        return self.up


def compare(graph: Graph, pair: Pair) -> Mismatch | None:
    """The mismatch of one pair, or None when it round-trips or cannot be compared (settings
    eager rejects and empty tensors are findings of their own)."""
    if pair.down is None or pair.up not in graph.by_name or pair.down not in graph.by_name:
        return None
    up, down = graph.by_name[pair.up], graph.by_name[pair.down]
    if down.ndim != up.ndim or not params_valid(up) or not params_valid(down):
        return None
    if family(up) == "conv_transpose" and _illegal_output_padding(up):
        return None  # CS201 says it
    expected = graph.level_input(down)
    actual, _seen = graph.level_output(up)
    if any(v < 1 for v in up.in_spatial + down.in_spatial + up.out_spatial + tuple(expected) + tuple(actual)):
        return None
    if tuple(expected) == tuple(actual):
        return None
    raw = up.out_spatial
    if any(r + e - a < 1 for r, e, a in zip(raw, expected, actual)) and not graph.output_chain(up):
        return None
    return Mismatch(pair, up, down, tuple(expected), tuple(actual), tuple(graph.output_chain(up)), tuple(graph.input_pads(down)))


def restored(graph: Graph, pair: Pair) -> bool | None:
    """Whether the pair round-trips as the rest of the model saw it in this pass (with the
    virtual fixes applied); None when it cannot be compared."""
    if pair.down is None or pair.up not in graph.by_name or pair.down not in graph.by_name:
        return None
    up, down = graph.by_name[pair.up], graph.by_name[pair.down]
    return tuple(graph.level_output(up)[1]) == tuple(graph.level_input(down))


def skip_hider(graph: Graph, m: Mismatch) -> LayerEvent | None:
    """A crop, pad or resize that makes the up's level fit a merge although it does not
    round-trip (on the up's branch after its output chain, or on the skip's branch)."""
    expected, actual = m.expected, m.actual
    start = m.chain[-1].index if m.chain else m.up.index
    for ev in graph.downstream(start):
        if graph.role(ev) in (CROP, PAD, RESIZE) and ev.out_spatial == expected:
            return ev
    via = m.pair.via
    merges = [graph.by_name[via]] if via and via in graph.by_name else [
        ev for ev in graph.downstream(start) if graph.role(ev) == MERGE
    ][:1]
    for merge in merges:
        for feed in merge.feeds:
            for ev in graph.path_between(feed, start):
                if graph.role(ev) in (CROP, PAD, RESIZE) and ev.out_spatial in (expected, actual):
                    return ev
    return None


def adjuster(m_chain: Sequence[LayerEvent]) -> LayerEvent | None:
    """The first event of an up's output chain that changes the size."""
    for ev in m_chain:
        if ev.out_spatial != ev.in_spatial:
            return ev
    return None


HIDDEN_CODE = {CROP: "CS301", PAD: "CS302", RESIZE: "CS303"}
HIDDEN_WORD = {CROP: "cropping", PAD: "padding", RESIZE: "resizing"}


def event_ref(e: LayerEvent) -> str:
    """How a message names an event: module path (or the op) and, when known, file:line."""
    if e.module:
        text = e.name or "the model"
    else:
        path = e.name.rpartition(":")[0]
        what = "a slice" if e.op == "crop" else e.kind
        text = f"{what} in {path}" if path else what
    return f"{text} ({e.location})" if e.location else text


@dataclass(frozen=True)
class Remedy:
    output_padding: tuple[int, ...] | None
    """The output_padding that makes the level round-trip, when a legal one does."""
    code: str
    tail: str
    suggestions: tuple[str, ...] = ()


def describe(m: Mismatch) -> str:
    """``up2: ConvTranspose2d gives 27x27, down2 (Conv2d) took 28x28: <arithmetic>``, with
    the trims after the up and the pads before the down named."""
    up, down = m.up, m.down
    bad = [i for i in range(up.ndim) if m.expected[i] != m.actual[i]]
    arith = _per_dim([up_arithmetic(up, i) for i in range(up.ndim)], up.ndim, bad)
    gives = f"gives {fmt_shape(up.out_spatial)}"
    if m.actual != up.out_spatial:
        ends = [ev for ev in m.chain if ev.out_spatial != ev.in_spatial]
        how = ", ".join(f"{HIDDEN_WORD.get(_role_of(ev), 'resizing')} at {event_ref(ev)}" for ev in ends)
        gives += f", {fmt_shape(m.actual)} after {how}"
    took = f"{label(down.name)} ({down.kind}) took {fmt_shape(m.expected)}"
    if m.pads:
        took += f" (before {event_ref(m.pads[-1])} padded it to {fmt_shape(m.pads[0].out_spatial)})"
    return f"{subject(up)} {gives}, {took}: {arith}"


def _role_of(ev: LayerEvent) -> str:
    if ev.op == "crop":
        return CROP
    if ev.op == "pad":
        return PAD
    return RESIZE


def remedy(m: Mismatch) -> Remedy:
    """What fixes the mismatch: an output_padding when a legal one does, else what to do."""
    up, down = m.up, m.down
    fam = family(up)
    target = fmt_size(m.expected)
    shape_expr = f"{_input_expr(down)}.shape[-{up.ndim}:]"
    if fam == "conv_transpose":
        return _transpose_remedy(m, target, shape_expr)
    if fam == "max_unpool":
        return _unpool_remedy(up, down, m.target, shape_expr, target)
    if fam == "interpolate":
        return Remedy(None, "CS103", f"call F.interpolate(x, size={shape_expr}) instead of a fixed scale to get {target}", (
            f"or use input sizes for which {label(down.name)} divides exactly",
        ))
    if fam == "pixel_shuffle":
        return Remedy(None, "CS103", f"use input sizes that {label(down.name)} divides exactly, or crop/pad explicitly to {target}")
    return Remedy(None, "CS103", f"make {label(up.name)} give {target}")


def _transpose_remedy(m: Mismatch, target: str, shape_expr: str) -> Remedy:
    up, down = m.up, m.down
    p = args_of(up, TransposeArgs)
    labels = dim_labels(up.ndim)
    limits = [ar.output_padding_limit(p.stride[i], p.dilation[i]) for i in range(up.ndim)]
    needed = [p.output_padding[i] + m.delta[i] for i in range(up.ndim)]
    if p.output_size_given:
        # forward(x, output_size=...) picks output_padding itself: the size asked for is wrong
        ranges = [
            ar.output_size_range(up.in_spatial[i], p.kernel_size[i], p.stride[i], p.padding[i], p.dilation[i])
            for i in range(up.ndim)
        ]
        want = m.target
        if all(lo <= want[i] <= hi for i, (lo, hi) in enumerate(ranges)):
            return Remedy(None, "CS102", f"the output_size passed to {label(up.name)} in forward asks for {fmt_shape(up.out_spatial)}; pass output_size={shape_expr} to get {target}")
        accepted = ", ".join(f"{labels[i]} {lo}..{hi}" for i, (lo, hi) in enumerate(ranges))
        return Remedy(None, "CS102", f"no output_size can give {target}: {label(up.name)} accepts only {accepted} for a {fmt_shape(up.in_spatial)} input")
    if all(0 <= n < lim for n, lim in zip(needed, limits)):
        return Remedy(tuple(needed), "CS101", f"set output_padding={fmt_value(needed)} to get {target}")
    wrong = [i for i in range(up.ndim) if not 0 <= needed[i] < limits[i]]
    reasons = ", ".join(f"{labels[i]} would need {needed[i]}" for i in wrong)
    tail = f"no output_padding fixes this: no legal output_padding gives {target} ({reasons}; it must lie in 0..{min(limits[i] for i in wrong) - 1})"
    suggestions: list[str] = []
    if not m.chain:
        alts = []
        for i in range(up.ndim):
            options = ar.padding_alternatives(m.target[i], up.in_spatial[i], p.kernel_size[i], p.stride[i], p.dilation[i])
            current = p.padding[i]
            options.sort(key=lambda po: (abs(po[0] - current), po[1]))
            alts.append(options[0] if options else None)
        if all(a is not None for a in alts):
            pads = [a[0] for a in alts]  # type: ignore[index]
            ops = [a[1] for a in alts]  # type: ignore[index]
            suggestions.append(f"set padding={fmt_value(pads)}, output_padding={fmt_value(ops)} on {label(up.name)}")
        else:
            kalts = []
            for i in range(up.ndim):
                options = ar.kernel_alternatives(m.target[i], up.in_spatial[i], p.stride[i], p.padding[i], p.dilation[i])
                kalts.append(options[0] if options else None)
            if all(a is not None for a in kalts):
                suggestions.append(
                    f"set kernel_size={fmt_value([a[0] for a in kalts])}, output_padding={fmt_value([a[1] for a in kalts])} on {label(up.name)}"  # type: ignore[index]
                )
    lead = "or change" if suggestions else "change"
    suggestions.append(f"{lead} the input size so that {label(down.name)} and {label(up.name)} mirror each other")
    return Remedy(None, "CS102", tail, tuple(suggestions))


def _unpool_remedy(up: LayerEvent, down: LayerEvent, expected: Shape, shape_expr: str, target: str) -> Remedy:
    """MaxUnpool takes output_size= only within (default - stride, default + stride)."""
    p = args_of(up, UnpoolArgs)
    ranges = [
        ar.max_unpool_size_range(up.in_spatial[i], p.kernel_size[i], p.stride[i], p.padding[i])
        for i in range(up.ndim)
    ]
    if all(lo <= expected[i] <= hi for i, (lo, hi) in enumerate(ranges)):
        return Remedy(None, "CS103", (
            f"pass output_size={shape_expr} to {label(up.name)} to get {target} "
            f"(without it eager torch may also raise 'Found an invalid max index', depending on the data)"
        ))
    labels = dim_labels(up.ndim)
    accepted = ", ".join(f"{labels[i]} {lo}..{hi}" for i, (lo, hi) in enumerate(ranges))
    return Remedy(None, "CS103", (
        f"no output_size= can give {target}: {label(up.name)} accepts only {accepted} for a {fmt_shape(up.in_spatial)} input"
    ), (
        f"give {label(down.name)} and {label(up.name)} the same kernel_size and stride, without dilation or padding, so the unpool can mirror the pool",
        "or use input sizes the pool divides exactly",
    ))


@dataclass(frozen=True)
class ChainFix:
    """output_padding changes on the ConvTranspose layers of a chain (a patch embedding of
    stride 16 undone by four stride-2 layers): each ``(layer, new output_padding, its new
    output size)``, for the layers whose value changes."""

    changes: tuple[tuple[LayerEvent, tuple[int, ...], Shape], ...]


def chain_fix(graph: Graph, m: Mismatch) -> ChainFix | None:
    """The output_padding values on a chain of transposed convolutions that make the chain give
    back the level's size, changing the latest layers first; None when none do (or the chain
    has other layers in it)."""
    names = list(m.pair.chain) + [m.up.name]
    members = [graph.by_name.get(n) for n in names]
    if len(members) < 2 or any(
        x is None or family(x) != "conv_transpose" or not params_valid(x) or not isinstance(x.params, TransposeArgs) or x.params.output_size_given or _illegal_output_padding(x)
        for x in members
    ):
        return None
    chain: list[LayerEvent] = [x for x in members if x is not None]
    for a, b in itertools.pairwise(chain):
        if b.in_spatial != a.out_spatial:
            return None  # something between the layers changes the size
    ndim = m.up.ndim
    args = [args_of(x, TransposeArgs) for x in chain]
    new_ops = [list(p.output_padding) for p in args]
    for dim in range(ndim):
        need = m.delta[dim]
        strides = [p.stride[dim] for p in args]
        weights = [_product(strides[i + 1:]) for i in range(len(chain))]
        room = [
            (-p.output_padding[dim], ar.output_padding_limit(p.stride[dim], p.dilation[dim]) - 1 - p.output_padding[dim])
            for p in args
        ]
        for i in range(len(chain)):
            later_lo = sum(room[j][0] * weights[j] for j in range(i + 1, len(chain)))
            later_hi = sum(room[j][1] * weights[j] for j in range(i + 1, len(chain)))
            options = [v for v in range(room[i][0], room[i][1] + 1) if later_lo <= need - v * weights[i] <= later_hi]
            if not options:
                return None
            v = min(options, key=abs)
            new_ops[i][dim] += v
            need -= v * weights[i]
        if need:
            return None
    changes = []
    size = chain[0].in_spatial
    for x, p, ops in zip(chain, args, new_ops):
        size = tuple(
            ar.conv_transpose_formula(size[d], p.kernel_size[d], p.stride[d], p.padding[d], p.dilation[d], ops[d])
            for d in range(ndim)
        )
        if tuple(ops) != tuple(p.output_padding):
            changes.append((x, tuple(ops), size))
    return ChainFix(tuple(changes)) if changes else None


def _product(values: Sequence[int]) -> int:
    out = 1
    for v in values:
        out *= v
    return out


def unpool_indices_warning(m: Mismatch) -> str:
    """A crop hides a smaller MaxUnpool output, not the indices that point past it."""
    if family(m.up) == "max_unpool" and any(a < x for a, x in zip(m.up.out_spatial, m.expected)):
        return (
            f"{label(m.down.name)}'s indices can point past the {fmt_shape(m.up.out_spatial)} output: "
            f"eager torch raises 'Found an invalid max index' for some inputs"
        )
    return ""


def pair_finding(
    m: Mismatch,
    code: str,
    message: str,
    fix: Fix | None = None,
    suggestions: Sequence[str] = (),
) -> Finding:
    bad = [i for i in range(m.up.ndim) if m.expected[i] != m.actual[i]]
    own = (m.target, m.up.out_spatial)
    return Finding(
        code=code,
        message=message,
        up=m.up.name,
        down=m.down.name,
        expected=m.target,
        actual=m.up.out_spatial,
        level=(m.expected, m.actual) if own != (m.expected, m.actual) else None,
        fix=fix,
        location=m.culprit.location if m.culprit is not m.up else m.up.location,
        suggestions=tuple(suggestions),
        layer=m.culprit.name,
        detail=_why(m.down, bad),
    )


def _input_expr(down: LayerEvent) -> str:
    return f"<input of {label(down.name)}>"


def _illegal_output_padding(e: LayerEvent) -> list[int]:
    p = e.params
    if not isinstance(p, TransposeArgs):
        return []
    return [
        i for i in range(e.ndim)
        if not ar.is_legal_output_padding(p.output_padding[i], p.stride[i], p.dilation[i])
    ]


def _unpaired(up: LayerEvent) -> Finding | None:
    if not params_valid(up) or any(v < 1 for v in up.in_spatial + up.out_spatial):
        return None  # CS203 / CS204 say what is wrong with it
    arith = _per_dim([up_arithmetic(up, i) for i in range(up.ndim)], up.ndim, list(range(up.ndim)))
    msg = f"{subject(up)} gives {fmt_shape(up.out_spatial)} from {fmt_shape(up.in_spatial)}: {arith}; no downsampling layer to compare it with"
    p = up.params
    if isinstance(p, TransposeArgs) and any(p.padding):
        plain = [
            ar.conv_transpose_output_size(up.in_spatial[i], p.kernel_size[i], p.stride[i], 0, p.dilation[i], p.output_padding[i])
            for i in range(up.ndim)
        ]
        msg += (
            f" (padding={fmt_value(p.padding)} removes 2*padding from the output of a transposed convolution; "
            f"with padding=0 it would give {fmt_shape(plain)})"
        )
    return Finding(code="CS901", message=msg, up=up.name, location=up.location, layer=up.name, actual=up.out_spatial)


def parameter_problems(e: LayerEvent) -> list[str]:
    """Values eager torch rejects outright (CS203); empty when the layer's settings are legal."""
    p = e.params
    if not isinstance(p, ConvArgs):
        return []
    return list(_conv_problems(p, e.ndim))  # ConvArgs holds tuples of ints: always a cache key


@functools.lru_cache(maxsize=1024)
def _conv_problems(p: ConvArgs, ndim: int) -> tuple[str, ...]:
    """``parameter_problems`` of one convolution's settings (the same layer is met at every check)."""
    labels = dim_labels(ndim)
    out: list[str] = []
    for key, low in (("padding", 0), ("stride", 1), ("dilation", 1), ("kernel_size", 1), ("output_padding", 0)):
        values = getattr(p, key, None)
        if values is None:
            continue
        for i, v in enumerate(values):
            if v < low:
                out.append(f"{key}={v} in {labels[i]} (must be >= {low})")
    bias = p.bias_shape
    if bias is not None:
        w = p.weight_shape
        out_ch = w[1] * p.groups if isinstance(p, TransposeArgs) else w[0]
        if tuple(bias) != (out_ch,):
            out.append(f"a bias of shape {tuple(bias)} for {out_ch} output channels (must be ({out_ch},))")
    return tuple(out)


def params_valid(e: LayerEvent) -> bool:
    return not parameter_problems(e)


def _finding(code: str, e: LayerEvent, graph: Graph, text: str, **extra: object) -> Finding:
    return Finding(
        code=code,
        message=f"{subject(e)} {text}",
        layer=e.name,
        up=e.name if graph.role(e) == UP else None,
        location=e.location,
        **extra,  # type: ignore[arg-type]
    )


def check_adaptive(graph: Graph) -> list[Finding]:
    """CS904: adaptive pooling on the way to an upsampling layer. It gives a fixed size
    whatever it gets, so what comes after cannot mirror what came before."""
    from .pairing import ADAPTIVE

    found = []
    for e in graph.events:
        if graph.role(e) != ADAPTIVE:
            continue
        todo, seen, ups = list(graph.children[e.index]), set(), []
        while todo:
            i = todo.pop()
            if i in seen:
                continue
            seen.add(i)
            if graph.roles[i] == UP:
                ups.append(graph.events[i].name)
            todo.extend(graph.children[i])
        if ups:
            found.append(
                _finding(
                    "CS904", e, graph,
                    f"maps {fmt_shape(e.in_spatial)} to a fixed {fmt_shape(e.out_spatial)} before {', '.join(sorted(ups)[:3])}; "
                    f"upsampling layers after it cannot give back sizes from before it, so they are not paired across it",
                )
            )
    return found


def check_parameters(graph: Graph, pairs: Sequence[Pair]) -> list[Finding]:
    """Parameters eager torch rejects although the meta device and fake tensors accept them."""
    partner = {p.up: p.down for p in pairs}
    findings: list[Finding] = []
    for e in graph.events:
        fam = family(e)
        problems = parameter_problems(e)
        if problems:
            findings.append(_finding("CS203", e, graph, f"has {'; '.join(problems)}; eager torch raises, the meta device accepts it"))
            continue
        if fam == "conv_transpose":
            bad = _illegal_output_padding(e)
            if bad:
                findings.append(_illegal_op_finding(graph, e, partner.get(e.name), bad))
        if fam in ("conv", "conv_transpose"):
            findings.extend(_channel_findings(graph, e, fam))
        if e.ndim and fam not in ("merge", "crop") and e.in_spatial and all(i >= 1 for i in e.in_spatial) and any(o <= 0 for o in e.out_spatial):
            findings.append(
                _finding(
                    "CS204", e, graph,
                    f"gives an empty output {fmt_shape(e.out_spatial)} from {fmt_shape(e.in_spatial)}: "
                    f"{_per_dim([arithmetic_of(e, i) for i in range(e.ndim)], e.ndim, [i for i in range(e.ndim) if e.out_spatial[i] <= 0])}; "
                    f"eager torch raises (or, on some CPU paths, returns an empty tensor that nothing after it can use)",
                    actual=e.out_spatial,
                )
            )
    return findings


def _channel_findings(graph: Graph, e: LayerEvent, fam: str) -> list[Finding]:
    p = args_of(e, ConvArgs)
    groups = p.groups
    w = p.weight_shape
    in_ch = e.in_shapes[0][-e.ndim - 1]
    out_ch = w[0] if fam == "conv" else w[1] * groups
    found = []
    if fam == "conv_transpose" and in_ch != w[0]:
        found.append(
            _finding(
                "CS205", e, graph,
                f"gets {in_ch} input channels but its weight expects {w[0]}; eager torch raises, the meta device accepts it",
            )
        )
    if in_ch % groups or out_ch % groups or (fam == "conv_transpose" and w[0] % groups):
        found.append(
            _finding(
                "CS202", e, graph,
                f"has groups={groups} with {in_ch} input and {out_ch} output channels; "
                f"eager torch requires groups to divide both (the meta device does not check)",
            )
        )
    return found


def _illegal_op_finding(graph: Graph, e: LayerEvent, down_name: str | None, bad: list[int]) -> Finding:
    p = args_of(e, TransposeArgs)
    limit = [ar.output_padding_limit(p.stride[i], p.dilation[i]) for i in range(e.ndim)]
    labels = dim_labels(e.ndim)
    where = ", ".join(
        f"{labels[i]}: output_padding={p.output_padding[i]} but max(stride={p.stride[i]}, dilation={p.dilation[i]}) = {limit[i]}"
        for i in bad
    )
    msg = f"{subject(e)} has an output_padding eager torch rejects ({where}); the meta device and fake tensors accept it silently"
    fix = None
    expected = None
    if down_name is not None and down_name in graph.by_name:
        down = graph.by_name[down_name]
        expected = graph.level_input(down)
        needed = [
            ar.solve_output_padding(expected[i], e.in_spatial[i], p.kernel_size[i], p.stride[i], p.padding[i], p.dilation[i])
            for i in range(e.ndim)
        ]
        if all(n is not None for n in needed):
            fix = Fix(e.name, tuple(needed))  # type: ignore[arg-type]
            msg += f"; set output_padding={fmt_value(needed)} to get {fmt_size(expected)} like {label(down.name)} took"  # type: ignore[arg-type]
    if fix is None:
        msg += f"; output_padding must be below {fmt_value(limit)}"
    return Finding(
        code="CS201",
        message=msg,
        up=e.name if graph.role(e) == UP else None,
        down=down_name,
        expected=expected,
        actual=e.out_spatial,
        fix=fix,
        location=e.location,
        layer=e.name,
    )


def check_events(graph: Graph, pairs: Sequence[Pair]) -> list[Finding]:
    """Findings that need no witness beyond the trace: settings eager rejects, empty outputs,
    channel mismatches, adaptive pooling, unpaired ups (info)."""
    findings = [f for f in (_unpaired(graph.by_name[p.up]) for p in pairs if p.down is None and p.up in graph.by_name) if f is not None]
    findings.extend(check_parameters(graph, pairs))
    findings.extend(check_adaptive(graph))
    return findings
