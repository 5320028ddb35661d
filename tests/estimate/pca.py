"""The linear-Gaussian model the estimators are checked on: exact, with an exact guide."""

import torch

import pvae


def closed_form_pca():
    """PPCA (D = 6, q = 2) at its closed form on 400 rows it generates; its guide exact."""
    generator = torch.Generator().manual_seed(1)
    weight = torch.randn(6, 2, generator=generator, dtype=torch.float64)
    x = (torch.randn(400, 2, generator=generator, dtype=torch.float64) @ weight.T
         + 0.3 * torch.randn(400, 6, generator=generator, dtype=torch.float64))
    model = pvae.LinearGaussian(6, 2).double()
    model.set_closed_form(x, exact_guide=True)
    return model, x
