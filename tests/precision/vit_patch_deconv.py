"""A ViT encoder (patch embedding ``Conv2d(k16, s16)``) with a chain of four ``ConvTranspose2d(k2, s2)``.

The decoder of ViT-based dense-prediction and MAE-style reconstruction heads: one down by 16,
then four ups by 2, so nothing mirrors anything; tokens go through a (tiny) transformer block
in between (flatten, LayerNorm, Linear, reshape back). Restores at multiples of 16. At other
sizes the patch embedding drops the remainder and the output comes back smaller. Surprise:
output_padding can always fix it: the four deconvs' output_padding bits add 8, 4, 2, 1, so
``n % 16`` in binary says which deconvs need output_padding 1. At 40 (2 -> 5 -> 10 -> 20 -> 40)
only the first deconv (``decoder.0``, the one that follows the patch embedding in mirror order)
needs it; at 36 only ``decoder.1``, an unpaired layer; at 44 two layers.
"""

import torch
from torch import nn

KIND = "restoring"


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Linear(dim, dim)

    def forward(self, t):
        return t + self.mlp(self.norm(t))


class ViTDeconv(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.patch_embed = nn.Conv2d(1, 16, 16, stride=16)
        self.block = Block(16)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(16, 8, 2, stride=2),
            nn.ConvTranspose2d(8, 8, 2, stride=2),
            nn.ConvTranspose2d(8, 4, 2, stride=2),
            nn.ConvTranspose2d(4, 1, 2, stride=2),
        )

    def forward(self, x):
        x = self.patch_embed(x)
        b, c, h, w = x.shape
        t = self.block(x.flatten(2).transpose(1, 2))
        x = t.transpose(1, 2).reshape(b, c, h, w)
        return self.decoder(x)


def build() -> nn.Module:
    return ViTDeconv()


_UPS = ["decoder.0", "decoder.1", "decoder.2", "decoder.3"]

CASES = [
    {"input": (1, 1, 64, 64), "works": True},
    {"input": (1, 1, 32, 48), "works": True},
    {"input": (1, 1, 40, 40), "works": False, "culprits": _UPS, "fix": "verified"},
    {"input": (1, 1, 36, 36), "works": False, "culprits": _UPS, "fix": "any"},
    {"input": (1, 1, 44, 32), "works": False, "culprits": _UPS, "fix": "any"},
]
