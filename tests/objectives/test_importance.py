"""The iwae objective is the per-datapoint IWAE-k bound under any minibatch scale; DReG and
STL are unbiased for its gradient, checked where it is known in closed form."""

import math

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.infer import RenyiELBO

import pvae
from pvae.data import binarize, digits
from pvae.objectives import objectives
from pvae.objectives.importance import ImportanceWeightedELBO, ObjectiveError

from .pyro_pairs import X, normal_guide, normal_model

pytestmark = pytest.mark.usefixtures("float64")


def linear_gaussian(seed=0, exact=False):
    """Probabilistic PCA with orthogonal columns of W, so that q can be the exact posterior."""
    generator = torch.Generator().manual_seed(seed)
    pca = pvae.LinearGaussian(dim=4, z_dim=2).double()
    x = torch.randn(40, 4, generator=generator)
    columns, _ = torch.linalg.qr(torch.randn(4, 2, generator=generator))
    weight = columns * torch.tensor([1.5, 0.7])
    with torch.no_grad():
        pca.weight.copy_(weight)
        pca.bias.copy_(torch.tensor([0.1, -0.2, 0.3, 0.0]))
        noise = torch.tensor(0.6)
        pca.noise_unconstrained.copy_(noise.log())
        m = weight.T @ weight + noise**2 * torch.eye(2)
        encoder = torch.linalg.solve(m, weight.T)
        if not exact:  # a guide some way off the posterior
            encoder = 0.7 * encoder + 0.1
        pca.encoder_weight.copy_(encoder)
        pca.encoder_bias.copy_(-encoder @ pca.bias)
        scale = noise * torch.diagonal(torch.linalg.inv(m)).sqrt()
        pca.posterior_scale_unconstrained.copy_((scale * (1.0 if exact else 1.3)).log())
    return pca, x


def traced(objective):
    """Keep the traces the objective scores (to write its bound out by hand)."""
    kept = []
    get = objective._get_trace

    def keep(*args):
        kept.append(get(*args))
        return kept[-1]

    objective._get_trace = keep
    return kept


def test_the_loss_is_the_bound_written_out_under_a_minibatch_and_a_kl_weight():
    pca, x = linear_gaussian()
    pca.kl_weight = 0.3
    batch, n, k = x[:8], 80, 7  # N / B = 10
    objective = objectives.resolve({"name": "iwae", "k": k})
    kept = traced(objective)
    loss = objective.loss(pca.model, pca.guide, batch, num_data=n)
    model_trace, _ = kept[-1]
    z = model_trace.nodes["z"]["value"]  # (k, B, 2)
    with torch.no_grad():
        loc, scale = pca.encode(batch)
        mean = z @ pca.weight.T + pca.bias
        log_lik = dist.Normal(mean, pca.noise).log_prob(batch).sum(-1)
        log_prior = dist.Normal(0.0, 1.0).log_prob(z).sum(-1)
        log_q = dist.Normal(loc, scale).log_prob(z).sum(-1)
        log_w = log_lik + 0.3 * (log_prior - log_q)
        bound = torch.logsumexp(log_w, 0) - math.log(k)
    assert z.shape == (k, 8, 2)
    assert loss == pytest.approx(-(n / 8) * bound.sum().item(), rel=1e-12)


def test_divided_by_n_it_estimates_pvaes_iwae_where_renyi_elbo_does_not():
    torch.set_default_dtype(torch.float32)
    x = binarize(digits().train[:500])
    vae = pvae.VAE((64,), 4, encoder={"name": "mlp", "hidden": [32]},
                   decoder={"name": "mlp", "hidden": [32]})
    pvae.fit(vae, x, epochs=20, batch_size=100, lr=1e-2, seed=0, progress=False)
    k, batch = 50, 50  # N / B = 10
    reference = pvae.iwae(vae, x, k=k).per_datapoint.double()
    ours = ImportanceWeightedELBO(k, max_plate_nesting=1)
    renyi = RenyiELBO(alpha=0.0, num_particles=k, vectorize_particles=True, max_plate_nesting=1)
    for objective, agrees in ((ours, True), (renyi, False)):
        with torch.no_grad():  # each batch's sum of per-datapoint bounds, paired with pvae.iwae's
            gaps = torch.tensor([
                -objective.loss(vae.model, vae.guide, x[i:i + batch], num_data=len(x))
                * batch / len(x) - reference[i:i + batch].sum() for i in range(0, len(x), batch)])
        mean, error = gaps.mean() / batch, gaps.std() / math.sqrt(len(gaps)) / batch
        assert bool(abs(mean) < 5 * error) is agrees, (type(objective).__name__, mean, error)
    # RenyiELBO(alpha=0) reads above the bound it names: what objective='iwae' trained before
    assert mean > 0.5


def gradients(objective, pair, x, seed, **kwargs):
    pyro.set_rng_seed(seed)
    for p in pair.parameters():
        p.grad = None
    objective.loss_and_grads(pair.model, pair.guide, x, **kwargs)
    return {name: p.grad.clone() for name, p in pair.named_parameters()}


MODEL = ("weight_unconstrained", "bias_unconstrained", "noise_unconstrained")
GUIDE = ("encoder_weight_unconstrained", "encoder_bias_unconstrained",
         "posterior_scale_unconstrained")


def test_dreg_gives_the_model_the_iwae_gradient_exactly():
    pca, x = linear_gaussian()
    dreg, plain = ImportanceWeightedELBO(10), ImportanceWeightedELBO(10, gradient="plain")
    for seed in range(3):
        ours = gradients(dreg, pca, x, seed, num_data=400)
        theirs = gradients(plain, pca, x, seed, num_data=400)
        for name in MODEL:
            torch.testing.assert_close(ours[name], theirs[name], rtol=1e-10, atol=1e-10)
        assert not torch.allclose(ours[GUIDE[0]], theirs[GUIDE[0]])


@pytest.mark.parametrize("k", [1, 10])
def test_at_the_exact_posterior_the_dreg_guide_gradient_is_zero_and_plains_is_not(k):
    pca, x = linear_gaussian(exact=True)
    exact = pca.log_likelihood(x)
    bound = -ImportanceWeightedELBO(k).loss(pca.model, pca.guide, x)
    assert bound == pytest.approx(exact.sum().item(), rel=1e-10)  # every weight is p(x)
    ours = gradients(ImportanceWeightedELBO(k), pca, x, 0)
    theirs = gradients(ImportanceWeightedELBO(k, gradient="plain")
                       if k > 1 else objectives.resolve("elbo"), pca, x, 0)
    for name in GUIDE:
        torch.testing.assert_close(ours[name], torch.zeros_like(ours[name]), atol=1e-9, rtol=0)
    assert max(theirs[name].abs().max() for name in GUIDE) > 1e-2


def closed_form_elbo(pca, x):
    """E_q[log p(x | z)] - KL(q || p) for the linear-Gaussian model, differentiable."""
    loc, scale = pca.encode(x)
    mean = loc @ pca.weight.T + pca.bias
    spread = (pca.weight**2 @ (scale[0] ** 2)).sum()
    reconstruction = (dist.Normal(mean, pca.noise).log_prob(x).sum()
                      - len(x) * spread / (2 * pca.noise**2))
    kl = 0.5 * (scale**2 + loc**2 - 1 - 2 * scale.log()).sum()
    return reconstruction - kl


@pytest.mark.parametrize("spec", [{"name": "elbo", "gradient": "stl"},
                                  {"name": "iwae", "k": 1}], ids=["stl", "dreg-k1"])
def test_sticking_the_landing_is_unbiased_for_the_closed_form_elbo_gradient(spec):
    pca, x = linear_gaussian()
    pca.zero_grad()
    (-closed_form_elbo(pca, x)).backward()
    exact = {name: p.grad.clone() for name, p in pca.named_parameters()}
    draws = [gradients(objectives.resolve(spec), pca, x, seed) for seed in range(400)]
    for name in MODEL + GUIDE:
        stack = torch.stack([draw[name] for draw in draws])
        error = stack.std(0) / math.sqrt(len(draws))
        assert ((stack.mean(0) - exact[name]).abs() <= 5 * error + 1e-8).all(), name


def test_dreg_is_unbiased_for_the_iwae_gradient_and_varies_less():
    pca, x = linear_gaussian()
    k, m = 10, 300
    dreg = [gradients(ImportanceWeightedELBO(k), pca, x, s) for s in range(m)]
    plain = [gradients(ImportanceWeightedELBO(k, gradient="plain"), pca, x, s + m)
             for s in range(m)]
    for name in GUIDE:
        ours, theirs = (torch.stack([d[name] for d in draws]) for draws in (dreg, plain))
        error = (ours.var(0) / m + theirs.var(0) / m).sqrt()
        assert ((ours.mean(0) - theirs.mean(0)).abs() <= 5 * error + 1e-8).all(), name
        assert ours.var(0).sum() < theirs.var(0).sum(), name


def test_a_kl_warmup_trains_the_importance_weighted_objective():
    torch.set_default_dtype(torch.float32)
    x = binarize(digits().train[:200])
    vae = pvae.VAE((64,), 3, objective={"name": "iwae", "k": 5},
                   encoder={"name": "mlp", "hidden": [16]}, decoder={"name": "mlp", "hidden": [16]})
    result = pvae.fit(vae, x, epochs=4, batch_size=50, kl_warmup=8, lr=1e-2, seed=0,
                      progress=False)
    assert len(result.losses) == 16 and all(math.isfinite(v) for v in result.losses)


def coin_guide_model(x):
    with pyro.plate("data", len(x)):
        coin = pyro.sample("coin", dist.Bernoulli(0.5))
        pyro.sample("x", dist.Normal(coin, 1.0), obs=x)


def coin_guide(x):
    with pyro.plate("data", len(x)):
        pyro.sample("coin", dist.Bernoulli(torch.full((len(x),), 0.4)))


def two_site_model(x):
    with pyro.plate("data", len(x)):
        a = pyro.sample("a", dist.Normal(0.0, 1.0))
        b = pyro.sample("b", dist.Normal(a, 1.0))
        pyro.sample("x", dist.Normal(b, 1.0), obs=x)


def two_site_guide(x):
    with pyro.plate("data", len(x)):
        pyro.sample("a", dist.Normal(torch.zeros(len(x)), 1.0))
        pyro.sample("b", dist.Normal(torch.zeros(len(x)), 1.0))


def unequal_weight_guide(x):
    with pyro.plate("data", len(x)), pyro.poutine.scale(scale=0.5):
        pyro.sample("a", dist.Normal(torch.zeros(len(x)), 1.0))
        pyro.sample("b", dist.Normal(torch.zeros(len(x)), 1.0))


@pytest.mark.parametrize(("spec", "model", "guide", "match"), [
    ({"name": "iwae", "k": 0}, None, None, "k must be a positive integer"),
    ({"name": "iwae", "k": 10**9}, None, None, "at most 100000"),
    ({"name": "iwae", "gradient": "stl"}, None, None, "takes gradient 'dreg' or 'plain'"),
    ({"name": "elbo", "gradient": "dreg"}, None, None, "'plain' or 'stl'"),
    ({"name": "elbo", "jit": "no"}, None, None, "jit must be True or False"),
    ({"name": "iwae"}, normal_model, normal_guide, "global latent"),
    ({"name": "iwae"}, coin_guide_model, coin_guide, "not reparameterised"),
    ({"name": "iwae"}, two_site_model, two_site_guide, "one latent site"),
    ({"name": "elbo", "gradient": "stl"}, two_site_model, two_site_guide, "one latent site"),
    ({"name": "iwae", "gradient": "plain"}, two_site_model, unequal_weight_guide,
     "a KL weight scales both alike"),
], ids=["k0", "k-absurd", "iwae-stl", "elbo-dreg", "jit-string", "global-latent",
        "score-function", "dreg-two-sites", "stl-two-sites", "kl-weight-mismatch"])
def test_what_it_cannot_do_is_one_clear_error(spec, model, guide, match):
    with pytest.raises((ValueError, TypeError), match=match):
        objective = objectives.resolve(spec)
        objective.loss(model, guide, X)
    if model is not None:
        assert issubclass(ObjectiveError, ValueError)
