"""Short-term plasticity after Tsodyks & Markram (NEST: tsodyks_synapse, tsodyks2_synapse).

Both synapses change their state only when a presynaptic spike is transmitted; t_spike is the spike's
stamp in ms (NEST's ``e.get_stamp().get_ms()``, the presynaptic neuron's spike time, the delay plays
no part) and h = t_spike - t_last the time since the previous spike of the connection.

tsodyks_synapse (Tsodyks, Uziel & Markram 2000), state x (recovered), y (active), u (release
probability), z = 1 - x - y (inactive). Per transmitted spike, in NEST's order:

1. propagators P_uu = exp(-h / tau_fac) (0 if tau_fac = 0), P_yy = exp(-h / tau_psc),
   P_zz = expm1(-h / tau_rec), P_xy = (P_zz tau_rec - (P_yy - 1) tau_psc) / (tau_psc - tau_rec);
2. u <- u P_uu; x <- x + P_xy y - P_zz z; y <- y P_yy (z taken before the update);
3. u <- u + U (1 - u); delta = u x; x <- x - delta; y <- y + delta;
4. the spike is delivered with weight * delta; t_last <- t_spike.

t_last starts at 0 ms (NEST's t_lastspike_ = 0): the first spike propagates x, y, u from t = 0.

tsodyks2_synapse (Tsodyks & Markram 1997, Maass & Markram 2002, Fuhrmann et al. 2002), state x, u.
Per transmitted spike, unless it is the connection's first (then x, u are used as they are):

1. x <- 1 + (x - x u - 1) exp(-h / tau_rec); u <- U + u (1 - U) exp(-h / tau_fac) (the last term
   0 if tau_fac = 0);
2. the spike is delivered with weight * x * u; t_last <- t_spike.

Parameters (NEST's names, defaults and units):

================  ========================  ===================================================
tsodyks_synapse   tsodyks2_synapse          meaning
================  ========================  ===================================================
weight 1          weight 1                  in the target's unit; the delivered value is scaled
delay 1 ms        delay 1 ms                transmission delay
U 0.5             U 0.5                     release increment, in [0, 1]
tau_psc 3 ms      --                        time constant of y (the target's PSC), > 0
tau_fac 0 ms      tau_fac 0 ms              facilitation time constant, >= 0 (0: none)
tau_rec 800 ms    tau_rec 800 ms            recovery time constant, > 0
x 1, y 0, u 0     x 1, u 0.5                initial state; x + y <= 1 and u in [0, 1]
================  ========================  ===================================================

A spike of multiplicity m (a parrot_neuron repeating m coincident spikes) is, as in NEST, m
transmissions at the same time: the first with the h above, the others with h = 0, each delivered
with its own weight (the engine passes each of them through transmit, engine/plastic.py).

As in NEST, x, y and u may be given per connection at connect time (they are the connection's
initial state; tsodyks2's u starts at 0.5 whatever U is, unless u is given). The run keeps the
current x, y, u of every connection as its plastic state; the connection's ``weight`` stays the
user's weight (NEST's weight_recorder logs the delivered weight * u * x).
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..base import Param, State, Synapse, connection_params
from ..registry import register
from ...engine.archive import ms
from ...errors import BadParameterError

_COMMON = connection_params()


def _check(name, params, rules):
    """NEST's set_status checks, in its order: rules = [(param, predicate, message)]."""
    for p, ok, msg in rules:
        if p in params and not np.all(ok(np.asarray(params[p], float))):
            v = np.asarray(params[p], float).reshape(-1)
            bad = v[~np.asarray(ok(v), bool).reshape(-1)] if v.size > 1 else v
            raise BadParameterError(f"{name}: parameter {p!r} = {bad[0]} is invalid; {msg}.")


def _safe_exp_over(h, tau):
    """exp(-h / tau), and 0 where tau == 0 (NEST: facilitation switched off)."""
    return jnp.where(tau == 0.0, 0.0, jnp.exp(-h / jnp.where(tau == 0.0, 1.0, tau)))


@register
class tsodyks_synapse(Synapse):
    """Synapse with short-term depression and facilitation (Tsodyks, Uziel & Markram 2000)."""

    name = "tsodyks_synapse"
    plastic = True
    parameters = {
        **_COMMON,
        "U": Param(0.5, "1", "Increment of u per spike (asymptotic release probability), in [0, 1]"),
        "tau_psc": Param(3.0, "ms", "Time constant of the active resources y (the PSC)"),
        "tau_fac": Param(0.0, "ms", "Facilitation time constant (0: no facilitation)"),
        "tau_rec": Param(800.0, "ms", "Recovery time constant"),
        "x": Param(1.0, "1", "Initial fraction of recovered resources"),
        "y": Param(0.0, "1", "Initial fraction of active resources"),
        "u": Param(0.0, "1", "Initial release probability, in [0, 1]"),
    }
    connection_state = {
        "x": State("1", 1.0, "Recovered resources"),
        "y": State("1", 0.0, "Active resources"),
        "u": State("1", 0.0, "Release probability"),
        "_t_last": State("steps", -1, "Stamp of the last spike (steps); -1: none yet (state = x, y, u given)"),
    }

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        x = np.asarray(params.get("x", 1.0), float)
        y = np.asarray(params.get("y", 0.0), float)
        bad = np.broadcast_to(~(x + y <= 1.0), np.broadcast(x, y).shape)
        if np.any(bad):
            i = np.flatnonzero(bad)[0]
            xb, yb = np.broadcast_to(x, bad.shape).flat[i], np.broadcast_to(y, bad.shape).flat[i]
            raise BadParameterError(f"{cls.name}: x + y must be <= 1.0 (NEST's check); got x = {xb}, y = {yb}.")
        _check(cls.name, params, [
            ("U", lambda v: (v >= 0.0) & (v <= 1.0), "expected a value in [0, 1]"),
            ("tau_psc", lambda v: v > 0.0, "expected a value > 0 ms"),
            ("tau_rec", lambda v: v > 0.0, "expected a value > 0 ms"),
            ("tau_fac", lambda v: v >= 0.0, "expected a value >= 0 ms"),
            ("u", lambda v: (v >= 0.0) & (v <= 1.0), "expected a value in [0, 1]"),
        ])

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        w = s["weight"]
        dt_ = w.dtype
        first = s["_t_last"] < 0
        x = jnp.where(first, a["x"], s["x"])
        y = jnp.where(first, a["y"], s["y"])
        u = jnp.where(first, a["u"], s["u"])
        h = ms(jnp.asarray(k + 1), tics_per_step, dt_) - ms(jnp.maximum(s["_t_last"], 0), tics_per_step, dt_)
        tau_psc, tau_rec, tau_fac, U = a["tau_psc"], a["tau_rec"], a["tau_fac"], a["U"]

        def spike(x, y, u, h):
            Puu = _safe_exp_over(h, tau_fac)
            Pyy = jnp.exp(-h / tau_psc)
            Pzz = jnp.expm1(-h / tau_rec)
            Pxy = (Pzz * tau_rec - (Pyy - 1.0) * tau_psc) / (tau_psc - tau_rec)
            z = 1.0 - x - y
            u = u * Puu
            x = x + Pxy * y - Pzz * z
            y = y * Pyy
            u = u + U * (1.0 - u)
            delta = u * x
            return x - delta, y + delta, u, delta

        x, y, u, delta = spike(x, y, u, h)
        spiked = cnt > 0
        new = {"weight": w,
               "x": jnp.where(spiked, x, s["x"]), "y": jnp.where(spiked, y, s["y"]),
               "u": jnp.where(spiked, u, s["u"]),
               "_t_last": jnp.where(spiked, k + 1, s["_t_last"]).astype(s["_t_last"].dtype)}
        return new, jnp.where(spiked, delta * w, 0.0), jnp.zeros((), bool)


@register
class tsodyks2_synapse(Synapse):
    """Synapse with short-term depression and facilitation (Tsodyks & Markram 1997, Fuhrmann et al. 2002)."""

    name = "tsodyks2_synapse"
    plastic = True
    parameters = {
        **_COMMON,
        "U": Param(0.5, "1", "Increment of u per spike (baseline release probability), in [0, 1]"),
        "u": Param(0.5, "1", "Initial release probability, in [0, 1]"),
        "x": Param(1.0, "1", "Initial fraction of available resources"),
        "tau_rec": Param(800.0, "ms", "Recovery time constant"),
        "tau_fac": Param(0.0, "ms", "Facilitation time constant (0: no facilitation)"),
    }
    connection_state = {
        "x": State("1", 1.0, "Available resources"),
        "u": State("1", 0.5, "Release probability"),
        "_t_last": State("steps", -1, "Stamp of the last spike (steps); -1: none yet (state = x, u given)"),
    }

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        _check(cls.name, params, [
            ("U", lambda v: (v >= 0.0) & (v <= 1.0), "expected a value in [0, 1]"),
            ("u", lambda v: (v >= 0.0) & (v <= 1.0), "expected a value in [0, 1]"),
            ("tau_rec", lambda v: v > 0.0, "expected a value > 0 ms"),
            ("tau_fac", lambda v: v >= 0.0, "expected a value >= 0 ms"),
        ])

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        w = s["weight"]
        dt_ = w.dtype
        spiked = cnt > 0
        first = s["_t_last"] < 0
        x = jnp.where(first, a["x"], s["x"])
        u = jnp.where(first, a["u"], s["u"])
        h = ms(jnp.asarray(k + 1), tics_per_step, dt_) - ms(jnp.maximum(s["_t_last"], 0), tics_per_step, dt_)
        U, tau_rec, tau_fac = a["U"], a["tau_rec"], a["tau_fac"]

        def spike(x, u, h, first=False):
            x_new = 1.0 + (x - x * u - 1.0) * jnp.exp(-h / tau_rec)
            u_new = U + u * (1.0 - U) * _safe_exp_over(h, tau_fac)
            x, u = jnp.where(first, x, x_new), jnp.where(first, u, u_new)
            return x, u, x * u

        x, u, xu = spike(x, u, h, first)
        new = {"weight": w, "x": jnp.where(spiked, x, s["x"]), "u": jnp.where(spiked, u, s["u"]),
               "_t_last": jnp.where(spiked, k + 1, s["_t_last"]).astype(s["_t_last"].dtype)}
        return new, jnp.where(spiked, xu * w, 0.0), jnp.zeros((), bool)


@register
class tsodyks_synapse_hom(tsodyks_synapse):
    """tsodyks_synapse with weight, U, tau_psc, tau_fac and tau_rec shared by all its connections
    (NEST: tsodyks_synapse_hom). Set them with ``sim.set_defaults(...)`` as in NEST, or at the first
    connect call (other values later are refused). x, y, u stay per connection."""

    name = "tsodyks_synapse_hom"
    homogeneous = ("weight", "U", "tau_psc", "tau_fac", "tau_rec")
