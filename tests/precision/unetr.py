"""UNETR (Hatamizadeh et al. 2022; MONAI's ``UNETR``) in 2-D, with tiny channel counts.

A ViT encoder (patch embedding ``Conv2d(k16, s16)`` and transformer blocks) feeds a
convolutional decoder through skip features made by chains of ``ConvTranspose2d(k2, s2)``
from intermediate token grids (MONAI's ``UnetrPrUpBlock``: 3, 2 and 1 ups for the 1/2, 1/4
and 1/8 skips) plus a full-resolution conv block on the input. The decoder
(``UnetrUpBlock``) ups by 2 and concatenates at 1/8, 1/4, 1/2 and full resolution. Nothing
mirrors: there is one down (by 16) and ten ups. Works at multiples of 16. At 40 every token
path gives 32 and the last ``torch.cat`` with the full-resolution block (40) raises; fixing
it needs output_padding on several deconvs in parallel branches.
"""

import torch
from torch import nn

KIND = "restoring"


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Linear(dim, dim)

    def forward(self, t):
        return t + self.mlp(self.norm(t))


def conv_block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.InstanceNorm2d(cout), nn.LeakyReLU(0.01))


class PrUpBlock(nn.Module):
    """MONAI UnetrPrUpBlock: a transposed conv, then ``num_layer`` (transposed conv + conv block)."""

    def __init__(self, cin, cout, num_layer):
        super().__init__()
        self.transp_conv_init = nn.ConvTranspose2d(cin, cout, 2, stride=2)
        self.blocks = nn.ModuleList(
            [nn.Sequential(nn.ConvTranspose2d(cout, cout, 2, stride=2), conv_block(cout, cout)) for _ in range(num_layer)]
        )

    def forward(self, x):
        x = self.transp_conv_init(x)
        for blk in self.blocks:
            x = blk(x)
        return x


class UpBlock(nn.Module):
    """MONAI UnetrUpBlock: transposed conv, cat with the skip, conv block."""

    def __init__(self, cin, cout):
        super().__init__()
        self.transp_conv = nn.ConvTranspose2d(cin, cout, 2, stride=2)
        self.conv_block = conv_block(2 * cout, cout)

    def forward(self, x, skip):
        return self.conv_block(torch.cat((self.transp_conv(x), skip), dim=1))


class UNETR2d(nn.Module):
    def __init__(self, hidden=16, f=2) -> None:
        super().__init__()
        self.hidden = hidden
        self.patch_embed = nn.Conv2d(1, hidden, 16, stride=16)
        self.blocks = nn.ModuleList([Block(hidden) for _ in range(4)])
        self.encoder1 = conv_block(1, f)
        self.encoder2 = PrUpBlock(hidden, 2 * f, 2)
        self.encoder3 = PrUpBlock(hidden, 4 * f, 1)
        self.encoder4 = PrUpBlock(hidden, 8 * f, 0)
        self.decoder5 = UpBlock(hidden, 8 * f)
        self.decoder4 = UpBlock(8 * f, 4 * f)
        self.decoder3 = UpBlock(4 * f, 2 * f)
        self.decoder2 = UpBlock(2 * f, f)
        self.out = nn.Conv2d(f, 1, 1)

    def grid(self, t, h, w):
        return t.transpose(1, 2).reshape(t.shape[0], self.hidden, h, w)

    def forward(self, x):
        p = self.patch_embed(x)
        h, w = p.shape[-2:]
        t = p.flatten(2).transpose(1, 2)
        hidden = []
        for blk in self.blocks:
            t = blk(t)
            hidden.append(t)
        enc1 = self.encoder1(x)
        enc2 = self.encoder2(self.grid(hidden[0], h, w))
        enc3 = self.encoder3(self.grid(hidden[1], h, w))
        enc4 = self.encoder4(self.grid(hidden[2], h, w))
        dec4 = self.grid(hidden[3], h, w)
        dec3 = self.decoder5(dec4, enc4)
        dec2 = self.decoder4(dec3, enc3)
        dec1 = self.decoder3(dec2, enc2)
        out = self.decoder2(dec1, enc1)
        return self.out(out)


def build() -> nn.Module:
    return UNETR2d()


CASES = [
    {"input": (1, 1, 64, 64), "works": True},
    {"input": (1, 1, 48, 32), "works": True},
    {"input": (1, 1, 40, 40), "works": False, "culprits": ["decoder2.transp_conv", "patch_embed"], "fix": "any"},
    {"input": (1, 1, 64, 50), "works": False, "culprits": ["decoder2.transp_conv", "patch_embed"], "fix": "any"},
]
