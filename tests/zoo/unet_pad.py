"""U-Net that hides its mismatches with F.pad (the diffY/diffX pattern), MaxPool2d(2) and
ConvTranspose2d(k=2, s=2) at 37x50: three CS302 with fixes [1, 0], [0, 1], [1, 0].
"""

import torch
import torch.nn.functional as F
from torch import nn

INPUT = (1, 1, 37, 50)


def conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU())


class Up(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cin, 2, stride=2)
        self.conv = conv(2 * cin, cout)

    def forward(self, x, skip):
        x = self.up(x)
        dy = skip.shape[-2] - x.shape[-2]
        dx = skip.shape[-1] - x.shape[-1]
        x = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([skip, x], dim=1))


class PadUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inc = conv(1, 2)
        self.pool1, self.enc1 = nn.MaxPool2d(2), conv(2, 2)  # 37x50 -> 18x25
        self.pool2, self.enc2 = nn.MaxPool2d(2), conv(2, 2)  # -> 9x12
        self.pool3, self.enc3 = nn.MaxPool2d(2), conv(2, 2)  # -> 4x6
        self.up3 = Up(2, 2)  # 4x6 -> 8x12, needs 9x12
        self.up2 = Up(2, 2)  # 9x12 -> 18x24, needs 18x25
        self.up1 = Up(2, 2)  # 18x25 -> 36x50, needs 37x50
        self.head = nn.Conv2d(2, 1, 1)

    def forward(self, x):
        x0 = self.inc(x)
        x1 = self.enc1(self.pool1(x0))
        x2 = self.enc2(self.pool2(x1))
        x3 = self.enc3(self.pool3(x2))
        y = self.up3(x3, x2)
        y = self.up2(y, x1)
        y = self.up1(y, x0)
        return self.head(y)


def build() -> nn.Module:
    return PadUNet()


EXPECTED = [
    {"code": "CS302", "up": "up3.up", "down": "pool3", "expected": [9, 12], "actual": [8, 12], "output_padding": [1, 0]},
    {"code": "CS302", "up": "up2.up", "down": "pool2", "expected": [18, 25], "actual": [18, 24], "output_padding": [0, 1]},
    {"code": "CS302", "up": "up1.up", "down": "pool1", "expected": [37, 50], "actual": [36, 50], "output_padding": [1, 0]},
]

PAIRS = [("pool3", "up3.up", "skip"), ("pool2", "up2.up", "skip"), ("pool1", "up1.up", "skip")]
