"""Quantities <-> NEST units at the boundary.

Inside nestax every number is a plain float in NEST's unit for that parameter (ms, mV, pA, pF, nS,
Hz). At the boundary a brainunit Quantity is converted to that unit; a bare number is taken to be in
it already. A quantity of the wrong dimension is an error.
"""
from __future__ import annotations

import brainunit as u
import numpy as np

from .errors import BadParameterError, UnitError

# NEST's unit names -> brainunit units. None: dimensionless.
UNITS = {
    "ms": u.ms,
    "mV": u.mV,
    "pA": u.pA,
    "nA": u.nA,
    "pF": u.pF,
    "nS": u.nS,
    "Hz": u.Hz,
    "pA/ms": u.pA / u.ms,
    "1": None,
    "": None,
    "deg": None,
}


def is_quantity(x) -> bool:
    return isinstance(x, u.Quantity)


def to_nest(value, unit: str, model: str = "", name: str = ""):
    """Return ``value`` as a float / float array in NEST unit ``unit``.

    Bare numbers pass through. Quantities are converted; a dimension mismatch raises UnitError naming
    the model, the parameter, the value and the expected unit.
    """
    target = UNITS.get(unit, None)
    if isinstance(value, (str, bytes)):
        raise BadParameterError(f"{model}: parameter {name!r} = {value!r} is invalid; expected a number in {unit}"
                                f"{'' if target is None else ' or a quantity convertible to ' + unit}.")
    if isinstance(value, (list, tuple)) and any(is_quantity(x) for x in value):
        # a list of quantities, e.g. [-50. * u.mV, -55. * u.mV]: convert element-wise
        return np.asarray([to_nest(x, unit, model, name) for x in value], dtype=float)
    if is_quantity(value):
        if target is None:
            if value.dim.is_dimensionless:
                return np.asarray(value.to_decimal(), dtype=float)
            raise UnitError(f"{model}: parameter {name!r} = {value} must be dimensionless.")
        try:
            return np.asarray(value.to_decimal(target), dtype=float)
        except Exception:
            raise UnitError(
                f"{model}: parameter {name!r} = {value} has the wrong unit; expected a quantity "
                f"convertible to {unit} (or a bare number in {unit})."
            ) from None
    return value


def with_unit(value, unit: str):
    """Attach NEST unit ``unit`` to a float / array (dimensionless values stay bare)."""
    target = UNITS.get(unit, None)
    if target is None:
        return value
    return u.Quantity(value, unit=target) if not np.isscalar(value) else value * target
