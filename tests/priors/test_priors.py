import math

import torch

from pvae import VAE
from pvae.priors import MixtureOfGaussians, StandardNormal

SMALL = {"encoder": {"name": "mlp", "hidden": [16]}, "decoder": {"name": "mlp", "hidden": [16]}}


def test_standard_normal_density():
    vae = VAE((8,), 3, prior=StandardNormal(), **SMALL)
    z = torch.randn(5, 3)
    expected = -0.5 * (z**2).sum(-1) - 1.5 * math.log(2 * math.pi)
    torch.testing.assert_close(vae.model.prior().log_prob(z), expected)


def test_mixture_of_gaussians_is_a_logsumexp():
    vae = VAE((8,), 2, prior=MixtureOfGaussians(components=4), **SMALL)
    prior = vae.model.prior
    z = torch.randn(6, 2)
    with torch.no_grad():
        parts = torch.distributions.Normal(prior.locs, prior.scales).log_prob(z[:, None]).sum(-1)
        expected = torch.logsumexp(parts + torch.log_softmax(prior.logits, 0), -1)
        torch.testing.assert_close(prior().log_prob(z), expected)


def test_vamp_prior_is_the_mean_of_the_guides_posteriors():
    vae = VAE((8,), 2, prior={"name": "vamp", "components": 5}, **SMALL)
    prior = vae.model.prior
    z = torch.randn(6, 2)
    with torch.no_grad():
        loc, scale = vae.guide.encode(prior.pseudo_inputs)
        parts = torch.distributions.Normal(loc, scale).log_prob(z[:, None]).sum(-1)
        expected = torch.logsumexp(parts, -1) - math.log(5)
        torch.testing.assert_close(prior().log_prob(z), expected)
    assert prior.pseudo_inputs.shape == (5, 8)
