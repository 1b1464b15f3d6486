"""Random encoder/decoder models for differential fuzzing against eager torch.

A model is described by a frozen ``ModelSpec`` (its ``repr`` is a complete reproduction recipe:
``build(ModelSpec(...))`` gives the same model) and built from plain ``torch.nn`` modules:

* ``stem``: optional 1x1 convolution from ``in_channels`` to ``channels``;
* ``downs.i``: a strided ``ConvNd``, ``MaxPoolNd`` or ``AvgPoolNd`` (random kernel, stride,
  padding, dilation, groups, ceil_mode; anisotropic per dimension or not);
* ``ups.i``: the layer that should invert ``downs.i`` (applied in reverse order): a
  ``ConvTransposeNd`` (random kernel, stride, padding, dilation, output_padding, groups), an
  ``Upsample`` (scale factor and mode), a ``Sequential(Conv 1x1, PixelShuffle)`` (2d) or a
  ``MaxUnpoolNd`` fed the pool's indices;
* in a U-Net, after ``ups.i`` the skip (the input of ``downs.i``) is merged: ``cat`` (then a 1x1
  ``fuse.i``), ``add``, or cat after a crop, an ``F.pad`` or an ``F.interpolate(size=...)`` that
  makes the sizes agree (and hides any mismatch);
* optionally one *planted* parameter that eager torch rejects although the meta device accepts it
  (``ModelSpec.illegal``), set on a layer of the model or on an extra ``head``.

Only ``ModelSpec`` drawing uses size arithmetic (to keep most models runnable, and to make a
share of them round-trip); the fuzz test compares the linter with eager torch, not with this file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from hypothesis import strategies as st
from torch import nn

Ints = tuple[int, ...]

UPSAMPLE_MODES = {
    1: ("nearest", "linear", "nearest-exact"),
    2: ("nearest", "bilinear", "bicubic", "nearest-exact"),
    3: ("nearest", "trilinear", "nearest-exact"),
}
MERGES = ("cat", "add", "crop", "pad", "interp")
HIDING_MERGES = ("crop", "pad", "interp")

# Planted parameters that the meta device accepts and eager CPU torch rejects, with the rule the
# linter is expected to report them under (None: any error finding, or an InputError, will do).
ILLEGAL_KINDS: dict[str, str | None] = {
    "output_padding_too_big": "CS201",  # ConvTranspose output_padding >= max(stride, dilation)
    "negative_padding": "CS203",  # Conv or ConvTranspose
    "negative_output_padding": "CS203",
    "zero_stride_transpose": "CS203",
    "zero_stride_conv": None,  # the meta device raises too (ZeroDivisionError)
    "zero_dilation": "CS203",
    "zero_kernel": "CS203",
    "wrong_bias_size": "CS203",
    "groups_out_channels": "CS202",  # Conv weight.shape[0] not divisible by groups
    "groups_in_channels": "CS202",  # ConvTranspose in_channels not divisible by groups
    "transpose_in_channels": "CS205",  # ConvTranspose input channels != weight.shape[0]
    "transpose_empty_dim": "CS204",  # ConvTranspose output exactly 0 in one dim only
    "interpolate_empty_dim": "CS204",  # linear-mode interpolate to size 0 in one dim
}


@dataclass(frozen=True)
class DownSpec:
    kind: str  # "conv" | "max" | "avg"
    kernel: Ints
    stride: Ints
    padding: Ints
    dilation: Ints
    groups: int = 1
    ceil_mode: bool = False


@dataclass(frozen=True)
class UpSpec:
    kind: str  # "convT" | "upsample" | "shuffle" | "unpool"
    kernel: Ints = ()
    stride: Ints = ()
    padding: Ints = ()
    dilation: Ints = ()
    output_padding: Ints = ()
    groups: int = 1
    mode: str = "nearest"
    scale: tuple[float, ...] = ()
    factor: int = 2


@dataclass(frozen=True)
class Illegal:
    kind: str
    target: str = ""  # module name for layer mutations; "" for a head
    dim: int = 0
    value: int = 0


@dataclass(frozen=True)
class ModelSpec:
    ndim: int
    topology: str  # "chain" | "unet"
    merge: str  # U-Net merge, one of MERGES ("cat" for chains, unused)
    channels: int
    in_channels: int
    stem: bool
    batch: int
    size: Ints
    levels: tuple[tuple[DownSpec, UpSpec], ...]
    illegal: Illegal | None = None

    @property
    def input_shape(self) -> Ints:
        return (self.batch, self.in_channels if self.stem else self.channels, *self.size)

    def pairs(self) -> list[tuple[str, str]]:
        """The (down, up) layer names each up is meant to invert, as the linter names them."""
        return [(f"downs.{i}", up_name(self, i)) for i in range(len(self.levels))]

    # the interface every fuzz family offers (see fuzz_arch.Arch)
    no_fix = False

    @property
    def family(self) -> str:
        return f"mirror-{self.topology}"

    @property
    def restoring(self) -> bool:
        """Chains and U-Nets are autoencoders, meant to give back the input's spatial size, when
        each up scales by what its down took away. A drawn up of another factor (a stride-3
        ConvTranspose for a stride-2 conv) builds no mirror: what such a model should return is
        not known, so only false errors and eager crashes are judged."""
        return all(_up_factor(u, d) == tuple(float(s) for s in d.stride) for d, u in self.levels)

    def build(self, seed: int = 0) -> FuzzNet:
        return build(self, seed)

    def culprit(self) -> None:
        return None

    def mirror_pairs(self) -> list[tuple[str, str]] | None:
        """The pairing check's (down, up) pairs (not checked when a planted layer parameter can
        turn an up into a plain layer, nor when an up scales by another factor than its down:
        pairing by scale leaves it unpaired)."""
        if not self.restoring or (self.illegal is not None and self.illegal.target):
            return None
        return self.pairs()


def _up_factor(u: UpSpec, d: DownSpec) -> tuple[float, ...]:
    """How much an up scales each dim (MaxUnpool mirrors its pool)."""
    n = len(d.stride)
    if u.kind == "convT":
        return tuple(float(s) for s in u.stride)
    if u.kind == "upsample":
        return tuple(float(s) for s in u.scale)
    if u.kind == "shuffle":
        return (float(u.factor),) * n
    return tuple(float(s) for s in d.stride)


def up_name(spec: ModelSpec, i: int) -> str:
    return f"ups.{i}.1" if spec.levels[i][1].kind == "shuffle" else f"ups.{i}"


# --------------------------------------------------------------------------- building

_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
_CONVT = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
_MAX = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
_AVG = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}
_UNPOOL = {1: nn.MaxUnpool1d, 2: nn.MaxUnpool2d, 3: nn.MaxUnpool3d}
_ADAPTIVE = {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d}


def _down_module(spec: ModelSpec, d: DownSpec, unpooled: bool) -> nn.Module:
    n, c = spec.ndim, spec.channels
    if d.kind == "conv":
        return _CONV[n](c, c, d.kernel, stride=d.stride, padding=d.padding, dilation=d.dilation, groups=d.groups)
    if d.kind == "max":
        return _MAX[n](d.kernel, stride=d.stride, padding=d.padding, dilation=d.dilation, ceil_mode=d.ceil_mode,
                       return_indices=unpooled)
    return _AVG[n](d.kernel, stride=d.stride, padding=d.padding, ceil_mode=d.ceil_mode)


def _up_module(spec: ModelSpec, u: UpSpec, d: DownSpec) -> nn.Module:
    n, c = spec.ndim, spec.channels
    if u.kind == "convT":
        return _CONVT[n](c, c, u.kernel, stride=u.stride, padding=u.padding, output_padding=u.output_padding,
                         groups=u.groups, dilation=u.dilation)
    if u.kind == "upsample":
        return nn.Upsample(scale_factor=u.scale, mode=u.mode)
    if u.kind == "shuffle":
        return nn.Sequential(nn.Conv2d(c, c * u.factor * u.factor, 1), nn.PixelShuffle(u.factor))
    return _UNPOOL[n](d.kernel, stride=d.stride, padding=d.padding)


def _spatial_slice(sizes: Sequence[int]) -> tuple:
    return (Ellipsis, *(slice(0, s) for s in sizes))


class FuzzNet(nn.Module):
    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        n, c = spec.ndim, spec.channels
        self.stem = _CONV[n](spec.in_channels, c, 1) if spec.stem else None
        unpooled = [u.kind == "unpool" for _, u in spec.levels]
        self.downs = nn.ModuleList(_down_module(spec, d, unpooled[i]) for i, (d, _) in enumerate(spec.levels))
        self.ups = nn.ModuleList(_up_module(spec, u, d) for d, u in spec.levels)
        self.fuse = None
        if spec.topology == "unet" and spec.merge != "add":
            self.fuse = nn.ModuleList(_CONV[n](2 * c, c, 1) for _ in spec.levels)
        self.head: nn.Module | None = None

    def _merge(self, i: int, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        merge = self.spec.merge
        n = self.spec.ndim
        if merge == "add":
            return x + skip
        if merge == "crop":
            sizes = [min(a, b) for a, b in zip(x.shape[-n:], skip.shape[-n:])]
            x, skip = x[_spatial_slice(sizes)], skip[_spatial_slice(sizes)]
        elif merge == "pad":
            pad: list[int] = []
            for have, want in reversed(list(zip(x.shape[-n:], skip.shape[-n:]))):
                pad += [0, want - have]  # negative values crop
            x = F.pad(x, pad)
        elif merge == "interp":
            x = F.interpolate(x, size=tuple(skip.shape[-n:]), mode="nearest")
        return self.fuse[i](torch.cat([x, skip], dim=1))  # type: ignore[index]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stem is not None:
            x = self.stem(x)
        skips: list[torch.Tensor] = []
        indices: list[Any] = []
        for down in self.downs:
            skips.append(x)
            out = down(x)
            if isinstance(out, tuple):
                x, idx = out
            else:
                x, idx = out, None
            indices.append(idx)
        for i in reversed(range(len(self.ups))):
            up = self.ups[i]
            x = up(x, indices[i]) if isinstance(up, nn.modules.pooling._MaxUnpoolNd) else up(x)
            if self.spec.topology == "unet":
                x = self._merge(i, x, skips[i])
        if self.head is not None:
            x = self.head(x)
        return x


def _tuple_param(value: Any, n: int) -> Ints:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _plant(model: FuzzNet, spec: ModelSpec, bad: Illegal) -> None:
    n, c = spec.ndim, spec.channels
    kind = bad.kind
    if bad.target:
        m = model.get_submodule(bad.target)
        if kind in ("output_padding_too_big", "negative_output_padding"):
            attr = "output_padding"
        elif kind == "negative_padding":
            attr = "padding"
        elif kind in ("zero_stride_transpose", "zero_stride_conv"):
            attr = "stride"
        elif kind == "zero_dilation":
            attr = "dilation"
        else:
            attr = ""
        if attr:
            values = list(_tuple_param(getattr(m, attr), n))
            values[bad.dim] = bad.value
            setattr(m, attr, tuple(values))
        elif kind == "zero_kernel":
            shape = list(m.weight.shape)
            shape[2 + bad.dim] = 0
            m.weight = nn.Parameter(torch.zeros(shape))
        elif kind == "wrong_bias_size":
            out = m.weight.shape[1] * m.groups if m.transposed else m.weight.shape[0]
            m.bias = nn.Parameter(torch.zeros(out + bad.value))
        else:  # pragma: no cover - strategy and planting out of sync
            raise ValueError(kind)
        return
    # heads: extra layers after the decoder
    if kind == "groups_out_channels":
        groups = 2 if c % 2 == 0 else c  # divides in_channels (c > 1), not out = 2c + 1
        out = 2 * c + 1
        head = _CONV[n](c, c, 1, groups=groups)
        head.weight = nn.Parameter(torch.zeros(out, c // groups, *([1] * n)))
        head.bias = nn.Parameter(torch.zeros(out))
    elif kind == "groups_in_channels":
        # input has c channels; groups=g does not divide c (c odd -> g=2; c even -> g = c+1 > c)
        g = 2 if c % 2 else c + 1
        head = _CONVT[n](c, 1, 1)
        head.groups = g
        head.weight = nn.Parameter(torch.zeros(c, 1, *([1] * n)))
        head.bias = nn.Parameter(torch.zeros(g))
    elif kind == "transpose_in_channels":
        head = _CONVT[n](c + bad.value, 1, 1)
    elif kind == "transpose_empty_dim":
        target = [3] * n
        target[bad.dim] = 1
        head = nn.Sequential(_ADAPTIVE[n](tuple(target)), _CONVT[n](c, c, 2, padding=1))
    elif kind == "interpolate_empty_dim":
        scale = [1.0] * n
        scale[bad.dim] = 1.0 / (bad.value + 1000)
        head = nn.Upsample(scale_factor=tuple(scale), mode=UPSAMPLE_MODES[n][1])
    else:  # pragma: no cover
        raise ValueError(kind)
    model.head = head


def build(spec: ModelSpec, seed: int = 0) -> FuzzNet:
    """The model ``spec`` describes, with seeded weights, in train mode."""
    torch.manual_seed(seed)
    model = FuzzNet(spec)
    if spec.illegal is not None:
        _plant(model, spec, spec.illegal)
    return model


def example_input(spec: ModelSpec, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(spec.input_shape, generator=g)


# --------------------------------------------------------------------------- drawing
# Size arithmetic for drawing only (test-side, independent of pytest_convshape.arithmetic).


def _down_out(d: DownSpec, size: int, i: int) -> int:
    k, s, p, dl = d.kernel[i], d.stride[i], d.padding[i], d.dilation[i]
    num = size + 2 * p - dl * (k - 1) - 1
    if d.kind == "conv" or not d.ceil_mode:
        return num // s + 1 if num >= 0 else 0
    if num < 0:
        return 0
    out = -(-num // s) + 1
    if (out - 1) * s >= size + p:
        out -= 1
    return out


def _convt_out(u: UpSpec, size: int, i: int, op: int | None = None) -> int:
    op = u.output_padding[i] if op is None else op
    return (size - 1) * u.stride[i] - 2 * u.padding[i] + u.dilation[i] * (u.kernel[i] - 1) + op + 1


def _up_out(u: UpSpec, d: DownSpec, size: int, i: int) -> int:
    if u.kind == "convT":
        return _convt_out(u, size, i)
    if u.kind == "upsample":
        return math.floor(size * u.scale[i])
    if u.kind == "shuffle":
        return size * u.factor
    return (size - 1) * d.stride[i] - 2 * d.padding[i] + d.kernel[i]


def simulate(spec: ModelSpec) -> list[tuple[Ints, Ints, Ints, Ints]] | None:
    """Per level (down in, down out, up in, up out) spatial sizes, or None when some size would
    be < 1 or a plain cat/add would see different sizes."""
    n = spec.ndim
    size = spec.size
    downs = []
    for d, _ in spec.levels:
        out = tuple(_down_out(d, size[i], i) for i in range(n))
        if min(out) < 1:
            return None
        downs.append((size, out))
        size = out
    result: list[Any] = [None] * len(spec.levels)
    for lvl in reversed(range(len(spec.levels))):
        d, u = spec.levels[lvl]
        out = tuple(_up_out(u, d, size[i], i) for i in range(n))
        if min(out) < 1:
            return None
        result[lvl] = (downs[lvl][0], downs[lvl][1], size, out)
        skip = downs[lvl][0]
        if spec.topology == "unet":
            if spec.merge in ("cat", "add") and out != skip:
                return None
            size = tuple(min(a, b) for a, b in zip(out, skip)) if spec.merge == "crop" else skip
        else:
            size = out
    return result


def _per_dim(draw: Any, n: int, values: st.SearchStrategy[int]) -> Ints:
    if draw(st.booleans()):
        v = draw(values)
        return (v,) * n
    return tuple(draw(values) for _ in range(n))


def _strided(draw: Any, n: int, values: st.SearchStrategy[int]) -> Ints:
    """Per-dim values with at least one dim >= 2 (a resampling layer, not a plain one)."""
    vals = list(_per_dim(draw, n, values))
    if max(vals) < 2:
        vals[draw(st.integers(0, n - 1))] = 2
    return tuple(vals)


def _divisors(c: int) -> list[int]:
    return [g for g in range(1, c + 1) if c % g == 0]


@st.composite
def regular_down_specs(draw: Any, n: int, channels: int) -> DownSpec:
    """A down that divides sizes exactly when they are multiples of its stride: a conv with
    kernel 2p+1 or kernel = stride, or a pool with kernel = stride, no dilation."""
    kind = draw(st.sampled_from(("conv", "conv", "max", "avg")))
    stride = _strided(draw, n, st.integers(1, 3))
    dilation = (1,) * n
    if kind == "conv" and draw(st.booleans()):
        padding = _per_dim(draw, n, st.integers(0, 2))
        kernel = tuple(2 * p + 1 for p in padding)
    else:
        kernel, padding = stride, (0,) * n
    groups = draw(st.sampled_from(_divisors(channels))) if kind == "conv" else 1
    return DownSpec(kind, kernel, stride, padding, dilation, groups, kind != "conv" and draw(st.booleans()))


@st.composite
def regular_up_specs(draw: Any, n: int, channels: int, down: DownSpec) -> UpSpec:
    """An up meant to invert ``down`` (output_padding is set later by ``_consistent``)."""
    kinds = ["convT", "upsample"]
    if n == 2 and len(set(down.stride)) == 1:
        kinds.append("shuffle")
    if down.kind == "max":
        kinds.append("unpool")
    kind = draw(st.sampled_from(kinds))
    if kind == "convT":
        if down.kind == "conv" and draw(st.booleans()):
            kernel, padding = down.kernel, down.padding
        else:
            kernel, padding = down.stride, (0,) * n
        groups = draw(st.sampled_from(_divisors(channels)))
        return UpSpec("convT", kernel, down.stride, padding, (1,) * n, (0,) * n, groups)
    if kind == "upsample":
        return UpSpec("upsample", scale=tuple(float(s) for s in down.stride), mode=draw(st.sampled_from(UPSAMPLE_MODES[n])))
    if kind == "shuffle":
        return UpSpec("shuffle", factor=down.stride[0])
    return UpSpec("unpool")


@st.composite
def down_specs(draw: Any, n: int, channels: int) -> DownSpec:
    kind = draw(st.sampled_from(("conv", "conv", "max", "avg")))
    kernel = _per_dim(draw, n, st.integers(1, 5))
    stride = _strided(draw, n, st.integers(1, 3))
    if kind == "avg":
        dilation = (1,) * n
    else:
        dilation = _per_dim(draw, n, st.sampled_from((1, 1, 2)))
    if kind == "conv":
        padding = _per_dim(draw, n, st.integers(0, 3))
        groups = draw(st.sampled_from(_divisors(channels)))
        return DownSpec(kind, kernel, stride, padding, dilation, groups)
    # pooling: eager (and meta) require padding <= half the effective kernel
    padding = tuple(draw(st.integers(0, (dilation[i] * (kernel[i] - 1) + 1) // 2 if kind == "max" else kernel[i] // 2))
                    for i in range(n))
    return DownSpec(kind, kernel, stride, padding, dilation, 1, draw(st.booleans()))


@st.composite
def up_specs(draw: Any, n: int, channels: int, down: DownSpec) -> UpSpec:
    kinds = ["convT", "convT", "upsample"]
    if n == 2:
        kinds.append("shuffle")
    if down.kind == "max":
        kinds.append("unpool")
    kind = draw(st.sampled_from(kinds))
    if kind == "convT":
        if down.kind == "conv" and draw(st.booleans()):  # the mirror of the conv
            kernel, stride, padding, dilation = down.kernel, down.stride, down.padding, down.dilation
        else:
            kernel = _per_dim(draw, n, st.integers(1, 5))
            stride = _strided(draw, n, st.integers(1, 3))
            dilation = _per_dim(draw, n, st.sampled_from((1, 1, 2)))
            padding = _per_dim(draw, n, st.integers(0, 2))
            if draw(st.integers(0, 9)):  # mostly: an output of at least 1 even from an input of 1
                padding = tuple(min(p, d * (k - 1) // 2) for p, d, k in zip(padding, dilation, kernel))
        op = tuple(draw(st.integers(0, max(stride[i], dilation[i]) - 1)) for i in range(n))
        groups = draw(st.sampled_from(_divisors(channels)))
        return UpSpec("convT", kernel, stride, padding, dilation, op, groups)
    if kind == "upsample":
        if draw(st.booleans()):
            scale = tuple(float(s) for s in down.stride)
            if max(scale) <= 1:
                scale = (2.0,) * n
        else:
            scale = tuple(float(v) for v in _strided(draw, n, st.integers(1, 3)))
            if draw(st.integers(0, 4)) == 0:
                scale = tuple(s if s == 1 else s - 0.5 for s in scale)  # 1.5, 2.5: non-integer factors
        return UpSpec("upsample", scale=scale, mode=draw(st.sampled_from(UPSAMPLE_MODES[n])))
    if kind == "shuffle":
        return UpSpec("shuffle", factor=draw(st.sampled_from((2, 2, 3))))
    return UpSpec("unpool")


def _consistent(spec: ModelSpec) -> ModelSpec:
    """``spec`` with each ConvTranspose's output_padding set so that it restores its down's input
    size, where a legal value does (deepest level first)."""
    n = spec.ndim
    levels = list(spec.levels)
    sizes = simulate(replace(spec, topology="chain"))
    if sizes is None:
        return spec
    size = sizes[-1][1]
    for lvl in reversed(range(len(levels))):
        d, u = levels[lvl]
        want = sizes[lvl][0]
        if u.kind == "convT":
            op = []
            for i in range(n):
                need = want[i] - _convt_out(u, size[i], i, 0)
                op.append(need if 0 <= need < max(u.stride[i], u.dilation[i]) else u.output_padding[i])
            u = replace(u, output_padding=tuple(op))
            levels[lvl] = (d, u)
        out = tuple(_up_out(u, d, size[i], i) for i in range(n))
        if min(out) < 1:
            return spec
        size = want if out == want else out
    return replace(spec, levels=tuple(levels))


def _input_size(draw: Any, n: int, levels: Sequence[tuple[DownSpec, UpSpec]]) -> Ints:
    """Spatial input size: large enough for every down (mostly), sometimes a multiple of the
    total stride, capped to keep the models tiny."""
    cap = {1: 72, 2: 40, 3: 14}[n]
    sizes = []
    for i in range(n):
        need = 1
        for d, _ in reversed(levels):  # smallest input giving an output >= need
            k, s, p, dl = d.kernel[i], d.stride[i], d.padding[i], d.dilation[i]
            need = max(1, (need - 1) * s + dl * (k - 1) + 1 - 2 * p)
        total = math.prod(d.stride[i] for d, _ in levels)
        low = max(1, need - 1) if draw(st.integers(0, 9)) == 0 else need  # 1 in 10: maybe too small
        high = max(low, min(cap, need + 3 * total))
        size = draw(st.integers(low, high))
        if draw(st.integers(0, 2)) == 0:  # a multiple of the total stride
            size = max(total, size - size % total)
        sizes.append(size)
    return tuple(sizes)


def _illegal(draw: Any, spec: ModelSpec) -> Illegal:
    n = spec.ndim
    dim = draw(st.integers(0, n - 1))
    convs = [f"downs.{i}" for i, (d, _) in enumerate(spec.levels) if d.kind == "conv"]
    convts = [f"ups.{i}" for i, (_, u) in enumerate(spec.levels) if u.kind == "convT"]
    options = ["groups_out_channels"] if spec.channels > 1 else []
    options += ["groups_in_channels", "transpose_in_channels", "transpose_empty_dim",
               "interpolate_empty_dim"]
    if convts:
        options += ["output_padding_too_big", "negative_output_padding", "zero_stride_transpose"]
    if convs or convts:
        options += ["negative_padding", "zero_dilation", "zero_kernel", "wrong_bias_size"]
    if convs:
        options.append("zero_stride_conv")
    kind = draw(st.sampled_from(options))
    if kind in ("output_padding_too_big", "negative_output_padding", "zero_stride_transpose"):
        target = draw(st.sampled_from(convts))
    elif kind == "zero_stride_conv":
        target = draw(st.sampled_from(convs))
    elif kind in ("negative_padding", "zero_dilation", "zero_kernel", "wrong_bias_size"):
        target = draw(st.sampled_from(convs + convts))
    else:
        target = ""
    value = 0
    if kind == "output_padding_too_big":
        lvl = int(target.split(".")[1])
        u = spec.levels[lvl][1]
        value = max(u.stride[dim], u.dilation[dim]) + draw(st.integers(0, 1))
    elif kind in ("negative_padding", "negative_output_padding"):
        value = -draw(st.integers(1, 2))
    elif kind == "wrong_bias_size" or kind == "transpose_in_channels":
        value = draw(st.sampled_from((-1, 1))) if spec.channels > 1 else 1
    return Illegal(kind, target, dim, value)


@st.composite
def model_specs(draw: Any, illegal: bool = True, ndims: Sequence[int] = (1, 2, 3),
                topologies: Sequence[str] = ("chain", "unet")) -> ModelSpec:
    """Random encoder/decoder: chain or U-Net, 1d/2d/3d; with ``illegal``, about one model in
    six gets a planted parameter eager torch rejects."""
    n = draw(st.sampled_from(tuple(ndims)))
    topology = draw(st.sampled_from(tuple(topologies)))
    merge = draw(st.sampled_from(MERGES)) if topology == "unet" else "cat"
    channels = draw(st.sampled_from((1, 2, 3, 4) if n < 3 else (1, 2)))
    depth = draw(st.integers(1, 3 if n < 3 else 2))
    regular = draw(st.integers(0, 2)) == 0  # one model in three: meant to round-trip
    levels = []
    for _ in range(depth):
        if regular:
            d = draw(regular_down_specs(n, channels))
            levels.append((d, draw(regular_up_specs(n, channels, d))))
        else:
            d = draw(down_specs(n, channels))
            levels.append((d, draw(up_specs(n, channels, d))))
    stem = draw(st.booleans())
    if regular:
        cap = {1: 72, 2: 40, 3: 14}[n]
        totals = [math.prod(d.stride[i] for d, _ in levels) for i in range(n)]
        size = tuple(t * draw(st.integers(1, max(1, cap // t))) for t in totals)
    else:
        size = _input_size(draw, n, levels)
    spec = ModelSpec(
        ndim=n,
        topology=topology,
        merge=merge,
        channels=channels,
        in_channels=draw(st.integers(1, 3)) if stem else channels,
        stem=stem,
        batch=draw(st.integers(1, 2)),
        size=size,
        levels=tuple(levels),
    )
    if regular or draw(st.integers(0, 3)) == 0:
        spec = _consistent(spec)
    if illegal and draw(st.integers(0, 5)) == 0:
        spec = replace(spec, illegal=_illegal(draw, spec))
    return spec


# --------------------------------------------------------------------------- no-harm snapshots

HOOK_DICTS = (
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


def _bits(t: torch.Tensor) -> torch.Tensor | None:
    """A CPU copy of the tensor's bytes (NaN payloads and -0.0 included), None when there are
    no real bytes to read (meta, fake or uninitialised tensors)."""
    if nn.parameter.is_lazy(t) or t.device.type != "cpu" or type(t) not in (torch.Tensor, nn.Parameter, nn.Buffer):
        return None
    return t.detach().reshape(-1).clone().view(torch.uint8)


def tensor_state(t: torch.Tensor | None) -> tuple | None:
    if t is None:
        return None
    lazy = nn.parameter.is_lazy(t)
    meta = (
        type(t),
        id(t),
        str(t.device),
        t.dtype,
        None if lazy else tuple(t.shape),
        None if lazy else t.stride(),
        t.requires_grad,
        t.is_leaf,
        t._version,
    )
    grad = t.grad if t.is_leaf else None
    return meta, _bits(t), None if grad is None else (id(grad), grad._version, _bits(grad))


def snapshot(model: nn.Module) -> dict[tuple, Any]:
    """Everything about ``model`` the linter must not change: per module its class, training
    flag, every hook dict, its attribute names; per parameter and buffer its identity, device,
    dtype, shape, strides, requires_grad, version counter, bytes and gradient."""
    state: dict[tuple, Any] = {}
    for mname, m in model.named_modules(remove_duplicate=False):
        state[("class", mname)] = type(m)
        state[("training", mname)] = m.training
        state[("attributes", mname)] = tuple(sorted(vars(m)))
        for attr in HOOK_DICTS:
            hooks = getattr(m, attr, None)
            state[("hooks", mname, attr)] = None if hooks is None else tuple(hooks.items())
        for pname, p in m._parameters.items():
            state[("parameter", mname, pname)] = tensor_state(p)
        for bname, b in m._buffers.items():
            state[("buffer", mname, bname)] = tensor_state(b)
        state[("non-persistent", mname)] = tuple(sorted(m._non_persistent_buffers_set))
    return state


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape and bool(torch.equal(a, b))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def differences(before: dict[tuple, Any], after: dict[tuple, Any]) -> list[str]:
    out = []
    for key in sorted(set(before) | set(after), key=repr):
        if key not in before:
            out.append(f"{key}: added")
        elif key not in after:
            out.append(f"{key}: removed")
        elif not _same(before[key], after[key]):
            out.append(f"{key}: changed")
    return out


def global_state() -> dict[str, Any]:
    """Process-wide torch state a linter could leak: grad and inference mode, default device
    and dtype, active function and dispatch modes, RNG, global module hooks, patched methods."""
    import torch.nn.modules.module as module_mod

    hooks = {
        name: tuple(value.items())
        for name, value in vars(module_mod).items()
        if name.startswith("_global_") and isinstance(value, dict)
    }
    return {
        "grad_enabled": torch.is_grad_enabled(),
        "inference_mode": torch.is_inference_mode_enabled(),
        "default_device": str(torch.get_default_device()),
        "default_dtype": torch.get_default_dtype(),
        "function_modes": torch._C._len_torch_function_stack(),
        "dispatch_modes": torch._C._len_torch_dispatch_stack(),
        "torch_function_enabled": torch._C._is_torch_function_enabled(),
        "rng": torch.random.get_rng_state(),
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "anomaly": torch.is_anomaly_enabled(),
        "threads": torch.get_num_threads(),
        "global_hooks": hooks,
        "Module.__init__": nn.Module.__init__,
        "Module.__call__": nn.Module.__call__,
        "Module._call_impl": nn.Module._call_impl,
        "Tensor.__torch_function__": torch.Tensor.__torch_function__,
    }


def global_differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [f"global {k}: {before[k]!r} -> {after[k]!r}"[:300] for k in before if not _same(before[k], after[k])]
