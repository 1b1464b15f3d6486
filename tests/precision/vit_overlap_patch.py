"""Overlapping patch embedding (SegFormer / PVTv2 style) with a linear-unpatchify deconv.

The patch embedding is ``Conv2d(k7, s4, p3)``, which gives ceil(n/4) (it keeps a partial
patch at the border, unlike ViT's ``k16, s16``); the reconstruction head is
``ConvTranspose2d(k4, s4)``, 4 * ceil(n/4). Restores at multiples of 4; elsewhere the output
is up to 3 pixels too large and output_padding, which only adds, cannot fix it.
"""

from torch import nn

KIND = "restoring"


class OverlapPatchAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.patch_embed = nn.Sequential(nn.Conv2d(1, 8, 7, stride=4, padding=3), nn.GroupNorm(1, 8))
        self.mix = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.unpatchify = nn.ConvTranspose2d(8, 1, 4, stride=4)

    def forward(self, x):
        return self.unpatchify(self.mix(self.patch_embed(x)))


def build() -> nn.Module:
    return OverlapPatchAE()


CASES = [
    {"input": (1, 1, 32, 32), "works": True},
    {"input": (1, 1, 28, 44), "works": True},
    {"input": (1, 1, 30, 30), "works": False, "culprits": ["unpatchify"], "fix": "none"},
    {"input": (1, 1, 33, 32), "works": False, "culprits": ["unpatchify"], "fix": "none"},
]
