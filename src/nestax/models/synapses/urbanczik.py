"""urbanczik_synapse: dendritic prediction plasticity after Urbanczik and Senn (2014) (NEST:
urbanczik_synapse).

Parameters (NEST's defaults): weight (1), delay (1 ms), receptor_type (0), tau_Delta (100 ms, > 0),
eta (0.07), Wmin (0), Wmax (100) (Wmin <= Wmax), weights in the target's unit. Per-connection state:
the traces ``tau_L_trace`` and ``tau_s_trace`` (0), the integrals ``_PI_integral`` and
``_PI_exp_integral`` (0), the weight at connect time ``_init_weight`` and the stamp of the last
presynaptic spike.

The target (only ``pp_cond_exp_mc_urbanczik`` declares what it needs) keeps the dendritic prediction
error of every step, dPI(t) = (n_spikes(t) - phi(V_W*(t)) dt) h(V_W*(t)) (its ``step_history``
``_dPI``), and lends the synapse its dendrite's g_L.p, C_m.p, tau_syn_ex.p and tau_syn_in.p
(``reads_target_params``); tau_L = C_m.p / g_L.p, tau_s = tau_syn_ex.p if the weight before the
update is > 0, else tau_syn_in.p.

When a presynaptic spike stamped t is transmitted (t_last: the previous one; d: the delay, all of
it dendritic), every history entry stamped t_e with t_last - d < t_e <= t - d, with t_up = t_e + d,
contributes

    PI = (tau_L_trace exp((t_last - t_up) / tau_L) - tau_s_trace exp((t_last - t_up) / tau_s)) dPI(t_e)
    PI_integral     += sum PI
    PI_exp_integral  = exp((t_last - t) / tau_Delta) PI_exp_integral + sum exp((t_up - t) / tau_Delta) PI
    weight = init_weight + (PI_integral - PI_exp_integral) 15 C_m tau_s eta / (g_L (tau_L - tau_s))

clipped to Wmax (if above) or Wmin (if below); the spike is delivered with the new weight; then
tau_X_trace = tau_X_trace exp((t_last - t) / tau_X) + 1 (X = L, s) and t_last = t. Before the first
spike both traces are 0, so the entries before it contribute nothing.

The entries come from the target's per-step history (:mod:`nestax.engine.step_history`), which
reaches ``Simulator.step_history`` steps back (2048 by default): two spikes of a presynaptic neuron
further apart than that (minus the delay) make the run report an error.

Differences from NEST 3.10: NEST accepts tau_Delta <= 0 (a weight of NaN at tau_Delta = 0) and
Wmin > Wmax; nestax refuses them. NEST resets init_weight whenever SetStatus touches the connection;
nestax takes it from the weight at the connection's first transmitted spike (equal unless the weight
was set again after spikes were transmitted). The history sums are evaluated in another order
(relative differences ~1e-15).
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ...engine.archive import ms
from ...engine.step_history import in_time_order
from ...errors import BadParameterError
from ..base import Param, State, Synapse, connection_params
from ..registry import register


@register
class urbanczik_synapse(Synapse):
    """Urbanczik-Senn plasticity: the weight follows the low-pass filtered product of the presynaptic
    trace and the target's dendritic prediction error (see the module docstring)."""

    name = "urbanczik_synapse"
    plastic = True
    uses_step_history = ("_dPI",)
    reads_target_params = ("g_L.p", "C_m.p", "tau_syn_ex.p", "tau_syn_in.p")
    parameters = {
        **connection_params(delay_doc="Transmission delay (all of it dendritic)"),
        "tau_Delta": Param(100.0, "ms", "Time constant of the low-pass filter of the weight change"),
        "eta": Param(0.07, "1", "Learning rate"),
        "Wmin": Param(0.0, "weight", "Minimum weight, in the weight's unit"),
        "Wmax": Param(100.0, "weight", "Maximum weight, in the weight's unit"),
    }
    connection_state = {
        "tau_L_trace": State("1", 0.0, "Presynaptic trace with the dendrite's tau_L"),
        "tau_s_trace": State("1", 0.0, "Presynaptic trace with the dendrite's tau_syn"),
        "_PI_integral": State("1", 0.0, "Integral of PI (internal)"),
        "_PI_exp_integral": State("1", 0.0, "Low-pass filtered integral of PI (internal)"),
        "_init_weight": State("1", np.nan, "Weight before the first transmitted spike (internal; NaN: none yet)"),
        "_t_last": State("steps", 0, "Stamp of the last presynaptic spike (steps; internal)"),
    }

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        tau = np.asarray(params["tau_Delta"], float).reshape(-1)
        if np.any(tau <= 0):
            raise BadParameterError(f"{cls.name}: parameter 'tau_Delta' = {tau[np.argmax(tau <= 0)]} ms is invalid; "
                                    "expected tau_Delta > 0 ms.")
        w, lo, hi = np.broadcast_arrays(np.asarray(w, float).reshape(-1), np.asarray(params["Wmin"], float).reshape(-1),
                                        np.asarray(params["Wmax"], float).reshape(-1))
        bad = lo > hi
        if np.any(bad):
            i = int(np.argmax(bad))
            raise BadParameterError(f"{cls.name}: parameter 'Wmin' = {lo[i]} is invalid; expected Wmin <= Wmax "
                                    f"(Wmax = {hi[i]}).")
        # NEST: the weight and Wmax must have the same sign (w = 0 needs Wmax > 0)
        bad = (np.signbit(w) != np.signbit(hi)) | (np.where(w >= 0, 1, -1) != np.where(hi > 0, 1, -1))
        if np.any(bad):
            i = int(np.argmax(bad))
            raise BadParameterError(f"{cls.name}: parameter 'weight' = {w[i]} is invalid; expected the sign of Wmax "
                                    f"(Wmax = {hi[i]}; a weight of 0 needs Wmax > 0).")

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        w = s["weight"]
        dt_ = w.dtype
        spiked = cnt > 0
        d, tgt = a["d"], a["tgt_local"]
        t_pre, tlast = k + 1, s["_t_last"]
        T, T1 = t_pre - d, tlast - d                     # window (T1, T] in stamps
        tl_ms, d_ms, tp_ms = ms(tlast, tics_per_step, dt_), ms(d, tics_per_step, dt_), ms(t_pre, tics_per_step, dt_)
        tp = post["target"]
        g_L, C_m = tp["g_L.p"][tgt], tp["C_m.p"][tgt]
        tau_L = C_m / g_L
        tau_s = jnp.where(w > 0.0, tp["tau_syn_ex.p"][tgt], tp["tau_syn_in.p"][tgt])
        trL, trs = s["tau_L_trace"], s["tau_s_trace"]
        dpi, stamps = in_time_order(post["_dPI"][tgt], k)   # (m, L) oldest first
        L = dpi.shape[1]
        inw = (stamps[None, :] > T1[:, None]) & (stamps[None, :] <= T[:, None]) & (stamps[None, :] >= 1)
        t_up = ms(stamps, tics_per_step, dt_)[None, :] + d_ms[:, None]
        m_dt_up = tl_ms[:, None] - t_up
        PI = (trL[:, None] * jnp.exp(m_dt_up / tau_L[:, None]) - trs[:, None] * jnp.exp(m_dt_up / tau_s[:, None])) * dpi
        PI = jnp.where(inw, PI, 0.0)
        pi_int = s["_PI_integral"] + jnp.sum(PI, axis=1)
        dpi_exp = jnp.sum(jnp.where(inw, jnp.exp((t_up - tp_ms) / a["tau_Delta"][:, None]) * PI, 0.0), axis=1)
        pi_exp = jnp.exp((tl_ms - tp_ms) / a["tau_Delta"]) * s["_PI_exp_integral"] + dpi_exp
        init = jnp.where(jnp.isnan(s["_init_weight"]), w, s["_init_weight"])
        new_w = init + (pi_int - pi_exp) * 15.0 * C_m * tau_s * a["eta"] / (g_L * (tau_L - tau_s))
        new_w = jnp.where(new_w > a["Wmax"], a["Wmax"], jnp.where(new_w < a["Wmin"], a["Wmin"], new_w))
        # the window reached further back than the history while the traces were not 0 (entries lost)
        overflow = jnp.any(spiked & (T1 + 1 < t_pre + 1 - L) & ((trL != 0.0) | (trs != 0.0)))
        trL_new = trL * jnp.exp((tl_ms - tp_ms) / tau_L) + 1.0
        trs_new = trs * jnp.exp((tl_ms - tp_ms) / tau_s) + 1.0

        def upd(new, old):
            return jnp.where(spiked, new, old)

        return {"weight": upd(new_w, w), "tau_L_trace": upd(trL_new, trL), "tau_s_trace": upd(trs_new, trs),
                "_PI_integral": upd(pi_int, s["_PI_integral"]), "_PI_exp_integral": upd(pi_exp, s["_PI_exp_integral"]),
                "_init_weight": upd(init, s["_init_weight"]), "_t_last": upd(t_pre, tlast)}, upd(new_w, w), overflow
