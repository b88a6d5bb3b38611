"""stdp_synapse: pair-based STDP with multiplicative/additive weight dependence (NEST: stdp_synapse).

Parameters (NEST's defaults): weight (1), delay (1 ms), receptor_type (0), tau_plus (20 ms), lambda (0.01),
alpha (1), mu_plus (1), mu_minus (1), Wmax (100, in the weight's unit; same sign as the weight).
``tau_minus`` (20 ms) is a parameter of the postsynaptic neuron, as in NEST:
``sim.create(nx.iaf_psc_alpha, n, tau_minus=...)`` or ``sim.set(post, tau_minus=...)``.

Dynamics (what NEST computes, in the order it does it), when a presynaptic spike with stamp t_pre is
transmitted through a synapse with delay d (the whole delay is dendritic):

1. facilitation: for every postsynaptic spike t_post with t_last_pre - d < t_post <= t_pre - d, in
   time order, w <- facilitate(w, K_plus * exp((t_last_pre - (t_post + d)) / tau_plus));
2. depression: w <- depress(w, K_minus(t_pre - d)), where K_minus(t) is the postsynaptic trace of the
   latest post spike strictly before t (a post spike exactly at t_pre - d is excluded), decayed to t;
3. the spike is delivered with the new weight; K_plus <- K_plus * exp((t_last_pre - t_pre) / tau_plus) + 1,
   t_last_pre <- t_pre.

with facilitate(w, k) = min(w/Wmax + lambda (1 - w/Wmax)^mu_plus k, 1) Wmax and
depress(w, k) = max(w/Wmax - alpha lambda (w/Wmax)^mu_minus k, 0) Wmax. Initially K_plus = 0 and
t_last_pre = 0. The postsynaptic trace jumps by 1 at every post spike
(K_minus <- K_minus exp((t_last_post - t_sp) / tau_minus) + 1, t_last_post = -1 ms initially).

Engine representation: the weights, K_plus and t_last_pre of every plastic synapse live in the run
state; each target neuron keeps its last 64 post spike times and K_minus values (the archive,
:mod:`nestax.engine.archive`). If a window ever needs a post spike that has already left this
history (a presynaptic neuron silent while its target fired more than 64 times), the run reports an
error afterwards; ``Simulator.stdp_history`` sets the length. Large plastic projections are updated
event-driven: only the synapses of presynaptic neurons that spiked in a step are touched (cost ~
spikes x fan-out x history). A postsynaptic spike with multiplicity m (parrot
neurons) adds m to K_minus but counts once in the facilitation window (NEST counts it m times).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..base import Param, State, Synapse, connection_params
from ..registry import register
from ...engine.archive import NEVER, ms
from ...errors import BadParameterError


#: per-connection state of the pair-based rules: the presynaptic trace and the last presynaptic stamp
PRE_TRACE = {
    "Kplus": State("1", 0.0, "Presynaptic trace K_plus (NEST's Kplus)"),
    "_t_last": State("steps", 0, "Stamp of the last presynaptic spike (steps; internal)"),
}


@register
class stdp_synapse(Synapse):
    """Pair-based spike-timing dependent plasticity (Guetig et al. 2003 weight dependence)."""

    name = "stdp_synapse"
    plastic = True
    uses_post_archive = True
    parameters = {
        **connection_params(delay_doc="Transmission delay (all of it dendritic)"),
        "tau_plus": Param(20.0, "ms", "Time constant of the presynaptic trace K_plus"),
        "lambda": Param(0.01, "1", "Step size"),
        "alpha": Param(1.0, "1", "Asymmetry between depression and facilitation"),
        "mu_plus": Param(1.0, "1", "Weight dependence exponent, facilitation"),
        "mu_minus": Param(1.0, "1", "Weight dependence exponent, depression"),
        "Wmax": Param(100.0, "weight", "Maximum weight, in the weight's unit"),
    }
    connection_state = PRE_TRACE
    #: the port of a connection follows Wmax (same sign as the weight, never 0), so a weight
    #: depressed to 0 stays on its receptor
    route_by = "Wmax"

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        wmax = np.asarray(params["Wmax"])
        if np.any(np.sign(np.asarray(w)) * np.sign(wmax) < 0):
            raise BadParameterError(f"{cls.name}: weight and Wmax must have the same sign.")
        if np.any(np.asarray(params["tau_plus"]) <= 0):
            raise BadParameterError(f"{cls.name}: parameter 'tau_plus' must be > 0 ms.")

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        """Weight update of the synapses whose source spiked in step k (stamp k + 1); see the module
        docstring for the order of operations. Returns (state, weight to deliver, overflow flag)."""
        w, kplus, tlast = s["weight"], s["Kplus"], s["_t_last"]
        dt_ = w.dtype
        spiked = cnt > 0
        d = a["d"]
        t_pre = k + 1
        T = t_pre - d                      # steps
        T1 = tlast - d
        tpre_ms = ms(jnp.asarray(t_pre), tics_per_step, dt_)
        tl_ms = ms(tlast, tics_per_step, dt_)
        d_ms = ms(d, tics_per_step, dt_)
        ht = post["t"][a["tgt_local"]]     # [n_syn, P], oldest first (NEVER = no spike: the smallest stamp)
        hk = post["K"][a["tgt_local"]]
        lam, wmax = a["lambda"], a["Wmax"]
        # the archive is sorted: the post spikes in the window (T1, T] are the entries lo .. hi - 1, the
        # latest one strictly before T is entry before - 1 (NEST walks the same entries)
        lo = jnp.sum(ht <= T1[:, None], axis=1)
        hi = jnp.sum(ht <= T[:, None], axis=1)
        before = jnp.sum(ht < T[:, None], axis=1)
        any_in_win = spiked & (hi > lo)

        def facilitate(j, w):
            p = lo + j
            in_win = spiked & (p < hi)
            tp = jnp.take_along_axis(ht, jnp.minimum(p, ht.shape[1] - 1)[:, None], axis=1)[:, 0]
            minus_dt = tl_ms - (ms(tp, tics_per_step, dt_) + d_ms)
            return jnp.where(in_win, _facilitate(w, kplus * jnp.exp(minus_dt / a["tau_plus"]), lam, a["mu_plus"], wmax),
                             w)
        w = jax.lax.fori_loop(0, jnp.max(jnp.where(spiked, hi - lo, 0), initial=0), facilitate, w)
        T_ms = tpre_ms - d_ms
        tmi = post["tau_minus_inv"][a["tgt_local"]]
        last = jnp.maximum(before - 1, 0)[:, None]
        tp = jnp.take_along_axis(ht, last, axis=1)[:, 0]
        have = (before > 0) & (tp != NEVER)
        K = jnp.where(have, jnp.take_along_axis(hk, last, axis=1)[:, 0] * jnp.exp((ms(tp, tics_per_step, dt_) - T_ms) * tmi),
                      0.0)
        w = jnp.where(spiked, _depress(w, K, a["alpha"], lam, a["mu_minus"], wmax), w)
        # archive overflow: a post spike needed by this update was already dropped
        td = post["t_drop"][a["tgt_local"]]
        dropped = td != NEVER
        lost_fac = dropped & (td > T1) & (td <= T) & ((kplus != 0) | ~any_in_win)
        lost_dep = dropped & ~have & (td < T)
        overflow = jnp.any(spiked & (lost_fac | lost_dep))
        kplus = jnp.where(spiked, kplus * jnp.exp((tl_ms - tpre_ms) / a["tau_plus"]) + 1.0, kplus)
        tlast = jnp.where(spiked, t_pre, tlast)
        return {"weight": w, "Kplus": kplus, "_t_last": tlast}, w, overflow


def _facilitate(w, kplus, lam, mu_plus, wmax):
    norm_w = (w / wmax) + (lam * jnp.power(1.0 - (w / wmax), mu_plus) * kplus)
    return jnp.where(norm_w < 1.0, norm_w * wmax, wmax)


def _depress(w, kminus, alpha, lam, mu_minus, wmax):
    norm_w = (w / wmax) - (alpha * lam * jnp.power(w / wmax, mu_minus) * kminus)
    return jnp.where(norm_w > 0.0, norm_w * wmax, 0.0)


@register
class stdp_synapse_hom(stdp_synapse):
    """stdp_synapse with its plasticity parameters (tau_plus, lambda, alpha, mu_plus, mu_minus, Wmax)
    shared by all its connections (NEST: stdp_synapse_hom). The weight stays per connection. Set the
    shared values as NEST does, with ``sim.set_defaults(...)`` (they then change for existing
    connections too), or give them at the first connect call; a later connect with other values, or
    per-connection values, is an error."""

    name = "stdp_synapse_hom"
    homogeneous = ("tau_plus", "lambda", "alpha", "mu_plus", "mu_minus", "Wmax")
