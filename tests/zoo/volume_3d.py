"""3d encoder-decoder with anisotropic stride (1, 2, 2) then 2 at input 6x9x10.

Per-dim fixes: [1, 0, 0] on the deep up, [0, 0, 1] on the shallow one (depth stride 1 allows only 0).
"""

from torch import nn

INPUT = (1, 1, 6, 9, 10)


class Volume3d(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down1 = nn.Conv3d(1, 2, 3, stride=(1, 2, 2), padding=1)  # 6x9x10 -> 6x5x5
        self.down2 = nn.Conv3d(2, 4, 3, stride=2, padding=1)  # 6x5x5 -> 3x3x3
        self.act = nn.ReLU()
        self.up2 = nn.ConvTranspose3d(4, 2, 3, stride=2, padding=1)  # 3x3x3 -> 5x5x5 (needs 6x5x5)
        self.up1 = nn.ConvTranspose3d(2, 1, 3, stride=(1, 2, 2), padding=1)  # 6x5x5 -> 6x9x9 (needs 6x9x10)

    def forward(self, x):
        x = self.act(self.down1(x))
        x = self.act(self.down2(x))
        x = self.act(self.up2(x))
        return self.up1(x)


def build() -> nn.Module:
    return Volume3d()


EXPECTED = [
    {"code": "CS101", "up": "up2", "down": "down2", "expected": [6, 5, 5], "actual": [5, 5, 5], "output_padding": [1, 0, 0]},
    {"code": "CS101", "up": "up1", "down": "down1", "expected": [6, 9, 10], "actual": [6, 9, 9], "output_padding": [0, 0, 1]},
]

PAIRS = [("down2", "up2", "mirror"), ("down1", "up1", "mirror")]
