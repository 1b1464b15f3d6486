"""``check(model, ...) -> Report``: trace, pair, check. The one path the plugin and CLI share."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Callable, Mapping, Sequence

import torch
from torch import nn

from . import trace as tracing
from .checks import check as check_findings, event_ref
from .locate import site_of
from .pairing import UP, Graph, find_pairs, resolve_explicit
from .records import ERROR, Finding, LayerEvent, Pair, Shape, TraceResult, first_line, fmt_shape
from .branches import never_ran
from .inputs import (
    InputError,
    call_mismatch,
    batch_dim_problem,
    call_view,
    forward_inputs,
    input_problem,
    refuse_jit,
    validate_codes,
    validate_pairs,
    validate_sizes,
)
from .policy import apply as apply_policy, as_policy, merge
from .progress import current as current_progress, describe_sweep
from .report import Report

__all__ = ["InputError", "check", "unwrap", "validate_codes"]

_FIX_CODES = ("CS101", "CS102", "CS103", "CS201", "CS301", "CS302", "CS303")
"""Findings whose up layer gets its expected size virtually in the next pass."""
_META_LIMITS = (
    "meta",
    "data-dependent",
    "data dependent",
    "item()",
    "same device",
    "cannot copy out",
    "unbacked",
    "nonzero",
    "could not run",
    "not implemented",
    "fake impl",  # torch.library custom ops without register_fake
    "fake kernel",
)


def unwrap(model: Any) -> nn.Module:
    """The plain module behind ``torch.compile`` and ``DataParallel``-style wrappers."""
    seen = 0
    while seen < 8:
        seen += 1
        if hasattr(model, "_orig_mod") and isinstance(getattr(model, "_orig_mod"), nn.Module):
            model = model._orig_mod
        elif isinstance(model, nn.Module) and type(model).__name__ in ("DataParallel", "DistributedDataParallel") and isinstance(getattr(model, "module", None), nn.Module):
            model = model.module
        else:
            break
    if isinstance(model, type) and issubclass(model, nn.Module):
        raise TypeError(
            f"check() needs a module instance, got the class {model.__module__}.{model.__qualname__}; "
            f"build it first: check({model.__qualname__}(...), ...)"
        )
    if not isinstance(model, nn.Module):
        raise TypeError(f"check() needs a torch.nn.Module, got {type(model).__module__}.{type(model).__qualname__}")
    return model


def _meta_limited(exc: BaseException) -> bool:
    if isinstance(exc, NotImplementedError):
        return True
    text = str(exc).lower()
    return any(m in text for m in _META_LIMITS)


def _real_inputs(args: tuple, kwargs: dict, seed: int = 0) -> tuple[tuple, dict]:
    gen = torch.Generator().manual_seed(seed)

    def real(t: Any) -> Any:
        if not isinstance(t, torch.Tensor):
            return t
        if t.device.type == "meta":
            if t.is_floating_point():
                return torch.rand(t.shape, generator=gen, dtype=t.dtype)
            return torch.zeros(t.shape, dtype=t.dtype)
        return t.detach().to("cpu")

    from torch.utils._pytree import tree_map

    return tree_map(real, args), tree_map(real, kwargs)


def _cpu_model(model: nn.Module, builder: Callable[[], nn.Module] | None) -> tuple[nn.Module, str]:
    """A model with real CPU weights for the fallback pass, and how it was obtained."""
    tensors = list(model.parameters()) + list(model.buffers())
    if all(t.device.type == "cpu" for t in tensors):
        return model, "the model's own weights"
    if builder is not None:
        return builder(), "a CPU build of the model"
    clone = copy.deepcopy(model)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in clone.modules():
            for name, t in list(module._parameters.items()) + list(module._buffers.items()):
                if t is None:
                    continue
                if t.device.type == "meta":
                    real = torch.randn(t.shape, generator=gen).to(t.dtype) * 0.02 if t.is_floating_point() else torch.zeros(t.shape, dtype=t.dtype)
                else:
                    real = t.detach().to("cpu")
                if name in module._parameters:
                    module._parameters[name] = nn.Parameter(real, requires_grad=False)
                else:
                    module._buffers[name] = real
    return clone, "a CPU copy of the model"


@dataclasses.dataclass
class _Pass:
    result: TraceResult
    graph: Graph
    pairs: list[Pair]
    findings: list[Finding]


class _Linter:
    def __init__(self, model: nn.Module, located_on: nn.Module, explicit: tuple[tuple[str, str], ...]):
        self.model = model
        self.located_on = located_on
        self.explicit = explicit
        self.sites: dict[str, Any] = {}
        self.crashes: dict[str, tracing.MergeRepair] = {}
        self.hidden: dict[str, tuple[str, str]] = {}

    def locate(self, events: Sequence[LayerEvent]) -> list[LayerEvent]:
        out = []
        for e in events:
            if e.module and e.location is None:
                if e.name not in self.sites:
                    self.sites[e.name] = site_of(self.located_on, e.name.split("#")[0], e.kind)
                e = dataclasses.replace(e, location=self.sites[e.name])
            out.append(e)
        return out

    def analyse(self, outcome: tracing.Outcome) -> _Pass:
        for repair in outcome.repairs:
            self.crashes.setdefault(f"{repair.merge}/{repair.up_branch}", repair)
        result = dataclasses.replace(outcome.result, events=tuple(self.locate(outcome.result.events)))
        graph = Graph(result.events)
        modules = [n for n, _ in self.located_on.named_modules()] if self.explicit else []
        problems = resolve_explicit(result.events, self.explicit, modules) if not outcome.exception else []
        order = {e.name: e.index for e in result.events}
        for down, up in self.explicit:
            if not problems and down in order and up in order and order[down] > order[up]:
                problems.append(f"pairs: ({down!r}, {up!r}): {down!r} runs after {up!r}; give (down, up), the downsampling layer first")
        if problems:
            raise ValueError("; ".join(problems))
        pairs = find_pairs(result.events, self.explicit, graph)
        notes, orphans = self._crash_notes(graph)
        findings = check_findings(graph, pairs, notes, self.hidden) + orphans
        return _Pass(result, graph, pairs, findings)

    def _crash_notes(self, graph: Graph) -> tuple[dict[str, str], list[Finding]]:
        notes: dict[str, str] = {}
        orphans: list[Finding] = []
        for repair in self.crashes.values():
            merge = graph.by_name.get(repair.merge)
            if merge is None or repair.up_branch >= len(merge.feeds):
                continue
            text = f"{event_ref(merge)} raises: {repair.message}"
            up = graph.nearest(merge.feeds[repair.up_branch], UP)
            if up is not None:
                notes.setdefault(up.name, text)
            else:
                orphans.append(
                    Finding(
                        code="CS903",
                        message=f"{text}; the branch that does not fit comes from no upsampling layer the linter can name",
                        layer=merge.name,
                        location=merge.location,
                    )
                )
        return notes, orphans


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
    call = forward_inputs(model, input_size, example_inputs)
    swept, domains = validate_sizes(sizes, call)
    located_on = model
    progress = current_progress() if domains else None
    on_call = progress.tick if progress is not None else None
    given = call
    model, call = call_view(model, given, swept, on_call)
    if cpu_builder is not None and model is not located_on:
        build_cpu = cpu_builder
        cpu_builder = lambda: call_view(build_cpu(), given, swept, on_call)[0]  # noqa: E731
    if progress is not None:
        progress.start(describe_sweep(domains, call.args[0].dim()))
    args, kwargs, described = call.args, call.kwargs, call.described
    if any(isinstance(p, nn.parameter.UninitializedParameter) for p in model.parameters()):
        model = copy.deepcopy(model)  # lazy modules initialise themselves on the first call

    device, fallback = "meta", ""
    outcome = tracing.run(model, args, kwargs, device="meta")
    if outcome.exception is not None and _meta_limited(outcome.exception):
        real_model, how = _cpu_model(model, cpu_builder)
        fallback = f"{type(outcome.exception).__name__}: {first_line(outcome.exception)}"
        args, kwargs = _real_inputs(args, kwargs)
        model, device = real_model, "cpu"
        outcome = tracing.run(model, args, kwargs, device="cpu", fallback_reason=fallback)
        fallback = f"{fallback} (used {how})"
    if outcome.exception is not None and outcome.failure is not None and outcome.failure.events_before == 0:
        f = outcome.failure
        raise InputError(
            f"input {described} does not fit the model: "
            + (input_problem(located_on, f.where, f.in_shapes[0] if f.in_shapes else ())
               or f"{f.op} in {f.where or type(model).__name__} (input {', '.join(fmt_shape(s) for s in f.in_shapes[:1])}) raised: {f.message}")
        ) from None
    if outcome.exception is not None and not outcome.result.events and call_mismatch(outcome.exception):
        raise InputError(
            f"input {described} does not fit the model's forward(): {first_line(outcome.exception)}; "
            f"give the inputs it needs as example_inputs (a tuple of positional inputs or a dict of keyword inputs)"
        ) from None

    linter = _Linter(model, located_on, explicit)
    unfixed = outcome
    current, outcome = _settle(linter, outcome, args, kwargs, device, fallback)
    findings = _all_findings(current, outcome, fallback)
    if unfixed.exception is not None and outcome.exception is None:
        findings.append(_raises_without_fixes(unfixed))
    sweeps: list[Any] = []
    if domains:
        sweeps = _sweep(domains, model, located_on, explicit, args, kwargs, device, fallback, current, outcome, findings)
        findings = _with_holds_for(findings, sweeps)
    name = target or f"{type(located_on).__module__}.{type(located_on).__qualname__}"  # not the compile/DataParallel wrapper
    if progress is not None:
        progress.done()
    report = Report(
        target=name,
        input=described,
        findings=tuple(sorted(findings, key=_finding_order(current.result.events))),
        pairs=tuple(current.pairs),
        events=current.result.events,
        device=device,
        fallback_reason=fallback,
        sizes=tuple(sweeps),
    )
    problem = batch_dim_problem(located_on, given, report.findings)
    if problem:
        raise InputError(problem)
    if not any(f.code == "CS903" for f in report.findings):
        report = dataclasses.replace(report, never_ran=never_ran(located_on, report.events))
    return apply_policy(report, rules)


def _settle(
    linter: _Linter, outcome: tracing.Outcome, args: tuple, kwargs: dict, device: str, fallback: str
) -> tuple[_Pass, tracing.Outcome]:
    """Re-trace with each mismatched up layer forced to its expected size until nothing new
    turns up, so every bad layer is found in one run and judged on corrected inputs."""
    current = linter.analyse(outcome)
    overrides: dict[str, Shape] = {}
    for _ in range(len(current.graph.ups()) + 2):
        wanted = {
            f.up: f.expected
            for f in current.findings
            if f.code in _FIX_CODES and f.up is not None and f.expected is not None
        }
        if all(overrides.get(k) == v for k, v in wanted.items()):
            break
        overrides.update(wanted)
        outcome = tracing.run(linter.model, args, kwargs, device=device, overrides=overrides, fallback_reason=fallback)
        current = linter.analyse(outcome)
    return current, outcome


def _raises_without_fixes(unfixed: tracing.Outcome) -> Finding:
    """The unfixed model stops in an op that the passes with virtual fixes got through (a
    crop hides a mismatch from the merge, but the next MaxUnpool's indices no longer fit)."""
    f = unfixed.failure
    if f is None:
        return Finding(code="CS903", message=f"without the fixes above, the forward pass raises {type(unfixed.exception).__name__}: {first_line(unfixed.exception)}")  # type: ignore[arg-type]
    shapes = ", ".join(fmt_shape(s) for s in f.in_shapes[:2])
    return Finding(
        code="CS903",
        message=f"without the fixes above, the forward pass raises in {f.where or 'the model'} ({f.op} on {shapes}): {f.message}",
        layer=f.where or None,
    )


def _all_findings(current: _Pass, outcome: tracing.Outcome, fallback: str) -> list[Finding]:
    findings = list(current.findings)
    if fallback:
        findings.append(
            Finding(
                code="CS902",
                message=f"the model could not run on the meta device ({fallback}); one small real CPU pass under no_grad in eval mode was used instead",
            )
        )
    if outcome.exception is not None:
        findings.append(_forward_failed(outcome, current))
    return findings


def _sweep(domains, model, located_on, explicit, args, kwargs, device, fallback, current, outcome, findings) -> list[Any]:
    from .sweep import Probe, sweep_dim

    base_input = args[0]

    def probe_at(dim: int) -> Callable[[int], Probe]:
        def probe(size: int) -> Probe:
            shape = list(base_input.shape)
            shape[dim] = size
            if device == "meta":
                x = torch.empty(shape, dtype=base_input.dtype, device="meta")
            else:
                x = torch.rand(shape, generator=torch.Generator().manual_seed(0), dtype=base_input.dtype)
            run = tracing.run(model, (x,) + tuple(args[1:]), kwargs, device=device, fallback_reason=fallback)
            if run.exception is not None and run.failure is not None and run.failure.events_before == 0:
                return Probe(size, tuple(run.result.events), (), (), True)
            lint = _Linter(model, located_on, explicit)
            try:
                now, run = _settle(lint, run, (x,) + tuple(args[1:]), kwargs, device, fallback)
            except ValueError:
                return Probe(size, (), (), (), True)
            return Probe(size, now.result.events, tuple(now.pairs), tuple(_all_findings(now, run, "")), run.exception is not None)

        return probe

    results = []
    rank = base_input.dim()
    for dim, domain in domains.items():
        base = Probe(int(base_input.shape[dim]), current.result.events, tuple(current.pairs), tuple(findings), outcome.exception is not None)
        results.append(sweep_dim(dim, rank, int(base_input.shape[dim]), domain, probe_at(dim), base, findings))
    return results


def _with_holds_for(findings: list[Finding], sweeps: Sequence[Any]) -> list[Finding]:
    texts: dict[str, list[str]] = {}
    for s in sweeps:
        for fix in s.fixes:
            texts.setdefault(fix.up, []).append(fix.text)
    return [
        dataclasses.replace(f, holds_for="\n".join(texts[f.fix.layer])) if f.fix is not None and f.fix.layer in texts else f
        for f in findings
    ]


def _forward_failed(outcome: tracing.Outcome, current: _Pass) -> Finding:
    f = outcome.failure
    ran = [e.name for e in current.result.events if e.op not in ("cat", "stack", "add", "crop")]
    tail = ", ".join(ran[-5:]) if ran else "none"
    if f is not None:
        shapes = ", ".join(fmt_shape(s) for s in f.in_shapes[:2])
        msg = f"the forward pass raised in {f.where or 'the model'} ({f.op} on {shapes}): {f.message}; layers that ran before: {tail}"
    else:
        msg = f"the forward pass raised {type(outcome.exception).__name__}: {first_line(outcome.exception)}; layers that ran: {tail}"  # type: ignore[arg-type]
    return Finding(code="CS903", message=msg, layer=f.where if f else None)


def _finding_order(events: Sequence[LayerEvent]) -> Callable[[Finding], tuple]:
    order = {e.name: e.index for e in events}
    sev = {ERROR: 0, "warning": 1, "info": 2}

    def key(f: Finding) -> tuple:
        return (sev[f.severity], order.get(f.layer or f.up or "", 10**9), f.code)

    return key
