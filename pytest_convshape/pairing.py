"""Match each upsampling event with the downsampling event it should invert.

Order of evidence: pairs named explicitly, then skip connections (the up's output is merged
with a tensor that was also the input of a down), then mirror order (a stack: each up takes
the most recent free down with the same number of spatial dims).
"""

from __future__ import annotations

from typing import Iterable, Sequence

from .records import MODEL_INPUT, LayerEvent, Pair, op_family

UP, DOWN, LAYER, MERGE, CROP, PAD, RESIZE, ADAPTIVE = (
    "up", "down", "layer", "merge", "crop", "pad", "resize", "adaptive",
)
_TRANSPARENT = (LAYER, CROP, PAD, RESIZE)
"""Roles a lineage walk passes through: they keep the tensor's place in the encoder/decoder."""


class Graph:
    """Events with their roles and the links between them."""

    def __init__(self, events: Sequence[LayerEvent]):
        self.events = list(events)
        self.by_name = {e.name: e for e in self.events}
        self.children: dict[int, list[int]] = {e.index: [] for e in self.events}
        for e in self.events:
            for feed in e.feeds:
                for src in feed:
                    if src != MODEL_INPUT:
                        self.children[src].append(e.index)
        self.roles: list[str] = []
        for e in self.events:
            self.roles.append(self._role(e))

    def role(self, e: LayerEvent) -> str:
        return self.roles[e.index]

    def _role(self, e: LayerEvent) -> str:
        if e.op in ("cat", "stack", "add"):
            return MERGE
        if e.op == "crop":
            return CROP
        fam = op_family(e.op)
        if fam is None:
            return LAYER
        family = fam[0]
        p = e.params
        if family == "conv":
            return DOWN if any(s > 1 for s in p["stride"]) else LAYER
        if family == "conv_transpose":
            return UP if any(s > 1 for s in p["stride"]) else LAYER
        if family in ("max_pool", "avg_pool"):
            return DOWN if any(s > 1 for s in p["stride"]) else LAYER
        if family == "max_unpool":
            return UP
        if family == "pixel_shuffle":
            return UP if p["factor"] > 1 else LAYER
        if family == "pixel_unshuffle":
            return DOWN if p["factor"] > 1 else LAYER
        if family == "adaptive_pool":
            return ADAPTIVE
        if family == "pad":
            return PAD if e.out_spatial != e.in_spatial else LAYER
        if family == "interpolate":
            return self._interpolate_role(e)
        return LAYER

    def _interpolate_role(self, e: LayerEvent) -> str:
        scale = e.params.get("scale_factor")
        if scale is not None:
            if all(s >= 1 for s in scale) and any(s > 1 for s in scale):
                return UP
            if all(s <= 1 for s in scale) and any(s < 1 for s in scale):
                return DOWN
            return LAYER
        # size= given: right after an upsampler it only trims that upsampler's result.
        if self.nearest(e.feeds[0], UP) is not None:
            return RESIZE if e.out_spatial != e.in_spatial else LAYER
        if all(o >= i for o, i in zip(e.out_spatial, e.in_spatial)) and e.out_spatial != e.in_spatial:
            return UP
        if all(o <= i for o, i in zip(e.out_spatial, e.in_spatial)) and e.out_spatial != e.in_spatial:
            return DOWN
        return LAYER

    # lineage ---------------------------------------------------------------------------
    def nearest(self, feed: Iterable[int], role: str, through: tuple[str, ...] = _TRANSPARENT) -> LayerEvent | None:
        """The most recent event of ``role`` reached from ``feed`` walking back through
        events whose role is in ``through`` (stops at any other role)."""
        best: LayerEvent | None = None
        seen: set[int] = set()
        todo = [i for i in feed if i != MODEL_INPUT]
        while todo:
            i = todo.pop()
            if i in seen:
                continue
            seen.add(i)
            ev = self.events[i]
            r = self.roles[i] if i < len(self.roles) else self._role(ev)
            if r == role:
                if best is None or ev.index > best.index:
                    best = ev
            elif r in through and ev.feeds:
                todo.extend(j for j in ev.feeds[0] if j != MODEL_INPUT)
        return best

    def path_between(self, feed: Iterable[int], stop: int) -> list[LayerEvent]:
        """Events walked from ``feed`` back to event ``stop`` through transparent roles."""
        path: list[LayerEvent] = []
        todo = [i for i in feed if i != MODEL_INPUT and i != stop]
        seen: set[int] = set()
        while todo:
            i = todo.pop()
            if i in seen or i == stop:
                continue
            seen.add(i)
            ev = self.events[i]
            if self.roles[i] in _TRANSPARENT:
                path.append(ev)
                todo.extend(j for j in (ev.feeds[0] if ev.feeds else ()) if j != MODEL_INPUT and j != stop)
        return path

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

    def ups(self) -> list[LayerEvent]:
        return [e for e in self.events if self.roles[e.index] == UP]

    def downs(self) -> list[LayerEvent]:
        return [e for e in self.events if self.roles[e.index] == DOWN]


def _skip_partner(graph: Graph, up: LayerEvent, skip_feed: tuple[int, ...], taken: set[str]) -> LayerEvent | None:
    """The free down whose input is the skip tensor, or its nearest ancestor through
    non-resampling layers."""
    frontier = set(skip_feed)
    seen: set[int] = set()
    downs = [d for d in graph.downs() if d.index < up.index and d.name not in taken and d.ndim == up.ndim and d.feeds]
    while frontier:
        candidates = [d for d in downs if frontier & set(d.feeds[0])]
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
            up = graph.nearest(feed, UP)
            if up is None or up.name in pairs:
                continue
            for j, other in enumerate(merge.feeds):
                if j == i:
                    continue
                down = _skip_partner(graph, up, other, taken)
                if down is not None:
                    pairs[up.name] = Pair(down.name, up.name, "skip", f"{merge.kind} at {merge.name}", via=merge.name)
                    taken.add(down.name)
                    break
    _mirror(graph, pairs, taken)
    order = {e.name: e.index for e in graph.events}
    return sorted(pairs.values(), key=lambda p: order.get(p.up, 0))


def _mirror(graph: Graph, pairs: dict[str, Pair], taken: set[str]) -> None:
    """Pair the remaining ups in mirror order. The stack holds one entry per level: downs that
    read the same tensor (a strided conv and its strided shortcut in a residual block) are one
    level. An up takes the most recent free level; a resize to a given size
    (``F.interpolate(size=...)``) takes the most recent level whose input size it gives back
    exactly, when there is one (an FCN head that resizes straight to the input undoes the whole
    encoder, and the levels it jumps over are used up)."""
    stack: list[list[LayerEvent]] = []
    for e in graph.events:
        role = graph.role(e)
        if role == ADAPTIVE:
            stack = []  # a fixed output size: nothing after it mirrors what came before
        elif role == DOWN:
            top = stack[-1] if stack else None
            if top is not None and top[0].feeds[:1] == e.feeds[:1] and top[0].in_spatial == e.in_spatial:
                top.append(e)
            else:
                stack.append([e])
        elif role == UP:
            if e.name in pairs:
                partner = pairs[e.name].down
                stack = [level for level in stack if all(d.name != partner for d in level)]
                continue
            free = [k for k, level in enumerate(stack) if level[0].name not in taken and level[0].ndim == e.ndim]
            if not free:
                pairs[e.name] = Pair(None, e.name, "none", "no downsampling layer left to pair with")
                continue
            # Only a resize to a given size declares its target; any other up mirrors one level.
            targeted = op_family(e.op) == ("interpolate", 0) and e.params.get("size") is not None
            exact = [k for k in free if stack[k][0].in_spatial == e.out_spatial] if targeted else []
            k = exact[-1] if exact else free[-1]
            down = stack[k][0]
            how = "mirror order" if k == free[-1] else "mirror order by shape (it gives back this layer's input size)"
            pairs[e.name] = Pair(down.name, e.name, "mirror", how)
            taken.update(d.name for level in stack[k:] for d in level)
            del stack[k:]


def resolve_explicit(
    events: Sequence[LayerEvent], explicit: Sequence[tuple[str, str]], modules: Sequence[str] = ()
) -> list[str]:
    """Problems with explicitly named pairs, one message each (empty when all names exist).
    ``modules``: every module name of the model, to tell a container from a typo."""
    import difflib

    names = {e.name for e in events if e.op not in ("cat", "stack", "add", "crop")}
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
