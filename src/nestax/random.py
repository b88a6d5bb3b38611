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
    """Base class; ``sample(rng, n, unit, where)`` returns n floats in NEST unit ``unit``.

    Distributions combine with numbers as NEST's parameters do: ``1 + uniform_int(4)``,
    ``0.5 * normal(0, 1)``, ``-exponential(2.0)`` (each draw is transformed; numbers are in the
    parameter's NEST unit)."""

    def sample(self, rng: np.random.Generator, n: int, unit: str, where: str = "") -> np.ndarray:
        raise NotImplementedError

    def _combine(self, other, op, swap=False):
        if isinstance(other, Distribution) or not np.isscalar(other) or isinstance(other, bool):
            return NotImplemented
        return _Transformed(self, op, float(other), swap)

    def __add__(self, x):
        return self._combine(x, "+")

    def __radd__(self, x):
        return self._combine(x, "+", True)

    def __sub__(self, x):
        return self._combine(x, "-")

    def __rsub__(self, x):
        return self._combine(x, "-", True)

    def __mul__(self, x):
        return self._combine(x, "*")

    def __rmul__(self, x):
        return self._combine(x, "*", True)

    def __truediv__(self, x):
        return self._combine(x, "/")

    def __neg__(self):
        return _Transformed(self, "*", -1.0, False)

    # a comparison with a number draws 1.0 where it holds, else 0.0 (NEST's CompareParameter); the
    # condition of ``conditional``. == and != keep Python's meaning.
    def __lt__(self, x):
        return self._combine(x, "<")

    def __le__(self, x):
        return self._combine(x, "<=")

    def __gt__(self, x):
        return self._combine(x, ">")

    def __ge__(self, x):
        return self._combine(x, ">=")

    def _v(self, x, unit, where, what):
        v = to_nest(x, unit, where, what)
        return float(np.asarray(v))


def _compare(f):
    return lambda a, b: f(a, b).astype(np.float64)


_OPS = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "<": _compare(np.less),
        "<=": _compare(np.less_equal), ">": _compare(np.greater), ">=": _compare(np.greater_equal)}


@dataclass(frozen=True)
class _Transformed(Distribution):
    """``base`` combined with the number ``x`` by ``op`` (``x op base`` when ``swap``)."""
    base: Distribution
    op: str
    x: float
    swap: bool = False

    def sample(self, rng, n, unit, where=""):
        d = self.base.sample(rng, n, unit, where)
        f = _OPS[self.op]
        return f(self.x, d) if self.swap else f(d, self.x)

    def __repr__(self):
        return f"({self.x} {self.op} {self.base!r})" if self.swap else f"({self.base!r} {self.op} {self.x})"


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


@dataclass(frozen=True)
class uniform_int(Distribution):
    """Integers uniform in 0 .. max - 1 (NEST's ``nest.random.uniform_int``)."""
    max: int = 1

    def sample(self, rng, n, unit, where=""):
        if not (isinstance(self.max, (int, np.integer)) and not isinstance(self.max, bool) and self.max >= 1):
            raise ValueError(f"{where}: nx.random.uniform_int needs an integer max >= 1, got {self.max!r}.")
        return rng.integers(0, int(self.max), n).astype(np.float64)


@dataclass(frozen=True)
class redraw(Distribution):
    """``base`` drawn again wherever a draw falls outside [min, max] (NEST's ``nest.math.redraw``): the
    result follows ``base`` truncated to the closed interval. After 1000 rounds with draws still outside,
    an error (NEST's limit), so an interval ``base`` almost never reaches fails instead of hanging."""
    base: Distribution
    min: object = -np.inf
    max: object = np.inf

    def sample(self, rng, n, unit, where=""):
        if not isinstance(self.base, Distribution):
            raise TypeError(f"{where}: redraw needs a random parameter (nest.random.normal(...), ...) to draw "
                            f"again, got {self.base!r}.")
        lo, hi = self._v(self.min, unit, where, "redraw.min"), self._v(self.max, unit, where, "redraw.max")
        if not lo <= hi:
            raise ValueError(f"{where}: redraw needs min <= max, got min={lo}, max={hi} ({unit}).")
        d = np.array(self.base.sample(rng, n, unit, where), float)
        for _ in range(1000):
            bad = np.flatnonzero((d < lo) | (d > hi))
            if bad.size == 0:
                return d
            d[bad] = self.base.sample(rng, bad.size, unit, where)
        raise ValueError(f"{where}: redraw of {self.base!r} still outside [{lo}, {hi}] ({unit}) after 1000 "
                         f"redraws; widen the interval.")


@dataclass(frozen=True)
class _Conditional(Distribution):
    """``if_true`` where a draw of ``condition`` is non-zero, else ``if_false`` (numbers or distributions;
    each distribution draws for every value)."""
    condition: Distribution
    if_true: object
    if_false: object

    def sample(self, rng, n, unit, where=""):
        c = np.asarray(self.condition.sample(rng, n, unit, where), float)
        t, f = (np.asarray(x.sample(rng, n, unit, where), float) if isinstance(x, Distribution)
                else np.full(n, self._v(x, unit, where, "conditional")) for x in (self.if_true, self.if_false))
        return np.where(c != 0.0, t, f)

    def __repr__(self):
        return f"conditional({self.condition!r}, {self.if_true!r}, {self.if_false!r})"


def conditional(condition, if_true, if_false):
    """NEST's ``nest.logic.conditional`` for parameters without positions: ``if_true`` where a draw of
    ``condition`` (``nx.random.uniform() < 0.3``) is non-zero, else ``if_false``, per node or connection.
    With spatial terms, ``nx.spatial.conditional``."""
    if not isinstance(condition, Distribution):
        raise ValueError(f"conditional: condition {condition!r} is invalid; expected a comparison of parameters "
                         "(nx.random.uniform() < 0.3, nx.spatial.distance < 0.5, ...), not a fixed value.")
    for name, x in (("if_true", if_true), ("if_false", if_false)):
        number = isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))
        if not (number or isinstance(x, Distribution) or hasattr(x, "unit")):
            raise ValueError(f"conditional: {name} = {x!r} is invalid; expected a number, a quantity or an "
                             "nx.random distribution.")
    return _Conditional(condition, if_true, if_false)


__all__ = ["Distribution", "uniform", "normal", "lognormal", "exponential", "uniform_int", "redraw",
           "conditional"]
