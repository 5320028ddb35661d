import pytest
import torch
from matplotlib.figure import Figure

import pvae
from pvae import plots
from pvae.data import digits


def visible(figure):
    return [axes for axes in figure.axes if axes.get_visible() and axes.get_label() !=
            "<colorbar>"]


@pytest.fixture(scope="module")
def vae():
    model = pvae.VAE((64,), 2, encoder={"name": "mlp", "hidden": [16]},
                     decoder={"name": "mlp", "hidden": [16]})
    return model


def test_gaussian_likelihood_marks_the_mle_beside_the_density():
    x = torch.randn(500, dtype=torch.float64) * 2 + 1
    figure = plots.gaussian_likelihood(x)
    surface, density = figure.axes[0], figure.axes[1]
    star = surface.lines[0]
    assert star.get_xdata()[0] == pytest.approx(float(x.mean()))
    assert star.get_ydata()[0] == pytest.approx(float(x.std(unbiased=False)))
    assert surface.get_xlabel() == "μ (loc)" and surface.get_ylabel() == "σ (scale)"
    assert density.get_xlabel() == "x" and "density" in density.get_ylabel()
    with pytest.raises(ValueError, match="at least two"):
        plots.gaussian_likelihood(torch.ones(1))


def test_mixture_density_needs_two_dimensional_data():
    x = torch.randn(200, 2)
    mixture = pvae.GaussianMixture(2)
    pvae.fit(mixture, x, method="em", progress=False)
    figure = plots.mixture_density(mixture.log_likelihood, x, centres=mixture.locs.detach())
    assert isinstance(figure, Figure) and figure.axes[0].get_xlabel() == "x₁"
    with pytest.raises(ValueError, match="2-D data"):
        plots.mixture_density(mixture.log_likelihood, torch.randn(5, 3))


def test_image_grids_have_one_panel_per_image(vae):
    x = digits().test[:6]
    figure = plots.reconstructions(x, vae.reconstruct(x))
    assert len(visible(figure)) == 12
    assert figure.axes[0].get_ylabel() == "input"
    assert len(visible(plots.samples(vae.sample(10), columns=4))) == 10
    path = vae.interpolate(x[0], x[1], steps=5)
    assert path.shape == (5, 64)
    assert torch.allclose(path[0], vae.reconstruct(x[:1])[0])
    assert torch.allclose(path[-1], vae.reconstruct(x[1:2])[0])
    figure = plots.interpolations({"VAE": path, "AE": path})
    assert [figure.axes[i].get_ylabel() for i in (0, 5)] == ["VAE", "AE"]
    with pytest.raises(ValueError, match="square images"):
        plots.samples(torch.rand(4, 10))
    with pytest.raises(ValueError, match="6 inputs but 2"):
        plots.reconstructions(x, x[:2])


def test_latent_space_projects_more_than_two_dimensions():
    labels = torch.arange(100) % 10
    two = plots.latent_space(torch.randn(100, 2), labels)
    assert two.axes[0].get_xlabel() == "z₁"
    many = plots.latent_space(torch.randn(100, 5), labels)
    assert "principal component 1" in many.axes[0].get_xlabel()


def test_the_manifold_decodes_a_grid_with_z2_upwards(vae):
    seen = []

    def decode(z):
        seen.append(z)
        return vae.decode(z)

    figure = plots.latent_manifold(decode, steps=4, span=2.0, x_shape=(64,))
    grid = seen[0]
    assert grid.shape == (16, 2)
    assert grid[0].tolist() == [-2.0, 2.0] and grid[-1].tolist() == [2.0, -2.0]
    assert figure.axes[0].get_ylabel() == "z₂"


def test_training_curves_show_the_elbo_and_both_terms():
    history = {"epoch": [1, 2], "loss": [5.0, 4.0], "validation": [5.5, 4.5],
               "reconstruction": [-3.0, -2.0], "kl": [2.0, 2.0]}
    figure = plots.training_curves(history)
    elbo, reconstruction, kl = figure.axes
    assert list(elbo.lines[0].get_ydata()) == [-5.0, -4.0]  # the ELBO is minus the loss
    assert len(elbo.lines) == 2 and "KL" in kl.get_title()
    assert "reconstruction" in reconstruction.get_title()
    with pytest.raises(ValueError, match="at least one epoch"):
        plots.training_curves({"epoch": []})
