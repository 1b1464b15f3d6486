"""The other plain case: a two-level U-Net (MaxPool2d(2) down, ConvTranspose2d(k2, s2) up, cat).

Works at multiples of 4. At 33 the top level gives 32 for 33 and ``torch.cat`` raises;
output_padding 1 on ``up1`` fixes it. At 34 the deeper level gives 16 for 17 (fix on ``up2``).
"""

import torch
from torch import nn

KIND = "restoring"


class OddUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inc = nn.Conv2d(1, 4, 3, padding=1)
        self.pool1 = nn.MaxPool2d(2)
        self.enc1 = nn.Conv2d(4, 8, 3, padding=1)
        self.pool2 = nn.MaxPool2d(2)
        self.enc2 = nn.Conv2d(8, 8, 3, padding=1)
        self.up2 = nn.ConvTranspose2d(8, 8, 2, stride=2)
        self.dec2 = nn.Conv2d(16, 8, 3, padding=1)
        self.up1 = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.dec1 = nn.Conv2d(8, 4, 3, padding=1)
        self.outc = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        s0 = torch.relu(self.inc(x))
        s1 = torch.relu(self.enc1(self.pool1(s0)))
        x = torch.relu(self.enc2(self.pool2(s1)))
        x = torch.relu(self.dec2(torch.cat([self.up2(x), s1], 1)))
        x = torch.relu(self.dec1(torch.cat([self.up1(x), s0], 1)))
        return self.outc(x)


def build() -> nn.Module:
    return OddUNet()


CASES = [
    {"input": (1, 1, 32, 32), "works": True},
    {"input": (1, 1, 28, 36), "works": True},
    {"input": (1, 1, 33, 33), "works": False, "culprits": ["up1"], "fix": "verified"},
    {"input": (1, 1, 34, 32), "works": False, "culprits": ["up2"], "fix": "verified"},
]
