# %% [markdown]
# # 3. A mixture is a sum; a VAE is a continuous mixture
#
# Step 1's Gaussian has one bump. Data with several groups need a **mixture**: draw a component
# $c$ with probability $w_c$, then draw $x$ from that component's Gaussian. We never see $c$, so
# the probability of $x$ adds up every way it could have been made:
#
# $$p(x) = \sum_{k=1}^K w_k\, \mathcal N(x \mid \mu_k, \sigma_k^2).$$
#
# A VAE is the same idea with a *continuous* component: a code $z$ instead of $c$.

# %%
import math
import os

import matplotlib.pyplot as plt
import torch

import pvae
from pvae.data import binarize, digits

# set by the tests: train for seconds only
smoke_test = "PVAE_SMOKE_TEST" in os.environ
torch.manual_seed(0)
x = torch.cat(
    [torch.randn(300) * 0.6 - 2.0, torch.randn(200) * 1.0 + 2.0]
).double()

mixture = pvae.GaussianMixture(2, dim=1)
pvae.fit(mixture, x[:, None], method="em", seed=0)
# pvae's exact log p(x_i)
log_p = mixture.log_likelihood(x[:, None])
# log sum_k w_k N(x_i | k)
by_hand = torch.logsumexp(mixture.log_joint(x[:, None]), dim=0)
print(
    f"mean log p(x): {log_p.mean():.4f} nats; by hand: {by_hand.mean():.4f}; "
    f"largest difference {(log_p - by_hand).abs().max():.1e}"
)

# %% [markdown]
# `log_joint` gives $\log w_k + \log \mathcal N(x_i \mid \mu_k, \sigma_k^2)$ for every component
# and point; a `logsumexp` over the components is the log of the sum above, computed without
# overflow. It is exactly pvae's log-likelihood. Each term of the sum is one component's share
# of the density:

# %%
grid = torch.linspace(-5, 6, 400, dtype=torch.float64)[:, None]
terms = mixture.log_joint(grid).exp()  # (K, points)
figure, ax = plt.subplots(figsize=(7, 3))
ax.hist(x, bins=40, density=True, color="0.85", label="data")
for k, term in enumerate(terms):
    ax.plot(
        grid, term, "--", label=f"w_{k + 1} N(x | mu_{k + 1}, sigma_{k + 1})"
    )
ax.plot(grid, terms.sum(0), color="k", label="p(x): their sum")
ax.set(xlabel="x", title="a two-component mixture, fitted by EM")
ax.legend(fontsize=8)
figure.tight_layout()

# %% [markdown]
# ## A VAE: infinitely many components
#
# Replace the component $c \in \{1, \dots, K\}$ by a code $z \in \mathbb R^d$ with prior
# $p(z) = \mathcal N(0, I)$, and each component's Gaussian by a network's output,
# $p_\theta(x \mid z)$ (here: 64 independent Bernoulli pixels). The sum becomes an integral,
#
# $$p_\theta(x) = \int p_\theta(x \mid z)\, p(z)\, dz .$$
#
# With a 2-D code we can still compute it the mixture's way: put a fine grid on $z$ and treat
# each grid point as one component with weight $p(z)\,\Delta z$. We train a small VAE and compare
# that brute-force sum with pvae's importance-sampled estimate `pvae.iwae` (step 4 explains it).

# %%
data = digits()
train, test = binarize(data.train), binarize(data.test, seed=1)[:50]
vae = pvae.VAE(
    (64,),
    2,
    seed=0,
    encoder={"name": "mlp", "hidden": [64]},
    decoder={"name": "mlp", "hidden": [64]},
)
pvae.fit(
    vae,
    train,
    epochs=4 if smoke_test else 60,
    batch_size=128,
    lr=3e-3,
    seed=0,
    progress=False,
)

side = 60 if smoke_test else 300
axis = torch.linspace(-5, 5, side)
step = (axis[1] - axis[0]).item()
# (side^2, 2): the components
codes = torch.cartesian_prod(axis, axis)
with torch.no_grad():
    # log p(z) dz
    log_weight = vae.model.prior().log_prob(codes) + 2 * math.log(step)
    # p(x | z) for each z
    pixels = vae.model.likelihood(vae.model.decoder(codes))
    # (50, side^2)
    log_component = torch.stack([pixels.log_prob(image) for image in test])
grid_sum = torch.logsumexp(log_component + log_weight, dim=1)
estimate = pvae.iwae(vae, test, k=1000, seed=0)
print(f"{len(codes)} components: weights sum to {log_weight.exp().sum():.4f}")
print(f"log p(x), the grid's sum:  {grid_sum.mean():.3f} nats per image")
print(
    f"log p(x), pvae.iwae k=1000: {estimate.value:.3f} ± {estimate.stderr:.3f}"
)

# %% [markdown]
# The two agree: a VAE *is* a mixture, with one component per code. But a grid with 300 points
# per axis needs $300^d$ components: 90 000 in 2-D, but $300^{50} \approx 10^{124}$ with the
# 50-D codes of an MNIST VAE. The integral cannot be summed, only estimated, and the next step shows
# how to estimate it well.
#
# Next: [4. Why a VAE needs an encoder](04_encoder.md).
