import pyro
import pytest
import torch

from pvae.models.cholesky_gaussian import CholeskyGaussian


def factors(k, d, dtype, seed=0):
    generator = torch.Generator().manual_seed(seed)
    a = torch.randn(k, d, d, generator=generator, dtype=dtype)
    scale_tril = torch.linalg.cholesky(a @ a.mT + 0.5 * torch.eye(d, dtype=dtype))
    return torch.randn(k, d, generator=generator, dtype=dtype), scale_tril


def reference(loc, scale_tril):
    return torch.distributions.MultivariateNormal(loc, scale_tril=scale_tril)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_mixture_layout_scores_as_torch_does(dtype):
    k, d, n = 4, 3, 50
    loc, tril = factors(k, d, dtype)
    x = torch.randn(n, d, dtype=dtype) * 3
    index = torch.arange(k).reshape(k, 1)  # the enumerated assignment's layout
    ours = CholeskyGaussian(loc[index], tril[index]).expand((k, n))
    got = ours.log_prob(x)
    assert got.shape == (k, n) and got.dtype == dtype
    tolerance = {"rtol": 1e-5, "atol": 1e-4} if dtype == torch.float32 else {}
    torch.testing.assert_close(got, reference(loc[index], tril[index]).log_prob(x), **tolerance)


@pytest.mark.parametrize("value_shape", [(50, 3), (1, 50, 3), (4, 50, 3), (4, 1, 3)])
def test_the_unexpanded_mixture_layout_broadcasts_its_rows_as_torch_does(value_shape):
    # components (K, 1) against rows that broadcast along the last batch dimension
    k, d = 4, 3
    loc, tril = factors(k, d, torch.float64)
    index = torch.arange(k).reshape(k, 1)
    x = torch.randn(value_shape, dtype=torch.float64) * 3
    got = CholeskyGaussian(loc[index], tril[index]).log_prob(x)
    torch.testing.assert_close(got, reference(loc[index], tril[index]).log_prob(x), rtol=1e-12,
                               atol=1e-12)
    # and the same gradient, with respect to the means and the factors
    ours_loc, ours_tril = loc.clone().requires_grad_(), tril.clone().requires_grad_()
    their_loc, their_tril = loc.clone().requires_grad_(), tril.clone().requires_grad_()
    CholeskyGaussian(ours_loc[index], ours_tril[index]).log_prob(x).sum().backward()
    reference(their_loc[index], their_tril[index]).log_prob(x).sum().backward()
    torch.testing.assert_close(ours_loc.grad, their_loc.grad, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(ours_tril.grad.tril(), their_tril.grad.tril(), rtol=1e-10,
                               atol=1e-10)


@pytest.mark.parametrize("loc_shape, value_shape", [((3,), (3,)), ((5, 3), (5, 3)),
                                                     ((5, 3), (2, 1, 3)), ((3,), (7, 3))])
def test_every_other_layout_falls_back_on_the_same_values(loc_shape, value_shape):
    d = loc_shape[-1]
    _, tril = factors(1, d, torch.float64)
    loc = torch.randn(loc_shape, dtype=torch.float64)
    x = torch.randn(value_shape, dtype=torch.float64)
    ours = CholeskyGaussian(loc, tril[0].expand(*loc_shape[:-1], d, d))
    torch.testing.assert_close(ours.log_prob(x), reference(loc, tril[0]).log_prob(x))


def test_samples_have_the_mean_and_covariance_and_a_gradient():
    loc, tril = factors(2, 2, torch.float64, seed=3)
    loc.requires_grad_(True)
    distribution = CholeskyGaussian(loc, tril)
    torch.manual_seed(0)
    draws = distribution.rsample((40_000,))
    assert draws.shape == (40_000, 2, 2)
    torch.testing.assert_close(draws.mean(0), loc.detach(), atol=0.05, rtol=0)
    centred = draws.detach() - loc.detach()
    covariance = torch.einsum("nki,nkj->kij", centred, centred) / len(draws)
    torch.testing.assert_close(covariance, distribution.covariance_matrix, atol=0.08, rtol=0)
    draws.sum().backward()
    assert torch.equal(loc.grad, torch.full_like(loc, 40_000.0))


def test_moments_and_entropy_agree_with_torch():
    loc, tril = factors(3, 2, torch.float64)
    ours, theirs = CholeskyGaussian(loc, tril), reference(loc, tril)
    for name in ("mean", "variance", "covariance_matrix"):
        torch.testing.assert_close(getattr(ours, name), getattr(theirs, name))
    torch.testing.assert_close(ours.entropy(), theirs.entropy())


def test_bad_shapes_and_bad_expansions_are_refused():
    loc, tril = factors(3, 2, torch.float64)
    with pytest.raises(ValueError, match=r"loc \(\.\.\., D\) and scale_tril \(\.\.\., D, D\)"):
        CholeskyGaussian(loc, tril[..., :1])
    with pytest.raises(ValueError, match="cannot expand batch shape"):
        CholeskyGaussian(loc, tril).expand((4,))


def test_validation_refuses_a_factor_that_is_not_lower_cholesky():
    loc, tril = factors(1, 2, torch.float64)
    with pyro.validation_enabled(True), pytest.raises(ValueError, match="scale_tril"):
        CholeskyGaussian(loc, -tril, validate_args=True)


@pytest.mark.parametrize(("a", "b"), [((0,), (1,)), ((3, 1), (1, 4)), ((2,), (5, 1, 2)),
                                      ((), (3,)), ((4, 3), (4, 3))])
def test_batch_shapes_broadcast_as_torch_broadcasts_them(a, b):
    loc = torch.zeros(*a, 2)
    tril = torch.eye(2).expand(*b, 2, 2)
    ours = CholeskyGaussian(loc, tril, validate_args=False)  # torch checks no empty factor
    assert ours.batch_shape == torch.broadcast_shapes(a, b)
