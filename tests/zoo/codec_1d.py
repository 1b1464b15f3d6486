"""Audio-codec-like 1d model: Conv1d strides 2, 4, 5 (k=2s) and mirrored ConvTranspose1d at length 403.

Each decoder layer misses by its own amount (op 4, 1, 1); the later two are judged on the
virtually fixed input, not on the compounded error (three CS101).
"""

from torch import nn

INPUT = (1, 1, 403)


class Codec1d(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        c = 2
        self.encoder = nn.Sequential(
            nn.Conv1d(1, c, 7, padding=3),
            nn.ELU(),
            nn.Conv1d(c, c, 4, stride=2, padding=1),  # 403 -> 201
            nn.ELU(),
            nn.Conv1d(c, c, 8, stride=4, padding=2),  # 201 -> 50
            nn.ELU(),
            nn.Conv1d(c, c, 10, stride=5, padding=2),  # 50 -> 9
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose1d(c, c, 10, stride=5, padding=2),  # 9 -> 46 (needs 50)
            nn.ELU(),
            nn.ConvTranspose1d(c, c, 8, stride=4, padding=2),  # 50 -> 200 (needs 201)
            nn.ELU(),
            nn.ConvTranspose1d(c, c, 4, stride=2, padding=1),  # 201 -> 402 (needs 403)
            nn.ELU(),
            nn.Conv1d(c, 1, 7, padding=3),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def build() -> nn.Module:
    return Codec1d()


EXPECTED = [
    {"code": "CS101", "up": "decoder.0", "down": "encoder.6", "expected": [50], "actual": [46], "output_padding": [4]},
    {"code": "CS101", "up": "decoder.2", "down": "encoder.4", "expected": [201], "actual": [200], "output_padding": [1]},
    {"code": "CS101", "up": "decoder.4", "down": "encoder.2", "expected": [403], "actual": [402], "output_padding": [1]},
]

PAIRS = [
    ("encoder.6", "decoder.0", "mirror"),
    ("encoder.4", "decoder.2", "mirror"),
    ("encoder.2", "decoder.4", "mirror"),
]
