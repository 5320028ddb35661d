"""The variational autoencoder as a Pyro model/guide pair with swappable parts."""

from __future__ import annotations

import math
from typing import Any

import pyro
import torch
from pyro.infer import ELBO, TraceMeanField_ELBO
from pyro.nn import PyroModule

from ..guides import Guide, guides
from ..likelihoods import Likelihood, likelihoods
from ..nets import Network, networks, pyro_visible
from ..objectives import closed_form, objectives
from ..pair import data_plate, kl_scale
from ..priors import Prior, priors
from ..randomness import seeded
from ..registry import remember_spec
from ..validation import (
    DataError,
    as_observations,
    check_bool,
    check_count,
    check_positive_int,
    check_positive_number,
)
from .parameters import instance_name

__all__ = ["VAE", "VAEModel"]

Spec = str | dict[str, Any]


class VAEModel(PyroModule):
    r"""The generative model :math:`p(z)\,p(x \mid z)`, one ``z`` per row, in one plate."""

    kl_weight: float = 1.0

    def __init__(self, prior: Prior, decoder: torch.nn.Module, likelihood: Likelihood) -> None:
        super().__init__()
        self.prior, self.decoder, self.likelihood = prior, decoder, likelihood

    def closed_form_elbo(self, guide: Any, compiled: bool = False) -> tuple[Any, str]:
        """The model's ELBO with ``guide`` in closed form, and why not (:mod:`.closed_form`).

        The default objective's fast path reads it (the hook of :mod:`pvae.pair.hooks`).
        """
        if type(self) is not VAEModel:
            return None, f"the model is a {type(self).__name__}, a subclass of the VAE's own"
        return closed_form(self, guide, compiled)

    def forward(self, x: torch.Tensor | None = None, num_data: int | None = None, *,
                num_samples: int = 1) -> torch.Tensor:
        r"""Draw ``z ~ p(z)`` and observe ``x ~ p(x | decoder(z))`` for every row.

        With ``x=None`` the model generates, as Pyro's examples' models do: ``num_samples``
        rows (one by default) from the prior predictive :math:`z \sim p(z)`,
        :math:`x \sim p(x \mid \mathrm{decoder}(z))`, returned as ``(num_samples, *x_shape)``.
        """
        if x is None:
            if num_data is not None:
                raise ValueError("num_data scales a minibatch of observed data; with x=None "
                                 "the model generates num_samples rows: drop num_data")
            rows = check_positive_int(num_samples, "num_samples")
            anchor = next(self.decoder.parameters())
            x_none = anchor.new_empty((rows, 0))  # only its rows count, for the plate
            with data_plate(x_none, None):
                with kl_scale(self.kl_weight):
                    z = pyro.sample("z", self.prior())
                return pyro.sample("x", self.likelihood(self.decoder(z)))
        if num_samples != 1:
            raise ValueError(f"num_samples={num_samples!r} is used only with x=None (to "
                             "generate); with data the model has one row per row of x")
        prior = self.prior()
        with data_plate(x, num_data):
            with kl_scale(self.kl_weight):
                z = pyro.sample("z", prior)
            return pyro.sample("x", self.likelihood(self.decoder(z)), obs=x)


class VAE(PyroModule):
    r"""A variational autoencoder: a continuous mixture whose likelihood we can only bound.

    Model: :math:`z \sim p(z)`, :math:`x \sim p(x \mid \mathrm{decoder}(z))`. Guide:
    :math:`z \sim q(z \mid x)` from an encoder. The marginal likelihood
    :math:`p(x) = \int p(x \mid z)\,p(z)\,dz` is a mixture over a continuum of components,
    with no closed form; training maximises the ELBO

    .. math:: \log p(x) \ge \mathbb{E}_{q}[\log p(x \mid z)]
              - \mathrm{KL}(q(z \mid x) \,\|\, p(z)),

    and the gap is :math:`\mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x))`.

    ``vae.model`` and ``vae.guide`` are PyroModules taking ``(x, num_data=None)``, so
    ``SVI(vae.model, vae.guide, Adam(...), Trace_ELBO())`` trains the pair as well as
    :func:`pvae.fit` does. ``vae.model(None, num_samples=n)`` generates ``n`` rows from the
    prior predictive (one row by default); the guide needs data.

    Parameters
    ----------
    x_shape : tuple of int
        The shape of one observation, e.g. ``(784,)`` or ``(1, 28, 28)``.
    z_dim : int
        The latent dimension.
    prior, likelihood, guide : str, dict or object
        Parts by name (``"vamp"``), by spec dict (``{"name": "mog", "components": 20}``)
        or as objects. See ``pvae.priors.priors``, ``pvae.likelihoods.likelihoods`` and
        ``pvae.guides.guides`` for the names.
    encoder, decoder : str, dict or Network
        Network recipes (``"mlp"``, ``{"name": "mlp", "hidden": [512, 256]}``, ``"conv"``).
    objective : str, dict or ELBO
        ``"elbo"`` (``Trace_ELBO``), ``"meanfield"`` (``TraceMeanField_ELBO``, closed-form
        KL) or ``{"name": "iwae", "k": 5}`` (the importance-weighted bound,
        :class:`~pvae.objectives.ImportanceWeightedELBO`); ``{"name": "elbo", "compile":
        True}`` compiles the closed-form loss and its gradient with ``torch.compile``.
    beta : float
        The weight of the KL term during training, > 0 (1 is the true ELBO; ``fit``'s
        ``kl_warmup`` ramps up to it). Estimates always use 1.
    seed : int, optional
        Draws the networks' (and the prior's) initial weights from this seed, leaving the
        caller's random state as it was: the same seed builds the same VAE, to the bit.
        ``None`` draws them from torch's global generator. :func:`pvae.fit`'s ``seed`` fixes
        what training draws (minibatches, the guide's samples), not these weights, so a
        script that is repeatable end to end seeds both.
    """

    def __init__(
        self,
        x_shape: tuple[int, ...] | int,
        z_dim: int,
        *,
        prior: Spec | Prior = "normal",
        likelihood: Spec | Likelihood = "bernoulli",
        guide: Spec | Guide = "normal",
        encoder: Spec | Network = "mlp",
        decoder: Spec | Network = "mlp",
        objective: Spec | ELBO = "elbo",
        beta: float = 1.0,
        seed: int | None = None,
    ) -> None:
        super().__init__(name=instance_name("VAE"))  # unique names in Pyro's param store
        shape = (x_shape,) if isinstance(x_shape, int) else tuple(x_shape)
        if not shape or any(isinstance(s, bool) or not isinstance(s, int) or s < 1
                            for s in shape):
            raise ValueError(f"x_shape must be positive integers, e.g. (784,); got {x_shape!r}")
        check_count(math.prod(shape), "the values of one observation (x_shape)")
        self.x_shape = shape
        self.z_dim = check_count(z_dim, "z_dim", each=math.prod(shape))
        # Pyro scales log-densities by positive factors only
        self.beta = check_positive_number(beta, "beta")
        resolved = objectives.resolve(objective)  # an unknown objective fails now
        self._objective = resolved  # kept: a compiled objective compiles once, not per fit

        with seeded(seed):  # every initial weight is drawn here
            guide_part: Guide = guides.resolve(guide)
            encoder_part: Network = networks.resolve(encoder)
            guide_part.setup(shape, self.z_dim, encoder_part)
            prior_part: Prior = priors.resolve(prior)
            prior_part.setup(self.z_dim, guide_part)
            likelihood_part: Likelihood = likelihoods.resolve(likelihood)
            likelihood_part.setup(shape)
            decoder_part: Network = networks.resolve(decoder)
            decoder_net = decoder_part.build((self.z_dim,), shape)
        pyro_visible(decoder_net)

        remember_spec(self, "vae", x_shape=list(shape), z_dim=self.z_dim, prior=prior_part,
                      likelihood=likelihood_part, guide=guide_part, encoder=encoder_part,
                      decoder=decoder_part, objective=resolved, beta=self.beta)
        self.model = VAEModel(prior_part, decoder_net, likelihood_part)
        self.guide = guide_part
        self.kl_weight = self.beta
        analytic = prior_part.analytic_kl and guide_part.analytic_kl
        if isinstance(resolved, TraceMeanField_ELBO) and not analytic:
            raise ValueError(
                "objective='meanfield' needs a closed-form KL: the 'normal' prior with the "
                f"'normal' guide; got {type(prior_part).__name__} and "
                f"{type(guide_part).__name__}. Use objective='elbo'."
            )

    # -- the pair protocol -----------------------------------------------------------------
    def objective(self) -> ELBO:
        """The training objective (the same instance every time)."""
        return self._objective

    @property
    def kl_weight(self) -> float:
        """The current weight of the KL term (``beta`` unless a warm-up or estimator set it)."""
        return self.model.kl_weight

    @kl_weight.setter
    def kl_weight(self, weight: float) -> None:
        self.model.kl_weight = weight
        self.guide.kl_weight = weight

    def check_data(self, x: Any) -> torch.Tensor:
        """Validate data for this VAE: shape ``(N, *x_shape)``, finite, in the support."""
        tensor = as_observations(x, self.x_shape, model="this VAE")
        problem = self.model.likelihood.support_error(tensor)
        if problem:
            raise DataError(problem)
        return tensor

    # -- what a trained VAE does -----------------------------------------------------------
    def _input(self, x: Any, name: str = "data") -> torch.Tensor:
        anchor = next(self.parameters())
        return as_observations(x, self.x_shape, model="this VAE", name=name).to(anchor)

    def _one(self, value: Any, name: str) -> torch.Tensor:
        """A single observation of shape ``x_shape``."""
        try:
            tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(value)
        except (TypeError, ValueError, RuntimeError):
            raise DataError(f"{name} must be one observation of shape {self.x_shape}; got "
                            f"{type(value).__name__}") from None
        return self._input(tensor.unsqueeze(0), name)[0]

    @torch.no_grad()
    def encode(self, x: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """The guide's location and scale for each row, each ``(N, z_dim)``."""
        return self.guide.encode(self._input(x))

    @torch.no_grad()
    def decode(self, z: Any) -> torch.Tensor:
        """The expected observation for each code (rows of ``z``), ``(N, *x_shape)``."""
        anchor = next(self.parameters())
        codes = as_observations(z, (self.z_dim,), model="this VAE's decoder", name="codes")
        check_count(len(codes), "codes", each=math.prod(self.x_shape))
        return self.model.likelihood.mean(self.model.decoder(codes.to(anchor)))

    def reconstruct(self, x: Any) -> torch.Tensor:
        """Decode the guide's location for each row: ``E[x | z = mean of q(z | x)]``."""
        loc, _ = self.encode(x)
        return self.decode(loc)

    @torch.no_grad()
    def sample(self, n: int, *, mean: bool = True) -> torch.Tensor:
        r"""Draw ``n`` codes from the prior and decode them, ``(n, *x_shape)``.

        ``mean=True`` returns each code's expected observation :math:`E[x \mid z]` (smooth:
        the likelihood's average over every image the code could stand for); ``mean=False``
        draws :math:`x \sim p(x \mid z)` itself, the model's actual samples (for a
        factorised likelihood, independent noise on every pixel).
        """
        n = check_count(n, "n", each=math.prod(self.x_shape))
        codes = self.model.prior().sample((n,))
        if check_bool(mean, "mean"):
            return self.decode(codes)
        decoded = self.model.decoder(codes.to(next(self.parameters())))
        return self.model.likelihood(decoded).sample()

    @torch.no_grad()
    def interpolate(self, start: Any, end: Any, steps: int = 8) -> torch.Tensor:
        """Decode ``steps`` codes on the line between the guide's means for two inputs.

        ``start`` and ``end`` are single observations of shape ``x_shape``; the result is
        ``(steps, *x_shape)``, from ``start``'s reconstruction to ``end``'s.
        """
        steps = check_count(steps, "steps", each=math.prod(self.x_shape))
        pair = torch.stack([self._one(start, "start"), self._one(end, "end")])
        loc, _ = self.guide.encode(pair)
        weights = torch.linspace(0, 1, steps, dtype=loc.dtype, device=loc.device)[:, None]
        return self.decode((1 - weights) * loc[0] + weights * loc[1])
