"""Data sets: the digits that ship with scikit-learn (the embedded default)."""

from .digits import Split, digits

__all__ = ["Split", "digits"]
