"""A 3D U-Net for volumes (CT/MRI patches such as 128x128x128), with the same even-size bug as unet.py.

Each encoder step halves depth, height and width with ``Conv3d(kernel_size=3, stride=2,
padding=1)``; each decoder step doubles them with ``ConvTranspose3d(kernel_size=3, stride=2,
padding=1)``, which gives ``2*in - 1 + output_padding`` per dimension. With the default
``output_padding=0`` a 128^3 volume goes 128 -> 64 down but 64 -> 127 up, and ``torch.cat`` with
the 128^3 skip connection fails. ``output_padding=1`` fixes every even size.

Lint it (exit status 1)::

    convshape examples/unet3d.py:UNet3D --input 1,1,128,128,128

and with the fix (exit status 0)::

    convshape examples/unet3d.py:UNet3D --input 1,1,128,128,128 --kwargs '{"output_padding": 1}'

An eager CPU forward pass at 128^3 takes over ten seconds on two cores and more than 1 GB of
memory; the linter traces the same pass on the meta device, where no activation is allocated.
"""

from __future__ import annotations

import torch
from torch import nn


def double_conv3d(in_ch: int, out_ch: int) -> nn.Sequential:
    """Two 3x3x3 convolutions that keep the size (padding=1), each with InstanceNorm and LeakyReLU."""
    return nn.Sequential(
        nn.Conv3d(in_ch, out_ch, kernel_size=3, padding=1),
        nn.InstanceNorm3d(out_ch, affine=True),
        nn.LeakyReLU(0.01, inplace=True),
        nn.Conv3d(out_ch, out_ch, kernel_size=3, padding=1),
        nn.InstanceNorm3d(out_ch, affine=True),
        nn.LeakyReLU(0.01, inplace=True),
    )


class UNet3D(nn.Module):
    """3D U-Net with ``depth`` down/up steps; channels ``base, 2*base, ..., base * 2**depth``."""

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        base: int = 16,
        depth: int = 4,
        output_padding: int = 0,
    ):
        super().__init__()
        widths = [base * 2**i for i in range(depth + 1)]  # 16, 32, 64, 128, 256

        self.stem = double_conv3d(in_channels, widths[0])
        self.encoder = nn.ModuleList()
        for i in range(depth):
            self.encoder.append(
                nn.Sequential(
                    # strided conv: floor((in + 2 - 2 - 1) / 2) + 1, i.e. 128 -> 64 and 127 -> 64
                    nn.Conv3d(widths[i], widths[i + 1], kernel_size=3, stride=2, padding=1),
                    double_conv3d(widths[i + 1], widths[i + 1]),
                )
            )

        self.up = nn.ModuleList()
        self.decoder = nn.ModuleList()
        for i in reversed(range(depth)):
            # (in - 1)*2 - 2 + 2 + output_padding + 1 = 2*in - 1 + output_padding
            self.up.append(
                nn.ConvTranspose3d(widths[i + 1], widths[i], kernel_size=3, stride=2, padding=1,
                                   output_padding=output_padding)
            )
            self.decoder.append(double_conv3d(2 * widths[i], widths[i]))
        self.head = nn.Conv3d(widths[0], out_channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        skips = []
        for step in self.encoder:
            skips.append(x)
            x = step(x)
        for up, decoder, skip in zip(self.up, self.decoder, reversed(skips)):
            x = torch.cat([skip, up(x)], dim=1)  # skip connection: sizes must match exactly
            x = decoder(x)
        return self.head(x)


if __name__ == "__main__":
    model = UNet3D()
    print(f"UNet3D: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters")
