"""Vigil: safeguarding analytics for schools."""

__version__ = "0.1.0"
