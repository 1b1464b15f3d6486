"""A U-Net decoder block that pads the upsampled map to a multiple of 8 before the skip concat.

Seen in detection/segmentation code that pads feature maps to a multiple of the network
stride ("pad to a multiple of 32 so the next stage divides evenly") but applies it on the
decoder branch. ``MaxPool2d(2)`` down, ``ConvTranspose2d(k2, s2)`` up: the up itself
round-trips at every even size, but the following ``F.pad(x, (0, -w % 8, 0, -h % 8))``
makes the map larger unless the size is already a multiple of 8, and ``torch.cat`` with the
skip raises. The pad is the culprit (inside ``dec``: ``dec:F.pad``); output_padding cannot
help.
"""

import torch
import torch.nn.functional as F
from torch import nn

KIND = "restoring"


class PaddedUp(nn.Module):
    def __init__(self, cin, cout, multiple=8):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cout, 2, stride=2)
        self.conv = nn.Conv2d(2 * cout, cout, 3, padding=1)
        self.multiple = multiple

    def forward(self, x, skip):
        x = self.up(x)
        h, w = x.shape[-2:]
        x = F.pad(x, (0, -w % self.multiple, 0, -h % self.multiple))
        return self.conv(torch.cat([x, skip], dim=1))


class PadAfterUpUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.enc = nn.Conv2d(4, 8, 3, padding=1)
        self.dec = PaddedUp(8, 4)
        self.head = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        s = self.stem(x)
        x = self.enc(self.pool(s))
        return self.head(self.dec(x, s))


def build() -> nn.Module:
    return PadAfterUpUNet()


CASES = [
    {"input": (1, 1, 32, 32), "works": True},
    {"input": (1, 1, 16, 40), "works": True},
    {"input": (1, 1, 28, 28), "works": False, "culprits": ["dec:F.pad"], "fix": "none"},
    {"input": (1, 1, 32, 36), "works": False, "culprits": ["dec:F.pad"], "fix": "none"},
]
