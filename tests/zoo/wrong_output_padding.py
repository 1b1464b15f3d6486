"""An existing output_padding=1 that is wrong in one dim: at 15x16 the up gives 16x16.

The fix lowers it to [0, 1] (CS101).
"""

from torch import nn

INPUT = (1, 1, 15, 16)


class OverPadded(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(1, 2, 3, stride=2, padding=1)  # 15x16 -> 8x8
        self.act = nn.ReLU()
        self.up = nn.ConvTranspose2d(2, 1, 3, stride=2, padding=1, output_padding=1)  # 8x8 -> 16x16

    def forward(self, x):
        return self.up(self.act(self.down(x)))


def build() -> nn.Module:
    return OverPadded()


EXPECTED = [
    {"code": "CS101", "up": "up", "down": "down", "expected": [15, 16], "actual": [16, 16], "output_padding": [0, 1]},
]

PAIRS = [("down", "up", "mirror")]
