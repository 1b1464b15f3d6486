"""Run a model once and record every resampling op, the skip merges, and what fed what.

This is the one module that runs the user's model. It never changes it: parameters and buffers
are swapped for meta tensors only for the duration of the call (``torch.func.functional_call``),
hooks are removed and ``training`` flags restored in ``finally``, and the run happens under
``no_grad`` with the global RNG state saved and restored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import sys
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten, tree_map

from .records import (
    MODEL_INPUT,
    AdaptiveArgs,
    ConvArgs,
    LayerArgs,
    LayerEvent,
    MergeArgs,
    NoArgs,
    PadArgs,
    PoolArgs,
    ResizeArgs,
    Shape,
    ShuffleArgs,
    SourceLocation,
    TraceResult,
    TransposeArgs,
    UnpoolArgs,
    first_line,
    op_family,
)

# Positional parameter names of the functional ops we record (as in torch.nn.functional).
_SIGNATURES: dict[str, tuple[str, ...]] = {
    "conv": ("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
    "conv_transpose": ("input", "weight", "bias", "stride", "padding", "output_padding", "groups", "dilation"),
    "max_pool": ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"),
    "avg_pool": ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
    "interpolate": ("input", "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "antialias"),
    "pixel_shuffle": ("input", "upscale_factor"),
    "pixel_unshuffle": ("input", "downscale_factor"),
    "max_unpool": ("input", "indices", "kernel_size", "stride", "padding", "output_size"),
    "adaptive_pool": ("input", "output_size", "return_indices"),
    "pad": ("input", "pad", "mode", "value"),
}

_MERGE_OPS = {
    "cat": "cat",
    "concat": "cat",
    "concatenate": "cat",
    "stack": "stack",
    "add": "add",
    "add_": "add",
    "__add__": "add",
    "__radd__": "add",
    "__iadd__": "add",
    "sub": "sub",
    "sub_": "sub",
    "subtract": "sub",
    "__sub__": "sub",
    "__rsub__": "sub",
    "__isub__": "sub",
    "mul": "mul",
    "mul_": "mul",
    "multiply": "mul",
    "__mul__": "mul",
    "__rmul__": "mul",
    "__imul__": "mul",
}
_LIST_MERGES = ("cat", "concat", "concatenate", "stack")
_QUERIES = frozenset({torch.Tensor.dim, torch.Tensor.size, torch.Tensor.numel, torch.Tensor.__len__,
                      torch.Tensor.is_floating_point, torch.Tensor.stride, torch.Tensor.get_device,
                      torch.Tensor.is_complex, torch.Tensor.element_size, torch.Tensor.ndimension,
                      torch.Tensor.nelement, torch.Tensor.dim_order})
_CROP_OPS = {"__getitem__", "narrow"}


_FAMILY_BY_TYPE: dict[type, str | None] = {}


def _module_family(module: nn.Module) -> str | None:
    """The op family a module's forward runs, cached per class (asked once per module call)."""
    kind = type(module)
    if kind not in _FAMILY_BY_TYPE:
        _FAMILY_BY_TYPE[kind] = _family_of(module)
    return _FAMILY_BY_TYPE[kind]


def _family_of(module: nn.Module) -> str | None:
    from torch.nn.modules import conv, pooling

    if isinstance(module, conv._ConvTransposeNd):
        return "conv_transpose"
    if isinstance(module, conv._ConvNd):
        return "conv"
    if isinstance(module, pooling._MaxPoolNd):
        return "max_pool"
    if isinstance(module, pooling._AvgPoolNd):
        return "avg_pool"
    if isinstance(module, pooling._MaxUnpoolNd):
        return "max_unpool"
    if isinstance(module, (pooling._AdaptiveAvgPoolNd, pooling._AdaptiveMaxPoolNd)):
        return "adaptive_pool"
    if isinstance(module, nn.Upsample):
        return "interpolate"
    if isinstance(module, nn.PixelShuffle):
        return "pixel_shuffle"
    if isinstance(module, nn.PixelUnshuffle):
        return "pixel_unshuffle"
    return None


def _bind(family: str, args: tuple, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    names = _SIGNATURES[family]
    bound = dict(zip(names, args))
    bound.update(kwargs)
    return bound


def _tuple(value: Any, n: int, default: int) -> tuple[int, ...]:
    if value is None or (isinstance(value, (list, tuple)) and len(value) == 0):
        return (default,) * n
    if isinstance(value, (list, tuple, torch.Size)):
        vals = tuple(int(v) for v in value)
        return vals * n if len(vals) == 1 and n > 1 else vals
    return (int(value),) * n


def _shape(t: Any) -> Shape:
    return tuple(t.shape)  # torch.Size holds plain ints (the trace never has symbolic sizes)


def _layer_params(family: str, ndim: int, bound: dict[str, Any], module: nn.Module | None) -> LayerArgs:
    """Normalise the op's arguments into per-dim tuples. For a conv module with a non-zeros
    padding_mode the op sees an input the module already padded: the module's own padding is
    recorded instead (the event's input is the module's input)."""
    if family in ("conv", "conv_transpose"):
        pad = bound.get("padding", 0)
        if module is not None and family == "conv" and getattr(module, "padding_mode", "zeros") != "zeros":
            pad = module.padding
        bias = bound.get("bias")
        key = (family, ndim, tuple(bound["weight"].shape), tuple(bias.shape) if isinstance(bias, torch.Tensor) else None,
               _hashable(bound.get("stride")), _hashable(pad), _hashable(bound.get("dilation")), bound.get("groups", 1),
               _hashable(bound.get("output_padding")))
        try:
            return _conv_args(*key)
        except TypeError:  # an argument that cannot be a cache key: computed as it is
            return _conv_args.__wrapped__(*key)
    if family in ("max_pool", "avg_pool"):
        kernel = _tuple(bound["kernel_size"], ndim, 1)
        stride = bound.get("stride")
        return PoolArgs(
            kernel_size=kernel,
            stride=kernel if stride is None or stride == [] or stride == () else _tuple(stride, ndim, 1),
            padding=_tuple(bound.get("padding", 0), ndim, 0),
            dilation=_tuple(bound.get("dilation", 1), ndim, 1) if family == "max_pool" else (1,) * ndim,
            ceil_mode=bool(bound.get("ceil_mode", False)),
        )
    if family == "max_unpool":
        kernel = _tuple(bound["kernel_size"], ndim, 1)
        stride = bound.get("stride")
        return UnpoolArgs(
            kernel_size=kernel, stride=kernel if stride is None else _tuple(stride, ndim, 1),
            padding=_tuple(bound.get("padding", 0), ndim, 0), output_size_given=bound.get("output_size") is not None,
        )
    if family == "interpolate":
        size, scale = bound.get("size"), bound.get("scale_factor")
        scales = None if scale is None else tuple(float(s) for s in (scale if isinstance(scale, (list, tuple)) else (scale,) * ndim))
        return ResizeArgs(None if size is None else _tuple(size, ndim, 1), scales, bound.get("mode", "nearest"))
    if family == "pixel_shuffle":
        return ShuffleArgs(int(bound["upscale_factor"]))
    if family == "pixel_unshuffle":
        return ShuffleArgs(int(bound["downscale_factor"]))
    if family == "adaptive_pool":
        return AdaptiveArgs(bound.get("output_size"))
    if family == "pad":
        return PadArgs(tuple(int(v) for v in bound["pad"]), bound.get("mode", "constant"))
    return NoArgs()


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


@functools.lru_cache(maxsize=1024)
def _conv_args(family: str, ndim: int, weight: Shape, bias: Shape | None, stride: Any, pad: Any, dilation: Any, groups: Any,
               output_padding: Any) -> ConvArgs:
    """A convolution's parameters per dim; cached, as the same layer is met at every check."""
    kernel = weight[2:]
    dil = _tuple(dilation, ndim, 1)
    padding, same = _padding(pad, ndim, kernel, dil)
    conv = ConvArgs(kernel_size=kernel, stride=_tuple(stride, ndim, 1), padding=padding, dilation=dil,
                    groups=int(groups or 1), weight_shape=weight, bias_shape=bias, same=same)
    if family == "conv_transpose":
        return TransposeArgs(**conv.__dict__, output_padding=_tuple(output_padding, ndim, 0))
    return conv


def _padding(pad: Any, ndim: int, kernel: Shape, dilation: Shape) -> tuple[Shape, bool]:
    """(padding per dim, same): ``'same'`` pads d*(k-1) in total (split unevenly for even
    kernels), recorded as its left part; ``'valid'`` is 0."""
    if isinstance(pad, str):
        if pad == "same":
            return tuple(d * (k - 1) // 2 for d, k in zip(dilation, kernel)), True
        pad = 0
    return _tuple(pad, ndim, 0), False


def _call_site() -> SourceLocation | None:
    """The first frame outside torch and this package: where the user called the op."""
    frame: Any = sys._getframe(2)
    torch_dir = torch.__file__.rsplit("/", 1)[0]
    own_dir = __file__.rsplit("/", 1)[0]
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith((torch_dir, own_dir)) and not filename.startswith("<"):
            return SourceLocation(filename, frame.f_lineno)
        frame = frame.f_back
    return None


@dataclass
class _Frame:
    name: str
    module: nn.Module
    family: str | None
    recorded: bool = False
    output_size_given: bool = False
    input: Any = None


class LinterBug(Exception):
    """An exception raised by the linter's own code while tracing: never blamed on the model."""


@dataclass
class MergeRepair:
    """A merge (torch.cat/add/...) that eager torch would reject, made to go on by resizing the
    operands in ``branches`` to the spatial size of operand ``target``."""

    merge: str
    up_branch: int
    message: str
    target: int = 0
    shapes: tuple[Shape, ...] = ()


@dataclass
class _Failure:
    where: str
    op: str
    in_shapes: tuple[Shape, ...]
    message: str
    events_before: int
    feeds: tuple[int, ...] = ()
    """Events whose outputs reached the failing op (to find what caused it)."""


@dataclass(frozen=True)
class Output:
    """One tensor the forward returned: its shape and the events that fed it."""

    shape: Shape
    feeds: tuple[int, ...]


class _Recorder(TorchFunctionMode):
    def __init__(self, names: dict[int, str], overrides: Mapping[str, Shape]):
        super().__init__()
        self.names = names
        self.overrides = overrides
        self.stack: list[_Frame] = []
        self.unwound: tuple[str, str] | None = None
        """(name, class) of the innermost module a raised exception left, if any."""
        self.events: list[LayerEvent] = []
        self.counts: dict[str, int] = {}
        self.provenance: dict[int, tuple[weakref.ref, frozenset[int]]] = {}
        self.repairs: list[MergeRepair] = []
        self.failure: _Failure | None = None
        self.op_error: BaseException | None = None
        """The last exception raised by an op of the model (re-raised as it is)."""

    # provenance -------------------------------------------------------------------------
    def prov(self, t: torch.Tensor) -> frozenset[int]:
        rec = self.provenance.get(id(t))
        if rec is not None and rec[0]() is t:
            return rec[1]
        return frozenset()

    def set_prov(self, t: torch.Tensor, value: frozenset[int]) -> None:
        try:
            self.provenance[id(t)] = (weakref.ref(t), value)
        except TypeError:  # pragma: no cover - tensors support weak references
            pass

    # module stack ---------------------------------------------------------------------
    def pre_hook(self, module: nn.Module, args: Any, kwargs: Any = None) -> None:
        try:
            self._enter(module, args, kwargs)
        except Exception as exc:
            raise LinterBug(f"entering {self.names.get(id(module), '?')}: {type(exc).__name__}: {exc}") from exc

    def _enter(self, module: nn.Module, args: Any, kwargs: Any) -> None:
        name = self.names.get(id(module))
        if name is None:
            return  # not a module of the model (one kept in a plain list): its ops are the caller's
        frame = _Frame(name, module, _module_family(module))
        if frame.family is not None:
            first = args[0] if args else next(iter(kwargs.values()), None) if kwargs else None
            frame.input = first if isinstance(first, torch.Tensor) else None
        if frame.family in ("conv_transpose", "max_unpool"):
            # ConvTranspose.forward(x, output_size) / MaxUnpool.forward(x, indices, output_size)
            given = kwargs.get("output_size") if kwargs else None
            position = 1 if frame.family == "conv_transpose" else 2
            if given is None and len(args) > position:
                given = args[position]
            frame.output_size_given = given is not None
        self.unwound = None
        self.stack.append(frame)

    def post_hook(self, module: nn.Module, args: Any, output: Any) -> None:
        if self.stack and self.stack[-1].module is module:
            frame = self.stack.pop()
            if output is None and self.unwound is None:
                # always_call: also called when the forward raised; the first one is the
                # innermost module (a module that returns None is forgotten at the next call)
                self.unwound = (frame.name, type(module).__name__)

    def _path(self) -> str:
        return self.stack[-1].name if self.stack else ""

    def _unique(self, base: str) -> str:
        n = self.counts.get(base, 0) + 1
        self.counts[base] = n
        return base if n == 1 else f"{base}#{n}"

    # interception ---------------------------------------------------------------------
    def __torch_function__(self, func: Callable, types: Any, args: tuple = (), kwargs: Mapping | None = None) -> Any:
        if func in _QUERIES:  # asks about a tensor (its rank, its size): nothing to record
            return func(*args, **(kwargs or {}))
        try:
            return self._dispatch(func, args, kwargs or {})
        except Exception as exc:
            if exc is self.op_error or isinstance(exc, LinterBug):
                raise
            op = getattr(func, "__name__", str(func))
            raise LinterBug(f"recording {op} in {self._path() or 'the model'}: {type(exc).__name__}: {exc}") from exc

    def _dispatch(self, func: Callable, args: tuple, kwargs: Mapping) -> Any:
        op = getattr(func, "__name__", str(func))
        tensors = _tensors(args, kwargs)
        if op in _NORMS and tensors and _shape_only_norm(op, args, kwargs, tensors):
            # Normalisation keeps the shape; on meta tensors torch would run its slow Python
            # decomposition only to compute that. Checked for the errors eager would raise.
            out = _empty(tensors[0], tensors[0].shape)
            self.set_prov(out, self.prov(tensors[0]))
            return out
        fam = op_family(op)
        frame = self.stack[-1] if self.stack else None
        if frame is not None and frame.family is not None:
            # Inside a layer module: only its own op is recorded, once per call, under the
            # module's name (``name#2`` for the second call of the same module).
            if fam is not None and fam[0] == frame.family and not frame.recorded:
                frame.recorded = True
                return self._record_layer(func, op, fam, args, kwargs, tensors, frame, self._unique(frame.name))
            return self._passthrough(func, op, args, kwargs, tensors)
        if fam is not None:
            base = f"{self._path()}:F.{op}" if self._path() else f"F.{op}"
            return self._record_layer(func, op, fam, args, kwargs, tensors, None, self._unique(base))
        if op in _MERGE_OPS:
            return self._record_merge(func, op, args, kwargs, tensors)
        if op in _CROP_OPS:
            return self._record_crop(func, op, args, kwargs, tensors)
        return self._passthrough(func, op, args, kwargs, tensors)

    def _call(self, func: Callable, op: str, args: tuple, kwargs: Mapping, tensors: list, where: str) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            self._fail(where, op, tensors, first_line(exc))
            self.op_error = exc
            raise

    def _passthrough(self, func: Callable, op: str, args: tuple, kwargs: Mapping, tensors: list) -> Any:
        out = _shape_keeping(op, args, kwargs, tensors)
        if out is None:
            out = self._call(func, op, args, kwargs, tensors, self._path())
        if tensors:
            merged = frozenset().union(*(self.prov(t) for t in tensors))
            if merged:
                for t in tree_flatten(out)[0]:
                    if isinstance(t, torch.Tensor):
                        self.set_prov(t, merged)
        return out

    def _emit(self, out: Any, event: LayerEvent) -> Any:
        self.events.append(event)
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                self.set_prov(t, frozenset({event.index}))
        return out

    def _record_layer(self, func, op, fam, args, kwargs, tensors, frame: _Frame | None, name: str) -> Any:
        family, ndim = fam
        module = frame.module if frame is not None else None
        x = tensors[0]
        bound = _bind(family, args, kwargs)
        if ndim == 0:
            ndim = len(bound["pad"]) // 2 if family == "pad" else max(x.dim() - 2, 1)
        # A conv module with padding_mode != zeros pads its input itself before the op: the
        # layer's input is the module's input.
        seen = frame.input if frame is not None and frame.input is not None and frame.input.dim() == x.dim() else x
        op_params = _op_params(family, ndim, bound)
        out = self._layer_output(func, op, fam=(family, ndim), bound=bound, args=args, kwargs=kwargs, tensors=tensors, op_params=op_params, name=name)
        first = out[0] if isinstance(out, (tuple, list)) else out
        forced = None
        target = self.overrides.get(name)
        if target is not None and tuple(first.shape[-ndim:]) != tuple(target):
            resized = _resize(first, target)
            forced = _shape(resized)
            out = (resized, *out[1:]) if isinstance(out, tuple) else resized
        conv_module_pads = module is not None and family == "conv" and getattr(module, "padding_mode", "zeros") != "zeros"
        params = _layer_params(family, ndim, bound, module) if conv_module_pads or op_params is None else op_params
        if frame is not None and isinstance(params, (TransposeArgs, UnpoolArgs)) and (
            frame.output_size_given or _output_size_in_forward(module)
        ):
            params = dataclasses.replace(params, output_size_given=True)
        event = LayerEvent(
            index=len(self.events),
            name=name,
            kind=type(module).__name__ if module is not None else f"F.{op}",
            op=op,
            module=module is not None,
            ndim=ndim,
            params=params,
            in_shapes=(_shape(seen),),
            out_shape=_shape(first),
            feeds=(tuple(sorted(self.prov(seen) or self.prov(x))),),
            location=None if module is not None else _call_site(),
            forced_shape=forced,
        )
        return self._emit(out, event)

    def _layer_output(self, func, op, *, fam, bound, args, kwargs, tensors, op_params, name: str) -> Any:
        """The layer's output: from the closed form when there is one, else from torch; an empty
        transposed-conv output is traced on (it is the layer's fault, CS204)."""
        family, ndim = fam
        x = tensors[0]
        try:
            out = _closed_form(family, ndim, op, bound, x, tensors, op_params)
            return self._call(func, op, args, kwargs, tensors, name) if out is None else out
        except RuntimeError as exc:
            empty = _empty_transpose_output(family, ndim, bound, x, exc)
            if empty is None:
                raise
            # Output size 0 in every dim: eager's oneDNN path returns an empty tensor here, its
            # other paths raise. Either way it is the layer's fault (CS204); trace on with it.
            self.failure = None
            self.op_error = None
            return empty

    def _record_merge(self, func, op, args, kwargs, tensors) -> Any:
        listed = op in _LIST_MERGES
        operands = [t for t in (args[0] if listed and args else tensors) if isinstance(t, torch.Tensor)]
        if listed and kwargs.get("tensors") is not None:
            operands = list(kwargs["tensors"])
        spatial = [t for t in operands if t.dim() >= 3]
        if len(spatial) < 2:
            return self._passthrough(func, op, args, kwargs, tensors)
        where = self._path()
        kind = _MERGE_OPS[op]
        name = self._unique(f"{where}:{kind}" if where else kind)
        feeds = tuple(tuple(sorted(self.prov(t))) for t in operands)
        shapes = tuple(_shape(t) for t in operands)
        try:
            out = _joined(op, args, kwargs, operands)
            if out is None:
                out = func(*args, **kwargs)
        except Exception as exc:
            out = self._repair_merge(func, op, args, kwargs, operands, name, exc)
        event = LayerEvent(
            index=len(self.events),
            name=name,
            kind=f"torch.{kind}",
            op=kind,
            module=False,
            ndim=max(len(s) for s in shapes) - 2,
            params=MergeArgs(_merge_dim(op, args, kwargs)),
            in_shapes=shapes,
            out_shape=_shape(out),
            feeds=feeds,
            location=_call_site(),
        )
        return self._emit(out, event)

    def _repair_merge(self, func, op, args, kwargs, operands, name, exc) -> Any:
        """A merge that eager torch would reject: resize the operands that came later (by the
        events that made them) to the spatial size of the earliest one, and go on."""
        message = first_line(exc)
        listed = op in _LIST_MERGES
        if len({t.dim() for t in operands}) != 1:
            self._fail(name, op, operands, message)
            self.op_error = exc
            raise exc
        # The operand whose size was set longest ago (a skip from the encoder) is taken as the
        # right one; the branch whose size changed last (just upsampled) is resized to it.
        ranked = sorted(range(len(operands)), key=lambda i: self._last_size_change(operands[i]))
        target_i = ranked[0]
        ndim = operands[0].dim() - 2
        target = tuple(operands[target_i].shape[-ndim:])
        fixed = [t if i == target_i or tuple(t.shape[-ndim:]) == target else _resize(t, target)
                 for i, t in enumerate(operands)]
        for i, t in enumerate(fixed):
            self.set_prov(t, self.prov(operands[i]))
        new_args = (fixed, *args[1:]) if listed else tuple(fixed) + tuple(args[len(fixed):])
        new_kwargs = dict(kwargs)
        new_kwargs.pop("tensors", None)
        try:
            out = func(*new_args, **new_kwargs)
        except Exception:
            self._fail(name, op, operands, message)
            self.op_error = exc
            raise exc from None
        shapes = tuple(_shape(t) for t in operands)
        culprits = [i for i in range(len(operands)) if i != target_i and tuple(operands[i].shape[-ndim:]) != target]
        for i in culprits:
            self.repairs.append(MergeRepair(name, i, message, target_i, shapes))
        return out

    def _last_size_change(self, t: torch.Tensor) -> int:
        """The index of the most recent recorded event that changed the spatial size on the way
        to ``t`` (following first inputs; -1 for the model's input)."""
        todo = sorted(self.prov(t), reverse=True)
        seen: set[int] = set()
        while todo:
            i = todo.pop(0)
            if i == MODEL_INPUT or i in seen:
                continue
            seen.add(i)
            ev = self.events[i]
            if ev.ndim and ev.in_shapes and tuple(ev.in_shapes[0][-ev.ndim:]) != tuple((ev.forced_shape or ev.out_shape)[-ev.ndim:]):
                return i
            todo = sorted(set(todo) | set(ev.feeds[0] if ev.feeds else ()), reverse=True)
        return MODEL_INPUT

    def _fail(self, where: str, op: str, tensors: list, message: str) -> None:
        if self.failure is None:
            feeds = tuple(sorted(frozenset().union(*(self.prov(t) for t in tensors)))) if tensors else ()
            self.failure = _Failure(where, op, tuple(_shape(t) for t in tensors), message, len(self.events), feeds)

    def _record_crop(self, func, op, args, kwargs, tensors) -> Any:
        out = self._passthrough(func, op, args, kwargs, tensors)
        if not tensors or not isinstance(out, torch.Tensor):
            return out
        x = tensors[0]
        if x.dim() >= 3 and out.dim() == x.dim() and tuple(out.shape[:2]) == tuple(x.shape[:2]) and out.shape != x.shape:
            name = self._unique(f"{self._path()}:crop" if self._path() else "crop")
            forced = None
            target = self.overrides.get(name)
            ndim = x.dim() - 2
            if target is not None and tuple(out.shape[-ndim:]) != tuple(target):
                raw_shape = _shape(out)
                out = _resize(out, target)
                forced = _shape(out)
                self.set_prov(out, self.prov(x))
            event = LayerEvent(
                index=len(self.events),
                name=name,
                kind=f"Tensor.{op}",
                op="crop",
                module=False,
                ndim=x.dim() - 2,
                params=NoArgs(),
                in_shapes=(_shape(x),),
                out_shape=raw_shape if forced is not None else _shape(out),
                feeds=(tuple(sorted(self.prov(x))),),
                location=_call_site(),
                forced_shape=forced,
            )
            return self._emit(out, event)
        return out


def _output_size_in_forward(module: Any) -> bool:
    """Whether the ``forward`` of ``module`` running right now got an ``output_size``
    (ConvTranspose and MaxUnpool take it by keyword too, which a global pre-hook cannot see)."""
    frame: Any = sys._getframe(1)
    for _ in range(12):
        if frame is None:
            return False
        if frame.f_code.co_name == "forward" and frame.f_locals.get("self") is module:
            return frame.f_locals.get("output_size") is not None
        frame = frame.f_back
    return False


def _empty(like: torch.Tensor, shape: Any, dtype: Any = None) -> torch.Tensor:
    """An empty tensor on ``like``'s device (``Tensor.new_empty`` on meta runs torch's Python
    reference; ``torch.empty`` does not)."""
    return torch.empty(tuple(shape), dtype=dtype or like.dtype, device=like.device)


FAST = True
"""Answer closed-form shapes on the meta device without torch's meta kernels (see fastshape);
``tests/test_fastshape.py`` turns it off to compare."""


def _all_meta(tensors: list) -> bool:
    return bool(tensors) and all(t.is_meta for t in tensors)


def _op_params(family: str, ndim: int, bound: dict[str, Any]) -> LayerArgs | None:
    """The op's own parameters (None when they are not ones the tracer can read)."""
    try:
        return _layer_params(family, ndim, bound, None)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return None


def _closed_form(family: str, ndim: int, op: str, bound: dict[str, Any], x: torch.Tensor, tensors: list, p: LayerArgs | None) -> Any:
    """The op's output as an empty meta tensor of its closed-form shape, or None."""
    if not FAST or p is None or not _all_meta(tensors):
        return None
    if family in ("conv", "conv_transpose", "max_pool", "avg_pool", "interpolate", "adaptive_pool", "max_unpool"):
        # the kernels insist on one floating dtype for input, weight and bias
        values = [t for t in tensors if not (family == "max_unpool" and t is not x)]
        if not x.is_floating_point() or any(t.dtype != x.dtype for t in values):
            return None
    if family == "max_unpool":
        indices = bound.get("indices")
        if not isinstance(indices, torch.Tensor) or tuple(indices.shape) != tuple(x.shape) or indices.dtype != torch.int64:
            return None  # torch checks the indices against the input
    from . import fastshape

    try:
        shape = fastshape.output_shape(family, ndim, _shape(x), p, bound)
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    if shape is None:
        return None
    out = _empty(x, shape)
    with_indices = op.endswith("_with_indices") or (family in ("max_pool", "adaptive_pool") and bool(bound.get("return_indices")))
    if with_indices:
        if family == "adaptive_pool" and op.startswith("adaptive_avg"):
            return None
        return out, _empty(x, shape, torch.int64)
    return out


def _joined(op: str, args: tuple, kwargs: Mapping, operands: list) -> Any:
    """``torch.cat``/``torch.stack`` of meta tensors of one dtype whose shapes fit: the empty
    result, without torch's Python reference. None for anything else (torch decides)."""
    if not FAST or op not in _LIST_MERGES or not _all_meta(operands) or len({t.dtype for t in operands}) != 1:
        return None
    shapes = [tuple(t.shape) for t in operands]
    rank = len(shapes[0])
    if any(len(sh) != rank for sh in shapes) or rank == 0:
        return None
    dim = _merge_dim(op, args, kwargs)
    if dim is None:
        return None
    if op == "stack":
        if len(set(shapes)) != 1 or not -rank - 1 <= dim <= rank:
            return None
        dim = dim % (rank + 1)
        return _empty(operands[0], shapes[0][:dim] + (len(shapes),) + shapes[0][dim:])
    if not -rank <= dim < rank:
        return None
    dim %= rank
    if any(sh[:dim] + sh[dim + 1:] != shapes[0][:dim] + shapes[0][dim + 1:] for sh in shapes):
        return None
    return _empty(operands[0], shapes[0][:dim] + (sum(sh[dim] for sh in shapes),) + shapes[0][dim + 1:])


def _shape_keeping(op: str, args: tuple, kwargs: Mapping, tensors: list) -> Any:
    """An activation or dropout on one meta tensor: its output has the input's shape (an in
    place one returns the input itself), without torch's reference implementation."""
    if not FAST or len(tensors) != 1 or not tensors[0].is_meta:
        return None
    from .fastshape import SHAPE_KEEPING

    if op not in SHAPE_KEEPING:
        return None
    x = tensors[0]
    if not (args and args[0] is x) and kwargs.get("input") is not x:
        return None
    if op.endswith("_") or kwargs.get("inplace") is True:
        return x
    if op in ("dropout1d", "dropout2d", "dropout3d") and x.dim() - int(op[7]) not in (1, 2):
        return None  # channel dropout checks the rank of its input
    return _empty(x, x.shape)


def _empty_transpose_output(family: str, ndim: int, bound: dict[str, Any], x: torch.Tensor, exc: BaseException) -> torch.Tensor | None:
    """The empty output of a transposed convolution whose output size is 0 or less, or None
    when ``exc`` is about something else."""
    if family != "conv_transpose" or "too small" not in str(exc):
        return None
    from .arithmetic import conv_transpose_formula

    weight = bound.get("weight")
    if not isinstance(weight, torch.Tensor) or weight.dim() != ndim + 2:
        return None
    stride = _tuple(bound.get("stride"), ndim, 1)
    padding = _tuple(bound.get("padding", 0), ndim, 0)
    dilation = _tuple(bound.get("dilation"), ndim, 1)
    output_padding = _tuple(bound.get("output_padding"), ndim, 0)
    spatial = [
        max(0, conv_transpose_formula(x.shape[-ndim + i], weight.shape[2 + i], stride[i], padding[i], dilation[i], output_padding[i]))
        for i in range(ndim)
    ]
    channels = weight.shape[1] * int(bound.get("groups", 1) or 1)
    return _empty(x, tuple(x.shape[: -ndim - 1]) + (channels,) + tuple(spatial))


def _tensors(args: tuple, kwargs: Mapping) -> list[torch.Tensor]:
    """The tensors among an op's arguments (at most one list or tuple deep, as torch ops take
    them), in order; much cheaper than a full pytree flatten on every intercepted call."""
    found: list[torch.Tensor] = []
    for value in (*args, *kwargs.values()):
        if isinstance(value, torch.Tensor):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(v for v in value if isinstance(v, torch.Tensor))
    return found


_NORMS = {"batch_norm", "instance_norm", "layer_norm", "group_norm"}


def _shape_only_norm(op: str, args: tuple, kwargs: Mapping, tensors: list[torch.Tensor]) -> bool:
    """True when ``op`` runs on meta tensors with settings eager accepts, so that only its
    (unchanged) output shape matters. Anything unusual goes through torch itself."""
    if not all(t.is_meta for t in tensors):
        return False
    x = args[0] if args else kwargs.get("input")
    if not isinstance(x, torch.Tensor) or x.dim() < 2:
        return False
    params = [t for t in tensors[1:] if t.dim() == 1]
    if op in ("batch_norm", "instance_norm"):
        return all(t.shape[0] == x.shape[1] for t in params) and len(params) == len(tensors) - 1
    if op == "group_norm":
        groups = args[1] if len(args) > 1 else kwargs.get("num_groups")
        return isinstance(groups, int) and groups > 0 and x.shape[1] % groups == 0 and all(
            t.shape[0] == x.shape[1] for t in params
        )
    if op == "layer_norm":
        shape = args[1] if len(args) > 1 else kwargs.get("normalized_shape")
        shape = (shape,) if isinstance(shape, int) else tuple(shape or ())
        return bool(shape) and tuple(x.shape[-len(shape):]) == shape and all(
            tuple(t.shape) == shape for t in tensors[1:]
        )
    return False


def _merge_dim(op: str, args: tuple, kwargs: Mapping) -> int | None:
    if op in _LIST_MERGES:
        if len(args) > 1:
            return int(args[1])
        return int(kwargs.get("dim", kwargs.get("axis", 0)))
    return None


def _resize(t: torch.Tensor, spatial: Shape) -> torch.Tensor:
    """A tensor like ``t`` with its trailing dims set to ``spatial`` (zero-padded or cropped
    when real, free on the meta device)."""
    n = len(spatial)
    shape = tuple(t.shape[:-n]) + tuple(max(0, int(v)) for v in spatial)
    if t.device.type == "meta":
        return _empty(t, shape)
    out = t.new_zeros(shape)
    index = tuple(slice(0, min(a, b)) for a, b in zip(t.shape[-n:], spatial))
    out[(...,) + index] = t[(...,) + index]
    return out


@contextlib.contextmanager
def _eval_mode(modules: list[nn.Module]) -> Iterator[None]:
    """Every module in eval mode for the pass, and back as it was (``training`` is a plain
    attribute: set directly, without ``nn.Module.__setattr__``)."""
    training = [m for m in modules if m.training]
    try:
        for m in training:
            object.__setattr__(m, "training", False)
        yield
    finally:
        for m in training:
            object.__setattr__(m, "training", True)


@contextlib.contextmanager
def _hooks(recorder: _Recorder) -> Iterator[None]:
    """Global module hooks for the duration of the trace: two registrations instead of two per
    module (registering a hook on a module costs more than the rest of its trace)."""
    from torch.nn.modules import module as module_hooks

    handles = []
    try:
        handles.append(module_hooks.register_module_forward_pre_hook(recorder.pre_hook))
        handles.append(module_hooks.register_module_forward_hook(recorder.post_hook, always_call=True))
        yield
    finally:
        for h in handles:
            h.remove()


@dataclass
class Slots:
    """Every parameter and buffer slot of a model, with a stand-in per tensor: the model's
    modules are swapped to the stand-ins for a pass and back in ``finally``."""

    modules: list[nn.Module]
    slots: list[tuple[nn.Module, str, str, torch.Tensor]]
    """(module, ``_parameters`` or ``_buffers``, name, the model's own tensor)."""
    lazy: bool = False
    """Some parameter is still uninitialised (a ``LazyConv*d``)."""

    @classmethod
    def of(cls, model: nn.Module) -> Slots:
        modules = list(model.modules())
        slots = []
        lazy = False
        for module in modules:
            for kind in ("_parameters", "_buffers"):
                for name, t in getattr(module, kind).items():
                    if t is None:
                        continue
                    if nn.parameter.is_lazy(t):  # LazyConv*: left in place, materialised on the call
                        lazy = True
                    else:
                        slots.append((module, kind, name, t))
        return cls(modules, slots, lazy)

    def stand_ins(self, make: Callable[[torch.Tensor], torch.Tensor]) -> list[torch.Tensor]:
        """One stand-in per tensor (tied weights stay tied), in slot order."""
        made: dict[int, torch.Tensor] = {}
        out = []
        for _, _, _, t in self.slots:
            if id(t) not in made:
                made[id(t)] = make(t)
            out.append(made[id(t)])
        return out

    @contextlib.contextmanager
    def swapped(self, stand_ins: list[torch.Tensor]) -> Iterator[None]:
        done = 0
        try:
            for (module, kind, name, _), t in zip(self.slots, stand_ins):
                getattr(module, kind)[name] = t
                done += 1
            yield
        finally:
            for module, kind, name, original in self.slots[:done]:
                getattr(module, kind)[name] = original


def module_names(model: nn.Module) -> dict[int, str]:
    names: dict[int, str] = {}
    for name, module in model.named_modules(remove_duplicate=False):
        names.setdefault(id(module), name)
    return names


def _copies(value: Any) -> Any:
    return tree_map(lambda t: t.detach().clone() if isinstance(t, torch.Tensor) else t, value)


def to_meta(value: Any) -> Any:
    return tree_map(lambda t: torch.empty(t.shape, dtype=t.dtype, device="meta") if isinstance(t, torch.Tensor) else t, value)


def returned_tensors(value: Any, depth: int = 0) -> list[torch.Tensor]:
    """The tensors in what a forward returned: nested lists, tuples, dicts, named tuples,
    dataclasses and output objects with tensor attributes (depth-first, in order)."""
    import dataclasses

    if isinstance(value, torch.Tensor):
        return [value]
    if depth > 6 or value is None or isinstance(value, (str, bytes, int, float, bool)):
        return []
    if isinstance(value, Mapping):
        items: Any = list(value.values())
    elif isinstance(value, (list, tuple)):
        items = list(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [getattr(value, f.name, None) for f in dataclasses.fields(value)]
    else:
        return []
    found: list[torch.Tensor] = []
    for item in items:
        found.extend(returned_tensors(item, depth + 1))
    return found


@dataclass
class Outcome:
    result: TraceResult
    repairs: list[MergeRepair] = field(default_factory=list)
    failure: _Failure | None = None
    exception: BaseException | None = None
    outputs: tuple[Output, ...] = ()
    """The spatial tensors the forward returned (empty when it raised)."""
    input_shape: Shape = ()
    """The shape of the first input tensor."""
    raised_in: tuple[str, str] | None = None
    """When the forward raised outside an op the trace records: the innermost module that was
    running (name, class), e.g. a ConvTranspose whose ``output_size=`` is out of reach."""


def run(
    model: nn.Module,
    args: tuple,
    kwargs: Mapping[str, Any],
    *,
    device: str = "meta",
    overrides: Mapping[str, Shape] | None = None,
    slots: Slots | None = None,
    stand_ins: list[torch.Tensor] | None = None,
    names: dict[int, str] | None = None,
) -> Outcome:
    """Trace one forward pass. ``device='meta'``: parameters, buffers and inputs are meta
    tensors for the call. ``device='cpu'``: a real pass on copies of the model's own CPU weights
    and of the given (real) inputs, under ``no_grad`` with the RNG state restored. ``slots``,
    ``stand_ins`` (meta ones) and ``names`` may be built once for several passes. A failure of
    the linter's own code raises ``LinterBug``; a failure of the model is returned."""
    names = names if names is not None else module_names(model)
    slots = slots or Slots.of(model)
    if device == "meta":
        tensors = stand_ins if stand_ins is not None else slots.stand_ins(lambda t: torch.empty(t.shape, dtype=t.dtype, device="meta"))
    else:  # copies: buffers a forward updates stay as they were in the model
        tensors = slots.stand_ins(lambda t: t.detach().clone())
    recorder = _Recorder(names, overrides or {})
    exception: BaseException | None = None
    returned: Any = None
    first_input: Shape = ()
    rng = torch.random.get_rng_state()
    try:
        with _eval_mode(slots.modules), torch.no_grad(), slots.swapped(tensors):
            if device == "meta":
                margs, mkwargs = to_meta(tuple(args)), to_meta(dict(kwargs))
            else:  # copies: a forward that writes into its inputs must not change the caller's
                margs, mkwargs = _copies(tuple(args)), _copies(dict(kwargs))
            for t in tree_flatten((margs, mkwargs))[0]:
                if isinstance(t, torch.Tensor):
                    recorder.set_prov(t, frozenset({MODEL_INPUT}))
                    first_input = first_input or _shape(t)
            with _hooks(recorder), recorder:
                returned = model(*margs, **mkwargs)
    except LinterBug:
        raise
    except Exception as exc:  # reported by the caller, with the layers that ran
        exception = exc
    finally:
        torch.random.set_rng_state(rng)
    outputs = tuple(
        Output(_shape(t), tuple(sorted(recorder.prov(t))))
        for t in returned_tensors(returned)
        if t.dim() >= 3
    ) if exception is None else ()
    result = TraceResult(events=tuple(recorder.events), device=device)
    raised_in = recorder.unwound if exception is not None else None
    return Outcome(result, recorder.repairs, recorder.failure, exception, outputs, first_input, raised_in)
