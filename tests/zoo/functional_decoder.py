"""Encoder and decoder written with F.conv2d / F.conv_transpose2d and weight Parameters, at 27x28.

Functional names: "decoder:F.conv_transpose2d" needs [1, 1], "decoder:F.conv_transpose2d#2" needs [0, 1] (two CS101).
"""

import torch
import torch.nn.functional as F
from torch import nn

INPUT = (1, 1, 27, 28)


class Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(2, 1, 3, 3) * 0.3)
        self.b1 = nn.Parameter(torch.zeros(2))
        self.w2 = nn.Parameter(torch.randn(4, 2, 3, 3) * 0.3)
        self.act1 = nn.ReLU()
        self.act2 = nn.ReLU()

    def forward(self, x):
        x = self.act1(F.conv2d(x, self.w1, self.b1, stride=2, padding=1))  # 27x28 -> 14x14
        return self.act2(F.conv2d(x, self.w2, stride=2, padding=1))  # 14x14 -> 7x7


class Decoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(4, 2, 3, 3) * 0.3)  # (in, out, kH, kW)
        self.w2 = nn.Parameter(torch.randn(2, 1, 3, 3) * 0.3)
        self.act1 = nn.ReLU()
        # The calls' output_padding, by functional name (the zoo's fix hook, see _verify.py).
        self.functional_output_padding = {"F.conv_transpose2d": (0, 0), "F.conv_transpose2d#2": (0, 0)}

    def forward(self, x):
        op = self.functional_output_padding
        x = F.conv_transpose2d(x, self.w1, stride=2, padding=1, output_padding=op["F.conv_transpose2d"])  # 7 -> 13
        x = self.act1(x)
        return F.conv_transpose2d(x, self.w2, stride=2, padding=1, output_padding=op["F.conv_transpose2d#2"])


class FunctionalAutoencoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()

    def forward(self, x):
        return self.decoder(self.encoder(x))


def build() -> nn.Module:
    return FunctionalAutoencoder()


EXPECTED = [
    {
        "code": "CS101",
        "up": "decoder:F.conv_transpose2d",
        "down": "encoder:F.conv2d#2",
        "expected": [14, 14],
        "actual": [13, 13],
        "output_padding": [1, 1],
    },
    {
        "code": "CS101",
        "up": "decoder:F.conv_transpose2d#2",
        "down": "encoder:F.conv2d",
        "expected": [27, 28],
        "actual": [27, 27],
        "output_padding": [0, 1],
    },
]

PAIRS = [
    ("encoder:F.conv2d#2", "decoder:F.conv_transpose2d", "mirror"),
    ("encoder:F.conv2d", "decoder:F.conv_transpose2d#2", "mirror"),
]

# Where _verify.py can see the functional layers' sizes in eager (down: its input, up: its output).
PROBES = {
    "encoder:F.conv2d": ("encoder", "input"),
    "encoder:F.conv2d#2": ("encoder.act1", "output"),
    "decoder:F.conv_transpose2d": ("decoder.act1", "input"),
    "decoder:F.conv_transpose2d#2": ("decoder", "output"),
}
