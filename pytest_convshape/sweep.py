"""Which input sizes a model accepts, and for which sizes each fix holds.

From one traced pass the layers become a small *size program*: per layer, how its size in the
swept dimension follows from the sizes before it (the conv, pooling and transposed-conv
formulas of ``arithmetic``). The program runs on a whole range of sizes at once with numpy, so
the cost hardly grows with the range. It is trusted only after it reproduced, layer by layer,
real traces at a handful of probe sizes; otherwise the sweep traces every size (exact, slower).

Sizes are judged the way the linter judges one size: a size is valid when the forward completes
(no layer too small, every merge of equal sizes, no setting eager rejects), a model that gives
back its input's size does so, and no pair's mismatch is hidden by a crop, pad or resize or was
named in ``pairs``. The program runs on the raw sizes (what eager torch computes) and is checked
against raw traces; restrictions and fixes are attributed on sizes evaluated as if each paired
up had restored its partner's size, so each restriction is charged to its pair.

No torch here: the caller passes ``probe(size)``, which traces the model at one input size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from . import arithmetic as ar
from .records import (
    MODEL_INPUT,
    ConvArgs,
    Finding,
    LayerEvent,
    MergeArgs,
    Pair,
    PoolArgs,
    ResizeArgs,
    ShuffleArgs,
    TransposeArgs,
    UnpoolArgs,
    args_of,
    dim_labels,
    fmt_value,
    op_family,
)

INVALID_CODES = ("CS1", "CS2", "CS3", "CS903")
"""Finding codes that make a size invalid: a mismatch (even hidden), a setting eager rejects,
or a forward that does not complete."""


@dataclass(frozen=True)
class Probe:
    """One size as the sweep needs it: the raw trace (no virtual fixes) and the verdict."""

    size: int
    events: tuple[LayerEvent, ...]
    pairs: tuple[Pair, ...]
    findings: tuple[Finding, ...]
    failed: bool
    output: int | None = None
    """The event whose output the model returned (its first tensor of the input's rank)."""
    restoring: bool = False
    """The model gives back its input's size at this size (with the fixes applied)."""
    judged: tuple[tuple[str, str], ...] = ()
    """(down, up) pairs whose mismatch alone makes a size invalid: named in ``pairs``, or with
    a crop, pad or resize that can hide it."""
    raw: bool = False
    """Judged from the raw trace alone, as eager torch would (``works``: no merge would raise,
    no output is empty, the output restores the input), not from a full lint: what the size
    program is learned from and checked against."""
    works: bool = False

    @property
    def valid(self) -> bool:
        if self.raw:
            return not self.failed and self.works
        return not self.failed and not any(f.code.startswith(INVALID_CODES) for f in self.findings)


@dataclass(frozen=True)
class Restriction:
    cause: str
    rule: str
    up: str | None = None
    down: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"cause": self.cause, "rule": self.rule, "up": self.up, "down": self.down}


@dataclass(frozen=True)
class FixValidity:
    """For one finding: the sizes its fix holds for, and the alternatives."""

    up: str
    text: str
    holds: tuple[int, ...]


@dataclass(frozen=True)
class SizeSweep:
    dim: int
    label: str
    sizes: tuple[int, ...]
    valid: tuple[int, ...]
    rule: str
    method: str
    """``symbolic`` (size program checked against probe traces) or ``per-size`` (one trace each)."""
    restrictions: tuple[Restriction, ...] = ()
    fixes: tuple[FixValidity, ...] = ()
    with_fixes: tuple[int, ...] | None = None
    with_fixes_rule: str = ""
    with_output_size: tuple[int, ...] | None = None
    with_output_size_rule: str = ""
    alternatives: tuple[tuple[str, tuple[int, ...], str], ...] = ()
    """(change, valid sizes, rule) for each uniform output_padding on the paired ConvTransposes
    that changes which sizes work."""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "valid": list(self.valid),
            "rule": self.rule,
            "label": self.label,
            "range": [self.sizes[0], self.sizes[-1]] if self.sizes else [],
            "method": self.method,
            "restrictions": [r.to_dict() for r in self.restrictions],
        }
        if self.with_fixes is not None:
            out["with_fixes"] = {"valid": list(self.with_fixes), "rule": self.with_fixes_rule}
        if self.with_output_size is not None:
            out["with_output_size"] = {"valid": list(self.with_output_size), "rule": self.with_output_size_rule}
        if self.alternatives:
            out["alternatives"] = [{"change": c, "valid": list(v), "rule": r} for c, v, r in self.alternatives]
        if self.note:
            out["note"] = self.note
        return out


# ------------------------------------------------------------------------------ rules


def _runs(values: Sequence[int], step: int) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for v in values:
        if runs and v == runs[-1][1] + step:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    return runs


def describe_sizes(valid: Iterable[int], domain: Sequence[int], label: str) -> str:
    """A rule a person can read for the set ``valid`` within ``domain``: ``H % 16 == 0 and
    H >= 16``, ``H % 4 in (0, 1)``, ``16 <= H <= 40``, or an explicit list when nothing simple
    fits. The rule is exact over ``domain``; sizes outside it are not claimed."""
    dom = list(domain)
    vset = set(valid)
    good = [n for n in dom if n in vset]
    if not dom:
        return "no sizes were swept"
    if not good:
        return f"no {label} in {dom[0]}..{dom[-1]}"
    if len(good) == len(dom):
        return f"every {label} in {dom[0]}..{dom[-1]}"
    step = dom[1] - dom[0] if len(dom) > 1 else 1
    lo, hi = good[0], good[-1]
    if len(good) == 1:
        return f"{label} == {lo}"
    span = [n for n in dom if lo <= n <= hi]
    if good == span:
        return _bounds(label, lo, hi, dom)
    # A modulus counts as a rule only if the valid sizes show it at least three times over
    # and it keeps few residues; otherwise an explicit list says more.
    limit = min((hi - lo) // 2, 4096)
    for m in range(2, limit + 1):
        found: set[int] = set()
        for n in good:  # stops at the fifth residue: most moduli are rejected after a few sizes
            found.add(n % m)
            if len(found) > 4:
                break
        residues = sorted(found)
        if len(residues) * 2 > m or len(residues) > 4:
            continue
        members = [n for n in dom if n % m in residues]
        inside = [n for n in members if lo <= n <= hi]
        if inside != good:
            continue
        mod = f"{label} % {m} == {residues[0]}" if len(residues) == 1 else f"{label} % {m} in ({', '.join(map(str, residues))})"
        below = any(n < lo for n in members)
        above = any(n > hi for n in members)
        parts = [mod]
        if below:
            parts.append(f"{label} >= {lo}")
        if above:
            parts.append(f"{label} <= {hi}")
        return " and ".join(parts)
    runs = _runs(good, step)
    text = ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in runs[:12])
    if len(runs) > 12:
        text += f", ... ({len(good)} sizes)"
    return f"{label} in {{{text}}}"


def _bounds(label: str, lo: int, hi: int, dom: Sequence[int]) -> str:
    if lo == dom[0]:
        return f"{label} <= {hi}"
    if hi == dom[-1]:
        return f"{label} >= {lo}"
    return f"{lo} <= {label} <= {hi}"


# ------------------------------------------------------------------------------ the size program


class Untrusted(Exception):
    """The size program cannot model this model exactly (the sweep traces every size)."""


@dataclass
class _Node:
    event: LayerEvent
    family: str
    sources: list[tuple]  # per operand: ("input",) | ("fwd", j) | ("const", c) | learned forms
    learned_out: tuple | None = None
    partner: int | None = None  # index of the paired down, when this up is repaired to it
    level: int | None = None  # for a paired up: the node whose input is the size its level took
    chain: tuple[int, ...] = ()  # for an up: the crops, pads and resizes written right after it


@dataclass
class _Values:
    ins: list[list[np.ndarray]] = field(default_factory=list)
    outs: list[np.ndarray] = field(default_factory=list)
    fwds: list[np.ndarray] = field(default_factory=list)


class SizeProgram:
    """Per-layer size rules in one swept dimension, evaluated on arrays of input sizes."""

    def __init__(self, base: Probe, axis: int, probes: Sequence[Probe]):
        from .pairing import Graph

        self.axis = axis  # negative index into shapes, same for every tensor
        self.base = base
        self.events = base.events
        self.index = {e.name: e.index for e in base.events}
        pairs = [p for p in base.pairs if p.down is not None]
        self.pairs = [(self.index[p.down], self.index[p.up]) for p in pairs if p.down in self.index and p.up in self.index]
        self.judged = [(self.index[d], self.index[u]) for d, u in base.judged if d in self.index and u in self.index]
        partner = {u: d for d, u in self.pairs if d < u}
        self.nodes = [self._node(e, partner.get(e.index)) for e in self.events]
        graph = Graph(self.events)
        for d, u in self.pairs:
            pads = graph.input_pads(self.events[d])
            self.nodes[u].level = pads[-1].index if pads else d
            self.nodes[u].chain = tuple(ev.index for ev in graph.output_chain(self.events[u]))
        others = [p for p in probes if not p.failed]
        self._learn(others)

    # construction ------------------------------------------------------------------------
    def _node(self, e: LayerEvent, partner: int | None) -> _Node:
        fam = op_family(e.op)
        family = fam[0] if fam else e.op
        sources = [self._source(feed) for feed in (e.feeds or ((),))]
        if family not in ("cat", "stack", "add", "sub", "mul"):
            sources = sources[:1]
        return _Node(e, family, sources, partner=partner)

    @staticmethod
    def _source(feed: Sequence[int]) -> tuple:
        events = [i for i in feed if i != MODEL_INPUT]
        if events:
            return ("fwd", max(events))
        if MODEL_INPUT in feed:
            return ("input",)
        return ("learn",)

    def _opaque(self, node: _Node) -> bool:
        p = node.event.params
        if node.family in ("conv", "max_pool", "avg_pool", "pixel_shuffle", "pixel_unshuffle", "cat", "stack", "add", "sub", "mul"):
            return False
        if node.family in ("conv_transpose", "max_unpool"):
            return bool(getattr(p, "output_size_given", False))
        if node.family == "interpolate":
            return not isinstance(p, ResizeArgs) or p.scale_factor is None
        return True  # crop, pad, adaptive pooling, anything else: learned from the probes

    def _learn(self, probes: Sequence[Probe]) -> None:
        """Fix the forms the formulas cannot give (crops, pads, size= resizes, inputs that went
        through ops the trace does not see) from the base and the probe traces."""
        samples = [self.base] + [p for p in probes if [e.name for e in p.events] == [e.name for e in self.events]]
        if len(samples) < 3:
            raise Untrusted("too few probe traces with the same layers to check the size program")
        self.samples = samples
        sizes = np.array([s.size for s in samples])
        for node in self.nodes:
            if node.sources and node.sources[0][0] == "learn":
                node.sources[0] = self._fit(node, sizes, samples, "in")
            if node.family in ("add", "sub", "mul"):
                # an operand that broadcasts in the swept dim at every sample (a time embedding
                # of shape (B, C, 1, 1), made from another input) has size 1 whatever the sweep
                ones = [all(self._observed_operand(smp, node.event.index, k) == 1 for smp in samples) for k in range(len(node.sources))]
                if not all(ones):
                    node.sources = [("const", 1) if one else src for src, one in zip(node.sources, ones)]
            if self._opaque(node):
                node.learned_out = self._fit(node, sizes, samples, "out")
        values = self.evaluate(sizes, repair=False)
        for k, s in enumerate(samples):
            for node, e in zip(self.nodes, s.events):
                got_in = [int(v[k]) for v in values.ins[node.event.index]]
                want_in = [sh[self.axis] for sh in e.in_shapes if len(sh) >= -self.axis]
                if got_in[: len(want_in)] != want_in[: len(got_in)]:
                    raise Untrusted(f"{e.name}: input size {want_in} at {s.size} is not {got_in}")
                if len(e.out_shape) >= -self.axis and int(values.outs[node.event.index][k]) != e.out_shape[self.axis]:
                    raise Untrusted(f"{e.name}: output size {e.out_shape[self.axis]} at {s.size} is not {int(values.outs[node.event.index][k])}")

    def _observed_operand(self, sample: Probe, j: int, k: int) -> int | None:
        shapes = sample.events[j].in_shapes
        return shapes[k][self.axis] if k < len(shapes) and len(shapes[k]) >= -self.axis else None

    def _observed(self, sample: Probe, j: int, what: str) -> int | None:
        e = sample.events[j]
        shape = e.in_shapes[0] if what == "in" and e.in_shapes else e.out_shape
        return shape[self.axis] if len(shape) >= -self.axis else None

    def _fit(self, node: _Node, sizes: np.ndarray, samples: Sequence[Probe], what: str) -> tuple:
        target = [self._observed(s, node.event.index, what) for s in samples]
        if any(t is None for t in target):
            raise Untrusted(f"{node.event.name}: no size in the swept dimension")
        if len(set(target)) == 1:
            candidates: list[tuple] = [("const", target[0])]
        else:
            candidates = []
        candidates.append(("input",))
        if what == "out":
            ins = [self._observed(s, node.event.index, "in") for s in samples]
            if None not in ins:
                deltas = {t - i for t, i in zip(target, ins)}  # type: ignore[operator]
                if len(deltas) == 1:
                    candidates.insert(0, ("plus", deltas.pop()))
        for j in range(node.event.index - 1, -1, -1):
            candidates += [("fwd", j), ("in", j)]
        for cand in candidates:
            if cand[0] in ("const", "plus"):
                return cand
            if cand[0] == "input":
                if list(sizes) == target:
                    return cand
                continue
            kind, j = cand
            got = []
            for s in samples:
                e = s.events[j]
                if kind == "in":
                    shape = e.in_shapes[0] if e.in_shapes else ()
                else:
                    shape = e.forced_shape or e.out_shape
                got.append(shape[self.axis] if len(shape) >= -self.axis else None)
            if got == target:
                return cand
        raise Untrusted(f"{node.event.name}: its size in the swept dimension follows no layer the trace saw")

    # evaluation --------------------------------------------------------------------------
    def evaluate(self, n: np.ndarray, output_padding: dict[int, int] | None = None, repair: bool = True) -> _Values:
        """Sizes of every layer for input sizes ``n``; ``output_padding`` overrides a transposed
        convolution's value (by event index) to evaluate a fix. ``repair``: every paired up is
        taken to give back the size its level took (minus what a fixed trim after it removes),
        as the linter's virtual fixes do; without it, the sizes eager torch computes."""
        vals = _Values()
        ops = output_padding or {}
        for node in self.nodes:
            ins = [self._value(src, n, vals) for src in node.sources]
            vals.ins.append(ins)
            out = self._out(node, ins, n, vals, ops)
            vals.outs.append(out)
            fwd = out
            if repair and node.partner is not None and node.level is not None:
                fwd = vals.ins[node.level][0] - self._trim(node)
            vals.fwds.append(fwd)
        return vals

    def _trim(self, node: _Node) -> int:
        """What a fixed trim written after an up removes (0 when the trim adapts to a size)."""
        total = 0
        for j in node.chain:
            learned = self.nodes[j].learned_out
            if learned is None or learned[0] != "plus":
                return 0
            total += learned[1]
        return -total

    def adaptive(self, u: int) -> bool:
        """The up's output chain adapts to another tensor's size (a crop or pad to the skip)."""
        forms = [self.nodes[j].learned_out for j in self.nodes[u].chain]
        return any(form is None or form[0] != "plus" for form in forms)

    def _value(self, src: tuple, n: np.ndarray, vals: _Values) -> np.ndarray:
        kind = src[0]
        if kind == "input":
            return n
        if kind == "const":
            return np.full_like(n, src[1])
        if kind == "fwd":
            return vals.fwds[src[1]]
        if kind == "in":
            return vals.ins[src[1]][0]
        raise Untrusted(f"unresolved size source {src}")

    def _out(self, node: _Node, ins: list[np.ndarray], n: np.ndarray, vals: _Values, ops: dict[int, int]) -> np.ndarray:
        e, p, a = node.event, node.event.params, self._param_axis(node.event)
        x = ins[0] if ins else n
        if node.learned_out is not None:
            kind = node.learned_out[0]
            if kind == "plus":
                return x + node.learned_out[1]
            return self._value(node.learned_out, n, vals)
        fam = node.family
        if isinstance(p, TransposeArgs):
            op = ops.get(e.index, p.output_padding[a])
            return ar.conv_transpose_formula(x, p.kernel_size[a], p.stride[a], p.padding[a], p.dilation[a], op)
        if isinstance(p, ConvArgs):
            if p.same:
                return x.copy()
            return ar.conv_formula(x, p.kernel_size[a], p.stride[a], p.padding[a], p.dilation[a])
        if isinstance(p, PoolArgs):
            return ar.pool_formula(x, p.kernel_size[a], p.stride[a], p.padding[a], p.dilation[a], p.ceil_mode)
        if isinstance(p, UnpoolArgs):
            return ar.max_unpool_formula(x, p.kernel_size[a], p.stride[a], p.padding[a])
        if isinstance(p, ResizeArgs) and p.scale_factor is not None:
            return ar.interpolate_formula(x, p.scale_factor[a])
        if isinstance(p, ShuffleArgs):
            if not self._in_last_two(e):
                return x.copy()
            return x * p.factor if fam == "pixel_shuffle" else x // p.factor
        if fam in ("cat", "stack", "add", "sub", "mul"):
            dim = p.dim if isinstance(p, MergeArgs) else None
            if fam == "cat" and dim is not None and self._is_swept(dim, e):
                return np.sum(ins, axis=0)
            if fam in ("add", "sub", "mul"):
                # broadcasting: a size of 1 takes the other's; a mismatch is repaired by the
                # tracer to the operand made first
                first = ins[self._earliest(node)]
                return np.where(np.all([x == 1 for x in ins], axis=0), 1, np.where(first == 1, np.max(ins, axis=0), first))
            return ins[self._earliest(node)].copy()
        raise Untrusted(f"{e.name}: no size rule for {e.kind}")

    def _earliest(self, node: _Node) -> int:
        """The operand the tracer keeps when a merge's sizes differ: the one whose size was set
        longest ago (the tracer's rule, on the base trace)."""
        def order(src: tuple) -> int:
            if src[0] == "input":
                return -1
            if src[0] not in ("fwd", "in"):
                return 10**9
            j = src[1]
            seen: set[int] = set()
            while j >= 0 and j not in seen:
                seen.add(j)
                ev = self.events[j]
                if src[0] == "fwd" and ev.ndim and ev.in_shapes and tuple(ev.in_shapes[0][-ev.ndim:]) != tuple((ev.forced_shape or ev.out_shape)[-ev.ndim:]):
                    return j
                feed = [i for i in (ev.feeds[0] if ev.feeds else ()) if i >= 0]
                if not feed:
                    return -1
                j = max(feed)
                src = ("fwd", j)
            return -1
        return min(range(len(node.sources)), key=lambda i: order(node.sources[i]))

    def _param_axis(self, e: LayerEvent) -> int:
        return e.ndim + self.axis if e.ndim else 0

    def _in_last_two(self, e: LayerEvent) -> bool:
        return self.axis >= -2

    def _is_swept(self, dim: int, e: LayerEvent) -> bool:
        rank = len(e.out_shape)
        return (dim if dim < 0 else dim - rank) == self.axis

    # validity ----------------------------------------------------------------------------
    def validity(self, n: np.ndarray, output_padding: dict[int, int] | None = None, judged: bool = True) -> np.ndarray:
        """Where the linter finds nothing wrong, from the raw sizes: every layer has room, every
        merge gets equal sizes, a restoring model gives back its input's size, and every judged
        pair (named, or with a crop/pad/resize that can hide it) round-trips."""
        vals = self.evaluate(n, output_padding, repair=False)
        reach, conds = self.conditions(vals, n, pairs=False)
        ok = reach.copy()
        for _, c, _, _ in conds:
            ok &= c
        if self.base.restoring and self.base.output is not None:
            ok &= vals.fwds[self.base.output] == n
        for d, u in (self.judged if judged else ()):
            level = self.nodes[u].level
            level_in = vals.ins[level if level is not None else d][0]
            chain = self.nodes[u].chain
            if chain and not self.adaptive(u):
                ok &= vals.outs[chain[-1]] == level_in
            else:
                ok &= vals.outs[u] == level_in
        return ok

    # conditions --------------------------------------------------------------------------
    def other_axes_ok(self, u: int, d: int) -> bool:
        """Whether the pair round-trips in the dims that are held fixed (as at the base size)."""
        up, down = self.events[u], self.events[d]
        out, want = up.out_spatial, down.in_spatial
        keep = [i for i in range(len(out)) if i != self._param_axis(up)]
        return all(out[i] == want[i] for i in keep if i < len(want))

    def conditions(self, vals: _Values, n: np.ndarray, fixed: bool = False, pairs: bool = True) -> tuple[np.ndarray, list[tuple[str, np.ndarray, int | None, int | None]]]:
        """(reachable, [(cause, ok, up, down)]): ``reachable`` is where every layer has room to
        run; each condition is one thing eager torch needs beyond that. ``fixed``: the fixes
        are applied, so the dims held fixed round-trip too."""
        reach = np.ones_like(n, dtype=bool)
        conds: list[tuple[str, np.ndarray, int | None, int | None]] = []
        for node in self.nodes:
            e = node.event
            out = vals.outs[e.index]
            x = vals.ins[e.index][0] if vals.ins[e.index] else n
            fam = node.family
            if fam in ("conv", "max_pool", "avg_pool", "conv_transpose", "max_unpool", "interpolate", "pixel_shuffle", "pixel_unshuffle") or node.learned_out is not None:
                reach &= out >= 1
            if fam == "avg_pool" and e.ndim == 3:
                reach &= x >= args_of(e, PoolArgs).kernel_size[self._param_axis(e)]
            if fam == "pixel_unshuffle" and self._in_last_two(e):
                factor = args_of(e, ShuffleArgs).factor
                conds.append((f"{e.name} ({e.kind}) gets a size divisible by {factor}", x % factor == 0, None, e.index))
            if fam in ("cat", "stack", "add", "sub", "mul") and len(vals.ins[e.index]) > 1:
                ins = vals.ins[e.index]
                dim = e.params.dim if isinstance(e.params, MergeArgs) else None
                if fam == "cat" and dim is not None and self._is_swept(dim, e):
                    continue
                ok = np.ones_like(n, dtype=bool)
                for other in ins[1:]:
                    ok &= (other == ins[0]) | ((fam in ("add", "sub", "mul")) & ((other == 1) | (ins[0] == 1)))
                conds.append((f"{e.kind} at {e.name} gets equal sizes", ok, None, None))
        for d, u in (self.pairs if pairs else ()):
            up, down = self.events[u], self.events[d]
            level_node = self.nodes[u].level
            level = level_node if level_node is not None else d
            chain = self.nodes[u].chain
            given = vals.outs[chain[-1]] + (vals.outs[u] - vals.fwds[u]) if chain and not self.adaptive(u) else vals.outs[u]
            ok = given == vals.ins[level][0]
            cause = f"{up.name} ({up.kind}) gives back the input size of {down.name} ({down.kind})"
            if not fixed and not self.other_axes_ok(u, d):
                ok = np.zeros_like(ok)
                cause += " (it already fails in the dims held fixed)"
            conds.append((cause, ok, u, d))
        return reach, conds


# ------------------------------------------------------------------------------ the sweep


def _label(dim: int, rank: int) -> str:
    names = dim_labels(rank - 2) if rank > 2 else ()
    k = dim - 2
    return names[k] if 0 <= k < len(names) else f"dim{dim}"


PROBES = 5
"""Traces at other sizes that the size program is learned from and checked against (with the
base size): the ends of the range, its middle and the base's neighbours. A constant, so a
sweep's cost hardly grows with the range."""
PROBES_JUDGED = 12
"""When a crop, pad or resize may hide a mismatch: more sizes, so that a pad that follows the
size (a hider) is told from a constant trim."""


def _probe_sizes(domain: Sequence[int], base: int, count: int = PROBES) -> list[int]:
    if not domain:
        return []
    lo, hi = domain[0], domain[-1]
    mid = domain[len(domain) // 2]
    wanted = [lo, hi, mid + 1, base + 1, base - 1, lo + 1, hi - 1, mid, lo + 2, mid + 3, base + 2, base + 3, base + 5, base + 7, base - 2]
    dset = set(domain)
    out: list[int] = []
    for w in wanted:
        w = max(lo, min(hi, w))
        while w not in dset and w > lo:
            w -= 1
        if w in dset and w != base and w not in out:
            out.append(w)
    return out[:count]


def sweep_dim(
    dim: int,
    rank: int,
    base_size: int,
    domain: Sequence[int],
    probe: Callable[[int], Probe],
    base: Probe,
    findings: Sequence[Finding],
    *,
    this_dim_only: bool = False,
    trace_each: bool = True,
    exact: Callable[[int], Probe] | None = None,
) -> SizeSweep | None:
    """Sweep input dimension ``dim`` over ``domain`` (other dims held at the base input).
    ``probe`` gives the traces the size program is learned from (raw ones will do);
    ``exact`` judges one size the way a check does, for when the program cannot be trusted.
    ``this_dim_only``: judge only the swept dim (as if the held dims were right);
    ``trace_each``: when the size program cannot be trusted, trace every size (else None)."""
    label = _label(dim, rank)
    axis = dim - rank
    dom = list(domain)
    probes = [probe(s) for s in _probe_sizes(dom, base_size, PROBES_JUDGED if base.judged else PROBES)]
    try:
        program = SizeProgram(base, axis, probes)
        result = _symbolic(program, dom, label, base, findings, probes, this_dim_only)
        return _sweep(dim, label, dom, "symbolic", result)
    except Untrusted as why:
        if not trace_each:
            return None
        note = f"traced every size ({why})"
    judge = exact or probe
    by_size = {p.size: p for p in probes if exact is None}
    by_size[base.size] = base
    valid = [n for n in dom if (by_size.get(n) or judge(n)).valid]
    return SizeSweep(dim, label, tuple(dom), tuple(valid), describe_sizes(valid, dom, label), "per-size", note=note)


class SymbolicResult(NamedTuple):
    """What the size program says over the swept range."""

    valid: list[int]
    restrictions: list[Restriction]
    fixes: FixesOverRange
    alternatives: list[tuple[str, list[int]]]
    """A uniform change (an output_padding for every size) and the sizes it makes work."""


def _sweep(dim: int, label: str, dom: list[int], method: str, result: SymbolicResult) -> SizeSweep:
    valid, restrictions, alternatives = result.valid, result.restrictions, result.alternatives
    fixes, with_fixes, with_os = result.fixes
    return SizeSweep(
        dim=dim,
        label=label,
        sizes=tuple(dom),
        valid=tuple(valid),
        rule=describe_sizes(valid, dom, label),
        method=method,
        restrictions=tuple(restrictions),
        fixes=tuple(fixes),
        with_fixes=None if with_fixes is None else tuple(with_fixes),
        with_fixes_rule="" if with_fixes is None else describe_sizes(with_fixes, dom, label),
        with_output_size=None if with_os is None else tuple(with_os),
        with_output_size_rule="" if with_os is None else describe_sizes(with_os, dom, label),
        alternatives=tuple((change, tuple(v), describe_sizes(v, dom, label)) for change, v in alternatives),
    )


def _static_block(findings: Sequence[Finding]) -> bool:
    """Settings eager rejects whatever the size (CS201-CS203, CS205) block every size."""
    return any(f.code in ("CS201", "CS202", "CS203", "CS205") for f in findings)


def _symbolic(program: SizeProgram, dom: list[int], label: str, base: Probe, findings: Sequence[Finding], probes: Sequence[Probe], this_dim_only: bool = False) -> SymbolicResult:
    n = np.array(dom, dtype=np.int64)
    vals = program.evaluate(n)
    reach, conds = program.conditions(vals, n)
    static = _static_block(base.findings)
    blocked = static or (not this_dim_only and _held_failure(program, base))
    ok = program.validity(n)
    if blocked:
        ok[:] = False
    valid = [int(v) for v in n[ok]]
    eager_ok = program.validity(n, judged=False)
    if blocked:
        eager_ok[:] = False
    eager_valid = {int(v) for v in n[eager_ok]}
    for p in [*probes, base]:
        said = (p.size in eager_valid) if p.raw else (p.size in valid)
        if p.size in set(dom) and said != p.valid:
            raise Untrusted(f"the size program says {'valid' if said else 'invalid'} at {p.size}, a trace says otherwise")
    restrictions = []
    reach_sizes = [int(v) for v in n[reach]]
    if len(reach_sizes) < len(dom):
        restrictions.append(Restriction("every layer has room to run (no output below 1)", describe_sizes(reach_sizes, dom, label)))
    for cause, c, u, d in conds:
        # a condition that fails only where the model works anyway (a mismatch a later layer
        # makes up for) restricts nothing
        if (reach & ~c & ~ok).any() or (blocked and not c[reach].all()):
            holds = [int(v) for v in n[reach & c]]
            restrictions.append(
                Restriction(
                    cause,
                    describe_sizes(holds, reach_sizes, label),
                    program.events[u].name if u is not None else None,
                    program.events[d].name if d is not None else None,
                )
            )
    # the fixes set every dim, so an error in the held dims does not block them
    fixes = _fix_validity(program, n, vals, reach, conds, findings, dom, label, static)
    alternatives = [] if blocked else _uniform_output_padding(program, n, valid)
    return SymbolicResult(valid, restrictions, fixes, alternatives)


def _held_failure(program: SizeProgram, base: Probe) -> bool:
    """An error in the dims held fixed makes every size of the swept dim invalid."""
    axis = program.axis
    for f in base.findings:
        if f.severity == "error" and f.expected is not None and f.actual is not None:
            n = len(f.expected)
            keep = [i for i in range(n) if i != n + axis]
            if any(f.expected[i] != f.actual[i] for i in keep):
                return True
    for e in base.events:
        if e.op in ("cat", "stack", "add", "sub", "mul") and len(e.in_shapes) > 1:
            shapes = [sh for sh in e.in_shapes if len(sh) >= 3]
            rank = max(len(sh) for sh in shapes) if shapes else 0
            for i in range(2, rank):
                if i - rank == axis or (e.op == "cat" and isinstance(e.params, MergeArgs) and e.params.dim in (i, i - rank)):
                    continue
                sizes = {sh[i] for sh in shapes if len(sh) == rank}
                if len(sizes - {1}) > 1 or (e.op in ("cat", "stack") and len(sizes) > 1):
                    return True
    return False


def _uniform_output_padding(program: SizeProgram, n: np.ndarray, today: list[int]) -> list[tuple[str, list[int]]]:
    """Which sizes work with one output_padding value on every paired ConvTranspose."""
    ups = [u for d, u in program.pairs if program.nodes[u].family == "conv_transpose" and d < u]
    if not ups:
        return []
    limit = max(
        max(args_of(program.events[u], TransposeArgs).stride[program._param_axis(program.events[u])],
            args_of(program.events[u], TransposeArgs).dilation[program._param_axis(program.events[u])])
        for u in ups
    )
    out = []
    names = ", ".join(program.events[u].name for u in ups)
    for op in range(limit):
        sizes = [int(v) for v in n[program.validity(n, {u: op for u in ups})]]
        if sizes and sizes != today:
            out.append((f"output_padding={op} in this dim on {names}", sizes))
    return out


class FixesOverRange(NamedTuple):
    """What the fixes do over the swept range."""

    per_fix: list[FixValidity]
    with_fixes: list[int] | None
    """The sizes that work with every suggested output_padding applied (None: no fix)."""
    with_output_size: list[int] | None
    """The sizes that work with ``output_size=`` passed to every paired transposed conv."""


def _fix_validity(program, n, vals, reach, conds, findings, dom, label, blocked) -> FixesOverRange:
    """Per fixable finding: where its output_padding holds; and the whole model with all fixes,
    and with output_size= on every transposed convolution."""
    fixed_ops: dict[int, tuple[int, ...]] = {}
    for f in findings:
        if f.fix is not None and f.fix.layer in program.index:
            fixed_ops[program.index[f.fix.layer]] = f.fix.output_padding
    reach_sizes = [int(v) for v in n[reach]]
    pair_of = {u: d for d, u in program.pairs}
    results = [
        _one_fix(program, n, vals, reach, reach_sizes, u, pair_of[u], ops, dom, label)
        for u, ops in fixed_ops.items() if u in pair_of
    ]
    with_fixes = None
    with_os = None
    convts = {u for d, u in program.pairs if program.nodes[u].family == "conv_transpose"}
    if fixed_ops and not blocked:
        ops = {u: ops[program._param_axis(program.events[u])] for u, ops in fixed_ops.items()}
        with_fixes = [int(v) for v in n[program.validity(n, ops)]]
    if convts and not blocked:
        ok = reach.copy()
        for _cause, c, u, d in conds:
            ok &= _output_size_reaches(program, vals, u, d) if u in convts and d is not None else c
        with_os = [int(v) for v in n[ok]]
    return FixesOverRange(results, with_fixes, with_os)


def _output_size_reaches(program, vals, u, d):
    """Per size: whether some output_padding (what ``output_size=`` picks) makes up ``u`` give
    back what down ``d`` took."""
    up = program.events[u]
    a = program._param_axis(up)
    p = args_of(up, TransposeArgs)
    low = ar.conv_transpose_formula(vals.ins[u][0], p.kernel_size[a], p.stride[a], p.padding[a], p.dilation[a], 0)
    target = vals.ins[d][0]
    return (target >= np.maximum(low, 1)) & (target <= low + p.stride[a] - 1)


def _one_fix(program, n, vals, reach, reach_sizes, u, d, ops, dom, label) -> FixValidity:
    """Where one fix's output_padding holds, and when no single value serves the range, the
    value per size and the output_size= alternative."""
    up = program.events[u]
    a = program._param_axis(up)
    p = args_of(up, TransposeArgs)
    x = vals.ins[u][0]
    target = vals.ins[d][0]

    def gives(op: int):
        return ar.conv_transpose_formula(x, p.kernel_size[a], p.stride[a], p.padding[a], p.dilation[a], op)

    holds_sizes = [int(v) for v in n[reach & (gives(ops[a]) == target)]]
    text = f"output_padding={fmt_value(ops)} restores {label} for {describe_sizes(holds_sizes, reach_sizes, label)}"
    if len(holds_sizes) < len(reach_sizes):
        per_op = []
        for op in range(max(p.stride[a], p.dilation[a])):
            sizes = [int(v) for v in n[reach & (gives(op) == target)]]
            if sizes:
                per_op.append(f"output_padding={op} for {describe_sizes(sizes, reach_sizes, label)}")
        os_sizes = [int(v) for v in n[reach & _output_size_reaches(program, vals, u, d)]]
        text += (
            f"; no single output_padding serves every {label} in {dom[0]}..{dom[-1]} ({'; '.join(per_op)}); "
            f"pass output_size=<input of {program.events[d].name}>.shape[-{up.ndim}:] to {up.name} in forward "
            f"for {describe_sizes(os_sizes, reach_sizes, label)}, or document and assert {describe_sizes(holds_sizes, reach_sizes, label)}"
        )
    return FixValidity(up.name, text, tuple(holds_sizes))
