"""Quantities <-> NEST units at the boundary.

Inside nestax every number is a plain float in NEST's unit for that parameter (ms, mV, pA, pF, nS,
Hz, 1/ms, Hz/mV, ...). At the boundary a brainunit Quantity is converted to that unit; a bare number is
taken to be in it already. A quantity of the wrong dimension is an error.

Unit strings are parsed by brainunit (``brainunit.parse_unit``), so any unit it knows works, compound
ones included ("1/ms", "pA/ms", "Hz/mV", "nS*mV"); each string is parsed once and cached. "1", "" and
"deg" are dimensionless. "weight" (a synapse parameter in the unit of the connection's weight, i.e. of
the target model) and "any" (a target that ignores the weight's unit, parrot_neuron) are markers the
simulator resolves before converting; see :func:`to_nest`.
"""
from __future__ import annotations

import functools

import brainunit as u
import numpy as np

from .errors import BadParameterError, UnitError

# unit strings that mean "no unit": plain numbers, fractions, counts, flags; degrees (phases)
DIMENSIONLESS = frozenset({"1", "", "deg"})
# markers, not units: the simulator replaces "weight" by the target model's weight unit and handles
# "any" (parrot_neuron) itself
MARKERS = frozenset({"weight", "any"})


@functools.lru_cache(maxsize=None)
def parse(unit: str):
    """The brainunit unit for NEST unit string ``unit``; None if dimensionless.

    Raises ValueError for a string brainunit does not know, and for the markers "weight" and "any".
    """
    if unit is None or unit in DIMENSIONLESS:
        return None
    if unit in MARKERS:
        raise ValueError(f"{unit!r} is a marker, not a unit: the simulator resolves it to the target "
                         "model's weight unit before converting.")
    try:
        un = u.parse_unit(unit)
    except Exception as e:  # brainunit raises ValueError for unknown names; keep one error type
        raise ValueError(f"unknown unit {unit!r} ({e})") from None
    return None if un.dim.is_dimensionless and un.scale == 0 and un.factor == 1 else un


class _UnitTable(dict):
    """NEST unit string -> brainunit unit (None: dimensionless), for any string brainunit parses.

    Kept for callers of the former closed table (``UNITS.get(unit)``); markers and unknown strings
    give None, as before.
    """

    def __missing__(self, unit):
        try:
            return parse(unit)
        except (ValueError, TypeError):
            raise KeyError(unit) from None

    def get(self, unit, default=None):
        try:
            return self[unit]
        except KeyError:
            return default

    def __contains__(self, unit):
        return self.get(unit, False) is not False


UNITS = _UnitTable()


def is_quantity(x) -> bool:
    return isinstance(x, u.Quantity)


def _target(unit, model, name):
    try:
        return parse(unit)
    except ValueError as e:
        raise UnitError(f"{model}: parameter {name!r} has unit {unit!r}, which nestax cannot interpret: "
                        f"{e}") from None


def to_nest(value, unit: str, model: str = "", name: str = ""):
    """Return ``value`` as a float / float array in NEST unit ``unit``.

    Bare numbers pass through. Quantities are converted; a dimension mismatch raises UnitError naming
    the model, the parameter, the value and the expected unit.

    ``unit`` is any unit string brainunit parses ("ms", "1/ms", "Hz/mV", "nS*mV", ...); "1", "" and
    "deg" are dimensionless. The markers "weight" and "any" are resolved by the caller; given here, a
    bare number passes through, a quantity is converted as the simulator does ("any": its mantissa,
    the target ignores the unit) or refused ("weight": the unit is the target model's, unknown here).
    """
    if isinstance(value, (str, bytes)):
        dimensionless = unit in DIMENSIONLESS or unit in MARKERS
        raise BadParameterError(f"{model}: parameter {name!r} = {value!r} is invalid; expected a number in {unit}"
                                f"{'' if dimensionless else ' or a quantity convertible to ' + unit}.")
    if isinstance(value, (list, tuple)) and any(is_quantity(x) for x in value):
        # a list of quantities, e.g. [-50. * u.mV, -55. * u.mV]: convert element-wise
        return np.asarray([to_nest(x, unit, model, name) for x in value], dtype=float)
    if not is_quantity(value):
        return value
    if unit == "any":
        return np.asarray(value.mantissa, dtype=float)
    if unit == "weight":
        raise UnitError(f"{model}: parameter {name!r} = {value} is in the unit of the connection's weight, "
                        "which is the target model's; give it through sim.connect (or as a bare number).")
    target = _target(unit, model, name)
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


def with_unit(value, unit: str):
    """Attach NEST unit ``unit`` to a float / array (dimensionless values and markers stay bare)."""
    try:
        target = parse(unit)
    except ValueError:
        return value
    if target is None:
        return value
    return u.Quantity(value, unit=target) if not np.isscalar(value) else value * target
