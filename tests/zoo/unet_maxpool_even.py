"""A correct pooling U-Net: MaxPool2d(2) and AvgPool2d(2) downs, ConvTranspose2d(k=2, s=2) ups, BatchNorm,
torch.cat skips at 32x32 (clean).
"""

import torch
from torch import nn

INPUT = (1, 1, 32, 32)


def conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class EvenUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inc = conv(1, 2)
        self.pool1, self.enc1 = nn.MaxPool2d(2), conv(2, 4)  # 32 -> 16
        self.pool2, self.enc2 = nn.AvgPool2d(2), conv(4, 4)  # 16 -> 8
        self.up2, self.dec2 = nn.ConvTranspose2d(4, 4, 2, stride=2), conv(8, 4)  # 8 -> 16
        self.up1, self.dec1 = nn.ConvTranspose2d(4, 2, 2, stride=2), conv(4, 2)  # 16 -> 32
        self.head = nn.Conv2d(2, 1, 1)

    def forward(self, x):
        x0 = self.inc(x)
        x1 = self.enc1(self.pool1(x0))
        x2 = self.enc2(self.pool2(x1))
        y = self.dec2(torch.cat([self.up2(x2), x1], dim=1))
        y = self.dec1(torch.cat([self.up1(y), x0], dim=1))
        return self.head(y)


def build() -> nn.Module:
    return EvenUNet()


EXPECTED = []

PAIRS = [("pool2", "up2", "skip"), ("pool1", "up1", "skip")]
