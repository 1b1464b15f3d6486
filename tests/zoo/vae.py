"""VAE-like model: k=4, s=2, p=1 conv encoder, Linear bottleneck with reparameterisation, mirrored decoder at 32x32 (clean)."""

import torch
from torch import nn

INPUT = (1, 1, 32, 32)


class TinyVAE(nn.Module):
    def __init__(self, latent: int = 4) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 4, 4, stride=2, padding=1),  # 32 -> 16
            nn.ReLU(),
            nn.Conv2d(4, 8, 4, stride=2, padding=1),  # 16 -> 8
            nn.ReLU(),
        )
        self.to_stats = nn.Linear(8 * 8 * 8, 2 * latent)
        self.from_latent = nn.Linear(latent, 8 * 8 * 8)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1),  # 8 -> 16
            nn.ReLU(),
            nn.ConvTranspose2d(4, 1, 4, stride=2, padding=1),  # 16 -> 32
            nn.Sigmoid(),
        )

    def forward(self, x):
        h = self.encoder(x).flatten(1)
        mu, logvar = self.to_stats(h).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        h = self.from_latent(z).view(-1, 8, 8, 8)
        return self.decoder(h), mu, logvar


def build() -> nn.Module:
    return TinyVAE()


EXPECTED = []

PAIRS = [("encoder.2", "decoder.0", "mirror"), ("encoder.0", "decoder.2", "mirror")]
