"""Figures (matplotlib) that draw results; nothing here trains a model."""

from .bounds import BoundLadder, bounds_against_k

__all__ = ["BoundLadder", "bounds_against_k"]
