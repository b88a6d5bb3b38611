"""NEST kernel settings that models declare (``Model.kernel_settings``), kept per network.

NEST has settings that belong to the kernel but only matter to some models (the e-prop bsshslm_2020
models' ``eprop_update_interval``, ``eprop_learning_window``, ``eprop_reset_neurons_on_update``). A
model declares them with NEST's default and unit; ``Simulator.set_kernel_status`` sets them for the
whole network, and the engine adds their values to the parameters of the models that declare them.
"""
from __future__ import annotations

import numpy as np

from ..errors import BadParameterError, did_you_mean


def declared() -> dict:
    """Every kernel setting some registered model declares: name -> (Param, [models])."""
    from ..models.registry import _MODELS
    out = {}
    for cls in _MODELS.values():
        for name, spec in getattr(cls, "kernel_settings", {}).items():
            out.setdefault(name, (spec, []))[1].append(cls)
    return out


def settings(given: dict, current: dict, dt: float) -> dict:
    """The kernel settings after ``given`` (name -> value, a quantity or a number in the declared unit)
    on top of ``current``; unknown names and values the declaring models refuse are errors."""
    from ..units import to_nest
    known = declared()
    out = dict(current)
    for name, value in given.items():
        if name not in known:
            raise BadParameterError(f"set_kernel_status: unknown kernel setting {name!r}.{did_you_mean(name, known)} "
                                    f"Settings: {', '.join(sorted(known))}.")
        spec = known[name][0]
        if spec.kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise BadParameterError(f"set_kernel_status: {name} = {value!r} is invalid; expected True or False.")
            out[name] = bool(value)
        else:
            out[name] = float(np.asarray(to_nest(value, spec.unit, "kernel", name)))
    full = {n: out.get(n, spec.default) for n, (spec, _) in known.items()}
    for cls in {c for name in given for c in known[name][1]}:
        cls.check_kernel(full, dt, tuple(given))
    return out


def values(model, current: dict) -> dict:
    """The kernel settings ``model`` declares, with the network's values (NEST's defaults otherwise)."""
    return {n: current.get(n, spec.default) for n, spec in model.kernel_settings.items()}


def status(current: dict, name: str | None = None):
    """The declared kernel settings in force (``current``: the network's), with units: all as a dict,
    or the one called ``name``."""
    from ..units import with_unit
    known = declared()
    if name is not None and name not in known:
        raise BadParameterError(f"get_kernel_status: unknown kernel setting {name!r}.{did_you_mean(name, known)}")
    out = {}
    for n, (spec, _) in known.items():
        v = current.get(n, spec.default)
        out[n] = with_unit(v, spec.unit) if spec.kind == "float" else v
    return out if name is None else out[name]
