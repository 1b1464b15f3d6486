"""Depthwise (groups=4) and grouped (groups=2) resampling at 16x15.

The grouped pair round-trips; the depthwise ConvTranspose2d needs output_padding [1, 0] (CS101).
"""

from torch import nn

INPUT = (1, 4, 16, 15)


class Depthwise(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down1 = nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=4)  # 16x15 -> 8x8
        self.pw1 = nn.Conv2d(4, 8, 1)
        self.down2 = nn.Conv2d(8, 8, 4, stride=2, padding=1, groups=2)  # 8x8 -> 4x4
        self.act = nn.ReLU6()
        self.up2 = nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1, groups=2)  # 4x4 -> 8x8
        self.pw2 = nn.Conv2d(4, 4, 1)
        self.up1 = nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, groups=4)  # 8x8 -> 15x15 (needs 16x15)

    def forward(self, x):
        x = self.act(self.pw1(self.down1(x)))
        x = self.act(self.down2(x))
        x = self.act(self.pw2(self.up2(x)))
        return self.up1(x)


def build() -> nn.Module:
    return Depthwise()


EXPECTED = [
    {"code": "CS101", "up": "up1", "down": "down1", "expected": [16, 15], "actual": [15, 15], "output_padding": [1, 0]},
]

PAIRS = [("down2", "up2", "mirror"), ("down1", "up1", "mirror")]
