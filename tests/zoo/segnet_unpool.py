"""SegNet-style MaxPool2d(return_indices=True) / MaxUnpool2d at odd size 15x15.

unpool2 passes output_size (clean); unpool1 does not and gives 14x14 for 15x15 (CS103).
"""

import torch
from torch import nn

INPUT = (1, 1, 15, 15)


class SegNetLite(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 2, 3, padding=1)
        self.pool1 = nn.MaxPool2d(2, stride=2, return_indices=True)  # 15 -> 7
        self.conv2 = nn.Conv2d(2, 2, 3, padding=1)
        self.pool2 = nn.MaxPool2d(2, stride=2, return_indices=True)  # 7 -> 3
        self.unpool2 = nn.MaxUnpool2d(2, stride=2)
        self.conv3 = nn.Conv2d(2, 2, 3, padding=1)
        self.unpool1 = nn.MaxUnpool2d(2, stride=2)
        self.conv4 = nn.Conv2d(2, 1, 3, padding=1)

    def forward(self, x):
        x0 = self.conv1(x)
        y, i1 = self.pool1(x0)
        x1 = self.conv2(y)
        y, i2 = self.pool2(x1)
        y = self.unpool2(y, i2, output_size=x1.shape[-2:])  # 3 -> 7
        y = self.conv3(y)
        y = self.unpool1(y, i1)  # 7 -> 14, needs 15
        return self.conv4(y)


def build() -> nn.Module:
    return SegNetLite()


def example_input() -> torch.Tensor:
    # Eager MaxUnpool2d checks index values: with random data some max of the 15x15 map sits in
    # row 13 and its index (>= 196) does not fit the 14x14 output, so eager raises before the
    # shape can be seen. A constant input puts every max at its window's top-left corner.
    return torch.zeros(INPUT)


EXPECTED = [
    {"code": "CS103", "up": "unpool1", "down": "pool1", "expected": [15, 15], "actual": [14, 14], "output_padding": None},
]

PAIRS = [("pool2", "unpool2", "mirror"), ("pool1", "unpool1", "mirror")]
