"""The 28x28 autoencoder from the README: one strided Conv2d, one mirrored ConvTranspose2d.

`Conv2d(1, 1, kernel_size=5, stride=2)` takes 28x28 to 12x12; the mirrored
`ConvTranspose2d(1, 1, kernel_size=5, stride=2)` gives back 27x27, not 28x28.

    convshape examples/autoencoder.py:Autoencoder --input 1,1,28,28          # finds it
    convshape examples/autoencoder.py:Autoencoder --input 1,1,28,28 --diff   # shows the fix
    convshape examples/autoencoder.py:Autoencoder --input 1,1,28,28 --fix    # writes it
"""

from torch import nn


class Autoencoder(nn.Module):
    def __init__(self, stride: int = 2):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 1, kernel_size=5, stride=stride),
            nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(1, 1, kernel_size=5, stride=stride),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))
