"""A decoder whose last up is ``nn.Upsample(size=64)``: the model was written for 64x64 images.

DCGAN/VAE-style decoders for a fixed dataset resolution often end in a resize to the constant
training size. Encoder: two ``Conv2d(k4, s2, p1)``; decoder: ``ConvTranspose2d(k4, s2, p1)``
then ``nn.Upsample(size=(64, 64))``. At 64 it restores; at any other size the output is
64x64 whatever the input: the Upsample is the culprit and no output_padding fixes it.
"""

from torch import nn

KIND = "restoring"


class ConstSizeDecoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(4, 8, 4, 2, 1), nn.LeakyReLU(0.2)
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(8, 4, 4, 2, 1), nn.ReLU(), nn.Upsample(size=(64, 64), mode="bilinear"), nn.Conv2d(4, 1, 3, padding=1)
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def build() -> nn.Module:
    return ConstSizeDecoder()


CASES = [
    {"input": (1, 1, 64, 64), "works": True},
    {"input": (2, 1, 64, 64), "works": True},
    {"input": (1, 1, 48, 48), "works": False, "culprits": ["decoder.2"], "fix": "none"},
    {"input": (1, 1, 64, 32), "works": False, "culprits": ["decoder.2"], "fix": "none"},
]
