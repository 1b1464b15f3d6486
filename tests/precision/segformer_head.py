"""SegFormer (Xie et al. 2021): a hierarchical encoder and the all-MLP decode head.

Four stages with overlapping patch embeddings (``Conv2d(k7, s4, p3)``, then ``Conv2d(k3, s2,
p1)`` three times) give features at 1/4, 1/8, 1/16, 1/32; the head projects each with a 1x1
conv, resizes every stage to the first stage's size with ``F.interpolate(size=c1.shape[2:],
mode="bilinear")``, concatenates, fuses and predicts at 1/4 of the input by design. A
multi-scale fraction model: no error at any size.
"""

import torch
import torch.nn.functional as F
from torch import nn

KIND = "fraction"


class SegFormerLite(nn.Module):
    def __init__(self, dims=(4, 8, 8, 16), embed=8, classes=3) -> None:
        super().__init__()
        self.patch_embed1 = nn.Conv2d(1, dims[0], 7, stride=4, padding=3)
        self.patch_embed2 = nn.Conv2d(dims[0], dims[1], 3, stride=2, padding=1)
        self.patch_embed3 = nn.Conv2d(dims[1], dims[2], 3, stride=2, padding=1)
        self.patch_embed4 = nn.Conv2d(dims[2], dims[3], 3, stride=2, padding=1)
        self.linear_c = nn.ModuleList([nn.Conv2d(d, embed, 1) for d in dims])
        self.linear_fuse = nn.Sequential(nn.Conv2d(4 * embed, embed, 1, bias=False), nn.BatchNorm2d(embed), nn.ReLU())
        self.linear_pred = nn.Conv2d(embed, classes, 1)

    def forward(self, x):
        c1 = self.patch_embed1(x)
        c2 = self.patch_embed2(c1)
        c3 = self.patch_embed3(c2)
        c4 = self.patch_embed4(c3)
        outs = []
        for c, proj in zip((c4, c3, c2, c1), reversed(self.linear_c)):
            outs.append(F.interpolate(proj(c), size=c1.shape[2:], mode="bilinear", align_corners=False))
        return self.linear_pred(self.linear_fuse(torch.cat(outs, dim=1)))


def build() -> nn.Module:
    return SegFormerLite()


CASES = [
    {"input": (1, 1, 64, 64), "works": True},
    {"input": (1, 1, 65, 65), "works": True},
    {"input": (1, 1, 50, 70), "works": True},
]
