"""One down and one up module, each called at two levels: ``up(up(down(down(x))))``.

Recursive/weight-shared multi-scale nets (e.g. recurrent residual pyramids, "universal"
U-Nets with tied levels) reuse one ``Conv2d(k3, s2, p1)`` and one ``ConvTranspose2d(k3, s2, p1,
output_padding=1)`` at every level. The calls are named ``down``, ``down#2``, ``up``, ``up#2``;
``up`` must pair with ``down#2`` and ``up#2`` with ``down``. Works at multiples of 4 (28: 14,
7, 14, 28). At 25 both calls need output_padding 0 (25 -> 13 -> 7 -> 13 -> 25): setting it on
the one module fixes both. At 26 the first call needs 0 and the second 1; the module has one
output_padding, so no value fixes it (0 gives 25, 1 gives 28).
"""

import torch
from torch import nn

KIND = "restoring"


class SharedPyramid(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.down = nn.Conv2d(4, 4, 3, 2, 1)
        self.up = nn.ConvTranspose2d(4, 4, 3, 2, 1, output_padding=1)
        self.act = nn.ReLU()
        self.head = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        x = self.act(self.stem(x))
        x = self.act(self.down(self.act(self.down(x))))
        x = self.act(self.up(self.act(self.up(x))))
        return self.head(x)


def build() -> nn.Module:
    return SharedPyramid()


CASES = [
    {"input": (1, 1, 28, 28), "works": True},
    {"input": (1, 1, 16, 32), "works": True},
    {"input": (1, 1, 25, 25), "works": False, "culprits": ["up", "up#2"], "fix": "verified"},
    {"input": (1, 1, 26, 26), "works": False, "culprits": ["up", "up#2"], "fix": "none"},
    {"input": (1, 1, 27, 27), "works": False, "culprits": ["up", "up#2"], "fix": "none"},
]
