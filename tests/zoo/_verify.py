"""Check the model zoo's expected findings against eager CPU PyTorch, the oracle.

Run ``python tests/zoo/_verify.py`` (optionally with zoo names) or import the helpers:

* ``apply_fixes(model, expected) -> model``: set every ``output_padding`` fix listed in a zoo
  file's ``EXPECTED`` on the model (in place) and return it.
* ``pair_shapes(model, input_size, pairs) -> dict``: one eager forward with hooks; for each
  ``(down, up[, evidence])`` the spatial size entering the downsampler, the spatial size leaving
  the upsampler, and whether they round-trip.
* ``load_zoo()``, ``verify_model(zoo_module)``: what the script runs for each zoo file.

Zoo file contract (beyond the one the linter's tests read: docstring, ``INPUT``, ``build()``,
``EXPECTED``, ``PAIRS``, optional ``CONFIG_PAIRS``), two optional names used only here:

* ``PROBES``: ``{functional_name: (module_name, "input" | "output")}``. Functional layers cannot
  be hooked (nothing is monkeypatched), so a zoo model may route the tensor that is a functional
  downsampler's input, or a functional upsampler's output, through a named module; the probe
  reads it there. Functional names without a probe get their shape checks skipped, and the
  report says so.
* ``example_input()``: the eager input tensor (default: seeded ``torch.randn(INPUT)``).

A module that calls ``F.conv_transpose*`` keeps the call's ``output_padding`` in a dict
``functional_output_padding`` keyed by the call's name suffix (``"F.conv_transpose2d"``,
``"F.conv_transpose2d#2"``); ``apply_fixes`` sets the fix there.

Checks, per zoo file, all in eager CPU torch with forward hooks:

1. the file's shape: names resolve, codes and keys are valid, output_padding fixes are legal;
2. the fixed model (every output_padding fix applied; findings without such a fix virtually
   fixed by a hook that resizes the layer's output to the expected size, or passes output_size to
   MaxUnpool) runs, and every pair round-trips;
3. for each finding, the model with every *other* fix applied gives "actual" at the up layer
   and "expected" at the partner's input (for CS201 eager must raise at that layer; "actual"
   is derived from the fixed run: the meta device would add the illegal output_padding);
   CS102: no legal output_padding reaches "expected"; CS301/302/303: the unfixed model runs in
   eager (the mismatch is hidden); CS202: the eager forward raises in that layer;
4. mirror pairing (LIFO over module resamplers in forward order, after explicit pairs and the
   skip pairs listed in PAIRS) agrees with PAIRS and with every finding's "down"; models with
   functional resamplers skip this check (the calls cannot be seen without patching).
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import itertools
import re
import sys
import time
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules import conv as _conv
from torch.nn.modules import pooling as _pooling
from torch.utils._pytree import tree_flatten

ZOO_DIR = Path(__file__).resolve().parent

CODES = {"CS101", "CS102", "CS103", "CS201", "CS202", "CS301", "CS302", "CS303"}
OP_CODES = {"CS101", "CS201"}  # must carry an output_padding fix
HIDDEN_CODES = {"CS301", "CS302", "CS303"}  # output_padding optional (ConvTranspose only)
NO_OP_CODES = {"CS102", "CS103", "CS202"}  # output_padding must be None
EVIDENCE = {"explicit", "skip", "mirror"}
# Source sanity check only (eager hooks cannot see a crop, pad or resize): the hider must appear.
HIDER_TOKENS = {"CS301": "[...", "CS302": "F.pad(", "CS303": "interpolate("}
FINDING_KEYS = {"code", "up", "down", "expected", "actual", "output_padding"}

_FUNCTIONAL = re.compile(r"^(?:(?P<owner>[A-Za-z_][\w.]*):)?(?P<fn>F\.\w+(?:#\d+)?)$")


# --------------------------------------------------------------------------- names


def split_functional(name: str) -> tuple[str, str] | None:
    """``"decoder:F.conv_transpose2d#2"`` -> ``("decoder", "F.conv_transpose2d#2")``; None for modules."""
    m = _FUNCTIONAL.match(name)
    if m is None:
        return None
    return m.group("owner") or "", m.group("fn")


def _fn_base(fn: str) -> str:
    return fn.split("#", 1)[0][2:]  # "F.conv_transpose2d#2" -> "conv_transpose2d"


def resolve(model: nn.Module, name: str) -> nn.Module:
    """The module a layer name refers to (for functional names: the module that makes the call)."""
    split = split_functional(name)
    return model.get_submodule(split[0] if split else name)


# --------------------------------------------------------------------------- layer kinds


def _tuple(v: Any, n: int) -> tuple[int, ...]:
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def is_upsampler(m: nn.Module) -> bool:
    if isinstance(m, _conv._ConvTransposeNd):
        return any(s > 1 for s in m.stride)
    if isinstance(m, nn.Upsample):
        return m.size is None and m.scale_factor is not None and any(
            float(s) > 1 for s in _tuple(m.scale_factor, 1)
        )
    return isinstance(m, (nn.PixelShuffle, _pooling._MaxUnpoolNd))


def is_downsampler(m: nn.Module) -> bool:
    if isinstance(m, _conv._ConvTransposeNd):
        return False
    if isinstance(m, _conv._ConvNd):
        return any(s > 1 for s in m.stride)
    if isinstance(m, (_pooling._MaxPoolNd, _pooling._AvgPoolNd)):
        stride = m.stride if m.stride is not None else m.kernel_size
        return any(s > 1 for s in _tuple(stride, 1))
    return isinstance(m, nn.PixelUnshuffle)


def _is_resize_up(m: nn.Module) -> bool:
    return isinstance(m, (nn.Upsample, nn.PixelShuffle, _pooling._MaxUnpoolNd))


def legal_output_padding_limits(m: nn.Module) -> tuple[int, ...]:
    """Per dim, the exclusive upper bound max(stride, dilation) of a legal output_padding."""
    return tuple(max(s, d) for s, d in zip(m.stride, m.dilation))


# --------------------------------------------------------------------------- fixes


def set_output_padding(model: nn.Module, up: str, op: Sequence[int]) -> None:
    value = tuple(int(v) for v in op)
    split = split_functional(up)
    if split is not None:
        owner = model.get_submodule(split[0])
        table = getattr(owner, "functional_output_padding", None)
        if not isinstance(table, dict) or split[1] not in table:
            raise LookupError(
                f"{up}: module {split[0] or '<root>'!r} has no functional_output_padding[{split[1]!r}] to set"
            )
        table[split[1]] = value
        return
    m = model.get_submodule(up)
    if not isinstance(m, _conv._ConvTransposeNd):
        raise TypeError(f"{up}: output_padding fix on a {type(m).__name__}, not a ConvTranspose")
    if len(value) != len(m.stride):
        raise ValueError(f"{up}: output_padding {value} has {len(value)} dims, layer has {len(m.stride)}")
    m.output_padding = value


def apply_fixes(model: nn.Module, expected: Iterable[Mapping[str, Any]]) -> nn.Module:
    """Set every ``output_padding`` fix of ``expected`` on ``model`` (in place); return ``model``.

    Findings without an output_padding (CS102, CS103, CS202, hidden resizes) are left alone.
    """
    for f in expected:
        if f.get("up") is not None and f.get("output_padding") is not None:
            set_output_padding(model, f["up"], f["output_padding"])
    return model


def _resize_to(t: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    pad: list[int] = []
    for have, want in reversed(list(zip(t.shape[2:], size))):
        pad += [0, want - have]  # negative pads crop
    return F.pad(t, pad)


@contextlib.contextmanager
def virtual_fixes(model: nn.Module, findings: Iterable[Mapping[str, Any]]) -> Iterator[None]:
    """Make each listed module upsampler give its "expected" size (what the linter assumes after
    reporting it): MaxUnpool gets ``output_size=``, any other module's output is padded/cropped
    at the end of each spatial dim. Register after recording hooks so those see the raw output."""
    handles = []
    try:
        for f in findings:
            up, exp = f.get("up"), f.get("expected")
            if up is None or exp is None:
                continue
            if split_functional(up) is not None:
                raise LookupError(f"{up}: cannot virtually fix a functional layer in eager")
            m = model.get_submodule(up)
            size = tuple(exp)
            if isinstance(m, _pooling._MaxUnpoolNd):

                def pre(mod, args, kwargs, size=size):
                    args = tuple(args)
                    if len(args) >= 3:
                        args = args[:2] + (size,) + args[3:]
                    else:
                        kwargs = {**kwargs, "output_size": size}
                    return args, kwargs

                handles.append(m.register_forward_pre_hook(pre, with_kwargs=True))
            else:

                def post(mod, args, out, size=size):
                    if isinstance(out, tuple):
                        return (_resize_to(out[0], size),) + out[1:]
                    return _resize_to(out, size)

                handles.append(m.register_forward_hook(post))
        yield
    finally:
        for h in handles:
            h.remove()


# --------------------------------------------------------------------------- recording


def _first_tensor(obj: Any) -> torch.Tensor | None:
    if isinstance(obj, torch.Tensor):
        return obj
    if isinstance(obj, (tuple, list)) and obj and isinstance(obj[0], torch.Tensor):
        return obj[0]
    return None


def _spatial(t: torch.Tensor | None) -> tuple[int, ...] | None:
    return None if t is None else tuple(int(s) for s in t.shape[2:])


@dataclass
class Recording:
    """Spatial sizes seen in one eager forward."""

    inputs: dict[str, tuple[int, ...]] = field(default_factory=dict)
    outputs: dict[str, tuple[int, ...]] = field(default_factory=dict)
    probed: dict[str, tuple[int, ...]] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    entered: list[str] = field(default_factory=list)  # resampler / watched modules, forward order
    error: BaseException | None = None
    result_shapes: list[tuple[int, ...]] | None = None  # shapes of the model's output tensors

    def down_in(self, name: str) -> tuple[int, ...] | None:
        return self.probed.get(name) if split_functional(name) else self.inputs.get(name)

    def up_out(self, name: str) -> tuple[int, ...] | None:
        return self.probed.get(name) if split_functional(name) else self.outputs.get(name)


@contextlib.contextmanager
def record(
    model: nn.Module,
    names: Iterable[str],
    probes: Mapping[str, tuple[str, str]] | None = None,
    *,
    resamplers: bool = False,
) -> Iterator[Recording]:
    """Hook ``names`` (module names; functional names through ``probes``), and with
    ``resamplers`` every module up/downsampler, for one forward; yield the Recording."""
    rec = Recording()
    handles = []
    watched: dict[str, nn.Module] = {}
    for name in names:
        if split_functional(name) is None:
            watched[name] = model.get_submodule(name)
    if resamplers:
        for name, m in model.named_modules():
            if is_upsampler(m) or is_downsampler(m):
                watched.setdefault(name, m)

    def make_pre(name: str):
        def pre(mod, args):
            rec.calls[name] = rec.calls.get(name, 0) + 1
            rec.entered.append(name)
            if rec.calls[name] == 1:
                rec.inputs[name] = _spatial(_first_tensor(args))

        return pre

    def make_post(name: str):
        def post(mod, args, out):
            if rec.calls.get(name, 0) == 1 and name not in rec.outputs:
                rec.outputs[name] = _spatial(_first_tensor(out))

        return post

    def make_probe(fname: str, where: str):
        if where == "input":

            def probe_pre(mod, args):
                rec.probed.setdefault(fname, _spatial(_first_tensor(args)))

            return probe_pre, None

        def probe_post(mod, args, out):
            rec.probed.setdefault(fname, _spatial(_first_tensor(out)))

        return None, probe_post

    try:
        for name, m in watched.items():
            handles.append(m.register_forward_pre_hook(make_pre(name)))
            handles.append(m.register_forward_hook(make_post(name)))
        for fname, (mname, where) in (probes or {}).items():
            if where not in ("input", "output"):
                raise ValueError(f"PROBES[{fname!r}]: where must be 'input' or 'output', not {where!r}")
            pre, post = make_probe(fname, where)
            m = model.get_submodule(mname)
            handles.append(m.register_forward_pre_hook(pre) if pre else m.register_forward_hook(post))
        yield rec
    finally:
        for h in handles:
            h.remove()


def default_input(input_size: Sequence[int]) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randn(tuple(input_size), generator=g)


def run(model: nn.Module, x: torch.Tensor, rec: Recording, allow_error: bool) -> Any:
    """Eager forward in eval mode under no_grad; training flags restored afterwards."""
    flags = {m: m.training for m in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            out = model(x)
        rec.result_shapes = [tuple(t.shape) for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)]
        return out
    except Exception as exc:  # noqa: BLE001 - recorded, re-raised unless allowed
        rec.error = exc
        if not allow_error:
            raise
        return None
    finally:
        for m, t in flags.items():
            m.training = t


def pair_shapes(
    model: nn.Module,
    input_size: Sequence[int],
    pairs: Iterable[Sequence[str]],
    *,
    probes: Mapping[str, tuple[str, str]] | None = None,
    example: torch.Tensor | None = None,
    allow_error: bool = False,
) -> dict[tuple[str, str], dict[str, Any]]:
    """One eager forward; for each ``(down, up[, evidence])`` return
    ``{"down_in": tuple | None, "up_out": tuple | None, "round_trip": bool | None}``.

    Sizes are spatial (``shape[2:]``). A functional name needs a ``probes`` entry, else its size
    is None. With ``allow_error`` a failing forward keeps what was recorded before the failure.
    """
    pairs = [(p[0], p[1]) for p in pairs]
    names = {n for p in pairs for n in p}
    x = example if example is not None else default_input(input_size)
    with record(model, names, probes) as rec:
        run(model, x, rec, allow_error)
    result: dict[tuple[str, str], dict[str, Any]] = {}
    for down, up in pairs:
        d, u = rec.down_in(down), rec.up_out(up)
        result[(down, up)] = {
            "down_in": d,
            "up_out": u,
            "round_trip": None if d is None or u is None else d == u,
        }
    return result


# --------------------------------------------------------------------------- pairing cross-check


def mirror_pairs(
    order: Sequence[str], model: nn.Module, ndims: Mapping[str, int], taken: Iterable[str]
) -> list[tuple[str, str]]:
    """LIFO matching of module resamplers in forward order, skipping names in ``taken``."""
    taken = set(taken)
    stack: list[str] = []
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name in order:
        if name in seen or name in taken:
            continue
        seen.add(name)
        m = model.get_submodule(name)
        if is_downsampler(m):
            stack.append(name)
        elif is_upsampler(m):
            for i in range(len(stack) - 1, -1, -1):
                if ndims.get(stack[i]) == ndims.get(name):
                    out.append((stack.pop(i), name))
                    break
    return out


# --------------------------------------------------------------------------- zoo


def zoo_names() -> list[str]:
    return sorted(p.stem for p in ZOO_DIR.glob("*.py") if not p.stem.startswith("_"))


def load(name: str) -> types.ModuleType:
    path = ZOO_DIR / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"convshape_zoo_{name}", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_zoo(names: Iterable[str] | None = None) -> list[types.ModuleType]:
    return [load(n) for n in (names if names is not None else zoo_names())]


@dataclass
class Result:
    name: str
    codes: list[str]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _example(zoo: types.ModuleType) -> torch.Tensor:
    fn = getattr(zoo, "example_input", None)
    return fn() if fn is not None else default_input(zoo.INPUT)


def _lst(v: Any) -> list[int] | None:
    return None if v is None else [int(i) for i in v]


def _check_static(zoo: types.ModuleType, res: Result) -> None:
    p = res.problems
    if not (zoo.__doc__ or "").strip():
        p.append("missing module docstring")
    inp = getattr(zoo, "INPUT", None)
    if not (isinstance(inp, tuple) and len(inp) >= 3 and all(isinstance(i, int) and i > 0 for i in inp)):
        p.append(f"INPUT must be a tuple of positive ints (N, C, *spatial), got {inp!r}")
    build = getattr(zoo, "build", None)
    if not callable(build):
        p.append("missing build()")
        return
    a, b = build(), build()
    if not isinstance(a, nn.Module) or a is b:
        p.append("build() must return a fresh nn.Module each call")
        return
    expected = getattr(zoo, "EXPECTED", None)
    pairs = getattr(zoo, "PAIRS", None)
    config = getattr(zoo, "CONFIG_PAIRS", None)
    if not isinstance(expected, list) or not isinstance(pairs, list):
        p.append("EXPECTED and PAIRS must be lists")
        return
    nd = len(inp) - 2 if isinstance(inp, tuple) else None

    def check_name(where: str, name: str) -> None:
        try:
            resolve(a, name)
        except AttributeError as exc:
            p.append(f"{where}: {name!r} does not resolve ({exc})")

    ups: set[str] = set()
    downs: set[str] = set()
    for i, pr in enumerate(pairs):
        if not (isinstance(pr, tuple) and len(pr) == 3 and pr[2] in EVIDENCE):
            p.append(f"PAIRS[{i}] must be (down, up, evidence in {sorted(EVIDENCE)}), got {pr!r}")
            continue
        check_name(f"PAIRS[{i}]", pr[0])
        check_name(f"PAIRS[{i}]", pr[1])
        if pr[1] in ups or pr[0] in downs:
            p.append(f"PAIRS[{i}]: {pr[0]!r} or {pr[1]!r} is in two pairs")
        ups.add(pr[1])
        downs.add(pr[0])
    explicit = {(d, u) for d, u, e in pairs if e == "explicit"}
    if config is not None or explicit:
        if {tuple(c) for c in (config or [])} != explicit:
            p.append("the 'explicit' PAIRS must be exactly CONFIG_PAIRS")
    by_up = {u: d for d, u, _ in pairs}

    seen_ups: set[str] = set()
    for i, f in enumerate(expected):
        where = f"EXPECTED[{i}]"
        if not isinstance(f, dict):
            p.append(f"{where}: not a dict")
            continue
        code = f.get("code")
        keys = FINDING_KEYS | ({"layer"} if code == "CS202" else set())
        if set(f) != keys:
            p.append(f"{where}: keys {sorted(f)} != {sorted(keys)}")
            continue
        if code not in CODES:
            p.append(f"{where}: unknown code {code!r}")
            continue
        up, down, op = f["up"], f["down"], f["output_padding"]
        if code == "CS202":
            check_name(where, f["layer"])
            if any(f[k] is not None for k in ("up", "down", "expected", "actual", "output_padding")):
                p.append(f"{where}: CS202 takes only 'layer'; up/down/expected/actual/output_padding are None")
            continue
        if up is None:
            p.append(f"{where}: 'up' is required for {code}")
            continue
        check_name(where, up)
        if up in seen_ups:
            p.append(f"{where}: {up!r} has two findings")
        seen_ups.add(up)
        if down is not None:
            check_name(where, down)
            if up in by_up and by_up[up] != down:
                p.append(f"{where}: down {down!r} but PAIRS pairs {up!r} with {by_up[up]!r}")
        elif code != "CS201":
            p.append(f"{where}: {code} needs a partner 'down'")
        for k in ("expected", "actual"):
            v = f[k]
            if v is None:
                if down is not None:
                    p.append(f"{where}: {k!r} is None although the layer is paired")
            elif not (isinstance(v, list) and len(v) == nd and all(isinstance(i, int) for i in v)):
                p.append(f"{where}: {k!r} must be a list of {nd} ints, got {v!r}")
        if f["expected"] is not None and f["expected"] == f["actual"]:
            p.append(f"{where}: expected == actual, that is no mismatch")
        if code in OP_CODES and op is None:
            p.append(f"{where}: {code} needs an output_padding fix")
        if code in NO_OP_CODES and op is not None:
            p.append(f"{where}: {code} takes output_padding None")
        split = split_functional(up)
        base = _fn_base(split[1]) if split else None
        m = resolve(a, up)
        is_ct = base.startswith("conv_transpose") if split else isinstance(m, _conv._ConvTransposeNd)
        if code in {"CS101", "CS102", "CS201"} and not is_ct:
            p.append(f"{where}: {code} is for ConvTranspose layers, {up!r} is not one")
        if code == "CS103":
            ok = base in {"interpolate", "upsample", "pixel_shuffle"} or (base or "").startswith("max_unpool")
            if not (ok if split else _is_resize_up(m)):
                p.append(f"{where}: CS103 is for Upsample/PixelShuffle/MaxUnpool, {up!r} is not one")
        if op is not None:
            if not is_ct:
                p.append(f"{where}: output_padding given for a layer that is not a ConvTranspose")
            elif not (isinstance(op, list) and len(op) == nd and all(isinstance(i, int) for i in op)):
                p.append(f"{where}: output_padding must be a list of {nd} ints, got {op!r}")
            elif split is None:
                lim = legal_output_padding_limits(m)
                if not all(0 <= v < hi for v, hi in zip(op, lim)):
                    p.append(f"{where}: fix {op} is not legal (each < max(stride, dilation) = {list(lim)})")
                cur = list(m.output_padding)
                if cur == op:
                    p.append(f"{where}: fix {op} equals the layer's current output_padding")
                if code == "CS201" and all(v < hi for v, hi in zip(cur, lim)):
                    p.append(f"{where}: CS201 but current output_padding {cur} is legal")
                if code == "CS101" and not all(v < hi for v, hi in zip(cur, lim)):
                    p.append(f"{where}: current output_padding {cur} is illegal: that is CS201")
            else:
                res.notes.append(f"{up}: legality of fix {op} not checked statically (functional call)")


def _finding_pairs(expected: list[dict]) -> list[tuple[str, str]]:
    return [(f["down"], f["up"]) for f in expected if f.get("up") and f.get("down")]


def _unfixable(expected: list[dict]) -> list[dict]:
    return [f for f in expected if f.get("up") and f.get("output_padding") is None and f["code"] != "CS202"]


def _prepared(zoo: types.ModuleType, fixes: list[dict]) -> nn.Module:
    return apply_fixes(zoo.build(), fixes)


def verify_model(zoo: types.ModuleType) -> Result:
    name = zoo.__name__.removeprefix("convshape_zoo_")
    expected: list[dict] = list(getattr(zoo, "EXPECTED", []))
    res = Result(name, [f.get("code", "?") for f in expected])
    _check_static(zoo, res)
    if res.problems:
        return res
    pairs3 = list(zoo.PAIRS)
    probes = getattr(zoo, "PROBES", {})
    config = [tuple(c) for c in getattr(zoo, "CONFIG_PAIRS", [])]
    p = res.problems

    # CS202: eager must refuse the layer; nothing after it can run.
    bad_groups = [f for f in expected if f["code"] == "CS202"]
    if bad_groups:
        for f in bad_groups:
            model = zoo.build()
            m = model.get_submodule(f["layer"])
            if not isinstance(m, _conv._ConvNd) or m.out_channels % m.groups == 0:
                p.append(f"CS202 {f['layer']}: groups={getattr(m, 'groups', None)} divides out_channels")
            with record(model, [f["layer"]]) as rec:
                run(model, _example(zoo), rec, allow_error=True)
            if rec.error is None:
                p.append(f"CS202 {f['layer']}: eager forward did not raise")
            elif rec.calls.get(f["layer"]) != 1 or f["layer"] in rec.outputs:
                p.append(f"CS202 {f['layer']}: eager raised elsewhere: {rec.error}")
            else:
                res.notes.append(f"CS202 {f['layer']}: eager raises: {str(rec.error).splitlines()[0][:90]}")
        if len(bad_groups) != len(expected) or pairs3:
            p.append("a CS202 model cannot run eagerly; keep other findings and pairs out of it")
        return res

    functional = [n for pr in pairs3 for n in pr[:2]] + [n for f in expected for n in (f["up"], f["down"]) if n]
    functional = sorted({n for n in functional if split_functional(n)})
    for n in functional:
        if n not in probes:
            res.notes.append(f"{n}: functional layer without probe, its shape checks are skipped")
    if functional:
        res.notes.append(
            "mirror-order cross-check skipped: functional resamplers cannot be ordered without patching"
        )

    unfixable = _unfixable(expected)

    # 2. the fixed model runs and its pairs round-trip.
    model = _prepared(zoo, expected)
    all_pairs = {(d, u) for d, u, _ in pairs3} | set(_finding_pairs(expected))
    names = {n for pr in all_pairs for n in pr}
    with record(model, names, probes, resamplers=not functional) as fixed, virtual_fixes(model, unfixable):
        run(model, _example(zoo), fixed, allow_error=True)
    if fixed.error is not None:
        p.append(f"fixed model fails in eager: {type(fixed.error).__name__}: {fixed.error}")
        return res
    for name, n in fixed.calls.items():
        if n > 1 and (name in names or is_upsampler(model.get_submodule(name)) or is_downsampler(model.get_submodule(name))):
            p.append(f"{name}: resampler called {n} times; zoo layers must be called once")

    # 4. pairing cross-check (before the round-trip check, so mirror pairs are checked too).
    if not functional:
        ndims = {}
        for n in set(fixed.entered):
            s = fixed.inputs.get(n) if is_downsampler(model.get_submodule(n)) else fixed.outputs.get(n)
            if s is not None:
                ndims[n] = len(s)
        taken_pairs = [(d, u) for d, u, e in pairs3 if e in ("explicit", "skip")]
        taken = {n for pr in taken_pairs for n in pr}
        mirror = mirror_pairs(fixed.entered, model, ndims, taken)
        declared_mirror = {(d, u) for d, u, e in pairs3 if e == "mirror"}
        for pr in sorted(declared_mirror - set(mirror)):
            p.append(f"PAIRS lists {pr} as mirror, LIFO order gives {sorted(mirror)}")
        partner = {u: d for d, u in taken_pairs} | {u: d for d, u in mirror}
        for f in expected:
            if f["down"] is not None and partner.get(f["up"]) != f["down"]:
                p.append(f"{f['up']}: finding pairs it with {f['down']!r}, pairing rules give {partner.get(f['up'])!r}")
        if config:
            plain = mirror_pairs(fixed.entered, model, ndims, {n for d, u, e in pairs3 if e == "skip" for n in (d, u)})
            if set(plain) >= set(config):
                p.append("CONFIG_PAIRS are not needed: mirror order already gives them")
            else:
                res.notes.append(f"without CONFIG_PAIRS mirror order would pair {plain}")
        unpaired = [n for n in dict.fromkeys(fixed.entered) if is_upsampler(model.get_submodule(n)) and n not in partner]
        if unpaired:
            res.notes.append(f"unpaired upsamplers (info only): {unpaired}")
        all_pairs |= set(mirror)
        extra = sorted(set(mirror) - declared_mirror - set(_finding_pairs(expected)))
        if extra:
            res.notes.append(f"mirror pairs not listed in PAIRS: {extra}")

    skip_virtual = {f["up"] for f in unfixable}
    for d, u in sorted(all_pairs):
        if u in skip_virtual:
            continue
        din, uout = fixed.down_in(d), fixed.up_out(u)
        if din is None or uout is None:
            res.notes.append(f"pair ({d}, {u}): not observable in eager, round-trip not checked")
        elif din != uout:
            p.append(f"pair ({d}, {u}) does not round-trip after fixes: down in {list(din)}, up out {list(uout)}")

    # 3. each finding, with every other fix applied.
    all_ups = {u for _, u in all_pairs}
    for i, f in enumerate(expected):
        up, down, code = f["up"], f["down"], f["code"]
        others = expected[:i] + expected[i + 1 :]
        model = _prepared(zoo, others)
        watch = {n for g in expected for n in (g["up"], g["down"]) if n} | {n for pr in all_pairs for n in pr}
        with record(model, watch, probes) as rec, virtual_fixes(model, _unfixable(others)):
            run(model, _example(zoo), rec, allow_error=True)
        tag = f"{code} {up}"
        if down is not None:
            din = rec.down_in(down)
            if din is None:
                res.notes.append(f"{tag}: partner {down} input not observable, 'expected' not checked")
            elif _lst(din) != f["expected"]:
                p.append(f"{tag}: expected {f['expected']} but partner {down} gets {list(din)}")
        if code == "CS201":
            m = model.get_submodule(up) if split_functional(up) is None else None
            if rec.error is None:
                p.append(f"{tag}: eager accepted the illegal output_padding")
            elif m is not None and (rec.calls.get(up) != 1 or up in rec.outputs):
                p.append(f"{tag}: eager raised elsewhere: {rec.error}")
            elif "output padding" not in str(rec.error):
                p.append(f"{tag}: unexpected eager error: {rec.error}")
            if f["actual"] is not None:
                fixed_out = fixed.up_out(up)
                illegal = list(m.output_padding) if m is not None else None
                if fixed_out is None or illegal is None:
                    res.notes.append(f"{tag}: 'actual' not checked (not observable)")
                else:
                    meta = [o - fx + il for o, fx, il in zip(fixed_out, f["output_padding"], illegal)]
                    if meta != f["actual"]:
                        p.append(f"{tag}: actual {f['actual']} but the illegal output_padding gives {meta}")
            continue
        out = rec.up_out(up)
        if out is None:
            why = f" (forward failed first: {rec.error})" if rec.error is not None else ""
            if split_functional(up) and up not in probes:
                res.notes.append(f"{tag}: 'actual' not checked (functional, no probe)")
            else:
                p.append(f"{tag}: up output not observed{why}")
        elif _lst(out) != f["actual"]:
            p.append(f"{tag}: actual {f['actual']} but eager gives {list(out)}")
        if code == "CS102" and split_functional(up) is None:
            lim = legal_output_padding_limits(model.get_submodule(up))
            reached = []
            for op in itertools.product(*(range(h) for h in lim)):
                trial = _prepared(zoo, others)
                trial.get_submodule(up).output_padding = op
                with record(trial, [up]) as r2, virtual_fixes(trial, _unfixable(others)):
                    run(trial, _example(zoo), r2, allow_error=True)
                if _lst(r2.outputs.get(up)) == f["expected"]:
                    reached.append(op)
            if reached:
                p.append(f"{tag}: legal output_padding {reached[0]} restores {f['expected']}: that is CS101")
        if code not in HIDDEN_CODES and rec.error is None and rec.result_shapes == fixed.result_shapes:
            later = [u for u in all_ups - {up} if rec.up_out(u) != fixed.up_out(u)]
            if not later:
                p.append(f"{tag}: without its fix the model runs to the same shapes: is the mismatch hidden?")
        if code in HIDDEN_CODES:
            token = HIDER_TOKENS[code]
            if token not in inspect.getsource(zoo):
                p.append(f"{tag}: the zoo file has no {token!r}, so nothing hides the mismatch the {code} way")
            plain = zoo.build()
            with record(plain, []) as r3:
                run(plain, _example(zoo), r3, allow_error=True)
            if r3.error is not None:
                p.append(f"{tag}: the unfixed model fails in eager, so the mismatch is not hidden: {r3.error}")
            later = [u for u in all_ups - {up} if rec.up_out(u) != fixed.up_out(u)]
            if rec.error is None and later:
                p.append(f"{tag}: the mismatch reaches {later}, so it is not hidden")
    return res


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in argv
    names = [a for a in argv if not a.startswith("-")] or zoo_names()
    start = time.perf_counter()
    failed = 0
    for name in names:
        t0 = time.perf_counter()
        try:
            res = verify_model(load(name))
        except Exception as exc:  # noqa: BLE001 - a broken zoo file is a failure, keep going
            res = Result(name, [], problems=[f"crashed: {type(exc).__name__}: {exc}"])
        dt = time.perf_counter() - t0
        codes = ",".join(res.codes) or "clean"
        print(f"{'PASS' if res.ok else 'FAIL'} {name:24s} {codes:32s} {dt * 1000:6.0f} ms")
        for msg in res.problems:
            print(f"     problem: {msg}")
        if verbose:
            for msg in res.notes:
                print(f"     note: {msg}")
        failed += not res.ok
    total = time.perf_counter() - start
    print(f"{len(names) - failed}/{len(names)} zoo models pass in {total:.2f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
