"""U-Net that hides its mismatches by cropping, at 30x30 (one CS301, one CS101).

up2 (output_padding=1) gives 16x16 for 15x15 and is cropped to the skip (fix: [0, 0]): a warning,
the output keeps its size. up1 gives 29x29 and the skip is cropped to it (fix: [1, 1]): the crop
changes the model's output to 29x29 for a 30x30 input, the witness that makes it an error.
"""

import torch
from torch import nn

INPUT = (1, 1, 30, 30)


class CropUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inc = nn.Conv2d(1, 2, 3, padding=1)
        self.down1 = nn.Conv2d(2, 4, 3, stride=2, padding=1)  # 30 -> 15
        self.down2 = nn.Conv2d(4, 8, 3, stride=2, padding=1)  # 15 -> 8
        self.act = nn.ReLU()
        self.up2 = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)  # 8 -> 16
        self.dec2 = nn.Conv2d(8, 4, 3, padding=1)
        self.up1 = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)  # 15 -> 29
        self.dec1 = nn.Conv2d(4, 1, 3, padding=1)

    def forward(self, x):
        x0 = self.act(self.inc(x))
        x1 = self.act(self.down1(x0))
        x2 = self.act(self.down2(x1))
        u = self.up2(x2)
        u = u[..., : x1.shape[-2], : x1.shape[-1]]  # crop the up output to the skip
        y = self.act(self.dec2(torch.cat([u, x1], dim=1)))
        u = self.up1(y)
        skip = x0[..., : u.shape[-2], : u.shape[-1]]  # crop the skip to the up output
        return self.dec1(torch.cat([u, skip], dim=1))


def build() -> nn.Module:
    return CropUNet()


EXPECTED = [
    {"code": "CS301", "up": "up2", "down": "down2", "expected": [15, 15], "actual": [16, 16], "output_padding": [0, 0]},
    {"code": "CS101", "up": "up1", "down": "down1", "expected": [30, 30], "actual": [29, 29], "output_padding": [1, 1]},
]

# (down1, up1) is left out: its skip is a crop of down1's input; mirror order gives the same partner.
PAIRS = [("down2", "up2", "skip")]
