"""What a model/guide pair is and how pvae reads it: the protocol, its traces, its terms.

Everything above (training, estimation) reads a pair through this package: the pair
protocol and its check, the log-densities and the latent read from the pair's own traces,
the ELBO's terms, the data plate, and how a minibatch is scaled to the whole data set.
"""

from .enumeration import EnumeratedLogJoint, enumerated_log_joint
from .hooks import (
    closed_form_elbo_of,
    closed_form_log_joint_of,
    data_check,
    exact_log_likelihood,
    initializer,
    kl_weight_of,
    kl_weighted,
    m_step_of,
    objective_hook,
    x_shape_of,
)
from .minibatch import DATA_SCALE, DataPlateScale, Minibatches, minibatches, takes_num_data
from .plates import data_plate, kl_scale
from .probe import buffer_snapshot, buffers_kept
from .protocol import Pair, PairError, check_local_latents, check_pair, params_outside
from .support import check_observations, surely_in_support
from .terms import elbo_terms, true_objective, unit_kl_weight
from .traces import (
    EnumeratedSiteError,
    Latent,
    LatentDensities,
    base_distribution,
    in_particles,
    is_point_mass,
    latent_densities,
    latent_of,
    log_joint,
    sample_sites,
    site_log_prob,
)

__all__ = [
    "DATA_SCALE", "DataPlateScale", "EnumeratedLogJoint", "EnumeratedSiteError", "Latent",
    "LatentDensities",
    "Minibatches", "Pair", "PairError", "base_distribution", "buffer_snapshot", "buffers_kept",
    "check_local_latents", "check_observations", "check_pair", "data_plate", "elbo_terms",
    "in_particles", "is_point_mass", "kl_scale", "latent_densities", "latent_of", "log_joint",
    "minibatches", "params_outside", "sample_sites", "site_log_prob", "surely_in_support",
    "enumerated_log_joint", "takes_num_data", "true_objective", "unit_kl_weight",
    # the optional hooks (pvae.pair.hooks)
    "closed_form_elbo_of", "closed_form_log_joint_of", "data_check", "exact_log_likelihood",
    "initializer", "kl_weight_of", "kl_weighted", "m_step_of", "objective_hook", "x_shape_of",
]
