"""A U-Net that resizes to the skip's size at the deepest level only (``size=skip.shape[2:]``).

Many U-Nets make the decoder robust with ``F.interpolate(x, size=skip.shape[2:])``; here only
the deepest up block does it (after its ``ConvTranspose2d(k2, s2)``), the top block is a plain
``ConvTranspose2d(k2, s2)`` + ``torch.cat``. Downs are ``MaxPool2d(2)`` (floor). The resize
hides any mismatch at the deepest level (a warning at most), so the model works whenever the
top level's size is even: 30 (15 -> 7 -> 14 -> resized 15 -> 30). At odd sizes the top
level gives n - 1 and output_padding 1 on ``up1`` restores n.
"""

import torch
import torch.nn.functional as F
from torch import nn

KIND = "restoring"


class InterpToSkipUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.pool1 = nn.MaxPool2d(2)
        self.enc1 = nn.Conv2d(4, 8, 3, padding=1)
        self.pool2 = nn.MaxPool2d(2)
        self.enc2 = nn.Conv2d(8, 8, 3, padding=1)
        self.up2 = nn.ConvTranspose2d(8, 8, 2, stride=2)
        self.dec2 = nn.Conv2d(16, 8, 3, padding=1)
        self.up1 = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.dec1 = nn.Conv2d(8, 4, 3, padding=1)
        self.head = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        s0 = torch.relu(self.stem(x))
        s1 = torch.relu(self.enc1(self.pool1(s0)))
        x = torch.relu(self.enc2(self.pool2(s1)))
        x = F.interpolate(self.up2(x), size=s1.shape[2:], mode="bilinear", align_corners=False)
        x = torch.relu(self.dec2(torch.cat([x, s1], 1)))
        x = torch.relu(self.dec1(torch.cat([self.up1(x), s0], 1)))
        return self.head(x)


def build() -> nn.Module:
    return InterpToSkipUNet()


CASES = [
    {"input": (1, 1, 32, 32), "works": True},
    {"input": (1, 1, 30, 30), "works": True},
    {"input": (1, 1, 26, 34), "works": True},
    {"input": (1, 1, 31, 31), "works": False, "culprits": ["up1"], "fix": "verified"},
    {"input": (1, 1, 30, 29), "works": False, "culprits": ["up1"], "fix": "verified"},
]
