"""Segment Anything (SAM): ViT patch embedding and the mask decoder's output upscaling.

SAM's image encoder embeds 16x16 patches (``Conv2d(k16, s16)``) and its neck keeps 1/16; the
mask decoder's ``output_upscaling`` is ``ConvTranspose2d(k2, s2)``, LayerNorm2d, GELU,
``ConvTranspose2d(k2, s2)``, GELU: masks come out at 1/4 of the input by design (SAM then
resizes them outside the network). Here the dense prompt embedding is added at 1/16 (same
size, broadcast over the batch) and the masks are a 1x1 projection. A fraction model: no
error at any size the patch embedding accepts, including sizes that are not multiples of 16.
"""

import torch
from torch import nn

KIND = "fraction"


class LayerNorm2d(nn.Module):
    def __init__(self, c, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.eps = eps

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class SAMLite(nn.Module):
    def __init__(self, dim=16) -> None:
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, 16, stride=16)
        self.neck = nn.Sequential(nn.Conv2d(dim, dim, 1, bias=False), LayerNorm2d(dim), nn.Conv2d(dim, dim, 3, padding=1, bias=False), LayerNorm2d(dim))
        self.no_mask_embed = nn.Parameter(torch.randn(1, dim, 1, 1))
        self.output_upscaling = nn.Sequential(
            nn.ConvTranspose2d(dim, dim // 4, 2, stride=2),
            LayerNorm2d(dim // 4),
            nn.GELU(),
            nn.ConvTranspose2d(dim // 4, dim // 8, 2, stride=2),
            nn.GELU(),
        )
        self.mask_proj = nn.Conv2d(dim // 8, 3, 1)

    def forward(self, x):
        emb = self.neck(self.patch_embed(x))
        emb = emb + self.no_mask_embed
        return self.mask_proj(self.output_upscaling(emb))


def build() -> nn.Module:
    return SAMLite()


CASES = [
    {"input": (1, 3, 64, 64), "works": True},
    {"input": (1, 3, 80, 48), "works": True},
    {"input": (1, 3, 72, 72), "works": True},
    {"input": (1, 3, 50, 33), "works": True},
]
