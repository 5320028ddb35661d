"""benchmarks/peers_models.py: each model is the same model in Pyro, PyMC and for dynesty.

At a few parameter values drawn from the prior, the Pyro trace's log joint, PyMC's and
dynesty's log-likelihood plus log-prior (SciPy) agree; dynesty's prior transform pushes the
unit cube onto that prior (its Jacobian is the prior density's inverse); and the exact log
evidence is what the Pyro joint integrates to (Laplace's formula, exact for a
linear-Gaussian model, given the group scale for the eight schools).
"""

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from pyro import poutine
from scipy import integrate

sys.path.insert(0, str(Path(__file__).parents[2]))  # the benchmarks live beside pvae

from benchmarks import peers_models  # noqa: E402
from benchmarks.peers_models import MODELS, pyro_log_joint  # noqa: E402


def from_the_prior(model, rng, count=3):
    """Parameter vectors drawn through the prior transform, away from the cube's edges."""
    return [model.prior_transform(rng.uniform(0.05, 0.95, model.ndim)) for _ in range(count)]


@pytest.mark.parametrize("name", MODELS)
def test_pyro_and_dynesty_give_the_same_joint_and_the_transform_the_same_prior(name, rng):
    model = MODELS[name]
    for theta in from_the_prior(model, rng):
        reference = model.log_likelihood(theta) + model.log_prior(theta)
        assert pyro_log_joint(model, theta) == pytest.approx(reference, abs=1e-8)
    # the uniform's push-forward: log prior(T(u)) + log |det dT/du| = 0
    step = 1e-6
    for u in rng.uniform(0.1, 0.9, (3, model.ndim)):
        jacobian = np.stack([(model.prior_transform(u + step * e)
                              - model.prior_transform(u - step * e)) / (2 * step)
                             for e in np.eye(model.ndim)], axis=1)
        log_det = np.linalg.slogdet(jacobian)[1]
        assert model.log_prior(model.prior_transform(u)) + log_det == pytest.approx(0, abs=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_pymc_gives_the_same_joint(name, rng):
    pytest.importorskip("pymc")
    built = MODELS[name].pymc()
    log_joint = built.compile_logp(jacobian=False)
    for theta in from_the_prior(MODELS[name], rng):
        point = {}
        for site, value in MODELS[name].unflatten(theta).items():
            variable = built[site]
            transform = built.rvs_to_transforms.get(variable)
            value_name = built.rvs_to_values[variable].name
            point[value_name] = (value if transform is None
                                 else transform.forward(value).eval())
        reference = MODELS[name].log_likelihood(theta) + MODELS[name].log_prior(theta)
        # PyTensor compiles with its own (fast) arithmetic: agreement to 1e-8, not to the ulp
        assert float(log_joint(point)) == pytest.approx(reference, rel=1e-8, abs=1e-8)


def laplace(log_joint, dim):
    """Laplace's log integral of exp(log_joint) over R^dim: one Newton step from 0."""
    start = torch.zeros(dim, dtype=torch.float64)
    hessian = -torch.autograd.functional.hessian(log_joint, start)
    (gradient,) = torch.autograd.grad(log_joint(start.requires_grad_(True)), start)
    mode = torch.linalg.solve(hessian, gradient)
    return float(log_joint(mode) + 0.5 * dim * math.log(2 * math.pi)
                 - 0.5 * torch.linalg.slogdet(hessian)[1])


def joint_of(model, fixed=None):
    """The Pyro log joint as a function of a flat tensor of the sites not in ``fixed``."""
    free = {name: shape for name, shape in model.sites.items() if name not in (fixed or {})}

    def log_joint(flat):
        values, start = dict(fixed or {}), 0
        for name, shape in free.items():
            size = math.prod(shape)
            values[name] = flat[start:start + size].reshape(shape)
            start += size
        conditioned = poutine.condition(model.pyro, data=values)
        return poutine.trace(conditioned).get_trace(model.x).log_prob_sum()

    return log_joint, sum(math.prod(shape) for shape in free.values())


@pytest.mark.parametrize("name", [name for name in MODELS if "schools" not in name])
def test_the_exact_evidence_is_the_integral_of_the_joint(name):
    model = MODELS[name]
    assert laplace(*joint_of(model)) == pytest.approx(model.exact, abs=1e-7)


def test_the_eight_schools_evidence_integrates_the_joint_over_the_means_then_the_scale():
    model = MODELS["eight schools (centred funnel)"]
    for tau in (0.3, 4.0, 40.0):
        scale = torch.tensor(tau, dtype=torch.float64)
        log_joint, dim = joint_of(model, {"tau": scale})
        prior = float(torch.distributions.HalfCauchy(scale.new_tensor(5.0)).log_prob(scale))
        assert laplace(log_joint, dim) - prior == pytest.approx(
            peers_models.eight_schools_marginal(tau), abs=1e-7)
    # the quadrature again, over tau itself rather than the half-Cauchy's quantile
    shift = peers_models.eight_schools_marginal(0.0)
    value, _ = integrate.quad(lambda t: 2 / (math.pi * 5 * (1 + (t / 5) ** 2)) * math.exp(
        peers_models.eight_schools_marginal(t) - shift), 0, math.inf, epsrel=1e-11)
    assert shift + math.log(value) == pytest.approx(model.exact, abs=1e-7)
    assert peers_models.EIGHT_SCHOOLS_QUADRATURE_ERROR < 1e-8
