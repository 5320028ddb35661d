# %% [markdown]
# # 7. Posterior collapse
#
# The ELBO is $\mathbb E_q[\log p(x \mid z)] - \mathrm{KL}(q(z \mid x) \,\|\, p(z))$. The KL term
# charges, in nats, for every bit of information a code carries about its image. The cheapest
# way to make it zero is to ignore the image: $q(z \mid x) = p(z)$ for every $x$. When the
# decoder can explain the data well enough without the code, or when the KL is weighted more
# than the reconstruction, the optimum does exactly that. This is **posterior collapse**: the
# posterior of some or all latent dimensions equals the prior, and the decoder draws the same
# distribution whatever the image.
#
# Two usual causes: a **strong decoder** (for example an autoregressive one, which models the
# pixels well without a code), and a **large KL weight** $\beta > 1$ (the β-VAE objective
# $\mathbb E_q[\log p(x \mid z)] - \beta\,\mathrm{KL}$). We show the second, which pvae's `VAE`
# takes as `beta=`.

# %%
import os

import matplotlib.pyplot as plt

import pvae
from pvae.data import binarize, digits

# set by the tests: train for seconds only
smoke_test = "PVAE_SMOKE_TEST" in os.environ
data = digits()
train = binarize(data.train)
betas = [1.0, 2.0, 4.0]
vaes = {}
for beta in betas:
    vae = pvae.VAE(
        (64,),
        8,
        beta=beta,
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
    vaes[beta] = vae

# %% [markdown]
# ## Measuring it: latent usage
#
# `pvae.latent_usage` reports, on a set of images, the KL term per latent dimension and each
# dimension's **activity** $\mathrm{Cov}_x\big(\mathbb E_q[z_d]\big)$: how much the code's mean
# moves from image to image. A dimension whose activity is below 0.01 is inactive (collapsed):
# its posterior does not depend on the image. It also splits the KL into the mutual
# information $I(x; z)$ that the codes carry about the images and a marginal KL
# ([details](../gaps.md#what-the-kl-term-pays-for)).

# %%
usage = {
    beta: pvae.latent_usage(vae, train[:300], seed=0)
    for beta, vae in vaes.items()
}
for beta, measured in usage.items():
    print(
        f"beta = {beta}: {measured.active_units} of 8 active, "
        f"KL {measured.kl:5.2f} nats = I(x;z) "
        f"{measured.mutual_information:5.2f} + marginal "
        f"{measured.marginal_kl:5.2f}"
    )

figure, axes = plt.subplots(1, len(betas), figsize=(9, 2.8), sharey=True)
for ax, (beta, measured) in zip(axes, usage.items()):
    ax.bar(range(1, 9), measured.kl_per_dim.numpy(), color="C0")
    ax.set(
        title=f"beta = {beta}: {measured.active_units} of 8 active",
        xlabel="latent dimension",
    )
axes[0].set_ylabel("KL(q || p(z)) per dimension (nats)")
figure.suptitle("KL per latent dimension, averaged over 300 training images")
figure.tight_layout()

# %% [markdown]
# With $\beta = 1$ all 8 dimensions are active, and five of them carry most of the KL. As $\beta$ grows, information becomes
# more expensive than the reconstruction it buys: at $\beta = 2$ the KL falls several-fold and
# what information is left crowds into few dimensions; at $\beta = 4$ the whole code is
# ignored, the KL is zero, and the model is one fixed distribution over pixels. The reconstructions show it: decoded from the mean of $q(z \mid x)$, a collapsed
# model returns the same image, the average digit, for every input.

# %%
images = binarize(data.test, seed=1)[:8]
figure, axes = plt.subplots(
    len(betas) + 1,
    8,
    figsize=(8, 4.4),
    gridspec_kw={"left": 0.12, "wspace": 0.05, "hspace": 0.1},
)
rows = [("input", images)] + [
    (f"beta = {b}", vaes[b].reconstruct(images)) for b in betas
]
for row, (name, shown) in zip(axes, rows):
    for ax, image in zip(row, shown):
        ax.imshow(image.reshape(8, 8).numpy(), cmap="gray_r", vmin=0, vmax=1)
        ax.set(xticks=[], yticks=[])
    row[0].set_ylabel(name, rotation=0, ha="right", va="center")
figure.suptitle("test images and their reconstructions")

# %% [markdown]
# Collapse is not an error of the optimiser: it is what this objective prefers. Remedies change
# the objective or the model: $\beta \le 1$, a KL warm-up (`pvae.fit(..., kl_warmup=...)`
# starts with a small weight), a weaker decoder, or a richer prior.
#
# Next: [8. Blur and copying](08_blur.md).
