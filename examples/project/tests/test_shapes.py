from shapes_demo.vae import VAE


def test_vae_restores_28x28(convshape):
    convshape.check(VAE(), input_size=(1, 1, 28, 28))
