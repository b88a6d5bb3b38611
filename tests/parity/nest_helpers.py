"""Running NEST inside a parity test.

In CI (CI=true) NEST must be importable: a missing NEST is a failure, never a skip.
"""
from __future__ import annotations

import os

import numpy as np
import pytest


def import_nest():
    try:
        import nest  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip("NEST 3.10 is not installed (pip install nest-simulator==3.10.0)")
    import nest
    try:
        nest.verbosity = nest.VerbosityLevel.ERROR
    except Exception:
        nest.set_verbosity("M_ERROR")
    return nest


def fresh_nest(resolution=0.1, seed=None):
    nest = import_nest()
    nest.ResetKernel()
    nest.resolution = resolution
    if seed is not None:
        nest.rng_seed = seed
    return nest


def mantissa(q, unit=None):
    import brainunit as u
    if unit is not None and isinstance(q, u.Quantity):
        return np.asarray(q.to_decimal(unit))
    return np.asarray(u.get_mantissa(q))
