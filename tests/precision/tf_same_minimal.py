"""TensorFlow/Keras ``padding="same"`` ported to PyTorch, the minimal case.

Ports of TF models (EfficientNet, MobileNet, timm's ``*_tf`` variants) compute the "same"
padding from the input size at run time, pad with ``F.pad`` and run the strided conv with
``padding=0``. At 28: the pad makes 29, ``Conv2d(k3, s2)`` gives 14 and ``ConvTranspose2d(k2,
s2)`` gives back 28. A linter that takes the conv's input to be the model's 28 and not the
padded 29 (or that counts the pad as part of the down) must not call this an error.
At odd sizes the pad gives ceil(n/2) and the deconv gives n + 1: too many, and output_padding
only adds.
"""

import math

import torch.nn.functional as F
from torch import nn

KIND = "restoring"


def tf_same_pad(x, kernel_size, stride, dilation=1):
    """TF "SAME": total pad = max((ceil(n/s) - 1) * s + (k - 1) * d + 1 - n, 0), the extra pixel after."""
    pads = []
    for n in reversed(x.shape[2:]):
        total = max((math.ceil(n / stride) - 1) * stride + (kernel_size - 1) * dilation + 1 - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class TfSameAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(1, 4, 3, stride=2)  # padding 0: the pad is done in forward
        self.act = nn.ReLU()
        self.up = nn.ConvTranspose2d(4, 1, 2, stride=2)

    def forward(self, x):
        x = tf_same_pad(x, 3, 2)  # 28 -> 29
        return self.up(self.act(self.down(x)))  # 29 -> 14 -> 28


def build() -> nn.Module:
    return TfSameAE()


CASES = [
    {"input": (1, 1, 28, 28), "works": True},
    {"input": (1, 1, 32, 20), "works": True},
    {"input": (1, 1, 27, 27), "works": False, "culprits": ["up"], "fix": "none"},
    {"input": (1, 1, 28, 29), "works": False, "culprits": ["up"], "fix": "none"},
]
