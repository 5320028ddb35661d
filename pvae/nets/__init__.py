"""Encoder and decoder networks, built from small recipes resolved by name."""

from .base import ACTIVATIONS, Network, networks, pyro_visible
from .conv import Conv
from .mlp import MLP

__all__ = ["ACTIVATIONS", "MLP", "Conv", "Network", "networks", "pyro_visible"]
