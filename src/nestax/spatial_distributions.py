"""NEST's ``nest.spatial_distributions``: functions of a spatial parameter (mostly
``nx.spatial.distance``) used as distance-dependent connection probabilities, weights or delays.
Each is evaluated per connection with NEST's formulas (``nestkernel/parameter.cpp``); none is
normalised except gamma, which is the gamma probability density."""
from __future__ import annotations

from .errors import BadParameterError
from .spatial import _Const, _Func, _number, _param

__all__ = ["gaussian", "exponential", "gaussian2D", "gamma"]


def gaussian(x, mean=0.0, std=1.0):
    """exp(-(x - mean)**2 / (2 std**2)); std > 0."""
    std = _number(std, "spatial_distributions.gaussian", "std", positive=True)
    return _Func("gaussian", (_param(x, "spatial_distributions.gaussian"),
                              _Const(_number(mean, "spatial_distributions.gaussian", "mean")), _Const(std)))


def exponential(x, beta=1.0):
    """exp(-x / beta); beta > 0."""
    beta = _number(beta, "spatial_distributions.exponential", "beta", positive=True)
    return _Func("exponential", (_param(x, "spatial_distributions.exponential"), _Const(beta)))


def gaussian2D(x, y, mean_x=0.0, mean_y=0.0, std_x=1.0, std_y=1.0, rho=0.0):
    """exp(-(dx**2/(2(1-rho**2)std_x**2)) - dy**2/(2(1-rho**2)std_y**2) + rho dx dy/((1-rho**2) std_x std_y)),
    dx = x - mean_x, dy = y - mean_y; std_x, std_y > 0, -1 < rho < 1."""
    w = "spatial_distributions.gaussian2D"
    vals = [_number(mean_x, w, "mean_x"), _number(mean_y, w, "mean_y"), _number(std_x, w, "std_x", positive=True),
            _number(std_y, w, "std_y", positive=True), _number(rho, w, "rho")]
    if not -1.0 < vals[4] < 1.0:
        raise BadParameterError(f"{w}: rho = {rho!r} is invalid; expected -1 < rho < 1.")
    return _Func("gaussian2D", (_param(x, w), _param(y, w), *(_Const(v) for v in vals)))


def gamma(x, kappa=1.0, theta=1.0):
    """The gamma density x**(kappa - 1) exp(-x / theta) / (theta**kappa Gamma(kappa)); kappa, theta > 0."""
    w = "spatial_distributions.gamma"
    return _Func("gamma", (_param(x, w), _Const(_number(kappa, w, "kappa", positive=True)),
                           _Const(_number(theta, w, "theta", positive=True))))
