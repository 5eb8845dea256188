"""Enroller Desktop: launch, watch and explain the enroller runs of dealership campaigns."""

__version__ = "0.1.0"
