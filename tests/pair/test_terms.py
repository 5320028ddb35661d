import torch

import pvae
from pvae.data import digits
from pvae.pair.terms import elbo_terms


def test_the_terms_add_up_to_the_elbo_and_the_kl_is_the_closed_form():
    x = digits(torch.float64).train[:600]
    pca = pvae.LinearGaussian(64, 4)
    pvae.fit(pca, x, steps=300, lr=0.05, seed=0, progress=False)
    terms = elbo_terms(pca, x)
    # KL(N(m, s^2) || N(0, 1)) per row, in closed form
    loc = x @ pca.encoder_weight.T + pca.encoder_bias
    scale = pca.posterior_scale
    closed_kl = 0.5 * (scale**2 + loc**2 - 1 - 2 * scale.log()).sum(-1).mean().detach()
    assert abs(terms.kl - closed_kl.item()) < 0.1
    elbo = pvae.elbo(pca, x, num_particles=100).value
    assert abs(terms.elbo - elbo) < 0.2
    assert terms.reconstruction > terms.elbo  # KL >= 0


def test_a_deterministic_guide_has_only_the_prior_penalty():
    x = (digits().train[:100] > 0.5).float()
    autoencoder = pvae.VAE((64,), 2, guide="delta")
    terms = elbo_terms(autoencoder, x)
    z, _ = autoencoder.encode(x)
    prior_log_density = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1).mean()
    assert abs(terms.kl + prior_log_density.item()) < 1e-4
