"""A grouped conv whose groups (4) do not divide out_channels (6): nn.Conv2d would refuse it, so build()
sets .groups and the weight afterwards. The meta device runs it, eager raises (CS202).
"""

import torch
from torch import nn

INPUT = (1, 4, 8, 8)


class BadGroups(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(4, 4, 3, padding=1)
        self.mix = nn.Conv2d(4, 6, 3, padding=1)
        self.act = nn.ReLU()
        self.head = nn.Conv2d(6, 1, 1)
        # As if loaded from a config with groups=4: weight (out=6, in/groups=1, 3, 3).
        self.mix.groups = 4
        self.mix.weight = nn.Parameter(torch.randn(6, 1, 3, 3) * 0.3)

    def forward(self, x):
        return self.head(self.act(self.mix(self.act(self.stem(x)))))


def build() -> nn.Module:
    return BadGroups()


EXPECTED = [
    {"code": "CS202", "layer": "mix", "up": None, "down": None, "expected": None, "actual": None, "output_padding": None},
]

PAIRS = []
