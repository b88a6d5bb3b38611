"""NEST's e-prop plasticity in update intervals after Bellec et al. (2020) (NEST 3.10):
eprop_learning_signal_connection_bsshslm_2020 and eprop_synapse_bsshslm_2020. The neurons:
:mod:`nestax.models.neurons.eprop_bsshslm`; the optimizers are those of eprop_synapse
(:mod:`nestax.models.synapses.eprop`).

eprop_learning_signal_connection_bsshslm_2020
    Carries the error signal of an ``eprop_readout_bsshslm_2020`` to an ``eprop_iaf_bsshslm_2020`` /
    ``eprop_iaf_adapt_bsshslm_2020``: the history entry t of the recurrent neuron gets weight x the
    readout's error signal of step t + 2 (summed over its connections), delivered after the readout's
    update in that step, before spikes are transmitted (NEST: a secondary event at the start of the
    next min_delay slice; the same schedule with min_delay one step). Parameters: weight (1.0, the
    feedback weight B), delay (1.0 ms, not used, as in NEST), receptor_type (0).

eprop_synapse_bsshslm_2020
    Update intervals of I = eprop_update_interval steps are counted from the target's shift (2 steps
    for recurrent targets, 3 for readouts). A spike stamped s is handled as NEST does:

    * to a recurrent target, a spike stamped at the first step of an interval ((s - shift) rem I == 0)
      is dropped: neither delivered nor used by the plasticity;
    * the spikes of the current interval (stamped before T = t_next_update + shift, the end of the
      interval) form the presynaptic train of the gradient, which starts at the first of them (the
      "trigger" spike) with z_bar = 0;
    * the first spike stamped s > T ends the interval: over the target's history entries
      t = t_trigger, ..., T - 1, oldest first (z = 1 at the entries of the interval's spikes)

          z_bar <- P_v z_bar + P_z z,  e = psi (z_bar - adapt_beta epsilon),  epsilon <- P_adapt epsilon + e,
          e_bar <- kappa e_bar + (1 - kappa) e,   g = sum_t L e_bar + fr_reg sum_t e

      (P_z: 1 or 1 - P_v, the target's regular_spike_arrival; kappa = exp(-dt / tau_m_readout);
      fr_reg: the target's firing-rate regularisation of that interval; readout targets: psi = 1,
      e_bar = e, L = their error signal, no regularisation), g / W if average_gradient (W: the
      learning window in steps). Learning signals that reach the target after the spike's step (the
      entries from s - 2 on) count as 0, as in NEST. The optimizer (eprop_synapse's WeightOptimizer:
      gradient_descent or adam, batch_size, Wmin / Wmax clipping) is called once with g and the
      update index (s - shift) // I; the interval of s then starts a new train with s as its trigger.
      A connection's first spike computes nothing (if it ends an interval, the optimizer gets g = 0).
    * the spike is delivered with the weight after the update.

    nestax computes the sums as the entries' values arrive (at each transmitted spike up to the last
    entry whose learning signal is known), which gives NEST's result without keeping each
    connection's list of inter-spike intervals.

    Parameters, shared by all connections (NEST's common properties; ``sim.set_defaults(
    "eprop_synapse_bsshslm_2020", optimizer={"type": "adam", ...}, average_gradient=...)``):
    average_gradient (False), optimizer (0 / "gradient_descent", 1 / "adam"), batch_size (1), eta (1e-4),
    Wmin (-100), Wmax (100), optimize_each_step (True; no effect here, as in NEST), beta_1 (0.9),
    beta_2 (0.999), epsilon (1e-7). Per connection: weight (1.0), delay (1.0 ms: one step, as NEST
    requires), receptor_type (0), tau_m_readout (10 ms, > 0: the readouts' tau_m, for kappa).

    Not modelled: flush events (the neurons refuse a finite flush_event_send_interval); an interval
    changed after connecting (NEST keeps the first update time computed at connect). Weights read
    after a simulate call include the spikes of its last step, which NEST transmits at the start of the
    next call. The target keeps ``Simulator.step_history`` steps of history: a connection whose source
    is silent for longer than that is an error (a larger step_history fixes it).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..base import Param, State
from ..neurons.eprop_bsshslm import BSS_DERIVED, BSS_HISTORY, BSS_LEARNING_SIGNAL_EVENT
from ..registry import register
from ...errors import BadParameterError
from .eprop import _SHARED, _step, eprop_learning_signal_connection, eprop_synapse

#: places for the presynaptic spikes not yet summed (at most 3 wait for their learning signal, plus one)
_PENDING = 4


@register
class eprop_learning_signal_connection_bsshslm_2020(eprop_learning_signal_connection):
    """Readout -> recurrent neuron feedback of the error signal in the bsshslm_2020 models (NEST:
    eprop_learning_signal_connection_bsshslm_2020). See the module docstring."""

    name = "eprop_learning_signal_connection_bsshslm_2020"
    rate_event = BSS_LEARNING_SIGNAL_EVENT


@register
class eprop_synapse_bsshslm_2020(eprop_synapse):
    """Synapse with e-prop plasticity in update intervals and a weight optimizer (NEST:
    eprop_synapse_bsshslm_2020). See the module docstring."""

    name = "eprop_synapse_bsshslm_2020"
    uses_step_history = BSS_HISTORY
    reads_target_params = BSS_DERIVED
    homogeneous = _SHARED + ("average_gradient",)
    parameters = {
        **{k: v for k, v in eprop_synapse.parameters.items()},
        "tau_m_readout": Param(10.0, "ms", "Membrane time constant of the readouts (for the filter kappa)"),
        "average_gradient": Param(False, "1", "Average the gradient over the learning window", "bool"),
    }
    connection_state = {
        "_t_prev": State("steps", 0, "Stamp of the previous presynaptic spike (0: none)"),
        "_t_upd": State("steps", 0, "Start of the interval of the last update (NEST's t_previous_update)"),
        "_t_next": State("steps", -1, "Start of the next update interval (-1: the first, one interval)"),
        "_t_proc": State("steps", 0, "First history entry not yet summed"),
        **{f"_p{i}": State("steps", 0, "Stamp of a presynaptic spike not yet summed (0: none)")
           for i in range(_PENDING)},
        "_z_bar": State("1", 0.0, "Low-pass filtered presynaptic spike train"),
        "_e_bar": State("1", 0.0, "Low-pass filtered eligibility trace"),
        "_epsilon": State("1", 0.0, "Adaptation eligibility vector (adapt targets)"),
        "_g": State("1", 0.0, "Sum of learning signal x e_bar of the interval so far"),
        "_sum_e": State("1", 0.0, "Sum of the eligibility trace of the interval so far"),
        **{n: eprop_synapse.connection_state[n] for n in ("_cum", "_opt_step", "_m", "_v", "_b1p", "_b2p", "_eta")},
    }

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        super().check_connections(w, params, sources_are_neurons)
        tau = np.asarray(params["tau_m_readout"], float).reshape(-1)
        if np.any(~(tau > 0)):
            raise BadParameterError(f"{cls.name}: parameter 'tau_m_readout' = {tau[~(tau > 0)][0]} ms is invalid; "
                                    "expected a value > 0 ms.")

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        dt_ = s["weight"].dtype
        it = s["_t_prev"].dtype  # the run's integer type
        tgt = a["tgt_local"]

        def target(n):
            x = post["target"][n]
            return x[tgt] if jnp.ndim(x) else jnp.broadcast_to(x, tgt.shape)

        P_v, P_z, P_a, beta = target("P_v"), target("_bs_P_z"), target("_bs_P_adapt"), target("_bs_beta")
        shift, n_int = target("_bs_shift").astype(it), target("_bs_interval").astype(it)
        lag_psi, lag_L = target("_bs_lag_psi").astype(it), target("_bs_lag_L").astype(it)
        recurrent = target("_bs_recurrent") > 0
        dt = tics_per_step / 1000.0
        kappa = jnp.where(recurrent, jnp.exp(-dt / jnp.broadcast_to(a["tau_m_readout"], tgt.shape)), 0.0)
        opt = {n: jnp.broadcast_to(a[n], tgt.shape) for n in _SHARED}
        opt["batch_size"] = opt["batch_size"].astype(it)
        opt["optimizer"] = opt["optimizer"].astype(jnp.int32)
        avg = jnp.broadcast_to(a["average_gradient"], tgt.shape) > 0

        s_t = jnp.asarray(k + 1).astype(it)  # the spike's stamp
        spiked = cnt > 0
        drop = spiked & recurrent & (jax.lax.rem(s_t - shift, n_int) == 0)
        go = spiked & ~drop
        t_next = jnp.where(s["_t_next"] < 0, n_int, s["_t_next"].astype(it))
        t_upd, t_prev = s["_t_upd"].astype(it), s["_t_prev"].astype(it)
        first = go & (t_prev == 0)
        t_proc = jnp.where(first, s_t, s["_t_proc"].astype(it))
        T = t_next + shift  # the end of the current interval (its entries are < T)
        update = go & (s_t > T)
        P = jnp.stack([s[f"_p{i}"].astype(it) for i in range(_PENDING)])  # (pending, n) stamps, 0: none
        n_p = jnp.sum(P > 0, axis=0)
        last_p = jnp.max(P, axis=0)
        add = go & ~update & (s_t < T) & (last_p != s_t)
        slot = jnp.arange(_PENDING, dtype=it)[:, None]
        P = jnp.where(add[None, :] & (slot == n_p[None, :]), s_t, P)
        # sum the entries whose learning signal is known (an update: the whole interval, the late
        # learning signals as 0)
        known = k + 1 - lag_L  # the last entry whose learning signal has arrived
        lim = jnp.where(update, T - 1, jnp.minimum(T - 1, known))
        n_steps = jnp.where(go, jnp.maximum(lim - t_proc + 1, 0), 0)
        hist = {n: post[n] for n in BSS_HISTORY}
        Lh = hist["_h_L"].shape[1]

        def body(j, c):
            zb, eb, eps, g, se = c
            on = j < n_steps
            t = t_proc + j
            psi = hist["_h_psi"][tgt, ((t + lag_psi) % Lh).astype(jnp.int32)]
            L = jnp.where(t + lag_L <= k + 1, hist["_h_L"][tgt, ((t + lag_L) % Lh).astype(jnp.int32)], 0.0)
            z = jnp.any(P == t[None, :], axis=0).astype(dt_)
            zb_n = P_v * zb + P_z * z
            e = psi * (zb_n - beta * eps)
            eb_n = kappa * eb + (1.0 - kappa) * e
            return (jnp.where(on, zb_n, zb), jnp.where(on, eb_n, eb), jnp.where(on, P_a * eps + e, eps),
                    jnp.where(on, g + L * eb_n, g), jnp.where(on, se + e, se))

        zb, eb, eps, g, se = jax.lax.fori_loop(0, jnp.max(n_steps, initial=0), body,
                                               (s["_z_bar"], s["_e_bar"], s["_epsilon"], s["_g"], s["_sum_e"]))
        overflow = jnp.any((n_steps > 0) & (t_proc + jnp.minimum(lag_psi, lag_L) < k + 2 - Lh))
        t_proc = jnp.where(n_steps > 0, lim + 1, t_proc)
        # drop the summed spikes from the pending places (they stay in time order)
        keep = (P > 0) & (P >= t_proc[None, :])
        big = jnp.iinfo(it).max
        P = jnp.sort(jnp.where(keep, P, big), axis=0)
        P = jnp.where(P == big, 0, P)
        # an update: the gradient of the interval, the optimizer at index (s - shift) // I
        reg = hist["_h_reg"][tgt, ((t_upd + shift + n_int) % Lh).astype(jnp.int32)]
        grad = g + reg * se
        grad = jnp.where(avg, grad / target("_bs_window"), grad)
        idx = jnp.where(update, (s_t - shift) // n_int, 0)
        st = {n: s[n] for n in ("weight", "_cum", "_m", "_v", "_b1p", "_b2p", "_eta")}
        st["_opt_step"] = s["_opt_step"].astype(it)
        st = _step(opt, idx, jnp.where(update, grad, 0.0), {**st, "go": update})
        zero = jnp.zeros_like(zb)
        P = jnp.where(update[None, :], jnp.where(slot == 0, s_t, 0), P)
        new = {"weight": st["weight"], "_t_prev": jnp.where(go, s_t, t_prev),
               "_t_upd": jnp.where(update, idx * n_int, t_upd),
               "_t_next": jnp.where(update, idx * n_int + n_int, jnp.where(s["_t_next"] < 0, s["_t_next"], t_next)),
               "_t_proc": jnp.where(update, s_t, t_proc),
               "_z_bar": jnp.where(update, zero, zb), "_e_bar": jnp.where(update, zero, eb),
               "_epsilon": jnp.where(update, zero, eps), "_g": jnp.where(update, zero, g),
               "_sum_e": jnp.where(update, zero, se),
               **{f"_p{i}": P[i] for i in range(_PENDING)},
               **{n: st[n] for n in ("_cum", "_opt_step", "_m", "_v", "_b1p", "_b2p", "_eta")}}
        new = {n: v.astype(s[n].dtype) for n, v in new.items()}
        return new, jnp.where(drop, 0.0, new["weight"]).astype(dt_), overflow
