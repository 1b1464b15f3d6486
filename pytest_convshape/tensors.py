"""The torch side of a check, next to the trace: the tensors and modules ``check()`` builds
from what the user gave (the forward call on the meta device, the swept input at another size,
real inputs and a CPU copy for the fallback pass) and the model's description for tracing (its
meta stand-ins, slots and names, kept between checks). The pure validation of the user's
arguments is in ``inputs``; ``api`` orchestrates and imports no torch itself."""

from __future__ import annotations

import copy
import inspect
import types
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from . import trace as tracing
from .inputs import size_domain, size_key, validate_size
from .records import Shape, dim_labels, fmt_shape

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
        if hasattr(model, "_orig_mod") and isinstance(model._orig_mod, nn.Module):
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


def meta_limited(exc: BaseException) -> bool:
    if isinstance(exc, NotImplementedError):
        return True
    text = str(exc).lower()
    return any(m in text for m in _META_LIMITS)


def real_inputs(args: tuple, kwargs: dict, seed: int = 0) -> tuple[tuple, dict]:
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


def cpu_model(model: nn.Module, builder: Callable[[], nn.Module] | None) -> tuple[nn.Module, str]:
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


class Described:
    """What describes a model for tracing: its meta stand-ins for the parameters and buffers,
    its slots and the module-to-name map. Built once and kept with the model between checks
    while its modules, parameters and buffers stay the same objects (checked on each use)."""

    _cache: ClassVar[weakref.WeakKeyDictionary[nn.Module, Described]] = weakref.WeakKeyDictionary()

    def __new__(cls, model: nn.Module) -> Described:
        try:
            known = cls._cache.get(model)
        except TypeError:  # not weak-referenceable
            known = None
        if known is not None and known._unchanged():
            return known
        made = super().__new__(cls)
        made._init(model)
        try:
            cls._cache[model] = made
        except TypeError:
            pass
        return made

    def __init__(self, model: nn.Module):
        pass  # set up in __new__ (a cached description is returned as it is)

    def _init(self, model: nn.Module) -> None:
        self.model = model
        self._names: dict[int, str] | None = None
        self._slots: tracing.Slots | None = None
        self._meta: list[Any] | None = None
        self._shape: list[tuple[Any, int, int, int]] = []
        self._kinds: list[tuple[Any, Any]] = []

    def _unchanged(self) -> bool:
        """The same modules with the same parameters, buffers and children as when described."""
        if self._slots is None:
            return True
        for m, n_modules, n_params, n_buffers in self._shape:
            if len(m._modules) != n_modules or len(m._parameters) != n_params or len(m._buffers) != n_buffers:
                return False
        for (module, kind, name, tensor), (shape, dtype) in zip(self._slots.slots, self._kinds):
            current = getattr(module, kind).get(name)
            if current is not tensor or nn.parameter.is_lazy(current) or current.shape != shape or current.dtype != dtype:
                return False  # also a .data swapped for another shape
        return True

    def lazy(self) -> bool:
        """Some parameter is still uninitialised (a ``LazyConv*d``)."""
        self._describe()
        return bool(self._slots and self._slots.lazy)

    def _describe(self) -> None:
        if self._names is None:
            self._names = tracing.module_names(self.model)
            self._slots = tracing.Slots.of(self.model)
            self._shape = [(m, len(m._modules), len(m._parameters), len(m._buffers)) for m in self._slots.modules]
            self._kinds = [(t.shape, t.dtype) for _, _, _, t in self._slots.slots]

    def run(self, args: tuple, kwargs: dict, device: str, overrides: Mapping[str, Shape] | None = None) -> tracing.Outcome:
        self._describe()
        if device == "meta" and self._meta is None:
            self._meta = self._slots.stand_ins(lambda t: torch.empty(t.shape, dtype=t.dtype, device="meta"))  # type: ignore[union-attr]
        return tracing.run(self.model, args, kwargs, device=device, overrides=overrides, slots=self._slots,
                           stand_ins=self._meta if device == "meta" else None, names=self._names)


def model_dtype(model: nn.Module) -> torch.dtype:
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32


@dataclass(frozen=True)
class CallInputs:
    """The forward call check() makes: positional and keyword inputs, the names of the
    positional ones where the signature gives them, and how the report describes them."""

    args: tuple
    kwargs: dict
    described: str
    arg_names: tuple[str | None, ...] = ()


def _describe_value(value: Any, float_dtype: torch.dtype | None) -> str:
    if isinstance(value, torch.Tensor):
        text = fmt_shape(value.shape) if value.dim() else "scalar"
        if value.dtype != float_dtype and not (float_dtype is None and value.is_floating_point()):
            text += f":{str(value.dtype).removeprefix('torch.')}"
        return text
    return repr(value)


def _positional_names(model: nn.Module) -> list[str]:
    """The names forward() takes positionally, in order (stops at ``*args``)."""

    try:
        params = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        return []
    out = []
    for p in params:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        out.append(p.name)
    return out


def forward_inputs(model: nn.Module, input_size: Any, example_inputs: Any) -> CallInputs:
    """The forward call for ``input_size`` or ``example_inputs``. Keyword inputs that forward()
    also takes positionally are passed positionally, in its order (so a sweep of ``sample`` in
    ``forward(sample, timestep)`` holds the other inputs fixed)."""
    if input_size is not None and example_inputs is not None:
        raise ValueError("give input_size or example_inputs, not both")
    if input_size is not None:
        size = validate_size(input_size)
        return CallInputs((torch.empty(size, dtype=model_dtype(model), device="meta"),), {}, fmt_shape(size))
    if example_inputs is None:
        raise ValueError("check() needs input_size=(N, C, H, W) or example_inputs (a tensor, a tuple or a dict of keyword inputs)")
    if isinstance(example_inputs, torch.Tensor):
        return CallInputs((example_inputs,), {}, _describe_value(example_inputs, None))
    dtype = model_dtype(model)
    if isinstance(example_inputs, (tuple, list)):
        args = tuple(example_inputs)
        if not args:
            raise ValueError("example_inputs is empty; give a tensor, a tuple of positional inputs or a dict of keyword inputs")
        if not any(isinstance(a, torch.Tensor) for a in args):
            hint = (
                f"; for a shape use input_size={tuple(args)!r}"
                if all(isinstance(a, int) and not isinstance(a, bool) for a in args)
                else ""
            )
            raise ValueError(f"example_inputs holds no tensor: {example_inputs!r}{hint}")
        names = _positional_names(model)
        return CallInputs(
            args, {}, ", ".join(_describe_value(a, dtype) for a in args),
            tuple(names[i] if i < len(names) else None for i in range(len(args))),
        )
    if isinstance(example_inputs, Mapping):
        kwargs = dict(example_inputs)
        if not kwargs:
            raise ValueError("example_inputs is empty; give a tensor, a tuple of positional inputs or a dict of keyword inputs")
        described = ", ".join(f"{k}={_describe_value(v, dtype)}" for k, v in kwargs.items())
        leading: list[Any] = []
        leading_names: list[str] = []
        for name in _positional_names(model):
            if name not in kwargs:
                break
            leading.append(kwargs.pop(name))
            leading_names.append(name)
        return CallInputs(tuple(leading), kwargs, described, tuple(leading_names))
    raise TypeError(
        f"example_inputs must be a tensor, a tuple of inputs or a dict of keyword inputs, got {type(example_inputs).__name__}"
    )


def example_inputs_of(specs: Sequence[Any], model: nn.Module) -> dict[str, Any]:
    """``check()`` keyword arguments for an input set (``inputspec.InputSpec``): ``input_size``
    for one positional tensor of the model's dtype, else ``example_inputs`` built on the meta
    device (integer tensors hold zeros when the fallback pass makes them real)."""
    from .inputspec import single_shape

    shape = single_shape(specs)
    if shape is not None:
        return {"input_size": shape}
    float_dtype = model_dtype(model)

    def make(spec: Any) -> Any:
        if not spec.is_tensor:
            return spec.value
        dtype = getattr(torch, spec.dtype) if spec.dtype else float_dtype
        return torch.empty(spec.shape, dtype=dtype, device="meta")

    if all(spec.name is None for spec in specs):
        return {"example_inputs": tuple(make(s) for s in specs)}
    positional = tuple(make(s) for s in specs if s.name is None)
    named = {s.name: make(s) for s in specs if s.name is not None}
    if positional:  # positional first, then named: bind the positional ones to their names
        names = _positional_names(model)
        if len(names) < len(positional):
            return {"example_inputs": positional + tuple(named.values())}
        named = {**dict(zip(names, positional)), **named}
    return {"example_inputs": named}


def refuse_jit(model: Any) -> None:
    """TorchScript modules cannot be traced with hooks: say to pass the eager module."""
    script = getattr(torch.jit, "ScriptModule", ())
    function = getattr(torch.jit, "ScriptFunction", ())
    if isinstance(model, (script, function)):
        kind = "torch.jit.trace/torch.jit.script" if isinstance(model, script) else "torch.jit.script"
        raise TypeError(
            f"check() needs the eager nn.Module, got a TorchScript {type(model).__name__} (from {kind}); "
            f"pass the module you scripted or traced, before torch.jit"
        )


def batch_dim_problem(model: nn.Module, call: CallInputs, findings: Sequence[Any]) -> str:
    """What to say when the forward failed because the input has no batch dim ('' when it did
    not): a norm layer raised "expected 4D input (got 3D input)" for an input of 3 dims
    (convolutions accept unbatched inputs, BatchNorm does not)."""
    import re

    tensors = [a for a in call.args if isinstance(a, torch.Tensor)] + [v for v in call.kwargs.values() if isinstance(v, torch.Tensor)]
    if not tensors:
        return ""
    x = tensors[0]
    for f in findings:
        m = re.search(r"expected (\d)D input \(got (\d)D input\)", f.message) if f.code == "CS903" else None
        if m is None or int(m.group(2)) != x.dim() or int(m.group(1)) != x.dim() + 1:
            continue
        nd = x.dim() - 1
        from torch.nn.modules.batchnorm import _BatchNorm

        norms = [(n, type(mod).__name__) for n, mod in model.named_modules() if isinstance(mod, _BatchNorm)]
        who = f"{norms[0][0] or 'the model'} ({norms[0][1]})" if norms else "a layer"
        spatial = ", ".join(dim_labels(nd))
        return (
            f"input {fmt_shape(x.shape)} has no batch dim: {who} needs (N, C, {spatial}); "
            f"add the batch dim: {fmt_shape((1,) + tuple(x.shape))}"
        )
    return ""


def input_problem(model: nn.Module, where: str, shape: Shape) -> str:
    """What is wrong with the input for the first layer, in its own terms ('' when unclear)."""
    from torch.nn.modules.conv import _ConvNd

    try:
        layer = model.get_submodule(where)
    except AttributeError:
        return ""
    if not isinstance(layer, _ConvNd) or not shape:
        return ""
    if min(layer.stride) < 1 or min(layer.dilation) < 1 or min(layer.kernel_size) < 1:
        return ""  # the layer itself is broken; torch's own message says how
    nd = len(layer.kernel_size)
    spatial = ", ".join(dim_labels(nd))
    kind = type(layer).__name__
    name = where or "the model"
    if len(shape) not in (nd + 1, nd + 2):
        return (
            f"{name} ({kind}) takes a {nd + 2}-d (N, C, {spatial}) or {nd + 1}-d (C, {spatial}) input, "
            f"the input is {len(shape)}-d ({fmt_shape(shape)})"
        )
    channels = shape[-nd - 1]
    if channels != layer.in_channels:
        plural = "s" if layer.in_channels != 1 else ""
        return f"{name} ({kind}) expects {layer.in_channels} input channel{plural}, the input {fmt_shape(shape)} has {channels}"
    from . import arithmetic as ar

    pads = layer.padding if isinstance(layer.padding, tuple) else None
    if pads is not None and len(shape) == nd + 2:
        small = [
            i for i in range(nd)
            if ar.conv_formula(shape[-nd + i], layer.kernel_size[i], layer.stride[i], pads[i], layer.dilation[i]) < 1
        ]
        if small:
            least = [layer.dilation[i] * (layer.kernel_size[i] - 1) + 1 - 2 * pads[i] for i in range(nd)]
            return (
                f"{name} ({kind}) needs at least {fmt_shape(least)} in ({spatial}) for kernel_size={fmt_shape(layer.kernel_size)}, "
                f"padding={fmt_shape(pads)}, dilation={fmt_shape(layer.dilation)}; the input is {fmt_shape(shape[-nd:])}"
            )
    if len(shape) == nd + 1:
        return (
            f"{name} ({kind}) reads a {nd + 1}-d input as unbatched (C, {spatial}), and {fmt_shape(shape)} is too small for "
            f"its kernel {fmt_shape(layer.kernel_size)}; did you mean {fmt_shape((1,) + tuple(shape))}?"
        )
    return ""


def _swept_input(name: str | None, call: CallInputs, key: Any) -> tuple[Any, torch.Tensor]:
    """(where, tensor): where is a position in ``call.args`` or a keyword name."""
    if name is None:
        for i, a in enumerate(call.args):
            if isinstance(a, torch.Tensor):
                return i, a
        for k, v in call.kwargs.items():
            if isinstance(v, torch.Tensor):
                return k, v
        raise ValueError("sizes: the inputs hold no tensor to sweep")
    where: str | int
    if name in call.kwargs:
        where, value = name, call.kwargs[name]
    elif name in call.arg_names:
        index = call.arg_names.index(name)
        where, value = index, call.args[index]
    else:
        known = [n for n in call.arg_names if n] + list(call.kwargs)
        raise ValueError(f"sizes: {key!r} names no input; the inputs are {', '.join(known) or 'positional only (use a plain dim)'}")
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"sizes: {key!r}: input {name!r} is not a tensor ({value!r}); only tensor inputs can be swept")
    return where, value


def validate_sizes(sizes: Any, call: CallInputs) -> tuple[Any, dict[int, list[int]]]:
    """(the swept input, ``{dim: [sizes...]}``) from the user's ``sizes``: keys are dims of the
    first tensor input (``2``) or ``"NAME.DIM"`` for a named input; one input per check."""
    if not sizes:
        return None, {}
    if not isinstance(sizes, Mapping):
        raise TypeError(f"sizes must map an input dim to a range, e.g. {{2: (8, 512)}}, got {sizes!r}")
    swept: Any = None
    out: dict[int, list[int]] = {}
    for key, spec in sizes.items():
        name, dim = size_key(key)
        where, tensor = _swept_input(name, call, key)
        if swept is not None and where != swept:
            raise ValueError(f"sizes: {key!r}: a check sweeps one input; {swept!r} is already swept (run one check per input)")
        swept = where
        rank = tensor.dim()
        if isinstance(dim, bool) or not isinstance(dim, int) or not 2 <= dim < rank:
            of = f"input {name!r} " if name else "input "
            raise ValueError(
                f"sizes: {dim!r} is not a spatial dim of {of}{fmt_shape(tensor.shape)}; use {', '.join(map(str, range(2, rank))) or 'none'}"
            )
        out[dim] = size_domain(spec, dim)
    return swept, out


def call_view(
    model: nn.Module, call: CallInputs, swept: Any = None, on_call: Callable[[], None] | None = None
) -> tuple[nn.Module, CallInputs]:
    """The model and inputs as the lint loop gets them: with the swept input first (the sweep
    varies ``args[0]``) and ``on_call`` run at each forward (progress). Without either, the
    model itself. Otherwise a shallow copy that shares every submodule, parameter and buffer
    with ``model`` (names and hooks are the same) and whose ``forward`` puts the inputs back
    in their places; ``model`` itself is not changed."""
    if (swept is None or swept == 0) and on_call is None:
        return model, call
    forward = type(model).forward
    if swept is None or swept == 0:
        args, kwargs = call.args, dict(call.kwargs)

        def place(first: Any, rest: tuple, kw: dict) -> tuple[tuple, dict]:
            return (first,) + rest, kw
    elif isinstance(swept, int):
        args = (call.args[swept],) + call.args[:swept] + call.args[swept + 1 :]
        kwargs = dict(call.kwargs)

        def place(first: Any, rest: tuple, kw: dict) -> tuple[tuple, dict]:
            return rest[:swept] + (first,) + rest[swept:], kw
    else:
        args = (call.kwargs[swept],) + call.args
        kwargs = {k: v for k, v in call.kwargs.items() if k != swept}

        def place(first: Any, rest: tuple, kw: dict) -> tuple[tuple, dict]:
            return rest, {**kw, swept: first}

    def view_forward(self: nn.Module, first: Any, *rest: Any, **kw: Any) -> Any:
        if on_call is not None:
            on_call()
        real_args, real_kwargs = place(first, rest, kw)
        return forward(self, *real_args, **real_kwargs)

    view = copy.copy(model)
    object.__setattr__(view, "forward", types.MethodType(view_forward, view))
    return view, CallInputs(args, kwargs, call.described, ())


def sized_like(base: torch.Tensor, dim: int, size: int, device: str) -> torch.Tensor:
    """``base``'s shape with ``dim`` set to ``size``: empty on the meta device, seeded random
    values on the CPU (the fallback pass)."""
    shape = list(base.shape)
    shape[dim] = size
    if device == "meta":
        return torch.empty(shape, dtype=base.dtype, device="meta")
    return torch.rand(shape, generator=torch.Generator().manual_seed(0), dtype=base.dtype)


def first_tensor(args: Sequence[Any]) -> torch.Tensor | None:
    """The first positional input when it is a tensor."""
    return args[0] if args and isinstance(args[0], torch.Tensor) else None
