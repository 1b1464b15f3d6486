"""A U-Net whose up blocks add a transposed conv and a nearest resize of the same tensor.

"Additive upsampling" (Wojna et al., "The Devil is in the Decoder"; also residual-upsampling
blocks in super-resolution and depth decoders): ``up(x) = deconv(x) + interpolate(x, 2)``,
with the deconv ``ConvTranspose2d(k3, s2, p1, output_padding=1)`` so both branches give 2n.
Strided ``Conv2d(k3, s2, p1)`` downs (ceil), skips concatenated. Works at multiples of 4.
At 30 the deepest level has 15 -> 8 -> 16: the deconv alone could give 15 with
output_padding 0, but the interpolate branch still gives 16 and the ``+`` fails instead, so
no output_padding fixes the model (a fix must be proven with both branches).
"""

import torch
import torch.nn.functional as F
from torch import nn

KIND = "restoring"


class AdditiveUp(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.deconv = nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1)
        self.proj = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        return self.deconv(x) + F.interpolate(self.proj(x), scale_factor=2, mode="nearest")


class AdditiveUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.down1 = nn.Conv2d(4, 8, 3, 2, 1)
        self.down2 = nn.Conv2d(8, 8, 3, 2, 1)
        self.up2 = AdditiveUp(8, 8)
        self.fuse2 = nn.Conv2d(16, 8, 3, padding=1)
        self.up1 = AdditiveUp(8, 4)
        self.fuse1 = nn.Conv2d(8, 4, 3, padding=1)
        self.head = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        s0 = torch.relu(self.stem(x))
        s1 = torch.relu(self.down1(s0))
        x = torch.relu(self.down2(s1))
        x = self.fuse2(torch.cat([self.up2(x), s1], 1))
        x = self.fuse1(torch.cat([self.up1(x), s0], 1))
        return self.head(x)


def build() -> nn.Module:
    return AdditiveUNet()


CASES = [
    {"input": (1, 1, 32, 32), "works": True},
    {"input": (1, 1, 28, 28), "works": True},
    {"input": (1, 1, 30, 30), "works": False, "culprits": ["up2.deconv", "up2:F.interpolate"], "fix": "none"},
    {"input": (1, 1, 31, 31), "works": False, "culprits": ["up1.deconv", "up1:F.interpolate"], "fix": "none"},
]
