"""A strided conv with ``padding_mode="reflect"`` and its mirrored deconv, the minimal case.

``nn.Conv2d(padding_mode="reflect")`` pads in its forward (``F.pad(mode="reflect")``) and calls
the conv with padding 0, so a tracer sees a pad and a conv without padding inside one module.
``Conv2d(1, 1, 3, 2, 1, padding_mode="reflect")`` + ``ConvTranspose2d(1, 1, 3, 2, 1,
output_padding=1)`` restores every even size (28 -> 14 -> 28); at odd sizes the deconv gives
n + 1 and output_padding 0 fixes it. (Style-transfer and pix2pix-like generators pad this way.)
"""

from torch import nn

KIND = "restoring"


def build() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 1, 3, 2, 1, padding_mode="reflect"),
        nn.ReLU(),
        nn.ConvTranspose2d(1, 1, 3, 2, 1, output_padding=1),
    )


CASES = [
    {"input": (1, 1, 28, 28), "works": True},
    {"input": (1, 1, 16, 40), "works": True},
    {"input": (1, 1, 27, 27), "works": False, "culprits": ["2"], "fix": "verified"},
    {"input": (1, 1, 28, 27), "works": False, "culprits": ["2"], "fix": "verified"},
]
