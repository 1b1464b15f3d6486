"""Architecture families for the differential fuzzer: the kinds of encoder/decoder models people
write, beyond the mirrored chains and U-Nets of ``fuzz_models``.

Each family is a frozen dataclass whose ``repr`` is a complete reproduction recipe
(``from_repr(repr(spec)).build()`` gives the same model) and a Hypothesis strategy that draws it.
Every spec offers what the fuzz oracle (``tests/test_fuzz.py``) needs:

* ``family``: the family name (one row of the long run's table);
* ``ndim``, ``input_shape``, ``build(seed=0)`` (seeded weights, train mode);
* ``restoring``: True when the model is meant to give back its input's spatial size
  (autoencoder, U-Net, codec), False for an output at a fraction of the input by design;
* ``no_fix``: True when a working model must get no ``fix`` at all (compensated mismatches);
* ``culprit()``: ``None`` or a ``Culprit``: when eager raises and the named up layer gave back
  the size its partner took (both checked in eager), an error finding must name ``layer``.

Families (``FAMILIES``):

``tf-same``            TF "same" convs: ``F.pad`` computed from the size (zeros, reflect or
                       replicate) before a strided module or functional conv; decoders of
                       ConvTranspose (module or ``F.conv_transpose`` with a
                       ``functional_output_padding`` table), ConvTranspose + crop (to the target
                       size or by a constant ``k - s``), pad + ConvTranspose, or Upsample;
``padding-mode``       strided convs with ``padding_mode`` reflect/replicate/circular and
                       ``padding="same"`` stride-1 convs with a non-zeros ``padding_mode``;
``shared-module``      one down / up (/ fuse) module instance called at every level
                       (``down``, ``down#2``, ...);
``patch-embed``        a patch embedding ``Conv(k=s=P)`` then a chain of ConvTranspose whose
                       factors multiply to ``P`` (restoring) or to less (fraction output);
``resize-before-cat``  a U-Net where one level's up is followed by a size change (pad, crop,
                       stride-1 ConvTranspose(k3) or Conv(k3)) before the merge;
``parallel-branches``  decoder levels adding a ConvTranspose and an interpolate/Upsample of the
                       same tensor;
``interp-size``        ``F.interpolate(size=skip.shape[2:])`` as a decoder level and
                       ``nn.Upsample(size=const)`` after (or instead of) an up;
``hidden-mismatch``    a U-Net with one level whose mismatch a crop / pad / resize hides, the
                       other levels plain cat/add;
``compensated``        an intermediate mismatch that a later layer compensates (a ConvTranspose
                       solved to land on the input size, or a final resize/crop/pad to it);
``fraction-head``      FPN-like or plain decoders whose output is at 1/2 or 1/4 by design;
``codec-trim``         1d codecs: conv encoder (causal, symmetric or EnCodec "extra" padding),
                       ConvTranspose decoder trimming ``k - s`` after each layer, optional final
                       trim to the input length.

Size arithmetic here only steers drawing toward interesting sizes (a good share of models that
work and of models that fail); the verdict is always eager torch's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from hypothesis import strategies as st
from torch import nn

Ints = tuple[int, ...]

CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
CONVT = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
MAXPOOL = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
AVGPOOL = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}
FCONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
FCONVT = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
LINEAR_MODE = {1: "linear", 2: "bilinear", 3: "trilinear"}


@dataclass(frozen=True)
class Culprit:
    """When eager raises and ``up``'s output has the spatial size of ``down``'s input (so the up
    round-trips), an error finding's ``layer`` or ``up`` must be ``layer`` (or a functional call
    or crop inside it: ``layer:...``)."""

    layer: str
    down: str
    up: str


class Arch:
    """Mixin of every family spec (fields: ndim, channels, batch, size, ...)."""

    family: ClassVar[str] = ""
    no_fix: ClassVar[bool] = False

    @property
    def restoring(self) -> bool:
        return True

    @property
    def input_shape(self) -> Ints:
        """(batch, the input's channels (``in_channels`` when the family has it), *size)."""
        channels = getattr(self, "in_channels", None) or self.channels  # type: ignore[attr-defined]
        return (self.batch, channels, *self.size)  # type: ignore[attr-defined]

    def build(self, seed: int = 0) -> nn.Module:
        torch.manual_seed(seed)
        return self._module()

    def _module(self) -> nn.Module:  # pragma: no cover - every family overrides it
        raise NotImplementedError

    def culprit(self) -> Culprit | None:
        return None

    def mirror_pairs(self) -> list[tuple[str, str]] | None:
        """(down, up) pairs the pairing check holds the linter to; None: not checked."""
        return None

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        """Hypothesis prints falsifying examples with this: the plain, evaluable ``repr``."""
        p.text(repr(self))


# --------------------------------------------------------------------------- helpers


def _pads(pairs: Sequence[tuple[int, int]]) -> list[int]:
    """``F.pad``'s argument for (left, right) pairs given in dim order (first spatial dim first)."""
    out: list[int] = []
    for left, right in reversed(list(pairs)):
        out += [left, right]
    return out


def _crop(x: torch.Tensor, n: int, starts: Sequence[int], lengths: Sequence[int]) -> torch.Tensor:
    return x[(Ellipsis, *(slice(a, a + length) for a, length in zip(starts, lengths)))]


def _params_of(layer: nn.Module) -> tuple[nn.Parameter, nn.Parameter]:
    return nn.Parameter(layer.weight.detach().clone()), nn.Parameter(layer.bias.detach().clone())


def _conv_out(size: int, k: int, s: int, p: int, d: int = 1) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _convt_out(size: int, k: int, s: int, p: int, op: int) -> int:
    return (size - 1) * s - 2 * p + k + op


def _steered_size(draw: Any, n: int, factor: int, low: int, cap: int) -> Ints:
    """Spatial size: about half the models get a multiple of ``factor`` in every dim (mostly a
    working size), the others any size in [low, cap] (mostly a failing one)."""
    aligned = draw(st.booleans())
    out = []
    for _ in range(n):
        if aligned:
            m = draw(st.integers(max(1, -(-low // factor)), max(1, cap // factor, -(-low // factor))))
            out.append(m * factor)
        else:
            out.append(draw(st.integers(low, max(low, cap))))
    return tuple(out)


def _transpose_for(draw: Any, s: int, kernels: Sequence[int]) -> tuple[int, int, int]:
    """(kernel, padding, output_padding) of a ConvTranspose meant to multiply sizes by ``s``
    exactly ((L-1)s - 2p + k + op = Ls); one in four gets a random output_padding instead."""
    k = draw(st.sampled_from(tuple(kernels)))
    excess = k - s  # 2p - op
    p = max(0, (excess + 1) // 2)
    op = 2 * p - excess
    if not 0 <= op < s:
        op = 0
    if draw(st.integers(0, 3)) == 0:
        op = draw(st.integers(0, s - 1))
    return k, p, op


def _mirror_op(draw: Any, k: int, s: int, p: int) -> int:
    """output_padding of the mirror ConvTranspose(k, s, p) of Conv(k, s, p) that restores sizes
    that are multiples of ``s``; one in four gets a random one instead."""
    excess = k - 2 * p
    op = s * -(-excess // s) - excess if excess > 0 else 0
    if not 0 <= op < s or draw(st.integers(0, 3)) == 0:
        op = draw(st.integers(0, s - 1))
    return op


def _caps(n: int) -> int:
    return {1: 80, 2: 28, 3: 12}[n]


# --------------------------------------------------------------------------- tf-same


@dataclass(frozen=True)
class TfLevel:
    down: str  # "conv" (F.pad + module conv) | "fconv" (F.pad + F.convNd)
    kernel: int
    stride: int
    pad_mode: str  # F.pad mode: "constant" | "reflect" | "replicate"
    pad_from: str  # "size": TF "same" (output ceil(L/s)) | "const": (k-1)//2 on each side
    up: str  # "convT" | "fconvT" | "convT_crop" | "pad_convT" | "upsample"
    up_kernel: int = 2
    up_padding: int = 0
    up_op: int = 0
    crop: str = "target"  # convT_crop: "target" (crop to L*s) | "const" (crop k - s, split)


class _TfDown(nn.Module):
    def __init__(self, n: int, c: int, lv: TfLevel):
        super().__init__()
        self.n, self.lv = n, lv
        conv = CONV[n](c, c, lv.kernel, stride=lv.stride)
        if lv.down == "conv":
            self.conv = conv
        else:
            self.weight, self.bias = _params_of(conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.lv.kernel, self.lv.stride
        pairs = []
        for size in x.shape[-self.n:]:
            if self.lv.pad_from == "size":
                total = max((-(-size // s) - 1) * s + k - size, 0)
                pairs.append((total // 2, total - total // 2))
            else:
                pairs.append(((k - 1) // 2, (k - 1) // 2))
        x = F.pad(x, _pads(pairs), mode=self.lv.pad_mode)
        if self.lv.down == "conv":
            return self.conv(x)
        return FCONV[self.n](x, self.weight, self.bias, stride=s)


class _TfUp(nn.Module):
    def __init__(self, n: int, c: int, lv: TfLevel):
        super().__init__()
        self.n, self.lv = n, lv
        if lv.up == "upsample":
            self.up = nn.Upsample(scale_factor=float(lv.stride), mode="nearest")
            return
        convt = CONVT[n](c, c, lv.up_kernel, stride=lv.stride, padding=lv.up_padding, output_padding=lv.up_op)
        if lv.up == "fconvT":
            self.weight, self.bias = _params_of(convt)
            self.functional_output_padding = {f"F.conv_transpose{n}d": (lv.up_op,) * n}
        else:
            self.up = convt

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lv, n = self.lv, self.n
        if lv.up == "fconvT":
            op = self.functional_output_padding[f"F.conv_transpose{n}d"]
            return FCONVT[n](x, self.weight, self.bias, stride=lv.stride, padding=lv.up_padding, output_padding=op)
        if lv.up == "pad_convT":
            return self.up(F.pad(x, [1, 1] * n, mode="replicate"))
        if lv.up == "convT_crop":
            sizes_in = x.shape[-n:]
            y = self.up(x)
            if lv.crop == "target":  # TF "same" transposed conv: keep L*s, centred
                lengths = [size * lv.stride for size in sizes_in]
                starts = [max((have - want) // 2, 0) for have, want in zip(y.shape[-n:], lengths)]
            else:
                total = lv.up_kernel - lv.stride
                starts = [total // 2] * n
                lengths = [have - total for have in y.shape[-n:]]
            return _crop(y, n, starts, lengths)
        return self.up(x)


class _TfSameNet(nn.Module):
    def __init__(self, spec: TfSameSpec):
        super().__init__()
        n, c = spec.ndim, spec.channels
        self.skip = spec.skip
        self.enc = nn.ModuleList(_TfDown(n, c, lv) for lv in spec.levels)
        self.dec = nn.ModuleList(_TfUp(n, c, lv) for lv in spec.levels)
        self.fuse = nn.ModuleList(CONV[n](2 * c, c, 1) for _ in spec.levels) if spec.skip == "cat" else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for down in self.enc:
            skips.append(x)
            x = down(x)
        for i in reversed(range(len(self.dec))):
            x = self.dec[i](x)
            if self.skip == "cat":
                x = self.fuse[i](torch.cat([x, skips[i]], dim=1))  # type: ignore[index]
            elif self.skip == "add":
                x = x + skips[i]
        return x


@dataclass(frozen=True)
class TfSameSpec(Arch):
    family: ClassVar[str] = "tf-same"
    ndim: int
    channels: int
    batch: int
    size: Ints
    levels: tuple[TfLevel, ...]
    skip: str = "none"  # "none" | "cat" | "add"

    def _module(self) -> nn.Module:
        return _TfSameNet(self)


@st.composite
def tf_same_specs(draw: Any) -> TfSameSpec:
    n = draw(st.sampled_from((1, 2, 2)))
    depth = draw(st.integers(1, 3))
    levels = []
    for _ in range(depth):
        s = draw(st.sampled_from((2, 2, 3)))
        k = draw(st.integers(s, s + 3))
        up = draw(st.sampled_from(("convT", "fconvT", "convT_crop", "pad_convT", "upsample")))
        uk, up_p, op, crop = 2, 0, 0, "target"
        if up in ("convT", "fconvT"):
            uk, up_p, op = _transpose_for(draw, s, (s, s + 1, s + 2, 2 * s))
        elif up == "convT_crop":
            uk = draw(st.sampled_from((s, s + 1, s + 2, 2 * s)))
            crop = draw(st.sampled_from(("target", "const")))
            op = draw(st.sampled_from((0, 0, 0, 1)))
        elif up == "pad_convT":  # (L+1)s - 2p + k + op = Ls  ->  2p - op = s + k
            uk = draw(st.sampled_from((s, s + 1, s + 2)))
            up_p = (s + uk + 1) // 2
            op = 2 * up_p - (s + uk)
            if draw(st.integers(0, 3)) == 0:
                op = draw(st.integers(0, s - 1))
        levels.append(TfLevel(
            down=draw(st.sampled_from(("conv", "fconv"))),
            kernel=k,
            stride=s,
            pad_mode=draw(st.sampled_from(("constant", "reflect", "replicate"))),
            pad_from=draw(st.sampled_from(("size", "size", "const"))),
            up=up, up_kernel=uk, up_padding=up_p, up_op=op, crop=crop,
        ))
    total = math.prod(lv.stride for lv in levels)
    return TfSameSpec(
        ndim=n,
        channels=draw(st.sampled_from((1, 2))),
        batch=draw(st.integers(1, 2)),
        size=_steered_size(draw, n, total, 2, _caps(n)),
        levels=tuple(levels),
        skip=draw(st.sampled_from(("none", "cat", "add"))),
    )


# --------------------------------------------------------------------------- padding-mode


@dataclass(frozen=True)
class PmLevel:
    kernel: int
    stride: int
    padding: int
    mode: str  # padding_mode of the strided conv: "zeros" | "reflect" | "replicate" | "circular"
    same: int  # padding="same" stride-1 convs before the strided one
    same_kernel: int
    same_dilation: int
    same_mode: str
    up: str  # "convT" | "upsample"
    up_kernel: int = 2
    up_padding: int = 0
    up_op: int = 0
    post_same: bool = False  # a padding="same" conv after the up


class _PadModeNet(nn.Module):
    def __init__(self, spec: PadModeSpec):
        super().__init__()
        n, c = spec.ndim, spec.channels
        self.skip = spec.skip
        enc, dec = [], []
        for lv in spec.levels:
            same = [CONV[n](c, c, lv.same_kernel, padding="same", dilation=lv.same_dilation, padding_mode=lv.same_mode)
                    for _ in range(lv.same)]
            enc.append(nn.Sequential(*same, CONV[n](c, c, lv.kernel, stride=lv.stride, padding=lv.padding, padding_mode=lv.mode)))
            if lv.up == "convT":
                up: nn.Module = CONVT[n](c, c, lv.up_kernel, stride=lv.stride, padding=lv.up_padding, output_padding=lv.up_op)
            else:
                up = nn.Upsample(scale_factor=float(lv.stride), mode="nearest")
            post = [CONV[n](c, c, lv.same_kernel, padding="same", padding_mode=lv.same_mode)] if lv.post_same else []
            dec.append(nn.Sequential(up, *post))
        self.enc, self.dec = nn.ModuleList(enc), nn.ModuleList(dec)
        self.fuse = nn.ModuleList(CONV[n](2 * c, c, 1) for _ in spec.levels) if spec.skip == "cat" else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for down in self.enc:
            skips.append(x)
            x = down(x)
        for i in reversed(range(len(self.dec))):
            x = self.dec[i](x)
            if self.skip == "cat":
                x = self.fuse[i](torch.cat([x, skips[i]], dim=1))  # type: ignore[index]
            elif self.skip == "add":
                x = x + skips[i]
        return x


@dataclass(frozen=True)
class PadModeSpec(Arch):
    family: ClassVar[str] = "padding-mode"
    ndim: int
    channels: int
    batch: int
    size: Ints
    levels: tuple[PmLevel, ...]
    skip: str = "none"

    def _module(self) -> nn.Module:
        return _PadModeNet(self)

    def mirror_pairs(self) -> list[tuple[str, str]]:
        return [(f"enc.{i}.{lv.same}", f"dec.{i}.0") for i, lv in enumerate(self.levels)]


@st.composite
def padding_mode_specs(draw: Any) -> PadModeSpec:
    n = draw(st.sampled_from((1, 2, 2)))
    depth = draw(st.integers(1, 3))
    modes = ("reflect", "replicate", "circular")
    levels = []
    for _ in range(depth):
        s = draw(st.sampled_from((2, 2, 3)))
        p = draw(st.integers(0, 2))
        k = draw(st.sampled_from((2 * p + 1, 2 * p + s, 2 * p + 1 + draw(st.integers(0, 2)))))
        up = draw(st.sampled_from(("convT", "convT", "upsample")))
        uk, up_p, op = k, p, 0
        if up == "convT":
            if draw(st.booleans()):  # the mirror of the conv
                op = _mirror_op(draw, k, s, p)
            else:
                uk, up_p, op = _transpose_for(draw, s, (s, s + 1, 2 * s))
        levels.append(PmLevel(
            kernel=k, stride=s, padding=p,
            mode=draw(st.sampled_from(("zeros",) + modes)),
            same=draw(st.integers(0, 2)),
            same_kernel=draw(st.sampled_from((2, 3, 4, 5))),
            same_dilation=draw(st.sampled_from((1, 1, 2))),
            same_mode=draw(st.sampled_from(modes)),
            up=up, up_kernel=uk, up_padding=up_p, up_op=op,
            post_same=draw(st.booleans()),
        ))
    total = math.prod(lv.stride for lv in levels)
    return PadModeSpec(
        ndim=n,
        channels=draw(st.sampled_from((1, 2))),
        batch=draw(st.integers(1, 2)),
        size=_steered_size(draw, n, total, 2 * total, _caps(n)),
        levels=tuple(levels),
        skip=draw(st.sampled_from(("none", "cat", "add"))),
    )


# --------------------------------------------------------------------------- shared-module


class _SharedNet(nn.Module):
    def __init__(self, spec: SharedSpec):
        super().__init__()
        n, c = spec.ndim, spec.channels
        self.depth, self.skip = spec.depth, spec.skip
        if spec.down == "conv":
            self.down: nn.Module = CONV[n](c, c, spec.kernel, stride=spec.stride, padding=spec.padding)
        elif spec.down == "max":
            self.down = MAXPOOL[n](spec.kernel, stride=spec.stride, padding=spec.padding, ceil_mode=spec.ceil_mode)
        else:
            self.down = AVGPOOL[n](spec.kernel, stride=spec.stride, padding=spec.padding, ceil_mode=spec.ceil_mode)
        self.mid = CONV[n](c, c, 3, padding=1) if spec.mid else None
        if spec.up == "convT":
            self.up: nn.Module = CONVT[n](c, c, spec.up_kernel, stride=spec.stride, padding=spec.up_padding,
                                          output_padding=spec.up_op)
        else:
            self.up = nn.Upsample(scale_factor=float(spec.stride), mode=spec.mode)
        self.fuse: nn.Module | None = None
        if spec.skip == "cat":
            self.fuse = CONV[n](2 * c, c, 1) if spec.shared_fuse else nn.ModuleList(CONV[n](2 * c, c, 1) for _ in range(spec.depth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for _ in range(self.depth):
            skips.append(x)
            x = self.down(x)
            if self.mid is not None:
                x = self.mid(x)
        for i in reversed(range(self.depth)):
            x = self.up(x)
            if self.skip == "cat":
                fuse = self.fuse[i] if isinstance(self.fuse, nn.ModuleList) else self.fuse
                x = fuse(torch.cat([x, skips[i]], dim=1))  # type: ignore[operator]
            elif self.skip == "add":
                x = x + skips[i]
        return x


@dataclass(frozen=True)
class SharedSpec(Arch):
    family: ClassVar[str] = "shared-module"
    ndim: int
    channels: int
    batch: int
    size: Ints
    depth: int
    down: str  # "conv" | "max" | "avg"
    kernel: int
    stride: int
    padding: int
    up: str  # "convT" | "upsample"
    up_kernel: int = 2
    up_padding: int = 0
    up_op: int = 0
    mode: str = "nearest"
    skip: str = "none"  # "none" | "cat" | "add"
    shared_fuse: bool = True
    mid: bool = False
    ceil_mode: bool = False

    def _module(self) -> nn.Module:
        return _SharedNet(self)

    @staticmethod
    def call(name: str, i: int) -> str:
        return name if i == 1 else f"{name}#{i}"

    def mirror_pairs(self) -> list[tuple[str, str]]:
        # level i (0 = outermost) is the (i+1)-th call of down and the (depth-i)-th call of up
        return [(self.call("down", i + 1), self.call("up", self.depth - i)) for i in range(self.depth)]


@st.composite
def shared_specs(draw: Any) -> SharedSpec:
    n = draw(st.sampled_from((1, 2, 2)))
    down = draw(st.sampled_from(("conv", "conv", "max", "avg")))
    s = draw(st.sampled_from((2, 2, 3)))
    if down == "conv":
        p = draw(st.integers(0, 1))
        k = draw(st.sampled_from((2 * p + 1, 2 * p + s)))
    else:
        k, p = s, 0
    up = draw(st.sampled_from(("convT", "convT", "upsample")))
    uk, up_p, op = 2, 0, 0
    if up == "convT":
        if down == "conv" and draw(st.booleans()):
            uk, up_p, op = k, p, _mirror_op(draw, k, s, p)
        else:
            uk, up_p, op = _transpose_for(draw, s, (s, s + 1, 2 * s))
    depth = draw(st.integers(2, 3))
    return SharedSpec(
        ndim=n,
        channels=draw(st.sampled_from((1, 2))),
        batch=draw(st.integers(1, 2)),
        size=_steered_size(draw, n, s ** depth, s ** depth, _caps(n)),
        depth=depth, down=down, kernel=k, stride=s, padding=p,
        up=up, up_kernel=uk, up_padding=up_p, up_op=op,
        mode=draw(st.sampled_from(("nearest", LINEAR_MODE[n]))),
        skip=draw(st.sampled_from(("none", "cat", "add"))),
        shared_fuse=draw(st.booleans()),
        mid=draw(st.booleans()),
        ceil_mode=down != "conv" and draw(st.booleans()),
    )


# --------------------------------------------------------------------------- patch-embed


class _PatchNet(nn.Module):
    def __init__(self, spec: PatchSpec):
        super().__init__()
        n, c = spec.ndim, spec.channels
        self.embed = CONV[n](spec.in_channels, c, spec.patch, stride=spec.patch)
        self.blocks = nn.Sequential(*(CONV[n](c, c, 3, padding=1) for _ in range(spec.blocks)))
        ups = []
        for f in spec.factors:
            if spec.up_style == "k=s":
                ups.append(CONVT[n](c, c, f, stride=f))
            elif spec.up_style == "k=s+2":
                ups.append(CONVT[n](c, c, f + 2, stride=f, padding=1))
            else:
                ups.append(nn.Upsample(scale_factor=float(f), mode="nearest"))
        self.ups = nn.Sequential(*ups)
        self.head = CONV[n](c, spec.out_channels, 1) if spec.head else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ups(self.blocks(self.embed(x)))
        return self.head(x) if self.head is not None else x


@dataclass(frozen=True)
class PatchSpec(Arch):
    family: ClassVar[str] = "patch-embed"
    ndim: int
    in_channels: int
    channels: int
    batch: int
    size: Ints
    patch: int
    factors: Ints  # ConvTranspose(k=f, s=f) (or k=f+2, s=f, p=1; or Upsample) per up layer
    blocks: int = 0
    up_style: str = "k=s"  # "k=s" | "k=s+2" | "upsample"
    head: bool = False
    out_channels: int = 1

    @property
    def restoring(self) -> bool:
        return math.prod(self.factors) == self.patch

    def _module(self) -> nn.Module:
        return _PatchNet(self)


def _factorisations(p: int) -> list[Ints]:
    out: list[Ints] = []

    def rec(rest: int, acc: Ints) -> None:
        if rest == 1:
            out.append(acc)
            return
        for f in (2, 4):
            if rest % f == 0:
                rec(rest // f, acc + (f,))

    rec(p, ())
    return out


@st.composite
def patch_specs(draw: Any) -> PatchSpec:
    n = draw(st.sampled_from((1, 2, 2)))
    patch = draw(st.sampled_from((4, 8) if n == 2 else (4, 8, 16)))
    restoring = draw(st.booleans())
    if restoring:
        factors = draw(st.sampled_from(_factorisations(patch)))
    else:
        part = draw(st.sampled_from([d for d in (2, 4, 8) if d < patch and patch % d == 0]))
        factors = draw(st.sampled_from(_factorisations(part)))
    return PatchSpec(
        ndim=n,
        in_channels=draw(st.integers(1, 3)),
        channels=draw(st.sampled_from((1, 2, 4))),
        batch=draw(st.integers(1, 2)),
        size=_steered_size(draw, n, patch, patch - (draw(st.integers(0, 5)) == 0), 2 * _caps(n) if n == 1 else 36),
        patch=patch,
        factors=factors,
        blocks=draw(st.integers(0, 2)),
        up_style=draw(st.sampled_from(("k=s", "k=s", "k=s+2", "upsample"))),
        head=draw(st.booleans()),
        out_channels=draw(st.integers(1, 2)),
    )


# --------------------------------------------------------------------------- resize-before-cat


class _Resize(nn.Module):
    """A size change by F.pad or a slice: ``amount`` (left, right) per spatial dim."""

    def __init__(self, n: int, kind: str, amount: tuple[int, int]):
        super().__init__()
        self.n, self.kind, self.amount = n, kind, amount

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left, right = self.amount
        if self.kind == "pad":
            return F.pad(x, [left, right] * self.n)
        return _crop(x, self.n, [left] * self.n, [size - left - right for size in x.shape[-self.n:]])


def _regular_down(n: int, c: int, kind: str) -> nn.Module:
    if kind == "conv3":
        return CONV[n](c, c, 3, stride=2, padding=1)
    if kind == "conv2":
        return CONV[n](c, c, 2, stride=2)
    return MAXPOOL[n](2)


def _regular_up(n: int, c: int, kind: str) -> nn.Module:
    if kind == "convT2":
        return CONVT[n](c, c, 2, stride=2)
    if kind == "convT3":
        return CONVT[n](c, c, 3, stride=2, padding=1, output_padding=1)
    if kind == "convT4":
        return CONVT[n](c, c, 4, stride=2, padding=1)
    return nn.Upsample(scale_factor=2.0, mode="nearest")


class _ResizeCatNet(nn.Module):
    def __init__(self, spec: ResizeCatSpec):
        super().__init__()
        n, c = spec.ndim, spec.channels
        self.level, self.merge = spec.level, spec.merge
        self.downs = nn.ModuleList(_regular_down(n, c, spec.down) for _ in range(spec.depth))
        self.ups = nn.ModuleList(_regular_up(n, c, spec.up) for _ in range(spec.depth))
        if spec.change == "convT3s1":
            self.resize: nn.Module = CONVT[n](c, c, 3)
        elif spec.change == "conv3s1":
            self.resize = CONV[n](c, c, 3)
        else:
            self.resize = _Resize(n, spec.change, spec.amount)
        self.fuse = nn.ModuleList(CONV[n](2 * c, c, 1) for _ in range(spec.depth)) if spec.merge == "cat" else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for down in self.downs:
            skips.append(x)
            x = down(x)
        for i in reversed(range(len(self.ups))):
            x = self.ups[i](x)
            if i == self.level:
                x = self.resize(x)
            if self.merge == "cat":
                x = self.fuse[i](torch.cat([x, skips[i]], dim=1))  # type: ignore[index]
            else:
                x = x + skips[i]
        return x


@dataclass(frozen=True)
class ResizeCatSpec(Arch):
    family: ClassVar[str] = "resize-before-cat"
    ndim: int
    channels: int
    batch: int
    size: Ints
    depth: int
    down: str  # "conv3" (k3 s2 p1) | "conv2" (k2 s2) | "max" (2)
    up: str  # "convT2" | "convT3" (k3 s2 p1 op1) | "convT4" (k4 s2 p1) | "upsample"
    level: int  # the level whose up is followed by ``resize``
    change: str  # "pad" | "crop" | "convT3s1" (ConvTranspose k3 s1: +2) | "conv3s1" (Conv k3: -2)
    amount: tuple[int, int] = (0, 0)  # pad/crop (left, right) per dim
    merge: str = "cat"  # "cat" | "add"

    def _module(self) -> nn.Module:
        return _ResizeCatNet(self)

    def culprit(self) -> Culprit:
        return Culprit("resize", f"downs.{self.level}", f"ups.{self.level}")

    def mirror_pairs(self) -> list[tuple[str, str]]:
        return [(f"downs.{i}", f"ups.{i}") for i in range(self.depth)]


@st.composite
def resize_cat_specs(draw: Any) -> ResizeCatSpec:
    n = draw(st.sampled_from((1, 2, 2)))
    change = draw(st.sampled_from(("pad", "crop", "convT3s1", "conv3s1")))
    amount = (0, 0)
    if change in ("pad", "crop"):
        amount = draw(st.sampled_from(((0, 1), (1, 0), (1, 1), (2, 0))))
    if draw(st.integers(0, 3)) == 0:  # one level, odd sizes: an up off by one that the change may undo
        depth = 1
        size = tuple(2 * draw(st.integers(2, _caps(n) // 2 - 1)) + 1 for _ in range(n))
    else:
        depth = draw(st.integers(1, 3))
        size = _steered_size(draw, n, 2 ** depth, 2 ** (depth + 1), _caps(n))
    return ResizeCatSpec(
        ndim=n,
        channels=draw(st.sampled_from((1, 2))),
        batch=draw(st.integers(1, 2)),
        size=size,
        depth=depth,
        down=draw(st.sampled_from(("conv3", "conv2", "max"))),
        up=draw(st.sampled_from(("convT2", "convT3", "convT4", "upsample"))),
        level=draw(st.integers(0, depth - 1)),
        change=change,
        amount=amount,
        merge=draw(st.sampled_from(("cat", "cat", "add"))),
    )


# --------------------------------------------------------------------------- parallel-branches


@dataclass(frozen=True)
class ParLevel:
    kernel: int
    stride: int
    padding: int
    up_kernel: int
    up_padding: int
    up_op: int
    other: str  # "interp_scale" (F.interpolate(scale_factor=s)) | "upsample" (nn.Upsample) | "interp_skip" (size=skip)
    mode: str = "nearest"


class _ParUp(nn.Module):
    def __init__(self, n: int, c: int, lv: ParLevel):
        super().__init__()
        self.n, self.lv = n, lv
        self.deconv = CONVT[n](c, c, lv.up_kernel, stride=lv.stride, padding=lv.up_padding, output_padding=lv.up_op)
        self.upsample = nn.Upsample(scale_factor=float(lv.stride), mode=lv.mode) if lv.other == "upsample" else None

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        lv = self.lv
        if lv.other == "upsample":
            other = self.upsample(x)  # type: ignore[misc]
        elif lv.other == "interp_scale":
            other = F.interpolate(x, scale_factor=float(lv.stride), mode=lv.mode)
        else:
            other = F.interpolate(x, size=tuple(skip.shape[2:]), mode=lv.mode)
        return self.deconv(x) + other


class _ParallelNet(nn.Module):
    def __init__(self, spec: ParallelSpec):
        super().__init__()
        n, c = spec.ndim, spec.channels
        self.skip = spec.skip
        self.downs = nn.ModuleList(CONV[n](c, c, lv.kernel, stride=lv.stride, padding=lv.padding) for lv in spec.levels)
        self.ups = nn.ModuleList(_ParUp(n, c, lv) for lv in spec.levels)
        self.fuse = nn.ModuleList(CONV[n](2 * c, c, 1) for _ in spec.levels) if spec.skip == "cat" else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for down in self.downs:
            skips.append(x)
            x = down(x)
        for i in reversed(range(len(self.ups))):
            x = self.ups[i](x, skips[i])
            if self.skip == "cat":
                x = self.fuse[i](torch.cat([x, skips[i]], dim=1))  # type: ignore[index]
            elif self.skip == "add":
                x = x + skips[i]
        return x


@dataclass(frozen=True)
class ParallelSpec(Arch):
    family: ClassVar[str] = "parallel-branches"
    ndim: int
    channels: int
    batch: int
    size: Ints
    levels: tuple[ParLevel, ...]
    skip: str = "none"

    def _module(self) -> nn.Module:
        return _ParallelNet(self)


@st.composite
def parallel_specs(draw: Any) -> ParallelSpec:
    n = draw(st.sampled_from((1, 2, 2)))
    depth = draw(st.integers(1, 3))
    levels = []
    for _ in range(depth):
        s = draw(st.sampled_from((2, 2, 3)))
        p = draw(st.integers(0, 1))
        k = draw(st.sampled_from((2 * p + 1, 2 * p + s)))
        if draw(st.booleans()):
            uk, up_p, op = k, p, _mirror_op(draw, k, s, p)
        else:
            uk, up_p, op = _transpose_for(draw, s, (s, s + 1, 2 * s))
        levels.append(ParLevel(k, s, p, uk, up_p, op, draw(st.sampled_from(("interp_scale", "upsample", "interp_skip"))),
                               draw(st.sampled_from(("nearest", LINEAR_MODE[n])))))
    total = math.prod(lv.stride for lv in levels)
    return ParallelSpec(
        ndim=n,
        channels=draw(st.sampled_from((1, 2))),
        batch=draw(st.integers(1, 2)),
        size=_steered_size(draw, n, total, total, _caps(n)),
        levels=tuple(levels),
        skip=draw(st.sampled_from(("none", "cat", "add"))),
    )


# --------------------------------------------------------------------------- interp-size


@dataclass(frozen=True)
class IpLevel:
    kernel: int
    stride: int
    padding: int
    up: str  # "convT" | "interp_skip" | "convT_const" (ConvT then Upsample(size=const)) | "upsample_const"
    up_kernel: int = 2
    up_padding: int = 0
    up_op: int = 0
    const: Ints = ()
    mode: str = "nearest"


class _IpUp(nn.Module):
    def __init__(self, n: int, c: int, lv: IpLevel):
        super().__init__()
        self.lv = lv
        self.up = CONVT[n](c, c, lv.up_kernel, stride=lv.stride, padding=lv.up_padding, output_padding=lv.up_op) \
            if lv.up in ("convT", "convT_const") else None
        self.resize = nn.Upsample(size=lv.const, mode=lv.mode) if lv.up in ("convT_const", "upsample_const") else None

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        if self.lv.up == "interp_skip":
            return F.interpolate(x, size=skip.shape[2:], mode=self.lv.mode)
        if self.up is not None:
            x = self.up(x)
        if self.resize is not None:
            x = self.resize(x)
        return x


class _InterpNet(nn.Module):
    def __init__(self, spec: InterpSpec):
        super().__init__()
        n, c = spec.ndim, spec.channels
        self.skip = spec.skip
        self.downs = nn.ModuleList(CONV[n](c, c, lv.kernel, stride=lv.stride, padding=lv.padding) for lv in spec.levels)
        self.ups = nn.ModuleList(_IpUp(n, c, lv) for lv in spec.levels)
        self.fuse = nn.ModuleList(CONV[n](2 * c, c, 1) for _ in spec.levels) if spec.skip == "cat" else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for down in self.downs:
            skips.append(x)
            x = down(x)
        for i in reversed(range(len(self.ups))):
            x = self.ups[i](x, skips[i])
            if self.skip == "cat":
                x = self.fuse[i](torch.cat([x, skips[i]], dim=1))  # type: ignore[index]
            elif self.skip == "add":
                x = x + skips[i]
        return x


@dataclass(frozen=True)
class InterpSpec(Arch):
    family: ClassVar[str] = "interp-size"
    ndim: int
    channels: int
    batch: int
    size: Ints
    levels: tuple[IpLevel, ...]
    skip: str = "none"

    def _module(self) -> nn.Module:
        return _InterpNet(self)


@st.composite
def interp_specs(draw: Any) -> InterpSpec:
    n = draw(st.sampled_from((1, 2, 2)))
    depth = draw(st.integers(1, 3))
    downs = []
    for _ in range(depth):
        s = draw(st.sampled_from((2, 2, 3)))
        p = draw(st.integers(0, 1))
        downs.append((draw(st.sampled_from((2 * p + 1, 2 * p + s))), s, p))
    total = math.prod(s for _, s, _ in downs)
    size = _steered_size(draw, n, total, 2 * total, _caps(n))
    # the "const" sizes are the level inputs at a nominal input size: the drawn one or a nearby one
    nominal = size if draw(st.booleans()) else tuple(max(1, v + draw(st.integers(-3, 3))) for v in size)
    level_in = []
    cur = nominal
    for k, s, p in downs:
        level_in.append(cur)
        cur = tuple(max(1, _conv_out(v, k, s, p)) for v in cur)
    kinds = ("convT", "interp_skip", "convT_const", "upsample_const")
    chosen = [draw(st.sampled_from(kinds)) for _ in range(depth)]
    if not any(kind != "convT" for kind in chosen):
        chosen[draw(st.integers(0, depth - 1))] = draw(st.sampled_from(kinds[1:]))
    levels = []
    for (k, s, p), kind, const in zip(downs, chosen, level_in):
        if draw(st.booleans()):
            uk, up_p, op = k, p, _mirror_op(draw, k, s, p)
        else:
            uk, up_p, op = _transpose_for(draw, s, (s, s + 1, 2 * s))
        levels.append(IpLevel(k, s, p, kind, uk, up_p, op, const if "const" in kind else (),
                              draw(st.sampled_from(("nearest", LINEAR_MODE[n])))))
    return InterpSpec(
        ndim=n,
        channels=draw(st.sampled_from((1, 2))),
        batch=draw(st.integers(1, 2)),
        size=size,
        levels=tuple(levels),
        skip=draw(st.sampled_from(("none", "cat", "add"))),
    )


# --------------------------------------------------------------------------- hidden-mismatch


@dataclass(frozen=True)
class HLevel:
    down: str  # "conv3" | "conv2" | "max"
    up_kernel: int
    up_padding: int
    up_op: int
    merge: str  # "cat" | "add" | "crop" | "pad" | "interp"


class _HiddenNet(nn.Module):
    def __init__(self, spec: HiddenSpec):
        super().__init__()
        n, c = spec.ndim, spec.channels
        self.n = n
        self.merges = [lv.merge for lv in spec.levels]
        self.downs = nn.ModuleList(_regular_down(n, c, lv.down) for lv in spec.levels)
        self.ups = nn.ModuleList(CONVT[n](c, c, lv.up_kernel, stride=2, padding=lv.up_padding, output_padding=lv.up_op)
                                 for lv in spec.levels)
        self.fuse = nn.ModuleList(CONV[n](2 * c, c, 1) for _ in spec.levels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.n
        skips = []
        for down in self.downs:
            skips.append(x)
            x = down(x)
        for i in reversed(range(len(self.ups))):
            x = self.ups[i](x)
            skip, merge = skips[i], self.merges[i]
            if merge == "add":
                x = x + skip
                continue
            if merge == "crop":  # crop both to the common size (torchvision-style center crop of the skip)
                want = [min(a, b) for a, b in zip(x.shape[-n:], skip.shape[-n:])]
                x = _crop(x, n, [0] * n, want)
                skip = _crop(skip, n, [(have - w) // 2 for have, w in zip(skip.shape[-n:], want)], want)
            elif merge == "pad":  # pad (or crop) the up's output to the skip's size, as in many U-Nets
                pairs = []
                for have, want in zip(x.shape[-n:], skip.shape[-n:]):
                    diff = want - have
                    pairs.append((diff // 2, diff - diff // 2))
                x = F.pad(x, _pads(pairs))
            elif merge == "interp":
                x = F.interpolate(x, size=skip.shape[2:], mode="nearest")
            x = self.fuse[i](torch.cat([x, skip], dim=1))
        return x


@dataclass(frozen=True)
class HiddenSpec(Arch):
    family: ClassVar[str] = "hidden-mismatch"
    ndim: int
    channels: int
    batch: int
    size: Ints
    levels: tuple[HLevel, ...]

    def _module(self) -> nn.Module:
        return _HiddenNet(self)

    def mirror_pairs(self) -> list[tuple[str, str]]:
        return [(f"downs.{i}", f"ups.{i}") for i in range(len(self.levels))]


@st.composite
def hidden_specs(draw: Any) -> HiddenSpec:
    n = draw(st.sampled_from((1, 2, 2)))
    depth = draw(st.integers(1, 3))
    hider = draw(st.integers(0, depth - 1))
    levels = []
    for i in range(depth):
        down = draw(st.sampled_from(("conv3", "conv2", "max")))
        if i == hider:  # any ConvTranspose with stride 2: its mismatch (if any) is hidden
            uk = draw(st.integers(1, 5))
            up_p = draw(st.integers(0, max(0, (uk - 1) // 2)))
            op = draw(st.integers(0, 1))
            merge = draw(st.sampled_from(("crop", "pad", "interp")))
        else:
            uk, up_p, op = draw(st.sampled_from(((2, 0, 0), (3, 1, 1), (4, 1, 0))))
            merge = draw(st.sampled_from(("cat", "cat", "add")))
        levels.append(HLevel(down, uk, up_p, op, merge))
    return HiddenSpec(
        ndim=n,
        channels=draw(st.sampled_from((1, 2))),
        batch=draw(st.integers(1, 2)),
        size=_steered_size(draw, n, 2 ** depth, 2, _caps(n)),
        levels=tuple(levels),
    )


# --------------------------------------------------------------------------- compensated


class _CompNet(nn.Module):
    def __init__(self, spec: CompSpec):
        super().__init__()
        n, c = spec.ndim, spec.channels
        self.n, self.final = n, spec.final
        self.downs = nn.ModuleList(CONV[n](c, c, k, stride=s, padding=p) for k, s, p in spec.downs)
        self.ups = nn.ModuleList(CONVT[n](c, c, k, stride=s, padding=p, output_padding=op) for k, s, p, op in spec.ups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.n
        size = x.shape[-n:]
        for down in self.downs:
            x = down(x)
        for up in self.ups:
            x = up(x)
        if self.final == "interp":
            x = F.interpolate(x, size=size, mode="nearest")
        elif self.final == "crop":
            x = _crop(x, n, [0] * n, list(size))
        elif self.final == "pad":
            x = F.pad(x, _pads([(0, want - have) for have, want in zip(x.shape[-n:], size)]))
        return x


@dataclass(frozen=True)
class CompSpec(Arch):
    family: ClassVar[str] = "compensated"
    no_fix: ClassVar[bool] = True
    ndim: int
    channels: int
    batch: int
    size: Ints
    downs: tuple[tuple[int, int, int], ...]  # (kernel, stride, padding), isotropic
    ups: tuple[tuple[Ints, Ints, Ints, Ints], ...]  # (kernel, stride, padding, output_padding) per dim, decoder order
    final: str = "none"  # "none" | "interp" | "crop" | "pad": a final resize to the input's size

    def _module(self) -> nn.Module:
        return _CompNet(self)


def _solve_transpose(size: int, want: int, s: int) -> tuple[int, int, int] | None:
    """(kernel, padding, output_padding) with (size-1)s - 2p + k + op == want, smallest kernel."""
    for k in range(1, 2 * s + 4):
        for op in range(s):
            twice_p = (size - 1) * s + k + op - want
            if twice_p >= 0 and twice_p % 2 == 0 and twice_p // 2 <= (k - 1):
                return k, twice_p // 2, op
    return None


@st.composite
def compensated_specs(draw: Any) -> CompSpec:
    n = draw(st.sampled_from((1, 2, 2)))
    depth = draw(st.integers(2, 3))
    downs = []
    for _ in range(depth):
        s = 2
        p = draw(st.integers(0, 1))
        downs.append((draw(st.sampled_from((2 * p + 1, 2 * p + 2))), s, p))
    size = _steered_size(draw, n, 2 ** depth, 2 ** depth, _caps(n))
    sizes = [size]
    for k, s, p in downs:
        sizes.append(tuple(max(1, _conv_out(v, k, s, p)) for v in sizes[-1]))
    final = draw(st.sampled_from(("none", "none", "interp", "crop", "pad")))
    ups = []
    cur = sizes[-1]
    for lvl in reversed(range(depth)):
        k, s, p = downs[lvl]
        # the mirror with a deliberately different output_padding or kernel: a mid-decoder mismatch
        uk = draw(st.sampled_from((k, k + 1, max(1, k - 1))))
        op = draw(st.integers(0, s - 1))
        up = ((uk,) * n, (s,) * n, (p,) * n, (op,) * n)
        if lvl == 0 and final == "none":  # the compensator: solved to land on the input size
            solved = [_solve_transpose(cur[i], size[i], s) for i in range(n)]
            if all(v is not None for v in solved):
                up = (tuple(v[0] for v in solved), (s,) * n, tuple(v[1] for v in solved), tuple(v[2] for v in solved))  # type: ignore[index]
            else:
                final = "interp"
        ups.append(up)
        cur = tuple(max(1, _convt_out(cur[i], up[0][i], s, up[2][i], up[3][i])) for i in range(n))
    return CompSpec(
        ndim=n,
        channels=draw(st.sampled_from((1, 2))),
        batch=draw(st.integers(1, 2)),
        size=size,
        downs=tuple(downs),
        ups=tuple(ups),
        final=final,
    )


# --------------------------------------------------------------------------- fraction-head


class _FractionNet(nn.Module):
    def __init__(self, spec: FractionSpec):
        super().__init__()
        n, c = spec.ndim, spec.channels
        self.spec = spec
        self.stem = CONV[n](spec.in_channels, c, 3, padding=1)
        self.downs = nn.ModuleList(_regular_down(n, c, spec.down) for _ in range(spec.depth))
        self.lateral = nn.ModuleList(CONV[n](c, c, 1) for _ in range(spec.depth)) if spec.style == "fpn" else None
        count = spec.depth - spec.out_level
        if spec.up in ("convT2", "convT3", "convT4", "upsample"):
            self.ups = nn.ModuleList(_regular_up(n, c, spec.up) for _ in range(count))
        else:
            self.ups = None
        self.head = CONV[n](c, spec.classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spec = self.spec
        x = self.stem(x)
        feats = []
        for down in self.downs:
            x = down(x)
            feats.append(x)
        top = feats[-1] if self.lateral is None else self.lateral[-1](feats[-1])
        for j, lvl in enumerate(reversed(range(spec.out_level - 1, spec.depth - 1))):
            target = feats[lvl]
            if self.ups is not None:
                top = self.ups[j](top)
            else:
                top = F.interpolate(top, size=target.shape[2:], mode="nearest")
            if self.lateral is not None:
                top = top + self.lateral[lvl](target)
        return self.head(top)


@dataclass(frozen=True)
class FractionSpec(Arch):
    family: ClassVar[str] = "fraction-head"
    ndim: int
    in_channels: int
    channels: int
    batch: int
    size: Ints
    depth: int  # /2 levels
    down: str  # "conv3" | "conv2" | "max"
    out_level: int  # output at 1/2**out_level
    style: str = "fpn"  # "fpn" (lateral adds) | "plain"
    up: str = "upsample"  # "upsample" | "convT2" | "convT3" | "convT4" | "interp_size"
    classes: int = 2

    @property
    def restoring(self) -> bool:
        return False

    def _module(self) -> nn.Module:
        return _FractionNet(self)


@st.composite
def fraction_specs(draw: Any) -> FractionSpec:
    n = draw(st.sampled_from((1, 2, 2)))
    depth = draw(st.integers(2, 4))
    out_level = draw(st.integers(1, min(2, depth - 1)))
    return FractionSpec(
        ndim=n,
        in_channels=draw(st.integers(1, 3)),
        channels=draw(st.sampled_from((1, 2))),
        batch=draw(st.integers(1, 2)),
        size=_steered_size(draw, n, 2 ** depth, 2 ** depth, 2 * _caps(n) if n == 1 else 40),
        depth=depth,
        down=draw(st.sampled_from(("conv3", "conv2", "max"))),
        out_level=out_level,
        style=draw(st.sampled_from(("fpn", "fpn", "plain"))),
        up=draw(st.sampled_from(("upsample", "convT2", "convT3", "convT4", "interp_size"))),
        classes=draw(st.integers(1, 3)),
    )


# --------------------------------------------------------------------------- codec-trim


class _CodecDown(nn.Module):
    def __init__(self, cin: int, cout: int, s: int, k: int, pad: str):
        super().__init__()
        self.s, self.k, self.pad = s, k, pad
        self.conv = nn.Conv1d(cin, cout, k, stride=s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.k, self.s
        total = k - s
        if self.pad == "causal":
            x = F.pad(x, (total, 0))
        elif self.pad == "symmetric":
            x = F.pad(x, (total // 2, total - total // 2))
        else:  # EnCodec: extra right padding so that the last frame is complete
            length = x.shape[-1]
            frames = (length - k + total) / s + 1
            ideal = (math.ceil(frames) - 1) * s + (k - total)
            x = F.pad(x, (total, ideal - length))
        return self.conv(x)


class _CodecUp(nn.Module):
    def __init__(self, cin: int, cout: int, s: int, k: int, trim: str):
        super().__init__()
        self.s, self.k, self.trim = s, k, trim
        self.conv = nn.ConvTranspose1d(cin, cout, k, stride=s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        total = self.k - self.s
        left = 0 if self.trim == "right" else total // 2
        right = total - left
        return y[..., left: y.shape[-1] - right]


class _CodecNet(nn.Module):
    def __init__(self, spec: CodecSpec):
        super().__init__()
        chans = [spec.channels * 2 ** i for i in range(len(spec.strides) + 1)]
        self.final_trim = spec.final_trim
        self.enc = nn.ModuleList(_CodecDown(chans[i], chans[i + 1], s, spec.kernel_mult * s, spec.enc_pad)
                                 for i, s in enumerate(spec.strides))
        self.dec = nn.ModuleList(_CodecUp(chans[i + 1], chans[i], s, spec.kernel_mult * s, spec.trim)
                                 for i, s in reversed(list(enumerate(spec.strides))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.shape[-1]
        for down in self.enc:
            x = down(x)
        for up in self.dec:
            x = up(x)
        if self.final_trim:
            x = x[..., :length]
        return x


@dataclass(frozen=True)
class CodecSpec(Arch):
    family: ClassVar[str] = "codec-trim"
    channels: int
    batch: int
    size: Ints
    strides: Ints
    enc_pad: str = "causal"  # "causal" | "symmetric" | "extra" (EnCodec: output ceil(L/s))
    trim: str = "right"  # "right" | "symmetric": how the k - s extra samples are trimmed
    final_trim: bool = False  # y[..., :L] at the end
    kernel_mult: int = 2

    @property
    def ndim(self) -> int:
        return 1

    def _module(self) -> nn.Module:
        return _CodecNet(self)


@st.composite
def codec_specs(draw: Any) -> CodecSpec:
    strides = draw(st.sampled_from(((2,), (4,), (2, 2), (2, 4), (4, 2), (3, 2), (2, 2, 2), (2, 5), (8,))))
    hop = math.prod(strides)
    return CodecSpec(
        channels=draw(st.sampled_from((1, 2))),
        batch=draw(st.integers(1, 2)),
        size=_steered_size(draw, 1, hop, hop, 6 * hop),
        strides=strides,
        enc_pad=draw(st.sampled_from(("causal", "symmetric", "extra"))),
        trim=draw(st.sampled_from(("right", "symmetric"))),
        final_trim=draw(st.booleans()),
        kernel_mult=draw(st.sampled_from((2, 2, 1))),
    )


# --------------------------------------------------------------------------- registry

FAMILIES: dict[str, Any] = {
    TfSameSpec.family: tf_same_specs(),
    PadModeSpec.family: padding_mode_specs(),
    SharedSpec.family: shared_specs(),
    PatchSpec.family: patch_specs(),
    ResizeCatSpec.family: resize_cat_specs(),
    ParallelSpec.family: parallel_specs(),
    InterpSpec.family: interp_specs(),
    HiddenSpec.family: hidden_specs(),
    CompSpec.family: compensated_specs(),
    FractionSpec.family: fraction_specs(),
    CodecSpec.family: codec_specs(),
}

SPEC_CLASSES = (Culprit, TfLevel, TfSameSpec, PmLevel, PadModeSpec, SharedSpec, PatchSpec, ResizeCatSpec, ParLevel,
                ParallelSpec, IpLevel, InterpSpec, HLevel, HiddenSpec, CompSpec, FractionSpec, CodecSpec)


def from_repr(text: str) -> Any:
    """The spec a ``repr`` describes (any family here or a ``fuzz_models`` spec)."""
    import fuzz_models as fm
    import fuzz_more

    namespace = {cls.__name__: cls for cls in (*SPEC_CLASSES, *fuzz_more.SPEC_CLASSES)}
    namespace.update(ModelSpec=fm.ModelSpec, DownSpec=fm.DownSpec, UpSpec=fm.UpSpec, Illegal=fm.Illegal)
    return eval(text, {"__builtins__": {}}, namespace)
