"""A U-Net whose encoder uses timm's ``Conv2dSame`` (TF "same" padding for ported weights).

timm's ``Conv2dSame`` subclasses ``nn.Conv2d`` but its forward pads with ``F.pad`` (the pad is
computed from the input size, the extra pixel at the end) and calls ``F.conv2d`` with
padding 0, so the module's ``padding`` attribute says 0 while the layer behaves like
``ceil(n / stride)``. The decoder uses ``ConvTranspose2d(k2, s2)`` and concatenates the skips,
two levels deep: it works when the size is a multiple of 4 (and at 28: 28 -> 14 -> 7 -> 14 ->
28). At other sizes a level sees ceil(n/2)*2 = n + 1 and ``torch.cat`` raises; output_padding
only adds, so nothing fixes the deconv.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

KIND = "restoring"


def pad_same(x, kernel_size, stride, dilation=(1, 1)):
    ih, iw = x.shape[-2:]
    pad_h = max((math.ceil(ih / stride[0]) - 1) * stride[0] + (kernel_size[0] - 1) * dilation[0] + 1 - ih, 0)
    pad_w = max((math.ceil(iw / stride[1]) - 1) * stride[1] + (kernel_size[1] - 1) * dilation[1] + 1 - iw, 0)
    if pad_h > 0 or pad_w > 0:
        x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
    return x


class Conv2dSame(nn.Conv2d):
    """timm.layers.conv2d_same.Conv2dSame."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, dilation=1, groups=1, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride, 0, dilation, groups, bias)

    def forward(self, x):
        x = pad_same(x, self.kernel_size, self.stride, self.dilation)
        return F.conv2d(x, self.weight, self.bias, self.stride, (0, 0), self.dilation, self.groups)


def block(cin, cout, stride):
    return nn.Sequential(Conv2dSame(cin, cout, 3, stride=stride), nn.BatchNorm2d(cout), nn.ReLU())


class TfSameUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = block(1, 4, 1)
        self.enc1 = block(4, 8, 2)
        self.enc2 = block(8, 8, 2)
        self.up2 = nn.ConvTranspose2d(8, 8, 2, stride=2)
        self.dec2 = block(16, 8, 1)
        self.up1 = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.dec1 = block(8, 4, 1)
        self.head = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        s0 = self.stem(x)
        s1 = self.enc1(s0)
        x = self.enc2(s1)
        x = self.dec2(torch.cat([self.up2(x), s1], dim=1))
        x = self.dec1(torch.cat([self.up1(x), s0], dim=1))
        return self.head(x)


def build() -> nn.Module:
    return TfSameUNet()


CASES = [
    {"input": (1, 1, 32, 32), "works": True},
    {"input": (1, 1, 28, 28), "works": True},
    {"input": (1, 1, 24, 40), "works": True},
    {"input": (1, 1, 30, 30), "works": False, "culprits": ["up2"], "fix": "none"},
    {"input": (1, 1, 31, 31), "works": False, "culprits": ["up1"], "fix": "none"},
]
