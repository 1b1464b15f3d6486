"""Sub-pixel decoder: PixelUnshuffle(2) to 15x15, a stride-2 conv to 8x8, PixelShuffle(2) gives 16x16 for 15x15 (CS103).

The outer PixelUnshuffle/PixelShuffle pair round-trips (30x30) once the inner one is fixed.
"""

from torch import nn

INPUT = (1, 1, 30, 30)


class SubPixel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.unshuffle = nn.PixelUnshuffle(2)  # 1x30x30 -> 4x15x15
        self.down = nn.Conv2d(4, 8, 3, stride=2, padding=1)  # -> 8x8x8
        self.mid = nn.Conv2d(8, 16, 3, padding=1)
        self.act = nn.ReLU()
        self.shuffle1 = nn.PixelShuffle(2)  # 16x8x8 -> 4x16x16 (needs 15x15)
        self.refine = nn.Conv2d(4, 4, 3, padding=1)
        self.shuffle2 = nn.PixelShuffle(2)  # 4x15x15 -> 1x30x30

    def forward(self, x):
        x = self.down(self.unshuffle(x))
        x = self.shuffle1(self.act(self.mid(self.act(x))))
        return self.shuffle2(self.refine(x))


def build() -> nn.Module:
    return SubPixel()


EXPECTED = [
    {"code": "CS103", "up": "shuffle1", "down": "down", "expected": [15, 15], "actual": [16, 16], "output_padding": None},
]

PAIRS = [("down", "shuffle1", "mirror"), ("unshuffle", "shuffle2", "mirror")]
