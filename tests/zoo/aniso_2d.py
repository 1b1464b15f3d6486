"""Anisotropic kernels (3, 5), (1, 3) and strides (2, 3), (1, 3) at 20x31.

Fixes differ per dim: [0, 2] (stride 3 allows op 2, stride 1 only 0) and [1, 0].
"""

from torch import nn

INPUT = (1, 1, 20, 31)


class Aniso2d(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down1 = nn.Conv2d(1, 2, (3, 5), stride=(2, 3), padding=(1, 2))  # 20x31 -> 10x11
        self.down2 = nn.Conv2d(2, 4, (1, 3), stride=(1, 3))  # 10x11 -> 10x3
        self.act = nn.ReLU()
        self.up2 = nn.ConvTranspose2d(4, 2, (1, 3), stride=(1, 3))  # 10x3 -> 10x9 (needs 10x11)
        self.up1 = nn.ConvTranspose2d(2, 1, (3, 5), stride=(2, 3), padding=(1, 2))  # 10x11 -> 19x31

    def forward(self, x):
        x = self.act(self.down1(x))
        x = self.act(self.down2(x))
        x = self.act(self.up2(x))
        return self.up1(x)


def build() -> nn.Module:
    return Aniso2d()


EXPECTED = [
    {"code": "CS101", "up": "up2", "down": "down2", "expected": [10, 11], "actual": [10, 9], "output_padding": [0, 2]},
    {"code": "CS101", "up": "up1", "down": "down1", "expected": [20, 31], "actual": [19, 31], "output_padding": [1, 0]},
]

PAIRS = [("down2", "up2", "mirror"), ("down1", "up1", "mirror")]
