"""clopath_synapse: voltage-based STDP after Clopath et al. (2010) (NEST: clopath_synapse).

Parameters (NEST's defaults): weight (1), delay (1 ms), receptor_type (0), tau_x (15 ms, > 0),
Wmin (0), Wmax (100) (Wmin <= Wmax), in the weight's unit. Per-connection state: ``x_bar`` (0, the
presynaptic trace) and the stamp of the last presynaptic spike (0 initially). The amplitudes and
thresholds belong to the postsynaptic neuron (A_LTP, A_LTD, theta_plus, theta_minus, ...), which
must keep Clopath's per-step history (``aeif_psc_delta_clopath``, ``hh_psc_alpha_clopath``; other
targets are refused).

When a presynaptic spike stamped t_pre is transmitted through a connection with delay d:

1. facilitation: for every LTP entry of the target at stamps s with t_last - d < s <= t_pre - d,
   oldest first, w <- min(w + dw_LTP(s) x_bar exp((t_last - (s + d)) / tau_x), Wmax);
2. depression: w <- max(w - dw_LTD(t_pre - d), Wmin) (0 when the target wrote no LTD entry then);
3. the spike is delivered with w; x_bar <- x_bar exp((t_last - t_pre) / tau_x) + 1 / tau_x,
   t_last <- t_pre.

The entries come from the target's per-step history (:mod:`nestax.engine.step_history`), which
reaches ``Simulator.step_history`` steps back (2048 by default): if two spikes of a presynaptic
neuron are further apart than that (minus the delay) while x_bar is not 0, the run reports an error.
The clipped sequence of step 1 is evaluated in closed form: min(w + S, Wmax + min_i S_>i), S the sum
of all increments, S_>i the sum of those after entry i (equal to NEST's loop up to rounding).

NEST 3.10 accepts tau_x <= 0 and Wmin > Wmax (its weights then turn infinite or oscillate between
the bounds); nestax refuses them. NEST keeps only the last max_delay + 1 LTD entries; in a network
whose min_delay is more than one step it may have overwritten the entry a spike needs before the
spike is delivered (and then skips the depression); nestax always finds it.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..base import Param, State, Synapse, connection_params
from ..registry import register
from ...engine.archive import ms
from ...engine.step_history import in_time_order
from ...errors import BadParameterError


@register
class clopath_synapse(Synapse):
    """Clopath plasticity: facilitation from the target's LTP history since the last presynaptic
    spike, depression from its LTD value at the spike's arrival (see the module docstring)."""

    name = "clopath_synapse"
    plastic = True
    uses_step_history = ("_ltp_dw", "_ltd_dw")
    parameters = {
        **connection_params(delay_doc="Transmission delay (all of it dendritic)"),
        "tau_x": Param(15.0, "ms", "Time constant of the presynaptic trace x_bar"),
        "Wmin": Param(0.0, "weight", "Minimum weight, in the weight's unit"),
        "Wmax": Param(100.0, "weight", "Maximum weight, in the weight's unit"),
    }
    connection_state = {
        "x_bar": State("1/ms", 0.0, "Presynaptic trace x_bar"),
        "_t_last": State("steps", 0, "Stamp of the last presynaptic spike (steps; internal)"),
    }

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        tau = np.asarray(params["tau_x"], float).reshape(-1)
        if np.any(tau <= 0):
            raise BadParameterError(f"{cls.name}: parameter 'tau_x' = {tau[np.argmax(tau <= 0)]} ms is invalid; "
                                    "expected tau_x > 0 ms.")
        lo, hi = np.broadcast_arrays(np.asarray(params["Wmin"], float).reshape(-1),
                                     np.asarray(params["Wmax"], float).reshape(-1))
        bad = lo > hi
        if np.any(bad):
            i = int(np.argmax(bad))
            raise BadParameterError(f"{cls.name}: parameter 'Wmin' = {lo[i]} is invalid; expected Wmin <= Wmax "
                                    f"(Wmax = {hi[i]}).")

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        w, xbar, tlast = s["weight"], s["x_bar"], s["_t_last"]
        dt_ = w.dtype
        spiked = cnt > 0
        d = a["d"]
        t_pre = k + 1
        T, T1 = t_pre - d, tlast - d                     # window (T1, T] in stamps
        tl_ms, d_ms = ms(tlast, tics_per_step, dt_), ms(d, tics_per_step, dt_)
        tgt = a["tgt_local"]
        ltp, stamps = in_time_order(post["_ltp_dw"][tgt], k)     # (m, L) oldest first
        L = ltp.shape[1]
        inw = (stamps[None, :] > T1[:, None]) & (stamps[None, :] <= T[:, None]) & (ltp != 0.0)
        fac = xbar[:, None] * jnp.exp((tl_ms[:, None] - (ms(stamps, tics_per_step, dt_)[None, :] + d_ms[:, None]))
                                      / a["tau_x"][:, None])
        inc = jnp.where(inw, ltp * fac, 0.0)
        total = jnp.sum(inc, axis=1)
        after = total[:, None] - jnp.cumsum(inc, axis=1)          # sum of the increments after each entry
        cap = a["Wmax"] + jnp.min(jnp.where(inw, after, jnp.inf), axis=1)
        w = jnp.where(spiked & jnp.any(inw, axis=1), jnp.minimum(w + total, cap), w)
        # depression by the LTD value stamped t_pre - d (0 if none, or before the start)
        ltd_row = post["_ltd_dw"][tgt]
        ltd = jnp.take_along_axis(ltd_row, (T % L)[:, None], axis=1)[:, 0]
        ltd = jnp.where((T >= 1) & (T > t_pre - L), ltd, 0.0)
        new_w = w - ltd
        w = jnp.where(spiked, jnp.where(new_w > a["Wmin"], new_w, a["Wmin"]), w)
        # the window reached further back than the history (entries lost) while they would count
        overflow = jnp.any(spiked & (((T1 + 1 < t_pre + 1 - L) & (xbar != 0.0)) | (T > 0) & (T <= t_pre - L)))
        tpre_ms = ms(jnp.asarray(t_pre), tics_per_step, dt_)
        xbar = jnp.where(spiked, xbar * jnp.exp((tl_ms - tpre_ms) / a["tau_x"]) + 1.0 / a["tau_x"], xbar)
        tlast = jnp.where(spiked, t_pre, tlast)
        return {"weight": w, "x_bar": xbar, "_t_last": tlast}, w, overflow
