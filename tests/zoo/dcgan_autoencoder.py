"""DCGAN-style autoencoder: three k=4, s=2, p=1 convs and mirrored transposed convs at 64x64 (clean)."""

from torch import nn

INPUT = (1, 3, 64, 64)


class DCGANAutoencoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 4, 4, 2, 1),  # 64 -> 32
            nn.LeakyReLU(0.2),
            nn.Conv2d(4, 8, 4, 2, 1, bias=False),  # 32 -> 16
            nn.BatchNorm2d(8),
            nn.LeakyReLU(0.2),
            nn.Conv2d(8, 8, 4, 2, 1, bias=False),  # 16 -> 8
            nn.BatchNorm2d(8),
            nn.LeakyReLU(0.2),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(8, 8, 4, 2, 1, bias=False),  # 8 -> 16
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.ConvTranspose2d(8, 4, 4, 2, 1, bias=False),  # 16 -> 32
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.ConvTranspose2d(4, 3, 4, 2, 1),  # 32 -> 64
            nn.Tanh(),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def build() -> nn.Module:
    return DCGANAutoencoder()


EXPECTED = []

PAIRS = [
    ("encoder.5", "decoder.0", "mirror"),
    ("encoder.2", "decoder.3", "mirror"),
    ("encoder.0", "decoder.6", "mirror"),
]
