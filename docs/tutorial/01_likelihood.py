# %% [markdown]
# # 1. Probability against likelihood
#
# A model is a density $p(x \mid \theta)$: for each value of its parameters $\theta$ it says how
# probable each observation $x$ is. This step reads the same formula two ways, then finds the
# parameters that make the data most probable, for the simplest model there is: a Gaussian.

# %%
import os

import matplotlib.pyplot as plt
import torch

import pvae

# set by the tests: train for seconds only
smoke_test = "PVAE_SMOKE_TEST" in os.environ
torch.manual_seed(0)
# 20 draws from N(2, 1.5^2)
x = 2.0 + 1.5 * torch.randn(20, dtype=torch.float64)
print(f"N = {len(x)}, first values: {x[:4].numpy().round(2)}")

# %% [markdown]
# ## The same formula, read two ways
#
# For one observation, $\mathcal N(x \mid \mu, \sigma^2) = \frac{1}{\sqrt{2\pi}\sigma}
# \exp\big(-\frac{(x - \mu)^2}{2\sigma^2}\big)$.
#
# - Hold $\theta = (\mu, \sigma)$ fixed and vary $x$: this is a **probability density** over the
#   data. It integrates to one.
# - Hold the data fixed and vary $\theta$: this is the **likelihood**,
#   $L(\theta) = \prod_i p(x_i \mid \theta)$. It is not a density over $\theta$ and need not
#   integrate to one.
#
# We integrate both numerically on a grid.


# %%
def log_density(x, mu, sigma):
    return torch.distributions.Normal(mu, sigma).log_prob(x)


grid = torch.linspace(-10, 14, 4001, dtype=torch.float64)
density = log_density(grid, 2.0, 1.5).exp()
area = torch.trapezoid(density, grid)
print(f"integral of p(x | mu=2, sigma=1.5) over x:  {area:.4f}")

mus = torch.linspace(-2, 6, 801, dtype=torch.float64)
log_lik = torch.stack([log_density(x, mu, 1.5).sum() for mu in mus])
area = torch.trapezoid(log_lik.exp(), mus)
print(f"integral of L(mu) over mu (sigma = 1.5):    {area:.3e}")

figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
left.plot(grid, density)
left.plot(x, torch.zeros_like(x), "|", color="k", markersize=12)
left.set(
    xlim=(-4, 8),
    xlabel="x",
    title="probability: p(x | mu=2, sigma=1.5) over x",
)
right.plot(mus, log_lik)
right.axvline(x.mean(), color="C1", linestyle="--", label="sample mean")
right.set(xlabel="mu", title="log-likelihood: log L(mu) over mu, data fixed")
right.legend()
figure.tight_layout()

# %% [markdown]
# The density over $x$ integrates to 1; the likelihood over $\mu$ integrates to a tiny number
# that has no meaning of its own. What matters about the likelihood is *where it is largest*:
# the peak of the right-hand curve sits at the sample mean.
#
# ## The maximum-likelihood estimate
#
# Setting the derivatives of $\ell(\mu, \sigma) = \sum_i \log \mathcal N(x_i \mid \mu,
# \sigma^2)$ to zero gives ([derivation](../maths.md#the-gaussian-set-the-derivatives-to-zero))
#
# $$\hat\mu = \bar x = \frac1N \sum_i x_i, \qquad
#   \hat\sigma^2 = \frac1N \sum_i (x_i - \bar x)^2 .$$
#
# `pvae.Gaussian` is this model as a Pyro model/guide pair. `closed_form` computes the formulas
# above; `pvae.fit` climbs the same log-likelihood by gradient steps. They should agree.

# %%
model = pvae.Gaussian()
mu_hat, sigma_hat = model.closed_form(x)
pvae.fit(
    model,
    x,
    steps=300 if smoke_test else 1500,
    lr=0.2,
    lr_decay=1e-3,
    seed=0,
    progress=False,
)
print(f"closed form:   mu = {mu_hat:.4f}, sigma = {sigma_hat:.4f}")
print(f"fitted by SVI: mu = {model.loc:.4f}, sigma = {model.scale:.4f}")
print(f"x.mean()              = {x.mean():.4f}")
print(f"x.std(correction=0)   = {x.std(correction=0):.4f}   (divide by N)")
print(f"x.std()               = {x.std():.4f}   (divide by N - 1)")
best = model.log_likelihood(x).mean()
print(f"log-likelihood at the maximum: {best:.4f} nats per point")

# %% [markdown]
# The fitted parameters match the closed form, and $\hat\sigma$ is numpy's and torch's standard
# deviation *with divisor $N$* (`correction=0`), not the usual $N - 1$.
#
# ## The MLE's variance is biased
#
# Dividing by $N$ makes $\hat\sigma^2$ too small on average: its expectation is
# $\frac{N-1}{N}\sigma^2$, because $\bar x$ is fitted to the same points and sits closer to them
# than the true mean does. With $N = 5$ points the factor is $0.8$. We check it on many small
# data sets drawn from $\mathcal N(0, 1)$.

# %%
repeats = 2000 if smoke_test else 20000
small = torch.randn(repeats, 5, dtype=torch.float64)
biased = small.var(dim=1, correction=0)
unbiased = small.var(dim=1, correction=1)
print(
    f"mean of the MLE variance (divide by N):  {biased.mean():.3f} "
    f"± {biased.std() / repeats**0.5:.3f}   (theory 0.8)"
)
print(
    f"mean of the N-1 variance:                {unbiased.mean():.3f} "
    f"± {unbiased.std() / repeats**0.5:.3f}   (theory 1.0)"
)

# %% [markdown]
# The maximum-likelihood estimate is the best fit *to these points*, not an unbiased estimate of
# the population's variance. The bias vanishes as $N$ grows; the [Gaussian page](../models/gaussian.md)
# shows the likelihood surface over both parameters.
#
# Next: [2. The autoencoder and its holes](02_autoencoder.md).
