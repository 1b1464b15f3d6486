"""The same autoencoder with stride 1: neither layer resamples, 28 -> 24 -> 28, nothing to report."""

from torch import nn

INPUT = (1, 1, 28, 28)


class StrideOneAutoencoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(1, 1, kernel_size=5, stride=1)
        self.act = nn.ReLU()
        self.up = nn.ConvTranspose2d(1, 1, kernel_size=5, stride=1)

    def forward(self, x):
        return self.up(self.act(self.down(x)))


def build() -> nn.Module:
    return StrideOneAutoencoder()


EXPECTED = []

PAIRS = []
