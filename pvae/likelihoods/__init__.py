"""Observation models: the distribution of the data given the model's parameters."""

from .location_scale import LocationScaleFamily, Normal, StudentT, location_scale_families

__all__ = ["LocationScaleFamily", "Normal", "StudentT", "location_scale_families"]
