"""Variants of pair-based STDP from NEST 3.10: power-law weight dependence (stdp_pl_synapse_hom), the three
nearest-neighbour pairing schemes (stdp_nn_symm_synapse, stdp_nn_pre_centered_synapse,
stdp_nn_restr_synapse) and symmetric inhibitory STDP (vogels_sprekeler_synapse).

All of them read the postsynaptic archive (:mod:`nestax.engine.archive`) as NEST's synapses read the
archiving node; the whole delay is dendritic. With a presynaptic spike of stamp t_pre, delay d and the
previous presynaptic stamp t_last (0 before the first spike, as in NEST), the postsynaptic spikes in
the window (t_last - d, t_pre - d] are the "history" entries, and "the nearest post spike" is the
latest one strictly before t_pre - d.

- stdp_pl_synapse_hom: for each post spike t_post in the window, w <- w + lambda w^mu K_plus
  exp((t_last - t_post - d) / tau_plus); then w <- max(w - lambda alpha w K_minus(t_pre - d), 0) with the
  neuron's trace K_minus (tau_minus of the target); K_plus <- K_plus exp((t_last - t_pre)/tau_plus) + 1.
  tau_plus, lambda, alpha and mu are shared by all connections (``homogeneous``).
- stdp_nn_symm_synapse: for each post spike in the window, facilitate(w, exp((t_last - t_post - d) /
  tau_plus)) (the last presynaptic spike only); then depress(w, exp((t_nn - (t_pre - d)) / tau_minus))
  with the nearest post spike t_nn (0 when there is none).
- stdp_nn_pre_centered_synapse: if the window holds a post spike, facilitate(w, K_plus exp((t_last -
  t_first - d)/tau_plus)) with the first of them and K_plus <- 0; then the depression of nn_symm;
  K_plus <- K_plus exp((t_last - t_pre)/tau_plus) + 1.
- stdp_nn_restr_synapse: only if the window holds a post spike: facilitate(w, exp((t_last - t_first -
  d)/tau_plus)) with the first of them, then the depression of nn_symm.
- vogels_sprekeler_synapse: for each post spike in the window, facilitate(w, K_plus exp((t_last - t_post
  - d)/tau)); then facilitate(w, K_minus(t_pre - d)) (the target's trace, decaying with the target's
  tau_minus, which NEST asks to be set equal to tau) and depress(w); K_plus <- K_plus exp((t_last -
  t_pre)/tau) + 1. facilitate(w, k) = sign(Wmax) min(|w| + eta k, |Wmax|), depress(w) = sign(Wmax)
  max(|w| - alpha eta, 0).

The nn variants use facilitate(w, k) = min(w/Wmax + lambda (1 - w/Wmax)^mu_plus k, 1) Wmax and
depress(w, k) = max(w/Wmax - alpha lambda (w/Wmax)^mu_minus k, 0) Wmax, as stdp_synapse.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..base import Param, State, Synapse, connection_params
from ..registry import register
from ...engine.archive import NEVER, ms
from ...errors import BadParameterError
from .stdp import PRE_TRACE, _depress, _facilitate

_COMMON = connection_params(delay_doc="Transmission delay (all of it dendritic)")

_NN_PARAMS = {
    **_COMMON,
    "tau_plus": Param(20.0, "ms", "Time constant of the presynaptic trace"),
    "lambda": Param(0.01, "1", "Step size"),
    "alpha": Param(1.0, "1", "Asymmetry between depression and facilitation"),
    "mu_plus": Param(1.0, "1", "Weight dependence exponent, facilitation"),
    "mu_minus": Param(1.0, "1", "Weight dependence exponent, depression"),
    "Wmax": Param(100.0, "weight", "Maximum weight, in the weight's unit (same sign as the weight)"),
}


class _Window:
    """The archive entries one presynaptic spike reads (elementwise over connections)."""

    def __init__(self, a, s, post, cnt, k, tics_per_step):
        w = s["weight"]
        self.dtype = dt_ = w.dtype
        self.tps = tics_per_step
        self.spiked = cnt > 0
        d = a["d"]
        self.t_pre = t_pre = k + 1
        tlast = s["_t_last"]
        self.T = T = t_pre - d
        self.T1 = T1 = tlast - d
        self.tpre_ms = ms(jnp.asarray(t_pre), tics_per_step, dt_)
        self.tl_ms = ms(tlast, tics_per_step, dt_)
        self.d_ms = ms(d, tics_per_step, dt_)
        self.ht = ht = post["t"][a["tgt_local"]]
        self.hk = post["K"][a["tgt_local"]]
        self.lo = jnp.sum(ht <= T1[:, None], axis=1)
        self.hi = jnp.sum(ht <= T[:, None], axis=1)
        before = jnp.sum(ht < T[:, None], axis=1)
        self.any_in_win = self.spiked & (self.hi > self.lo)
        self.T_ms = self.tpre_ms - self.d_ms
        self.tmi = post["tau_minus_inv"][a["tgt_local"]]
        last = jnp.maximum(before - 1, 0)[:, None]
        tp = jnp.take_along_axis(ht, last, axis=1)[:, 0]
        self.have = (before > 0) & (tp != NEVER)
        self._last, self._tp_last = last, tp
        self.td = post["t_drop"][a["tgt_local"]]

    def entry_ms(self, p):
        """Time (ms) of archive entry p (clipped into the history)."""
        tp = jnp.take_along_axis(self.ht, jnp.minimum(p, self.ht.shape[1] - 1)[:, None], axis=1)[:, 0]
        return ms(tp, self.tps, self.dtype)

    def minus_dt(self, p):
        """t_last - (t_post + d) for entry p (ms)."""
        return self.tl_ms - (self.entry_ms(p) + self.d_ms)

    def n_steps(self):
        return jnp.max(jnp.where(self.spiked, self.hi - self.lo, 0), initial=0)

    def K_value(self):
        """The target's trace K_minus just before t_pre - d (NEST's get_K_value)."""
        e = jnp.exp((ms(self._tp_last, self.tps, self.dtype) - self.T_ms) * self.tmi)
        return jnp.where(self.have, jnp.take_along_axis(self.hk, self._last, axis=1)[:, 0] * e, 0.0)

    def nn_K_value(self):
        """exp((t_nn - (t_pre - d)) / tau_minus) of the nearest post spike before t_pre - d, 0 if none
        (NEST's get_K_values, nearest_neighbor_K_value)."""
        e = jnp.exp((ms(self._tp_last, self.tps, self.dtype) - self.T_ms) * self.tmi)
        return jnp.where(self.have, e, 0.0)

    def overflow(self, all_window_needed, kplus=None):
        """A post spike this update needs has already left the archive."""
        td = self.td
        dropped = td != NEVER
        in_win = dropped & (td > self.T1) & (td <= self.T)
        if all_window_needed:
            lost_fac = in_win
        else:
            lost_fac = in_win & ((kplus != 0) | ~self.any_in_win)
        lost_dep = dropped & ~self.have & (td < self.T)
        return jnp.any(self.spiked & (lost_fac | lost_dep))


def _sign_check(name, w, wmax, zero_is_positive=True):
    """NEST's 'Weight and Wmax must have same sign.' (a zero weight counts as positive, or as either
    sign with ``zero_is_positive=False``)."""
    w, wmax = np.broadcast_arrays(np.asarray(w, float), np.asarray(wmax, float))
    if zero_is_positive:
        bad = (w >= 0) != (wmax >= 0)
    else:
        bad = (w != 0) & ((w >= 0) != (wmax >= 0))
    if np.any(bad):
        raise BadParameterError(f"{name}: weight and Wmax must have the same sign (NEST: 'Weight and Wmax "
                                "must have same sign.').")


@register
class stdp_pl_synapse_hom(Synapse):
    """STDP with power-law weight dependence (Morrison et al. 2007), parameters shared by all
    connections (NEST: stdp_pl_synapse_hom). The weight and K_plus are per connection."""

    name = "stdp_pl_synapse_hom"
    plastic = True
    uses_post_archive = True
    parameters = {
        **_COMMON,
        "tau_plus": Param(20.0, "ms", "Time constant of the presynaptic trace K_plus"),
        "lambda": Param(0.1, "1", "Step size"),
        "alpha": Param(1.0, "1", "Asymmetry between depression and facilitation"),
        "mu": Param(0.4, "1", "Weight dependence exponent of facilitation (power law)"),
    }
    connection_state = PRE_TRACE
    homogeneous = ("tau_plus", "lambda", "alpha", "mu")

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        if np.any(np.asarray(params["tau_plus"]) <= 0):
            raise BadParameterError(f"{cls.name}: parameter 'tau_plus' must be > 0 ms (NEST: 'tau_plus > 0. "
                                    "required.').")

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        W = _Window(a, s, post, cnt, k, tics_per_step)
        w, kplus = s["weight"], s["Kplus"]
        lam, tau_plus_inv = a["lambda"], 1.0 / a["tau_plus"]

        def facilitate(j, w):
            p = W.lo + j
            in_win = W.spiked & (p < W.hi)
            kp = kplus * jnp.exp(W.minus_dt(p) * tau_plus_inv)
            return jnp.where(in_win, w + lam * jnp.power(w, a["mu"]) * kp, w)
        w = jax.lax.fori_loop(0, W.n_steps(), facilitate, w)
        new_w = w - lam * a["alpha"] * w * W.K_value()
        w = jnp.where(W.spiked, jnp.where(new_w > 0.0, new_w, 0.0), w)
        ovf = W.overflow(False, kplus)
        kplus = jnp.where(W.spiked, kplus * jnp.exp((W.tl_ms - W.tpre_ms) * tau_plus_inv) + 1.0, kplus)
        tlast = jnp.where(W.spiked, W.t_pre, s["_t_last"])
        return {"weight": w, "Kplus": kplus, "_t_last": tlast}, w, ovf


class _NN(Synapse):
    """Common declarations of the nearest-neighbour STDP synapses."""

    plastic = True
    uses_post_archive = True
    parameters = _NN_PARAMS
    connection_state = {
        "_t_last": State("steps", 0, "Stamp of the last presynaptic spike (steps; internal)"),
    }
    route_by = "Wmax"

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        _sign_check(cls.name, w, params["Wmax"])


@register
class stdp_nn_symm_synapse(_NN):
    """STDP with the symmetric nearest-neighbour pairing scheme (NEST: stdp_nn_symm_synapse): each
    presynaptic spike pairs with the nearest postsynaptic spike before it, each postsynaptic spike with
    the nearest presynaptic spike before it."""

    name = "stdp_nn_symm_synapse"

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        W = _Window(a, s, post, cnt, k, tics_per_step)
        w = s["weight"]
        lam, wmax = a["lambda"], a["Wmax"]

        def facilitate(j, w):
            p = W.lo + j
            in_win = W.spiked & (p < W.hi)
            return jnp.where(in_win, _facilitate(w, jnp.exp(W.minus_dt(p) / a["tau_plus"]), lam, a["mu_plus"], wmax), w)
        w = jax.lax.fori_loop(0, W.n_steps(), facilitate, w)
        w = jnp.where(W.spiked, _depress(w, W.nn_K_value(), a["alpha"], lam, a["mu_minus"], wmax), w)
        tlast = jnp.where(W.spiked, W.t_pre, s["_t_last"])
        return {"weight": w, "_t_last": tlast}, w, W.overflow(True)


@register
class stdp_nn_pre_centered_synapse(_NN):
    """STDP with the presynaptic-centered nearest-neighbour scheme (NEST: stdp_nn_pre_centered_synapse):
    each presynaptic spike pairs with the nearest postsynaptic spike before it; a postsynaptic spike
    pairs with all presynaptic spikes since the previous postsynaptic spike (K_plus is reset to 0 by a
    postsynaptic spike)."""

    name = "stdp_nn_pre_centered_synapse"
    connection_state = PRE_TRACE

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        W = _Window(a, s, post, cnt, k, tics_per_step)
        w, kplus = s["weight"], s["Kplus"]
        lam, wmax = a["lambda"], a["Wmax"]
        fac = _facilitate(w, kplus * jnp.exp(W.minus_dt(W.lo) / a["tau_plus"]), lam, a["mu_plus"], wmax)
        w = jnp.where(W.any_in_win, fac, w)
        ovf = W.overflow(False, kplus)
        kplus = jnp.where(W.any_in_win, 0.0, kplus)
        w = jnp.where(W.spiked, _depress(w, W.nn_K_value(), a["alpha"], lam, a["mu_minus"], wmax), w)
        kplus = jnp.where(W.spiked, kplus * jnp.exp((W.tl_ms - W.tpre_ms) / a["tau_plus"]) + 1.0, kplus)
        tlast = jnp.where(W.spiked, W.t_pre, s["_t_last"])
        return {"weight": w, "Kplus": kplus, "_t_last": tlast}, w, ovf


@register
class stdp_nn_restr_synapse(_NN):
    """STDP with the restricted symmetric nearest-neighbour scheme (NEST: stdp_nn_restr_synapse): only
    pairs of a presynaptic and a postsynaptic spike that are each other's nearest neighbours count."""

    name = "stdp_nn_restr_synapse"

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        W = _Window(a, s, post, cnt, k, tics_per_step)
        w = s["weight"]
        lam, wmax = a["lambda"], a["Wmax"]
        w = jnp.where(W.any_in_win, _facilitate(w, jnp.exp(W.minus_dt(W.lo) / a["tau_plus"]), lam, a["mu_plus"],
                                                wmax), w)
        w = jnp.where(W.any_in_win, _depress(w, W.nn_K_value(), a["alpha"], lam, a["mu_minus"], wmax), w)
        tlast = jnp.where(W.spiked, W.t_pre, s["_t_last"])
        return {"weight": w, "_t_last": tlast}, w, W.overflow(True)


@register
class vogels_sprekeler_synapse(Synapse):
    """Symmetric STDP for inhibitory synapses (Vogels et al. 2011; NEST: vogels_sprekeler_synapse). The
    postsynaptic trace is the target's K_minus, which decays with the target's tau_minus: set it equal to
    the synapse's tau, as NEST's documentation asks."""

    name = "vogels_sprekeler_synapse"
    plastic = True
    uses_post_archive = True
    parameters = {
        **connection_params(0.5, delay_doc="Transmission delay (all of it dendritic)"),
        "tau": Param(20.0, "ms", "Time constant of the presynaptic trace (and, in the target, of K_minus)"),
        "alpha": Param(0.12, "1", "Constant depression per presynaptic spike, in units of eta"),
        "eta": Param(0.001, "1", "Learning rate"),
        "Wmax": Param(1.0, "weight", "Maximum |weight|; its sign is the weight's"),
    }
    connection_state = PRE_TRACE
    route_by = "Wmax"

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        _sign_check(cls.name, w, params["Wmax"], zero_is_positive=False)

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        W = _Window(a, s, post, cnt, k, tics_per_step)
        w, kplus = s["weight"], s["Kplus"]
        eta, wmax = a["eta"], a["Wmax"]

        def fac(w, k_):
            new_w = jnp.abs(w) + eta * k_
            return jnp.copysign(jnp.where(new_w < jnp.abs(wmax), new_w, wmax), wmax)

        def facilitate(j, w):
            p = W.lo + j
            in_win = W.spiked & (p < W.hi)
            return jnp.where(in_win, fac(w, kplus * jnp.exp(W.minus_dt(p) / a["tau"])), w)
        w = jax.lax.fori_loop(0, W.n_steps(), facilitate, w)
        w2 = fac(w, W.K_value())
        new_w = jnp.abs(w2) - a["alpha"] * eta
        w2 = jnp.copysign(jnp.where(new_w > 0.0, new_w, 0.0), wmax)
        w = jnp.where(W.spiked, w2, w)
        ovf = W.overflow(False, kplus)
        kplus = jnp.where(W.spiked, kplus * jnp.exp((W.tl_ms - W.tpre_ms) / a["tau"]) + 1.0, kplus)
        tlast = jnp.where(W.spiked, W.t_pre, s["_t_last"])
        return {"weight": w, "Kplus": kplus, "_t_last": tlast}, w, ovf
