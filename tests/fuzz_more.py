"""More architecture families for the differential fuzzer: models that are not encoder/decoder
mirrors at all, or whose levels meet through something other than a skip.

Same protocol as ``fuzz_arch`` (``family``, ``ndim``, ``input_shape``, ``build``, ``restoring``,
``no_fix``, ``culprit()``, ``mirror_pairs()``, a ``repr`` that rebuilds the spec).

Families (``FAMILIES``):

``generator``          GAN generators and super-resolution heads: a latent or low-resolution
                       input and only upsampling (ConvTranspose with random kernel, stride,
                       padding, dilation and output_padding, sometimes an illegal one; Upsample +
                       Conv; Conv + PixelShuffle). Nothing to pair: an error needs eager to fail.
``linear-bottleneck``  VAE-style autoencoders: strided convs, Flatten, Linear to a latent and
                       back, Unflatten to the size the encoder gave at the design size, a
                       ConvTranspose decoder; the input is the design size or another one (then
                       the Linear raises in eager).
``output-size``        a U-Net whose ConvTranspose ups are called with ``output_size=`` (the
                       skip's ``size()``, its spatial shape, or a constant near the input size),
                       or without it at some levels: eager raises when the size asked for is out
                       of the layer's reach.
``diffusion-unet``     diffusion U-Nets: time-embedding ResBlocks (a ``(B, C, 1, 1)`` broadcast
                       add, GroupNorm), diffusers-style downsampling (conv k3 s2 p1, a right
                       pad then k3 s2 p0, or average pooling), optional self-attention at the
                       bottleneck (flatten to tokens and reshape back), and ups by nearest
                       interpolation x2 or to the skip's size (then a conv), or ConvTranspose.
``residual-encoder``   ResNet-style blocks whose strided main branch is added to a strided
                       shortcut (1x1 conv, average/max pooling, floor or ceil): the add raises
                       at sizes where the two disagree. As a classifier (global pool) or as the
                       encoder of a U-Net with a ConvTranspose decoder.

As in ``fuzz_arch``, arithmetic here only steers drawing; the verdict is eager torch's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from fuzz_arch import AVGPOOL, CONV, CONVT, MAXPOOL, Arch, Ints
from hypothesis import strategies as st
from torch import nn

# --------------------------------------------------------------------------- generator


@dataclass(frozen=True)
class GenLayer:
    kind: str  # "convT" | "upsample_conv" | "pixel_shuffle"
    kernel: int = 4
    stride: int = 2
    padding: int = 1
    output_padding: int = 0
    dilation: int = 1


class _Generator(nn.Module):
    def __init__(self, spec: GeneratorSpec):
        super().__init__()
        n, c = spec.ndim, spec.channels
        layers: list[nn.Module] = []
        for i, g in enumerate(spec.layers):
            c_in = spec.in_channels if i == 0 else c
            if g.kind == "convT":
                layers.append(CONVT[n](c_in, c, g.kernel, stride=g.stride, padding=g.padding,
                                       output_padding=g.output_padding, dilation=g.dilation))
            elif g.kind == "upsample_conv":
                layers += [nn.Upsample(scale_factor=float(g.stride), mode="nearest"), CONV[n](c_in, c, g.kernel, padding=g.padding)]
            else:  # pixel shuffle (2d)
                layers += [CONV[n](c_in, c * g.stride * g.stride, g.kernel, padding=g.padding), nn.PixelShuffle(g.stride)]
            layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)
        self.to_out = CONV[n](c, spec.out_channels, 3, padding=1) if spec.head else None

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.net(z)
        return torch.tanh(self.to_out(x)) if self.to_out is not None else x


@dataclass(frozen=True)
class GeneratorSpec(Arch):
    family: ClassVar[str] = "generator"
    ndim: int
    in_channels: int
    channels: int
    batch: int
    size: Ints
    layers: tuple[GenLayer, ...]
    head: bool = True
    out_channels: int = 3

    @property
    def restoring(self) -> bool:
        return False

    def _module(self) -> nn.Module:
        return _Generator(self)


@st.composite
def _gen_layer(draw: Any, n: int) -> GenLayer:
    kind = draw(st.sampled_from(("convT", "convT", "convT", "upsample_conv") + (("pixel_shuffle",) if n == 2 else ())))
    if kind != "convT":
        k = draw(st.sampled_from((1, 3, 5)))
        return GenLayer(kind, kernel=k, stride=draw(st.sampled_from((2, 2, 3))), padding=draw(st.sampled_from((k // 2, k // 2, 0))))
    s = draw(st.sampled_from((1, 2, 2, 2, 3, 4)))
    d = draw(st.sampled_from((1, 1, 1, 2)))
    k = draw(st.integers(1, 6))
    p = draw(st.integers(0, 3))
    limit = max(s, d)
    op = draw(st.integers(0, limit - 1)) if draw(st.integers(0, 9)) else draw(st.integers(limit, limit + 1))  # 1 in 10: illegal
    return GenLayer("convT", kernel=k, stride=s, padding=p, output_padding=op, dilation=d)


@st.composite
def generator_specs(draw: Any) -> GeneratorSpec:
    n = draw(st.sampled_from((1, 2, 2)))
    return GeneratorSpec(
        ndim=n,
        in_channels=draw(st.sampled_from((1, 4, 8))),
        channels=draw(st.sampled_from((1, 2, 4))),
        batch=draw(st.integers(1, 2)),
        size=tuple(draw(st.integers(1, 5)) for _ in range(n)),
        layers=tuple(draw(st.lists(_gen_layer(n), min_size=1, max_size=4))),
        head=draw(st.booleans()),
        out_channels=draw(st.integers(1, 3)),
    )


# --------------------------------------------------------------------------- linear-bottleneck


def _conv_out(size: int, k: int, s: int, p: int) -> int:
    return (size + 2 * p - k) // s + 1


class _Bottleneck(nn.Module):
    def __init__(self, spec: BottleneckSpec):
        super().__init__()
        n, c = spec.ndim, spec.channels
        enc: list[nn.Module] = []
        dec: list[nn.Module] = []
        for i, (k, s, p) in enumerate(spec.downs):
            enc += [CONV[n](spec.in_channels if i == 0 else c, c, k, stride=s, padding=p), nn.ReLU()]
        inner = spec.inner_size()
        flat = c * math.prod(inner)
        self.encoder = nn.Sequential(*enc, nn.Flatten(), nn.Linear(flat, spec.latent))
        for i, (k, s, p, op) in enumerate(spec.ups):
            last = i == len(spec.ups) - 1
            dec += [CONVT[n](c, spec.in_channels if last else c, k, stride=s, padding=p, output_padding=op)]
            if not last:
                dec.append(nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(spec.latent, flat), nn.Unflatten(1, (c, *inner)), *dec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


@dataclass(frozen=True)
class BottleneckSpec(Arch):
    family: ClassVar[str] = "linear-bottleneck"
    ndim: int
    in_channels: int
    channels: int
    batch: int
    design: Ints  # the size the Linear layers are built for
    size: Ints  # the input size (the design size, or another one)
    downs: tuple[tuple[int, int, int], ...]  # (kernel, stride, padding)
    ups: tuple[tuple[int, int, int, int], ...]  # (kernel, stride, padding, output_padding), decoder order
    latent: int = 8

    def inner_size(self) -> Ints:
        out = []
        for size in self.design:
            for k, s, p in self.downs:
                size = _conv_out(size, k, s, p)
            out.append(size)
        return tuple(out)

    def _module(self) -> nn.Module:
        return _Bottleneck(self)

    def mirror_pairs(self) -> list[tuple[str, str]] | None:
        m = len(self.downs)
        return [(f"encoder.{2 * i}", f"decoder.{2 + 2 * (m - 1 - i)}") for i in range(m)]


@st.composite
def bottleneck_specs(draw: Any) -> BottleneckSpec:
    n = draw(st.sampled_from((1, 2, 2)))
    m = draw(st.integers(1, 3))
    downs = tuple(draw(st.sampled_from(((3, 2, 1), (4, 2, 1), (5, 2, 2), (3, 2, 0), (2, 2, 0)))) for _ in range(m))
    design = tuple(draw(st.sampled_from((16, 24, 28, 32, 20, 27)) if n == 2 else st.integers(16, 90)) for _ in range(n))
    ups = []
    for k, s, p in reversed(downs):
        excess = k - 2 * p
        op = s * -(-excess // s) - excess if excess > 0 else 0
        if not 0 <= op < s or draw(st.integers(0, 3)) == 0:
            op = draw(st.integers(0, s - 1))
        ups.append((k, s, p, op))
    size = design if draw(st.integers(0, 3)) else tuple(d + draw(st.sampled_from((-2, -1, 1, 2))) for d in design)
    return BottleneckSpec(ndim=n, in_channels=draw(st.integers(1, 2)), channels=draw(st.sampled_from((2, 4))),
                          batch=draw(st.integers(1, 2)), design=design, size=size, downs=downs, ups=tuple(ups))


# --------------------------------------------------------------------------- residual-encoder


class _ResBlock(nn.Module):
    def __init__(self, n: int, c_in: int, c: int, main: tuple[int, int], shortcut: str):
        super().__init__()
        k, p = main
        self.conv1 = CONV[n](c_in, c, k, stride=2, padding=p)
        self.conv2 = CONV[n](c, c, 3, padding=1)
        if shortcut == "conv1x1":
            self.shortcut: nn.Module = CONV[n](c_in, c, 1, stride=2)
        elif shortcut in ("avg", "avg_ceil"):
            self.shortcut = nn.Sequential(AVGPOOL[n](2, ceil_mode=shortcut == "avg_ceil"), CONV[n](c_in, c, 1))
        else:  # "max3": MaxPool(3, 2, 1)
            self.shortcut = nn.Sequential(MAXPOOL[n](3, 2, 1), CONV[n](c_in, c, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv2(torch.relu(self.conv1(x))) + self.shortcut(x))


class _ResNet(nn.Module):
    def __init__(self, spec: ResEncSpec):
        super().__init__()
        n, c = spec.ndim, spec.channels
        self.stem = CONV[n](spec.in_channels, c, 3, padding=1)
        self.blocks = nn.ModuleList(_ResBlock(n, c, c, main, sc) for main, sc in spec.blocks)
        self.decoder = spec.decoder
        if spec.decoder:
            self.ups = nn.ModuleList(CONVT[n](c, c, k, stride=2, padding=p, output_padding=op) for k, p, op in spec.ups)
            self.fuse = nn.ModuleList(CONV[n](2 * c, c, 1) for _ in spec.ups)
            self.head = CONV[n](c, spec.in_channels, 1)
        else:
            self.pool = {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d}[n](1)
            self.fc = nn.Linear(c, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        skips = []
        for block in self.blocks:
            skips.append(x)
            x = block(x)
        if not self.decoder:
            return self.fc(self.pool(x).flatten(1))
        for up, fuse, skip in zip(self.ups, self.fuse, reversed(skips)):
            x = fuse(torch.cat([up(x), skip], dim=1))
        return self.head(x)


@dataclass(frozen=True)
class ResEncSpec(Arch):
    family: ClassVar[str] = "residual-encoder"
    ndim: int
    in_channels: int
    channels: int
    batch: int
    size: Ints
    blocks: tuple[tuple[tuple[int, int], str], ...]  # ((kernel, padding) of the strided conv, shortcut kind)
    decoder: bool = False
    ups: tuple[tuple[int, int, int], ...] = ()  # (kernel, padding, output_padding), decoder order

    @property
    def restoring(self) -> bool:
        return self.decoder

    def _module(self) -> nn.Module:
        return _ResNet(self)

    # No mirror_pairs: the strided conv and the shortcut of a block both take the level's input,
    # and pairing an up with either one is right (the verdicts are still judged).


@st.composite
def res_enc_specs(draw: Any) -> ResEncSpec:
    n = draw(st.sampled_from((1, 2, 2)))
    m = draw(st.integers(1, 3))
    blocks = tuple((draw(st.sampled_from(((3, 1), (3, 1), (1, 0), (4, 1), (5, 2), (3, 0)))),
                    draw(st.sampled_from(("conv1x1", "conv1x1", "avg", "avg_ceil", "max3")))) for _ in range(m))
    decoder = draw(st.booleans())
    ups = []
    if decoder:
        for (k, p), _ in reversed(blocks):
            excess = k - 2 * p
            op = 2 * -(-excess // 2) - excess if excess > 0 else 0
            if not 0 <= op < 2 or draw(st.integers(0, 3)) == 0:
                op = draw(st.integers(0, 1))
            ups.append((k, p, op))
    aligned = draw(st.booleans())
    cap = 40 if n == 2 else 120
    size = tuple((draw(st.integers(1, cap // 2 ** m)) * 2 ** m) if aligned else draw(st.integers(2 ** m, cap)) for _ in range(n))
    return ResEncSpec(ndim=n, in_channels=draw(st.integers(1, 3)), channels=draw(st.sampled_from((2, 4))),
                      batch=draw(st.integers(1, 2)), size=size, blocks=blocks, decoder=decoder, ups=tuple(ups))


# --------------------------------------------------------------------------- output-size


class _OutSizeNet(nn.Module):
    """A U-Net whose ConvTranspose ups are called with ``output_size=`` (the skip's size, whole
    or spatial only, or a constant), or without it at some levels."""

    def __init__(self, spec: OutSizeSpec):
        super().__init__()
        n, c = spec.ndim, spec.channels
        self.spec = spec
        self.downs = nn.ModuleList(CONV[n](c, c, k, stride=s, padding=p) for k, s, p in spec.downs)
        self.ups = nn.ModuleList(CONVT[n](c, c, k, stride=s, padding=p, output_padding=op) for k, s, p, op in spec.ups)
        self.fuse = nn.ModuleList(CONV[n](2 * c, c, 1) for _ in spec.downs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for down in self.downs:
            skips.append(x)
            x = down(x)
        for i in reversed(range(len(self.ups))):
            how, skip = self.spec.how[i], skips[i]
            if how == "size":
                x = self.ups[i](x, output_size=skip.size())
            elif how == "spatial":
                x = self.ups[i](x, output_size=list(skip.shape[2:]))
            elif how == "const":
                x = self.ups[i](x, output_size=list(self.spec.const))
            else:
                x = self.ups[i](x)
            x = self.fuse[i](torch.cat([x, skip], dim=1))
        return x


@dataclass(frozen=True)
class OutSizeSpec(Arch):
    family: ClassVar[str] = "output-size"
    ndim: int
    channels: int
    batch: int
    size: Ints
    downs: tuple[tuple[int, int, int], ...]  # (kernel, stride, padding), encoder order
    ups: tuple[tuple[int, int, int, int], ...]  # (kernel, stride, padding, output_padding), one per level
    how: tuple[str, ...]  # per level: "size" | "spatial" | "const" | "none"
    const: Ints = ()

    def _module(self) -> nn.Module:
        return _OutSizeNet(self)

    def mirror_pairs(self) -> list[tuple[str, str]] | None:
        return [(f"downs.{i}", f"ups.{i}") for i in range(len(self.downs))]


@st.composite
def out_size_specs(draw: Any) -> OutSizeSpec:
    n = draw(st.sampled_from((1, 2, 2, 3)))
    m = draw(st.integers(1, 3))
    downs, ups = [], []
    for _ in range(m):
        s = draw(st.sampled_from((2, 2, 3)))
        k = draw(st.sampled_from((s, s + 1, 3, 4, 5)))
        p = draw(st.integers(0, k // 2))
        downs.append((k, s, p))
        d_k = draw(st.sampled_from((k, k, s, k + 1)))
        d_p = draw(st.sampled_from((p, p, max(0, p - 1), p + 1)))
        ups.append((d_k, s, d_p, draw(st.integers(0, s - 1))))
    how = tuple(draw(st.sampled_from(("size", "spatial", "spatial", "const", "none"))) for _ in range(m))
    cap = {1: 90, 2: 36, 3: 14}[n]
    size = tuple(draw(st.integers(max(4, 2 ** m), cap)) for _ in range(n))
    const = tuple(v + draw(st.sampled_from((0, 0, -1, 1))) for v in size)
    return OutSizeSpec(ndim=n, channels=draw(st.sampled_from((1, 2))), batch=draw(st.integers(1, 2)), size=size,
                       downs=tuple(downs), ups=tuple(ups), how=how, const=const)


# --------------------------------------------------------------------------- diffusion-unet


class _TimeRes(nn.Module):
    """A diffusion ResBlock: GroupNorm, SiLU, conv, a broadcast add of the time embedding
    ``(B, C, 1, ...)``, conv, residual add."""

    def __init__(self, n: int, c: int):
        super().__init__()
        self.norm1, self.norm2 = nn.GroupNorm(1, c), nn.GroupNorm(1, c)
        self.conv1, self.conv2 = CONV[n](c, c, 3, padding=1), CONV[n](c, c, 3, padding=1)
        self.temb = nn.Linear(4, c)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        h = self.conv1(torch.nn.functional.silu(self.norm1(x)))
        h = h + self.temb(t)[(..., *([None] * (x.dim() - 2)))]
        return x + self.conv2(torch.nn.functional.silu(self.norm2(h)))


class _Attention(nn.Module):
    """Self-attention over the positions: flatten to tokens and reshape back with the shape read
    from the tensor."""

    def __init__(self, c: int):
        super().__init__()
        self.qkv = nn.Linear(c, 3 * c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, *spatial = x.shape
        tokens = x.flatten(2).transpose(1, 2)
        q, k, v = self.qkv(tokens).chunk(3, dim=-1)
        attn = torch.softmax(q @ k.transpose(1, 2) / c ** 0.5, dim=-1)
        return x + (attn @ v).transpose(1, 2).reshape(b, c, *spatial)


class _Downsample(nn.Module):
    """diffusers-style: conv k3 s2 p1, or a pad on the right by 1 then conv k3 s2 p0, or
    average pooling by 2 (the layer is ``op``)."""

    def __init__(self, n: int, c: int, kind: str):
        super().__init__()
        self.pad = kind == "conv_pad"
        self.op = CONV[n](c, c, 3, stride=2, padding=0 if self.pad else 1) if kind.startswith("conv") else AVGPOOL[n](2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad:
            x = torch.nn.functional.pad(x, (0, 1) * (x.dim() - 2))
        return self.op(x)


class _DiffusionNet(nn.Module):
    def __init__(self, spec: DiffusionSpec):
        super().__init__()
        n, c = spec.ndim, spec.channels
        self.spec = spec
        self.t = nn.Parameter(torch.randn(1, 4))
        self.stem = CONV[n](spec.in_channels, c, 3, padding=1)
        self.res_down = nn.ModuleList(_TimeRes(n, c) for _ in spec.downs)
        self.downs = nn.ModuleList(_Downsample(n, c, d) for d in spec.downs)
        self.mid = _Attention(c) if spec.attention else nn.Identity()
        self.ups = nn.ModuleList(
            CONVT[n](c, c, spec.up_kernel, stride=2, padding=1, output_padding=spec.up_op) if u == "convT" else CONV[n](c, c, 3, padding=1)
            for u in spec.ups
        )
        self.fuse = nn.ModuleList(CONV[n](2 * c, c, 1) for _ in spec.ups)
        self.res_up = nn.ModuleList(_TimeRes(n, c) for _ in spec.ups)
        self.out = CONV[n](c, spec.in_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.t.expand(x.shape[0], 4)
        h = self.stem(x)
        skips = []
        for res, down in zip(self.res_down, self.downs):
            h = res(h, t)
            skips.append(h)
            h = down(h)
        h = self.mid(h)
        for i, kind in enumerate(self.spec.ups):
            skip = skips[-1 - i]
            if kind == "interp":
                h = torch.nn.functional.interpolate(h, scale_factor=2.0, mode="nearest")
            elif kind == "interp_size":
                h = torch.nn.functional.interpolate(h, size=skip.shape[2:], mode="nearest")
            h = self.ups[i](h)
            h = self.res_up[i](self.fuse[i](torch.cat([h, skip], dim=1)), t)
        return self.out(h)


@dataclass(frozen=True)
class DiffusionSpec(Arch):
    family: ClassVar[str] = "diffusion-unet"
    ndim: int
    in_channels: int
    channels: int
    batch: int
    size: Ints
    downs: tuple[str, ...]  # per level: "conv" (k3 s2 p1) | "conv_pad" (pad right by 1, k3 s2 p0) | "avg" (AvgPool 2)
    ups: tuple[str, ...]  # per level, innermost first: "interp" (x2 nearest + conv) | "interp_size" (to the skip) | "convT"
    up_kernel: int = 4
    up_op: int = 0
    attention: bool = False

    def _module(self) -> nn.Module:
        return _DiffusionNet(self)


@st.composite
def diffusion_specs(draw: Any) -> DiffusionSpec:
    n = draw(st.sampled_from((1, 2, 2)))
    m = draw(st.integers(1, 3))
    aligned = draw(st.booleans())
    cap = {1: 64, 2: 24}[n]
    size = tuple((draw(st.integers(1, cap // 2 ** m)) * 2 ** m) if aligned else draw(st.integers(2 ** m, cap)) for _ in range(n))
    return DiffusionSpec(
        ndim=n, in_channels=draw(st.integers(1, 3)), channels=draw(st.sampled_from((2, 4))), batch=draw(st.integers(1, 2)),
        size=size,
        downs=tuple(draw(st.sampled_from(("conv", "conv", "conv_pad", "avg"))) for _ in range(m)),
        ups=tuple(draw(st.sampled_from(("interp", "interp", "interp_size", "convT"))) for _ in range(m)),
        up_kernel=draw(st.sampled_from((4, 4, 3))), up_op=draw(st.integers(0, 1)), attention=draw(st.booleans()),
    )


# --------------------------------------------------------------------------- registry

FAMILIES: dict[str, Any] = {
    GeneratorSpec.family: generator_specs(),
    BottleneckSpec.family: bottleneck_specs(),
    ResEncSpec.family: res_enc_specs(),
    OutSizeSpec.family: out_size_specs(),
    DiffusionSpec.family: diffusion_specs(),
}

SPEC_CLASSES = (GenLayer, GeneratorSpec, BottleneckSpec, ResEncSpec, OutSizeSpec, DiffusionSpec)
