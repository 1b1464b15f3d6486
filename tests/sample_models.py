"""Source text of the small models that the plugin, CLI and report tests write into temporary
projects (golden files refer to their line numbers)."""

AUTOENCODER = """\
from torch import nn


class Autoencoder(nn.Module):
    def __init__(self, output_padding=0):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 1, kernel_size=5, stride=2), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(1, 1, kernel_size=5, stride=2, output_padding=output_padding),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def fixed():
    return Autoencoder(output_padding=1)
"""
