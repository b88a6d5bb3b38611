"""Parameter distributions, as NEST's ``nest.random`` module.

A distribution stands in for a per-node parameter (``sim.create``, ``sim.set``) or a per-connection
weight or delay (``sim.connect``). It is drawn on the host, from the Simulator's seed, when the
network is built, so a script gives the same network every time it runs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .units import to_nest


class Distribution:
    """Base class; ``sample(rng, n, unit, where)`` returns n floats in NEST unit ``unit``."""

    def sample(self, rng: np.random.Generator, n: int, unit: str, where: str = "") -> np.ndarray:
        raise NotImplementedError

    def _v(self, x, unit, where, what):
        v = to_nest(x, unit, where, what)
        return float(np.asarray(v))


@dataclass(frozen=True)
class uniform(Distribution):
    """Uniform on [min, max)."""
    min: object = 0.0
    max: object = 1.0

    def sample(self, rng, n, unit, where=""):
        lo, hi = self._v(self.min, unit, where, "uniform.min"), self._v(self.max, unit, where, "uniform.max")
        if not hi > lo:
            raise ValueError(f"{where}: nx.random.uniform needs max > min, got min={lo}, max={hi} ({unit}).")
        return rng.uniform(lo, hi, n)


@dataclass(frozen=True)
class normal(Distribution):
    """Normal with mean and standard deviation std."""
    mean: object = 0.0
    std: object = 1.0

    def sample(self, rng, n, unit, where=""):
        m, s = self._v(self.mean, unit, where, "normal.mean"), self._v(self.std, unit, where, "normal.std")
        if s < 0:
            raise ValueError(f"{where}: nx.random.normal needs std >= 0, got {s} ({unit}).")
        return rng.normal(m, s, n)


@dataclass(frozen=True)
class lognormal(Distribution):
    """exp(N(mean, std)); mean and std are of the underlying normal (dimensionless), as in NEST.

    The draw is multiplied by ``scale`` (a quantity or a number in the parameter's unit, default 1).
    """
    mean: float = 0.0
    std: float = 1.0
    scale: object = 1.0

    def sample(self, rng, n, unit, where=""):
        if self.std < 0:
            raise ValueError(f"{where}: nx.random.lognormal needs std >= 0, got {self.std}.")
        return rng.lognormal(float(self.mean), float(self.std), n) * self._v(self.scale, unit, where, "lognormal.scale")


@dataclass(frozen=True)
class exponential(Distribution):
    """Exponential with the given ``beta`` (scale, = 1/rate), as in NEST."""
    beta: object = 1.0

    def sample(self, rng, n, unit, where=""):
        b = self._v(self.beta, unit, where, "exponential.beta")
        if not b > 0:
            raise ValueError(f"{where}: nx.random.exponential needs beta > 0, got {b} ({unit}).")
        return rng.exponential(b, n)


__all__ = ["Distribution", "uniform", "normal", "lognormal", "exponential"]
