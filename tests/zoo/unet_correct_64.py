"""A correct strided U-Net: Conv2d(k=3, s=2, p=1) downs, ConvTranspose2d(k=3, s=2, p=1, output_padding=1) ups,
BatchNorm and torch.cat skips at 64x64 (clean).
"""

import torch
from torch import nn


INPUT = (1, 1, 64, 64)


class Down(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Up(nn.Module):
    def __init__(self, cin: int, cskip: int, cout: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cin, 3, stride=2, padding=1, output_padding=1)
        self.conv = nn.Conv2d(cin + cskip, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.ReLU()

    def forward(self, x, skip):
        x = torch.cat([self.up(x), skip], dim=1)
        return self.act(self.bn(self.conv(x)))


class UNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inc = nn.Conv2d(1, 2, 3, padding=1)
        self.down1, self.down2, self.down3 = Down(2, 4), Down(4, 4), Down(4, 8)
        self.up3, self.up2, self.up1 = Up(8, 4, 4), Up(4, 4, 4), Up(4, 2, 2)
        self.head = nn.Conv2d(2, 1, 1)

    def forward(self, x):
        x0 = self.inc(x)  # 64
        x1 = self.down1(x0)  # 32
        x2 = self.down2(x1)  # 16
        x3 = self.down3(x2)  # 8
        y = self.up3(x3, x2)
        y = self.up2(y, x1)
        return self.head(self.up1(y, x0))


def build() -> nn.Module:
    return UNet()


EXPECTED = []

PAIRS = [("down3.conv", "up3.up", "skip"), ("down2.conv", "up2.up", "skip"), ("down1.conv", "up1.up", "skip")]
