"""Match each upsampling event with the downsampling event it should invert.

Order of evidence: pairs named explicitly, then skip connections (the up's output is merged
with a tensor that was also the input of a down), then mirror order by scale: the encoder's
levels form a stack; an up takes the most recent level whose factor it undoes, a chain of ups
whose factors multiply to a level's factor takes that level (the chain's end is compared with
the level's input), and an up whose factor is the product of several levels takes them all.
An up whose factor fits nothing stays unpaired.

Each call of a layer is its own event (a shared module applied at two levels is two events,
``down`` and ``down#2``). Layers that read the same tensor, or tensors of the same level
(a strided conv and its strided shortcut; the real and imaginary halves of a complex
convolution; a deconv and an interpolate summed), form one level.

The size a level *took* is the size before any ``F.pad`` written right in front of its first
down; the size an up *gives back* is the size after the crops, pads and small resizes written
right after it (see ``Graph.level_input`` and ``Graph.level_output``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from .records import (
    MODEL_INPUT,
    AdaptiveArgs,
    ConvArgs,
    LayerEvent,
    PadArgs,
    Pair,
    PoolArgs,
    ResizeArgs,
    Shape,
    ShuffleArgs,
    TransposeArgs,
    UnpoolArgs,
    op_family,
    resize_to_size,
)

UP, DOWN, LAYER, MERGE, CROP, PAD, RESIZE, ADAPTIVE = (
    "up", "down", "layer", "merge", "crop", "pad", "resize", "adaptive",
)
MERGE_OPS = ("cat", "stack", "add", "sub", "mul")
_TRANSPARENT = (LAYER, CROP, PAD, RESIZE)
"""Roles a lineage walk passes through: they keep the tensor's place in the encoder/decoder."""
ADJUST = _ADJUST = (CROP, PAD, RESIZE)
"""Roles that trim, pad or nudge a tensor to a size (part of the level they follow)."""

Factor = tuple[float, ...]


def _integral(x: float) -> bool:
    return abs(x - round(x)) < 1e-9


def same_factor(a: Factor, b: Factor) -> bool:
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-6) for x, y in zip(a, b))


def _times(a: Factor, b: Factor) -> Factor:
    return tuple(x * y for x, y in zip(a, b))


def _below(a: Factor, b: Factor) -> bool:
    """``a`` can grow into ``b`` by multiplying with further whole factors: each of ``b``'s
    factors is a whole multiple of ``a``'s (a chain of x2 ups can undo a x4 level, a x2 up
    cannot start undoing a x3 one)."""
    return (
        all(x <= y * (1 + 1e-9) for x, y in zip(a, b))
        and all(_integral(y / x) for x, y in zip(a, b) if x > 0)
        and not same_factor(a, b)
    )


class Graph:
    """Events with their roles and the links between them."""

    def __init__(self, events: Sequence[LayerEvent]):
        self.events = list(events)
        self.by_name = {e.name: e for e in self.events}
        self.children: dict[int, list[int]] = {e.index: [] for e in self.events}
        for e in self.events:
            for feed in e.feeds:
                for src in feed:
                    if src != MODEL_INPUT and src in self.children and e.index not in self.children[src]:
                        self.children[src].append(e.index)
        self.roles: list[str] = []
        for e in self.events:
            self.roles.append(self._role(e))

    def role(self, e: LayerEvent) -> str:
        return self.roles[e.index]

    def _role(self, e: LayerEvent) -> str:
        if e.op in MERGE_OPS:
            return MERGE
        if e.op == "crop":
            return CROP
        p = e.params
        if isinstance(p, TransposeArgs):
            return UP if any(s > 1 for s in p.stride) else LAYER
        if isinstance(p, (ConvArgs, PoolArgs)):
            return DOWN if any(s > 1 for s in p.stride) else LAYER
        if isinstance(p, UnpoolArgs):
            return UP
        if isinstance(p, ShuffleArgs):
            if p.factor <= 1:
                return LAYER
            return UP if e.op == "pixel_shuffle" else DOWN
        if isinstance(p, AdaptiveArgs):
            return ADAPTIVE
        if isinstance(p, PadArgs):
            return PAD if e.out_spatial != e.in_spatial else LAYER
        if isinstance(p, ResizeArgs):
            return self._interpolate_role(e)
        return LAYER

    def _interpolate_role(self, e: LayerEvent) -> str:
        scale = e.params.scale_factor if isinstance(e.params, ResizeArgs) else None
        if scale is not None:
            if all(s >= 1 for s in scale) and any(s > 1 for s in scale):
                return UP
            if all(s <= 1 for s in scale) and any(s < 1 for s in scale):
                return DOWN
            return LAYER
        ins, outs = e.in_spatial, e.out_spatial
        if outs == ins or not ins or any(i < 1 for i in ins) or any(o < 1 for o in outs):
            return LAYER
        ratios = [o / i for o, i in zip(outs, ins)]
        if all(r < 2 for r in ratios) and self._right_after_up(e):
            # A resize written right after an up sets that level's size, unless it scales by
            # nearly 2 (on the geometric mean of its dims) while a level is still open (a level
            # of its own: Upsample(size=...) as the decoder's up).
            open_levels = self.roles.count(DOWN) - self.roles.count(UP)
            overall = math.prod(ratios) ** (1 / len(ratios))  # geometric mean over the dims
            if not (open_levels > 0 and overall >= 2 ** 0.5):
                return RESIZE
        # A resize to a given size that changes the size by less than half nudges a tensor to
        # a size (an adjustment, part of the level before it); a larger one is a level itself.
        if all(r >= 1 for r in ratios):
            return UP if max(ratios) >= 1.5 else RESIZE
        if all(r <= 1 for r in ratios):
            return DOWN if min(ratios) <= 1 / 1.5 else RESIZE
        return RESIZE

    def _right_after_up(self, e: LayerEvent) -> bool:
        """``e`` reads the output of an up (through layers that keep the size)."""
        feed = e.feeds[0] if e.feeds else ()
        while len(feed) == 1 and feed[0] != MODEL_INPUT and feed[0] < len(self.roles):
            prev = self.events[feed[0]]
            role = self.roles[prev.index]
            if role == UP:
                return True
            if role != LAYER or prev.in_spatial != prev.out_spatial:
                return False
            feed = prev.feeds[0] if prev.feeds else ()
        return False

    # scale -------------------------------------------------------------------------------
    def factor(self, e: LayerEvent) -> Factor:
        """How much ``e`` scales each spatial dim (>= 1 for downs and ups alike)."""
        p = e.params
        if isinstance(p, (ConvArgs, PoolArgs, UnpoolArgs)):
            return tuple(float(s) for s in p.stride)
        if isinstance(p, ShuffleArgs):
            return tuple(float(p.factor) for _ in range(e.ndim))
        if isinstance(p, ResizeArgs):
            if p.scale_factor is not None:
                return tuple(s if s >= 1 else 1 / s for s in p.scale_factor)
            ins, outs = e.in_spatial, e.out_spatial
            ratios = [max(o, 1) / max(i, 1) for o, i in zip(outs, ins)]
            ratios = [r if r >= 1 else 1 / r for r in ratios]
            # a resize to a size names no exact factor: the nearest whole one
            return tuple(float(round(r)) if round(r) >= 1 and abs(r - round(r)) <= 0.34 * round(r) else r for r in ratios)
        return tuple(1.0 for _ in range(e.ndim))

    # lineage ---------------------------------------------------------------------------
    def walk_back(self, feed: Iterable[int], step: Callable[[LayerEvent], Iterable[int]], skip: int | None = None) -> Iterator[LayerEvent]:
        """Every event reached from ``feed`` walking back, each once; ``step(ev)`` gives the feeds
        to go on from ``ev`` (none: stop there). ``skip``: an event neither visited nor passed."""
        seen: set[int] = set()
        todo = [i for i in feed if i != MODEL_INPUT and i != skip]
        while todo:
            i = todo.pop()
            if i in seen:
                continue
            seen.add(i)
            ev = self.events[i]
            yield ev
            todo.extend(j for j in step(ev) if j != MODEL_INPUT and j != skip)

    def nearest(self, feed: Iterable[int], role: str, through: tuple[str, ...] = _TRANSPARENT) -> LayerEvent | None:
        """The most recent event of ``role`` reached from ``feed`` walking back through
        events whose role is in ``through`` (stops at any other role)."""
        def step(ev: LayerEvent) -> Iterable[int]:
            r = self.roles[ev.index]
            return ev.feeds[0] if r != role and r in through and ev.feeds else ()

        return max((ev for ev in self.walk_back(feed, step) if self.roles[ev.index] == role), key=lambda e: e.index, default=None)

    def ups_feeding(self, feed: Iterable[int]) -> list[LayerEvent]:
        """The ups whose outputs reach ``feed`` through layers that keep a tensor's place and
        through merges (the branches of an additive or complex-valued up are summed before
        they meet a skip), without passing another resampler."""
        def step(ev: LayerEvent) -> Iterable[int]:
            r = self.roles[ev.index]
            if r in _TRANSPARENT:
                return ev.feeds[0] if ev.feeds else ()
            return [j for f in ev.feeds for j in f] if r == MERGE else ()

        return sorted((ev for ev in self.walk_back(feed, step) if self.roles[ev.index] == UP), key=lambda e: e.index)

    def path_between(self, feed: Iterable[int], stop: int) -> list[LayerEvent]:
        """Events walked from ``feed`` back to event ``stop`` through transparent roles."""
        def step(ev: LayerEvent) -> Iterable[int]:
            return (ev.feeds[0] if ev.feeds else ()) if self.roles[ev.index] in _TRANSPARENT else ()

        return [ev for ev in self.walk_back(feed, step, skip=stop) if self.roles[ev.index] in _TRANSPARENT]

    def downstream(self, index: int) -> list[LayerEvent]:
        """Events reached forward from ``index`` through transparent roles (not including it)."""
        out: list[LayerEvent] = []
        todo = list(self.children[index])
        seen: set[int] = set()
        while todo:
            i = todo.pop()
            if i in seen:
                continue
            seen.add(i)
            out.append(self.events[i])
            if self.roles[i] in _TRANSPARENT:
                todo.extend(self.children[i])
        return sorted(out, key=lambda e: e.index)

    def ancestors(self, feed: Iterable[int]) -> set[int]:
        """Every event whose output reached ``feed`` (through any input)."""
        seen: set[int] = set()
        todo = [i for i in feed if i != MODEL_INPUT]
        while todo:
            i = todo.pop()
            if i in seen:
                continue
            seen.add(i)
            for f in self.events[i].feeds:
                todo.extend(j for j in f if j != MODEL_INPUT and j not in seen)
        return seen

    def related(self, a: LayerEvent, b: LayerEvent) -> bool:
        """One of the two events fed the other."""
        lo, hi = (a, b) if a.index < b.index else (b, a)
        return lo.index in self.ancestors(x for f in hi.feeds for x in f)

    # level boundaries ------------------------------------------------------------------
    def input_pads(self, down: LayerEvent) -> list[LayerEvent]:
        """The ``F.pad`` calls written right in front of ``down`` (TensorFlow-style 'same'
        padding, reflect padding before a functional conv), nearest first."""
        pads: list[LayerEvent] = []
        feed = down.feeds[0] if down.feeds else ()
        while len(feed) == 1 and feed[0] != MODEL_INPUT:
            ev = self.events[feed[0]]
            if self.roles[ev.index] != PAD:
                break
            pads.append(ev)
            feed = ev.feeds[0] if ev.feeds else ()
        return pads

    def level_input(self, down: LayerEvent) -> Shape:
        """The spatial size a level took: the down's input before the pads written for it."""
        pads = self.input_pads(down)
        return pads[-1].in_spatial if pads else down.in_spatial

    def level_feed(self, down: LayerEvent) -> tuple[int, ...]:
        """The provenance of the tensor the level took (before its pads)."""
        pads = self.input_pads(down)
        src = pads[-1] if pads else down
        return tuple(src.feeds[0]) if src.feeds else ()

    def output_chain(self, up: LayerEvent) -> list[LayerEvent]:
        """The crops, pads and small resizes written right after ``up`` (and shape-keeping
        layers between them), up to the first event that is anything else or that another
        tensor also reaches."""
        chain: list[LayerEvent] = []
        current = up
        while True:
            kids = self.children[current.index]
            if len(kids) != 1:
                break
            nxt = self.events[kids[0]]
            role = self.roles[nxt.index]
            single = len(nxt.feeds) == 1
            if (role in _ADJUST and single and not (role == PAD and self._pads_for_a_layer(nxt))) or (role == LAYER and single and nxt.in_spatial == nxt.out_spatial and nxt.ndim == up.ndim):
                chain.append(nxt)
            else:
                break
            current = nxt
        # trailing shape-keeping layers say nothing about the level's size, unless they set a
        # size (a resize to a constant that happens to keep it at this input size)
        while chain and self.roles[chain[-1].index] == LAYER and not _sets_size(chain[-1]):
            chain.pop()
        return chain

    def _pads_for_a_layer(self, pad: LayerEvent) -> bool:
        """A pad whose one consumer is a convolution or pooling: written for that layer (a
        causal or reflect pad before a conv), not to change the size of what came before."""
        kids = self.children[pad.index]
        if len(kids) != 1:
            return False
        fam = op_family(self.events[kids[0]].op)
        return fam is not None and fam[0] in ("conv", "max_pool", "avg_pool")

    def effective_out(self, e: LayerEvent) -> Shape:
        """The spatial size the rest of the model saw from ``e`` (after a virtual fix)."""
        return e.forced_shape[-e.ndim:] if e.forced_shape is not None and e.ndim else e.out_spatial

    def level_output(self, up: LayerEvent) -> tuple[Shape, Shape]:
        """(actual, seen): the size the level gives back, computed from the up's own output
        plus what its output chain adds; and the size the rest of the model saw (with a
        virtual fix applied to the up)."""
        chain = self.output_chain(up)
        raw = up.out_spatial
        if not chain:
            return raw, self.effective_out(up)
        end = chain[-1].out_spatial
        seen_up = self.effective_out(up)
        delta = tuple(b - a for a, b in zip(seen_up, end))
        return tuple(r + d for r, d in zip(raw, delta)), end

    def ups(self) -> list[LayerEvent]:
        return [e for e in self.events if self.roles[e.index] == UP]

    def downs(self) -> list[LayerEvent]:
        return [e for e in self.events if self.roles[e.index] == DOWN]


def _sets_size(e: LayerEvent) -> bool:
    """A resize to a given size: its output size does not follow its input's."""
    return resize_to_size(e)


def _skip_partner(graph: Graph, up: LayerEvent, skip_feed: tuple[int, ...], taken: set[str]) -> LayerEvent | None:
    """The free down whose level input is the skip tensor, or its nearest ancestor through
    non-resampling layers."""
    frontier = set(skip_feed)
    seen: set[int] = set()
    downs = [d for d in graph.downs() if d.index < up.index and d.name not in taken and d.ndim == up.ndim and d.feeds]
    while frontier:
        candidates = [d for d in downs if frontier & (set(d.feeds[0]) | set(graph.level_feed(d)))]
        if candidates:
            return max(candidates, key=lambda d: d.index)
        seen |= frontier
        nxt: set[int] = set()
        for i in frontier:
            if i == MODEL_INPUT:
                continue
            if graph.roles[i] in _TRANSPARENT and graph.events[i].feeds:
                nxt |= set(graph.events[i].feeds[0])
        frontier = nxt - seen
    return None


def find_pairs(events: Sequence[LayerEvent], explicit: Sequence[tuple[str, str]] = (), graph: Graph | None = None) -> list[Pair]:
    graph = graph or Graph(events)
    pairs: dict[str, Pair] = {}
    taken: set[str] = set()
    for down, up in explicit:
        if up in graph.by_name and down in graph.by_name:
            pairs[up] = Pair(down, up, "explicit", "named in pairs")
            taken.add(down)
    for merge in (e for e in graph.events if graph.role(e) == MERGE):
        for i, feed in enumerate(merge.feeds):
            up_event = graph.nearest(feed, UP)
            if up_event is None or up_event.name in pairs:
                continue
            for j, other in enumerate(merge.feeds):
                if j == i:
                    continue
                partner = _skip_partner(graph, up_event, other, taken)
                if partner is not None and same_factor(graph.factor(partner), graph.factor(up_event)):
                    pairs[up_event.name] = Pair(partner.name, up_event.name, "skip", f"{merge.kind} at {merge.name}", via=merge.name)
                    taken.add(partner.name)
                    break
    _Mirror(graph, pairs, taken).run()
    order = {e.name: e.index for e in graph.events}
    return sorted(pairs.values(), key=lambda p: order.get(p.up, 0))


@dataclass
class _Level:
    downs: list[LayerEvent]
    factor: Factor

    @property
    def first(self) -> LayerEvent:
        return self.downs[0]


class _Mirror:
    """Mirror pairing by scale for the ups that explicit and skip pairs left."""

    def __init__(self, graph: Graph, pairs: dict[str, Pair], taken: set[str]):
        self.graph = graph
        self.pairs = pairs
        self.taken = taken
        self.stack: list[_Level] = []
        self.chain: list[LayerEvent] = []
        self.last_up: tuple[LayerEvent, Pair] | None = None

    def run(self) -> None:
        for e in self.graph.events:
            role = self.graph.role(e)
            if role == ADAPTIVE:
                self._close_chain()
                self.stack = []  # a fixed output size: nothing after it mirrors what came before
                self.last_up = None
            elif role == DOWN:
                self._down(e)
            elif role == UP:
                self._up(e)
        self._close_chain()

    def _down(self, e: LayerEvent) -> None:
        self.last_up = None
        top = self.stack[-1] if self.stack else None
        if top is not None and self._siblings(top.downs[0], e):
            top.downs.append(e)
            if e.name in self.taken:
                self.taken.add(top.first.name)
        else:
            self.stack.append(_Level([e], self.graph.factor(e)))

    def _siblings(self, a: LayerEvent, b: LayerEvent) -> bool:
        """Two resamplers at one level: same input size and factor, neither fed the other."""
        g = self.graph
        return (
            a.ndim == b.ndim
            and a.in_spatial == b.in_spatial
            and same_factor(g.factor(a), g.factor(b))
            and g.role(a) == g.role(b)
            and not g.related(a, b)
        )

    def _up(self, e: LayerEvent) -> None:
        if self._sibling_or_named(e):
            return
        free = [k for k, level in enumerate(self.stack) if level.first.name not in self.taken and level.first.ndim == e.ndim]
        if not self.chain and resize_to_size(e) and self._resize_to_level(e, free):
            return
        if not free:
            self._unpaired(e, "no downsampling layer left to pair with")
            return
        if not self.chain and resize_to_size(e):
            # a resize to a size that no level took here (a constant written for one input
            # size): it is meant to undo the most recent level
            self._pair(e, free[-1], "mirror order (a resize to a fixed size)")
            return
        self._by_scale(e, free)

    def _sibling_or_named(self, e: LayerEvent) -> bool:
        """A parallel branch of the previous up (the same level), or an up named in ``pairs``."""
        if self.last_up is not None and not self.chain and self._siblings(self.last_up[0], e) and e.name not in self.pairs:
            prev = self.last_up[1]
            self.pairs[e.name] = Pair(prev.down, e.name, prev.evidence, prev.detail, via=prev.via)
            return True
        if e.name in self.pairs:
            partner = self.pairs[e.name].down
            self._close_chain()
            for k, level in enumerate(self.stack):
                if any(d.name == partner for d in level.downs):
                    del self.stack[k:]
                    break
            self.last_up = (e, self.pairs[e.name])
            return True
        return False

    def _resize_to_level(self, e: LayerEvent, free: list[int]) -> bool:
        """A resize to a given size declares its target: the level whose input it gives back."""
        g = self.graph
        exact = [k for k in free if g.level_input(self.stack[k].first) == e.out_spatial]
        if exact:
            self._pair(e, exact[-1], "mirror order by shape (it gives back this layer's input size)")
            return True
        # several resizes to one size (a decode head bringing every stage to the first one):
        # a level used up before still is the one whose input they give back
        before = [d for d in g.downs() if d.index < e.index and d.ndim == e.ndim and g.level_input(d) == e.out_spatial]
        if before:
            self.pairs[e.name] = Pair(before[-1].name, e.name, "mirror", "by shape (it gives back this layer's input size)")
            self.last_up = (e, self.pairs[e.name])
            return True
        return False

    def _by_scale(self, e: LayerEvent, free: list[int]) -> None:
        """Pair by scale factor: the most recent level, a chain of ups that undoes it together,
        or one up that undoes several levels at once."""
        top = free[-1]
        want = self.stack[top].factor
        have = self.graph.factor(e)
        if self.chain:
            have = _times(self._chain_factor(), have)
        if same_factor(have, want):
            self._pair(e, top, "mirror order")
            return
        if _below(have, want):
            self.chain.append(e)  # part of a chain of ups that undoes this level together
            self.last_up = None
            return
        product = want
        for k in range(len(free) - 2, -1, -1):
            product = _times(product, self.stack[free[k]].factor)
            if same_factor(product, have):
                self._pair(e, free[k], "mirror order (it undoes several levels)")
                return
            if not _below(product, have):
                break
        self._unpaired(e, "no downsampling level with a matching scale factor")

    def _unpaired(self, e: LayerEvent, why: str) -> None:
        self._close_chain()
        self.pairs[e.name] = Pair(None, e.name, "none", why)
        self.last_up = None

    def _chain_factor(self) -> Factor:
        total = self.graph.factor(self.chain[0])
        for u in self.chain[1:]:
            total = _times(total, self.graph.factor(u))
        return total

    def _pair(self, e: LayerEvent, k: int, how: str) -> None:
        down = self.stack[k].first
        chain = tuple(u.name for u in self.chain)
        pair = Pair(down.name, e.name, "mirror", how if not chain else f"{how}, with {', '.join(chain)} before it", chain=chain)
        self.pairs[e.name] = pair
        self.taken.update(d.name for level in self.stack[k:] for d in level.downs)
        del self.stack[k:]
        self.chain = []
        self.last_up = (e, pair)

    def _close_chain(self) -> None:
        for u in self.chain:
            if u.name not in self.pairs:
                self.pairs[u.name] = Pair(None, u.name, "none", "part of a chain of upsampling layers that matches no level")
        self.chain = []


def resolve_explicit(
    events: Sequence[LayerEvent], explicit: Sequence[tuple[str, str]], modules: Sequence[str] = ()
) -> list[str]:
    """Problems with explicitly named pairs, one message each (empty when all names exist).
    ``modules``: every module name of the model, to tell a container from a typo."""
    import difflib

    names = {e.name for e in events if e.op not in MERGE_OPS and e.op != "crop"}
    problems = []
    for down, up in explicit:
        for label, name in (("down", down), ("up", up)):
            if name in names:
                continue
            inside = sorted(n for n in names if n.startswith(name + ".") or n.startswith(name + ":"))
            if name in modules and inside:
                why = f"is a container; name one of its layers: {', '.join(inside[:5])}"
            elif name in modules:
                why = "is a module of the model, but not a conv, pooling or upsampling layer that ran in the forward pass"
            else:
                close = difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.5)
                why = "did not run in the forward pass" + (f"; did you mean {', '.join(repr(c) for c in close)}?" if close else "")
            problems.append(f"pairs: {label} layer {name!r} of pair ({down!r}, {up!r}) {why}")
    return problems
