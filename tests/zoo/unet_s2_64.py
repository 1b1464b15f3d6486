"""U-Net with Conv2d(k=3, s=2, p=1) downs and ConvTranspose2d(k=3, s=2, p=1) ups at 64x64.

Each up gives 2n-1; the first skip torch.cat crashes in eager. Three CS101, each output_padding [1, 1].
"""

import torch
from torch import nn

INPUT = (1, 1, 64, 64)


def block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.ReLU())


class StridedUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inc = nn.Conv2d(1, 2, 3, padding=1)
        self.down1 = block(2, 4)  # 64 -> 32
        self.down2 = block(4, 8)  # 32 -> 16
        self.down3 = block(8, 8)  # 16 -> 8
        self.up3 = nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1)  # 8 -> 15
        self.dec3 = nn.Conv2d(16, 4, 3, padding=1)
        self.up2 = nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1)  # 16 -> 31
        self.dec2 = nn.Conv2d(8, 2, 3, padding=1)
        self.up1 = nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1)  # 32 -> 63
        self.dec1 = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        x0 = self.inc(x)
        x1 = self.down1(x0)
        x2 = self.down2(x1)
        x3 = self.down3(x2)
        y = self.dec3(torch.cat([self.up3(x3), x2], dim=1))
        y = self.dec2(torch.cat([self.up2(y), x1], dim=1))
        return self.dec1(torch.cat([self.up1(y), x0], dim=1))


def build() -> nn.Module:
    return StridedUNet()


EXPECTED = [
    {"code": "CS101", "up": "up3", "down": "down3.0", "expected": [16, 16], "actual": [15, 15], "output_padding": [1, 1]},
    {"code": "CS101", "up": "up2", "down": "down2.0", "expected": [32, 32], "actual": [31, 31], "output_padding": [1, 1]},
    {"code": "CS101", "up": "up1", "down": "down1.0", "expected": [64, 64], "actual": [63, 63], "output_padding": [1, 1]},
]

PAIRS = [
    ("down3.0", "up3", "skip"),
    ("down2.0", "up2", "skip"),
    ("down1.0", "up1", "skip"),
]
