"""PyNEST's ``nest.CreateParameter(parametertype, specs)`` for the parameter types nestax draws:
'constant', 'uniform', 'uniform_int', 'normal', 'lognormal' and 'exponential', the same values as
``nest.random.*`` (nestax.random). Spatial types ('distance', 'position', 'gaussian', ...) are given
by ``nest.spatial`` / ``nest.spatial_distributions`` in nestax; asking for them here says so."""
from __future__ import annotations

from .. import random as nxr
from ..errors import BadParameterError, did_you_mean

#: parameter type -> (its keys and their defaults, the maker)
_TYPES = {
    "constant": ({"value": 0.0}, lambda s: float(s["value"])),
    "uniform": ({"min": 0.0, "max": 1.0}, lambda s: nxr.uniform(s["min"], s["max"])),
    "uniform_int": ({"max": 1}, lambda s: nxr.uniform_int(s["max"])),
    "normal": ({"mean": 0.0, "std": 1.0}, lambda s: nxr.normal(s["mean"], s["std"])),
    "lognormal": ({"mean": 0.0, "std": 1.0}, lambda s: nxr.lognormal(s["mean"], s["std"])),
    "exponential": ({"beta": 1.0}, lambda s: nxr.exponential(s["beta"])),
}
_SPATIAL = ("distance", "position", "gaussian", "gaussian2d", "gamma", "exp_distribution", "gabor",
            "dimension_distance", "node_pos", "spatial_distance")


def CreateParameter(parametertype, specs=None):
    """NEST's CreateParameter for the random and constant types; the value works wherever a
    ``nest.random.*`` value does (connection and node parameters, arithmetic with numbers)."""
    if not isinstance(parametertype, str):
        raise TypeError(f"nest.CreateParameter: parametertype must be a string, got {parametertype!r}.")
    specs = dict(specs or {})
    if parametertype in _SPATIAL:
        raise NotImplementedError(f"nest.CreateParameter({parametertype!r}, ...) is not supported; the nearest "
                                  "supported: nest.spatial.distance / nest.spatial_distributions.* (or "
                                  "nest.spatial.pos) as values of Connect's conn_spec and syn_spec.")
    if parametertype not in _TYPES:
        raise BadParameterError(f"nest.CreateParameter: parameter type {parametertype!r} is unknown; expected one of "
                                f"{', '.join(sorted(_TYPES))}.{did_you_mean(parametertype, _TYPES)}")
    defaults, make = _TYPES[parametertype]
    extra = [k for k in specs if k not in defaults]
    if extra:
        raise BadParameterError(f"nest.CreateParameter({parametertype!r}): key {extra[0]!r} is unknown; expected "
                                f"{', '.join(defaults)}.{did_you_mean(extra[0], defaults)}")
    return make({**defaults, **specs})
