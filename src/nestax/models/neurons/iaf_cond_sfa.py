"""Conductance-based integrate-and-fire neuron with spike-frequency adaptation and relative
refractoriness (NEST: iaf_cond_exp_sfa_rr, Dayan & Abbott 2001, ch. 5.8).
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..base import Neuron, Param, State
from ..common import ConductanceRouting, refractory_countdown
from ..integrators import rkf45_evolve
from ..propagators import refractory_steps
from ..registry import register

# NEST integrates this model like iaf_cond_exp: gsl_odeiv_control_y_new(1e-3, 0)
_EPS_ABS = 1e-3


@register
class iaf_cond_exp_sfa_rr(ConductanceRouting, Neuron):
    """Conductance-based leaky integrate-and-fire neuron with spike-frequency adaptation and relative
    refractory conductances (NEST: iaf_cond_exp_sfa_rr).

    C_m dV_m/dt = -g_L (V - E_L) + I_gen + I_e - g_ex (V - E_ex) - g_in (V - E_in)
                  - g_sfa (V - E_sfa) - g_rr (V - E_rr)
    dg_X/dt = -g_X / tau_X  for X = ex (tau_syn_ex), in (tau_syn_in), sfa (tau_sfa), rr (tau_rr)
    with V = min(V_m, V_th) inside the right-hand side (V_reset and dV_m/dt = 0 while refractory).

    Update of step k (NEST 3.10), covering (k dt, (k+1) dt]:
    1. integrate the ODE over the step with NEST's adaptive RKF45 (absolute error 1e-3, the internal
       step size carried across steps) with the input current of this step;
    2. add the spike input arriving in this step: w > 0 adds w nS to g_ex, w <= 0 adds |w| to g_in
       (g jumps at the arrival time, V_m responds from the next step);
    3. if refractory: count down, V_m = V_reset; else if V_m >= V_th: V_m = V_reset, refractory for
       round(t_ref/dt) steps, g_sfa += q_sfa, g_rr += q_rr, emit a spike stamped (k+1) dt.
    V_m stays at V_reset for the spike stamp and t_ref/dt further samples.

    Parameters (NEST defaults): V_th -57 mV, V_reset -70 mV (< V_th), t_ref 0.5 ms (>= 0),
    g_L 28.95 nS, C_m 289.5 pF (> 0), E_ex 0 mV, E_in -75 mV, E_L -70 mV, tau_syn_ex 1.5 ms (> 0),
    tau_syn_in 10 ms (> 0), I_e 0 pA, tau_sfa 110 ms (> 0), tau_rr 1.97 ms (> 0), E_sfa -70 mV,
    E_rr -70 mV, q_sfa 14.48 nS, q_rr 3214 nS.
    Recordables: V_m (mV), g_ex, g_in, g_sfa, g_rr (nS).
    """

    name = "iaf_cond_exp_sfa_rr"
    kind = "neuron"
    ports = ("ex", "in")
    weight_unit = "nS"
    parameters = {
        "V_th": Param(-57.0, "mV", "Spike threshold"),
        "V_reset": Param(-70.0, "mV", "Reset potential"),
        "t_ref": Param(0.5, "ms", "Duration of the absolute refractory period"),
        "g_L": Param(28.95, "nS", "Leak conductance"),
        "C_m": Param(289.5, "pF", "Membrane capacitance"),
        "E_ex": Param(0.0, "mV", "Excitatory reversal potential"),
        "E_in": Param(-75.0, "mV", "Inhibitory reversal potential"),
        "E_L": Param(-70.0, "mV", "Leak reversal potential"),
        "tau_syn_ex": Param(1.5, "ms", "Excitatory synaptic time constant"),
        "tau_syn_in": Param(10.0, "ms", "Inhibitory synaptic time constant"),
        "I_e": Param(0.0, "pA", "Constant input current"),
        "tau_sfa": Param(110.0, "ms", "Time constant of the adaptation conductance"),
        "tau_rr": Param(1.97, "ms", "Time constant of the relative refractory conductance"),
        "E_sfa": Param(-70.0, "mV", "Reversal potential of the adaptation conductance"),
        "E_rr": Param(-70.0, "mV", "Reversal potential of the relative refractory conductance"),
        "q_sfa": Param(14.48, "nS", "Adaptation conductance increment per spike"),
        "q_rr": Param(3214.0, "nS", "Relative refractory conductance increment per spike"),
    }
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "g_ex": State("nS", 0.0, "Excitatory conductance"),
        "g_in": State("nS", 0.0, "Inhibitory conductance"),
        "g_sfa": State("nS", 0.0, "Spike-frequency adaptation conductance"),
        "g_rr": State("nS", 0.0, "Relative refractory conductance"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
        "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m", "g_ex", "g_in", "g_sfa", "g_rr")

    @classmethod
    def check(cls, p):
        cls._require(p, "V_reset", np.asarray(p["V_reset"]) < np.asarray(p["V_th"]),
                     f"V_reset < V_th (V_th = {np.asarray(p['V_th']).ravel()[0]} mV)")
        cls._positive(p, "C_m")
        cls._nonnegative(p, "t_ref")
        cls._positive(p, "tau_syn_ex", "tau_syn_in", "tau_sfa", "tau_rr")

    @classmethod
    def prepare(cls, p, dt):
        return {"ref_counts": refractory_steps(p["t_ref"], dt), "dt": dt}

    @staticmethod
    def _rhs(p, y, refr, I):
        V = jnp.where(refr, p["V_reset"], jnp.minimum(y[0], p["V_th"]))
        i_ex = y[1] * (V - p["E_ex"])
        i_in = y[2] * (V - p["E_in"])
        i_l = p["g_L"] * (V - p["E_L"])
        i_sfa = y[3] * (V - p["E_sfa"])
        i_rr = y[4] * (V - p["E_rr"])
        dv = jnp.where(refr, 0.0, (-i_l + I + p["I_e"] - i_ex - i_in - i_sfa - i_rr) / p["C_m"])
        return jnp.stack([dv, -y[1] / p["tau_syn_ex"], -y[2] / p["tau_syn_in"], -y[3] / p["tau_sfa"],
                          -y[4] / p["tau_rr"]])

    @classmethod
    def update(cls, p, d, s, syn, I):
        y = jnp.stack([s["V_m"], s["g_ex"], s["g_in"], s["g_sfa"], s["g_rr"]])
        r = s["refractory_steps"]
        refr = r > 0
        h = jnp.where(s["h"] > 0, s["h"], d["dt"])
        y, h, _ = rkf45_evolve(lambda yy, a: cls._rhs(p, yy, a[0], a[1]), y, h, d["dt"], (refr, I),
                               eps_abs=_EPS_ABS)
        g_ex = y[1] + syn[0]
        g_in = y[2] + syn[1]
        spike = ~refr & (y[0] >= p["V_th"])
        v = jnp.where(refr | spike, p["V_reset"], y[0])
        r = refractory_countdown(r, refr, spike, d["ref_counts"])
        g_sfa = jnp.where(spike, y[3] + p["q_sfa"], y[3])
        g_rr = jnp.where(spike, y[4] + p["q_rr"], y[4])
        return {"V_m": v, "g_ex": g_ex, "g_in": g_in, "g_sfa": g_sfa, "g_rr": g_rr,
                "refractory_steps": r, "h": h}, spike
