"""A segmentation head at 1/4 made of FPN-style lateral adds, with deconvs for the top-down path.

Feature Pyramid Network decoders (Lin et al. 2017; Panoptic-FPN semantic heads) merge each
top-down map with the lateral 1x1 projection of the encoder stage at the same scale. This one
upsamples with ``ConvTranspose2d(k2, s2)`` instead of FPN's ``interpolate(size=lateral)``,
and stops at 1/4 (the head predicts at 1/4 by design). Encoder: four ``Conv2d(k3, s2, p1)``
(ceil). At multiples of 16 every add matches and the output is 1/4 of the input. At 72 the
1/16 stage is 5 and ``up4`` gives 10 for the 1/8 lateral's 9; at 28 the 1/8 level is right
(1/8 is 4, 1/16 is 2 -> 4) and ``up3`` gives 8 for the 1/4 lateral's 7. The ``+``
raises; output_padding only adds, so nothing fixes it. The model is a fraction model: sizes where eager
runs are never errors.
"""

from torch import nn

KIND = "fraction"


class FPNDeconvHead(nn.Module):
    def __init__(self, c=8) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 4, 3, 2, 1), nn.ReLU(), nn.Conv2d(4, c, 3, 2, 1), nn.ReLU())  # 1/4
        self.stage3 = nn.Sequential(nn.Conv2d(c, c, 3, 2, 1), nn.ReLU())  # 1/8
        self.stage4 = nn.Sequential(nn.Conv2d(c, c, 3, 2, 1), nn.ReLU())  # 1/16
        self.lateral2 = nn.Conv2d(c, c, 1)
        self.lateral3 = nn.Conv2d(c, c, 1)
        self.up4 = nn.ConvTranspose2d(c, c, 2, stride=2)
        self.up3 = nn.ConvTranspose2d(c, c, 2, stride=2)
        self.head = nn.Conv2d(c, 2, 3, padding=1)

    def forward(self, x):
        c2 = self.stem(x)
        c3 = self.stage3(c2)
        c4 = self.stage4(c3)
        p3 = self.up4(c4) + self.lateral3(c3)
        p2 = self.up3(p3) + self.lateral2(c2)
        return self.head(p2)


def build() -> nn.Module:
    return FPNDeconvHead()


CASES = [
    {"input": (1, 1, 64, 64), "works": True},
    {"input": (1, 1, 48, 80), "works": True},
    {"input": (1, 1, 61, 64), "works": True},
    {"input": (1, 1, 72, 72), "works": False, "culprits": ["up4"], "fix": "none"},
    {"input": (1, 1, 28, 32), "works": False, "culprits": ["up3"], "fix": "none"},
]
