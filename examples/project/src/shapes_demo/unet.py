"""A two-level diffusion U-Net: ``forward(sample, timestep)``.

Each level halves the size rounding up and the decoder doubles it exactly, so the skip
connections line up only when the input size is a multiple of 4 (64 works; 62 -> 31 -> 16 -> 32
does not match the 31 of the skip).
"""

import torch
from torch import nn

from .blocks import Down, Up, timestep_embedding


class DiffusionUNet(nn.Module):
    def __init__(self, channels: int = 3, base: int = 16):
        super().__init__()
        self.base = base
        self.time = nn.Sequential(nn.Linear(base, 4 * base), nn.SiLU(), nn.Linear(4 * base, base))
        self.stem = nn.Conv2d(channels, base, kernel_size=3, padding=1)
        self.down1 = Down(base, 2 * base)
        self.down2 = Down(2 * base, 4 * base)
        self.up2 = Up(4 * base, 2 * base)
        self.up1 = Up(4 * base, base)
        self.head = nn.Conv2d(2 * base, channels, kernel_size=3, padding=1)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        emb = self.time(timestep_embedding(timestep, self.base))
        h0 = self.stem(sample) + emb[:, :, None, None]
        h1 = self.down1(h0)
        h2 = self.down2(h1)
        u2 = torch.cat([self.up2(h2), h1], dim=1)
        u1 = torch.cat([self.up1(u2), h0], dim=1)
        return self.head(u1)
