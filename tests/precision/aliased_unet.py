"""A U-Net whose blocks are registered twice: in ModuleLists and in a recursive skip-layer chain.

MONAI's ``DynUNet`` (the nnU-Net port) keeps its blocks in ``downsamples``/``upsamples``
ModuleLists and builds the forward from ``DynUNetSkipLayer`` objects that hold the same
modules again, so every block has two names (``named_modules()`` reports the first one,
``ups.0``; ``skip.next.up`` is the same module). Downs ``Conv2d(k3, s2, p1)``, ups
``ConvTranspose2d(k3, s2, p1, output_padding=1)``, cat skips. Works at multiples of 4; at 30
the inner up gives 16 for 15 (output_padding 0 fixes it), at 31 the outer one gives 32.
Linting must leave both names' parameters alone.
"""

import torch
from torch import nn

KIND = "restoring"


class SkipLayer(nn.Module):
    def __init__(self, down, up, fuse, next_layer=None):
        super().__init__()
        self.down = down
        self.next = next_layer
        self.up = up
        self.fuse = fuse

    def forward(self, x):
        y = torch.relu(self.down(x))
        if self.next is not None:
            y = self.next(y)
        return torch.relu(self.fuse(torch.cat([self.up(y), x], 1)))


class AliasedUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.downs = nn.ModuleList([nn.Conv2d(4, 4, 3, 2, 1), nn.Conv2d(4, 4, 3, 2, 1)])
        self.ups = nn.ModuleList([nn.ConvTranspose2d(4, 4, 3, 2, 1, output_padding=1) for _ in range(2)])
        self.fuses = nn.ModuleList([nn.Conv2d(8, 4, 1) for _ in range(2)])
        inner = SkipLayer(self.downs[1], self.ups[1], self.fuses[1])
        self.skip = SkipLayer(self.downs[0], self.ups[0], self.fuses[0], inner)
        self.head = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        return self.head(self.skip(self.stem(x)))


def build() -> nn.Module:
    return AliasedUNet()


CASES = [
    {"input": (1, 1, 32, 32), "works": True},
    {"input": (1, 1, 28, 36), "works": True},
    {"input": (1, 1, 30, 30), "works": False, "culprits": ["ups.1", "skip.next.up"], "fix": "verified"},
    {"input": (1, 1, 31, 31), "works": False, "culprits": ["ups.0", "skip.up"], "fix": "verified"},
]
