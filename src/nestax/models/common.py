# Pieces of model logic that several neuron models share.
#
# The classes here are mixins without docstrings on purpose: docs/gen_models.py documents a model with
# inspect.getdoc, which falls back to the first docstring along the MRO.
from __future__ import annotations

import numpy as np


# ---- routing of connection weights to input ports ----------------------------------------------

def route_by_sign(weights, magnitude=False, zero="in"):
    """Two ports by the weight's sign: port 0 (excitatory) or port 1 (inhibitory).

    ``zero`` names the port of a zero (or NaN) weight: ``"in"`` is NEST's ``w > 0 ? ex : in``,
    ``"ex"`` its ``w >= 0 ? ex : in``. ``magnitude``: inhibitory weights arrive as ``|w|`` (sign
    factor -1, conductance-style); otherwise every weight keeps its sign (factor 1).
    """
    w = np.asarray(weights)
    inh = ~(w > 0) if zero == "in" else ~(w >= 0)
    if magnitude:
        return np.where(inh, 1, 0), np.where(inh, -1.0, 1.0)
    return np.where(inh, 1, 0), np.ones_like(w)


def route_one_port(weights):
    """Everything to port 0, the weight as given."""
    w = np.asarray(weights)
    return np.zeros(w.shape, int), np.ones_like(w)


class ConductanceRouting:
    # w > 0: excitatory port; otherwise the inhibitory port with the weight's magnitude.
    @classmethod
    def route(cls, weights, receptor_type):
        return route_by_sign(weights, magnitude=True)


class SignedRouting:
    # w >= 0: excitatory port; w < 0: inhibitory port; the weight keeps its sign.
    @classmethod
    def route(cls, weights, receptor_type):
        return route_by_sign(weights, zero="ex")


class OnePortRouting:
    # One input port; the weight as given (undoes a two-port route of a base class).
    @classmethod
    def route(cls, weights, receptor_type):
        return route_one_port(weights)

