"""A U-Net with skip connections whose down and up blocks are shared between two levels.

Like ``shared_modules`` but the decoder concatenates the skips, so a wrong size makes
``torch.cat`` raise in eager, and the pairing is also visible from the skips: ``up`` (first
call, deepest) merges with the input of ``down#2``, ``up#2`` with the input of ``down``.
The down is ``MaxPool2d(2, ceil_mode=True)`` and the up ``ConvTranspose2d(k2, s2)``: works at
multiples of 4; at 30 the first ``up`` call gives 16 for 15 (too many: no output_padding
fixes it); at 31 the first call is right (16 -> 8 -> 16) and ``up#2`` gives 32 for 31.
"""

import torch
from torch import nn

KIND = "restoring"


class SharedUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.down = nn.MaxPool2d(2, ceil_mode=True)
        self.enc = nn.Conv2d(4, 4, 3, padding=1)
        self.up = nn.ConvTranspose2d(4, 4, 2, stride=2)
        self.fuse = nn.Conv2d(8, 4, 3, padding=1)
        self.head = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        s0 = self.stem(x)
        s1 = self.enc(self.down(s0))
        x = self.enc(self.down(s1))
        x = self.fuse(torch.cat([self.up(x), s1], 1))
        x = self.fuse(torch.cat([self.up(x), s0], 1))
        return self.head(x)


def build() -> nn.Module:
    return SharedUNet()


CASES = [
    {"input": (1, 1, 32, 32), "works": True},
    {"input": (1, 1, 28, 28), "works": True},
    {"input": (1, 1, 30, 30), "works": False, "culprits": ["up"], "fix": "none"},
    {"input": (1, 1, 31, 31), "works": False, "culprits": ["up#2"], "fix": "none"},
]
