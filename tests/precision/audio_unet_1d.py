"""A 1-D audio U-Net written with functional convolutions, as in audio diffusion models.

audio-diffusion-pytorch / Moûsai style: every block keeps its weights as Parameters and calls
``F.pad(..., mode="reflect")`` then ``F.conv1d(stride=2)`` on the way down (ceil(n/2) samples)
and ``F.conv_transpose1d(k3, s2, padding=1, output_padding=op)`` on the way up, with skip
concatenation at every level. ``output_padding`` is 1 (the mirror of the k3/s2/p1 conv), which
restores even lengths; the calls' output_padding lives in each block's
``functional_output_padding`` table (the zoo's convention) so a fix can be set in eager.

Works when the length is a multiple of 8 (three levels). At 60 the deepest level sees 15 -> 8
-> 16 and ``torch.cat`` raises; output_padding 0 on that call fixes it. At 63 the top level
gives 64 for 63.
"""

import torch
import torch.nn.functional as F
from torch import nn

KIND = "restoring"


class Down(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, 5) * 0.2)
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x):
        x = F.pad(x, (2, 2), mode="reflect")
        return F.silu(F.conv1d(x, self.weight, self.bias, stride=2))


class Up(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cin, cout, 3) * 0.2)
        self.bias = nn.Parameter(torch.zeros(cout))
        self.functional_output_padding = {"F.conv_transpose1d": (1,)}

    def forward(self, x):
        op = self.functional_output_padding["F.conv_transpose1d"]
        return F.silu(F.conv_transpose1d(x, self.weight, self.bias, stride=2, padding=1, output_padding=op))


class Merge(nn.Module):
    """Concatenate the skip and mix with a reflect-padded k3 conv (stride 1)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, 3) * 0.2)

    def forward(self, x, skip):
        x = torch.cat([x, skip], dim=1)
        return F.conv1d(F.pad(x, (1, 1), mode="reflect"), self.weight)


class AudioUNet1d(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        c = [2, 4, 4, 8]
        self.downs = nn.ModuleList([Down(c[i], c[i + 1]) for i in range(3)])
        self.ups = nn.ModuleList([Up(c[3 - i], c[2 - i]) for i in range(3)])
        self.merges = nn.ModuleList([Merge(2 * c[2 - i], c[2 - i]) for i in range(3)])

    def forward(self, x):
        skips = []
        for down in self.downs:
            skips.append(x)
            x = down(x)
        for up, merge in zip(self.ups, self.merges):
            x = merge(up(x), skips.pop())
        return x


def build() -> nn.Module:
    return AudioUNet1d()


FUNCTIONAL_LIMITS = {f"ups.{i}:F.conv_transpose1d": (1, 2) for i in range(3)}

CASES = [
    {"input": (2, 2, 64), "works": True},
    {"input": (1, 2, 48), "works": True},
    {"input": (1, 2, 60), "works": False, "culprits": ["ups.0:F.conv_transpose1d"], "fix": "verified"},
    {"input": (1, 2, 63), "works": False, "culprits": ["ups.2:F.conv_transpose1d"], "fix": "verified"},
]
