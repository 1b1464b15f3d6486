"""Deep Complex U-Net (DCUNet, Choi et al. 2019) for speech enhancement, reduced to two levels.

A complex conv is two real convs applied to the real and imaginary parts:
``re = conv_re(x_re) - conv_im(x_im)``, ``im = conv_re(x_im) + conv_im(x_re)``; a complex
transposed conv likewise with two ``ConvTranspose2d``. The spectrogram comes in as
(N, 2, F, T) with real and imaginary parts in the channels (split by slicing the channel
dim, which is not a crop). Downs are ``Conv2d(k3, s2, p1)``, ups ``ConvTranspose2d(k3, s2,
p1, output_padding=1)``, skips concatenated. Works at multiples of 4. At 30 the deepest
level needs output_padding 0, and on both the real and the imaginary deconv of ``up2``
(fixing one leaves their sum mismatched). Each part is called twice per complex conv, so the
calls are named ``up2.conv_re``, ``up2.conv_re#2``, ``up2.conv_im``, ``up2.conv_im#2``.
"""

import torch
from torch import nn

KIND = "restoring"


class ComplexConv(nn.Module):
    def __init__(self, cin, cout, transposed=False, **kw):
        super().__init__()
        layer = nn.ConvTranspose2d if transposed else nn.Conv2d
        self.conv_re = layer(cin, cout, 3, **kw)
        self.conv_im = layer(cin, cout, 3, **kw)

    def forward(self, re, im):
        return self.conv_re(re) - self.conv_im(im), self.conv_re(im) + self.conv_im(re)


class DCUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down1 = ComplexConv(1, 4, stride=2, padding=1)
        self.down2 = ComplexConv(4, 8, stride=2, padding=1)
        self.up2 = ComplexConv(8, 4, transposed=True, stride=2, padding=1, output_padding=1)
        self.up1 = ComplexConv(8, 1, transposed=True, stride=2, padding=1, output_padding=1)

    def forward(self, x):
        re, im = x[:, :1], x[:, 1:]
        r1, i1 = self.down1(re, im)
        r2, i2 = self.down2(torch.tanh(r1), torch.tanh(i1))
        r, i = self.up2(torch.tanh(r2), torch.tanh(i2))
        r, i = self.up1(torch.cat([r, r1], 1), torch.cat([i, i1], 1))
        mask = torch.tanh(torch.cat([r, i], 1))
        return x * mask


def build() -> nn.Module:
    return DCUNet()


def _calls(block):
    """Each part is called twice (on the real and on the imaginary input): ``conv_re``, ``conv_re#2``."""
    return [f"{block}.{part}{n}" for part in ("conv_re", "conv_im") for n in ("", "#2")]


CASES = [
    {"input": (1, 2, 32, 32), "works": True},
    {"input": (1, 2, 28, 40), "works": True},
    {"input": (1, 2, 30, 32), "works": False, "culprits": _calls("up2"), "fix": "verified"},
    {"input": (1, 2, 31, 32), "works": False, "culprits": _calls("up1"), "fix": "verified"},
]
