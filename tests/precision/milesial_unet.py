"""milesial/Pytorch-UNet (the most-copied PyTorch U-Net), reduced to three levels and 2-4-8 channels.

``Down`` = ``MaxPool2d(2)`` + double conv; ``Up`` = ``ConvTranspose2d(k2, s2)``, then
``F.pad`` by the difference to the skip (``[diffX // 2, diffX - diffX // 2, diffY // 2,
diffY - diffY // 2]``), then cat + double conv. MaxPool floors, so the up is never larger than
the skip and the pad always hides the mismatch: the model works at every size (warnings at
most, never an error).
"""

import torch
import torch.nn.functional as F
from torch import nn

KIND = "restoring"


class DoubleConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(cin, cout))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cin // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(cin, cout)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        return self.conv(torch.cat([x2, x1], dim=1))


class UNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inc = DoubleConv(1, 2)
        self.down1 = Down(2, 4)
        self.down2 = Down(4, 8)
        self.up1 = Up(8, 4)
        self.up2 = Up(4, 2)
        self.outc = nn.Conv2d(2, 1, 1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x = self.up1(x3, x2)
        x = self.up2(x, x1)
        return self.outc(x)


def build() -> nn.Module:
    return UNet()


CASES = [
    {"input": (1, 1, 32, 32), "works": True},
    {"input": (1, 1, 31, 31), "works": True},
    {"input": (1, 1, 29, 30), "works": True},
    {"input": (2, 1, 27, 45), "works": True},
]
