import numpy as np
import pytest
import torch

from pvae.models.covariance import Covariance, covariances


def weighted_data(k=3, n=200, d=4):
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(n, d, generator=generator, dtype=torch.float64) @ torch.randn(
        d, d, generator=generator, dtype=torch.float64)
    resp = torch.softmax(torch.randn(k, n, generator=generator, dtype=torch.float64), 0)
    locs = (resp @ x) / resp.sum(1, keepdim=True)
    return x, resp, locs


def built(name, k, d, like):
    structure = covariances.resolve(name)
    structure.build(k, d, like)
    return structure


@pytest.mark.parametrize("name", covariances.names())
def test_m_step_is_the_weighted_sample_covariance(name):
    x, resp, locs = weighted_data()
    k, d = locs.shape
    structure = built(name, k, d, x)
    deviations = x[None] - locs[:, None]
    structure.m_step(deviations, resp, resp.sum(1), reg_covar=1e-3)
    for component in range(k):
        expected = np.cov(x.numpy(), rowvar=False, aweights=resp[component].numpy(), ddof=0)
        expected = expected + 1e-3 * np.eye(d)
        if name == "diag":
            expected = np.diag(np.diag(expected))
        distribution = structure.component(locs, torch.tensor(component))
        if name == "diag":  # independent Normals: their variances on the diagonal
            got = torch.diag(distribution.variance)
        else:
            got = distribution.covariance_matrix
        np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", covariances.names())
def test_a_component_is_a_gaussian_with_its_mean(name):
    x, _, locs = weighted_data()
    structure = built(name, *locs.shape, x)
    component = structure.component(locs, torch.tensor(1))
    expected = torch.distributions.MultivariateNormal(locs[1], torch.eye(locs.shape[1],
                                                                           dtype=x.dtype))
    torch.testing.assert_close(component.log_prob(x[:5]), expected.log_prob(x[:5]))


def test_free_parameters_for_the_bic():
    full, diag = covariances.factory("full"), covariances.factory("diag")
    assert full.num_parameters(3, 4) == 3 * 10 and diag.num_parameters(3, 4) == 12
    for name in covariances.names():
        structure = built(name, 3, 4, torch.zeros(1))
        free = sum(p.numel() for p in structure.parameters())
        if name == "full":
            free -= 3 * 4 * 3 // 2  # the Cholesky factor's upper triangle is not free
        assert covariances.factory(name).num_parameters(3, 4) == free


@pytest.mark.parametrize("name", covariances.names())
def test_log_density_is_every_component_scored_at_every_row(name):
    x, resp, locs = weighted_data()
    k, d = locs.shape
    structure = built(name, k, d, x)
    structure.m_step(x[None] - locs[:, None], resp, resp.sum(1), reg_covar=1e-3)
    table = structure.log_density(locs, x)
    assert table.shape == (k, x.shape[0])
    for component in range(k):
        single = structure.component(locs, torch.tensor([component]))
        torch.testing.assert_close(table[component], single.log_prob(x[:, None]).squeeze(-1),
                                   rtol=1e-12, atol=1e-12)
    # the base class's own version (what a structure without an override gets) agrees
    torch.testing.assert_close(Covariance.log_density(structure, locs, x), table,
                               rtol=1e-12, atol=1e-12)
