"""Decoder layers that no legal output_padding can fix, at 32x32 (two CS102).

dec2 (k=5, p=0) overshoots: 19 for 16; dec1 (k=4, p=3) falls short: 28, at most 29, for 32.
"""

from torch import nn

INPUT = (1, 1, 32, 32)


class GapAutoencoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc1 = nn.Conv2d(1, 2, 4, stride=2, padding=1)  # 32 -> 16
        self.enc2 = nn.Conv2d(2, 4, 3, stride=2, padding=1)  # 16 -> 8
        self.act = nn.LeakyReLU(0.2)
        self.dec2 = nn.ConvTranspose2d(4, 2, 5, stride=2)  # 8 -> 19 (needs 16)
        self.dec1 = nn.ConvTranspose2d(2, 1, 4, stride=2, padding=3)  # 16 -> 28 (needs 32)

    def forward(self, x):
        x = self.act(self.enc1(x))
        x = self.act(self.enc2(x))
        x = self.act(self.dec2(x))
        return self.dec1(x)


def build() -> nn.Module:
    return GapAutoencoder()


EXPECTED = [
    {"code": "CS102", "up": "dec2", "down": "enc2", "expected": [16, 16], "actual": [19, 19], "output_padding": None},
    {"code": "CS102", "up": "dec1", "down": "enc1", "expected": [32, 32], "actual": [28, 28], "output_padding": None},
]

PAIRS = [("enc2", "dec2", "mirror"), ("enc1", "dec1", "mirror")]
