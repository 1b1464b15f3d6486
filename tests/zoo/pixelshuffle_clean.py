"""Space-to-depth bottleneck: PixelUnshuffle(2) and PixelShuffle(2) around stride-1 convs at 16x16 (clean)."""

from torch import nn

INPUT = (1, 1, 16, 16)


class ShuffleBottleneck(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.unshuffle = nn.PixelUnshuffle(2)  # 1x16x16 -> 4x8x8
        self.body = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 3, padding=1))
        self.shuffle = nn.PixelShuffle(2)  # 4x8x8 -> 1x16x16

    def forward(self, x):
        return self.shuffle(self.body(self.unshuffle(x)))


def build() -> nn.Module:
    return ShuffleBottleneck()


EXPECTED = []

PAIRS = [("unshuffle", "shuffle", "mirror")]
