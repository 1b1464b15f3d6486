"""The plain case the linter exists for: a mirrored autoencoder without padding at 28x28 (MNIST).

``Conv2d(k5, s2)``: 28 -> 12; ``ConvTranspose2d(k5, s2)``: 12 -> 27. The pair does not
round-trip and the output is 27x27: CS101, output_padding 1. At 27 and 29 it restores.
"""

from torch import nn

KIND = "restoring"


class MirrorAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 4, 5, stride=2), nn.ReLU())
        self.decoder = nn.Sequential(nn.ConvTranspose2d(4, 1, 5, stride=2), nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x))


def build() -> nn.Module:
    return MirrorAE()


CASES = [
    {"input": (1, 1, 27, 27), "works": True},
    {"input": (1, 1, 29, 29), "works": True},
    {"input": (1, 1, 28, 28), "works": False, "culprits": ["decoder.0"], "fix": "verified"},
    {"input": (4, 1, 28, 27), "works": False, "culprits": ["decoder.0"], "fix": "verified"},
]
