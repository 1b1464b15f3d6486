"""An encoder/decoder with ``padding="same"`` stride-1 convs in non-zeros padding modes.

Speech-enhancement and super-resolution nets write their stride-1 convs as
``Conv2d(..., padding="same", padding_mode="reflect")``; with a non-zeros mode torch keeps the
string ``"same"`` in ``module.padding``, pads asymmetrically for even kernels (the extra pixel
after) and calls the conv with padding 0. Here: a reflect k3 "same" stem, a strided
``Conv2d(k4, s2, p1)``, a circular k4 dilation-2 "same" conv, ``ConvTranspose2d(k4, s2, p1)``,
a replicate k5 "same" head. Works at even sizes; at odd sizes the deconv gives n - 1 and
output_padding 1 restores n. The linter must not crash on the string padding.
"""

from torch import nn

KIND = "restoring"


class SamePaddingAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding="same", padding_mode="reflect")
        self.down = nn.Conv2d(4, 8, 4, stride=2, padding=1)
        self.mid = nn.Conv2d(8, 8, 4, padding="same", padding_mode="circular", dilation=2)
        self.mid2 = nn.Conv2d(8, 8, (2, 3), padding="same")
        self.up = nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1)
        self.head = nn.Conv2d(4, 1, 5, padding="same", padding_mode="replicate")
        self.act = nn.GELU()

    def forward(self, x):
        x = self.act(self.stem(x))
        x = self.act(self.down(x))
        x = self.act(self.mid2(self.mid(x)))
        return self.head(self.act(self.up(x)))


def build() -> nn.Module:
    return SamePaddingAE()


CASES = [
    {"input": (1, 1, 28, 28), "works": True},
    {"input": (1, 1, 16, 24), "works": True},
    {"input": (1, 1, 27, 27), "works": False, "culprits": ["up"], "fix": "verified"},
    {"input": (1, 1, 28, 31), "works": False, "culprits": ["up"], "fix": "verified"},
]
