"""Multi-scale heads that upsample in encoder order (FIFO), so mirror order pairs them wrongly.

With CONFIG_PAIRS the linter compares up_a with down_a (19x19 for 20x20: CS101) and up_b with down_b
(clean); mirror order would instead pair up_a/down_b and up_b/down_a.
"""

from torch import nn

INPUT = (1, 1, 20, 20)


class TwoScaleHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down_a = nn.Conv2d(1, 2, 3, stride=2, padding=1)  # 20 -> 10
        self.down_b = nn.MaxPool2d(2)  # 10 -> 5
        self.act = nn.ReLU()
        self.up_a = nn.ConvTranspose2d(2, 1, 3, stride=2, padding=1)  # 10 -> 19, needs 20
        self.up_b = nn.ConvTranspose2d(2, 1, 2, stride=2)  # 5 -> 10

    def forward(self, x):
        a = self.act(self.down_a(x))
        b = self.down_b(a)
        return self.up_a(a), self.up_b(b)


def build() -> nn.Module:
    return TwoScaleHeads()


CONFIG_PAIRS = [("down_a", "up_a"), ("down_b", "up_b")]

# EXPECTED assumes CONFIG_PAIRS are passed to the linter.
EXPECTED = [
    {"code": "CS101", "up": "up_a", "down": "down_a", "expected": [20, 20], "actual": [19, 19], "output_padding": [1, 1]},
]

PAIRS = [("down_a", "up_a", "explicit"), ("down_b", "up_b", "explicit")]
