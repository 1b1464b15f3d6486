"""A convolutional VAE for 28x28 images; its decoder mirrors its encoder exactly."""

import torch
from torch import nn


class VAE(nn.Module):
    def __init__(self, latent: int = 8, width: int = 16):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, width, kernel_size=4, stride=2, padding=1),  # 28 -> 14
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, kernel_size=4, stride=2, padding=1),  # 14 -> 7
            nn.ReLU(),
            nn.Flatten(),
        )
        self.to_stats = nn.Linear(2 * width * 7 * 7, 2 * latent)
        self.from_latent = nn.Linear(latent, 2 * width * 7 * 7)
        self.decoder = nn.Sequential(
            nn.Unflatten(1, (2 * width, 7, 7)),
            nn.ConvTranspose2d(2 * width, width, kernel_size=4, stride=2, padding=1),  # 7 -> 14
            nn.ReLU(),
            nn.ConvTranspose2d(width, 1, kernel_size=4, stride=2, padding=1),  # 14 -> 28
        )

    def forward(self, x: torch.Tensor):
        mu, logvar = self.to_stats(self.encoder(x)).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        return self.decoder(self.from_latent(z)), mu, logvar
