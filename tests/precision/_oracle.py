"""The eager-torch oracle of the precision suite.

Every judgement in tests/test_precision.py comes from here, never from the linter:

* ``run(model, input_size)``: one eager CPU forward (``eval()``, ``no_grad()``, a seeded
  ``torch.randn`` input), recording whether it raised, in which module (the innermost module
  running when the exception left it) and the output's shape.
* ``Eager.works(kind)``: "restoring" models work when eager runs and the output's spatial size
  equals the input's; "fraction" models work when eager runs.
* ``apply_fixes(family, model, fixes)``: set each ``(layer, output_padding)`` in eager: a module
  layer (``"decoder.0"``; a repeated call ``"up#2"`` is the same module ``"up"``) gets
  ``module.output_padding``; a functional layer (``"block:F.conv_transpose1d"``) is set in the
  owner's ``functional_output_padding`` dict (the zoo's convention); a family may define its own
  ``apply_fix(model, layer, output_padding)``. Two fixes that set one target to different values
  are refused (a shared module has one output_padding for all its calls).
* ``search_fix(family, case, layers)``: brute force over every legal output_padding of the named
  transposed convolutions; the first setting under which the model works, or None. The suite
  uses it to prove its own "verified"/"none" claims.
* ``snapshot(model)``: everything linting must leave alone (parameter bits and identity,
  buffers, requires_grad, training flags, hooks, layer hyper-parameters, instance attributes).
* ``families()``: the architecture modules of this package.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import pkgutil
import re
import types
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, Sequence

import torch
from torch import nn
from torch.nn.modules import conv as _conv

KINDS = ("restoring", "fraction")
FIX_CLAIMS = ("verified", "none", "any")

_FUNCTIONAL = re.compile(r"^(?:(?P<owner>[A-Za-z_][\w.]*):)?(?P<fn>F\.\w+(?:#\d+)?)$")
_REPEAT = re.compile(r"#\d+$")


# --------------------------------------------------------------------------- families


def families() -> list[types.ModuleType]:
    """Every architecture module in tests/precision/ (names not starting with ``_``), sorted."""
    import precision

    names = sorted(m.name for m in pkgutil.iter_modules(precision.__path__) if not m.name.startswith("_"))
    return [importlib.import_module(f"precision.{n}") for n in names]


def short(family: types.ModuleType) -> str:
    return family.__name__.rsplit(".", 1)[-1]


def size_id(case: Mapping[str, Any]) -> str:
    """``28x28`` for ``(1, 1, 28, 28)``, ``b2-28x28`` for a batch of 2; channels are left out."""
    spatial = "x".join(str(s) for s in case["input"][2:])
    return spatial if case["input"][0] == 1 else f"b{case['input'][0]}-{spatial}"


def build(family: types.ModuleType) -> nn.Module:
    torch.manual_seed(0)
    return family.build()


# --------------------------------------------------------------------------- eager runs


@dataclass(frozen=True)
class Eager:
    input: tuple[int, ...]
    raised: str | None
    where: str | None
    out_shape: tuple[int, ...] | None

    @property
    def restores(self) -> bool:
        return self.out_shape is not None and tuple(self.out_shape[2:]) == tuple(self.input[2:])

    def works(self, kind: str) -> bool:
        if kind not in KINDS:
            raise ValueError(f"KIND must be one of {KINDS}, got {kind!r}")
        if self.raised is not None:
            return False
        return self.restores if kind == "restoring" else True

    def __str__(self) -> str:
        if self.raised is not None:
            return f"eager raised in {self.where or '<root>'!r}: {self.raised}"
        return f"eager ran: {tuple(self.input)} -> {tuple(self.out_shape or ())}"


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """One intra-op thread while the block runs: the suite's models are tiny, and on a shared
    machine torch's thread pool costs several times the work itself."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def run(model: nn.Module, input_size: Sequence[int], seed: int = 0) -> Eager:
    """One eager CPU forward at ``input_size``; never raises for the model's own errors."""
    stack: list[str] = []
    where: list[str | None] = [None]
    handles = []

    def pre(name):
        def hook(_m, _args):
            stack.append(name)

        return hook

    def post(_m, _args, _out):
        stack.pop()

    for name, m in model.named_modules():
        handles.append(m.register_forward_pre_hook(pre(name)))
        handles.append(m.register_forward_hook(post))
    was_training = {m: m.training for m in model.modules()}
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(tuple(input_size), generator=gen)
    try:
        with torch.no_grad(), one_thread():
            try:
                out = model(x)
            except Exception as exc:  # the model's own failure is the observation
                where[0] = stack[-1] if stack else None
                return Eager(tuple(input_size), _first_line(exc), where[0], None)
        if isinstance(out, (tuple, list)):
            out = out[0]
        if isinstance(out, dict):
            out = next(iter(out.values()))
        return Eager(tuple(input_size), None, None, tuple(out.shape))
    finally:
        for h in handles:
            h.remove()
        for m, t in was_training.items():
            m.training = t


def eager(family: types.ModuleType, case: Mapping[str, Any], model: nn.Module | None = None) -> Eager:
    return run(model if model is not None else build(family), case["input"])


# --------------------------------------------------------------------------- fixes


def split_functional(name: str) -> tuple[str, str] | None:
    """``"up1:F.conv_transpose1d"`` -> ``("up1", "F.conv_transpose1d")``; None for module names."""
    m = _FUNCTIONAL.match(name)
    if m is None:
        return None
    return m.group("owner") or "", m.group("fn")


def module_path(name: str) -> str:
    """The module a layer name belongs to: ``"up#2"`` -> ``"up"``, ``"a.b:F.pad"`` -> ``"a.b"``."""
    split = split_functional(name)
    if split is not None:
        return split[0]
    return _REPEAT.sub("", name.split(":", 1)[0])


def name_exists(model: nn.Module, name: str) -> bool:
    try:
        model.get_submodule(module_path(name))
    except AttributeError:
        return False
    return True


def _target(model: nn.Module, layer: str) -> tuple[Any, Any]:
    """(container, key) whose value is the layer's output_padding."""
    split = split_functional(layer)
    if split is not None:
        owner = model.get_submodule(split[0])
        table = getattr(owner, "functional_output_padding", None)
        if not isinstance(table, dict) or split[1] not in table:
            raise LookupError(f"{layer}: module {split[0] or '<root>'!r} has no functional_output_padding[{split[1]!r}]")
        return table, split[1]
    m = model.get_submodule(module_path(layer))
    if not isinstance(m, _conv._ConvTransposeNd):
        raise TypeError(f"{layer}: an output_padding fix on a {type(m).__name__}, not a ConvTranspose")
    return m, "output_padding"


def transposed_convs(model: nn.Module, family: types.ModuleType, names: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Of ``names``, the transposed convs whose output_padding can be set: name -> (ndim, bound).

    ``bound`` is max(stride, dilation) (output_padding must stay below it). Repeated calls of
    one module collapse to the module's name. Functional layers need a ``limits`` entry in the
    family's ``FUNCTIONAL_LIMITS`` (name -> (ndim, bound)).
    """
    out: dict[str, tuple[int, int]] = {}
    extra = getattr(family, "FUNCTIONAL_LIMITS", {})
    for name in names:
        if name in extra:
            out[name] = extra[name]
            continue
        if split_functional(name) is not None or ":" in name:
            continue
        try:
            m = model.get_submodule(module_path(name))
        except AttributeError:
            continue
        if isinstance(m, _conv._ConvTransposeNd):
            bounds = {max(s, d) for s, d in zip(m.stride, m.dilation)}
            out[module_path(name)] = (len(m.stride), max(bounds))
    return out


def is_transposed(model: nn.Module, family: types.ModuleType, name: str) -> bool:
    if name in getattr(family, "FUNCTIONAL_LIMITS", {}) or ":F.conv_transpose" in name or name.startswith("F.conv_transpose"):
        return True
    try:
        return isinstance(model.get_submodule(module_path(name)), _conv._ConvTransposeNd)
    except AttributeError:
        return False


def apply_fixes(family: types.ModuleType, model: nn.Module, fixes: Iterable[tuple[str, Sequence[int]]]) -> nn.Module:
    """Apply ``(layer, output_padding)`` fixes in place; refuse two different values for one target."""
    custom = getattr(family, "apply_fix", None)
    seen: dict[tuple[str, str], tuple[str, tuple[int, ...]]] = {}
    for layer, op in fixes:
        value = tuple(int(v) for v in op)
        split = split_functional(layer)
        key = split if split is not None else (module_path(layer), "output_padding")
        if key in seen and seen[key][1] != value:
            raise AssertionError(
                f"conflicting fixes for one eager target: {seen[key][0]!r} output_padding={seen[key][1]} and "
                f"{layer!r} output_padding={value} (one module/call site has one output_padding)"
            )
        seen[key] = (layer, value)
        if custom is not None:
            custom(model, layer, value)
        else:
            container, attr = _target(model, layer)
            if isinstance(container, dict):
                container[attr] = value
            else:
                if len(value) != len(container.stride):
                    raise AssertionError(f"{layer}: output_padding {value} has {len(value)} dims, the layer {len(container.stride)}")
                setattr(container, attr, value)
    return model


def search_fix(family: types.ModuleType, case: Mapping[str, Any], layers: Iterable[str], limit: int = 1024) -> dict[str, tuple[int, ...]] | None:
    """The first output_padding setting of ``layers`` (transposed convs) under which the case works.

    Every legal value in every spatial dim; for an input whose spatial dims are all equal, only
    settings with the same value in every dim (the suite's models do the same arithmetic in
    every dim, so a square input needs the same fix in each). None when no setting works;
    raises when the search space exceeds ``limit`` settings.
    """
    model = build(family)
    convs = transposed_convs(model, family, layers)
    names = sorted(convs)
    square = len(set(case["input"][2:])) == 1
    per_layer = [
        [(v,) * convs[n][0] for v in range(convs[n][1])] if square else list(itertools.product(range(convs[n][1]), repeat=convs[n][0]))
        for n in names
    ]
    count = 1
    for options in per_layer:
        count *= len(options)
    if count > limit:
        raise ValueError(f"search space of {count} output_padding settings is too large: {names}")
    for combo in itertools.product(*per_layer):
        apply_fixes(family, model, list(zip(names, combo)))
        if run(model, case["input"]).works(family.KIND):
            return dict(zip(names, combo))
    return None


# --------------------------------------------------------------------------- snapshots


_HOOK_DICTS = (
    "_forward_hooks",
    "_forward_hooks_with_kwargs",
    "_forward_hooks_always_called",
    "_forward_pre_hooks",
    "_forward_pre_hooks_with_kwargs",
    "_backward_hooks",
    "_backward_pre_hooks",
    "_state_dict_hooks",
    "_state_dict_pre_hooks",
    "_load_state_dict_pre_hooks",
    "_load_state_dict_post_hooks",
)
_LAYER_ATTRS = (
    "kernel_size",
    "stride",
    "padding",
    "output_padding",
    "dilation",
    "groups",
    "padding_mode",
    "_reversed_padding_repeated_twice",
    "scale_factor",
    "size",
    "mode",
    "align_corners",
    "ceil_mode",
    "functional_output_padding",
)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def snapshot(model: nn.Module) -> dict[str, Any]:
    """What linting must not change, as plain comparable data (tensors as CPU copies)."""
    from torch.nn.modules import module as _module

    snap: dict[str, Any] = {"tensors": {}, "modules": {}, "global_hooks": {}}
    for name, t in itertools.chain(model.named_parameters(remove_duplicate=False), model.named_buffers(remove_duplicate=False)):
        snap["tensors"][name] = (
            id(t),
            t.dtype,
            t.device.type,
            tuple(t.shape),
            bool(t.requires_grad),
            t.detach().cpu().clone() if t.device.type != "meta" else None,  # meta tensors have no data
        )
    for name, m in model.named_modules(remove_duplicate=False):
        entry: dict[str, Any] = {
            "type": type(m),
            "training": m.training,
            "attrs": sorted(vars(m)),
            "children": [(n, id(c)) for n, c in m._modules.items()],
            "params": [(n, id(p)) for n, p in m._parameters.items()],
            "buffers": [(n, id(b)) for n, b in m._buffers.items()],
        }
        for hooks in _HOOK_DICTS:
            d = getattr(m, hooks, None)
            if d is not None:
                entry[hooks] = [(k, id(v) if not isinstance(v, bool) else v) for k, v in d.items()]
        for attr in _LAYER_ATTRS:
            if attr in vars(m):
                entry["layer:" + attr] = _copy(vars(m)[attr])
        snap["modules"][name] = entry
    for g in dir(_module):
        if g.startswith("_global_") and isinstance(getattr(_module, g), dict):
            snap["global_hooks"][g] = list(getattr(_module, g).keys())
    return snap


def _bits(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(-1).contiguous().view(torch.uint8) if t.numel() else t


def diff_snapshots(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Human-readable differences (empty when the model is unchanged)."""
    out: list[str] = []
    tb, ta = before["tensors"], after["tensors"]
    if set(tb) != set(ta):
        out.append(f"tensor names changed: removed {sorted(set(tb) - set(ta))}, added {sorted(set(ta) - set(tb))}")
    for name in sorted(set(tb) & set(ta)):
        b, a = tb[name], ta[name]
        labels = ("identity", "dtype", "device", "shape", "requires_grad")
        for label, vb, va in zip(labels, b[:5], a[:5]):
            if vb != va:
                out.append(f"{name}: {label} {vb!r} -> {va!r}")
        if b[5] is None or a[5] is None:
            continue  # a device change is reported above
        if b[3] == a[3] and b[1] == a[1] and not torch.equal(_bits(b[5]), _bits(a[5])):
            out.append(f"{name}: values changed")
    mb, ma = before["modules"], after["modules"]
    if list(mb) != list(ma):
        out.append(f"module tree changed: {list(mb)} -> {list(ma)}")
    for name in mb:
        if name not in ma:
            continue
        for key in sorted(set(mb[name]) | set(ma[name])):
            if mb[name].get(key) != ma[name].get(key):
                out.append(f"module {name or '<root>'!r}: {key} {mb[name].get(key)!r} -> {ma[name].get(key)!r}")
    if before["global_hooks"] != after["global_hooks"]:
        out.append(f"global module hooks changed: {before['global_hooks']} -> {after['global_hooks']}")
    return out
