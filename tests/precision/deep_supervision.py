"""A U-Net with deep-supervision side outputs summed at full resolution (multi-scale head).

UNet++/DeepLab-style auxiliary heads: 1x1 predictions at 1/4 and 1/2 are upsampled with
``F.interpolate(scale_factor=4)`` and ``(scale_factor=2)`` and added to the full-resolution
prediction. The decoder itself resizes to the skip (``interpolate(size=skip.shape[2:])``)
and works everywhere; the side heads only round-trip when the size is a multiple of 4 (the
downs are ``MaxPool2d(2)``, floor). At 30 the 1/4 head gives 28: the add raises, the
culprit is its interpolate (``ds:F.interpolate``); at 29 both heads give 28.
"""

import torch
import torch.nn.functional as F
from torch import nn

KIND = "restoring"


class DeepSupervision(nn.Module):
    def __init__(self, c4, c2, c1, classes=1):
        super().__init__()
        self.side4 = nn.Conv2d(c4, classes, 1)
        self.side2 = nn.Conv2d(c2, classes, 1)
        self.main = nn.Conv2d(c1, classes, 1)

    def forward(self, f4, f2, f1):
        out = self.main(f1)
        out = out + F.interpolate(self.side4(f4), scale_factor=4, mode="bilinear", align_corners=False)
        out = out + F.interpolate(self.side2(f2), scale_factor=2, mode="bilinear", align_corners=False)
        return out


class DSUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inc = nn.Conv2d(1, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.enc1 = nn.Conv2d(4, 8, 3, padding=1)
        self.enc2 = nn.Conv2d(8, 8, 3, padding=1)
        self.dec2 = nn.Conv2d(16, 8, 3, padding=1)
        self.dec1 = nn.Conv2d(12, 4, 3, padding=1)
        self.ds = DeepSupervision(8, 8, 4)

    def forward(self, x):
        s0 = torch.relu(self.inc(x))
        s1 = torch.relu(self.enc1(self.pool(s0)))
        f4 = torch.relu(self.enc2(self.pool(s1)))
        f2 = torch.relu(self.dec2(torch.cat([F.interpolate(f4, size=s1.shape[2:]), s1], 1)))
        f1 = torch.relu(self.dec1(torch.cat([F.interpolate(f2, size=s0.shape[2:]), s0], 1)))
        return self.ds(f4, f2, f1)


def build() -> nn.Module:
    return DSUNet()


CASES = [
    {"input": (1, 1, 32, 32), "works": True},
    {"input": (1, 1, 28, 40), "works": True},
    {"input": (1, 1, 30, 30), "works": False, "culprits": ["ds:F.interpolate"], "fix": "none"},
    {"input": (1, 1, 29, 32), "works": False, "culprits": ["ds:F.interpolate", "ds:F.interpolate#2"], "fix": "none"},
]
