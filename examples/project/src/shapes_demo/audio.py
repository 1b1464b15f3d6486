"""A 1-d waveform autoencoder: 16000 samples -> 250 frames -> 16000 samples.

The last decoder stage gives one sample too many and the forward trims it; the trim is
intended, so its finding is silenced on the layer's line.
"""

import torch
from torch import nn


class AudioAutoencoder(nn.Module):
    def __init__(self, channels: int = 16):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv1d(1, channels, kernel_size=8, stride=4, padding=2),  # 16000 -> 4000
            nn.ELU(),
            nn.Conv1d(channels, channels, kernel_size=8, stride=4, padding=2),  # 4000 -> 1000
            nn.ELU(),
            nn.Conv1d(channels, channels, kernel_size=8, stride=4, padding=2),  # 1000 -> 250
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose1d(channels, channels, kernel_size=8, stride=4, padding=2),  # 250 -> 1000
            nn.ELU(),
            nn.ConvTranspose1d(channels, channels, kernel_size=8, stride=4, padding=2),  # 1000 -> 4000
            nn.ELU(),
            nn.ConvTranspose1d(channels, 1, kernel_size=9, stride=4, padding=2),  # convshape: ignore[CS301]
        )

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        out = self.decoder(self.encoder(wave))  # 4000 -> 16001
        return out[..., : wave.shape[-1]]
