"""Amortised guides q(z | x) for the VAE, swappable by name: normal, flow, delta."""

from .base import Guide, guides
from .delta import DeltaGuide
from .flow import FlowGuide
from .normal import NormalGuide

__all__ = ["DeltaGuide", "FlowGuide", "Guide", "NormalGuide", "guides"]
