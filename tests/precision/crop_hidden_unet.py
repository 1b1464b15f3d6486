"""A U-Net whose deepest level hides a mismatch by cropping, above a normal level.

Deepest level: ``Conv2d(k3, s2, p1)`` down (ceil), ``ConvTranspose2d(k2, s2)`` up, then
``x[..., :h, :w]`` crops the up's output to the skip (the "crop to match" idiom of the
original U-Net and many ports). Top level: ``Conv2d(k3, s2, p1)`` down and
``ConvTranspose2d(k3, s2, p1, output_padding=1)`` up + ``torch.cat``. At 30 the deepest level
gives 16 for 15 and the crop hides it (a warning at most); the top level then gets 15 and
gives 30: no error anywhere, in particular not at the top level. At odd sizes the top level
gives n + 1 and output_padding 0 on ``up1`` fixes it.
"""

import torch
from torch import nn

KIND = "restoring"


class CropHiddenUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.down1 = nn.Conv2d(4, 8, 3, 2, 1)
        self.down2 = nn.Conv2d(8, 8, 3, 2, 1)
        self.up2 = nn.ConvTranspose2d(8, 8, 2, stride=2)
        self.dec2 = nn.Conv2d(16, 8, 3, padding=1)
        self.up1 = nn.ConvTranspose2d(8, 4, 3, 2, 1, output_padding=1)
        self.dec1 = nn.Conv2d(8, 4, 3, padding=1)
        self.head = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        s0 = torch.relu(self.stem(x))
        s1 = torch.relu(self.down1(s0))
        x = torch.relu(self.down2(s1))
        x = self.up2(x)
        x = x[..., : s1.shape[-2], : s1.shape[-1]]
        x = torch.relu(self.dec2(torch.cat([x, s1], 1)))
        x = torch.relu(self.dec1(torch.cat([self.up1(x), s0], 1)))
        return self.head(x)


def build() -> nn.Module:
    return CropHiddenUNet()


CASES = [
    {"input": (1, 1, 32, 32), "works": True},
    {"input": (1, 1, 30, 30), "works": True},
    {"input": (1, 1, 26, 30), "works": True},
    {"input": (1, 1, 31, 31), "works": False, "culprits": ["up1"], "fix": "verified"},
    {"input": (1, 1, 30, 27), "works": False, "culprits": ["up1"], "fix": "verified"},
]
