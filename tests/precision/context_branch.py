"""A decoder output refined by a pooled global-context branch added back (PSP/ParseNet-lite).

After the decoder restores the input size (``Conv2d(k3, s2, p1)`` down,
``ConvTranspose2d(k3, s2, p1, output_padding=1)`` up), a context branch
``AvgPool2d(4)`` -> 1x1 conv -> ``nn.Upsample(scale_factor=4)`` is added to the map. The
context branch round-trips only when the size is a multiple of 4; otherwise the ``+`` fails
to broadcast. The culprit is the branch's ``context.up`` (an Upsample: no output_padding).
"""

from torch import nn

KIND = "restoring"


class Context(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.pool = nn.AvgPool2d(4)
        self.proj = nn.Conv2d(c, c, 1)
        self.up = nn.Upsample(scale_factor=4, mode="nearest")

    def forward(self, x):
        return x + self.up(self.proj(self.pool(x)))


class ContextAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(1, 4, 3, 2, 1)
        self.up = nn.ConvTranspose2d(4, 4, 3, 2, 1, output_padding=1)
        self.context = Context(4)
        self.head = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        return self.head(self.context(self.up(self.down(x))))


def build() -> nn.Module:
    return ContextAE()


CASES = [
    {"input": (1, 1, 32, 32), "works": True},
    {"input": (1, 1, 28, 20), "works": True},
    {"input": (1, 1, 30, 30), "works": False, "culprits": ["context.up"], "fix": "none"},
    {"input": (1, 1, 28, 26), "works": False, "culprits": ["context.up"], "fix": "none"},
]
