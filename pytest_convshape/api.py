"""``check(model, ...) -> Report``: trace, pair, check. The one path the plugin and CLI share."""

from __future__ import annotations

import copy
import dataclasses
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from torch import nn

from . import trace as tracing
from .branches import never_ran
from .inputs import InputError, call_mismatch, validate_codes, validate_pairs
from .lint import Linter, Pass, Verdict
from .locate import site_of
from .pairing import MERGE_OPS, find_pairs, resolve_explicit
from .policy import apply as apply_policy
from .policy import as_policy, merge
from .progress import current as current_progress
from .progress import describe_sweep
from .records import ERROR, SEVERITY_RANK, Finding, LayerEvent, Shape, dim_labels, first_line, fmt_shape, resize_to_size
from .report import Report
from .tensors import (
    Described,
    batch_dim_problem,
    call_view,
    cpu_model,
    first_tensor,
    forward_inputs,
    input_problem,
    meta_limited,
    real_inputs,
    refuse_jit,
    sized_like,
    unwrap,
    validate_sizes,
)

__all__ = ["InputError", "InternalError", "check", "unwrap", "validate_codes"]











class InternalError(RuntimeError):
    """The linter itself failed (a bug in pytest-convshape, not in the model)."""


class _Sites:
    """Construction sites of module layers, looked up once per layer name (and kept with the
    model between checks)."""

    _cache: ClassVar[weakref.WeakKeyDictionary[nn.Module, dict[str, Any]]] = weakref.WeakKeyDictionary()

    def __init__(self, located_on: nn.Module):
        self.located_on = located_on
        try:
            self.sites = self._cache.setdefault(located_on, {})
        except TypeError:
            self.sites = {}

    def __call__(self, events: Sequence[LayerEvent]) -> list[LayerEvent]:
        out = []
        for e in events:
            if e.module and e.location is None:
                e = copy.copy(e)  # a frozen record: a shallow copy with its location set
                object.__setattr__(e, "location", self.site(e.name, e.kind))
            out.append(e)
        return out

    def site(self, name: str, kind: str) -> Any:
        """Where the module layer ``name`` was built (None when unknown)."""
        base = name.split("#")[0]
        if base not in self.sites:
            self.sites[base] = site_of(self.located_on, base, kind)
        return self.sites[base]


def _explicit_problems(located_on: nn.Module, explicit: tuple[tuple[str, str], ...]) -> Callable[[Pass], None]:
    def validate(first: Pass) -> None:
        if not explicit or first.failed:
            return
        modules = [n for n, _ in located_on.named_modules()]
        problems = resolve_explicit(first.events, explicit, modules)
        order = {e.name: e.index for e in first.events}
        for down, up in explicit:
            if not problems and down in order and up in order and order[down] > order[up]:
                problems.append(f"pairs: ({down!r}, {up!r}): {down!r} runs after {up!r}; give (down, up), the downsampling layer first")
        if problems:
            raise ValueError("; ".join(problems))

    return validate


def _bug(located_on: nn.Module, bug: BaseException) -> InternalError:
    return InternalError(
        f"pytest-convshape failed while tracing {type(located_on).__name__} (a bug in the linter, not in your model; "
        f"please report it with this message): {bug}"
    )




def _first_trace(model: nn.Module, located_on: nn.Module, args: tuple, kwargs: dict, device: str, desc: Described | None = None) -> tracing.Outcome:
    try:
        return (desc or Described(model)).run(args, kwargs, device)
    except tracing.LinterBug as bug:
        raise _bug(located_on, bug) from bug


def lint_once(
    model: nn.Module,
    located_on: nn.Module,
    explicit: tuple[tuple[str, str], ...],
    args: tuple,
    kwargs: dict,
    device: str,
    sites: _Sites | None = None,
    first: tracing.Outcome | None = None,
    desc: Described | None = None,
) -> Verdict:
    """The verdict for one input: trace, pair, re-trace under hypotheses, prove the fixes."""
    described = desc if desc is not None and desc.model is model else Described(model)

    def trace(overrides: Mapping[str, Shape]) -> tracing.Outcome:
        try:
            return described.run(args, kwargs, device, overrides)
        except tracing.LinterBug as bug:
            raise _bug(located_on, bug) from bug

    linter = Linter(trace, explicit, sites or _Sites(located_on), _explicit_problems(located_on, explicit), first)
    return linter.run()


def check(
    model: nn.Module,
    input_size: Sequence[int] | None = None,
    *,
    example_inputs: Any = None,
    pairs: Sequence[tuple[str, str]] = (),
    select: Sequence[str] | str = (),
    extend_select: Sequence[str] | str = (),
    ignore: Sequence[str] | str = (),
    per_module_ignores: Any = (),
    fail_on: str | None = None,
    config: Any = None,
    sizes: Mapping[Any, Any] | None = None,
    target: str | None = None,
    cpu_builder: Callable[[], nn.Module] | None = None,
) -> Report:
    """Lint ``model`` for upsampling layers that do not restore their partner's input size.

    ``input_size`` builds a dummy input of that shape; ``example_inputs`` is a tensor, a tuple
    of positional inputs or a dict of keyword inputs (only shapes and dtypes are used, unless
    the model cannot run on the meta device; integer tensors and plain values work). ``pairs``
    names (down, up) layer pairs that override the automatic pairing.

    Settings, merged as everywhere else (``policy.merge``): ``config`` (the path of a
    pyproject.toml, or its ``config.Settings``) gives ``[tool.convshape]``'s ``select``,
    ``extend-select``, ``ignore``, ``per-module-ignores`` and ``fail-on``; ``select`` given here
    replaces the configured one, ``extend_select``, ``ignore`` and ``per_module_ignores`` add to
    them, ``fail_on`` (``"error"`` or ``"warning"``) replaces. Selectors are codes, prefixes or
    rule names. Inline ``# convshape: ignore[...]`` comments apply.

    ``sizes`` sweeps input dimensions, e.g. ``{2: range(8, 513)}`` or ``{2: (8, 512)}`` or
    ``{2: "8:512:1"}`` (``{"sample.2": ...}`` for a named input): the report then says which
    sizes work, for which sizes each fix holds, and the rule for the whole model. The model is
    never changed. ``cpu_builder`` builds a real CPU copy for the fallback pass when the
    model's weights live on the meta device.
    """
    refuse_jit(model)
    model = unwrap(model)
    rules = merge(
        as_policy(config), select=select, extend_select=extend_select, ignore=ignore,
        per_module_ignores=per_module_ignores, fail_on=fail_on,
    )
    explicit = validate_pairs(pairs)
    run = _prepare(model, input_size, example_inputs, sizes, cpu_builder)
    outcome = _trace_first(run)
    sites = _Sites(run.located_on)
    verdict = lint_once(run.model, run.located_on, explicit, run.args, run.kwargs, run.device, sites, outcome, run.desc)
    findings = _all_findings(verdict, run.fallback, sites)
    sweeps: list[Any] = []
    if run.domains:
        sweeps = _sweep(run.domains, run.model, run.located_on, explicit, run.args, run.kwargs, run.device, sites, verdict, findings, run.desc)
        findings = _with_holds_for(findings, sweeps)
    elif any(_unfixable(f) for f in findings):
        findings = _with_sizes_that_work(findings, run.model, run.args, run.kwargs, run.device, verdict, run.desc)
    elif verdict.final.failed:
        findings = _with_sizes_that_run(findings, run.model, run.args, run.kwargs, run.device, run.desc)
    if run.progress is not None:
        run.progress.done()
    report = _report(run, verdict, findings, sweeps, target)
    problem = batch_dim_problem(run.located_on, run.given, report.findings)
    if problem:
        raise InputError(problem)
    if not any(f.code == "CS903" for f in report.findings):
        report = dataclasses.replace(report, never_ran=never_ran(run.located_on, report.events))
    return apply_policy(report, rules)


@dataclasses.dataclass
class _Run:
    """One check's model and forward call, as traced: the user's module (``located_on``, where
    layers are looked up), the module traced (a view that feeds the swept input, or a CPU copy
    for the fallback pass), the inputs and the device."""

    located_on: nn.Module
    model: nn.Module
    given: Any
    """The forward call as the user gave it (``tensors.CallInputs``)."""
    args: tuple
    kwargs: dict
    described: str
    domains: dict[int, list[int]]
    desc: Described
    cpu_builder: Callable[[], nn.Module] | None
    progress: Any = None
    device: str = "meta"
    fallback: str = ""


def _prepare(model: nn.Module, input_size: Any, example_inputs: Any, sizes: Any, cpu_builder: Callable[[], nn.Module] | None) -> _Run:
    """The forward call check() makes, with the swept input fed through a view of the model."""
    call = forward_inputs(model, input_size, example_inputs)
    swept, domains = validate_sizes(sizes, call)
    located_on, given = model, call
    progress = current_progress() if domains else None
    on_call = progress.tick if progress is not None else None
    model, call = call_view(model, given, swept, on_call)
    if cpu_builder is not None and model is not located_on:
        build_cpu = cpu_builder
        cpu_builder = lambda: call_view(build_cpu(), given, swept, on_call)[0]  # noqa: E731
    if progress is not None:
        progress.start(describe_sweep(domains, call.args[0].dim()))
    desc = Described(model)
    if desc.lazy():
        model = copy.deepcopy(model)  # lazy modules initialise themselves on the first call
        desc = Described(model)
    return _Run(located_on, model, given, call.args, call.kwargs, call.described, domains, desc, cpu_builder, progress)


def _trace_first(run: _Run) -> tracing.Outcome:
    """The first trace, on the meta device, or on a real CPU copy when the model cannot run on
    meta (``run`` then holds the copy, real inputs and why); an input that does not fit the
    model is an ``InputError``."""
    outcome = _first_trace(run.model, run.located_on, run.args, run.kwargs, "meta", run.desc)
    if outcome.exception is not None and meta_limited(outcome.exception):
        real_model, how = cpu_model(run.model, run.cpu_builder)
        reason = f"{type(outcome.exception).__name__}: {first_line(outcome.exception)}"
        run.args, run.kwargs = real_inputs(run.args, run.kwargs)
        run.model, run.device, run.desc = real_model, "cpu", Described(real_model)
        outcome = _first_trace(run.model, run.located_on, run.args, run.kwargs, "cpu", run.desc)
        run.fallback = f"{reason} (used {how})"
    if outcome.exception is not None and outcome.failure is not None and outcome.failure.events_before == 0:
        f = outcome.failure
        raise InputError(
            f"input {run.described} does not fit the model: "
            + (input_problem(run.located_on, f.where, f.in_shapes[0] if f.in_shapes else ())
               or f"{f.op} in {f.where or type(run.model).__name__} (input {', '.join(fmt_shape(s) for s in f.in_shapes[:1])}) raised: {f.message}")
        ) from None
    if outcome.exception is not None and not outcome.result.events and call_mismatch(outcome.exception):
        raise InputError(
            f"input {run.described} does not fit the model's forward(): {first_line(outcome.exception)}; "
            f"give the inputs it needs as example_inputs (a tuple of positional inputs or a dict of keyword inputs)"
        ) from None
    return outcome


def _report(run: _Run, verdict: Verdict, findings: list[Finding], sweeps: list[Any], target: str | None) -> Report:
    located_on = run.located_on  # named after the user's module, not the compile/DataParallel wrapper
    final = verdict.final
    return Report(
        target=target or f"{type(located_on).__module__}.{type(located_on).__qualname__}",
        input=run.described,
        findings=tuple(sorted(findings, key=_finding_order(final.events))),
        pairs=tuple(final.pairs),
        events=final.events,
        device=run.device,
        fallback_reason=run.fallback,
        sizes=tuple(sweeps),
    )


def _all_findings(verdict: Verdict, fallback: str, sites: _Sites | None = None) -> list[Finding]:
    findings = list(verdict.findings)
    if fallback:
        findings.append(
            Finding(
                code="CS902",
                message=f"the model could not run on the meta device ({fallback}); one small real CPU pass under no_grad in eval mode was used instead",
            )
        )
    if verdict.final.failed:
        findings.append(_forward_failed(verdict.final, sites))
    return findings


def _sweep(domains, model, located_on, explicit, args, kwargs, device, sites, verdict, findings, desc=None) -> list[Any]:
    from .sweep import Probe, sweep_dim

    base_input = args[0]

    def at(dim: int, size: int) -> Any:
        return sized_like(base_input, dim, size, device)

    restoring = bool(verdict.final.output_restores())

    def raw_at(dim: int) -> Callable[[int], Probe]:
        def probe(size: int) -> Probe:
            try:
                outcome = (desc or Described(model)).run((at(dim, size),) + tuple(args[1:]), kwargs, device)
            except tracing.LinterBug as bug:
                raise _bug(located_on, bug) from bug
            return _raw_probe(size, outcome, None, restoring)

        return probe

    def probe_at(dim: int) -> Callable[[int], Probe]:
        def probe(size: int) -> Probe:
            x = at(dim, size)
            try:
                now = lint_once(model, located_on, explicit, (x,) + tuple(args[1:]), kwargs, device, sites, desc=desc)
            except ValueError:
                return Probe(size, (), (), (), True)
            first = now.first
            if first.failed and first.outcome.failure is not None and first.outcome.failure.events_before == 0:
                return Probe(size, first.events, (), (), True)
            return _probe(size, now, tuple(_all_findings(now, "")))

        return probe

    results = []
    rank = base_input.dim()
    for dim, domain in domains.items():
        base = _probe(int(base_input.shape[dim]), verdict, tuple(findings))
        # Raw traces are enough to learn the size program and check it, unless a pair's mismatch
        # can be hidden by a crop, pad or resize (or is named): then each probe is a full lint,
        # as only the lint tells a hidden mismatch (a warning) from a design trim.
        probe = probe_at(dim) if base.judged else raw_at(dim)
        results.append(sweep_dim(dim, rank, int(base_input.shape[dim]), domain, probe, base, findings, exact=probe_at(dim)))
    return results


def _unfixable(f: Finding) -> bool:
    """An error about sizes that no output_padding fixes: the input sizes that work are the
    next best advice."""
    return f.severity == ERROR and f.fix is None and f.code in ("CS102", "CS103", "CS206")


def _with_sizes_that_work(findings: list[Finding], model: nn.Module, args: tuple, kwargs: dict, device: str, verdict: Verdict, desc: Described | None = None) -> list[Finding]:
    """For errors no output_padding fixes: the input sizes near this one for which eager torch
    runs and the model gives back its input's size, per spatial dim the error is about (a
    symbolic size program over a window, checked against a few raw traces)."""
    from .sweep import Probe, sweep_dim

    x = first_tensor(args)
    if x is None or x.dim() < 3 or (verdict.first.output_restores() is not False and not verdict.final.output_restores()):
        return findings
    rank = x.dim()
    g = verdict.first.graph
    rules: dict[int, str] = {}
    for i in range(rank - 2):
        if not any(_unfixable(f) and _involves_dim(f, i) for f in findings):
            continue
        factor = 1
        for d in g.downs():
            fac = g.factor(d)
            factor *= round(fac[i]) if i < len(fac) and fac[i] >= 1 else 1
        factor = max(2, min(factor, 64))
        base_size = int(x.shape[2 + i])
        domain = list(range(max(1, base_size - 2 * factor), base_size + 2 * factor + 1))

        def probe(size: int, i: int = i) -> Probe:
            return _raw_probe_at(model, x, args, kwargs, device, desc, 2 + i, size)

        base = _raw_probe(base_size, verdict.first.outcome, 2 + i - rank)
        sweep = sweep_dim(2 + i, rank, base_size, domain, probe, dataclasses.replace(base, restoring=True), (),
                          this_dim_only=True, trace_each=False)
        if sweep is not None and sweep.valid:
            rules[i] = f"{sweep.rule} (checked for {sweep.label} in {domain[0]}..{domain[-1]}, the other dims assumed right)"
    if not rules:
        return findings
    out = []
    for f in findings:
        if _unfixable(f):
            hints = [f"or use an input size that works: {rule}" for i, rule in rules.items() if _involves_dim(f, i)]
            kept = [t for t in f.suggestions if not (hints and t.endswith("divides exactly"))]  # the rule says which
            f = dataclasses.replace(f, suggestions=tuple(kept) + tuple(hints))
        out.append(f)
    return out


_ROUND = 32
"""The other dims are held at a multiple of this while one dim is searched (most models that
check their input's size want a multiple of a power of two)."""
_WINDOW = 16
_BUDGET_S = 2.0


class _OutOfTime(Exception):
    pass


def _with_sizes_that_run(findings: list[Finding], model: nn.Module, args: tuple, kwargs: dict, device: str, desc: Described | None = None) -> list[Finding]:
    """For a forward that stops (CS903) with no size finding to explain it, e.g. the model's own
    input check: the sizes near this one at which it runs, one dim at a time with the others
    held at a round size (raw traces, at most about two seconds)."""
    import time

    from .sweep import Probe, sweep_dim

    crash = next((f for f in findings if f.code == "CS903"), None)
    x = first_tensor(args)
    if crash is None or x is None or x.dim() < 3 or any(f.severity == ERROR and f.code != "CS903" for f in findings):
        return findings
    rank = x.dim()
    spatial = [int(v) for v in x.shape[2:]]
    held_at = [max(_ROUND, round(v / _ROUND) * _ROUND) for v in spatial]
    labels = dim_labels(rank - 2)
    deadline = time.monotonic() + _BUDGET_S
    hints = []
    for i, size in enumerate(spatial):
        held = x
        for j, v in enumerate(held_at):
            held = held if j == i else sized_like(held, 2 + j, v, device)

        def probe(n: int, i: int = i, held: Any = held) -> Probe:
            if time.monotonic() > deadline:
                raise _OutOfTime
            return _raw_probe_at(model, held, args, kwargs, device, desc, 2 + i, n, restoring=False)

        domain = list(range(max(1, size - _WINDOW), size + _WINDOW + 1))
        try:
            sweep = sweep_dim(2 + i, rank, size, domain, probe, probe(size), (), this_dim_only=True, trace_each=True)
        except _OutOfTime:
            break
        if sweep is not None and sweep.valid and size not in sweep.valid:  # a dim that already works needs no hint
            others = ", ".join(f"{labels[j]} = {v}" for j, v in enumerate(held_at) if j != i)
            hints.append(f"or use an input size at which it runs: {sweep.rule} (checked for {sweep.label} in "
                         f"{domain[0]}..{domain[-1]}{f' with {others}' if others else ''})")
    if not hints:
        return findings
    return [dataclasses.replace(f, suggestions=tuple(f.suggestions) + tuple(hints)) if f is crash else f for f in findings]


def _raw_probe_at(model: nn.Module, x: Any, args: tuple, kwargs: dict, device: str, desc: Described | None, dim: int, size: int,
                  restoring: bool = True) -> Any:
    """One raw trace with dim ``dim`` of the first input ``x`` set to ``size``, judged in that dim;
    a size at which the linter itself fails counts as one that does not work."""
    from .sweep import Probe

    try:
        out = (desc or Described(model)).run((sized_like(x, dim, size, device),) + tuple(args[1:]), kwargs, device)
    except tracing.LinterBug:
        return Probe(size, (), (), (), True)
    return _raw_probe(size, out, dim - x.dim(), restoring)


def _involves_dim(f: Finding, i: int) -> bool:
    sizes = f.level or ((f.expected, f.actual) if f.expected is not None and f.actual is not None else None)
    if sizes is None:
        return True
    took, gives = sizes
    return i < len(took) and i < len(gives) and took[i] != gives[i]


def _raw_probe(size: int, outcome: tracing.Outcome, axis: int | None, restoring: bool = True) -> Any:
    """One size as eager torch sees it (in one dim ``axis``, negative, or in all of them):
    valid when the forward runs, every merge gets equal sizes, no layer output is empty and (a
    model that gives back its input's size) the output gives back the input's size."""
    from .sweep import Probe

    events = tuple(outcome.result.events)
    rank = len(outcome.input_shape)
    axes = [axis] if axis is not None else list(range(2 - rank, 0)) if rank >= 3 else []
    same = [o for o in outcome.outputs if len(o.shape) == rank]
    restores = bool(same) and any(all(o.shape[a] == outcome.input_shape[a] for a in axes) for o in same)
    empty = any(len(e.out_shape) == rank and any(e.out_shape[a] < 1 for a in axes) for e in events)
    merges_ok = True
    for r in outcome.repairs:
        for a in axes:
            sizes = {sh[a] for sh in r.shapes if len(sh) == rank}
            merges_ok &= len(sizes - ({1} if r.merge.rpartition(":")[2].split("#")[0] in ("add", "sub", "mul") else set())) <= 1
    works = merges_ok and not empty and (restores or not restoring)
    output = max((i for i in same[0].feeds if i >= 0), default=None) if same else None
    pairs = tuple(find_pairs(events))
    return Probe(size, events, pairs, (), outcome.exception is not None, output, restores, (), raw=True, works=works)


def _probe(size: int, verdict: Verdict, findings: tuple[Finding, ...]) -> Any:
    """One size for the sweep: the raw trace's events and the verdict at that size."""
    from .sweep import Probe

    first, final = verdict.first, verdict.final
    out = first.primary_output()
    output = max((i for i in out.feeds if i >= 0), default=None) if out is not None else None
    judged = tuple(
        (p.down, p.up) for p in first.pairs
        if p.down is not None and (p.evidence == "explicit" or _can_hide(first, p))
    )
    return Probe(size, first.events, tuple(first.pairs), findings, final.failed, output, bool(final.output_restores()), judged)


def _can_hide(first: Pass, pair: Any) -> bool:
    """A crop, pad or resize sits between the up and a merge or the output (on either branch of
    the merge): it can hide a mismatch."""
    from .pairing import ADJUST

    g = first.graph
    up = g.by_name.get(pair.up)
    if up is None:
        return False

    def adjusts(ev: LayerEvent) -> bool:
        # also a pad or resize to a size that changes nothing at this size: at others it may
        return g.role(ev) in ADJUST or ev.op == "pad" or resize_to_size(ev)

    for ev in g.downstream(up.index):
        if adjusts(ev):
            return True
        if g.role(ev) == "merge":
            for feed in ev.feeds:
                if any(adjusts(x) for x in g.path_between(feed, up.index)):
                    return True
    return False


def _with_holds_for(findings: list[Finding], sweeps: Sequence[Any]) -> list[Finding]:
    texts: dict[str, list[str]] = {}
    for s in sweeps:
        for fix in s.fixes:
            texts.setdefault(fix.up, []).append(fix.text)
    return [
        dataclasses.replace(f, holds_for="\n".join(texts[f.fix.layer])) if f.fix is not None and f.fix.layer in texts else f
        for f in findings
    ]


def _forward_failed(final: Pass, sites: _Sites | None = None) -> Finding:
    f = final.outcome.failure
    ran = [e.name for e in final.events if e.op not in MERGE_OPS and e.op != "crop"]
    tail = ", ".join(ran[-5:]) if ran else "none"
    if f is not None:
        shapes = ", ".join(fmt_shape(s) for s in f.in_shapes[:2])
        msg = f"the forward pass raised in {f.where or 'the model'} ({f.op} on {shapes}): {f.message}; layers that ran before: {tail}"
    elif final.outcome.raised_in is not None:
        exc = final.outcome.exception
        name, kind = final.outcome.raised_in
        where = f"{name} ({kind})" if name else f"the forward of {kind} itself"
        msg = f"the forward pass raised in {where}: {type(exc).__name__}: {first_line(exc)}; layers that ran before: {tail}"
        if not name:
            return Finding(code="CS903", message=msg)
        return Finding(code="CS903", message=msg, layer=name, location=sites.site(name, kind) if sites is not None else None)
    else:
        exc = final.outcome.exception
        msg = f"the forward pass raised {type(exc).__name__}: {first_line(exc)}; layers that ran: {tail}"
    return Finding(code="CS903", message=msg, layer=f.where if f else None)


def _finding_order(events: Sequence[LayerEvent]) -> Callable[[Finding], tuple]:
    order = {e.name: e.index for e in events}
    sev = SEVERITY_RANK

    def key(f: Finding) -> tuple:
        return (sev[f.severity], order.get(f.layer or f.up or "", 10**9), f.code)

    return key
