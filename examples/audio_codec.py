"""A 1D neural audio codec (SoundStream/EnCodec-like) with one bug at its odd stride.

The encoder turns a waveform into frames with strides 2, 4, 5 and 8 (320 samples per frame:
16000 samples = 1 s at 16 kHz -> 50 frames); the decoder mirrors it with ``ConvTranspose1d``.
Every stage uses ``kernel_size = 2*stride`` and ``padding = ceil(stride / 2)``. In the encoder
that gives exactly ``length / stride`` for any multiple of the stride. In the decoder the same
padding gives back ``(in-1)*s - 2*ceil(s/2) + 2*s = in*s`` for even strides but ``in*s - 1``
for the odd stride 5, because ``2*ceil(5/2) = 6`` pads one sample more than the ``5`` the
formula wants:

    400 frames -> (400-1)*5 - 2*3 + 1*(10-1) + 0 + 1 = 1999 samples, not 2000

Nothing crashes: the decoder just returns 15992 samples for a 16000-sample input, and the
reconstruction loss against the input then fails (or, with a crop to the shorter length,
silently compares misaligned audio). ``output_padding=1`` on the stride-5 stage fixes it.

    convshape examples/audio_codec.py:AudioCodec --input 1,1,16000                               # CS101
    convshape examples/audio_codec.py:AudioCodec --input 1,1,16000 --kwargs '{"odd_output_padding": 1}'  # ok
"""

from __future__ import annotations

import torch
from torch import nn


class ResidualUnit(nn.Module):
    """A dilated convolution that keeps the length (padding = dilation * (kernel-1) / 2), added back."""

    def __init__(self, channels: int, dilation: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.ELU(),
            nn.Conv1d(channels, channels, kernel_size=7, dilation=dilation, padding=3 * dilation),
            nn.ELU(),
            nn.Conv1d(channels, channels, kernel_size=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


def residual_stack(channels: int) -> nn.Sequential:
    return nn.Sequential(*(ResidualUnit(channels, d) for d in (1, 3, 9)))


class AudioCodec(nn.Module):
    """Waveform autoencoder: ``(N, 1, samples) -> (N, latent_dim, samples/320) -> (N, 1, samples)``.

    ``odd_output_padding`` is the ``output_padding`` of decoder stages with an odd stride (here
    only the stride-5 one); even strides need none. The default 0 is the bug.
    """

    def __init__(
        self,
        channels: int = 32,
        latent_dim: int = 64,
        strides: tuple[int, ...] = (2, 4, 5, 8),
        odd_output_padding: int = 0,
    ):
        super().__init__()
        widths = [channels * 2**i for i in range(len(strides) + 1)]  # 32, 64, 128, 256, 512

        encoder: list[nn.Module] = [nn.Conv1d(1, widths[0], kernel_size=7, padding=3)]
        for i, s in enumerate(strides):
            encoder += [
                residual_stack(widths[i]),
                nn.ELU(),
                # floor((L + 2*ceil(s/2) - 2*s) / s) + 1 = L / s for L a multiple of s
                nn.Conv1d(widths[i], widths[i + 1], kernel_size=2 * s, stride=s, padding=(s + 1) // 2),
            ]
        encoder += [nn.ELU(), nn.Conv1d(widths[-1], latent_dim, kernel_size=3, padding=1)]
        self.encoder = nn.Sequential(*encoder)

        decoder: list[nn.Module] = [nn.Conv1d(latent_dim, widths[-1], kernel_size=7, padding=3)]
        for i, s in reversed(list(enumerate(strides))):
            decoder += [
                nn.ELU(),
                # (L-1)*s - 2*ceil(s/2) + 2*s + output_padding: L*s for even s, L*s - 1 for odd s
                nn.ConvTranspose1d(
                    widths[i + 1], widths[i], kernel_size=2 * s, stride=s, padding=(s + 1) // 2,
                    output_padding=odd_output_padding if s % 2 else 0,
                ),
                residual_stack(widths[i]),
            ]
        decoder += [nn.ELU(), nn.Conv1d(widths[0], 1, kernel_size=7, padding=3), nn.Tanh()]
        self.decoder = nn.Sequential(*decoder)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(audio))


if __name__ == "__main__":
    for fix in (0, 1):
        codec = AudioCodec(odd_output_padding=fix).eval()
        audio = torch.randn(1, 1, 16000)
        with torch.no_grad():
            frames = codec.encoder(audio)
            out = codec.decoder(frames)
        print(f"odd_output_padding={fix}: {tuple(audio.shape)} -> frames {tuple(frames.shape)} -> {tuple(out.shape)}")
