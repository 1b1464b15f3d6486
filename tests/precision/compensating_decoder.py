"""A decoder whose first deconv gives one pixel too many and whose second takes it back.

Hand-tuned DCGAN-era decoders were often made to "come out right" by trial and error:
encoder ``Conv2d(k3, s2, p1)`` twice (28 -> 14 -> 7); decoder ``ConvTranspose2d(k3, s2, p0)``
(7 -> 15, one more than the 14 its mirror partner took) then ``ConvTranspose2d(k4, s2, p2)``
(15 -> 28, one less than the mirror arithmetic). The intermediate mismatch is compensated:
the model restores at multiples of 4, so no error and no fix offered as an error fix. At other
sizes the output is even and larger than the input (30 -> 32, 27 -> 28): output_padding only
adds, so nothing fixes it.
"""

from torch import nn

KIND = "restoring"


class CompensatingAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 4, 3, 2, 1), nn.ReLU(), nn.Conv2d(4, 8, 3, 2, 1), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(8, 4, 3, stride=2, padding=0), nn.ReLU(), nn.ConvTranspose2d(4, 1, 4, stride=2, padding=2)
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def build() -> nn.Module:
    return CompensatingAE()


CASES = [
    {"input": (1, 1, 28, 28), "works": True},
    {"input": (1, 1, 32, 32), "works": True},
    {"input": (1, 1, 20, 36), "works": True},
    {"input": (1, 1, 30, 30), "works": False, "culprits": ["decoder.0", "decoder.2"], "fix": "none"},
    {"input": (1, 1, 27, 27), "works": False, "culprits": ["decoder.0", "decoder.2"], "fix": "none"},
]
