"""NEST's spatial layer: node positions, masks and distance-dependent connection parameters.

Positions are given when nodes are created::

    sim.create(nx.iaf_psc_alpha, positions=nx.spatial.grid(shape=[5, 5], extent=[1., 1.]))
    sim.create(nx.iaf_psc_alpha, 100, positions=nx.spatial.free(nx.random.uniform(-0.5, 0.5),
                                                               num_dimensions=2))

and connection rules take a ``mask`` and distance-dependent values::

    sim.connect(src, tgt, rule="pairwise_bernoulli",
                p=nx.spatial_distributions.gaussian(nx.spatial.distance, std=0.2),
                mask=nx.spatial.circular(radius=0.5),
                weight=1.0 + 2.0 * nx.spatial.distance, delay=1.0 + nx.spatial.distance)

Semantics (NEST 3.10, ``nestkernel/grid_layer.h``, ``free_layer.h``, ``connection_creator_impl.h``):

- grid: ``shape = [n_x, n_y(, n_z)]``; default extent 1 in every dimension and center 0; node i sits
  at grid index (i // n_y, i % n_y) in 2-D ((i // (n_y n_z), (i // n_z) % n_y, i % n_z) in 3-D),
  x growing with the first index and y *falling* with the second (matrix convention).
- free: positions as given (or drawn per node from an ``nx.random`` distribution); the center is
  the middle of the positions' bounding box; the default extent is that box's size rounded up to
  whole units in each dimension; a given extent must hold every position.
- displacement from a to b = pos(b) - pos(a); with ``edge_wrap=True`` the shortest periodic image
  (each component in [-extent/2, extent/2)).
- pairwise_bernoulli (default ``use_on_source=False``): source s connects to target t if t lies in
  the mask placed at s (displacement s -> t, the target layer's periodicity) and a draw falls under
  ``p``; ``use_on_source=True``: s must lie in the mask placed at t (source layer).
- fixed_indegree: each target draws its sources from the source-layer mask placed at it, with
  probability proportional to ``p`` (then a weight, not a probability); fixed_outdegree: each source
  draws its targets from the target-layer mask placed at it.
- ``distance`` is |pos(t) - pos(s)| (periodic where the layer wraps); ``distance.x`` its absolute x
  component; weights and delays given as expressions are evaluated per connection.

Values are plain numbers in NEST's units (positions and distances in the layer's units, mostly mm).
"""
from __future__ import annotations

import builtins
import math as _math
from dataclasses import dataclass

import numpy as np

from .errors import BadParameterError, did_you_mean
from .random import Distribution

__all__ = ["grid", "free", "distance", "source_pos", "target_pos", "pos", "Parameter", "Mask", "mask",
           "rectangular", "circular", "spherical", "doughnut", "elliptical", "ellipsoidal", "box", "exp", "sin",
           "cos", "min", "max", "pow", "conditional", "get_position", "displacement", "distance_between", "find_nearest",
           "find_center", "layer_of", "MASK_TYPES"]


# ---------------------------------------------------------------------------------------------- positions
@dataclass(frozen=True)
class grid:
    """Nodes on a regular grid: ``shape = [n_x, n_y]`` or ``[n_x, n_y, n_z]`` (NEST's nest.spatial.grid).
    ``extent`` (default 1 per dimension) and ``center`` (default 0) in the layer's units;
    ``edge_wrap=True`` makes the layer periodic."""
    shape: object
    center: object = None
    extent: object = None
    edge_wrap: bool = False


@dataclass(frozen=True)
class free:
    """Nodes at given positions (NEST's nest.spatial.free): ``pos`` a list / array of 2- or 3-element
    positions, or an ``nx.random`` distribution drawn per node and dimension (then give
    ``num_dimensions`` or ``extent``); a list of distributions gives one per dimension."""
    pos: object
    extent: object = None
    edge_wrap: bool = False
    num_dimensions: int | None = None


# ---------------------------------------------------------------------------------------------- parameters
class _Ctx:
    """What a connection parameter is evaluated on: source and target positions (n, D) and the layer
    whose periodicity counts, plus a random generator for random terms."""

    def __init__(self, src, tgt, layer, rng):
        self.src, self.tgt, self.layer, self.rng = src, tgt, layer, rng
        self.n = len(src)
        self._d = None

    def displacement(self):
        if self._d is None:
            self._d = self.layer.conn_displacement(self.src, self.tgt)
        return self._d


class Parameter:
    """A value computed per connection from the positions of its source and target (NEST's spatial
    Parameter): combine with numbers, other parameters and ``nx.random`` distributions by
    ``+ - * / **`` and the functions ``exp``, ``sin``, ``cos``, ``min``, ``max``, ``pow``."""

    def value(self, ctx) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _op(self, other, op, swap=False):
        other = _as_param(other)
        if other is None:
            return NotImplemented
        return _BinOp(other, self, op) if swap else _BinOp(self, other, op)

    def __add__(self, x):
        return self._op(x, "+")

    def __radd__(self, x):
        return self._op(x, "+", True)

    def __sub__(self, x):
        return self._op(x, "-")

    def __rsub__(self, x):
        return self._op(x, "-", True)

    def __mul__(self, x):
        return self._op(x, "*")

    def __rmul__(self, x):
        return self._op(x, "*", True)

    def __truediv__(self, x):
        return self._op(x, "/")

    def __rtruediv__(self, x):
        return self._op(x, "/", True)

    def __pow__(self, x):
        return self._op(x, "**")

    def __neg__(self):
        return _BinOp(_Const(-1.0), self, "*")

    # comparisons give 1.0 where true and 0.0 where false, per connection or node (NEST's
    # CompareParameter); == and != are not overloaded, so parameters keep Python's identity equality
    def __lt__(self, x):
        return self._op(x, "<")

    def __le__(self, x):
        return self._op(x, "<=")

    def __gt__(self, x):
        return self._op(x, ">")

    def __ge__(self, x):
        return self._op(x, ">=")

    def __bool__(self):
        raise TypeError("a spatial Parameter has no truth value; it is evaluated per connection.")


def _as_param(x):
    if isinstance(x, Parameter):
        return x
    if isinstance(x, Distribution):
        return _Random(x)
    if isinstance(x, (bool, np.bool_)):
        return None
    if isinstance(x, (int, float, np.integer, np.floating)):
        return _Const(float(x))
    return None


def _param(x, what):
    p = _as_param(x)
    if p is None:
        raise BadParameterError(f"{what}: {x!r} is invalid; expected a number, an nx.random distribution or a "
                                "spatial parameter (nx.spatial.distance, ...).")
    return p


def _compare(f):
    return lambda a, b: f(a, b).astype(float)


_BIN = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "**": np.power,
        "<": _compare(np.less), "<=": _compare(np.less_equal), ">": _compare(np.greater),
        ">=": _compare(np.greater_equal)}


@dataclass(frozen=True, eq=False)
class _BinOp(Parameter):
    a: Parameter
    b: Parameter
    op: str

    def value(self, ctx):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _BIN[self.op](self.a.value(ctx), self.b.value(ctx))

    def __repr__(self):
        return f"({self.a!r} {self.op} {self.b!r})"


@dataclass(frozen=True, eq=False)
class _Const(Parameter):
    v: float

    def value(self, ctx):
        return np.full(ctx.n, self.v)

    def __repr__(self):
        return repr(self.v)


@dataclass(frozen=True, eq=False)
class _Random(Parameter):
    """An nx.random distribution inside an expression: one draw per connection."""
    dist: Distribution

    def value(self, ctx):
        return np.asarray(self.dist.sample(ctx.rng, ctx.n, "1", "spatial parameter"), float)

    def __repr__(self):
        return repr(self.dist)


class _Distance(Parameter):
    """Distance between source and target (``dimension`` 0), or the absolute displacement along
    x / y / z (1 / 2 / 3), periodic where the layer wraps."""

    def __init__(self, dimension=0):
        self.dimension = int(dimension)

    def value(self, ctx):
        d = ctx.displacement()
        if self.dimension == 0:
            return np.sqrt(np.sum(d * d, axis=1))
        if self.dimension > d.shape[1]:
            raise BadParameterError(f"nx.spatial.distance: dimension {self.dimension} ({'xyz'[self.dimension - 1]}) "
                                    f"is not a dimension of a {d.shape[1]}-D layer.")
        return np.abs(d[:, self.dimension - 1])

    @property
    def x(self):
        return _Distance(1)

    @property
    def y(self):
        return _Distance(2)

    @property
    def z(self):
        return _Distance(3)

    @staticmethod
    def n(dimension):
        return _Distance(dimension)

    def __repr__(self):
        return "distance" + ("", ".x", ".y", ".z")[self.dimension]


class _Position(Parameter):
    """Position of the source (endpoint 1) or target (endpoint 2) along one axis (0, 1, 2)."""

    def __init__(self, dimension, endpoint):
        self.dimension, self.endpoint = int(dimension), int(endpoint)

    def value(self, ctx):
        p = ctx.src if self.endpoint == 1 else ctx.tgt
        if self.dimension >= p.shape[1]:
            raise BadParameterError(f"nx.spatial position: dimension {self.dimension} is not a dimension of a "
                                    f"{p.shape[1]}-D layer.")
        return np.array(p[:, self.dimension], float)

    def __repr__(self):
        return f"{('source', 'target')[self.endpoint - 1]}_pos.{'xyz'[self.dimension]}"


class _Endpoint:
    def __init__(self, endpoint):
        self.x, self.y, self.z = (_Position(i, endpoint) for i in range(3))
        self._e = endpoint

    def n(self, dimension):
        return _Position(dimension, self._e)


#: distance between source and target; ``distance.x`` / ``.y`` / ``.z``: absolute displacement along an axis
distance = _Distance(0)
source_pos = _Endpoint(1)
target_pos = _Endpoint(2)
#: a node's own position (``create(..., positions=..., V_m=-70. + nx.spatial.pos.x)``); in a connection, the source's
pos = _Endpoint(1)


@dataclass(frozen=True, eq=False)
class _Func(Parameter):
    name: str
    args: tuple

    def value(self, ctx):
        v = [a.value(ctx) for a in self.args]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return _FUNCS[self.name](v, self.args)

    def __repr__(self):
        return f"{self.name}({', '.join(map(repr, self.args))})"


def _gaussian(v, args):
    mean, std = args[1].v, args[2].v
    dx = v[0] - mean
    return np.exp(-dx * dx * (1.0 / (2 * std * std)))


def _gaussian2d(v, args):
    mx, my, sx, sy, rho = (a.v for a in args[2:])
    xt = 1.0 / (2.0 * (1.0 - rho * rho) * sx * sx)
    yt = 1.0 / (2.0 * (1.0 - rho * rho) * sy * sy)
    xyt = rho / ((1.0 - rho * rho) * sx * sy)
    dx, dy = v[0] - mx, v[1] - my
    return np.exp(-dx * dx * xt - dy * dy * yt + dx * dy * xyt)


def _gamma(v, args):
    kappa, theta = args[1].v, args[2].v
    inv = 1.0 / theta
    delta = inv ** kappa / _math.gamma(kappa)
    return np.power(v[0], kappa - 1.0) * np.exp(-1.0 * inv * v[0]) * delta


#: what each _Func computes from its arguments' values ``v`` (and its constant arguments ``args``)
_FUNCS = {
    "exp": lambda v, args: np.exp(v[0]),
    "sin": lambda v, args: np.sin(v[0]),
    "cos": lambda v, args: np.cos(v[0]),
    "min": lambda v, args: np.minimum(v[0], v[1]),
    "max": lambda v, args: np.maximum(v[0], v[1]),
    "pow": lambda v, args: np.power(v[0], v[1]),
    "conditional": lambda v, args: np.where(v[0] != 0.0, v[1], v[2]),
    "gaussian": _gaussian,
    "exponential": lambda v, args: np.exp(-v[0] * (1.0 / args[1].v)),
    "gaussian2D": _gaussian2d,
    "gamma": _gamma,
}


def exp(x):
    """e ** x, per connection (NEST's nest.math.exp)."""
    return _Func("exp", (_param(x, "nx.spatial.exp"),))


def sin(x):
    return _Func("sin", (_param(x, "nx.spatial.sin"),))


def cos(x):
    return _Func("cos", (_param(x, "nx.spatial.cos"),))


def min(x, value):  # noqa: A001  (NEST's nest.math.min)
    """The smaller of x and value, per connection."""
    return _Func("min", (_param(x, "nx.spatial.min"), _param(value, "nx.spatial.min")))


def max(x, value):  # noqa: A001
    """The larger of x and value, per connection."""
    return _Func("max", (_param(x, "nx.spatial.max"), _param(value, "nx.spatial.max")))


def pow(x, exponent):  # noqa: A001
    return _Func("pow", (_param(x, "nx.spatial.pow"), _param(exponent, "nx.spatial.pow")))


def conditional(condition, param_if_true, param_if_false):
    """``param_if_true`` where ``condition`` is non-zero, else ``param_if_false``, per connection or node
    (NEST's ``nest.logic.conditional``). The condition is a comparison (``nx.spatial.distance < 0.3``,
    ``nx.random.uniform() < 0.2``) or any parameter; the branches are numbers, ``nx.random``
    distributions or spatial parameters. Both branches are evaluated (a random branch draws for every
    connection). Without a spatial term the result is an ``nx.random`` distribution, usable on nodes
    and connections without positions."""
    parts = (condition, param_if_true, param_if_false)
    if not any(isinstance(x, Parameter) for x in parts):
        return _random_conditional(*parts)
    if not isinstance(condition, (Parameter, Distribution)):
        raise BadParameterError(f"nx.spatial.conditional: condition {condition!r} is invalid; expected a comparison "
                                "of parameters (nx.spatial.distance < 0.5, nx.random.uniform() < 0.2, ...).")
    return _Func("conditional", tuple(_param(x, "nx.spatial.conditional") for x in parts))


def _random_conditional(condition, if_true, if_false):
    from .random import conditional as rc
    return rc(condition, if_true, if_false)


def _number(v, where, name, positive=False):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise BadParameterError(f"{where}: {name} = {v!r} is invalid; expected a number.")
    v = float(v)
    if positive and not v > 0:
        raise BadParameterError(f"{where}: {name} = {v!r} is invalid; expected a number > 0.")
    return v


# ---------------------------------------------------------------------------------------------- masks
class Mask:
    """A region relative to the node it is placed at (NEST's Mask). ``inside(points)`` takes an
    (n, D) array of displacements and returns n booleans. Masks combine with ``&`` (both), ``|``
    (either) and ``-`` (the first without the second)."""
    ndim: int = 2
    name: str = "mask"

    def inside(self, p: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def bbox(self):
        """(lower_left, upper_right) of the region."""
        raise NotImplementedError  # pragma: no cover

    def __and__(self, other):
        return _Combined(self, _check_same_dim(self, other), "and")

    def __or__(self, other):
        return _Combined(self, _check_same_dim(self, other), "or")

    def __sub__(self, other):
        return _Combined(self, _check_same_dim(self, other), "minus")


def _check_same_dim(a, b):
    if not isinstance(b, Mask):
        raise BadParameterError(f"mask: cannot combine a mask with {b!r}.")
    if a.ndim != b.ndim:
        raise BadParameterError(f"mask: cannot combine a {a.ndim}-D mask ({a.name}) with a {b.ndim}-D one ({b.name}).")
    return b


class _Combined(Mask):
    def __init__(self, a, b, how):
        self.a, self.b, self.how, self.ndim, self.name = a, b, how, a.ndim, f"({a.name} {how} {b.name})"

    def inside(self, p):
        ia, ib = self.a.inside(p), self.b.inside(p)
        return ia & ib if self.how == "and" else ia | ib if self.how == "or" else ia & ~ib

    def bbox(self):
        (la, ua), (lb, ub) = self.a.bbox(), self.b.bbox()
        if self.how == "and":
            return np.maximum(la, lb), np.minimum(ua, ub)
        if self.how == "or":
            return np.minimum(la, lb), np.maximum(ua, ub)
        return la, ua


class _Anchored(Mask):
    """``base`` moved by ``anchor``: a point p is inside if p - anchor is inside ``base``."""

    def __init__(self, base, anchor):
        self.base, self.anchor, self.ndim, self.name = base, anchor, base.ndim, base.name

    def inside(self, p):
        return self.base.inside(p - self.anchor)

    def bbox(self):
        lo, hi = self.base.bbox()
        return lo + self.anchor, hi + self.anchor


def _vec(v, n, where, name):
    try:
        a = np.asarray(v, float)
    except (TypeError, ValueError):
        a = None
    if a is None or a.shape != (n,) or not np.all(np.isfinite(a)):
        raise BadParameterError(f"{where}: {name} = {v!r} is invalid; expected {n} finite numbers.")
    return a


class _Box(Mask):
    def __init__(self, ndim, lower_left, upper_right, azimuth_angle=0.0, polar_angle=0.0):
        where = "rectangular mask" if ndim == 2 else "box mask"
        self.ndim, self.name = ndim, "rectangular" if ndim == 2 else "box"
        self.ll, self.ur = _vec(lower_left, ndim, where, "lower_left"), _vec(upper_right, ndim, where, "upper_right")
        if not np.all(self.ll < self.ur):
            raise BadParameterError(f"{where}: upper_right = {self.ur.tolist()} must be strictly above and to the "
                                    f"right of lower_left = {self.ll.tolist()} in every dimension.")
        self.az = _number(azimuth_angle, where, "azimuth_angle")
        self.pol = _number(polar_angle, where, "polar_angle")
        if ndim == 2 and self.pol != 0.0:
            raise BadParameterError(f"{where}: polar_angle is not defined in 2-D (use a 3-D box mask).")
        self.rotated = self.az != 0.0 or self.pol != 0.0
        self.ac, self.as_ = _math.cos(self.az * _math.pi / 180.), _math.sin(self.az * _math.pi / 180.)
        self.pc, self.ps = _math.cos(self.pol * _math.pi / 180.), _math.sin(self.pol * _math.pi / 180.)
        self.c = (self.ur + self.ll) * 0.5

    def _rotate(self, p):
        c, ac, as_, pc, ps = self.c, self.ac, self.as_, self.pc, self.ps
        x, y = p[:, 0], p[:, 1]
        if self.ndim == 2:
            nx_ = x * ac - c[0] * ac + y * as_ - c[1] * as_ + c[0]
            ny_ = -x * as_ + c[0] * as_ + y * ac - c[1] * ac + c[1]
            return np.stack([nx_, ny_], axis=1)
        z = p[:, 2]
        nx_ = (x * (ac * pc) - (c[0] * ac) * pc + y * (as_ * pc) - (c[1] * as_) * pc - z * ps + c[2] * ps + c[0])
        ny_ = -x * as_ + c[0] * as_ + y * ac - c[1] * ac + c[1]
        nz_ = (x * (ac * ps) - (c[0] * ac) * ps + y * (as_ * ps) - (c[1] * as_) * ps + z * pc - c[2] * pc + c[2])
        return np.stack([nx_, ny_, nz_], axis=1)

    def inside(self, p):
        if not self.rotated:
            return np.all((self.ll <= p) & (p <= self.ur), axis=1)
        q = self._rotate(p)
        return np.all((self.ll - 1e-12 <= q) & (q <= self.ur + 1e-12), axis=1)

    def bbox(self):
        if not self.rotated:
            return self.ll, self.ur
        # the rotated box's corners (a rectangle rotated by +a or -a has the same bounding box)
        corners = np.array(np.meshgrid(*[[lo, hi] for lo, hi in zip(self.ll, self.ur)])).reshape(self.ndim, -1).T
        q = self._rotate(corners)
        return q.min(0), q.max(0)


class _Ball(Mask):
    def __init__(self, ndim, radius, anchor=None):
        where = "circular mask" if ndim == 2 else "spherical mask"
        self.ndim, self.name = ndim, "circular" if ndim == 2 else "spherical"
        self.r = _number(radius, where, "radius", positive=True)
        self.c = np.zeros(ndim) if anchor is None else _vec(anchor, ndim, where, "anchor")

    def inside(self, p):
        di = np.abs(p - self.c)
        within = np.all(di <= self.r, axis=1)
        quick = np.sum(di, axis=1) <= self.r
        length = np.sqrt(np.sum((p - self.c) ** 2, axis=1))
        return within & (quick | (length <= self.r))

    def bbox(self):
        return self.c - self.r, self.c + self.r


class _Doughnut(Mask):
    def __init__(self, inner_radius, outer_radius, anchor=None):
        self.ndim, self.name = 2, "doughnut"
        inner = _number(inner_radius, "doughnut mask", "inner_radius")
        outer = _number(outer_radius, "doughnut mask", "outer_radius", positive=True)
        if not inner < outer:
            raise BadParameterError(f"doughnut mask: inner_radius = {inner} must be smaller than outer_radius = "
                                    f"{outer}.")
        if inner < 0:
            raise BadParameterError(f"doughnut mask: inner_radius = {inner} is invalid; expected a number >= 0.")
        self.outer = _Ball(2, outer, anchor)
        self.inner = _Ball(2, 1.0, anchor)
        self.inner.r = inner  # 0 is allowed here (NEST: only the center point is left out)

    def inside(self, p):
        return self.outer.inside(p) & ~self.inner.inside(p)

    def bbox(self):
        return self.outer.bbox()


class _Ellipse(Mask):
    def __init__(self, ndim, major_axis, minor_axis, polar_axis=None, azimuth_angle=0.0, polar_angle=0.0,
                 anchor=None):
        where = "elliptical mask" if ndim == 2 else "ellipsoidal mask"
        self.ndim, self.name = ndim, "elliptical" if ndim == 2 else "ellipsoidal"
        self.a = _number(major_axis, where, "major_axis", positive=True)
        self.b = _number(minor_axis, where, "minor_axis", positive=True)
        if self.a < self.b:
            raise BadParameterError(f"{where}: major_axis = {self.a} must not be smaller than minor_axis = {self.b}.")
        if ndim == 2 and polar_axis is not None:
            raise BadParameterError(f"{where}: polar_axis is not defined in 2-D (use an ellipsoidal mask).")
        if ndim == 3 and polar_axis is None:
            raise BadParameterError(f"{where}: polar_axis is missing; a 3-D ellipsoid needs it.")
        self.cz = _number(polar_axis, where, "polar_axis", positive=True) if ndim == 3 else 0.0
        self.az = _number(azimuth_angle, where, "azimuth_angle")
        self.pol = _number(polar_angle, where, "polar_angle")
        if ndim == 2 and self.pol != 0.0:
            raise BadParameterError(f"{where}: polar_angle is not defined in 2-D (use an ellipsoidal mask).")
        self.xs, self.ys = 4.0 / (self.a * self.a), 4.0 / (self.b * self.b)
        self.zs = 4.0 / (self.cz * self.cz) if ndim == 3 else 0.0
        self.ac, self.as_ = _math.cos(self.az * _math.pi / 180.), _math.sin(self.az * _math.pi / 180.)
        self.pc, self.ps = _math.cos(self.pol * _math.pi / 180.), _math.sin(self.pol * _math.pi / 180.)
        self.c = np.zeros(ndim) if anchor is None else _vec(anchor, ndim, where, "anchor")

    def inside(self, p):
        dx, dy = p[:, 0] - self.c[0], p[:, 1] - self.c[1]
        if self.ndim == 2:
            x = dx * self.ac + dy * self.as_
            y = dx * self.as_ - dy * self.ac
            return x * x * self.xs + y * y * self.ys <= 1
        dz = p[:, 2] - self.c[2]
        x = (dx * self.ac + dy * self.as_) * self.pc - dz * self.ps
        y = dx * self.as_ - dy * self.ac
        z = (dx * self.ac + dy * self.as_) * self.ps + dz * self.pc
        return x * x * self.xs + y * y * self.ys + z * z * self.zs <= 1

    def bbox(self):
        r = 0.5 * np.max([self.a, self.b, self.cz])
        return self.c - r, self.c + r


def rectangular(lower_left, upper_right, azimuth_angle=0.0, anchor=None):
    """2-D rectangle from lower_left to upper_right (edges included), rotated by azimuth_angle
    degrees about its center."""
    return _anchor(_Box(2, lower_left, upper_right, azimuth_angle), anchor)


def box(lower_left, upper_right, azimuth_angle=0.0, polar_angle=0.0, anchor=None):
    """3-D box from lower_left to upper_right, rotated by azimuth and polar angle (degrees)."""
    return _anchor(_Box(3, lower_left, upper_right, azimuth_angle, polar_angle), anchor)


def circular(radius, anchor=None):
    """2-D disc of ``radius`` (boundary included) centered at ``anchor`` (default 0)."""
    return _Ball(2, radius, anchor)


def spherical(radius, anchor=None):
    """3-D ball of ``radius`` centered at ``anchor``."""
    return _Ball(3, radius, anchor)


def doughnut(inner_radius, outer_radius, anchor=None):
    """2-D annulus: within outer_radius (included) and outside inner_radius (the inner circle excluded)."""
    return _Doughnut(inner_radius, outer_radius, anchor)


def elliptical(major_axis, minor_axis, azimuth_angle=0.0, anchor=None):
    """2-D ellipse with full axes major_axis (along x before rotation) and minor_axis, rotated by
    azimuth_angle degrees, centered at ``anchor``."""
    return _Ellipse(2, major_axis, minor_axis, None, azimuth_angle, 0.0, anchor)


def ellipsoidal(major_axis, minor_axis, polar_axis, azimuth_angle=0.0, polar_angle=0.0, anchor=None):
    """3-D ellipsoid with full axes major_axis, minor_axis, polar_axis, rotated by azimuth and polar angle."""
    return _Ellipse(3, major_axis, minor_axis, polar_axis, azimuth_angle, polar_angle, anchor)


class _GridMask(Mask):
    """NEST's grid mask (2-D): ``shape`` = [columns, rows] of grid cells, the cell [0, 0] at the
    node it is placed at unless ``anchor`` (integer cells) moves it. Only on grid layers; it becomes a
    box of whole cells of the layer it applies to (:meth:`to_box`)."""

    def __init__(self, shape, anchor=None):
        ok = isinstance(shape, (list, tuple, np.ndarray)) and len(shape) == 2 and all(
            isinstance(x, (int, np.integer)) and not isinstance(x, bool) and x > 0 for x in shape)
        if not ok:
            raise BadParameterError(f"grid mask: shape = {shape!r} is invalid; expected 2 positive integers "
                                    "(columns, rows): grid masks are 2-D (NEST 3.10 refuses 3-D ones as "
                                    "'incompatible with layer'); use a box mask on a 3-D layer.")
        self.ndim, self.name = len(shape), "grid"
        self.shape = np.array(shape, np.int64)
        a = np.zeros(self.ndim, np.int64) if anchor is None else np.asarray(anchor)
        if a.shape != (self.ndim,) or a.dtype.kind not in "iu":
            raise BadParameterError(f"grid mask: anchor = {anchor!r} is invalid; expected {self.ndim} integers "
                                    "(grid cells).")
        self.upper_left, self.lower_right = -a.astype(np.int64), self.shape - a.astype(np.int64)

    def to_box(self, lay):
        """The box of cells on grid layer ``lay`` (NEST: MaskedLayer::check_mask_)."""
        step = lay.extent / np.array(lay.shape)
        ll = step * self.upper_left - step * 0.5
        ur = step * self.lower_right - step * 0.5
        ll[1], ur[1] = -ur[1], -ll[1]  # matrix convention: rows run downwards
        return _Box(self.ndim, ll, ur)

    def inside(self, p):
        raise BadParameterError("grid mask: it is placed on a grid layer when connecting; it has no region alone.")

    def bbox(self):
        raise BadParameterError("grid mask: it is placed on a grid layer when connecting; it has no region alone.")

    def _no(self, other):
        raise BadParameterError("grid masks cannot be combined (NEST: 'Grid masks can not be combined').")

    __and__ = __or__ = __sub__ = _no


def _anchor(m, anchor):
    return m if anchor is None else _Anchored(m, _vec(anchor, m.ndim, f"{m.name} mask", "anchor"))


_MASK_ARGS = {
    "rectangular": (rectangular, ("lower_left", "upper_right", "azimuth_angle")),
    "box": (box, ("lower_left", "upper_right", "azimuth_angle", "polar_angle")),
    "circular": (circular, ("radius", "anchor")),
    "spherical": (spherical, ("radius", "anchor")),
    "doughnut": (doughnut, ("inner_radius", "outer_radius", "anchor")),
    "elliptical": (elliptical, ("major_axis", "minor_axis", "azimuth_angle", "anchor")),
    "ellipsoidal": (ellipsoidal, ("major_axis", "minor_axis", "polar_axis", "azimuth_angle", "polar_angle",
                                  "anchor")),
}
MASK_TYPES = tuple(_MASK_ARGS) + ("grid",)


def mask(masktype, specs=None, anchor=None, **kwargs):
    """A mask by NEST's name and specification (NEST's CreateMask): ``mask("circular", {"radius": 0.5})``,
    ``mask("rectangular", lower_left=[-1, -1], upper_right=[1, 1], anchor=[0.5, 0])``, or NEST's
    dict ``mask({"circular": {"radius": 0.5}, "anchor": [0.1, 0.]})``."""
    if isinstance(masktype, Mask):
        return masktype
    if isinstance(masktype, dict):
        d = dict(masktype)
        anchor = d.pop("anchor", anchor)
        if len(d) != 1:
            raise BadParameterError(f"mask: {masktype!r} must name exactly one mask type (one of "
                                    f"{', '.join(MASK_TYPES)}), optionally with 'anchor'.")
        masktype, specs = next(iter(d.items()))
    if masktype == "grid":
        specs = {**(specs or {}), **kwargs}
        if set(specs) != {"shape"}:
            raise BadParameterError(f"mask grid: the specification is {{'shape': [columns, rows]}}; got {specs!r}.")
        return _GridMask(specs["shape"], anchor)
    if masktype not in _MASK_ARGS:
        raise BadParameterError(f"mask: unknown mask type {masktype!r}.{did_you_mean(str(masktype), MASK_TYPES)} "
                                f"Known types: {', '.join(MASK_TYPES)}.")
    fn, names = _MASK_ARGS[masktype]
    specs = {**(specs or {}), **kwargs}
    if not isinstance(specs, dict):
        raise BadParameterError(f"mask {masktype}: the specification must be a dict, got {specs!r}.")
    for k in specs:
        if k not in names:
            raise BadParameterError(f"mask {masktype}: unknown parameter {k!r}.{did_you_mean(k, names)} "
                                    f"{masktype} takes: {', '.join(names)}.")
    try:
        m = fn(**specs)
    except TypeError as e:
        raise BadParameterError(f"mask {masktype}: {e}; it takes {', '.join(names)}.") from None
    if anchor is not None:
        m = _Anchored(m, _vec(anchor, m.ndim, f"{masktype} mask", "anchor"))
    return m


# ---------------------------------------------------------------------------------------------- queries
def layer_of(nodes, what="nodes"):
    """The (one) spatial layer the nodes belong to, and the nodes' indices in it."""
    from .network.spatial import layer_and_index
    return layer_and_index(nodes._sim._net, nodes._gids, what)


def get_position(nodes) -> np.ndarray:
    """Positions of the nodes: (D,) for one node, (n, D) for several (NEST's GetPosition)."""
    lay, idx = layer_of(nodes, "get_position")
    p = lay.positions[idx]
    return p[0].copy() if len(idx) == 1 else p.copy()


def _from_points(from_, to, call):
    from .nodes import NodeCollection
    if not isinstance(to, NodeCollection):
        raise BadParameterError(f"{call}: 'to' must be a spatial NodeCollection, got {to!r}.")
    lay, idx = layer_of(to, call)
    if isinstance(from_, NodeCollection):
        pts = np.atleast_2d(get_position(from_))
    else:
        pts = np.atleast_2d(np.asarray(from_, float))
        if pts.ndim != 2 or pts.shape[1] != lay.ndim:
            raise BadParameterError(f"{call}: positions {from_!r} must have {lay.ndim} coordinates each (the layer "
                                    f"is {lay.ndim}-D).")
    if len(pts) > 1 and len(idx) > 1 and len(pts) != len(idx):
        raise BadParameterError(f"{call}: {len(pts)} 'from' positions and {len(idx)} 'to' nodes; give equally many, "
                                "or one of either.")
    tp = lay.positions[idx]
    n = builtins.max(len(pts), len(tp))
    return lay, np.broadcast_to(pts, (n, lay.ndim)), np.broadcast_to(tp, (n, lay.ndim))


def displacement(from_, to) -> np.ndarray:
    """pos(to) - pos(from) per pair, the shortest periodic image where ``to``'s layer wraps (NEST's
    Displacement); ``from_`` is nodes or positions, ``to`` spatial nodes; one of either pairs with all."""
    lay, a, b = _from_points(from_, to, "displacement")
    return lay.query_displacement(a, b)


def distance_between(from_, to) -> np.ndarray:
    """|displacement(from_, to)| per pair (NEST's Distance)."""
    d = displacement(from_, to)
    return np.sqrt(np.sum(d * d, axis=1))


def find_nearest(layer, locations, find_all=False):
    """The node of ``layer`` nearest to each location (NEST's FindNearestElement): a NodeCollection of
    one node per location (a list of them for several locations); ``find_all``: every node at the
    smallest distance (within 1e-14 relative), as a list."""
    locs = np.asarray(locations, float)
    single = locs.ndim == 1
    locs = np.atleast_2d(locs)
    out = []
    for loc in locs:
        d = distance_between(loc[None, :], layer)
        if not find_all:
            out.append(layer[int(np.argmin(d))])
        else:
            m = d[0]
            best = [0]
            for i in range(1, len(d)):
                if d[i] < m:
                    best, m = [i], d[i]
                elif abs(d[i] - m) <= 1e-14 * m:
                    best.append(i)
            out.append([layer[i] for i in best])
    return out[0] if single or len(out) == 1 else out


def find_center(layer):
    """The node of ``layer`` nearest to the layer's center (NEST's FindCenterElement)."""
    lay, _ = layer_of(layer, "find_center")
    return find_nearest(layer, lay.center)
