"""U-Net with MaxPool2d(2) and bilinear nn.Upsample(scale_factor=2) at 50x52.

50x52 -> 25x26 -> 12x13 -> 6x6: up3 gives 12x12 for 12x13, then (fixed) up2 24x26 for 25x26 (two CS103); up1 is fine.
"""

import torch
from torch import nn

INPUT = (1, 1, 50, 52)


def conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class BilinearUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inc = conv(1, 2)
        self.pool1, self.enc1 = nn.MaxPool2d(2), conv(2, 2)
        self.pool2, self.enc2 = nn.MaxPool2d(2), conv(2, 2)
        self.pool3, self.enc3 = nn.MaxPool2d(2), conv(2, 2)
        self.up3 = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.up2 = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.up1 = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.dec3, self.dec2, self.dec1 = conv(4, 2), conv(4, 2), conv(4, 2)
        self.head = nn.Conv2d(2, 1, 1)

    def forward(self, x):
        x0 = self.inc(x)
        x1 = self.enc1(self.pool1(x0))
        x2 = self.enc2(self.pool2(x1))
        x3 = self.enc3(self.pool3(x2))
        y = self.dec3(torch.cat([self.up3(x3), x2], dim=1))
        y = self.dec2(torch.cat([self.up2(y), x1], dim=1))
        y = self.dec1(torch.cat([self.up1(y), x0], dim=1))
        return self.head(y)


def build() -> nn.Module:
    return BilinearUNet()


EXPECTED = [
    {"code": "CS103", "up": "up3", "down": "pool3", "expected": [12, 13], "actual": [12, 12], "output_padding": None},
    {"code": "CS103", "up": "up2", "down": "pool2", "expected": [25, 26], "actual": [24, 26], "output_padding": None},
]

PAIRS = [("pool3", "up3", "skip"), ("pool2", "up2", "skip"), ("pool1", "up1", "skip")]
