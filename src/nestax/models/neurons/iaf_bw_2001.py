"""Brunel-Wang (2001) integrate-and-fire neuron with AMPA, GABA and NMDA receptors (NEST: iaf_bw_2001)."""

from __future__ import annotations

import jax.numpy as jnp
import jax.scipy.special as jsp

from ..base import Neuron, Param, State
from ..common import refractory_countdown, route_named_receptors
from ..integrators import rkf45_evolve
from ..propagators import refractory_steps
from ..registry import register

RECEPTORS = ("AMPA", "GABA", "NMDA")  # receptor_type 1, 2, 3


@register
class iaf_bw_2001(Neuron):
    """Brunel-Wang (2001) conductance-based integrate-and-fire neuron with AMPA, GABA and NMDA receptors
    and NEST's approximate NMDA coupling (NEST: iaf_bw_2001).

    Membrane and synapses (weights in nS are absorbed into the gating variables, so s_X is in nS):

        C_m dV_m/dt = -g_L (V_m - E_L) - I_AMPA - I_GABA - I_NMDA + I_gen
        I_AMPA = (V_m - E_ex) s_AMPA
        I_GABA = (V_m - E_in) s_GABA
        I_NMDA = (V_m - E_ex) s_NMDA / (1 + conc_Mg2 exp(-0.062 V_m) / 3.57)
        ds_X/dt = -s_X / tau_X   (X = AMPA, GABA; NMDA decays with tau_decay_NMDA)

    NMDA approximation: every neuron keeps an unweighted presynaptic NMDA variable s_pre. At its own
    spike at time t (previous spike at t_last; -1 ms before the first, as NEST's archive starts):

        s_pre <- s_pre exp(-(t - t_last) / tau_decay_NMDA)
        delta  = k_0 + k_1 s_pre,   s_pre <- s_pre + delta
        k_1 = expm1(-alpha tau_rise_NMDA)
        k_0 = (alpha tau_rise_NMDA)^(tau_rise_NMDA / tau_decay_NMDA)
              * lower_incomplete_gamma(1 - tau_rise_NMDA / tau_decay_NMDA, alpha tau_rise_NMDA)

    and sends delta with the spike (NEST puts it in the spike event's offset field). A target adds
    weight x delta to its s_NMDA on receptor 3. This is nestax's payload mechanism
    (``payload_receptors = (3,)``, ``payload_state = "_s_delta"``); NMDA input is accepted only from
    iaf_bw_2001 neurons, as in NEST.

    Update of step k, covering (k dt, (k+1) dt] (NEST 3.10):

    1. integrate (V_m, s_AMPA, s_GABA, s_NMDA) over the step with GSL's adaptive RKF45 (absolute error
       gsl_error_tol, relative 0; :func:`nestax.models.integrators.rkf45_evolve`) and the generator
       current of this step. The ODE is NOT clamped while the neuron is refractory: V_m evolves from
       V_reset during the step and is clamped back in 3. I_AMPA, I_GABA, I_NMDA are the currents of the
       last right-hand side evaluation of the step, i.e. at the integrated state (before 2. and 3.);
    2. add the spike input arriving in this step to s_AMPA, s_GABA (weight x multiplicity) and s_NMDA
       (weight x multiplicity x the sender's delta): s jumps at the arrival time, V_m moves from the
       next step;
    3. if refractory: count down, V_m = V_reset; else if V_m >= V_th: V_m = V_reset, refractory for
       round(t_ref/dt) steps, NMDA presynaptic update above, spike stamped (k+1) dt;
    4. generator current with NEST's one-step lag (engine).

    Receptors (NEST's receptor_types): AMPA = 1, GABA = 2, NMDA = 3 for spikes (receptor 0 is refused);
    current generators use receptor 0. Weights keep their sign (NEST does not route by sign here).

    Parameters (NEST 3.10 defaults; there is no I_e):

    ============== ==== ====== ===========================================
    E_L            mV   -70    leak reversal potential
    E_ex           mV   0      excitatory reversal potential
    E_in           mV   -70    inhibitory reversal potential
    V_th           mV   -55    spike threshold
    V_reset        mV   -60    reset potential (< V_th)
    C_m            pF   500    membrane capacitance (> 0)
    g_L            nS   25     leak conductance
    t_ref          ms   2      refractory period (>= 0)
    tau_AMPA       ms   2      AMPA decay time (> 0)
    tau_GABA       ms   5      GABA decay time (> 0)
    tau_rise_NMDA  ms   2      NMDA rise time (> 0)
    tau_decay_NMDA ms   100    NMDA decay time (> 0)
    alpha          1/ms 0.5    NMDA rise coupling (> 0)
    conc_Mg2       mM   1      extracellular Mg2+ concentration (> 0)
    gsl_error_tol  1    1e-3   absolute error tolerance of RKF45 (> 0)
    ============== ==== ====== ===========================================

    Recordables: V_m, s_AMPA, s_GABA, s_NMDA (settable), I_AMPA, I_GABA, I_NMDA (pA, read-only).

    Spike times are grid stamps; NEST's spike_recorder reports this model's times in ms minus delta
    (the payload rides in the event's offset) unless time_in_steps is set.
    """

    name = "iaf_bw_2001"
    kind = "neuron"
    ports = RECEPTORS
    weight_unit = "nS"
    payload_receptors = (3,)     # NMDA spikes are scaled by the sender's delta
    payload_state = "_s_delta"   # what this model's spikes carry
    payload_doc = "NMDA increment delta"
    payload_senders = "same"     # NEST: NMDA input only from iaf_bw_2001
    settable_state = ("V_m", "s_AMPA", "s_GABA", "s_NMDA")  # what NEST's SetStatus accepts
    parameters = {
        "E_L": Param(-70.0, "mV", "Leak reversal potential"),
        "E_ex": Param(0.0, "mV", "Excitatory reversal potential"),
        "E_in": Param(-70.0, "mV", "Inhibitory reversal potential"),
        "V_th": Param(-55.0, "mV", "Spike threshold"),
        "V_reset": Param(-60.0, "mV", "Reset potential"),
        "C_m": Param(500.0, "pF", "Membrane capacitance"),
        "g_L": Param(25.0, "nS", "Leak conductance"),
        "t_ref": Param(2.0, "ms", "Duration of the refractory period"),
        "tau_AMPA": Param(2.0, "ms", "Decay time of the AMPA synapse"),
        "tau_GABA": Param(5.0, "ms", "Decay time of the GABA synapse"),
        "tau_decay_NMDA": Param(100.0, "ms", "Decay time of the NMDA synapse"),
        "tau_rise_NMDA": Param(2.0, "ms", "Rise time of the NMDA synapse"),
        "alpha": Param(0.5, "1/ms", "Rise-time coupling strength of the NMDA synapse"),
        "conc_Mg2": Param(1.0, "mM", "Extracellular magnesium concentration"),
        "gsl_error_tol": Param(1e-3, "1", "Absolute error tolerance of the RKF45 integrator"),
    }
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "s_AMPA": State("nS", 0.0, "AMPA gating variable (weighted)"),
        "s_GABA": State("nS", 0.0, "GABA gating variable (weighted)"),
        "s_NMDA": State("nS", 0.0, "NMDA gating variable (weighted)"),
        "I_AMPA": State("pA", 0.0, "AMPA current"),
        "I_GABA": State("pA", 0.0, "GABA current"),
        "I_NMDA": State("pA", 0.0, "NMDA current"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
        "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
        "_k": State("1", 0, "Steps run so far (internal)"),
        "_t_last": State("ms", -1.0, "Time of the last own spike, -1 ms if none (internal)"),
        "_s_pre": State("1", 0.0, "Unweighted presynaptic NMDA variable at the last own spike (internal)"),
        "_s_delta": State("1", 0.0, "NMDA increment sent with the last own spike (internal)"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m", "s_AMPA", "s_GABA", "s_NMDA", "I_AMPA", "I_GABA", "I_NMDA")

    @classmethod
    def check(cls, p):
        cls._reset_below_threshold(p)
        cls._positive(p, "C_m")
        cls._nonnegative(p, "t_ref")
        cls._positive(p, "tau_AMPA", "tau_GABA", "tau_decay_NMDA", "tau_rise_NMDA", "alpha", "conc_Mg2",
                      "gsl_error_tol")

    @classmethod
    def port_names(cls, p):
        return RECEPTORS

    @classmethod
    def receptor_range(cls, p):
        return (1, len(RECEPTORS))

    @classmethod
    def route(cls, weights, receptor_type):
        """receptor_type 1..3 (AMPA, GABA, NMDA) -> port 0..2; weights keep their sign."""
        return route_named_receptors(cls.name, RECEPTORS, weights, receptor_type)

    @classmethod
    def prepare(cls, p, dt):
        alpha_tau = p["alpha"] * p["tau_rise_NMDA"]
        ratio = p["tau_rise_NMDA"] / p["tau_decay_NMDA"]
        a = 1.0 - ratio
        # lower incomplete gamma function gamma(a, x) = P(a, x) Gamma(a)
        gamma_lower = jsp.gammainc(a, alpha_tau) * jnp.exp(jsp.gammaln(a))
        return {
            "ref_counts": refractory_steps(p["t_ref"], dt),
            "dt": dt,
            "tps": float(int(round(dt * 1000))),
            "k_0": jnp.power(alpha_tau, ratio) * gamma_lower,
            "k_1": jnp.expm1(-p["alpha"] * p["tau_rise_NMDA"]),
        }

    @staticmethod
    def _currents(p, y):
        v = y[0]
        i_ampa = (v - p["E_ex"]) * y[1]
        i_gaba = (v - p["E_in"]) * y[2]
        i_nmda = (v - p["E_ex"]) / (1.0 + p["conc_Mg2"] * jnp.exp(-0.062 * v) / 3.57) * y[3]
        return i_ampa, i_gaba, i_nmda

    @classmethod
    def _rhs(cls, p, y, I):
        i_ampa, i_gaba, i_nmda = cls._currents(p, y)
        i_syn = i_ampa + i_gaba + i_nmda
        dv = (-p["g_L"] * (y[0] - p["E_L"]) - i_syn + I) / p["C_m"]
        return jnp.stack([dv, -y[1] / p["tau_AMPA"], -y[2] / p["tau_GABA"], -y[3] / p["tau_decay_NMDA"]])

    @classmethod
    def update(cls, p, d, s, syn, I):
        # 1. integrate the step (not clamped while refractory, as NEST)
        y = jnp.stack([s["V_m"], s["s_AMPA"], s["s_GABA"], s["s_NMDA"]])
        h = jnp.where(s["h"] > 0, s["h"], d["dt"])
        y, h, _ = rkf45_evolve(lambda yy, a: cls._rhs(a[0], yy, a[1]), y, h, d["dt"], (p, I),
                               eps_abs=p["gsl_error_tol"])
        # the recorded currents: NEST's last right-hand side evaluation, at the integrated state
        i_ampa, i_gaba, i_nmda = cls._currents(p, y)
        # 2. spike input of this step
        s_ampa = y[1] + syn[0]
        s_gaba = y[2] + syn[1]
        s_nmda = y[3] + syn[2]
        # 3. refractoriness and threshold
        r = s["refractory_steps"]
        refr = r > 0
        spike = ~refr & (y[0] >= p["V_th"])
        v = jnp.where(refr | spike, p["V_reset"], y[0])
        r = refractory_countdown(r, refr, spike, d["ref_counts"])
        # NMDA presynaptic update at an own spike: decay since the last spike, then the jump
        k1 = s["_k"] + 1
        t_spike = (k1 * d["tps"]) / 1000.0
        s_pre = s["_s_pre"] * jnp.exp(-(t_spike - s["_t_last"]) / p["tau_decay_NMDA"])
        delta = d["k_0"] + d["k_1"] * s_pre
        s_pre = s_pre + delta
        return {
            "V_m": v, "s_AMPA": s_ampa, "s_GABA": s_gaba, "s_NMDA": s_nmda,
            "I_AMPA": i_ampa, "I_GABA": i_gaba, "I_NMDA": i_nmda,
            "refractory_steps": r, "h": h, "_k": k1.astype(s["_k"].dtype),
            "_t_last": jnp.where(spike, t_spike, s["_t_last"]),
            "_s_pre": jnp.where(spike, s_pre, s["_s_pre"]),
            "_s_delta": jnp.where(spike, delta, s["_s_delta"]),
        }, spike


@register
class iaf_bw_2001_exact(iaf_bw_2001):
    """Brunel-Wang (2001) conductance-based integrate-and-fire neuron with AMPA, GABA and NMDA receptors,
    with the NMDA synapses integrated exactly, one gating pair per connection (NEST: iaf_bw_2001_exact).

    Membrane, AMPA and GABA as :class:`iaf_bw_2001`; for every NMDA connection j (weight w_j in nS) the
    target integrates its own rise variable x_j and gating variable S_j:

        I_NMDA = (V_m - E_ex) / (1 + conc_Mg2 exp(-0.062 V_m) / 3.57) * sum_j w_j S_j
        dx_j/dt = -x_j / tau_rise_NMDA          (+1 per spike of the connection, x multiplicity)
        dS_j/dt = -S_j / tau_decay_NMDA + alpha x_j (1 - S_j)

    NEST gives each NMDA connection its own receptor port; nestax does the same through
    ``own_port_receptors = (3,)``: the engine appends one input port per NMDA connection (in the order
    the connections were made), delivers the spike multiplicity there and passes the weights as the
    (n, K) parameter ``own_port_weights``; x_j and S_j are the (n, K) internal states ``_x_NMDA``,
    ``_s_NMDA``. NMDA input may come from any spiking node (no payload; NEST checks no sender type).
    As in NEST, NMDA connections are static and are made before the first simulate. The model is slow
    for many NMDA connections per neuron (a state pair each); :class:`iaf_bw_2001` approximates it.

    Update of step k, covering (k dt, (k+1) dt] (NEST 3.10):

    1. integrate (V_m, s_AMPA, s_GABA, x_j, S_j for all j) as one system over the step with GSL's
       adaptive RKF45 (absolute error gsl_error_tol over every component, relative 0) and the generator
       current of this step, not clamped while refractory. I_AMPA, I_GABA, I_NMDA and s_NMDA (= sum_j
       w_j S_j) are the values of the last right-hand side evaluation, at the integrated state;
    2. add this step's spike input: s_AMPA, s_GABA += weight x multiplicity, x_j += multiplicity;
    3. if refractory: count down, V_m = V_reset; else if V_m >= V_th: V_m = V_reset, refractory for
       round(t_ref/dt) steps, spike stamped (k+1) dt;
    4. generator current with NEST's one-step lag (engine).

    Receptors: AMPA = 1, GABA = 2, NMDA = 3 for spikes (0 refused); current generators on receptor 0.
    Weights keep their sign. Parameters: as :class:`iaf_bw_2001` (same names, defaults, units and
    constraints; no I_e).

    Recordables: V_m, s_AMPA, s_GABA (settable), s_NMDA (sum_j w_j S_j, nS), I_AMPA, I_GABA, I_NMDA (pA);
    s_NMDA and the currents are read-only as in NEST.
    """

    name = "iaf_bw_2001_exact"
    payload_receptors = ()
    payload_state = ""
    payload_senders = "any"
    own_port_receptors = (3,)              # NEST: a unique rport per NMDA connection
    own_port_state = ("_x_NMDA", "_s_NMDA")
    settable_state = ("V_m", "s_AMPA", "s_GABA")
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "s_AMPA": State("nS", 0.0, "AMPA gating variable (weighted)"),
        "s_GABA": State("nS", 0.0, "GABA gating variable (weighted)"),
        "s_NMDA": State("nS", 0.0, "Weighted sum of the NMDA gating variables of all connections"),
        "I_AMPA": State("pA", 0.0, "AMPA current"),
        "I_GABA": State("pA", 0.0, "GABA current"),
        "I_NMDA": State("pA", 0.0, "NMDA current"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
        "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
        "_x_NMDA": State("1", 0.0, "NMDA rise variable per NMDA connection, (n, K) (internal)"),
        "_s_NMDA": State("1", 0.0, "NMDA gating variable per NMDA connection, (n, K) (internal)"),
    }

    @classmethod
    def port_names(cls, p):
        return RECEPTORS[:2]   # the NMDA connections get ports of their own after these

    @classmethod
    def prepare(cls, p, dt):
        return {"ref_counts": refractory_steps(p["t_ref"], dt), "dt": dt}

    @classmethod
    def _rhs_exact(cls, p, y, I, W):
        K = W.shape[0]
        v = y[0]
        x, sj = y[3:3 + K], y[3 + K:]
        s_sum = jnp.sum(sj * W, axis=0)
        i_ampa, i_gaba, i_nmda = cls._currents(p, jnp.stack([v, y[1], y[2], s_sum]))
        dv = (-p["g_L"] * (v - p["E_L"]) - (i_ampa + i_gaba + i_nmda) + I) / p["C_m"]
        head = jnp.stack([dv, -y[1] / p["tau_AMPA"], -y[2] / p["tau_GABA"]])
        dx = -x / p["tau_rise_NMDA"]
        ds = -sj / p["tau_decay_NMDA"] + p["alpha"] * x * (1.0 - sj)
        return jnp.concatenate([head, dx, ds])

    @classmethod
    def update(cls, p, d, s, syn, I):
        W = p["own_port_weights"].T                      # (K, n)
        K = W.shape[0]
        y = jnp.concatenate([jnp.stack([s["V_m"], s["s_AMPA"], s["s_GABA"]]), s["_x_NMDA"].T, s["_s_NMDA"].T])
        h = jnp.where(s["h"] > 0, s["h"], d["dt"])
        y, h, _ = rkf45_evolve(lambda yy, a: cls._rhs_exact(a[0], yy, a[1], a[2]), y, h, d["dt"], (p, I, W),
                               eps_abs=p["gsl_error_tol"])
        s_sum = jnp.sum(y[3 + K:] * W, axis=0)
        i_ampa, i_gaba, i_nmda = cls._currents(p, jnp.stack([y[0], y[1], y[2], s_sum]))
        x = y[3:3 + K] + syn[2:2 + K]                    # multiplicity per NMDA connection
        r = s["refractory_steps"]
        refr = r > 0
        spike = ~refr & (y[0] >= p["V_th"])
        v = jnp.where(refr | spike, p["V_reset"], y[0])
        r = refractory_countdown(r, refr, spike, d["ref_counts"])
        return {
            "V_m": v, "s_AMPA": y[1] + syn[0], "s_GABA": y[2] + syn[1], "s_NMDA": s_sum,
            "I_AMPA": i_ampa, "I_GABA": i_gaba, "I_NMDA": i_nmda, "refractory_steps": r, "h": h,
            "_x_NMDA": x.T, "_s_NMDA": y[3 + K:].T,
        }, spike
