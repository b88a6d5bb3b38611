"""stdp_synapse: pair-based STDP with multiplicative/additive weight dependence (NEST: stdp_synapse).

Parameters (NEST's defaults): weight (1), delay (1 ms), receptor_type (0), tau_plus (20 ms), lambda (0.01),
alpha (1), mu_plus (1), mu_minus (1), Wmax (100, in the weight's unit; same sign as the weight), and
tau_minus (20 ms).

Difference to NEST: in NEST ``tau_minus`` is a parameter of the *postsynaptic neuron* (every archiving
node has one). nestax takes it from the synapse spec instead; all stdp connections onto one neuron must
then agree on it (checked when the network is compiled), which is exactly NEST's situation.

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
state; each target neuron keeps its last ``HISTORY`` (64) post spike times and K_minus values. If a
window ever needs a post spike that has already left this history (a presynaptic neuron silent while
its target fired more than 64 times), the run reports an error afterwards; ``Simulator.stdp_history``
sets the length. Plastic projections use the dense kernel (cost ~ plastic synapses x history per
step): fine for small networks, not yet for large ones. A postsynaptic spike with multiplicity m (parrot
neurons) adds m to K_minus but counts once in the facilitation window (NEST counts it m times).
"""
from __future__ import annotations

import jax.numpy as jnp

from ..base import Model, Param
from ..registry import register

HISTORY = 64  # default of Simulator.stdp_history
NEVER = -(2 ** 30)  # "no spike" time stamp, in steps

PLASTIC_PARAMS = ("tau_plus", "lambda", "alpha", "mu_plus", "mu_minus", "Wmax", "tau_minus")


@register
class stdp_synapse(Model):
    """Pair-based spike-timing dependent plasticity (Guetig et al. 2003 weight dependence)."""

    name = "stdp_synapse"
    kind = "synapse"
    plastic = True
    parameters = {
        "weight": Param(1.0, "1", "Synaptic weight, in the target model's unit"),
        "delay": Param(1.0, "ms", "Transmission delay (all of it dendritic)"),
        "receptor_type": Param(0, "1", "Receptor port of the target", "int"),
        "tau_plus": Param(20.0, "ms", "Time constant of the presynaptic trace K_plus"),
        "lambda": Param(0.01, "1", "Step size"),
        "alpha": Param(1.0, "1", "Asymmetry between depression and facilitation"),
        "mu_plus": Param(1.0, "1", "Weight dependence exponent, facilitation"),
        "mu_minus": Param(1.0, "1", "Weight dependence exponent, depression"),
        "Wmax": Param(100.0, "weight", "Maximum weight, in the weight's unit"),
        "tau_minus": Param(20.0, "ms", "Time constant of the postsynaptic trace (a neuron parameter in NEST)"),
    }


def ms(steps, tics_per_step, dtype):
    """Time in ms of a step count, as NEST's Time::get_ms computes it (tics * 0.001)."""
    return jnp.asarray(steps).astype(dtype) * tics_per_step * 0.001


def _facilitate(w, kplus, lam, mu_plus, wmax):
    norm_w = (w / wmax) + (lam * jnp.power(1.0 - (w / wmax), mu_plus) * kplus)
    return jnp.where(norm_w < 1.0, norm_w * wmax, wmax)


def _depress(w, kminus, alpha, lam, mu_minus, wmax):
    norm_w = (w / wmax) - (alpha * lam * jnp.power(w / wmax, mu_minus) * kminus)
    return jnp.where(norm_w > 0.0, norm_w * wmax, 0.0)


def post_update(h, spk, k, tics_per_step, dtype):
    """Record this step's postsynaptic spikes (stamp k + 1) in the history ``h`` of a target block."""
    fired = spk > 0
    t_sp = k + 1
    t_ms = ms(jnp.asarray(t_sp), tics_per_step, dtype)
    km = h["Kminus"] * jnp.exp((h["t_last"] - t_ms) * h["tau_minus_inv"]) + 1.0 + (spk - 1).astype(dtype)
    km = jnp.where(fired, km, h["Kminus"])
    f2 = fired[:, None]
    ht = jnp.where(f2, jnp.concatenate([h["t"][:, 1:], jnp.full_like(h["t"][:, :1], t_sp)], axis=1), h["t"])
    hk = jnp.where(f2, jnp.concatenate([h["K"][:, 1:], km[:, None]], axis=1), h["K"])
    return {"t": ht, "K": hk, "Kminus": km, "t_last": jnp.where(fired, t_ms, h["t_last"]),
            "t_drop": jnp.where(fired, jnp.maximum(h["t_drop"], h["t"][:, 0]), h["t_drop"]),
            "tau_minus_inv": h["tau_minus_inv"]}


def pre_update(a, s, h, cnt, k, tics_per_step):
    """Weight update of the synapses whose source spiked in step k (stamp k + 1).

    ``a``: static arrays (src, tgt_local, d, tau_plus, lambda, alpha, mu_plus, mu_minus, Wmax);
    ``s``: plastic state (w, kplus, t_last in steps); ``h``: the target block's post history.
    Returns the new state, the weights to deliver and an overflow flag (history too short).
    """
    w, kplus, tlast = s["w"], s["kplus"], s["t_last"]
    dt_ = w.dtype
    spiked = cnt[a["src"]] > 0
    d = a["d"]
    t_pre = k + 1
    T = t_pre - d                      # steps
    T1 = tlast - d
    tpre_ms = ms(jnp.asarray(t_pre), tics_per_step, dt_)
    tl_ms = ms(tlast, tics_per_step, dt_)
    d_ms = ms(d, tics_per_step, dt_)
    ht = h["t"][a["tgt_local"]]        # [n_syn, P], oldest first
    hk = h["K"][a["tgt_local"]]
    P = ht.shape[1]
    lam, wmax = a["lambda"], a["Wmax"]
    any_in_win = jnp.zeros(w.shape, bool)
    for p in range(P):
        tp = ht[:, p]
        in_win = spiked & (tp > T1) & (tp <= T)
        any_in_win |= in_win
        minus_dt = tl_ms - (ms(tp, tics_per_step, dt_) + d_ms)
        w = jnp.where(in_win, _facilitate(w, kplus * jnp.exp(minus_dt / a["tau_plus"]), lam, a["mu_plus"], wmax), w)
    T_ms = tpre_ms - d_ms
    K = jnp.zeros(w.shape, dt_)
    have = jnp.zeros(w.shape, bool)
    tmi = h["tau_minus_inv"][a["tgt_local"]]
    for p in range(P):
        tp = ht[:, p]
        before = (tp != NEVER) & (tp < T)
        have |= before
        K = jnp.where(before, hk[:, p] * jnp.exp((ms(tp, tics_per_step, dt_) - T_ms) * tmi), K)
    w = jnp.where(spiked, _depress(w, K, a["alpha"], lam, a["mu_minus"], wmax), w)
    # history overflow: a post spike needed by this update was already dropped
    td = h["t_drop"][a["tgt_local"]]
    dropped = td != NEVER
    lost_fac = dropped & (td > T1) & (td <= T) & ((kplus != 0) | ~any_in_win)
    lost_dep = dropped & ~have & (td < T)
    overflow = jnp.any(spiked & (lost_fac | lost_dep))
    kplus = jnp.where(spiked, kplus * jnp.exp((tl_ms - tpre_ms) / a["tau_plus"]) + 1.0, kplus)
    tlast = jnp.where(spiked, t_pre, tlast)
    return {"w": w, "kplus": kplus, "t_last": tlast}, w, overflow
