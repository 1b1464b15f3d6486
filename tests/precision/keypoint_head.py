"""SimpleBaseline pose estimation (Xiao et al. 2018): a stride-32 backbone and three deconvs.

The head is three ``ConvTranspose2d(k4, s2, p1)`` after a backbone of five ``Conv2d(k3, s2,
p1)``, so the heatmaps come out at 1/4 of the input by design (64 -> 2 -> 16). Mirror order
pairs the three deconvs with the last three backbone convs, and at 70 (35, 18, 9, 5, 3 ->
6, 12, 24) those pairs do not round-trip, but nothing is wrong: the model runs, and its
output is meant to be a fraction of the input. No error at any size.
"""

from torch import nn

KIND = "fraction"


def _down(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


def _up(cin, cout):
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class SimpleBaseline(nn.Module):
    def __init__(self, joints=3) -> None:
        super().__init__()
        self.backbone = nn.Sequential(_down(1, 4), _down(4, 8), _down(8, 8), _down(8, 16), _down(16, 16))
        self.deconv_layers = nn.Sequential(_up(16, 8), _up(8, 8), _up(8, 8))
        self.final_layer = nn.Conv2d(8, joints, 1)

    def forward(self, x):
        return self.final_layer(self.deconv_layers(self.backbone(x)))


def build() -> nn.Module:
    return SimpleBaseline()


CASES = [
    {"input": (1, 1, 64, 64), "works": True},
    {"input": (1, 1, 70, 70), "works": True},
    {"input": (1, 1, 64, 48), "works": True},
    {"input": (1, 1, 61, 83), "works": True},
]
