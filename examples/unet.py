"""A standard 2D U-Net (about 38M parameters with the defaults) with a size bug at even inputs.

The encoder halves the image with ``Conv2d(kernel_size=3, stride=2, padding=1)`` (or a 2x2
``MaxPool2d``); the decoder doubles it back with ``ConvTranspose2d(kernel_size=3, stride=2,
padding=1)``. Per dimension the transposed layer gives ``(in - 1)*2 - 2*1 + (3 - 1) + output_padding + 1
= 2*in - 1 + output_padding``, so with the default ``output_padding=0`` a 512 image goes
512 -> 256 on the way down but 256 -> 511 on the way up, and ``torch.cat`` with the 512 skip
connection fails ("Sizes of tensors must match except in dimension 1"). Odd sizes such as 511
happen to work; even sizes, the common case, need ``output_padding=1``.

Lint it (exit status 1, the linter names the layer and the fix)::

    convshape examples/unet.py:UNet --input 1,3,512,512

and with the fix applied (exit status 0)::

    convshape examples/unet.py:UNet --input 1,3,512,512 --kwargs '{"output_padding": 1}'

The CLI builds the model on the meta device, so the 38M parameters take no memory.
"""

from __future__ import annotations

import torch
from torch import nn


def double_conv(in_ch: int, out_ch: int) -> nn.Sequential:
    """Two 3x3 convolutions that keep the spatial size (padding=1), each with BatchNorm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_ch, out_ch, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """U-Net with ``depth`` down/up steps; channels ``base, 2*base, ..., base * 2**depth``.

    ``downsample="conv"`` halves with a learned 3x3 stride-2 convolution (the default),
    ``downsample="pool"`` with ``MaxPool2d(2)``. ``output_padding`` is passed to every
    ``ConvTranspose2d``: 1 restores even sizes, 0 restores odd ones (for the strided conv).
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 1,
        base: int = 64,
        depth: int = 4,
        output_padding: int = 0,
        downsample: str = "conv",
    ):
        super().__init__()
        if downsample not in ("conv", "pool"):
            raise ValueError(f"downsample must be 'conv' or 'pool', got {downsample!r}")
        widths = [base * 2**i for i in range(depth + 1)]  # 64, 128, 256, 512, 1024

        self.stem = double_conv(in_channels, widths[0])
        self.downs = nn.ModuleList()  # halve H and W
        self.encoders = nn.ModuleList()  # double the channels at the new size
        for i in range(depth):
            if downsample == "conv":
                self.downs.append(nn.Conv2d(widths[i], widths[i], kernel_size=3, stride=2, padding=1))
            else:
                self.downs.append(nn.MaxPool2d(kernel_size=2))
            self.encoders.append(double_conv(widths[i], widths[i + 1]))

        self.ups = nn.ModuleList()  # double H and W, halve the channels
        self.decoders = nn.ModuleList()  # merge with the skip connection
        for i in reversed(range(depth)):
            self.ups.append(
                nn.ConvTranspose2d(
                    widths[i + 1], widths[i], kernel_size=3, stride=2, padding=1,
                    output_padding=output_padding,  # the bug: 0 gives 2*in - 1, one pixel short
                )
            )
            self.decoders.append(double_conv(2 * widths[i], widths[i]))
        self.head = nn.Conv2d(widths[0], out_channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        skips = []
        for down, encoder in zip(self.downs, self.encoders):
            skips.append(x)  # kept at full resolution for the decoder
            x = encoder(down(x))
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(skips)):
            x = up(x)
            # The skip connection: both tensors must have the same H and W here.
            x = decoder(torch.cat([skip, x], dim=1))
        return self.head(x)


if __name__ == "__main__":
    model = UNet()
    print(f"UNet: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters")
