"""The forum classic: Conv2d(k=5, s=2) takes 28x28 to 12x12, the mirrored ConvTranspose2d gives 27x27.

output_padding=1 restores 28x28 (CS101).
"""

from torch import nn

INPUT = (1, 1, 28, 28)


class TinyAutoencoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(1, 1, kernel_size=5, stride=2)
        self.act = nn.ReLU()
        self.up = nn.ConvTranspose2d(1, 1, kernel_size=5, stride=2)

    def forward(self, x):
        return self.up(self.act(self.down(x)))


def build() -> nn.Module:
    return TinyAutoencoder()


EXPECTED = [
    {"code": "CS101", "up": "up", "down": "down", "expected": [28, 28], "actual": [27, 27], "output_padding": [1, 1]},
]

PAIRS = [("down", "up", "mirror")]
