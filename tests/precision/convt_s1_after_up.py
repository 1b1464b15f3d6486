"""A decoder block that refines the upsampled map with a stride-1 ``ConvTranspose2d(k3)``.

Some GAN/colorization decoders refine with transposed convs of stride 1; without padding a
``ConvTranspose2d(k3, s1)`` adds 2 pixels. The up (``ConvTranspose2d(k4, s2, p1)``) restores
the skip's size exactly, but the refinement after it makes the map 2 larger and
``torch.cat`` with the skip raises at every size. The culprit is ``dec.refine``, which is not
an upsampler; output_padding must stay below max(stride, dilation) = 1, so no
output_padding fixes it.
"""

import torch
from torch import nn

KIND = "restoring"


class RefineUp(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1)
        self.refine = nn.ConvTranspose2d(cout, cout, 3)
        self.conv = nn.Conv2d(2 * cout, cout, 3, padding=1)

    def forward(self, x, skip):
        x = torch.relu(self.refine(self.up(x)))
        return self.conv(torch.cat([x, skip], dim=1))


class ConvTS1UNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.down = nn.Conv2d(4, 8, 4, stride=2, padding=1)
        self.dec = RefineUp(8, 4)
        self.head = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        s = self.stem(x)
        return self.head(self.dec(self.down(s), s))


def build() -> nn.Module:
    return ConvTS1UNet()


CASES = [
    {"input": (1, 1, 28, 28), "works": False, "culprits": ["dec.refine"], "fix": "none"},
    {"input": (1, 1, 32, 24), "works": False, "culprits": ["dec.refine"], "fix": "none"},
]
