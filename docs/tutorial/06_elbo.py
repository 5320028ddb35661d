# %% [markdown]
# # 6. The ELBO, two ways, checked where log p(x) is exact
#
# For any density $q(z \mid x)$, two identities hold
# ([derivation](../maths.md#log-px-elbo-kl)):
#
# $$\log p(x) = \underbrace{\mathbb E_q\big[\log p(x, z) - \log q(z \mid x)\big]}_{\mathrm{ELBO}}
#   + \mathrm{KL}\big(q(z \mid x) \,\|\, p(z \mid x)\big),$$
#
# $$\mathrm{ELBO} = \mathbb E_q\big[\log p(x \mid z)\big] - \mathrm{KL}\big(q(z \mid x) \,\|\, p(z)\big).$$
#
# The first says the ELBO is below $\log p(x)$ by exactly how far $q$ is from the true
# posterior. The second is how a VAE computes it: a reconstruction term minus a KL to the
# prior. For a VAE we cannot check either, since $\log p(x)$ and $p(z \mid x)$ are unknown. The
# **linear-Gaussian model**, $z \sim \mathcal N(0, I)$, $x \mid z \sim \mathcal N(Wz + b, s^2 I)$,
# is a VAE with a linear decoder whose $\log p(x)$ and posterior are exact. We check both
# identities on it, on the digits.

# %%
import os

import matplotlib.pyplot as plt
import pyro.distributions as dist
import torch

import pvae
from pvae.data import digits

# set by the tests: train for seconds only
smoke_test = "PVAE_SMOKE_TEST" in os.environ
data = digits(dtype=torch.float64)
x = data.test
model = pvae.LinearGaussian(64, 8)
pvae.fit(
    model,
    data.train,
    steps=100 if smoke_test else 1500,
    lr=0.01,
    seed=0,
    progress=False,
)

# log p(x) = log N(x | b, WW^T + s^2 I)
exact = pvae.exact(model, x)
elbo = pvae.elbo(model, x, num_particles=2000, seed=0)  # Monte Carlo over q
kl_posterior = model.posterior_kl(x).mean()  # closed form
print(f"log p(x)                      {exact.value:9.4f}  (exact)")
print(
    f"ELBO                          {elbo.value:9.4f}  (2000 samples per image)"
)
print(f"KL(q || p(z|x))               {kl_posterior:9.4f}  (closed form)")
residual = elbo.value + kl_posterior - exact.value
print(f"ELBO + KL - log p(x)          {residual:9.4f}")

# %% [markdown]
# The identity holds to Monte Carlo precision. The guide was fitted by SVI with the model, so
# it is close to the posterior but not equal to it: the KL is small and positive. It holds
# image by image, not only on average: each image's gap $\log p(x) - \mathrm{ELBO}$ is its own
# KL.

# %%
gap = exact.per_datapoint - elbo.per_datapoint
kl_each = model.posterior_kl(x).detach()
figure, ax = plt.subplots(figsize=(4.2, 3.6))
ax.scatter(kl_each, gap, s=8)
top = float(max(kl_each.max(), gap.max()))
ax.plot([0, top], [0, top], color="k", linewidth=0.8, label="gap = KL")
ax.set(
    xlabel="KL(q || p(z|x)), closed form",
    ylabel="log p(x) - ELBO, exact minus Monte Carlo",
    title="one point per test image",
)
ax.legend()
figure.tight_layout()

# %% [markdown]
#
# Now the second identity, by hand: draw $z$ from $q(z \mid x)$ (the guide's `encode`), average
# the decoder's $\log p(x \mid z)$, and subtract the KL between two Gaussians, $q(z \mid x)$
# and $p(z) = \mathcal N(0, I)$, which has a closed form.

# %%
torch.manual_seed(0)
with torch.no_grad():
    loc, scale = model.encode(x)
    q = dist.Normal(loc, scale).to_event(1)
    # (samples, N, 8)
    z = q.sample((2000,))
    decoder = dist.Normal(
        z @ model.weight.T + model.bias, model.noise
    ).to_event(1)
    # E_q log p(x | z)
    reconstruction = decoder.log_prob(x).mean(0)
    prior = dist.Normal(torch.zeros_like(loc), 1.0).to_event(1)
    # KL(q || p(z))
    kl_prior = torch.distributions.kl_divergence(q, prior)
print(f"E_q log p(x|z)                {reconstruction.mean():9.4f}")
print(f"KL(q || p(z))                 {kl_prior.mean():9.4f}")
print(
    f"their difference              {(reconstruction - kl_prior).mean():9.4f}"
)
print(f"pvae.elbo                     {elbo.value:9.4f}")

# %% [markdown]
# Two different KLs appear, and they should not be confused: $\mathrm{KL}(q \,\|\, p(z))$, about
# ten nats here, is the price each image's code pays inside the ELBO;
# $\mathrm{KL}(q \,\|\, p(z \mid x))$,
# a fraction of a nat here, is the gap between the ELBO and $\log p(x)$.
#
# If $q$ *is* the posterior, the gap closes. `set_closed_form` puts the model at its
# maximum-likelihood solution and the guide at the exact posterior:

# %%
model.set_closed_form(data.train)
exact, elbo = (
    pvae.exact(model, x),
    pvae.elbo(model, x, num_particles=2000, seed=0),
)
print(
    f"log p(x) {exact.value:.4f}, ELBO {elbo.value:.4f}, "
    f"KL(q || p(z|x)) {model.posterior_kl(x).mean():.1e}"
)

# %% [markdown]
# Maximising the ELBO therefore does two things at once: it pushes $\log p(x)$ up, and it pulls
# $q$ towards the posterior. A higher ELBO need not mean a higher $\log p(x)$, since it can come
# from a tighter bound alone.
#
# Next: [7. Posterior collapse](07_collapse.md).
