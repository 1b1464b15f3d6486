"""Differential fuzzing: random encoder/decoder models, the linter against eager CPU torch.

For every model drawn by ``fuzz_models.model_specs`` (chains and U-Nets, 1d/2d/3d, conv or
pool down, ConvTranspose, Upsample, PixelShuffle or MaxUnpool up, random kernel, stride,
padding, dilation, groups, output_padding; one model in six with a planted parameter that the
meta device accepts and eager torch rejects), ``disagreements(spec)`` checks:

1. shapes: every module event of the raw meta trace has the input and output shape eager
   torch gives; every module event of the report (last pass, with the linter's virtual fixes)
   has the shape eager gives with the same fixes applied by hooks; every finding's
   ``expected``/``actual`` are the eager sizes at its down's input and its up's output;
2. pairing: each up is paired with the down the model was built to mirror;
3. verdict: eager raises -> the report has an error (or ``check`` raises ``InputError``), with
   the planted parameter's rule when one was planted; eager runs and every pair round-trips ->
   no error and no hidden-mismatch warning; a pair that does not round-trip -> a finding on
   that up (an error unless a crop/pad/resize hides it);
4. fixes: applying every ``output_padding`` fix makes each fixed pair round-trip in eager, and
   the linter finds the fixed model clean at those layers; a CS102 ("no legal output_padding")
   is confirmed by trying every legal value in eager;
5. no harm: the model is bit-for-bit, hook-for-hook as before, and no global state changed.

The short run (normal suite) is derandomized. The long run is opt-in::

    python -m pytest tests/test_fuzz.py --fuzz-long [--fuzz-examples 5000] [--fuzz-seed 0] -n 2

It draws ``--fuzz-examples`` models over two shards, collects every disagreement instead of
stopping at the first, and writes a summary per shard under .pytest_cache/d/convshape-fuzz/.
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, Phase, example, given, seed, settings
from torch import nn

import fuzz_models as fm
from fuzz_models import DownSpec, Illegal, ModelSpec, UpSpec  # noqa: F401 - for eval of reprs
from pytest_convshape import check
from pytest_convshape import trace as tracing
from pytest_convshape.api import InputError
from zoo import _verify

ERROR_PAIR_CODES = {"CS101", "CS102", "CS103", "CS201"}
HIDDEN_CODES = {"CS301", "CS302", "CS303"}
SHAPE_CODES = {"CS101", "CS102", "CS103", "CS301", "CS302", "CS303"}

KNOWN = "known:"
"""Prefix of disagreements that are open bugs with their own strict-xfail regression test below."""

_HEALTH = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
SHORT = settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=_HEALTH)


# --------------------------------------------------------------------------- eager oracle


@dataclass
class Eager:
    ins: dict[str, tuple[int, ...]] = field(default_factory=dict)
    outs: dict[str, tuple[int, ...]] = field(default_factory=dict)
    error: BaseException | None = None
    where: str | None = None


def _first(obj: Any) -> torch.Tensor | None:
    if isinstance(obj, torch.Tensor):
        return obj
    if isinstance(obj, (tuple, list)) and obj and isinstance(obj[0], torch.Tensor):
        return obj[0]
    return None


def eager(model: nn.Module, x: torch.Tensor, forced: dict[str, tuple[int, ...]] | None = None) -> Eager:
    """One eager CPU forward (eval, no_grad) recording every module's first input and output
    shape; ``forced`` maps module names to the spatial size their output is resized to (hooks
    registered after the recording ones, so the record shows the raw output)."""
    rec = Eager()
    names = {id(m): n for n, m in model.named_modules()}
    stack: list[str] = []
    handles = []

    def pre(m: nn.Module, args: tuple) -> None:
        name = names[id(m)]
        stack.append(name)
        t = _first(args)
        if t is not None:
            rec.ins.setdefault(name, tuple(t.shape))

    def post(m: nn.Module, args: tuple, out: Any) -> None:
        name = stack.pop()
        t = _first(out)
        if t is not None:
            rec.outs.setdefault(name, tuple(t.shape))

    flags = {m: m.training for m in model.modules()}
    hidden = {k for k in (forced or {}) if isinstance(model.get_submodule(k), nn.modules.pooling._MaxUnpoolNd)}
    try:
        for m in model.modules():
            handles.append(m.register_forward_pre_hook(pre))
            handles.append(m.register_forward_hook(post))
        model.eval()
        with _verify.virtual_fixes(model, [{"up": k, "expected": v} for k, v in (forced or {}).items()]):
            with torch.no_grad():
                model(x)
    except Exception as exc:  # noqa: BLE001 - the oracle's verdict
        rec.error = exc
        rec.where = stack[-1] if stack else ""
    finally:
        for h in handles:
            h.remove()
        for m, flag in flags.items():
            m.training = flag
    for k in hidden:  # fixed by passing output_size=: the raw output size is not observable
        rec.outs.pop(k, None)
    return rec


def _spatial(shape: tuple[int, ...] | None, n: int) -> tuple[int, ...] | None:
    return None if shape is None else tuple(shape[-n:])


def _round_trip(run: Eager, down: str, up: str, n: int) -> bool | None:
    """Whether ``up`` gave back the size ``down`` took in this run (None: not observed)."""
    a, b = _spatial(run.ins.get(down), n), _spatial(run.outs.get(up), n)
    return None if a is None or b is None else a == b


def _error_text(exc: BaseException | None) -> str:
    return "" if exc is None else f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"[:160]


# --------------------------------------------------------------------------- the differential check


@dataclass
class Outcome:
    problems: list[str]
    tags: list[str]


def _compare_events(events: Any, run: Eager, what: str) -> list[str]:
    out = []
    for e in events:
        if not e.module or e.name not in run.outs:
            continue
        if run.ins.get(e.name) != tuple(e.in_shapes[0]) or run.outs[e.name] != tuple(e.out_shape):
            out.append(
                f"{what}: {e.name} ({e.kind}) predicted {e.in_shapes[0]} -> {e.out_shape}, "
                f"eager {run.ins.get(e.name)} -> {run.outs[e.name]}"
            )
    return out


def _cs102_confirmed(model: nn.Module, f: Any, in_shape: tuple[int, ...]) -> bool:
    """No legal output_padding of the up layer reaches ``f.expected`` in eager torch."""
    up = copy.deepcopy(model.get_submodule(f.up)).eval()
    limits = [range(max(s, d)) for s, d in zip(up.stride, up.dilation)]
    x = torch.zeros(in_shape)
    for op in itertools.product(*limits):
        up.output_padding = tuple(op)
        try:
            with torch.no_grad():
                got = tuple(up(x).shape[2:])
        except RuntimeError:  # "output size is too small": not a way to reach expected
            continue
        if got == tuple(f.expected):
            return False
    return True


def _module(model: nn.Module, name: str) -> nn.Module | None:
    try:
        return model.get_submodule(name)
    except AttributeError:
        return None


def _unpool_output_size_accepted(model: nn.Module, f: Any, in_shape: tuple[int, ...]) -> bool:
    """Eager MaxUnpool accepts ``output_size=f.expected`` for an input of ``in_shape``."""
    up = model.get_submodule(f.up)
    x = torch.zeros(in_shape)
    try:
        with torch.no_grad():
            up(x, torch.zeros(in_shape, dtype=torch.long), output_size=tuple(f.expected))
    except ValueError:
        return False
    return True


def disagreements(spec: ModelSpec) -> Outcome:
    """Everything in which the linter and eager torch disagree about the model ``spec``."""
    problems: list[str] = []
    tags = [f"{spec.ndim}d", spec.topology, *(f"up:{u.kind}" for _, u in spec.levels), *(f"down:{d.kind}" for d, _ in spec.levels)]
    if spec.topology == "unet":
        tags.append(f"merge:{spec.merge}")
    n = spec.ndim
    model = fm.build(spec)
    x = fm.example_input(spec)
    before, globals_before = fm.snapshot(model), fm.global_state()
    report = None
    try:
        report = check(model, input_size=spec.input_shape)
    except InputError as exc:
        lint_error: BaseException | None = exc
    except Exception as exc:  # noqa: BLE001 - any other exception is a linter bug
        problems.append(f"check() raised {_error_text(exc)}")
        return Outcome(problems, tags + ["linter-raised"])
    else:
        lint_error = None
    problems += fm.differences(before, fm.snapshot(model))
    problems += fm.global_differences(globals_before, fm.global_state())

    plain = eager(model, x)
    tags.append("eager-raises" if plain.error is not None else "eager-runs")
    # Eager turns an output size of exactly 0 in every dim into an empty tensor without raising.
    empty = sorted(name for name, shape in plain.outs.items() if 0 in shape[2:])
    if empty:
        tags.append("eager-empty")
    planted = spec.illegal
    # oneDNN's grouped transposed convolution skips the dilation check: with a kernel of 1 or an
    # input of 1 eager CPU runs dilation=0 (other groups, kernels and devices raise). The linter
    # reports CS203 by the documented rule; that is not counted as a disagreement.
    lenient = planted is not None and planted.kind == "zero_dilation" and planted.target.startswith("ups.") and (
        model.get_submodule(planted.target).groups > 1
    )
    if planted is not None:
        tags.append(f"illegal:{planted.kind}")
        if plain.error is None and lenient:
            tags.append("eager-accepts-zero-dilation")
        elif plain.error is None and not empty:
            problems.append(f"harness: planted {planted.kind} but eager ran")

    if report is None:
        tags.append("InputError")
        if plain.error is None:
            problems.append(f"check() raised InputError but eager runs: {lint_error}")
        return Outcome(problems, tags)

    codes = {f.code for f in report.findings}
    tags += sorted(codes)
    try:
        str(report)
        json.dumps(report.to_dict())
    except Exception as exc:  # noqa: BLE001
        problems.append(f"rendering the report raised {_error_text(exc)}")

    # 1. shapes: raw meta trace vs plain eager
    raw = tracing.run(model, (torch.empty(spec.input_shape, device="meta"),), {}, device="meta")
    problems += _compare_events(raw.result.events, plain, "raw trace")

    # 1b. report events and findings vs eager with the same virtual fixes
    forced = {e.name: _spatial(e.forced_shape, n) for e in report.events if e.module and e.forced_shape is not None}
    fixed_world = eager(model, x, forced)
    problems += _compare_events(report.events, fixed_world, "report")
    for f in report.findings:
        if f.code not in SHAPE_CODES or f.up is None or f.down is None:
            continue
        got_in = _spatial(fixed_world.ins.get(f.down), n)
        got_out = _spatial(fixed_world.outs.get(f.up), n)
        if got_out is None and f.up in plain.outs and plain.ins.get(f.up) == fixed_world.ins.get(f.up):
            got_out = _spatial(plain.outs[f.up], n)
        if got_in is not None and tuple(f.expected or ()) != got_in:
            problems.append(f"{f.code} {f.up}: expected {f.expected}, eager input of {f.down} is {got_in}")
        if got_out is not None and tuple(f.actual or ()) != got_out:
            problems.append(f"{f.code} {f.up}: actual {f.actual}, eager output is {got_out}")

    # 2. pairing (a planted stride of 0 can turn an up into a plain layer: not checked then)
    paired = {p.up: p.down for p in report.pairs}
    for down, up in spec.pairs() if planted is None or not planted.target else ():
        if up in paired and paired[up] != down:
            problems.append(f"pairing: {up} paired with {paired[up]}, built to mirror {down}")
        elif up not in paired and (planted is None or plain.where != up):
            if plain.error is None:
                problems.append(f"pairing: {up} ran in eager but is not paired")

    # 3. verdict
    if plain.error is not None:
        if report.ok:
            problems.append(f"eager raises in {plain.where or 'the model'} ({_error_text(plain.error)}) but the report has no error")
        rule = fm.ILLEGAL_KINDS.get(planted.kind) if planted else None
        at_planted = planted is not None and (plain.where or "").startswith(planted.target or "head")
        where = planted.target or "head" if planted else ""
        # when the meta device rejects the layer too, "the forward pass raised" there (CS903) is right
        meta_rejects = any(f.code == "CS903" and (f.layer or "").startswith(where) for f in report.findings)
        if rule is not None and at_planted and not meta_rejects and rule not in codes:
            problems.append(f"planted {planted.kind} ({where}): expected {rule}, got {sorted(codes)}")
        if at_planted:
            tags.append(f"caught:{planted.kind}:{rule if rule in codes else 'CS903' if meta_rejects else 'other'}")
    elif empty:
        if report.ok:
            problems.append(f"eager gives an empty output in {empty[0]} but the report has no error")
        if "CS204" not in codes:
            tags.append("empty-not-CS204")
    elif lenient:
        if "CS203" not in codes:
            problems.append(f"zero dilation on {planted.target}: expected CS203, got {sorted(codes)}")  # type: ignore[union-attr]
    elif all(_round_trip(plain, d, u, n) for d, u in spec.pairs()):
        tags.append("clean")
        bad = [f"{f.code} {f.up or f.layer}" for f in report.findings if f.severity == "error" or f.code in HIDDEN_CODES]
        if bad:
            problems.append(f"eager runs and every pair round-trips, but the report says {bad}")
    # Per pair, in the world where the linter's fixes of other layers are applied (a deeper
    # mismatch changes what every shallower up receives): a pair that does not round-trip
    # needs a finding on its up.
    for down, up in spec.pairs():
        if empty or _round_trip(fixed_world, down, up, n) is not False:
            continue
        named = [f for f in report.findings if f.up == up and f.severity in ("error", "warning")]
        if not named:
            problems.append(f"{up} does not restore the input size of {down} in eager, but no finding names it")
        elif spec.topology == "chain" and not any(f.severity == "error" for f in named):
            problems.append(f"{up} does not restore its size (nothing hides it), but only {[f.code for f in named]}")

    # 4. fixes round-trip
    fixes = [f for f in report.findings if f.fix is not None]
    if fixes and (planted is None or planted.kind == "output_padding_too_big"):
        tags.append("fixed")
        fixed = copy.deepcopy(model)
        for f in fixes:
            _verify.set_output_padding(fixed, f.fix.layer, f.fix.output_padding)
        virtual = {
            f.up: tuple(f.expected)
            for f in report.findings
            if f.fix is None and f.up is not None and f.expected is not None and f.code in SHAPE_CODES
        }
        after = eager(fixed, x, virtual)
        if after.error is not None and "invalid output_size" in str(after.error):
            pass  # MaxUnpool's output_size= suggestion, checked below
        elif after.error is not None:
            problems.append(f"the fixed model raises in eager in {after.where}: {_error_text(after.error)}")
        else:
            for f in fixes:
                if f.down is None:
                    continue
                a, b = _spatial(after.ins.get(f.down), n), _spatial(after.outs.get(f.up), n)
                if a != b:
                    problems.append(f"{f.code} fix output_padding={f.fix.output_padding} on {f.up}: eager gives {b}, {f.down} took {a}")
            relint = check(fixed, input_size=spec.input_shape)
            still = [f"{g.code} {g.up}" for g in relint.findings if g.severity == "error" and g.up in {f.up for f in fixes}]
            if still:
                problems.append(f"after applying the fixes the linter still reports {still}")
    for f in report.findings:
        if f.code in SHAPE_CODES and f.up is not None and isinstance(_module(model, f.up), nn.modules.pooling._MaxUnpoolNd):
            ev = next((e for e in report.events if e.name == f.up), None)
            if ev is not None and "pass output_size=" in f.message and not _unpool_output_size_accepted(model, f, ev.in_shapes[0]):
                problems.append(f"{f.code} on {f.up} suggests output_size= for {f.expected}, eager rejects it")
        if f.code == "CS102" and f.up is not None:
            ev = next((e for e in report.events if e.name == f.up), None)
            if ev is not None and not _cs102_confirmed(model, f, tuple(ev.in_shapes[0])):
                problems.append(f"CS102 on {f.up}: a legal output_padding does reach {f.expected} in eager")
    return Outcome(problems, tags)


# --------------------------------------------------------------------------- short run


# Always run first: one model per feature the random draws of a short run may miss.
EXAMPLES = [
    ModelSpec(ndim=2, topology="unet", merge="cat", channels=2, in_channels=1, stem=True, batch=1, size=(16, 16),
              levels=((DownSpec("conv", (3, 3), (2, 2), (1, 1), (1, 1)), UpSpec("convT", (3, 3), (2, 2), (1, 1), (1, 1), (1, 1))),
                      (DownSpec("max", (2, 2), (2, 2), (0, 0), (1, 1)), UpSpec("shuffle", factor=2)))),
    ModelSpec(ndim=3, topology="unet", merge="add", channels=2, in_channels=2, stem=False, batch=1, size=(9, 8, 8),
              levels=((DownSpec("conv", (3, 3, 3), (2, 2, 2), (1, 1, 1), (1, 1, 1), 2), UpSpec("convT", (3, 3, 3), (2, 2, 2), (1, 1, 1), (1, 1, 1), (0, 0, 0), 2)),)),
    ModelSpec(ndim=1, topology="chain", merge="cat", channels=1, in_channels=1, stem=False, batch=2, size=(21,),
              levels=((DownSpec("avg", (2,), (2,), (0,), (1,), 1, True), UpSpec("upsample", scale=(2.0,), mode="linear")),
                      (DownSpec("conv", (4,), (3,), (1,), (2,)), UpSpec("convT", (4,), (3,), (1,), (2,), (0,))))),
    ModelSpec(ndim=2, topology="unet", merge="crop", channels=3, in_channels=3, stem=False, batch=1, size=(15, 20),
              levels=((DownSpec("conv", (5, 5), (2, 2), (0, 0), (1, 1), 3), UpSpec("convT", (5, 5), (2, 2), (0, 0), (1, 1), (0, 0), 1)),)),
    ModelSpec(ndim=2, topology="unet", merge="pad", channels=2, in_channels=2, stem=False, batch=1, size=(13, 12),
              levels=((DownSpec("max", (3, 3), (2, 2), (1, 1), (1, 1), 1, True), UpSpec("unpool")),
                      (DownSpec("conv", (3, 1), (2, 1), (1, 0), (1, 1)), UpSpec("upsample", scale=(2.0, 1.0), mode="bicubic")))),
    ModelSpec(ndim=2, topology="unet", merge="interp", channels=2, in_channels=1, stem=True, batch=1, size=(14, 11),
              levels=((DownSpec("conv", (3, 3), (2, 2), (1, 1), (1, 1)), UpSpec("convT", (2, 2), (2, 2), (0, 0), (1, 1), (0, 0))),)),
    ModelSpec(ndim=2, topology="chain", merge="cat", channels=2, in_channels=2, stem=False, batch=1, size=(12, 11),
              levels=((DownSpec("conv", (3, 3), (2, 2), (1, 1), (1, 1)), UpSpec("convT", (3, 3), (2, 2), (1, 1), (1, 1), (1, 0))),),
              illegal=Illegal("output_padding_too_big", "ups.0", 1, 2)),
]


def _with_examples(test: Any) -> Any:
    for spec in reversed(EXAMPLES):
        test = example(spec)(test)
    return test


@SHORT
@given(fm.model_specs())
@_with_examples
def test_fuzz_linter_agrees_with_eager_torch(spec: ModelSpec) -> None:
    outcome = disagreements(spec)
    problems = [p for p in outcome.problems if not p.startswith(KNOWN)]
    assert not problems, f"{spec!r}\n" + "\n".join(problems)


# Meta-accepted, eager-rejected parameters: one fixed model per kind, each must be caught.
_BASE = ModelSpec(
    ndim=2, topology="chain", merge="cat", channels=2, in_channels=2, stem=False, batch=1, size=(12, 10),
    levels=((DownSpec("conv", (3, 3), (2, 2), (1, 1), (1, 1)), UpSpec("convT", (3, 3), (2, 2), (1, 1), (1, 1), (1, 1))),),
)
_PLANTED = {
    "output_padding_too_big": Illegal("output_padding_too_big", "ups.0", 1, 2),
    "negative_padding": Illegal("negative_padding", "downs.0", 0, -1),
    "negative_output_padding": Illegal("negative_output_padding", "ups.0", 1, -1),
    "zero_stride_transpose": Illegal("zero_stride_transpose", "ups.0", 0, 0),
    "zero_stride_conv": Illegal("zero_stride_conv", "downs.0", 0, 0),
    "zero_dilation": Illegal("zero_dilation", "ups.0", 1, 0),
    "zero_kernel": Illegal("zero_kernel", "downs.0", 1, 0),
    "wrong_bias_size": Illegal("wrong_bias_size", "ups.0", 0, 1),
    "groups_out_channels": Illegal("groups_out_channels"),
    "groups_in_channels": Illegal("groups_in_channels"),
    "transpose_in_channels": Illegal("transpose_in_channels", "", 0, 1),
    "transpose_empty_dim": Illegal("transpose_empty_dim", "", 1, 0),
    "interpolate_empty_dim": Illegal("interpolate_empty_dim", "", 0, 0),
}


def test_every_illegal_kind_has_a_planted_case() -> None:
    assert set(_PLANTED) == set(fm.ILLEGAL_KINDS)


@pytest.mark.parametrize("kind", sorted(_PLANTED))
def test_meta_accepted_illegal_parameter_is_caught(kind: str) -> None:
    spec = ModelSpec(**{**_BASE.__dict__, "illegal": _PLANTED[kind]})
    outcome = disagreements(spec)
    assert "eager-raises" in outcome.tags, "the planted parameter must make eager torch raise"
    assert not outcome.problems, f"{spec!r}\n" + "\n".join(outcome.problems)


def test_max_unpool_with_out_of_range_indices_is_caught() -> None:
    """An odd pool input without output_size: eager MaxUnpool raises 'Found an invalid max
    index' depending on the data; the linter reports the size mismatch (CS103) either way."""
    spec = ModelSpec(
        ndim=2, topology="chain", merge="cat", channels=1, in_channels=1, stem=False, batch=1, size=(7, 7),
        levels=((DownSpec("max", (2, 2), (2, 2), (0, 0), (1, 1)), UpSpec("unpool")),),
    )
    outcome = disagreements(spec)
    assert not outcome.problems, "\n".join(outcome.problems)
    assert "CS103" in outcome.tags


# Bugs the fuzzer found in checks.py, each with its minimal repro (fixed; kept as regression tests).


def _dilated_unpool_unet() -> nn.Module:
    """MaxPool1d(3, stride=2, dilation=2) takes 12 to 4; MaxUnpool1d(3, stride=2) gives back 9
    (and accepts output_size only in 8..10), a crop then hides 9 vs 12 from the cat."""
    spec = ModelSpec(
        ndim=1, topology="unet", merge="crop", channels=1, in_channels=1, stem=False, batch=1, size=(12,),
        levels=((DownSpec("max", (3,), (2,), (0,), (2,)), UpSpec("unpool")),),
    )
    return fm.build(spec).eval()


def test_hidden_max_unpool_mismatch_that_can_raise_is_an_error() -> None:
    model = _dilated_unpool_unet()
    ramp = torch.arange(12.0).reshape(1, 1, 12)  # every window's max is its last element: index 10 of 9
    with pytest.raises(RuntimeError, match="invalid max index"), torch.no_grad():
        model(ramp)
    report = check(model, input_size=(1, 1, 12))
    assert not report.ok, report


def test_max_unpool_output_size_suggestion_is_accepted_by_eager() -> None:
    model = _dilated_unpool_unet()
    model.spec = dataclasses.replace(model.spec, topology="chain")  # no crop: a plain CS103
    report = check(model, input_size=(1, 1, 12))
    (f,) = [f for f in report.findings if f.code == "CS103"]
    assert "no output_size= can give 12: ups.0 accepts only L 8..10" in f.message
    if "pass output_size=" in f.message:
        with torch.no_grad():
            model.ups[0](torch.zeros(1, 1, 4), torch.zeros(1, 1, 4, dtype=torch.long), output_size=f.expected)


def test_layer_after_an_empty_output_does_not_crash_the_linter() -> None:
    model = nn.Sequential(nn.Upsample(scale_factor=(0.01, 1.0), mode="bilinear"), nn.ConvTranspose2d(1, 1, 3, stride=2))
    report = check(model, input_size=(1, 1, 16, 16))
    assert "CS204" in {f.code for f in report.findings}


# --------------------------------------------------------------------------- long run

SHARDS = 2


@pytest.mark.parametrize("shard", range(SHARDS))
def test_fuzz_long(request: pytest.FixtureRequest, shard: int) -> None:
    if not request.config.getoption("fuzz_long"):
        pytest.skip("long fuzz run: pass --fuzz-long")
    total = request.config.getoption("fuzz_examples")
    base_seed = request.config.getoption("fuzz_seed")
    count = total // SHARDS + (1 if shard < total % SHARDS else 0)
    stats: collections.Counter[str] = collections.Counter()
    failures: list[dict[str, Any]] = []
    started = time.perf_counter()

    @seed(base_seed * SHARDS + shard)
    @settings(max_examples=count, deadline=None, database=None, derandomize=False, phases=[Phase.generate],
              suppress_health_check=_HEALTH)
    @given(fm.model_specs())
    def run(spec: ModelSpec) -> None:
        stats["models"] += 1
        outcome = disagreements(spec)
        stats.update(outcome.tags)
        known = sorted({p.split(":")[1] for p in outcome.problems if p.startswith(KNOWN)})
        stats.update(f"known:{k}" for k in known)
        problems = [p for p in outcome.problems if not p.startswith(KNOWN)]
        if problems:
            stats["disagreeing models"] += 1
            failures.append({"spec": repr(spec), "problems": problems})

    run()
    summary = {
        "shard": shard,
        "seed": base_seed * SHARDS + shard,
        "models": stats["models"],
        "seconds": round(time.perf_counter() - started, 1),
        "disagreeing_models": len(failures),
        "torch": torch.__version__,
        "tags": dict(sorted(stats.items())),
        "failures": failures,
    }
    folder = request.config.cache.mkdir("convshape-fuzz")
    (folder / f"shard-{shard}.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "failures"}, indent=1))
    assert not failures, f"{len(failures)} of {stats['models']} models disagree; first:\n{failures[0]['spec']}\n" + "\n".join(failures[0]["problems"])
