"""U-Net built from nn.ModuleList downs and nn.ModuleDict ups with additive skips, at 20x20.

"ups.level2" already has output_padding=1; "ups.level1" gives 19x19 for 20x20 and the add crashes (CS101).
"""

from torch import nn

INPUT = (1, 2, 20, 20)


class DictUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(2, 4, 3, padding=1)
        self.downs = nn.ModuleList(
            [nn.Conv2d(4, 4, 3, stride=2, padding=1), nn.Conv2d(4, 4, 3, stride=2, padding=1)]
        )  # 20 -> 10 -> 5
        self.ups = nn.ModuleDict(
            {
                "level2": nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=1),  # 5 -> 10
                "level1": nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1),  # 10 -> 19, needs 20
            }
        )
        self.blocks = nn.ModuleDict({"level2": nn.Conv2d(4, 4, 3, padding=1), "level1": nn.Conv2d(4, 1, 1)})
        self.act = nn.ReLU()

    def forward(self, x):
        x = self.act(self.stem(x))
        skips = []
        for down in self.downs:
            skips.append(x)
            x = self.act(down(x))
        for level, skip in zip(("level2", "level1"), reversed(skips)):
            x = self.ups[level](x) + skip
            x = self.blocks[level](self.act(x))
        return x


def build() -> nn.Module:
    return DictUNet()


EXPECTED = [
    {"code": "CS101", "up": "ups.level1", "down": "downs.0", "expected": [20, 20], "actual": [19, 19], "output_padding": [1, 1]},
]

PAIRS = [("downs.1", "ups.level2", "skip"), ("downs.0", "ups.level1", "skip")]
