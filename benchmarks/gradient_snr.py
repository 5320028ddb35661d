"""The guide's gradient under the iwae objective: plain IWAE against DReG, as k grows.

Tucker et al. (2019): the plain reparameterised IWAE gradient of the guide loses its signal
as k grows (its signal-to-noise ratio falls like 1/sqrt(k), Rainforth et al. 2018), while
the doubly-reparameterised one keeps it. Measured on a digits VAE trained briefly with the
ELBO: for each k, M gradient draws on one minibatch, per guide parameter element the SNR
|mean| / std; the table gives the median over elements and the variance ratio.
"""

from __future__ import annotations

import torch

import pvae
from pvae.data import binarize, digits
from pvae.objectives.importance import ImportanceWeightedELBO

from .table import Table


def _draws(objective: ImportanceWeightedELBO, vae: pvae.VAE, x: torch.Tensor, m: int,
           n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """M gradient draws of the guide's and of the model's parameters, flattened."""
    guide, model = list(vae.guide.parameters()), list(vae.model.parameters())
    rows: dict[str, list[torch.Tensor]] = {"guide": [], "model": []}
    for seed in range(m):
        torch.manual_seed(seed)
        vae.zero_grad()
        objective.loss_and_grads(vae.model, vae.guide, x, num_data=n)
        for name, params in (("guide", guide), ("model", model)):
            rows[name].append(torch.cat([p.grad.flatten() for p in params]))
    return torch.stack(rows["guide"]), torch.stack(rows["model"])


def _snr(draws: torch.Tensor) -> float:
    mean, std = draws.mean(0), draws.std(0)
    used = std > 0
    return float((mean[used].abs() / std[used]).median())


def run(tiny: bool) -> Table:
    """SNR of the guide's (and the model's) gradient, plain against DReG, per k."""
    x_all = binarize(digits(torch.float64).train)
    torch.manual_seed(0)
    vae = pvae.VAE((64,), 4, encoder={"name": "mlp", "hidden": [32]},
                   decoder={"name": "mlp", "hidden": [32]}).double()
    pvae.fit(vae, x_all, epochs=2 if tiny else 30, batch_size=100, lr=3e-3, seed=0,
             progress=False)
    x, m = x_all[:64], (20 if tiny else 400)
    ks = (1, 5) if tiny else (1, 5, 10, 50, 100, 500)
    table = Table("gradient_snr", "The guide's gradient under objective='iwae': plain against "
                  "DReG, by k", ["k", "guide SNR, plain", "guide SNR, DReG",
                                 "guide variance, plain / DReG", "model SNR, plain",
                                 "model SNR, DReG"])
    for k in ks:
        plain_guide, plain_model = _draws(ImportanceWeightedELBO(k, gradient="plain"), vae, x,
                                          m, len(x_all))
        dreg_guide, dreg_model = _draws(ImportanceWeightedELBO(k), vae, x, m, len(x_all))
        table.add(**{
            "k": k, "guide SNR, plain": _snr(plain_guide), "guide SNR, DReG": _snr(dreg_guide),
            "guide variance, plain / DReG": float(plain_guide.var(0).sum()
                                                   / dreg_guide.var(0).sum()),
            "model SNR, plain": _snr(plain_model), "model SNR, DReG": _snr(dreg_model),
        })
    table.notes += [
        f"A 64-4-64 VAE (MLPs of 32 units, Bernoulli) trained 30 epochs on the digits with the "
        f"ELBO; one minibatch of 64 rows of {len(x_all)}, {m} gradient draws per k and "
        "estimator, float64. SNR: the median over parameter elements of |mean| / std of the "
        "draws. At k = 1 DReG is sticking the landing. Both estimators use the same seeds, so "
        "the model's gradients are the same draws of the same estimator: equal SNR columns.",
    ]
    return table
