# %% [markdown]
# # 2. The autoencoder and its holes
#
# An **autoencoder** compresses each image $x$ to a short code $z = f(x)$ with an encoder, and a
# decoder maps the code back to an image. Trained to reconstruct, it learns codes for the
# training images, and nothing else. Can we *generate* new images by decoding a random code?
# This step measures why not, and what the VAE changes.

# %%
import os

import matplotlib.pyplot as plt
import torch

import pvae
from pvae.data import binarize, digits

# set by the tests: train for seconds only
smoke_test = "PVAE_SMOKE_TEST" in os.environ
epochs = 4 if smoke_test else 60
# sklearn's 8x8 digits, 64 pixels in [0, 1]
data = digits()
# black-and-white pixels, for a Bernoulli likelihood
train = binarize(data.train)
print(f"{len(train)} training images of {train.shape[1]} pixels")

# %% [markdown]
# In pvae an autoencoder is a VAE whose guide is a point mass, `guide="delta"`: the code is
# exactly $f(x)$, with no noise. The VAE (`guide="normal"`) encodes each image to a Gaussian
# $q(z \mid x) = \mathcal N(\mu(x), \sigma(x)^2)$ instead, trains its decoder on codes *drawn*
# from it, and pays a KL term that pulls those Gaussians towards the prior $p(z) = \mathcal N(0, I)$.
# We train both with the same networks and a 2-D code, so that we can look at it.

# %%
pairs = {}
for guide in ("delta", "normal"):
    pair = pvae.VAE(
        (64,),
        2,
        guide=guide,
        seed=0,
        encoder={"name": "mlp", "hidden": [64]},
        decoder={"name": "mlp", "hidden": [64]},
    )
    pvae.fit(
        pair,
        train,
        epochs=epochs,
        batch_size=128,
        lr=3e-3,
        seed=0,
        progress=False,
    )
    pairs["autoencoder" if guide == "delta" else "VAE"] = pair

# %% [markdown]
# ## Holes
#
# A generator draws $z$ from the prior $p(z)$ and decodes it. That only works where the decoder
# was trained. `pvae.holes` takes one code per training image and calls a point *in a hole*
# when it lies farther from every training code than 99 % of the training codes lie from their
# nearest neighbour. It reports the share of prior draws in holes, and of points on straight
# lines between two training codes.

# %%
found = {name: pvae.holes(pair, train) for name, pair in pairs.items()}
for name, measured in found.items():
    print(
        f"{name:12s} prior draws in holes: {measured.prior.share:6.1%}   "
        f"interpolation points in holes: {measured.interpolation.share:6.1%}"
    )

figure, axes = plt.subplots(1, 2, figsize=(9, 4.2))
for ax, (name, measured) in zip(axes, found.items()):
    codes, draws = measured.codes, measured.prior_draws[:400]
    hole = measured.prior.distance[:400] > measured.prior.threshold
    ax.scatter(
        codes[:, 0], codes[:, 1], s=3, color="C1", label="training codes"
    )
    ax.scatter(
        draws[~hole, 0],
        draws[~hole, 1],
        s=4,
        color="0.6",
        label="prior draws",
    )
    ax.scatter(
        draws[hole, 0],
        draws[hole, 1],
        s=6,
        color="C3",
        label="prior draws in a hole",
    )
    ax.set(
        title=f"{name}: {measured.prior.share:.0%} of prior draws in holes",
        xlabel="z1",
        ylabel="z2",
    )
axes[0].legend(loc="lower left", fontsize=8)
figure.tight_layout()

# %% [markdown]
# The autoencoder's codes sit wherever reconstruction put them: on a scale and in a shape that
# has nothing to do with $\mathcal N(0, I)$, so many prior draws land where no training code is.
# The VAE's KL term keeps its codes on the prior's mass. Below, prior draws decoded by each.
# At 8×8 pixels both rows look digit-like: this autoencoder's decoder happens to extrapolate
# smoothly into its holes. The eye is a poor judge on such small images; the share of draws in
# holes is the measure. On MNIST with 16-D codes, 100 % of an autoencoder's prior draws fall
# in holes, and they decode to blots.

# %%
torch.manual_seed(1)
figure, axes = plt.subplots(
    2,
    10,
    figsize=(9, 2.3),
    gridspec_kw={"left": 0.14, "wspace": 0.05, "top": 0.85},
)
for row, (name, pair) in zip(axes, pairs.items()):
    for ax, image in zip(row, pair.sample(10)):
        ax.imshow(image.reshape(8, 8).numpy(), cmap="gray_r", vmin=0, vmax=1)
        ax.set(xticks=[], yticks=[])
    row[0].set_ylabel(name, rotation=0, ha="right", va="center")
figure.suptitle(
    "codes drawn from the prior p(z), decoded to their expected pixels"
)

# %% [markdown]
# The VAE's answer to the holes is its two changes: noisy codes (the decoder learns a
# neighbourhood of each code, not a point) and the KL term (all the neighbourhoods together
# should cover the prior). The [VAE page](../models/vae.md#why-a-vae-and-not-an-autoencoder-the-holes-on-mnist)
# measures the same on MNIST. The price is that a VAE is a *probabilistic* model, whose
# likelihood we must now learn to compute.
#
# Next: [3. A mixture as a sum, a VAE as a continuous mixture](03_mixtures.md).
