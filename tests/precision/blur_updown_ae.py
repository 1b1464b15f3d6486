"""StyleGAN2-style resampling: ``conv_transpose2d`` then an FIR blur with explicit ``F.pad``.

StyleGAN2's modulated conv with ``up=2`` runs ``F.conv_transpose2d(x, w, stride=2)`` (k3,
padding 0: 2n + 1) and then ``upfirdn2d``: ``F.pad`` by (1, 1) and a 4-tap depthwise blur
(``F.conv2d``, padding 0), which gives 2n; its ``down=2`` conv blurs first (pad 2, 4 taps:
n + 1) and runs ``F.conv2d(stride=2)`` (k3, padding 0): floor(n / 2). So pads and
crops surround every resampling op, all functional. An encoder/decoder of two such levels
restores multiples of 4; at other sizes the encoder floors and the output is smaller.
output_padding on the transposed-conv call adds after the blur, so each level can be fixed:
30 needs 1 on the deepest up (``up2``), 31 on both. The calls' output_padding lives in each
block's ``functional_output_padding`` table.
"""

import torch
import torch.nn.functional as F
from torch import nn

KIND = "restoring"


def _blur_kernel(c):
    k = torch.tensor([1.0, 3.0, 3.0, 1.0])
    k = torch.outer(k, k)
    return (k / k.sum()).expand(c, 1, 4, 4).contiguous()


class BlurDown(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3) * 0.2)
        self.register_buffer("blur", _blur_kernel(cin))

    def forward(self, x):
        x = F.conv2d(F.pad(x, (2, 2, 2, 2)), self.blur, groups=x.shape[1])  # n + 1
        return F.leaky_relu(F.conv2d(x, self.weight, stride=2), 0.2)  # floor(n / 2)


class BlurUp(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cin, cout, 3, 3) * 0.2)
        self.register_buffer("blur", _blur_kernel(cout))
        self.functional_output_padding = {"F.conv_transpose2d": (0, 0)}

    def forward(self, x):
        op = self.functional_output_padding["F.conv_transpose2d"]
        x = F.conv_transpose2d(x, self.weight, stride=2, output_padding=op)  # 2n + 1 (+ op)
        x = F.conv2d(F.pad(x, (1, 1, 1, 1)), self.blur, groups=x.shape[1])  # 2n (+ op)
        return F.leaky_relu(x, 0.2)


class BlurAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.from_rgb = nn.Conv2d(3, 4, 1)
        self.down1 = BlurDown(4, 8)
        self.down2 = BlurDown(8, 8)
        self.up2 = BlurUp(8, 8)
        self.up1 = BlurUp(8, 4)
        self.to_rgb = nn.Conv2d(4, 3, 1)

    def forward(self, x):
        return self.to_rgb(self.up1(self.up2(self.down2(self.down1(self.from_rgb(x))))))


def build() -> nn.Module:
    return BlurAE()


FUNCTIONAL_LIMITS = {"up2:F.conv_transpose2d": (2, 2), "up1:F.conv_transpose2d": (2, 2)}

CASES = [
    {"input": (1, 3, 32, 32), "works": True},
    {"input": (1, 3, 28, 36), "works": True},
    {"input": (1, 3, 30, 30), "works": False, "culprits": ["up2:F.conv_transpose2d"], "fix": "verified"},
    {"input": (1, 3, 31, 31), "works": False, "culprits": ["up2:F.conv_transpose2d", "up1:F.conv_transpose2d"], "fix": "verified"},
    {"input": (1, 3, 33, 32), "works": False, "culprits": ["up1:F.conv_transpose2d"], "fix": "verified"},
]
