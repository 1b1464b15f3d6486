"""ConvTranspose2d(stride=2, output_padding=2): the constructor and the meta device accept it, eager raises.

Meta gives 17x17; the legal value that restores 16x15 is [1, 0] (CS201).
"""

from torch import nn

INPUT = (1, 1, 16, 15)


class IllegalPadding(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(1, 2, 3, stride=2, padding=1)  # 16x15 -> 8x8
        self.act = nn.ReLU()
        self.up = nn.ConvTranspose2d(2, 1, 3, stride=2, padding=1, output_padding=2)  # meta: 17x17

    def forward(self, x):
        return self.up(self.act(self.down(x)))


def build() -> nn.Module:
    return IllegalPadding()


EXPECTED = [
    {"code": "CS201", "up": "up", "down": "down", "expected": [16, 15], "actual": [17, 17], "output_padding": [1, 0]},
]

PAIRS = [("down", "up", "mirror")]
