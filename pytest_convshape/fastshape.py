"""Output shapes of the layers the tracer records, from their closed form (no torch).

On the meta device torch computes an op's output shape with Python meta kernels and
references; the first one to run imports torch's compiler stack (``torch._dynamo``, sympy),
which costs seconds at a cold start and some hundred microseconds per op after that. For the
layers whose shape has a closed form, the tracer asks this module instead and makes an empty
meta tensor of that shape. Each function answers only when the arguments are ones eager torch
accepts and its meta kernel would accept too (then both give exactly this shape); for anything
else it returns ``None`` and the op goes through torch as before, so a verdict never depends
on this shortcut. ``tests/test_fastshape.py`` compares every answer with torch's own.

Shapes are tuples of ints; ``p`` is the tracer's normalised parameter dict for the op (per-dim
tuples), ``x`` the input's shape.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from . import arithmetic as ar
from .records import ConvArgs, LayerArgs, PoolArgs, TransposeArgs, UnpoolArgs

Shape = tuple[int, ...]

_INTERP_MODES = {
    1: {"nearest", "nearest-exact", "linear", "area"},
    2: {"nearest", "nearest-exact", "bilinear", "bicubic", "area"},
    3: {"nearest", "nearest-exact", "trilinear", "area"},
}
_ALIGNABLE = {"linear", "bilinear", "bicubic", "trilinear"}

SHAPE_KEEPING = frozenset({
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "gelu", "silu", "sigmoid", "tanh",
    "elu", "elu_", "selu", "celu", "hardtanh", "hardtanh_", "hardswish", "hardsigmoid", "mish",
    "softplus", "softsign", "tanhshrink", "logsigmoid", "dropout", "dropout1d", "dropout2d",
    "dropout3d", "alpha_dropout", "feature_alpha_dropout", "sigmoid_", "tanh_", "silu_",
})
"""Functions of one tensor whose output has the input's shape and dtype (``_`` = in place)."""


def _positive(values: Sequence[int]) -> bool:
    return all(isinstance(v, int) and v >= 1 for v in values)


def _split(x: Shape, ndim: int) -> tuple[Shape, int, Shape] | None:
    """(leading dims, channels, spatial) of a batched or unbatched input of ``ndim`` spatial dims."""
    if len(x) not in (ndim + 1, ndim + 2) or ndim < 1:
        return None
    return tuple(x[: -ndim - 1]), x[-ndim - 1], tuple(x[-ndim:])


def conv(x: Shape, ndim: int, p: ConvArgs) -> Shape | None:
    parts = _split(x, ndim)
    w = tuple(p.weight_shape)
    if parts is None or len(w) != ndim + 2:
        return None
    lead, c_in, spatial = parts
    g = p.groups
    k, s, pad, d = p.kernel_size, p.stride, p.padding, p.dilation
    if g < 1 or c_in != w[1] * g or w[0] % g or not _positive(w[2:]) or not _positive(s) or not _positive(d):
        return None
    if any(v < 0 for v in pad) or (p.bias_shape is not None and tuple(p.bias_shape) != (w[0],)):
        return None
    if p.same:
        if any(v != 1 for v in s):
            return None
        out = spatial
    else:
        out = tuple(ar.conv_formula(spatial[i], k[i], s[i], pad[i], d[i]) for i in range(ndim))
    return lead + (w[0],) + out if _positive(out) else None


def conv_transpose(x: Shape, ndim: int, p: TransposeArgs) -> Shape | None:
    parts = _split(x, ndim)
    w = tuple(p.weight_shape)
    if parts is None or len(w) != ndim + 2:
        return None
    lead, c_in, spatial = parts
    g = p.groups
    k, s, pad, d, op = p.kernel_size, p.stride, p.padding, p.dilation, p.output_padding
    if g < 1 or c_in != w[0] or w[0] % g or not _positive(w[2:]) or not _positive(s) or not _positive(d):
        return None
    if any(v < 0 for v in pad) or any(not 0 <= op[i] < max(s[i], d[i]) for i in range(ndim)):
        return None
    c_out = w[1] * g
    if p.bias_shape is not None and tuple(p.bias_shape) != (c_out,):
        return None
    out = tuple(ar.conv_transpose_formula(spatial[i], k[i], s[i], pad[i], d[i], op[i]) for i in range(ndim))
    return lead + (c_out,) + out if _positive(out) else None


def pool(x: Shape, ndim: int, p: PoolArgs, family: str) -> Shape | None:
    parts = _split(x, ndim)
    if parts is None or (family == "avg_pool" and ndim == 3):
        return None  # avg_pool3d checks the input against the kernel on its own terms
    lead, c, spatial = parts
    k, s, pad, d = p.kernel_size, p.stride, p.padding, p.dilation
    if not (_positive(k) and _positive(s) and _positive(d)) or any(v < 0 for v in pad):
        return None
    if family == "avg_pool" and any(v != 1 for v in d):
        return None
    if any(2 * pad[i] > (k[i] - 1) * d[i] + 1 or not ar.is_legal_pool_padding(pad[i], k[i]) for i in range(ndim)):
        return None  # torch: padding at most half the (effective) kernel
    out = tuple(ar.pool_formula(spatial[i], k[i], s[i], pad[i], d[i], p.ceil_mode) for i in range(ndim))
    return lead + (c,) + out if _positive(out) else None


def max_unpool(x: Shape, ndim: int, p: UnpoolArgs) -> Shape | None:
    parts = _split(x, ndim)
    if parts is None or p.output_size_given or len(x) != ndim + 2:
        return None
    lead, c, spatial = parts
    k, s, pad = p.kernel_size, p.stride, p.padding
    if not (_positive(k) and _positive(s)) or any(v < 0 for v in pad):
        return None
    out = tuple(ar.max_unpool_formula(spatial[i], k[i], s[i], pad[i]) for i in range(ndim))
    return lead + (c,) + out if _positive(out) else None


def interpolate(x: Shape, ndim: int, bound: Mapping[str, Any]) -> Shape | None:
    if len(x) != ndim + 2 or ndim not in _INTERP_MODES:
        return None
    mode = bound.get("mode", "nearest")
    align, antialias = bound.get("align_corners"), bound.get("antialias", False)
    if mode not in _INTERP_MODES[ndim] or (align is not None and mode not in _ALIGNABLE):
        return None
    if antialias and mode not in ("bilinear", "bicubic"):
        return None
    size, scale = bound.get("size"), bound.get("scale_factor")
    spatial = x[2:]
    if (size is None) == (scale is None):
        return None
    if size is not None:
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * ndim
        if len(sizes) != ndim or not all(isinstance(v, int) and not isinstance(v, bool) for v in sizes):
            return None
        out = tuple(sizes)
    else:
        scales = list(scale) if isinstance(scale, (list, tuple)) else [scale] * ndim
        if len(scales) != ndim or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0 for v in scales):
            return None
        out = tuple(ar.interpolate_formula(spatial[i], float(scales[i] or 0)) for i in range(ndim))
    return tuple(x[:2]) + out if _positive(out) else None


def pixel_shuffle(x: Shape, factor: Any, up: bool) -> Shape | None:
    if len(x) < 3 or not isinstance(factor, int) or factor < 1:
        return None
    *lead, c, h, w = x
    if min(h, w) < 1:
        return None
    if up:
        if c % (factor * factor):
            return None
        return (*lead, c // (factor * factor), ar.pixel_shuffle_output_size(h, factor), ar.pixel_shuffle_output_size(w, factor))
    down_h, down_w = ar.pixel_unshuffle_output_size(h, factor), ar.pixel_unshuffle_output_size(w, factor)
    if down_h is None or down_w is None:
        return None
    return (*lead, c * factor * factor, down_h, down_w)


def pad(x: Shape, pads: Sequence[int], mode: str) -> Shape | None:
    if len(pads) % 2 or len(pads) // 2 > len(x) or not all(isinstance(v, int) for v in pads):
        return None
    n = len(pads) // 2
    out = list(x)
    for i in range(n):
        dim = len(x) - 1 - i
        lo, hi = pads[2 * i], pads[2 * i + 1]
        size = x[dim]
        if mode != "constant":
            # reflect/replicate/circular pad the last n dims of an (N, C, ...) or (C, ...) input
            if len(x) not in (n + 1, n + 2) or lo < 0 or hi < 0:
                return None
            if mode == "reflect" and (lo >= size or hi >= size):
                return None
            if mode == "circular" and (lo > size or hi > size):
                return None
            if mode not in ("reflect", "replicate", "circular"):
                return None
        out[dim] = size + lo + hi
    return tuple(out) if all(v >= 1 for v in out) else None


def adaptive(x: Shape, ndim: int, output_size: Any) -> Shape | None:
    parts = _split(x, ndim)
    if parts is None:
        return None
    if output_size is None:
        return None
    sizes = list(output_size) if isinstance(output_size, (list, tuple)) else [output_size] * ndim
    if len(sizes) != ndim or (ndim == 1 and None in sizes):  # None ("keep") only in 2d/3d lists
        return None
    spatial = x[-ndim:]
    out = tuple(spatial[i] if v is None else v for i, v in enumerate(sizes))
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in out) or not _positive(spatial):
        return None
    return tuple(x[:-ndim]) + out


def output_shape(family: str, ndim: int, x: Shape, p: LayerArgs, bound: Mapping[str, Any]) -> Shape | None:
    """The op's output shape, when its closed form applies; else None (ask torch)."""
    if family == "conv_transpose" and isinstance(p, TransposeArgs):
        return conv_transpose(x, ndim, p)
    if family == "conv" and isinstance(p, ConvArgs):
        return conv(x, ndim, p)
    if family in ("max_pool", "avg_pool") and isinstance(p, PoolArgs):
        return pool(x, ndim, p, family)
    if family == "max_unpool" and isinstance(p, UnpoolArgs):
        return max_unpool(x, ndim, p)
    if family == "interpolate":
        return interpolate(x, ndim, bound)
    if family == "pixel_shuffle":
        return pixel_shuffle(x, bound.get("upscale_factor"), True)
    if family == "pixel_unshuffle":
        return pixel_shuffle(x, bound.get("downscale_factor"), False)
    if family == "pad":
        mode = bound.get("mode", "constant")
        return pad(x, tuple(bound.get("pad", ())), mode if isinstance(mode, str) else "")
    if family == "adaptive_pool":
        return adaptive(x, ndim, bound.get("output_size"))
    return None
