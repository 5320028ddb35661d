import pytest
import torch

from pvae.likelihoods import (
    Bernoulli,
    ContinuousBernoulli,
    Gaussian,
    Laplace,
    all_binary,
    likelihoods,
    non_binary_count,
)


def built(likelihood, shape=(4,)):
    likelihood.setup(shape)
    return likelihood


def test_bernoulli_is_binary_cross_entropy():
    logits = torch.randn(3, 4)
    x = torch.bernoulli(torch.full((3, 4), 0.5))
    expected = -torch.nn.functional.binary_cross_entropy_with_logits(
        logits, x, reduction="none").sum(-1)
    torch.testing.assert_close(built(Bernoulli())(logits).log_prob(x), expected)


def test_continuous_bernoulli_is_normalised():
    likelihood = built(ContinuousBernoulli(), (1,))
    grid = torch.linspace(0, 1, 20001)[:, None]
    density = likelihood(torch.full((20001, 1), 1.3)).log_prob(grid).exp()
    assert float(torch.trapezoid(density, grid[:, 0])) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("family", [Gaussian, Laplace])
@pytest.mark.parametrize(("scale", "shape"), [(0.5, ()), ("learned", ()), ("per_dim", (4,))])
def test_scale_modes(family, scale, shape):
    likelihood = built(family(scale=scale))
    assert torch.as_tensor(likelihood.scale).shape == shape
    distribution = likelihood(torch.zeros(2, 4))
    assert distribution.event_shape == (4,) and distribution.batch_shape == (2,)


@pytest.mark.parametrize("name", likelihoods.names())
def test_every_registered_likelihood_scores_its_mean(name):
    likelihood = built(likelihoods.resolve(name))
    decoded = torch.zeros(3, 4)
    distribution = likelihood(decoded)
    mean = likelihood.mean(decoded)
    assert distribution.event_shape == (4,) and distribution.batch_shape == (3,)
    assert likelihood.support_error(mean.round()) is None  # binary data suits them all
    assert torch.isfinite(distribution.log_prob(mean.round())).all()


def test_a_bad_scale_is_refused():
    with pytest.raises(ValueError, match="scale must be a positive number or one of"):
        Gaussian(scale="big")


@pytest.mark.parametrize(("likelihood", "reference"), [(Gaussian, torch.distributions.Normal),
                                                        (Laplace, torch.distributions.Laplace)])
def test_real_likelihoods_are_their_location_scale_family(likelihood, reference):
    scored = built(likelihood(scale=0.7))
    x, decoded = torch.randn(5, 4), torch.randn(5, 4)
    expected = reference(decoded, torch.full_like(decoded, 0.7)).log_prob(x).sum(-1)
    torch.testing.assert_close(scored(decoded).log_prob(x), expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_binary_check_counts_exactly_the_values_that_are_neither_0_nor_1(dtype):
    info = torch.finfo(dtype)
    binary = torch.tensor([0.0, 1.0, -0.0], dtype=dtype)
    other = torch.tensor([info.tiny, info.tiny / 4, 1 - info.eps / 2, 1 + info.eps, 0.5, 2.0,
                          -1.0, info.max, float("nan"), float("inf"), -float("inf")],
                         dtype=dtype)
    assert int(non_binary_count(binary)) == 0
    assert int(non_binary_count(torch.cat([binary, other]))) == len(other)
    assert all_binary(binary) and not all_binary(torch.cat([binary, other]))
    for value in other:  # and each one alone, so none hides behind another
        assert int(non_binary_count(torch.cat([binary, value[None]]))) == 1
        assert not all_binary(torch.cat([binary, value[None]]))
    many = torch.cat([torch.ones(10_000, dtype=dtype), other[:1]])  # (its sum: one tiny term)
    assert not all_binary(many) and all_binary(many[:-1])
