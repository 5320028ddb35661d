import arviz as az
import numpy as np
import pytest
import torch

import pvae
from pvae import BayesianGaussian, Gaussian, UnknownNameError
from pvae.likelihoods import StudentT, location_scale_families

SAMPLING = {"num_samples": 300, "warmup": 200, "chains": 2}


def test_posterior_mean_sits_at_the_mle_for_lots_of_data(rng):
    x = torch.as_tensor(rng.normal(2.0, 1.5, size=400))
    tree = pvae.mcmc(BayesianGaussian(), x, seed=0, **SAMPLING)
    posterior = tree.posterior
    mle_loc, mle_scale = Gaussian.closed_form(x)
    # the posterior sd of loc is scale/sqrt(N) ~ 0.075; the mean must be well within it
    assert float(posterior["loc"].mean()) == pytest.approx(float(mle_loc), abs=0.03)
    assert float(posterior["scale"].mean()) == pytest.approx(float(mle_scale), rel=0.03)
    assert float(posterior["loc"].std()) == pytest.approx(float(mle_scale) / 20, rel=0.25)
    summary = az.summary(tree)
    assert (summary["r_hat"].astype(float) < 1.05).all()  # (ArviZ 1.0 gives text)


@pytest.mark.parametrize("truth", ["normal", "student_t"])
def test_az_compare_picks_the_family_the_data_came_from(truth):
    generator = torch.Generator().manual_seed(7)
    n = 150
    if truth == "normal":
        x = torch.randn(n, generator=generator, dtype=torch.float64)
    else:
        x = torch.distributions.StudentT(torch.tensor(2.0, dtype=torch.float64)).sample((n,))
    families = {"normal": "normal", "student_t": {"name": "student_t", "df": 2.0}}
    trees = {
        name: pvae.mcmc(BayesianGaussian(family), x, seed=1, **SAMPLING)
        for name, family in families.items()
    }
    ranking = az.compare(trees)
    assert ranking.index[0] == truth


def test_learned_degrees_of_freedom_is_a_latent_site(rng):
    x = torch.as_tensor(rng.standard_t(3, size=100))
    tree = pvae.mcmc(BayesianGaussian("student_t"), x, num_samples=100, warmup=100, chains=1)
    assert set(tree.posterior.data_vars) == {"loc", "scale", "df"}


def test_family_registry_errors():
    known = ", ".join(location_scale_families.names())
    with pytest.raises(UnknownNameError, match=f"Known observation family names: {known}"):
        BayesianGaussian("cauchy")
    with pytest.raises(UnknownNameError, match="no option 'dof'"):
        BayesianGaussian({"name": "student_t", "dof": 3})
    assert isinstance(location_scale_families.resolve(StudentT(df=4.0)), StudentT)
    with pytest.raises(ValueError, match="df must be positive"):
        StudentT(df=-1.0)
    with pytest.raises(TypeError, match="loc_prior must be a torch distribution"):
        BayesianGaussian(loc_prior=np.zeros(2))
