"""An image autoencoder whose strided convs use reflect, replicate and circular padding.

CycleGAN/pix2pix-style generators and periodic-domain models (climate grids, textures) pad with
``padding_mode="reflect" | "replicate" | "circular"``; torch implements all three as an
``F.pad`` inside the conv's forward followed by a conv with padding 0. Encoder: three
``Conv2d(k3, s2, p1)``, one per padding mode; decoder: three ``ConvTranspose2d(k3, s2, p1,
output_padding=1)``. Works at multiples of 8; at 28 the deepest level sees 7 -> 4 -> 8 and
the output is 32: output_padding 0 on the first deconv restores 28. At 26 the two deepest
levels miss (7 -> 4 -> 8 for 7, then 13 -> 7 -> 14 for 13): two fixes, one per pair.
"""

from torch import nn

KIND = "restoring"


class PaddingModesAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 4, 3, 2, 1, padding_mode="reflect"),
            nn.ReLU(),
            nn.Conv2d(4, 8, 3, 2, 1, padding_mode="replicate"),
            nn.ReLU(),
            nn.Conv2d(8, 8, 3, 2, 1, padding_mode="circular"),
            nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(8, 8, 3, 2, 1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(8, 4, 3, 2, 1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(4, 1, 3, 2, 1, output_padding=1),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def build() -> nn.Module:
    return PaddingModesAE()


CASES = [
    {"input": (1, 1, 32, 32), "works": True},
    {"input": (1, 1, 24, 48), "works": True},
    {"input": (1, 1, 28, 28), "works": False, "culprits": ["decoder.0"], "fix": "verified"},
    {"input": (1, 1, 26, 26), "works": False, "culprits": ["decoder.0", "decoder.2"], "fix": "verified"},
]
