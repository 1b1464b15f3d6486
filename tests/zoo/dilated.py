"""Dilated transposed convs: with stride 2 and dilation 4 output_padding may go up to 3 (CS101, op [3, 2]);
with stride 2 and dilation 2 the needed op 3/2 is illegal (CS102).
"""

from torch import nn

INPUT = (1, 1, 20, 21)


class Dilated(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down1 = nn.Conv2d(1, 2, 3, stride=2, padding=1)  # 20x21 -> 10x11
        self.down2 = nn.Conv2d(2, 4, 3, stride=2, padding=1)  # 10x11 -> 5x6
        self.act = nn.ReLU()
        # 5x6 -> 7x9, needs 10x11: op 3 and 2, but max(stride, dilation) = 2.
        self.up2 = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=3, dilation=2)
        # 10x11 -> 17x19, needs 20x21: op 3 and 2, legal since max(stride, dilation) = 4.
        self.up1 = nn.ConvTranspose2d(2, 1, 3, stride=2, padding=5, dilation=4)

    def forward(self, x):
        x = self.act(self.down1(x))
        x = self.act(self.down2(x))
        x = self.act(self.up2(x))
        return self.up1(x)


def build() -> nn.Module:
    return Dilated()


EXPECTED = [
    {"code": "CS102", "up": "up2", "down": "down2", "expected": [10, 11], "actual": [7, 9], "output_padding": None},
    {"code": "CS101", "up": "up1", "down": "down1", "expected": [20, 21], "actual": [17, 19], "output_padding": [3, 2]},
]

PAIRS = [("down2", "up2", "mirror"), ("down1", "up1", "mirror")]
