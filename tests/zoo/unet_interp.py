"""U-Net that hides its mismatches with F.interpolate(size=skip.shape[-2:]) at 25x38 (two CS303).

up2 is a ConvTranspose2d(k=2, s=2) (fix: output_padding [0, 1]); up1 a nearest nn.Upsample (no output_padding).
"""

import torch
import torch.nn.functional as F
from torch import nn

INPUT = (1, 1, 25, 38)


def conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU())


class InterpUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inc = conv(1, 2)
        self.pool1, self.enc1 = nn.MaxPool2d(2), conv(2, 4)  # 25x38 -> 12x19
        self.pool2, self.enc2 = nn.MaxPool2d(2), conv(4, 4)  # -> 6x9
        self.up2 = nn.ConvTranspose2d(4, 4, 2, stride=2)  # 6x9 -> 12x18, needs 12x19
        self.dec2 = conv(8, 2)
        self.up1 = nn.Upsample(scale_factor=2, mode="nearest")  # 12x19 -> 24x38, needs 25x38
        self.dec1 = conv(4, 1)

    def forward(self, x):
        x0 = self.inc(x)
        x1 = self.enc1(self.pool1(x0))
        x2 = self.enc2(self.pool2(x1))
        u = F.interpolate(self.up2(x2), size=x1.shape[-2:], mode="nearest")
        y = self.dec2(torch.cat([u, x1], dim=1))
        u = F.interpolate(self.up1(y), size=x0.shape[-2:], mode="nearest")
        return self.dec1(torch.cat([u, x0], dim=1))


def build() -> nn.Module:
    return InterpUNet()


EXPECTED = [
    {"code": "CS303", "up": "up2", "down": "pool2", "expected": [12, 19], "actual": [12, 18], "output_padding": [0, 1]},
    {"code": "CS303", "up": "up1", "down": "pool1", "expected": [25, 38], "actual": [24, 38], "output_padding": None},
]

# Both pairs are left out: the up outputs reach the cat only through a resize; mirror order
# gives the same partners.
PAIRS = []
