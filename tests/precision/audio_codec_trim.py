"""An EnCodec/SoundStream-style causal audio codec: strided convs down, trimmed deconvs up, no skips.

EnCodec's ``SConv1d`` pads ``k - s`` samples on the left (causal) before a ``Conv1d(k, s)``,
which gives floor(n / s); its ``SConvTranspose1d`` runs ``ConvTranspose1d(k, s)`` and trims
``k - s`` samples from the right (a size-changing slice inside the block), which gives
``L * s``. Strides 2, 4, 5 (hop 40) with k = 2s. Lengths that are multiples of 40 come back
unchanged; at other lengths the encoder floors and the output is shorter. output_padding adds
after the trim, so each level can be fixed on its own: 401 needs 1 on the stride-2 deconv,
402 needs 1 on the stride-4 deconv, 403 needs both.
"""

import torch.nn.functional as F
from torch import nn

KIND = "restoring"


class SConv1d(nn.Module):
    def __init__(self, cin, cout, k, s=1):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, k, stride=s)

    def forward(self, x):
        k, s = self.conv.kernel_size[0], self.conv.stride[0]
        return self.conv(F.pad(x, (k - s, 0)))


class SConvTranspose1d(nn.Module):
    def __init__(self, cin, cout, k, s):
        super().__init__()
        self.convtr = nn.ConvTranspose1d(cin, cout, k, stride=s)

    def forward(self, x):
        k, s = self.convtr.kernel_size[0], self.convtr.stride[0]
        y = self.convtr(x)
        return y[..., : y.shape[-1] - (k - s)]


class Codec(nn.Module):
    def __init__(self, c=4) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            SConv1d(1, c, 7), nn.ELU(), SConv1d(c, c, 4, 2), nn.ELU(), SConv1d(c, c, 8, 4), nn.ELU(), SConv1d(c, c, 10, 5)
        )
        self.decoder = nn.Sequential(
            SConvTranspose1d(c, c, 10, 5), nn.ELU(), SConvTranspose1d(c, c, 8, 4), nn.ELU(), SConvTranspose1d(c, c, 4, 2), nn.ELU(),
            SConv1d(c, 1, 7),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def build() -> nn.Module:
    return Codec()


_UPS = ["decoder.0.convtr", "decoder.2.convtr", "decoder.4.convtr"]

CASES = [
    {"input": (1, 1, 400), "works": True},
    {"input": (2, 1, 320), "works": True},
    {"input": (1, 1, 401), "works": False, "culprits": ["decoder.4.convtr"], "fix": "verified"},
    {"input": (1, 1, 402), "works": False, "culprits": ["decoder.2.convtr"], "fix": "verified"},
    {"input": (1, 1, 403), "works": False, "culprits": ["decoder.2.convtr", "decoder.4.convtr"], "fix": "verified"},
    {"input": (1, 1, 419), "works": False, "culprits": _UPS, "fix": "verified"},
]
