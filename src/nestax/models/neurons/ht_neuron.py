"""Hill-Tononi neuron (NEST: ht_neuron), integrated with NEST's GSL RKF45 loop."""
from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from ..common import route_named_receptors
from ..base import Neuron, Param, State
from ..integrators import rkf45_evolve
from ..propagators import refractory_steps
from ..registry import register
from .iaf_cond import beta_normalization

_EPS_ABS = 1e-3  # NEST: gsl_odeiv_control_y_new(1e-3, 0)
RECEPTORS = ("AMPA", "NMDA", "GABA_A", "GABA_B")  # receptor_type 1..4


# ---- voltage-dependent equilibria (exp passed in: jnp on the device, math.exp for start values)
def _m_eq_h(V, exp=jnp.exp):
    return 1.0 / (1.0 + exp((V - -75.0) / 5.5))


def _h_eq_T(V, exp=jnp.exp):
    return 1.0 / (1.0 + exp((V + 83.0) / 4))


def _m_eq_T(V, exp=jnp.exp):
    return 1.0 / (1.0 + exp(-(V + 59.0) / 6.2))


def _D_eq_KNa(V, tau_D_KNa, exp=jnp.exp):
    D_influx = 0.025 / (1.0 + exp(-(V - -10.0) / 5.0))
    return tau_D_KNa * D_influx + 0.001


def _m_eq_NMDA(V, S_act, V_act, exp=jnp.exp):
    return 1.0 / (1.0 + exp(-S_act * (V - V_act)))


def _m_NMDA(p, V, m_eq, m_fast, m_slow):
    A1 = 0.51 - 0.0028 * V
    A2 = 1 - A1
    return jnp.where(p["instant_unblock_NMDA"], m_eq, A1 * m_fast + A2 * m_slow)


# NEST's start state: equilibrium of the leak currents with the DEFAULT parameters
_V0 = (0.2 * 30.0 + 1.0 * -90.0) / (0.2 + 1.0)
_M_NMDA0 = _m_eq_NMDA(_V0, 0.081, -25.57, math.exp)
_START = {"m_Ih": _m_eq_h(_V0, math.exp), "D_IKNa": _D_eq_KNa(_V0, 1250.0, math.exp),
          "m_IT": _m_eq_T(_V0, math.exp), "h_IT": _h_eq_T(_V0, math.exp)}

_Y = ("V_m", "theta", "dg_AMPA", "g_AMPA", "dg_NMDA_TIMECOURSE", "g_NMDA_TIMECOURSE", "dg_GABA_A", "g_GABA_A",
      "dg_GABA_B", "g_GABA_B", "m_fast_NMDA", "m_slow_NMDA", "m_Ih", "D_IKNa", "m_IT", "h_IT")


def _P(default, unit, doc, kind="float"):
    return Param(default, unit, doc, kind)


@register
class ht_neuron(Neuron):
    """Hill-Tononi (2005) neuron with intrinsic currents and four conductance-based receptors (NEST: ht_neuron).

    Equations (V = V_m, or the clamp value when voltage_clamp is set; conductances are relative to the
    leak, so weights and g_peak_* are dimensionless):
      tau_m dV/dt = I_Na + I_K + I_syn + I_NaP + I_KNa + I_T + I_h + I_gen, plus I_spike (in mV/ms)
      I_Na = -g_NaL (V - E_Na), I_K = -g_KL (V - E_K),
      I_syn = -g_AMPA (V - E_rev_AMPA) - g_NMDA m_NMDA (V - E_rev_NMDA) - g_GABA_A (V - E_rev_GABA_A)
              - g_GABA_B (V - E_rev_GABA_B)
      I_spike = -(V - E_K) / tau_spike while refractory, else 0
      I_NaP = -g_peak_NaP m_inf^N_NaP (V - E_rev_NaP), m_inf = 1 / (1 + exp(-(V + 55.7) / 7.7))
      I_KNa = -g_peak_KNa / (1 + (0.25 / D)^3.5) (V - E_rev_KNa),
              dD/dt = (tau_D_KNa 0.025 / (1 + exp(-(V + 10) / 5)) + 0.001 - D) / tau_D_KNa
      I_T = -g_peak_T m_T^N_T h_T (V - E_rev_T), dm_T/dt = (m_T,eq - m_T) / tau_m_T,
            dh_T/dt = (h_T,eq - h_T) / tau_h_T (Hill & Tononi's voltage dependences)
      I_h = -g_peak_h m_h (V - E_rev_h), dm_h/dt = (m_h,eq - m_h) / tau_m_h
      dtheta/dt = -(theta - theta_eq) / tau_theta
      receptor X: d(dg_X)/dt = -dg_X / tau_rise_X, dg_X/dt = dg_X - g_X / tau_decay_X
      NMDA unblock: m_eq(V) = 1 / (1 + exp(-S_act_NMDA (V - V_act_NMDA))), the fast and slow variables
      relax to m_eq with tau_Mg_fast/slow_NMDA but are capped at m_eq (they unblock slowly, block at once);
      m_NMDA = A1 m_fast + (1 - A1) m_slow with A1 = 0.51 - 0.0028 V, or m_eq if instant_unblock_NMDA.

    Update of step k (NEST 3.10 order): GSL RKF45 (absolute error 1e-3, per-neuron step size kept across
    steps) over (k dt, (k+1) dt] with the step's generator current; after EVERY accepted RKF45 step:
    V_m = clamp value if voltage_clamp, cap m_fast/m_slow at m_eq(V_m), and if not refractory and
    V_m >= theta: V_m = theta = E_Na, refractory for round-up(t_ref/dt) + 1 counts, emit a spike stamped
    (k+1) dt (I_spike acts from the next RKF45 step on). After the step: the refractory count drops by
    one; spikes arriving in this step on receptor X add g_peak_X * beta_normalization(tau_rise_X,
    tau_decay_X) * w to dg_X (so a weight-1 spike gives a peak conductance g_peak_X).

    Receptors (receptor_type, as NEST): AMPA = 1, NMDA = 2, GABA_A = 3, GABA_B = 4; spike connections
    with receptor_type 0 are rejected, current generators use receptor_type 0. Weights keep their sign.

    Recordables: V_m, theta (mV), g_AMPA, g_NMDA (= g_NMDA_TIMECOURSE * m_NMDA at the end of the step),
    g_GABA_A, g_GABA_B, and I_NaP, I_KNa, I_T, I_h: as NEST, the currents of the LAST right-hand-side
    evaluation of the step, i.e. at the end of the step before the spike reset.

    Start state (as NEST): V_m = (g_NaL E_Na + g_KL E_K)/(g_NaL + g_KL) = -70 mV and the gating variables
    at equilibrium for it, both from the default parameters; theta = theta_eq default (-51 mV).
    Not supported: NEST's `equilibrate` state flag. voltage_clamp holds V_m at its value at the first
    step (NEST: at the start of each Simulate call; the two differ only if V_m is changed while clamped).

    Parameters (NEST defaults; all checks of NEST): E_Na 30, E_K -90 (mV); g_NaL 0.2, g_KL 1 (>= 0);
    tau_m 16, theta_eq -51 (mV), tau_theta 2, tau_spike 1.75, t_ref 2 (ms; taus > 0, t_ref >= 0);
    g_peak_AMPA 0.1, tau_rise_AMPA 0.5, tau_decay_AMPA 2.4, E_rev_AMPA 0; g_peak_NMDA 0.075,
    tau_rise_NMDA 4, tau_decay_NMDA 40, E_rev_NMDA 0, V_act_NMDA -25.57, S_act_NMDA 0.081 (1/mV, >= 0),
    tau_Mg_slow_NMDA 22.7, tau_Mg_fast_NMDA 0.68, instant_unblock_NMDA False; g_peak_GABA_A 0.33,
    tau_rise_GABA_A 1, tau_decay_GABA_A 7, E_rev_GABA_A -70; g_peak_GABA_B 0.0132, tau_rise_GABA_B 60,
    tau_decay_GABA_B 200, E_rev_GABA_B -90; g_peak_NaP 1, E_rev_NaP 30, N_NaP 3; g_peak_KNa 1,
    E_rev_KNa -90, tau_D_KNa 1250; g_peak_T 1, E_rev_T 0, N_T 2; g_peak_h 1, E_rev_h -40;
    voltage_clamp False. All g_peak_* >= 0, every tau > 0, tau_rise_X < tau_decay_X,
    tau_Mg_fast_NMDA < tau_Mg_slow_NMDA.
    """

    name = "ht_neuron"
    settable_state = ("V_m", "theta")  # what NEST's SetStatus accepts
    kind = "neuron"
    ports = RECEPTORS
    receptor_types = {r: i + 1 for i, r in enumerate(RECEPTORS)}  # NEST's receptor_types
    weight_unit = "1"
    parameters = {
        "E_Na": _P(30.0, "mV", "Sodium reversal potential (V_m and theta are set to it at a spike)"),
        "E_K": _P(-90.0, "mV", "Potassium reversal potential"),
        "g_NaL": _P(0.2, "1", "Sodium leak conductance"),
        "g_KL": _P(1.0, "1", "Potassium leak conductance"),
        "tau_m": _P(16.0, "ms", "Membrane time constant"),
        "theta_eq": _P(-51.0, "mV", "Equilibrium threshold"),
        "tau_theta": _P(2.0, "ms", "Threshold time constant"),
        "tau_spike": _P(1.75, "ms", "Time constant of the post-spike potassium current"),
        "t_ref": _P(2.0, "ms", "Duration of the post-spike potassium current"),
        "g_peak_AMPA": _P(0.1, "1", "AMPA peak conductance"),
        "tau_rise_AMPA": _P(0.5, "ms", "AMPA rise time"),
        "tau_decay_AMPA": _P(2.4, "ms", "AMPA decay time"),
        "E_rev_AMPA": _P(0.0, "mV", "AMPA reversal potential"),
        "g_peak_NMDA": _P(0.075, "1", "NMDA peak conductance"),
        "tau_rise_NMDA": _P(4.0, "ms", "NMDA rise time"),
        "tau_decay_NMDA": _P(40.0, "ms", "NMDA decay time"),
        "E_rev_NMDA": _P(0.0, "mV", "NMDA reversal potential"),
        "V_act_NMDA": _P(-25.57, "mV", "NMDA unblock half-activation potential"),
        "S_act_NMDA": _P(0.081, "1/mV", "NMDA unblock slope"),
        "tau_Mg_slow_NMDA": _P(22.7, "ms", "Slow NMDA unblock time constant"),
        "tau_Mg_fast_NMDA": _P(0.68, "ms", "Fast NMDA unblock time constant"),
        "instant_unblock_NMDA": _P(False, "1", "Instantaneous NMDA unblocking", "bool"),
        "g_peak_GABA_A": _P(0.33, "1", "GABA_A peak conductance"),
        "tau_rise_GABA_A": _P(1.0, "ms", "GABA_A rise time"),
        "tau_decay_GABA_A": _P(7.0, "ms", "GABA_A decay time"),
        "E_rev_GABA_A": _P(-70.0, "mV", "GABA_A reversal potential"),
        "g_peak_GABA_B": _P(0.0132, "1", "GABA_B peak conductance"),
        "tau_rise_GABA_B": _P(60.0, "ms", "GABA_B rise time"),
        "tau_decay_GABA_B": _P(200.0, "ms", "GABA_B decay time"),
        "E_rev_GABA_B": _P(-90.0, "mV", "GABA_B reversal potential"),
        "g_peak_NaP": _P(1.0, "1", "Persistent sodium peak conductance"),
        "E_rev_NaP": _P(30.0, "mV", "Persistent sodium reversal potential"),
        "N_NaP": _P(3.0, "1", "Exponent of the persistent sodium activation"),
        "g_peak_KNa": _P(1.0, "1", "Sodium-activated potassium peak conductance"),
        "E_rev_KNa": _P(-90.0, "mV", "Sodium-activated potassium reversal potential"),
        "tau_D_KNa": _P(1250.0, "ms", "Time constant of the sodium concentration D"),
        "g_peak_T": _P(1.0, "1", "Low-threshold calcium peak conductance"),
        "E_rev_T": _P(0.0, "mV", "Low-threshold calcium reversal potential"),
        "N_T": _P(2.0, "1", "Exponent of the low-threshold calcium activation"),
        "g_peak_h": _P(1.0, "1", "Pacemaker (h) peak conductance"),
        "E_rev_h": _P(-40.0, "mV", "Pacemaker (h) reversal potential"),
        "voltage_clamp": _P(False, "1", "Clamp V_m at its value at the start of the run", "bool"),
    }
    state = {
        "V_m": State("mV", _V0, "Membrane potential"),
        "theta": State("mV", -51.0, "Spike threshold (NEST starts it at the default theta_eq)"),
        "dg_AMPA": State("1/ms", 0.0, "Derivative state of the AMPA conductance"),
        "g_AMPA": State("1", 0.0, "AMPA conductance"),
        "dg_NMDA_TIMECOURSE": State("1/ms", 0.0, "Derivative state of the NMDA conductance time course"),
        "g_NMDA_TIMECOURSE": State("1", 0.0, "NMDA conductance time course (before unblock)"),
        "dg_GABA_A": State("1/ms", 0.0, "Derivative state of the GABA_A conductance"),
        "g_GABA_A": State("1", 0.0, "GABA_A conductance"),
        "dg_GABA_B": State("1/ms", 0.0, "Derivative state of the GABA_B conductance"),
        "g_GABA_B": State("1", 0.0, "GABA_B conductance"),
        "m_fast_NMDA": State("1", _M_NMDA0, "Fast NMDA unblock variable"),
        "m_slow_NMDA": State("1", _M_NMDA0, "Slow NMDA unblock variable"),
        "m_Ih": State("1", _START["m_Ih"], "Activation of I_h"),
        "D_IKNa": State("1", _START["D_IKNa"], "Sodium concentration variable of I_KNa"),
        "m_IT": State("1", _START["m_IT"], "Activation of I_T"),
        "h_IT": State("1", _START["h_IT"], "Inactivation of I_T"),
        "g_NMDA": State("1", 0.0, "NMDA conductance, g_NMDA_TIMECOURSE * m_NMDA (recordable)"),
        "I_NaP": State("mV", 0.0, "Persistent sodium current (last evaluation)"),
        "I_KNa": State("mV", 0.0, "Sodium-activated potassium current (last evaluation)"),
        "I_T": State("mV", 0.0, "Low-threshold calcium current (last evaluation)"),
        "I_h": State("mV", 0.0, "Pacemaker current (last evaluation)"),
        "refractory_steps": State("1", 0, "Counts left of the post-spike potassium current"),
        "V_clamp": State("mV", float("nan"), "Clamp value (NaN: take V_m at the next step)"),
        "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m", "theta", "g_AMPA", "g_NMDA", "g_GABA_A", "g_GABA_B", "I_NaP", "I_KNa", "I_T", "I_h")

    @classmethod
    def port_names(cls, p):
        return RECEPTORS

    @classmethod
    def receptor_range(cls, p):
        # spike receptors; current generators use receptor 0 (connect checks them against (0, 0))
        return (1, len(RECEPTORS))

    @classmethod
    def route(cls, weights, receptor_type):
        """receptor_type 1..4 (AMPA, NMDA, GABA_A, GABA_B) -> port 0..3; weights keep their sign."""
        return route_named_receptors(cls.name, RECEPTORS, weights, receptor_type)

    @classmethod
    def check(cls, p):
        cls._nonnegative(p, "g_peak_AMPA", "g_peak_GABA_A", "g_peak_GABA_B", "g_peak_KNa", "S_act_NMDA",
                         "g_peak_NMDA", "g_peak_T", "g_peak_h", "g_peak_NaP", "g_KL", "g_NaL", "t_ref")
        cls._positive(p, "tau_rise_AMPA", "tau_decay_AMPA", "tau_rise_GABA_A", "tau_decay_GABA_A",
                      "tau_rise_GABA_B", "tau_decay_GABA_B", "tau_rise_NMDA", "tau_decay_NMDA",
                      "tau_Mg_fast_NMDA", "tau_Mg_slow_NMDA", "tau_spike", "tau_theta", "tau_m", "tau_D_KNa")
        for x in ("AMPA", "GABA_A", "GABA_B", "NMDA"):
            cls._require(p, f"tau_rise_{x}", np.asarray(p[f"tau_rise_{x}"]) < np.asarray(p[f"tau_decay_{x}"]),
                         f"tau_rise_{x} < tau_decay_{x} (tau_decay_{x} = {np.ravel(p[f'tau_decay_{x}'])[0]} ms)")
        cls._require(p, "tau_Mg_fast_NMDA", np.asarray(p["tau_Mg_fast_NMDA"]) < np.asarray(p["tau_Mg_slow_NMDA"]),
                     f"tau_Mg_fast_NMDA < tau_Mg_slow_NMDA (= {np.ravel(p['tau_Mg_slow_NMDA'])[0]} ms)")

    @classmethod
    def prepare(cls, p, dt):
        d = {"ref_counts": refractory_steps(p["t_ref"], dt), "dt": dt}
        for x in RECEPTORS:
            d["cond_" + x] = p[f"g_peak_{x}"] * beta_normalization(p[f"tau_rise_{x}"], p[f"tau_decay_{x}"])
        return d

    @staticmethod
    def _intrinsic(p, V, y):
        """I_NaP, I_KNa, I_T, I_h (NEST's order of operations)."""
        m_inf_NaP = 1.0 / (1.0 + jnp.exp(-(V - -55.7) / 7.7))
        i_nap = -p["g_peak_NaP"] * jnp.power(m_inf_NaP, p["N_NaP"]) * (V - p["E_rev_NaP"])
        m_inf_KNa = 1.0 / (1.0 + jnp.power(0.25 / y[13], 3.5))
        i_kna = -p["g_peak_KNa"] * m_inf_KNa * (V - p["E_rev_KNa"])
        i_t = -p["g_peak_T"] * jnp.power(y[14], p["N_T"]) * y[15] * (V - p["E_rev_T"])
        i_h = -p["g_peak_h"] * y[12] * (V - p["E_rev_h"])
        return i_nap, i_kna, i_t, i_h

    @classmethod
    def _rhs(cls, p, y, args):
        I, ref, V_clamp = args[0], args[1], args[2]
        V = jnp.where(p["voltage_clamp"], V_clamp, y[0])
        m_eq = _m_eq_NMDA(V, p["S_act_NMDA"], p["V_act_NMDA"])
        m_fast = jnp.minimum(m_eq, y[10])
        m_slow = jnp.minimum(m_eq, y[11])
        m_nmda = _m_NMDA(p, V, m_eq, m_fast, m_slow)
        i_syn = (-y[3] * (V - p["E_rev_AMPA"]) - y[5] * m_nmda * (V - p["E_rev_NMDA"])
                 - y[7] * (V - p["E_rev_GABA_A"]) - y[9] * (V - p["E_rev_GABA_B"]))
        i_spike = jnp.where(ref > 0, -(V - p["E_K"]) / p["tau_spike"], 0.0)
        i_na = -p["g_NaL"] * (V - p["E_Na"])
        i_k = -p["g_KL"] * (V - p["E_K"])
        i_nap, i_kna, i_t, i_h = cls._intrinsic(p, V, y)
        dv = (i_na + i_k + i_syn + i_nap + i_kna + i_t + i_h + I) / p["tau_m"] + i_spike
        tau_m_T = 0.22 / (jnp.exp(-(V + 132.0) / 16.7) + jnp.exp((V + 16.8) / 18.2)) + 0.13
        tau_h_T = 8.2 + (56.6 + 0.27 * jnp.exp((V + 115.2) / 5.0)) / (1.0 + jnp.exp((V + 86.0) / 3.2))
        tau_m_h = 1.0 / (jnp.exp(-14.59 - 0.086 * V) + jnp.exp(-1.87 + 0.0701 * V))
        return jnp.stack([
            dv,
            -(y[1] - p["theta_eq"]) / p["tau_theta"],
            -y[2] / p["tau_rise_AMPA"], y[2] - y[3] / p["tau_decay_AMPA"],
            -y[4] / p["tau_rise_NMDA"], y[4] - y[5] / p["tau_decay_NMDA"],
            -y[6] / p["tau_rise_GABA_A"], y[6] - y[7] / p["tau_decay_GABA_A"],
            -y[8] / p["tau_rise_GABA_B"], y[8] - y[9] / p["tau_decay_GABA_B"],
            (m_eq - m_fast) / p["tau_Mg_fast_NMDA"],
            (m_eq - m_slow) / p["tau_Mg_slow_NMDA"],
            (_m_eq_h(V) - y[12]) / tau_m_h,
            (_D_eq_KNa(V, p["tau_D_KNa"]) - y[13]) / p["tau_D_KNa"],
            (_m_eq_T(V) - y[14]) / tau_m_T,
            (_h_eq_T(V) - y[15]) / tau_h_T,
        ])

    @classmethod
    def update(cls, p, d, s, syn, I):
        y = jnp.stack([s[k] for k in _Y])
        V_clamp = jnp.where(jnp.isnan(s["V_clamp"]), s["V_m"], s["V_clamp"])
        ref0 = s["refractory_steps"]
        counts = d["ref_counts"].astype(ref0.dtype) + 1
        zeros = jnp.zeros_like(s["V_m"])

        def post(y, args, acc):
            I_, ref, Vc, inap, ikna, it, ih, spk = args
            # the currents of the last right-hand-side evaluation: at the end of the accepted step
            V = jnp.where(p["voltage_clamp"], Vc, y[0])
            cur = cls._intrinsic(p, V, y)
            inap, ikna, it, ih = (jnp.where(acc, c, o) for c, o in zip(cur, (inap, ikna, it, ih)))
            v = jnp.where(acc & p["voltage_clamp"], Vc, y[0])
            m_eq = _m_eq_NMDA(v, p["S_act_NMDA"], p["V_act_NMDA"])
            mf = jnp.where(acc, jnp.minimum(m_eq, y[10]), y[10])
            ms = jnp.where(acc, jnp.minimum(m_eq, y[11]), y[11])
            fire = acc & (ref == 0) & (v >= y[1])
            v = jnp.where(fire, p["E_Na"], v)
            theta = jnp.where(fire, p["E_Na"], y[1])
            ref = jnp.where(fire, counts, ref)
            y = y.at[0].set(v).at[1].set(theta).at[10].set(mf).at[11].set(ms)
            return y, (I_, ref, Vc, inap, ikna, it, ih, spk | fire)

        h = jnp.where(s["h"] > 0, s["h"], d["dt"])
        args = (I, ref0, V_clamp, s["I_NaP"], s["I_KNa"], s["I_T"], s["I_h"], zeros > 0)
        y, h, args = rkf45_evolve(lambda yy, a: cls._rhs(p, yy, a), y, h, d["dt"], args,
                                  eps_abs=_EPS_ABS, post=post)
        _, ref, _, inap, ikna, it, ih, spike = args
        ref = jnp.where(ref > 0, ref - 1, ref)
        for i, x in enumerate(RECEPTORS):
            y = y.at[2 + 2 * i].add(d["cond_" + x] * syn[i])
        new = {k: y[i] for i, k in enumerate(_Y)}
        m_eq = _m_eq_NMDA(y[0], p["S_act_NMDA"], p["V_act_NMDA"])
        new["g_NMDA"] = y[5] * _m_NMDA(p, y[0], m_eq, y[10], y[11])
        new.update({"I_NaP": inap, "I_KNa": ikna, "I_T": it, "I_h": ih, "refractory_steps": ref,
                    "V_clamp": V_clamp, "h": h})
        return new, spike
