"""Classic U-Net, MaxPool2d(2) down and ConvTranspose2d(k=2, s=2) up, at odd size 37x37.

37 -> 18 -> 9 -> 4: the ups at the odd levels (9 and 37) need output_padding 1 (two CS101); the 18 level is fine.
"""

import torch
from torch import nn

INPUT = (1, 3, 37, 37)


def conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU())


class PoolUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inc = conv(3, 4)
        self.pool1, self.enc1 = nn.MaxPool2d(2), conv(4, 4)
        self.pool2, self.enc2 = nn.MaxPool2d(2), conv(4, 4)
        self.pool3, self.enc3 = nn.MaxPool2d(2), conv(4, 4)
        self.up3, self.dec3 = nn.ConvTranspose2d(4, 4, 2, stride=2), conv(8, 4)
        self.up2, self.dec2 = nn.ConvTranspose2d(4, 4, 2, stride=2), conv(8, 4)
        self.up1, self.dec1 = nn.ConvTranspose2d(4, 4, 2, stride=2), conv(8, 4)
        self.head = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        x0 = self.inc(x)  # 37
        x1 = self.enc1(self.pool1(x0))  # 18
        x2 = self.enc2(self.pool2(x1))  # 9
        x3 = self.enc3(self.pool3(x2))  # 4
        y = self.dec3(torch.cat([x2, self.up3(x3)], dim=1))  # up3: 8, needs 9
        y = self.dec2(torch.cat([x1, self.up2(y)], dim=1))  # up2: 18
        y = self.dec1(torch.cat([x0, self.up1(y)], dim=1))  # up1: 36, needs 37
        return self.head(y)


def build() -> nn.Module:
    return PoolUNet()


EXPECTED = [
    {"code": "CS101", "up": "up3", "down": "pool3", "expected": [9, 9], "actual": [8, 8], "output_padding": [1, 1]},
    {"code": "CS101", "up": "up1", "down": "pool1", "expected": [37, 37], "actual": [36, 36], "output_padding": [1, 1]},
]

PAIRS = [("pool3", "up3", "skip"), ("pool2", "up2", "skip"), ("pool1", "up1", "skip")]
