"""A small convolutional VAE for 28x28 images (MNIST-sized) whose decoder mirrors its encoder exactly.

This one is clean: every ``Conv2d(kernel_size=4, stride=2, padding=1)`` halves an even size
exactly, ``floor((28 + 2*1 - 1*(4-1) - 1) / 2) + 1 = 14``, and the mirrored
``ConvTranspose2d(kernel_size=4, stride=2, padding=1)`` doubles it back,
``(14-1)*2 - 2*1 + 1*(4-1) + 0 + 1 = 28``. No output_padding is needed: a kernel of 4 with
stride 2 and padding 1 round-trips every even size (try an odd one, e.g. 27, to see the linter
complain).

    convshape examples/vae.py:ConvVAE --input 1,1,28,28                       # ok, exit status 0
    convshape examples/vae.py:ConvVAE --input 3,3,64,64 --kwargs '{"in_channels": 3, "image_size": 64}'

The forward pass returns ``(reconstruction, mu, logvar)``; the linter follows the tensors through
the fully connected bottleneck and the reparameterisation (``torch.randn_like`` is fine on the
meta device).
"""

from __future__ import annotations

import torch
from torch import nn


class ConvVAE(nn.Module):
    def __init__(self, in_channels: int = 1, image_size: int = 28, latent_dim: int = 16, width: int = 32):
        super().__init__()
        # Two halvings: 28 -> 14 -> 7 (64 -> 32 -> 16 for image_size=64).
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, width, kernel_size=4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, kernel_size=4, stride=2, padding=1),
            nn.ReLU(),
        )
        self.feature_size = image_size // 4  # 7 for 28x28
        features = 2 * width * self.feature_size**2
        self.to_mu = nn.Linear(features, latent_dim)
        self.to_logvar = nn.Linear(features, latent_dim)
        self.from_latent = nn.Linear(latent_dim, features)
        # The mirror image of the encoder: same kernel, stride and padding, in reverse order.
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, kernel_size=4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(width, in_channels, kernel_size=4, stride=2, padding=1),
            nn.Sigmoid(),
        )
        self.width = width

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x).flatten(1)
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = self.from_latent(z).view(-1, 2 * self.width, self.feature_size, self.feature_size)
        return self.decoder(h)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        if self.training:  # the reparameterisation trick: z = mu + sigma * eps
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        else:
            z = mu
        return self.decode(z), mu, logvar


def vae_loss(x: torch.Tensor, recon: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Reconstruction (binary cross-entropy) plus the KL divergence to a unit Gaussian."""
    bce = nn.functional.binary_cross_entropy(recon, x, reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (bce + kld) / x.shape[0]


if __name__ == "__main__":
    model = ConvVAE()
    x = torch.rand(8, 1, 28, 28)
    recon, mu, logvar = model(x)
    print(recon.shape, f"loss {vae_loss(x, recon, mu, logvar).item():.1f}")
