import pytest
import torch

import pvae
from pvae.data import digits
from pvae.plots import checkpoint_figures, draws_images
from pvae.train.result import History


def test_a_two_dimensional_vae_gets_every_figure():
    vae = pvae.VAE((64,), 2, likelihood="continuous_bernoulli",
                   encoder={"name": "mlp", "hidden": [8]}, decoder={"name": "mlp", "hidden": [8]})
    data = digits()
    history = History(epoch=[1, 2], loss=[40.0, 35.0], kl=[1.0, 2.0], reconstruction=[-39, -33])
    figures = checkpoint_figures(vae, data.test[:40], data.test_labels[:40], history,
                                 compare={"twin": vae})
    assert set(figures) == {"training_curves", "reconstructions", "samples", "latent_space",
                            "latent_manifold", "interpolation"}
    assert len(figures["interpolation"].axes) == 2 * 8  # this model's row and the twin's


def test_a_model_without_images_gets_its_curves_only():
    gaussian = pvae.Gaussian()
    assert not draws_images(gaussian)
    figures = checkpoint_figures(gaussian, torch.randn(10), torch.zeros(10), History(epoch=[1]))
    assert set(figures) == {"training_curves"}
    assert checkpoint_figures(gaussian, torch.randn(10), torch.zeros(10)) == {}


def test_one_label_is_enough_to_interpolate():
    vae = pvae.VAE((64,), 3, encoder={"name": "mlp", "hidden": [8]},
                   decoder={"name": "mlp", "hidden": [8]})
    figures = checkpoint_figures(vae, digits().test[:5].round(), torch.zeros(5))
    assert "interpolation" in figures and "latent_manifold" not in figures


def test_training_curves_need_an_epoch():
    with pytest.raises(ValueError, match="at least one epoch"):
        pvae.plots.training_curves(History())
