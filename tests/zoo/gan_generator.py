"""DCGAN-like generator from a 1x1 latent: two stride-2 ups and no downsampler at all.

The ups have no partner: info findings only, nothing in EXPECTED.
"""

from torch import nn

INPUT = (1, 16, 1, 1)


class Generator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(16, 8, 4, stride=1, padding=0, bias=False),  # 1 -> 4 (stride 1: not an up)
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1, bias=False),  # 4 -> 8
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1, bias=False),  # 8 -> 16
            nn.Tanh(),
        )

    def forward(self, z):
        return self.net(z)


def build() -> nn.Module:
    return Generator()


EXPECTED = []

PAIRS = []
