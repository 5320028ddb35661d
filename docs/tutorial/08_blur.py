# %% [markdown]
# # 8. Blur and copying
#
# A VAE's log-likelihood says how well it explains held-out images. It does not say whether its
# samples look like new images. Two things go wrong, and pvae measures both
# ([the full page](../generation.md)).
#
# **Blur.** The decoder's likelihood is factorised, $p(x \mid z) = \prod_i p(x_i \mid z)$: given the
# code, every pixel is independent. The picture usually shown as a sample is the mean
# $\mathbb E[x \mid z]$, and a code that could stand for several digits has as mean their
# average, a grey smear. The true draw $x \sim p(x \mid z)$ adds independent noise to each pixel:
# no smoother, but no strokes either.

# %%
import os

import matplotlib.pyplot as plt
import torch

import pvae
from pvae.data import digits

# set by the tests: train for seconds only
smoke_test = "PVAE_SMOKE_TEST" in os.environ
data = digits()
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

torch.manual_seed(0)
means = vae.sample(500)  # E[x | z] for z ~ p(z)
torch.manual_seed(0)
draws = vae.sample(500, mean=False)  # x ~ p(x | z) for the same codes
figure, axes = plt.subplots(
    3,
    10,
    figsize=(8, 2.8),
    gridspec_kw={"left": 0.12, "wspace": 0.05, "hspace": 0.1},
)
for row, (name, shown) in zip(
    axes, [("means", means), ("draws", draws), ("real digits", data.test)]
):
    for ax, image in zip(row, shown):
        ax.imshow(image.reshape(8, 8).numpy(), cmap="gray_r", vmin=0, vmax=1)
        ax.set(xticks=[], yticks=[])
    row[0].set_ylabel(name, rotation=0, ha="right", va="center")
figure.suptitle(
    "the same codes decoded to their means and to draws, beside real digits"
)

# %% [markdown]
# `pvae.sharpness` measures the high-frequency energy of images (the mean squared discrete
# Laplacian, which responds to edges) relative to the data's own: held-out digits read about 1.

# %%
for name, images in [
    ("means", means),
    ("draws", draws),
    ("held-out digits", data.test),
]:
    measured = pvae.sharpness(images, data.train, (8, 8))
    print(f"sharpness of the {name:16s} {measured.ratio:.2f}")

# %% [markdown]
# The means carry a fraction of the data's edges; the draws carry more than the data, in noise.
# Neither is a crisp new digit. Maximum likelihood rewards covering every training image, and a
# factorised decoder can cover several only by averaging them.
#
# **Copying.** A model that memorised its training set would have perfect-looking samples and
# nothing new to say. `pvae.novelty` compares each sample's distance to its nearest training
# image with a held-out image's (Meehan et al.'s $C_T$): about 0 means "as new as unseen data",
# well below 0 means copying, well above means farther from the data than real digits are.

# %%
half = len(data.test) // 2
for name, samples in [
    ("VAE means", means),
    ("a copycat of training images", data.train[:400] + 0.01),
]:
    found = pvae.novelty(samples, data.train, data.test[half:], cells=5)
    print(f"C_T of {name:30s} {found.c_t:6.2f}")

# %% [markdown]
# The VAE's means are no copies: they lie farther from the training images than unseen
# digits do, which is the blur again, seen from the data's side. The copycat's strongly
# negative $C_T$ shows the test can tell. [Does a VAE generate new images?](../generation.md)
# measures both on MNIST, with FID, precision and recall beside them.
#
# This is the end of the tutorial. Back to the [overview](index.md).
