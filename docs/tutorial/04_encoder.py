# %% [markdown]
# # 4. Why a VAE needs an encoder, and what one encoder costs
#
# Step 3 ended with an integral we cannot sum, $p(x) = \int p(x \mid z)\,p(z)\,dz$. Any density
# $q(z)$ that is positive wherever $p(x, z)$ is turns it into an expectation,
#
# $$p(x) = \mathbb E_{z \sim q}\!\left[\frac{p(x \mid z)\,p(z)}{q(z)}\right]
#   \approx \frac1k \sum_{j=1}^k w_j, \qquad w_j = \frac{p(x \mid z_j)\,p(z_j)}{q(z_j)},\;
#   z_j \sim q .$$
#
# The log of that average is the **IWAE-k** estimate. It is a lower bound on $\log p(x)$ on
# average, and it climbs to $\log p(x)$ as $k$ grows, *for any $q$*. The choice of $q$ decides
# how large $k$ must be.

# %%
import os

import matplotlib.pyplot as plt
import pyro.distributions as dist
import torch
from pyro import poutine

import pvae
from pvae.data import digits

# set by the tests: train for seconds only
smoke_test = "PVAE_SMOKE_TEST" in os.environ
data = digits()
test = data.test[:30] if smoke_test else data.test[:150]
# pixels are grey levels in [0, 1]: a continuous Bernoulli likelihood
vae = pvae.VAE(
    (64,),
    8,
    likelihood="continuous_bernoulli",
    seed=0,
    encoder={"name": "mlp", "hidden": [64]},
    decoder={"name": "mlp", "hidden": [64]},
)
pvae.fit(
    vae,
    data.train,
    epochs=4 if smoke_test else 60,
    batch_size=128,
    lr=3e-3,
    seed=0,
    progress=False,
)

# %% [markdown]
# ## The prior as the proposal, against the encoder
#
# The obvious $q$ is the prior itself: draw codes $z \sim p(z)$ and average $p(x \mid z)$. A pvae
# estimate takes any model/guide pair, so the prior-as-proposal is a pair whose guide is the
# model with its observation hidden (`poutine.block`): it draws $z$ from $p(z)$ and ignores
# $x$. The VAE's own guide is the **encoder**, $q(z \mid x)$, a Gaussian placed by a network
# for each image. Same decoder, same images, same $k$:

# %%
prior_proposal = pvae.Pair(vae.model, poutine.block(vae.model, hide=["x"]))
ks = [1, 10, 100, 1000] if smoke_test else [1, 10, 100, 1000, 5000]
ladders = {}
for name, pair in [
    ("q = prior p(z)", prior_proposal),
    ("q = encoder q(z|x)", vae),
]:
    _, rungs = pvae.iwae_ladder(pair, test, ks, seed=0)
    ladders[name] = rungs
    print(
        f"{name:20s}"
        + "".join(f"  k={k}: {r.value:7.2f}" for k, r in zip(ks, rungs))
    )
gap = (
    ladders["q = encoder q(z|x)"][0].value
    - ladders["q = prior p(z)"][0].value
)
print(f"at k=1 the encoder's estimate is higher by {gap:.1f} nats per image")

figure, ax = plt.subplots(figsize=(6, 3.4))
for name, rungs in ladders.items():
    ax.errorbar(
        ks,
        [r.value for r in rungs],
        [r.stderr for r in rungs],
        marker="o",
        capsize=3,
        label=name,
    )
ax.set(
    xscale="log",
    xlabel="k, importance samples per image",
    ylabel="IWAE-k (nats per image)",
    title="the same log p(x), two proposals",
)
ax.legend()
figure.tight_layout()

# %% [markdown]
# Both curves head for the same $\log p(x)$, since the model is the same. The encoder is there
# from the first sample; the prior needs thousands. (The log-densities are positive because
# pixels are grey levels in $[0, 1]$ with a continuous density, which can exceed 1.)
#
# Why: a given digit is explained by a tiny region of codes, the posterior $p(z \mid x)$.
# Drawn from the prior, almost every code misses it and gets a negligible weight; a few
# lucky ones carry the average. The **effective sample size** $(\sum_j w_j)^2 / \sum_j w_j^2$
# counts how many of the $k$ draws really count. We compute the weights by hand for one
# image:

# %%
image, k = test[:1], 1000
torch.manual_seed(0)
with torch.no_grad():
    prior = vae.model.prior()
    loc, scale = vae.encode(image)
    encoder = dist.Normal(loc, scale).to_event(1)
    for name, q in [("prior", prior), ("encoder", encoder)]:
        z = q.sample((k,)).reshape(k, -1)
        log_w = (
            vae.model.likelihood(vae.model.decoder(z)).log_prob(image)
            + prior.log_prob(z)
            - q.log_prob(z).reshape(k)
        )
        w = torch.softmax(log_w, 0)  # normalised weights
        ess = 1 / (w**2).sum()
        print(
            f"q = {name:8s} effective sample size {ess:7.1f} of {k}; "
            f"largest weight {w.max():.3f}"
        )

# %% [markdown]
# That is why a VAE has an encoder: it puts the proposal where the posterior is, for every $x$,
# so that one sample already estimates (and trains) $\log p(x)$.
#
# ## Amortisation: one encoder for all images
#
# The encoder is a single network that outputs $q(z \mid x)$ for *every* $x$; it is
# **amortised**. Its Gaussian for a given image is not the best Gaussian for that image. The
# ELBO's distance to $\log p(x)$ splits in two
# ([derivation](../gaps.md#approximation-against-amortisation)):
#
# $$\log p(x) - \mathrm{ELBO}(q_\phi) =
#   \underbrace{\log p(x) - \mathrm{ELBO}(q^\ast_x)}_{\text{approximation gap}} +
#   \underbrace{\mathrm{ELBO}(q^\ast_x) - \mathrm{ELBO}(q_\phi)}_{\text{amortisation gap}},$$
#
# where $q^\ast_x$ is the Gaussian fitted to this image alone. `pvae.gaps` fits those
# Gaussians, one per image, and reports both; we give it the best estimate of $\log p(x)$ at
# hand, the encoder's IWAE with the most samples.

# %%
split = pvae.gaps(
    vae,
    test,
    steps=60 if smoke_test else 500,
    seed=0,
    log_likelihood=ladders["q = encoder q(z|x)"][-1],
)
print(
    f"log p(x) ({split.log_likelihood.name}): {split.log_likelihood.value:.2f}"
)
print(f"ELBO, each image's own Gaussian:  {split.local_elbo.value:.2f}")
print(f"ELBO, the encoder's Gaussian:     {split.elbo.value:.2f}")
for name in ("approximation", "amortization"):
    part = getattr(split, name)
    print(f"{name} gap {part.value:.2f} ± {part.stderr:.2f} nats per image")

# %% [markdown]
# The approximation gap is what a diagonal Gaussian cannot express about the true posterior;
# the amortisation gap is what one shared encoder loses against a separate fit per image.
# Fitting each image's $q$ costs an optimisation per image, which is why training uses the
# encoder and accepts its gap. [Where the gap comes from](../gaps.md) measures both on MNIST.
#
# Next: [5. The reparameterisation trick](05_reparameterisation.md).
