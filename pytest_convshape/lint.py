"""The verdict: which mismatches are errors, and which fixes are proven.

Two rules decide (see docs/guarantees.md):

1. **An error needs a witness.** A pair that does not round-trip is an error only when eager
   torch would raise because of it (a merge, or another op, fails and stops failing once the
   pair is fixed virtually), when the model's output does not give back the input's size and
   fixing the pair restores it, or when the user named the pair. Anything else a mismatch
   shows is at most a warning (hidden by a crop, pad or resize) or an info (CS905).
2. **Every fix is proven.** The final trace runs with every error's fix applied virtually;
   a fix is reported only when that trace runs, the pair round-trips in it, and (for an
   output witness) the output is restored.

Every hypothesis is tested by re-tracing on the meta device: ``trace(overrides)`` runs the
model with the named up layers' outputs forced to a size (the user's model untouched). This
module runs no torch code itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .checks import (
    HIDDEN_CODE,
    HIDDEN_WORD,
    ChainFix,
    Mismatch,
    adjuster,
    chain_fix,
    check_events,
    compare,
    describe,
    event_ref,
    family,
    label,
    pair_finding,
    params_valid,
    remedy,
    restored,
    skip_hider,
    subject,
    unpool_indices_warning,
)
from .pairing import MERGE, UP, Graph, find_pairs
from .records import (
    ConvArgs,
    Finding,
    Fix,
    LayerEvent,
    Pair,
    PoolArgs,
    Shape,
    TransposeArgs,
    args_of,
    fmt_shape,
    fmt_value,
)

Overrides = Mapping[str, Shape]


@dataclass
class Pass:
    """One traced forward pass, paired and compared."""

    outcome: Any  # trace.Outcome (kept untyped: this module imports no torch)
    graph: Graph
    pairs: list[Pair]
    mismatches: dict[str, Mismatch]
    overrides: dict[str, Shape]

    @property
    def events(self) -> tuple[LayerEvent, ...]:
        return tuple(self.graph.events)

    @property
    def repairs(self) -> list[Any]:
        return list(self.outcome.repairs)

    @property
    def failed(self) -> bool:
        return self.outcome.exception is not None

    def primary_output(self) -> Any:
        """The first returned tensor of the input's rank, or None."""
        rank = len(self.outcome.input_shape)
        for out in self.outcome.outputs:
            if len(out.shape) == rank and rank >= 3:
                return out
        return None

    def output_restores(self) -> bool | None:
        """Whether some returned tensor of the input's rank has the input's spatial size
        (None: the model returns no such tensor, or did not finish)."""
        if self.failed:
            return None
        rank = len(self.outcome.input_shape)
        same = [o for o in self.outcome.outputs if len(o.shape) == rank and rank >= 3]
        if not same:
            return None
        return any(o.shape[2:] == self.outcome.input_shape[2:] for o in same)

    def same_rank_outputs(self) -> list[tuple[int, Any]]:
        """(position, output) for every returned tensor of the input's rank."""
        rank = len(self.outcome.input_shape)
        return [(k, o) for k, o in enumerate(self.outcome.outputs) if len(o.shape) == rank and rank >= 3]

    def restores(self, k: int) -> bool:
        """Whether the k-th returned tensor has the input's spatial size."""
        if self.failed or k >= len(self.outcome.outputs):
            return False
        return self.outcome.outputs[k].shape[2:] == self.outcome.input_shape[2:]

    def output_text(self, out: Any = None) -> str:
        out = out if out is not None else self.primary_output()
        if out is None:
            return ""
        outs = self.same_rank_outputs()
        k = next((i for i, (_, o) in enumerate(outs) if o is out), 0)
        which = "output" if len(outs) < 2 else f"output {k + 1} of {len(outs)}"
        return f"the model's {which} is {fmt_shape(out.shape[2:])} for a {fmt_shape(self.outcome.input_shape[2:])} input"


@dataclass
class Confirmed:
    mismatch: Mismatch
    witness: str
    """Why it is an error, in words (appended to the message)."""
    kind: str
    """``crash``, ``output`` or ``explicit``."""
    chain: ChainFix | None = None
    """For a chain of ups no single output_padding fixes: the values on its layers that do."""
    at_chain_end: bool = False
    """The up's output chain sets the level's size whatever the up gives (a crop or resize to
    a constant): the virtual fix goes there, and the chain is at fault."""

    def targets(self) -> dict[str, Shape]:
        """The sizes the virtual fix forces: the changed layers of a chain, or the up."""
        if self.chain is not None:
            return {e.name: size for e, _, size in self.chain.changes}
        if self.at_chain_end:
            return {self.mismatch.chain[-1].name: self.mismatch.expected}
        name, size = self.mismatch.fix_site
        return {name: size}


@dataclass
class Verdict:
    findings: list[Finding]
    final: Pass
    first: Pass
    confirmed: dict[str, Confirmed] = field(default_factory=dict)


class Linter:
    """Re-traces a model under hypotheses until the verdict is settled."""

    def __init__(
        self,
        trace: Callable[[Overrides], Any],
        explicit: Sequence[tuple[str, str]] = (),
        locate: Callable[[Sequence[LayerEvent]], list[LayerEvent]] | None = None,
        validate: Callable[[Pass], None] | None = None,
        first: Any = None,
    ):
        self._trace = trace
        self._first = first
        """An outcome already traced without overrides (saves one pass)."""
        self.explicit = tuple(explicit)
        self.locate = locate or list
        self.validate = validate
        self.traces = 0
        self._cache: dict[tuple, Pass] = {}

    # passes ----------------------------------------------------------------------------
    def trace(self, overrides: Mapping[str, Shape]) -> Pass:
        key = tuple(sorted((k, tuple(v)) for k, v in overrides.items()))
        if key in self._cache:
            return self._cache[key]
        if not key and self._first is not None:
            outcome, self._first = self._first, None
        else:
            outcome = self._trace(dict(overrides))
            self.traces += 1
        events = tuple(self.locate(outcome.result.events))
        outcome.result = dataclasses.replace(outcome.result, events=events)
        graph = Graph(events)
        pairs = find_pairs(events, self.explicit, graph)
        mismatches = {}
        for p in pairs:
            m = compare(graph, p)
            if m is not None:
                mismatches[p.up] = m
        found = Pass(outcome, graph, pairs, mismatches, dict(overrides))
        if not self._cache and self.validate is not None:
            self.validate(found)
        self._cache[key] = found
        return found

    # the verdict -----------------------------------------------------------------------
    def run(self) -> Verdict:
        first = current = self.trace({})
        confirmed: dict[str, Confirmed] = {}
        rejected: set[str] = set()
        for _ in range(3 * len(first.graph.ups()) + 6):
            self._refresh(confirmed, current)
            targets = self._targets(confirmed, current)
            if current.overrides != targets:
                current = self.trace(targets)
                continue
            fresh = {u: m for u, m in current.mismatches.items() if u not in confirmed and u not in rejected}
            named = {u: m for u, m in fresh.items() if m.pair.evidence == "explicit"}
            if named:
                for u, m in named.items():
                    confirmed[u] = Confirmed(m, "the pair is named in pairs", "explicit", _chain_solution(current.graph, m))
                continue
            unpools = {u: m for u, m in _unpool_mismatches(current).items() if u not in confirmed and u not in rejected and _unpool_past_indices(m)}
            if unpools:
                for u, m in unpools.items():
                    confirmed[u] = Confirmed(m, unpool_indices_warning(m)[0].upper() + unpool_indices_warning(m)[1:], "crash")
                continue
            if self._crash_witnesses(current, fresh, confirmed, rejected):
                continue
            if self._output_witness(current, fresh, confirmed, rejected):
                continue
            break
        targets = self._targets(confirmed, current)
        final = current if current.overrides == targets else self.trace(targets)
        return Verdict(self._findings(first, final, confirmed, rejected), final, first, confirmed)

    @staticmethod
    def _refresh(confirmed: dict[str, Confirmed], current: Pass) -> None:
        """Judge each confirmed up on the input it gets with the other fixes applied: its
        mismatch as this pass sees it, or none when it now round-trips by itself."""
        g = current.graph
        for u in list(confirmed):
            c = confirmed[u]
            if c.chain is not None and any(g.by_name.get(e.name) is not None and g.by_name[e.name].forced_shape is not None for e, _, _ in c.chain.changes):
                continue  # its chain is fixed virtually: this pass shows the plan, not the problem
            if u in current.mismatches:
                c.mismatch = current.mismatches[u]
                c.chain = _chain_solution(g, c.mismatch)
            elif u in g.by_name and g.by_name[u].forced_shape is None:
                pair = next((p for p in current.pairs if p.up == u), None)
                if pair is not None and restored(g, pair):
                    del confirmed[u]

    def _targets(self, confirmed: Mapping[str, Confirmed], current: Pass) -> dict[str, Shape]:
        targets: dict[str, Shape] = {}
        for c in confirmed.values():
            targets.update(c.targets())
        targets.update(illegal_output_padding_targets(current))
        return targets

    def _crash_witnesses(self, current: Pass, fresh: dict[str, Mismatch], confirmed: dict[str, Confirmed], rejected: set[str]) -> bool:
        """Try, for every op that raised, the mismatched up that fed it: confirmed when the op
        stops raising with that up fixed virtually."""
        trials: dict[str, tuple[Mismatch, str, str]] = {}
        g = current.graph
        for r in current.repairs:
            merge = g.by_name.get(r.merge)
            if merge is None or r.up_branch >= len(merge.feeds):
                continue
            for up in g.ups_feeding(merge.feeds[r.up_branch]):
                if up.name in fresh and up.name not in trials:
                    text = f"{event_ref(merge)} raises in eager torch: {r.message}"
                    trials[up.name] = (fresh[up.name], text, r.merge)
        failure = current.outcome.failure if current.failed else None
        if failure is not None:
            feeding = g.ancestors(failure.feeds)
            for u, m in fresh.items():
                if m.up.index in feeding and u not in trials:
                    where = failure.where or "the model"
                    trials[u] = (m, f"the forward pass raises in {where} ({failure.op}): {failure.message}", "")
        if not trials:
            return False
        base = self._targets(confirmed, current)
        test = self.trace({**base, **dict(m.fix_site for m, _, _ in trials.values())})
        still = {r.merge for r in test.repairs}
        progress = False
        for u, (m, text, merge_name) in trials.items():
            gone = (merge_name and merge_name not in still) or (not merge_name and not test.failed)
            if gone:
                confirmed[u] = Confirmed(m, text, "crash", _chain_solution(current.graph, m))
                progress = True
            else:
                rejected.add(u)
        return progress or bool(trials)

    def _output_witness(self, current: Pass, fresh: dict[str, Mismatch], confirmed: dict[str, Confirmed], rejected: set[str]) -> bool:
        """Mismatches on the way to an output that does not give back the input's size:
        errors when fixing them (virtually) restores that output. Each output of the input's
        rank is judged on its own (a model returning two reconstructions has two witnesses)."""
        if current.failed:
            return False
        base = self._targets(confirmed, current)
        for k, out in current.same_rank_outputs():
            if out.shape[2:] == current.outcome.input_shape[2:]:
                continue
            feeding = current.graph.ancestors(out.feeds)
            pending = {u: m for u, m in fresh.items() if m.up.index in feeding}
            if not pending:
                continue
            before = current.output_text(out)
            # one layer alone first, the earliest first (the first cause: what comes after it
            # is judged on its corrected output in the next pass); a resize to a constant near
            # the output explains it by itself when the layers before it cannot
            singles = [{u: m} for u, m in sorted(pending.items(), key=lambda um: um[1].up.index) if _realizable(m)]
            candidates = singles + ([pending] if len(pending) > 1 or not singles else [])
            for at_end in (False, True):
                for group in candidates:
                    if at_end and not any(m.chain for m in group.values()):
                        continue
                    test = self.trace({**base, **dict(_site(m, at_end) for m in group.values())})
                    if test.restores(k) and not test.failed and len(test.repairs) <= len(current.repairs):
                        for u, m in group.items():
                            end = at_end and bool(m.chain)
                            confirmed[u] = Confirmed(m, f"{before}; with this layer fixed it is restored", "output",
                                                     None if end else _chain_solution(current.graph, m), end)
                        return True
            rejected.update(pending)
        return False

    # findings --------------------------------------------------------------------------
    def _findings(self, first: Pass, final: Pass, confirmed: dict[str, Confirmed], rejected: set[str]) -> list[Finding]:
        findings = check_events(final.graph, final.pairs)
        findings += self._errors(final, confirmed)
        findings += self._unconfirmed(final, confirmed)
        findings += self._hidden_by_chain(final, confirmed)
        findings += self._merge_failures(final)
        return findings

    def _errors(self, final: Pass, confirmed: dict[str, Confirmed]) -> list[Finding]:
        out = []
        unproven = self._unproven(final, confirmed)
        remedies = {u: remedy(c.mismatch) for u, c in confirmed.items()}
        shared = shared_module_conflicts(final, remedies)
        for u, c in confirmed.items():
            m = c.mismatch
            r = remedies[u]
            if c.chain is not None and u not in unproven:
                out.extend(self._chain_findings(final, c))
                continue
            if m.culprit is not m.up or c.at_chain_end:
                out.append(self._broken_after(m, c))
                continue
            message = f"{describe(m)}; {r.tail}"
            fix = None
            suggestions = r.suggestions
            if r.output_padding is not None:
                why = unproven.get(u) or shared.get(u)
                if why is None:
                    fix = Fix(m.up.name, r.output_padding, verified=True)
                else:
                    message = f"{describe(m)}; output_padding={fmt_value(r.output_padding)} would give {fmt_shape(m.expected)} here, but {why}, so it is not offered as a fix"
                    if u in shared:
                        suggestions = (f"pass output_size=<input of {label(m.down.name)}>.shape[-{m.up.ndim}:] to this call of {label(m.up.name.split('#')[0])} in forward",) + tuple(suggestions)
            hider = skip_hider(final.graph, m)
            if hider is not None:
                message += f"; the merge fits only because of {HIDDEN_WORD[final.graph.role(hider)]} at {event_ref(hider)}"
            code = "CS102" if r.code == "CS101" and fix is None else r.code
            out.append(dataclasses.replace(pair_finding(m, code, message, fix, suggestions), witness=c.witness))
        return out

    @staticmethod
    def _broken_after(m: Mismatch, c: Confirmed) -> Finding:
        """CS206: a layer right after the up sets the level's size wrong (the up gives back the
        size its level took, or the layer sets a size whatever the up gives)."""
        e = m.culprit if m.culprit is not m.up else next((ev for ev in reversed(m.chain) if ev.out_spatial != ev.in_spatial), m.chain[-1])
        if m.culprit is not m.up:
            after = f"right after {label(m.up.name)} ({m.up.kind}), which gives back the {fmt_shape(m.expected)} that {label(m.down.name)} ({m.down.kind}) took"
        else:
            after = (
                f"right after {label(m.up.name)} ({m.up.kind}), and the level gives {fmt_shape(m.actual)} whatever {label(m.up.name)} gives; "
                f"{label(m.down.name)} ({m.down.kind}) took {fmt_shape(m.expected)}"
            )
        text = f"{event_ref(e)} changes {fmt_shape(e.in_spatial)} to {fmt_shape(e.out_spatial)} {after}" + _keep_size_hint(e)
        r = remedy(m)
        if r.output_padding is not None:
            text += f"; output_padding={fmt_value(r.output_padding)} on {label(m.up.name)} would make up for it, but {label(e.name) if e.module else 'that call'} is what breaks the size"
        elif family(m.up) == "conv_transpose":
            text += f"; no output_padding on {label(m.up.name)} can undo it"
        return Finding(code="CS206", message=text, up=m.up.name, down=m.down.name, location=e.location, layer=e.name,
                       witness=c.witness, level=(m.expected, m.actual))

    @staticmethod
    def _chain_findings(final: Pass, c: Confirmed) -> list[Finding]:
        """One CS101 per layer of a chain whose output_padding changes."""
        m = c.mismatch
        assert c.chain is not None
        names = " -> ".join(list(m.pair.chain) + [m.up.name])
        head = describe(m)
        out = []
        for planned, ops, size in c.chain.changes:
            # as the final trace saw it: its input already carries the changes before it
            e = final.graph.by_name.get(planned.name, planned)
            message = (
                f"{subject(e)} gives {fmt_shape(e.out_spatial)} in the chain {names}, and the chain misses: {head}; "
                f"set output_padding={fmt_value(ops)} on {label(e.name)} to get {fmt_shape(size)}"
                + (" (with the other changes listed for this chain)" if len(c.chain.changes) > 1 else "")
                + f", and the chain gives {fmt_shape(m.expected)}"
            )
            finding = Finding(
                code="CS101",
                message=message,
                up=e.name,
                down=m.down.name,
                expected=size,
                actual=e.out_spatial,
                fix=Fix(e.name, ops, verified=True),
                location=e.location,
                layer=e.name,
                detail=pair_finding(m, "CS101", "").detail,
                witness=c.witness,
            )
            out.append(finding)
        return out

    def _unproven(self, final: Pass, confirmed: dict[str, Confirmed]) -> dict[str, str]:
        """Fixes the final trace (every fix applied) does not bear out, with what it showed."""
        why: dict[str, str] = {}
        g = final.graph
        for u, c in confirmed.items():
            pair = next((p for p in final.pairs if p.up == u), None)
            if pair is None or pair.down != c.mismatch.down.name:
                why[u] = "the re-trace with every fix applied pairs it differently"
                continue
            if restored(g, pair) is False:
                why[u] = f"the re-trace with every fix applied still gives {fmt_shape(g.level_output(g.by_name[u])[1])}"
                continue
            for r in final.repairs:
                merge = g.by_name.get(r.merge)
                if merge is not None and any(e.name == u for e in g.ups_feeding(merge.feeds[r.up_branch])):
                    why[u] = f"with every fix applied {event_ref(merge)} still raises: {r.message}"
                    break
            if u in why:
                continue
            if final.failed:
                why[u] = f"with every fix applied the forward pass still raises: {final.outcome.failure.message if final.outcome.failure else final.outcome.exception}"
            elif c.kind == "output" and not final.output_restores():
                why[u] = f"with every fix applied {final.output_text()}"
        return why

    def _unconfirmed(self, final: Pass, confirmed: dict[str, Confirmed]) -> list[Finding]:
        """Mismatches nothing showed to matter: hidden by a crop/pad/resize (warning), or
        what the linter saw (CS905 info)."""
        out = []
        for u, m in final.mismatches.items():
            if u in confirmed:
                continue
            hider = skip_hider(final.graph, m)
            if hider is not None:
                role = final.graph.role(hider)
                r = remedy(m)
                message = f"{describe(m)}; hidden by {HIDDEN_WORD[role]} at {event_ref(hider)}"
                out.append(pair_finding(m, HIDDEN_CODE[role], f"{message}; {r.tail}", None, r.suggestions))
                continue
            restores = final.output_restores()
            if final.repairs or final.failed:
                seen = "fixing it alone does not stop the op that raises (see the errors)"
            elif restores:
                seen = "the model runs and its output restores the input size"
            else:
                seen = "the model runs" + (f" ({final.output_text()}, by design or otherwise)" if final.output_text() else "")
            how = m.pair.detail or m.pair.evidence
            out.append(pair_finding(
                m, "CS905",
                f"{describe(m)}; paired by {how}, but {seen}" + ("" if final.repairs or final.failed else " and no op fails because of it") + ", so it is not an error",
            ))
        return out

    def _hidden_by_chain(self, final: Pass, confirmed: dict[str, Confirmed]) -> list[Finding]:
        """Ups whose own output is off but a crop, pad or resize right after them makes the level
        round-trip. A warning (CS301-CS303) when the adjustment is adaptive: with the up fixed
        virtually it no longer changes anything. A trim written for the layer (an audio codec
        removing k - s samples) is part of the design: nothing to report."""
        g = final.graph
        candidates: dict[str, tuple[LayerEvent, LayerEvent, Shape]] = {}
        for p in final.pairs:
            if p.down is None or p.up in final.mismatches or p.up in confirmed or p.up not in g.by_name:
                continue
            up, down = g.by_name[p.up], g.by_name[p.down]
            if not params_valid(up) or not params_valid(down) or up.ndim != down.ndim:
                continue
            expected = g.level_input(down)
            if up.forced_shape is not None or up.out_spatial == expected or any(v < 1 for v in up.out_spatial):
                continue
            chain = g.output_chain(up)
            adj = adjuster(chain)
            if adj is None or restored(g, p) is not True:
                continue
            candidates[p.up] = (up, down, tuple(expected))
        if not candidates:
            return []
        test = self.trace({**final.overrides, **{u: exp for u, (_, _, exp) in candidates.items()}})
        out = []
        for u, (up, down, expected) in candidates.items():
            t_up = test.graph.by_name.get(u)
            if t_up is None:
                continue
            chain = test.graph.output_chain(t_up)
            adaptive = all(ev.out_spatial == ev.in_spatial for ev in chain) and test.graph.level_output(t_up)[1] == expected
            if not adaptive or test.failed or len(test.repairs) > len(final.repairs):
                continue
            adj = adjuster(g.output_chain(up))
            assert adj is not None
            pair = next(p for p in final.pairs if p.up == u)
            m = Mismatch(pair, up, down, expected, up.out_spatial, (), tuple(g.input_pads(down)))
            r = remedy(m)
            role = g.role(adj)
            fix = Fix(up.name, r.output_padding, verified=True) if r.output_padding is not None else None
            message = f"{describe(m)}; hidden by {HIDDEN_WORD[role]} at {event_ref(adj)}; {r.tail}"
            out.append(pair_finding(m, HIDDEN_CODE[role], message, fix, r.suggestions))
        return out

    def _merge_failures(self, final: Pass) -> list[Finding]:
        """Merges eager torch would reject that no paired up explains (CS206)."""
        out = []
        g = final.graph
        seen: set[str] = set()
        for r in final.repairs:
            if r.merge in seen or r.merge not in g.by_name:
                continue
            seen.add(r.merge)
            merge = g.by_name[r.merge]
            culprit = merge_culprit(g, final, merge, r.up_branch, r.target)
            shapes = " and ".join(fmt_shape(s[2:]) for s in r.shapes)
            text = f"{event_ref(merge)} gets {shapes}: eager torch raises '{r.message}'"
            if culprit is not None and culprit is not merge:
                text += f"; {_changer_text(g, final, culprit)}"
            layer = culprit if culprit is not None else merge
            out.append(Finding(code="CS206", message=text, layer=layer.name, location=layer.location,
                               up=layer.name if g.role(layer) == UP else None))
        return out


def _realizable(m: Mismatch) -> bool:
    """A change the user can make gives the up the size its virtual fix forces: a legal
    output_padding, or a resize to a given size (``size=``)."""
    fam = family(m.up)
    if fam == "conv_transpose":
        return remedy(m).output_padding is not None
    return fam == "interpolate"


def _site(m: Mismatch, at_chain_end: bool) -> tuple[str, Shape]:
    """Where to force a size to test a mismatch: its usual fix site, or the end of the up's
    output chain (when that chain sets the size whatever the up gives)."""
    if at_chain_end and m.chain:
        return m.chain[-1].name, m.expected
    return m.fix_site


def _unpool_mismatches(current: Pass) -> dict[str, Mismatch]:
    """MaxUnpool pairs compared on the unpool's own output and the pool's own input (the pool's
    indices refer to that input, whatever pads or crops come around them)."""
    out = {}
    g = current.graph
    for p in current.pairs:
        if p.down is None or p.up not in g.by_name or p.down not in g.by_name:
            continue
        up, down = g.by_name[p.up], g.by_name[p.down]
        if family(up) != "max_unpool" or up.ndim != down.ndim or up.out_spatial == down.in_spatial:
            continue
        if any(v < 1 for v in up.out_spatial + down.in_spatial):
            continue
        out[p.up] = current.mismatches.get(p.up) or Mismatch(p, up, down, down.in_spatial, up.out_spatial)
    return out


def _unpool_past_indices(m: Mismatch) -> bool:
    """A MaxUnpool smaller than its pool's input, where the pool's windows reach past the
    unpool's output: the indices point past it, and eager torch raises 'Found an invalid max
    index' for almost any input (a window's maximum is anywhere in it)."""
    if family(m.up) != "max_unpool" or not any(a < x for a, x in zip(m.up.out_spatial, m.target)):
        return False
    pool = m.down
    if family(pool) != "max_pool":
        return True
    # The indices are positions in the pool's input, flattened over the spatial dims; eager
    # checks them against the unpool's output volume.
    p = args_of(pool, PoolArgs)
    linear, volume = 0, 1
    for i, (size_in, size_out) in enumerate(zip(pool.in_spatial, pool.out_spatial)):
        reach = min(size_in - 1, (size_out - 1) * p.stride[i] - p.padding[i] + (p.kernel_size[i] - 1) * p.dilation[i])
        linear = linear * size_in + max(reach, 0)
    for unpooled in m.up.out_spatial:
        volume *= unpooled
    return linear >= volume


def _chain_solution(g: Graph, m: Mismatch) -> ChainFix | None:
    """Output_padding changes across a chain of ups, when the chain's end alone cannot fix it."""
    if not m.pair.chain or remedy(m).output_padding is not None:
        return None
    return chain_fix(g, m)


def shared_module_conflicts(final: Pass, remedies: Mapping[str, Any]) -> dict[str, str]:
    """A module called at several levels has one output_padding: its fix holds only when every
    call needs the same value (calls without a finding need the value they have)."""
    calls: dict[str, list[LayerEvent]] = {}
    for e in final.graph.events:
        if e.module and e.op.startswith("conv_transpose"):
            calls.setdefault(e.name.split("#")[0], []).append(e)
    why: dict[str, str] = {}
    for base, events in calls.items():
        if len(events) < 2 or not any(e.name in remedies for e in events):
            continue
        needed = {}
        for e in events:
            r = remedies.get(e.name)
            needed[e.name] = tuple(r.output_padding) if r is not None and r.output_padding is not None else (
                None if r is not None else tuple(args_of(e, TransposeArgs).output_padding)
            )
        values = set(needed.values())
        if len(values) > 1:
            listed = ", ".join(f"{name}: {'none' if v is None else fmt_value(v)}" for name, v in needed.items())
            text = f"{label(base)} is called {len(events)} times and the calls need different output_padding ({listed})"
            for e in events:
                if e.name in remedies:
                    why[e.name] = text
    return why


def _changer_text(g: Graph, final: Pass, e: LayerEvent) -> str:
    if g.role(e) == UP:
        pair = next((p for p in final.pairs if p.up == e.name), None)
        partner = " and no downsampling layer it could restore" if pair is None or pair.down is None else ""
        return f"{label(e.name)} ({e.kind}) changes {fmt_shape(e.in_spatial)} to {fmt_shape(e.out_spatial)}{partner}"
    text = f"{event_ref(e)} changes {fmt_shape(e.in_spatial)} to {fmt_shape(e.out_spatial)} on that branch"
    return text + _keep_size_hint(e)


def _keep_size_hint(e: LayerEvent) -> str:
    """How a stride-1 convolution keeps its input's size, when one padding does."""
    from .checks import family

    fam = family(e)
    p = e.params
    if not isinstance(p, ConvArgs) or any(s != 1 for s in p.stride):
        return ""
    spans = [d * (k - 1) for d, k in zip(p.dilation, p.kernel_size)]
    if any(span % 2 for span in spans):
        return "; no padding keeps the size with an even kernel span: use an odd kernel_size" + (
            " (output_padding cannot help: it only adds, and must be 0 at stride 1)" if fam == "conv_transpose" else ""
        )
    pads = [span // 2 for span in spans]
    hint = f"; padding={fmt_value(pads)} on {label(e.name) if e.module else 'that call'} keeps the size"
    if fam == "conv_transpose":
        hint += " (output_padding cannot: it only adds, and must be 0 at stride 1)"
    return hint


def merge_culprit(g: Graph, final: Pass, merge: LayerEvent, branch: int, target: int) -> LayerEvent | None:
    """The last layer that changed the size on the branch that does not fit. When that branch
    ends in an up that restores its partner's size, the other branch is at fault."""
    for b in (branch, target):
        changer = _last_size_change(g, merge.feeds[b])
        if changer is None:
            continue
        pair = next((p for p in final.pairs if p.up == changer.name), None)
        if g.role(changer) == UP and pair is not None and pair.down is not None and restored(g, pair):
            continue
        return changer
    return None


def _last_size_change(g: Graph, feed: Sequence[int]) -> LayerEvent | None:
    def changes(ev: LayerEvent) -> bool:
        return bool(ev.ndim and g.role(ev) != MERGE and ev.in_spatial and g.effective_out(ev) != ev.in_spatial)

    def step(ev: LayerEvent) -> Sequence[int]:
        return () if changes(ev) or not ev.feeds else ev.feeds[0]

    return max((ev for ev in g.walk_back(feed, step) if changes(ev)), key=lambda e: e.index, default=None)


def illegal_output_padding_targets(current: Pass) -> dict[str, Shape]:
    """Transposed convs with an output_padding eager rejects (CS201) and a partner: the next
    passes see them at the size their suggested fix gives."""
    from . import arithmetic as ar
    from .checks import _illegal_output_padding, family, params_valid

    out: dict[str, Shape] = {}
    g = current.graph
    for p in current.pairs:
        if p.down is None or p.up not in g.by_name or p.down not in g.by_name:
            continue
        up = g.by_name[p.up]
        if family(up) != "conv_transpose" or not params_valid(up) or not _illegal_output_padding(up):
            continue
        expected = g.level_input(g.by_name[p.down])
        pr = args_of(up, TransposeArgs)
        solved = [
            ar.solve_output_padding(expected[i], up.in_spatial[i], pr.kernel_size[i], pr.stride[i], pr.padding[i], pr.dilation[i])
            for i in range(up.ndim)
        ]
        if all(s is not None for s in solved) and len(expected) == up.ndim:
            out[p.up] = tuple(expected)
    return out
