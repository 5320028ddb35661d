"""The report's second section: a Gaussian mixture, its K chosen, EM against SVI and sklearn."""

from __future__ import annotations

import torch
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from ... import plots
from ...models import GaussianMixture
from ...selection import choose_components, format_table
from ...train import fit
from .figures import Figures

__all__ = ["mixture_section"]


def mixture_section(train: torch.Tensor, test: torch.Tensor, labels: torch.Tensor, seed: int,
                    device: str, quick: bool, figures: Figures
                    ) -> tuple[list[str], list[tuple[str, str, float]]]:
    """Choose K, fit the mixture both ways on two principal components; lines and scores."""
    pca = PCA(2).fit(train.numpy())
    x_train = torch.as_tensor(pca.transform(train.numpy()))
    x_test = torch.as_tensor(pca.transform(test.numpy()))
    ks = range(1, 5) if quick else range(1, 11)
    rows = choose_components(x_train, x_test, ks, n_init=1 if quick else 3, seed=seed)
    best = max(rows, key=lambda r: r.heldout_log_likelihood).k
    by_em, by_svi = GaussianMixture(best), GaussianMixture(best)
    fit(by_em, x_train, method="em", n_init=1 if quick else 3, seed=seed, device=device)
    fit(by_svi, x_train, steps=100 if quick else 600, lr=0.05, lr_decay=0.1, seed=seed,
        device=device)
    reference = SkGaussianMixture(best, n_init=1 if quick else 3, random_state=seed)
    reference.fit(x_train.numpy())
    name = f"Gaussian mixture, K={best}"
    by_em.cpu()
    figures["mixture_density"] = (
        plots.mixture_density(by_em.log_likelihood, x_train, labels=labels,
                              centres=by_em.locs.detach(),
                              title=f"EM mixture of {best} Gaussians on the digits' first two "
                                    "principal components"),
        "The mixture's log density, a log-sum over components, over the training points "
        "(coloured by digit) with the component means: components do not map one-to-one "
        "to digits, because the likelihood only asks them to cover the data's density.")
    scores = [
        (name, "EM, exact", float(by_em.log_likelihood(x_test).mean())),
        (name, "SVI (TraceEnum_ELBO), exact", float(by_svi.cpu().log_likelihood(x_test).mean())),
        (name, "scikit-learn EM, exact", float(reference.score(x_test.numpy()))),
    ]
    lines = [
        "## 2. A Gaussian mixture: a likelihood that is a sum",
        "",
        "Data: the digits projected onto their first two principal components. Choosing K "
        "(* marks the best by each criterion):",
        "",
        format_table(rows),
        "",
    ]
    return lines, scores
