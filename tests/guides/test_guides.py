import pytest
import torch

from pvae import VAE

SMALL = {"encoder": {"name": "mlp", "hidden": [16]}, "decoder": {"name": "mlp", "hidden": [16]}}


def test_flow_density_matches_its_change_of_variables():
    vae = VAE((8,), 3, guide={"name": "flow", "flows": 2}, **SMALL)
    x = torch.rand(5, 8)
    with torch.no_grad():
        q = vae.guide.posterior(x)
        z = q.rsample()
        # log q(z) = log q0(z0) - sum log|det J|, recomputed by inverting each flow
        base, transforms = q.base_dist, q.transforms
        y, log_det = z, torch.zeros(5)
        for t in reversed(transforms):
            x_prev = t.inv(y)
            log_det = log_det + t.log_abs_det_jacobian(x_prev, y)
            y = x_prev
        torch.testing.assert_close(q.log_prob(z), base.log_prob(y) - log_det, atol=1e-4, rtol=1e-4)


def test_delta_guide_is_deterministic():
    vae = VAE((8,), 3, guide="delta", **SMALL)
    x = torch.rand(4, 8)
    first, second = vae.guide(x), vae.guide(x)
    torch.testing.assert_close(first, second)
    assert not vae.guide.has_density


def test_normal_guide_scale_is_positive():
    vae = VAE((8,), 3, **SMALL)
    loc, scale = vae.guide.encode(torch.rand(4, 8) * 100)
    assert bool((scale > 0).all())


@pytest.mark.parametrize(("hidden", "message"), [
    ([0], "each flow hidden width must be a positive integer"),
    ([1], "at least the latent's size z_dim=2"),
    ("ab", "non-empty list of widths"),
    ([], "non-empty list of widths"),
])
def test_a_flows_hidden_widths_are_checked_by_pvae(hidden, message):
    with pytest.raises(ValueError, match=message):
        VAE((8,), 2, guide={"name": "flow", "hidden": hidden})
