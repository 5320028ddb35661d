"""Figures (matplotlib); each function returns a ``Figure`` and none of them trains."""

from .bounds import BoundLadder, bounds_against_k, paired_difference
from .checkpoint import checkpoint_figures, draws_images
from .gaps import gap_bars, latent_usage
from .holes import codes_over_prior
from .images import image_rows, image_shape_of, interpolations, reconstructions, samples
from .latent import latent_manifold, latent_space
from .likelihood import gaussian_likelihood, mixture_density
from .points import against_data, as_images
from .provenance import provenance, read_provenance, save_figure
from .sandwich import sandwich
from .training import training_curves

__all__ = [
    "against_data",
    "as_images",
    "BoundLadder",
    "bounds_against_k",
    "checkpoint_figures",
    "codes_over_prior",
    "draws_images",
    "gap_bars",
    "gaussian_likelihood",
    "image_rows",
    "image_shape_of",
    "interpolations",
    "latent_manifold",
    "latent_space",
    "latent_usage",
    "mixture_density",
    "paired_difference",
    "provenance",
    "read_provenance",
    "reconstructions",
    "samples",
    "sandwich",
    "save_figure",
    "training_curves",
]
