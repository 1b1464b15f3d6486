"""U-Net with MaxPool2d(2, ceil_mode=True) at 25x25: 25 -> 13 -> 7, and ConvTranspose2d(k=2, s=2) ups
overshoot (14 for 13, then 26 for 25). output_padding cannot be negative: two CS102.
"""

import torch
from torch import nn

INPUT = (1, 1, 25, 25)


class CeilUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inc = nn.Conv2d(1, 2, 3, padding=1)
        self.pool1 = nn.MaxPool2d(2, ceil_mode=True)  # 25 -> 13
        self.enc1 = nn.Conv2d(2, 2, 3, padding=1)
        self.pool2 = nn.MaxPool2d(2, ceil_mode=True)  # 13 -> 7
        self.enc2 = nn.Conv2d(2, 2, 3, padding=1)
        self.up2 = nn.ConvTranspose2d(2, 2, 2, stride=2)  # 7 -> 14, needs 13
        self.dec2 = nn.Conv2d(4, 2, 3, padding=1)
        self.up1 = nn.ConvTranspose2d(2, 2, 2, stride=2)  # 13 -> 26, needs 25
        self.dec1 = nn.Conv2d(4, 1, 3, padding=1)
        self.act = nn.ReLU()

    def forward(self, x):
        x0 = self.act(self.inc(x))
        x1 = self.act(self.enc1(self.pool1(x0)))
        x2 = self.act(self.enc2(self.pool2(x1)))
        y = self.act(self.dec2(torch.cat([self.up2(x2), x1], dim=1)))
        return self.dec1(torch.cat([self.up1(y), x0], dim=1))


def build() -> nn.Module:
    return CeilUNet()


EXPECTED = [
    {"code": "CS102", "up": "up2", "down": "pool2", "expected": [13, 13], "actual": [14, 14], "output_padding": None},
    {"code": "CS102", "up": "up1", "down": "pool1", "expected": [25, 25], "actual": [26, 26], "output_padding": None},
]

PAIRS = [("pool2", "up2", "skip"), ("pool1", "up1", "skip")]
