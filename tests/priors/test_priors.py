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


def test_diagonal_mixture_matches_mixture_same_family():
    from pvae.priors.mixture import DiagonalNormalMixture

    generator = torch.Generator().manual_seed(0)
    logits, locs = torch.randn(7, generator=generator), torch.randn(7, 3, generator=generator)
    scales = torch.rand(7, 3, generator=generator) + 0.2
    fast = DiagonalNormalMixture(logits, locs, scales)
    reference = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(logits=logits),
        torch.distributions.Independent(torch.distributions.Normal(locs, scales), 1))
    z = torch.randn(4, 5, 3, generator=generator)
    torch.testing.assert_close(fast.log_prob(z), reference.log_prob(z), atol=1e-5, rtol=1e-5)
    assert fast.expand((5,)).log_prob(z).shape == (4, 5)
    assert fast.sample((6,)).shape == (6, 3) and fast.mean.shape == (3,)


def test_standard_normal_is_made_once_and_again_after_a_move():
    vae = VAE((8,), 3, **SMALL)
    prior = vae.model.prior
    assert prior() is prior()
    vae.double()
    with torch.inference_mode():  # made again during an evaluation ...
        made = prior()
    assert made.mean.dtype == torch.float64 and not made.mean.is_inference()
    z = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    prior().log_prob(z).sum().backward()  # ... and usable by the training step after it
    torch.testing.assert_close(z.grad, -z.detach())
