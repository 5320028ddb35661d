# %% [markdown]
# # 5. The reparameterisation trick
#
# Training a VAE means following the gradient of an expectation whose *distribution* depends on
# the parameters: the ELBO is $\mathbb E_{z \sim q_\phi}[\,\cdot\,]$ and we need
# $\nabla_\phi$ of it. Sampling $z$ and differentiating does not work as such: a sample is a
# number, not a function of $\phi$. There are two ways to make it one. We compare them on a
# problem small enough to know the answer:
#
# $$J(\mu) = \mathbb E_{z \sim \mathcal N(\mu, \sigma^2)}\big[(z - 3)^2\big]
#   = (\mu - 3)^2 + \sigma^2, \qquad \frac{dJ}{d\mu} = 2(\mu - 3).$$

# %%
import os

import matplotlib.pyplot as plt
import torch

# set by the tests: fewer repeats
smoke_test = "PVAE_SMOKE_TEST" in os.environ
torch.manual_seed(0)
sigma, repeats = 1.0, 2000 if smoke_test else 20000


def f(z):
    return (z - 3.0) ** 2


def exact_gradient(mu):
    return 2 * (mu - 3.0)


# %% [markdown]
# **The score function** (REINFORCE). Since $\nabla_\mu p_\mu(z) = p_\mu(z)\,\nabla_\mu \log
# p_\mu(z)$,
#
# $$\nabla_\mu J = \mathbb E_{z \sim p_\mu}\big[f(z)\, \nabla_\mu \log p_\mu(z)\big].$$
#
# It needs only samples and the log-density, and works for discrete $z$ too. In torch: draw
# with `sample()` (no gradient flows through it), and differentiate `f(z) * log_prob(z)`.
#
# **The reparameterisation.** Write the sample as a differentiable function of the parameters
# and of noise that does not depend on them: $z = \mu + \sigma\varepsilon$ with
# $\varepsilon \sim \mathcal N(0, 1)$. Then
#
# $$\nabla_\mu J = \mathbb E_{\varepsilon}\big[\nabla_\mu f(\mu + \sigma\varepsilon)\big]
#   = \mathbb E_{\varepsilon}\big[f'(z)\big].$$
#
# In torch: `rsample()` draws $z$ this way, and `backward()` goes through it.


# %%
def score_function(mu, samples):
    mu = torch.tensor(mu, requires_grad=True)
    q = torch.distributions.Normal(mu, sigma)
    # no gradient through the draw
    z = q.sample((samples,))
    (f(z) * q.log_prob(z)).mean().backward()
    return mu.grad.item()


def reparameterised(mu, samples):
    mu = torch.tensor(mu, requires_grad=True)
    # z = mu + sigma * eps
    z = torch.distributions.Normal(mu, sigma).rsample((samples,))
    f(z).mean().backward()
    return mu.grad.item()


mu = 0.0
results = {}
for samples in (1, 10):
    for name, estimator in [
        ("score function", score_function),
        ("reparameterised", reparameterised),
    ]:
        draws = torch.tensor([estimator(mu, samples) for _ in range(repeats)])
        results[name, samples] = draws
        print(
            f"{name:16s} {samples:2d} sample(s): mean {draws.mean():7.3f} "
            f"± {draws.std() / repeats**0.5:.3f}, variance {draws.var():8.2f}"
        )
print(f"exact gradient at mu = {mu}: {exact_gradient(mu)}")
ratio = (
    results["score function", 1].var() / results["reparameterised", 1].var()
)
print(f"the score function's variance is {ratio:.0f} times the other's")

# %% [markdown]
# Both estimators are unbiased: their means match the exact $-6$ within their standard errors.
# Their spreads differ a lot. The score function multiplies $f(z)$, a number that is large
# everywhere, by a direction $\nabla_\mu \log p_\mu(z) = (z - \mu)/\sigma^2$ that is as often
# positive as negative, and relies on cancellations over many samples. The reparameterised
# estimator uses the slope of $f$ at each sample, so each sample already points the right way.

# %%
figure, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
for ax, samples in zip(axes, (1, 10)):
    for name in ("score function", "reparameterised"):
        ax.hist(
            results[name, samples],
            bins=120,
            range=(-40, 30),
            histtype="step",
            density=True,
            label=name,
        )
    ax.axvline(
        exact_gradient(mu), color="k", linestyle="--", label="exact -6"
    )
    ax.set(
        xlabel="estimate of dJ/dmu", title=f"{samples} sample(s) per estimate"
    )
axes[0].legend(fontsize=8)
figure.suptitle(f"gradient estimates over {repeats} repeats")
figure.tight_layout()

# %% [markdown]
# For a VAE the guide is a Normal, which has `rsample`, so Pyro's `Trace_ELBO` (pvae's
# default objective) uses the reparameterised gradient for $z$; it falls back on the score
# function only for sites that cannot be reparameterised, such as discrete ones. Pyro
# sums out a discrete variable exactly where it can (the mixture's assignment in step 3 is
# enumerated), which avoids the score function's variance altogether.
#
# Next: [6. The ELBO, two ways](06_elbo.md).
