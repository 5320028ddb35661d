"""Model/guide pairs nobody shaped for pvae, after the kinds that Pyro's own tests exercise.

Written from the classes of programs in Pyro's ``tests/infer/test_valid_models.py``,
``test_gradient.py`` and the conjugate models of ``test_inference.py``: every effect handler
a model may use, plates of every kind, autoguides and ``GuideMessenger`` guides, factors,
deterministic sites, masked observations, ``PyroModule`` priors, score-function parts, and
programs whose structure or data change from call to call.

Each :class:`Case` is a model, a guide and the arguments of successive calls, with the path
the lean ELBO should take: ``"lean"`` (every call of a structure already checked is lean),
``"eager"`` (it says why once and stays on ``Trace_ELBO``) or ``"either"`` (the calls'
structures change, and what matters is that each call equals ``Trace_ELBO``'s).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyro
import pyro.distributions as dist
import torch
from pyro import poutine
from pyro.distributions.testing.rejection_gamma import ShapeAugmentedGamma
from pyro.infer import autoguide
from pyro.infer.reparam import LocScaleReparam
from pyro.nn import PyroModule, PyroParam, PyroSample
from torch.distributions import constraints


@dataclass
class Case:
    name: str
    model: Callable[..., Any]
    guide: Callable[..., Any]
    calls: list[tuple[Any, ...]]
    path: str = "lean"
    options: dict[str, Any] | None = None


def data(n: int, seed: int = 0, low: float = -2.0, high: float = 2.0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(n, generator=generator, dtype=torch.float64)


X = data(10)
CALLS = [(X,)] * 4


def positive(name: str, init: float = 1.0) -> torch.Tensor:
    return pyro.param(name, lambda: torch.tensor(init), constraint=constraints.positive)


def real(name: str, init: Any = 0.0) -> torch.Tensor:
    return pyro.param(name, lambda: torch.as_tensor(init, dtype=torch.float64).clone())


# --- a global mean, known noise: the conjugate Normal-Normal model -------------------------
def normal_model(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 3.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x)


def normal_guide(x):
    pyro.sample("mu", dist.Normal(real("mu_loc"), positive("mu_scale")))


# --- one latent per row, a guide with one q per row ---------------------------------------
def local_model(x):
    with pyro.plate("data", len(x)):
        z = pyro.sample("z", dist.Normal(0.0, 1.0))
        pyro.sample("x", dist.Normal(z, 0.5), obs=x)


def local_guide(x):
    with pyro.plate("data", len(x)):
        pyro.sample("z", dist.Normal(real("z_loc", torch.zeros(10))[: len(x)],
                                     positive("z_scale", 0.7)))


# --- random subsampling, in both programs or in the model only ----------------------------
def subsampled_model(x):
    with pyro.plate("data", len(x), subsample_size=3) as rows:
        z = pyro.sample("z", dist.Normal(0.0, 1.0))
        pyro.sample("x", dist.Normal(z, 0.5), obs=x[rows])


def subsampled_guide(x):
    with pyro.plate("data", len(x), subsample_size=3) as rows:
        pyro.sample("z", dist.Normal(real("sub_loc", torch.linspace(-1, 1, 10))[rows],
                                     positive("sub_scale", 0.7)))


def subsampled_global_model(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 3.0))
    with pyro.plate("data", len(x), subsample_size=4):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=pyro.subsample(x, event_dim=0))


def sequential_model(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 3.0))
    for i in pyro.plate("rows", len(x), subsample_size=3):
        z = pyro.sample(f"z_{i}", dist.Normal(mu, 1.0))
        pyro.sample(f"x_{i}", dist.Normal(z, 0.5), obs=x[i])


def sequential_guide(x):
    normal_guide(x)
    for i in pyro.plate("rows", len(x), subsample_size=3):
        pyro.sample(f"z_{i}", dist.Normal(real(f"seq_loc_{i}"), positive("seq_scale")))


# --- nested plates, a plate stack, masks, scales --------------------------------------------
def nested_model(x):
    grid = x.reshape(5, 2)
    with pyro.plate("rows", 5, dim=-2):
        z = pyro.sample("z", dist.Normal(torch.zeros(5, 1), 1.0))
        with pyro.plate("cols", 2, dim=-1):
            pyro.sample("x", dist.Normal(z, 0.5), obs=grid)


def nested_guide(x):
    with pyro.plate("rows", 5, dim=-2):
        pyro.sample("z", dist.Normal(real("grid_loc", torch.zeros(5, 1)), positive("grid_scale")))


MASK = torch.tensor([True, False] * 5)
WEIGHTS = torch.linspace(0.5, 2.0, 10, dtype=torch.float64)


def handled_model(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 3.0))
    with pyro.plate("data", len(x)):
        with poutine.scale(scale=0.3):
            z = pyro.sample("z", dist.Normal(mu, 1.0))
        with poutine.mask(mask=MASK), poutine.scale(scale=WEIGHTS):
            pyro.sample("x", dist.Normal(z, 0.5), obs=x)
        with poutine.mask(mask=False):
            pyro.sample("ignored", dist.Normal(z, 0.5), obs=x)


def handled_guide(x):
    normal_guide(x)
    with pyro.plate("data", len(x)), poutine.scale(scale=0.3):
        pyro.sample("z", dist.Normal(real("h_loc", torch.zeros(10)), positive("h_scale")))


def masked_observation_model(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 3.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x, obs_mask=MASK)


def masked_observation_guide(x):
    normal_guide(x)
    with pyro.plate("data", len(x)), poutine.mask(mask=~MASK):
        pyro.sample("x_unobserved", dist.Normal(real("miss_loc", torch.zeros(10)), 1.0))


# --- effect handlers inside the model -------------------------------------------------------
def blocked_model(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 3.0))
    with poutine.block(hide=["noise"]):
        noise = pyro.sample("noise", dist.Normal(0.0, 0.1))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu + noise, 1.0), obs=x)


def _scaled_model(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 3.0))
    sigma = pyro.sample("sigma", dist.LogNormal(0.0, 1.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, sigma), obs=x)


conditioned_model = poutine.condition(_scaled_model, data={"sigma": torch.tensor(0.8)})


def markov_model(x):
    z = torch.tensor(0.0)
    for t in pyro.markov(range(4)):
        z = pyro.sample(f"z_{t}", dist.Normal(z, 1.0))
        pyro.sample(f"x_{t}", dist.Normal(z, 0.5), obs=x[t])


reparam_model = poutine.reparam(_scaled_model, config={"mu": LocScaleReparam(0.0)})


def factor_model(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 3.0))
    pyro.factor("penalty", -0.5 * mu**2)
    pyro.deterministic("twice", 2 * mu)
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x)


class Tempered(dist.Normal):
    """A Normal whose log-density takes a temperature, passed as a sample site's argument."""

    def log_prob(self, value, temperature=1.0):
        return super().log_prob(value) / temperature


def argument_model(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 3.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", Tempered(mu, 1.0), 2.0, obs=x)


# --- PyroModule priors and parameters ---------------------------------------------------------
class Regression(PyroModule):
    def __init__(self):
        super().__init__()
        self.weight = PyroSample(dist.Normal(0.0, 1.0).expand([2]).to_event(1))
        self.noise = PyroParam(torch.tensor(0.5), constraint=constraints.positive)

    def forward(self, x):
        inputs, weight = torch.stack([x, x**2], -1), self.weight
        with pyro.plate("data", len(x)):
            pyro.sample("y", dist.Normal(inputs @ weight, self.noise), obs=torch.sin(x))


# --- the model with constrained latents that every autoguide is tried on --------------------
def hierarchical_model(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 3.0))
    spread = pyro.sample("spread", dist.Gamma(2.0, 2.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, spread), obs=x)


def dependent_guide(x):
    mu = pyro.sample("mu", dist.Normal(real("dep_loc"), positive("dep_scale")))
    pyro.sample("spread", dist.LogNormal(0.1 * mu, positive("dep_spread")))


# --- programs with no latent, or no site at all -------------------------------------------
def observed_only_model(x):
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(real("mle_loc"), positive("mle_scale")), obs=x)


def empty(*args):
    pass


def empty_with_param(*args):
    real("lonely")


LEAF = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)


def leaf_model(x):
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(LEAF, 1.0), obs=x)


# --- pairs the lean path refuses --------------------------------------------------------
def coin_model(x):
    p = pyro.sample("p", dist.Beta(2.0, 2.0))
    coin = pyro.sample("coin", dist.Bernoulli(p))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(coin, 1.0), obs=x)


def coin_guide(x):
    pyro.sample("p", dist.Beta(positive("beta_a", 2.0), positive("beta_b", 2.0)))
    pyro.sample("coin", dist.Bernoulli(pyro.param("coin_p", torch.tensor(0.4),
                                                  constraint=constraints.unit_interval)))


def factor_guide(x):
    normal_guide(x)
    pyro.factor("guide_penalty", -0.1 * real("mu_loc") ** 2, has_rsample=False)


def observing_guide(x):
    normal_guide(x)
    pyro.sample("seen", dist.Normal(real("mu_loc"), 1.0), obs=torch.tensor(0.2))


def gamma_model(x):
    rate = pyro.sample("rate", dist.Gamma(3.0, 1.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Exponential(rate), obs=x)


def rejection_guide(x):
    pyro.sample("rate", ShapeAugmentedGamma(positive("shape", 3.0), positive("rate_r", 1.0)))


enumerated_guide = pyro.infer.config_enumerate(coin_guide, "parallel")


def no_latent_guide(x):
    pass


# --- programs whose structure or data change from call to call ----------------------------------
def changing_model(x, change=""):
    normal_model(x)
    if change == "duplicate":
        pyro.sample("mu", dist.Normal(0.0, 1.0))


def changing_guide(x, change=""):
    if change == "skip":
        return
    loc = real("mu_loc") * (float("nan") if change == "nan" else 1.0)
    q = dist.Normal(loc, positive("mu_scale"))
    if change == "wide":
        q = q.expand([2]).to_event(1)
    if change == "score":
        q = q.has_rsample_(False)
    pyro.sample("mu", q, infer={"enumerate": "parallel"} if change == "enumerate" else {})


def bernoulli_model(x):
    p = pyro.sample("p", dist.Beta(2.0, 2.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Bernoulli(p), obs=x)


def bernoulli_guide(x):
    pyro.sample("p", dist.Beta(positive("bern_a", 2.0), positive("bern_b", 2.0)))


def poisson_model(x):
    rate = pyro.sample("rate", dist.Gamma(2.0, 1.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Poisson(rate), obs=x)


def poisson_guide(x):
    pyro.sample("rate", dist.Gamma(positive("pois_a", 2.0), positive("pois_b", 1.0)))


BITS = (X > 0).double()
COUNTS = torch.tensor([0.0, 1, 3, 2, 0, 5, 1, 1, 2, 0])


def autoguide_cases() -> list[Case]:
    kinds = [autoguide.AutoNormal, autoguide.AutoDiagonalNormal, autoguide.AutoMultivariateNormal,
             autoguide.AutoLowRankMultivariateNormal, autoguide.AutoDelta,
             autoguide.AutoLaplaceApproximation, autoguide.AutoIAFNormal]
    return [Case(f"autoguide-{kind.__name__}", hierarchical_model, kind(hierarchical_model),
                 CALLS) for kind in kinds]


def cases() -> list[Case]:
    regression = Regression()
    return autoguide_cases() + [
        Case("conjugate-normal", normal_model, normal_guide, CALLS),
        Case("local-latents", local_model, local_guide, CALLS),
        Case("subsample-both", subsampled_model, subsampled_guide, CALLS),
        Case("subsample-model-only", subsampled_global_model, normal_guide, CALLS),
        Case("sequential-subsampled-plate", sequential_model, sequential_guide, CALLS * 3,
             "either"),  # its site names follow the rows drawn: a new structure most calls
        Case("nested-plates", nested_model, nested_guide, CALLS),
        Case("scale-mask-handlers", handled_model, handled_guide, CALLS),
        Case("obs-mask", masked_observation_model, masked_observation_guide, CALLS),
        Case("block", blocked_model, normal_guide, CALLS),
        Case("condition", conditioned_model, normal_guide, CALLS),
        Case("markov", markov_model, autoguide.AutoNormal(markov_model), CALLS),
        Case("reparam", reparam_model, autoguide.AutoNormal(reparam_model), CALLS),
        Case("factor-deterministic", factor_model, normal_guide, CALLS),
        Case("site-arguments", argument_model, normal_guide, CALLS),
        Case("pyro-module", regression, autoguide.AutoDiagonalNormal(regression), CALLS),
        Case("dependent-guide", hierarchical_model, dependent_guide, CALLS),
        Case("no-latent", observed_only_model, no_latent_guide, CALLS),
        Case("no-site", empty, empty, CALLS),
        Case("no-site-one-param", empty_with_param, empty, CALLS),
        Case("leaf-not-a-param", leaf_model, no_latent_guide, CALLS),
        # refused: each stays on Trace_ELBO and says why
        Case("guide-messenger", normal_model, autoguide.AutoNormalMessenger(normal_model), CALLS,
             "eager"),
        Case("score-function", coin_model, coin_guide, CALLS, "eager"),
        Case("guide-factor", normal_model, factor_guide, CALLS, "eager"),
        Case("observed-guide-site", normal_model, observing_guide, CALLS, "eager"),
        Case("partly-reparameterised", gamma_model, rejection_guide, [(X.abs(),)] * 4, "eager"),
        Case("enumerated-guide", coin_model, enumerated_guide, CALLS, "eager"),
        Case("model-latent-missing", normal_model, no_latent_guide, CALLS, "eager"),
        Case("three-particles", normal_model, normal_guide, CALLS, "eager",
             {"num_particles": 3}),
        Case("vectorised-particle", normal_model, normal_guide, CALLS, "eager",
             {"vectorize_particles": True, "max_plate_nesting": 1}),
        # structure or data that change after the first call
        Case("batch-size-changes", normal_model, normal_guide,
             [(X,), (X[:7],), (X,), (X[:7],), (X[:3],)], "lean"),
        Case("bernoulli-out-of-support", bernoulli_model, bernoulli_guide,
             [(BITS,), (BITS,), (BITS * 0.5,), (BITS,)], "lean"),
        Case("poisson-out-of-support", poisson_model, poisson_guide,
             [(COUNTS,), (COUNTS,), (COUNTS - 2.5,), (COUNTS,)], "lean"),
        Case("gamma-negative", gamma_model, poisson_guide,
             [(X.abs(),), (X.abs(),), (-X.abs(),), (X.abs(),)], "lean"),
        Case("observation-wrong-shape", normal_model, normal_guide,
             [(X,), (X,), (X[:, None],), (X,)], "either"),
        *[Case(f"guide-{change}", changing_model, changing_guide,
               [(X,), (X,), (X, change), (X,)], "either")
          for change in ("duplicate", "skip", "wide", "enumerate", "score", "nan")],
    ]
