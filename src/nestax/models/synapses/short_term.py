"""Short-term plasticity: quantal stochastic release and Hill-Tononi depression (NEST:
quantal_stp_synapse, ht_synapse).

Both synapses change their state only when a presynaptic spike is transmitted. t_spike is the
spike's stamp in ms (NEST's ``e.get_stamp().get_ms()``: the presynaptic spike time; the delay and the
precise offset play no part), h = t_spike - t_last the time since the connection's previous spike.

quantal_stp_synapse (Fuhrmann et al. 2002, Loebel et al. 2009; solution after Maass & Markram 2002).
The connection has n release sites, a of which are available (hold a vesicle), and a release
probability u per available site. Per transmitted spike, in NEST's order:

1. unless it is the connection's first spike (then a and u are used as they are):
   p_decay = exp(-h / tau_rec), u_decay = exp(-h / tau_fac) (0 if tau_fac < 1e-10 ms);
   u <- U + u (1 - U) u_decay;
   each of the n - a depleted sites recovers with probability 1 - p_decay (one uniform draw per
   depleted site, recovered if the draw is < 1 - p_decay); a <- a + recovered;
2. each of the a available sites releases with probability u (one uniform draw per site, released
   if the draw is < u); n_release = number released;
3. the spike is delivered with weight * n_release (nothing is delivered when n_release = 0);
   a <- a - n_release; t_last <- t_spike.

The weight is the PSP amplitude with all n sites released. With draws uniform in [0, 1), a
probability of 1 is certain and 0 impossible, so U = u = 1 with tau_rec -> 0 (p_decay = 0) releases
every site on every spike, exactly as in NEST.

ht_synapse (Hill & Tononi 2005), vesicle pool P in [0, 1] with dP/dt = (1 - P) / tau_P between
spikes. Per transmitted spike, in NEST's order:

1. P <- 1 - (1 - P) exp(-h / tau_P);
2. the spike is delivered with weight * P;
3. P <- (1 - delta_P) P; t_last <- t_spike.

t_last starts at 0 ms (NEST's t_lastspike_ = 0): the first spike recovers P from t = 0.

Parameters (NEST's names, defaults and units):

=======================  ==================  ===============================================
quantal_stp_synapse      ht_synapse          meaning
=======================  ==================  ===============================================
weight 1                 weight 1            in the target's unit (quantal: all n sites)
delay 1 ms               delay 1 ms          transmission delay
U 0.5                    --                  baseline release probability, in [0, 1]
u 0.5                    --                  initial release probability, in [0, 1]
tau_rec 800 ms           --                  site recovery time constant, > 0
tau_fac 0 ms             --                  facilitation time constant, >= 0 (0: none)
n 1                      --                  number of release sites (integer)
a 1                      --                  initially available sites (integer)
--                       tau_P 500 ms        pool recovery time constant, > 0
--                       delta_P 0.125       fraction of the pool used per spike, in [0, 1]
--                       P 1                 initial pool, in [0, 1]
=======================  ==================  ===============================================

As in NEST, u starts at 0.5 whatever U is and a at 1 whatever n is, unless they are given (NEST's
constructor defaults; set_status does not tie them to U and n). NEST refuses U, u outside [0, 1],
tau_rec <= 0 and tau_fac < 0, and non-integer n, a; it accepts any integer n and a (a > n, a < 0,
n < 1), and so does nestax, with NEST's dynamics: a loop over n - a depleted sites does nothing when
a >= n, a loop over a available sites nothing when a <= 0.

A spike of multiplicity m (a parrot_neuron repeating m coincident spikes) is, as in NEST, m
transmissions at the same time: the first with the h above, the others with h = 0.

Run state: quantal_stp_synapse keeps u and a (integer) per connection, ht_synapse keeps P; the
connection's ``weight`` stays the user's weight, as NEST reports it. Before a connection's first
spike its state holds the model's default (the connect-time values u, a, P are used by the first
transmission), so ``sim.connections(...).get('P')`` of a connection that never transmitted shows the
default, not a P given at connect time.

Random numbers: quantal_stp_synapse draws with JAX keys (per step, projection, multiplicity repeat
and site), not NEST's generator; the numbers differ, the distributions are the same.
"""
from __future__ import annotations

import jax
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
        if p not in params:
            continue
        v = np.asarray(params[p], float).reshape(-1)
        bad = ~np.asarray(ok(v), bool).reshape(-1)
        if np.any(bad):
            raise BadParameterError(f"{name}: parameter {p!r} = {v[bad][0]} is invalid; {msg}.")


def _count_successes(key, trials, p_success, shape):
    """Number of successes in ``trials`` (per element, <= 0: none) independent trials, each a
    uniform draw in [0, 1) below ``p_success``: NEST's loop of one draw per site."""

    def body(i, c):
        r = jax.random.uniform(jax.random.fold_in(key, i), shape, dtype=p_success.dtype)
        return c + ((i < trials) & (r < p_success)).astype(c.dtype)

    return jax.lax.fori_loop(0, jnp.max(trials, initial=0), body, jnp.zeros(shape, trials.dtype))


@register
class quantal_stp_synapse(Synapse):
    """Probabilistic synapse with short-term plasticity: binomial release from n sites (Fuhrmann et al. 2002)."""

    name = "quantal_stp_synapse"
    plastic = True
    stochastic = True
    parameters = {
        **_COMMON,
        "U": Param(0.5, "1", "Baseline release probability per site (increment of u), in [0, 1]"),
        "u": Param(0.5, "1", "Initial release probability per site, in [0, 1]"),
        "tau_rec": Param(800.0, "ms", "Recovery time constant of a depleted site"),
        "tau_fac": Param(0.0, "ms", "Facilitation time constant (0: no facilitation)"),
        "n": Param(1, "1", "Number of release sites", "int"),
        "a": Param(1, "1", "Initial number of available release sites", "int"),
    }
    connection_state = {
        "u": State("1", 0.5, "Release probability per site"),
        "a": State("1", 1, "Available release sites"),
        "_t_last": State("steps", -1, "Stamp of the last spike (steps); -1: none yet (u, a as given)"),
    }

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        _check(cls.name, params, [
            ("n", lambda v: v == np.round(v), "expected an integer"),
            ("a", lambda v: v == np.round(v), "expected an integer"),
            ("U", lambda v: (v >= 0.0) & (v <= 1.0), "expected a value in [0, 1]"),
            ("u", lambda v: (v >= 0.0) & (v <= 1.0), "expected a value in [0, 1]"),
            ("tau_rec", lambda v: v > 0.0, "expected a value > 0 ms"),
            ("tau_fac", lambda v: v >= 0.0, "expected a value >= 0 ms"),
        ])

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step, key):
        w = s["weight"]
        ft = w.dtype
        it = s["a"].dtype
        spiked = cnt > 0
        first = s["_t_last"] < 0
        u = jnp.where(first, a["u"], s["u"]).astype(ft)
        avail = jnp.where(first, jnp.round(a["a"]).astype(it), s["a"])
        n = jnp.round(a["n"]).astype(it)
        h = ms(jnp.asarray(k + 1), tics_per_step, ft) - ms(jnp.maximum(s["_t_last"], 0), tics_per_step, ft)
        U, tau_rec, tau_fac = a["U"], a["tau_rec"], a["tau_fac"]

        # 1. facilitation and recovery (not on the first spike)
        p_decay = jnp.exp(-h / tau_rec)
        off = tau_fac < 1e-10
        u_decay = jnp.where(off, 0.0, jnp.exp(-h / jnp.where(off, 1.0, tau_fac)))
        u = jnp.where(first, u, U + u * (1.0 - U) * u_decay)
        k_rec, k_rel = jax.random.split(key)
        depleted = jnp.where(spiked & ~first, n - avail, 0)
        avail = avail + _count_successes(k_rec, depleted, (1.0 - p_decay).astype(ft), cnt.shape)
        # 2. release: one trial per available site
        released = _count_successes(k_rel, jnp.where(spiked, avail, 0), u, cnt.shape)
        # 3. deliver weight * released, deplete the released sites
        new = {"weight": w,
               "u": jnp.where(spiked, u, s["u"]).astype(s["u"].dtype),
               "a": jnp.where(spiked, avail - released, s["a"]).astype(it),
               "_t_last": jnp.where(spiked, k + 1, s["_t_last"]).astype(s["_t_last"].dtype)}
        return new, jnp.where(spiked, released.astype(ft) * w, 0.0), jnp.zeros((), bool)


@register
class ht_synapse(Synapse):
    """Synapse with depression after Hill & Tononi (2005): weight * P, P recovers with tau_P."""

    name = "ht_synapse"
    plastic = True
    parameters = {
        **_COMMON,
        "tau_P": Param(500.0, "ms", "Recovery time constant of the vesicle pool"),
        "delta_P": Param(0.125, "1", "Fraction of the pool used per spike, in [0, 1]"),
        "P": Param(1.0, "1", "Initial size of the vesicle pool, in [0, 1]"),
    }
    connection_state = {
        "P": State("1", 1.0, "Size of the vesicle pool"),
        "_t_last": State("steps", -1, "Stamp of the last spike (steps); -1: none yet (P as given, t_last 0 ms)"),
    }

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        _check(cls.name, params, [
            ("tau_P", lambda v: v > 0.0, "expected a value > 0 ms"),
            ("delta_P", lambda v: (v >= 0.0) & (v <= 1.0), "expected a value in [0, 1]"),
            ("P", lambda v: (v >= 0.0) & (v <= 1.0), "expected a value in [0, 1]"),
        ])

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        w = s["weight"]
        ft = w.dtype
        spiked = cnt > 0
        first = s["_t_last"] < 0
        P = jnp.where(first, a["P"], s["P"]).astype(ft)
        h = ms(jnp.asarray(k + 1), tics_per_step, ft) - ms(jnp.maximum(s["_t_last"], 0), tics_per_step, ft)
        P = 1.0 - (1.0 - P) * jnp.exp(-h / a["tau_P"])
        delivered = w * P
        P = P * (1.0 - a["delta_P"])
        new = {"weight": w, "P": jnp.where(spiked, P, s["P"]).astype(s["P"].dtype),
               "_t_last": jnp.where(spiked, k + 1, s["_t_last"]).astype(s["_t_last"].dtype)}
        return new, jnp.where(spiked, delivered, 0.0), jnp.zeros((), bool)
