# Pieces of model logic that several neuron models share.
#
# The classes here are mixins without docstrings on purpose: docs/gen_models.py documents a model with
# inspect.getdoc, which falls back to the first docstring along the MRO.
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..errors import BadParameterError, ConnectionError_
from .propagators import leak_to_v, psc_exp_to_v


# ---- propagators -------------------------------------------------------------------------------

def psc_exp_propagators(p, dt):
    """Exact propagators of a leaky membrane (V relative to E_L) fed by exponential excitatory and
    inhibitory currents (NEST's iaf_psc_exp family), with threshold and reset relative to E_L."""
    return {
        "P22": jnp.exp(-dt / p["tau_m"]),
        "P20": leak_to_v(p["tau_m"], p["C_m"], dt),
        "P11ex": jnp.exp(-dt / p["tau_syn_ex"]),
        "P11in": jnp.exp(-dt / p["tau_syn_in"]),
        "P21ex": psc_exp_to_v(p["tau_syn_ex"], p["tau_m"], p["C_m"], dt),
        "P21in": psc_exp_to_v(p["tau_syn_in"], p["tau_m"], p["C_m"], dt),
        "theta": p["V_th"] - p["E_L"],
        "v_reset": p["V_reset"] - p["E_L"],
    }


# ---- refractoriness ----------------------------------------------------------------------------

def refractory_countdown(r, refractory, spike, counts):
    """Steps left: one less while ``refractory``, ``counts`` after a spike, else unchanged."""
    return jnp.where(refractory, r - 1, jnp.where(spike, counts.astype(r.dtype), r))


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


def route_named_receptors(model: str, names, weights, receptor_type):
    """Spike receptors numbered 1..len(names) (NEST's receptor_types of multi-receptor models) -> ports
    0..len(names)-1; the weight keeps its sign. Any other receptor is refused, naming the receptors."""
    w = np.asarray(weights)
    r = np.broadcast_to(np.asarray(0 if receptor_type is None else receptor_type), w.shape)
    bad = (r < 1) | (r > len(names))
    if np.any(bad):
        known = ", ".join(f"{n}={i + 1}" for i, n in enumerate(names))
        raise ConnectionError_(f"connect: {model} has no spike receptor_type {int(r[bad].ravel()[0])}; expected "
                               f"1..{len(names)} ({known}).")
    return (r - 1).astype(int), np.ones(w.shape)


def route_one_port(weights):
    """Everything to port 0, the weight as given."""
    w = np.asarray(weights)
    # read-only views (no memory per connection): every caller only reads them
    return np.broadcast_to(np.int32(0), w.shape), np.broadcast_to(np.ones((), w.dtype), w.shape)


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


# ---- receptor ports and per-neuron array parameters (multisynapse models) ---------------------

def stack_rows(rows, pad=0.0, width=None):
    """Per-neuron 1-D arrays -> (n, K) float array, short rows padded with ``pad``.

    K is the longest row, or ``width`` where given.
    """
    k = max((len(np.ravel(r)) for r in rows), default=0) if width is None else width
    out = np.full((len(rows), k), pad, float)
    for i, r in enumerate(rows):
        r = np.ravel(r)
        out[i, :len(r)] = r
    return out


def resize_per_receptor(value, n, k):
    """A per-receptor state ``value`` for n neurons with k receptors, as an (n, k) float array.

    A value of that shape is kept; otherwise receptors added start at rest (0) and removed ones are dropped.
    """
    v = np.asarray(value, float)
    if v.shape == (n, k):
        return v
    out = np.zeros((n, k))
    if v.ndim == 2 and v.shape[0] == n:
        kk = min(k, v.shape[1])
        out[:, :kk] = v[:, :kk]
    return out


class MultiReceptor:
    # Receptor ports receptor_1 .. receptor_K, K the length of the array parameter _receptor_array, the
    # same on all neurons of a population; receptor_type i (1-based) goes to port i - 1.
    # _carried(p, name): the internal (n, K) state ``name`` rebuilt from the parameters, as the model's
    # _carriers (state -> (array parameter, padding)) names it.
    _receptor_array = "tau_syn"
    _receptor_hint = ""  # appended to the message when the counts differ

    @classmethod
    def _n_receptors(cls, p):
        name = cls._receptor_array
        lengths = {len(np.ravel(t)) for t in p[name]}
        if len(lengths) != 1:
            raise BadParameterError(
                f"{cls.name}: parameter {name!r} has {sorted(lengths)} values on different neurons of one "
                f"population; expected the same number of receptors for all{cls._receptor_hint}.")
        return lengths.pop()

    @classmethod
    def port_names(cls, p):
        return tuple(f"receptor_{i + 1}" for i in range(cls._n_receptors(p)))

    @classmethod
    def receptor_range(cls, p):
        return (1, cls._n_receptors(p))

    @classmethod
    def route(cls, weights, receptor_type):
        w = np.asarray(weights)
        cls._check_weights(w)
        return np.broadcast_to(np.asarray(receptor_type) - 1, w.shape).astype(int), np.ones_like(w)

    @classmethod
    def _check_weights(cls, w):
        """Raise for weights the model does not take (default: any weight, either sign)."""

    @classmethod
    def _carried(cls, p, name):
        src, pad = cls._carriers[name]
        return stack_rows(p[src], pad)
