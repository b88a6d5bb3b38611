"""Leaky integrate-and-fire neurons with conductance-based synapses (NEST: iaf_cond_exp, _alpha, _beta).

    C_m dV_m/dt = -g_L (V - E_L) - g_ex (V - E_ex) - g_in (V - E_in) + I_e + I_gen

The equations are nonlinear in (V_m, g), so NEST integrates them with GSL's adaptive
Runge-Kutta-Fehlberg 4(5) (absolute error 1e-3, relative 0, per-neuron step size kept across
simulation steps, starting at dt); nestax reproduces that integrator
(:func:`nestax.models.integrators.rkf45_evolve`) with the same arithmetic, so that V_m agrees with
NEST to rounding and spikes fall in the same steps.

Inside the right-hand side V is replaced by min(V_m, V_th) (the membrane current saturates at
threshold), and while the neuron is refractory V = V_reset and dV_m/dt = 0.

Update of step k, which covers (k dt, (k+1) dt] (NEST 3.10):
1. integrate the ODE over the step with the input current of this step (generator current arrives
   with NEST's one-step lag, handled by the engine) and the refractory state at the step's start;
2. iaf_cond_exp only: add the spike input arriving in this step to g_ex / g_in;
3. if refractory: count down, V_m = V_reset; else if V_m >= V_th: V_m = V_reset, refractory for
   round(t_ref/dt) steps, emit a spike stamped (k+1) dt;
4. iaf_cond_alpha / _beta only: add the arriving spike input, times e/tau_syn (alpha) or the beta
   normalisation factor, to dg_ex / dg_in.
So iaf_cond_exp's g jumps at the arrival time t_a and V_m responds from t_a + dt; iaf_cond_alpha's
g and V_m both move from t_a + dt. V_m stays at V_reset for the spike stamp and t_ref/dt samples.

Weights are conductances in nS: w > 0 goes to the excitatory conductance, w < 0 adds |w| to the
inhibitory one (g_in is positive).
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..base import Neuron, Param, State
from ..common import ConductanceRouting, refractory_countdown
from ..integrators import rkf45_evolve, rkf45_fixed
from ..propagators import refractory_steps
from ..registry import register
from ..surrogate import EXACT

_COMMON = {
    "V_th": Param(-55.0, "mV", "Spike threshold"),
    "V_reset": Param(-60.0, "mV", "Reset potential"),
    "t_ref": Param(2.0, "ms", "Duration of the refractory period"),
    "g_L": Param(16.6667, "nS", "Leak conductance"),
    "C_m": Param(250.0, "pF", "Membrane capacitance"),
    "E_ex": Param(0.0, "mV", "Excitatory reversal potential"),
    "E_in": Param(-85.0, "mV", "Inhibitory reversal potential"),
    "E_L": Param(-70.0, "mV", "Leak reversal potential"),
    "tau_syn_ex": Param(0.2, "ms", "Excitatory synaptic time constant"),
    "tau_syn_in": Param(2.0, "ms", "Inhibitory synaptic time constant"),
    "I_e": Param(0.0, "pA", "Constant input current"),
}

# GSL error control used by NEST for this family: gsl_odeiv_control_y_new(1e-3, 0)
_EPS_ABS = 1e-3


class _IafCondBase(ConductanceRouting, Neuron):
    kind = "neuron"
    ports = ("ex", "in")
    weight_unit = "nS"
    parameters = _COMMON
    _time_constants = ("tau_syn_ex", "tau_syn_in")

    @classmethod
    def check(cls, p):
        cls._require(p, "V_reset", np.asarray(p["V_reset"]) < np.asarray(p["V_th"]),
                     f"V_reset < V_th (V_th = {np.asarray(p['V_th']).ravel()[0]} mV)")
        cls._positive(p, "C_m")
        cls._nonnegative(p, "t_ref")
        cls._positive(p, *cls._time_constants)

    @classmethod
    def recordables(cls):
        return ("V_m", "g_ex", "g_in")

    @classmethod
    def prepare(cls, p, dt):
        return {"ref_counts": refractory_steps(p["t_ref"], dt), "dt": dt}

    @staticmethod
    def _currents(p, y_v, g_ex, g_in, refr):
        """Effective V (saturating at V_th, V_reset when refractory) and the currents it drives."""
        v = jnp.where(refr, p["V_reset"], jnp.minimum(y_v, p["V_th"]))
        i_ex = g_ex * (v - p["E_ex"])
        i_in = g_in * (v - p["E_in"])
        i_l = p["g_L"] * (v - p["E_L"])
        return v, i_ex, i_in, i_l

    @classmethod
    def _integrate(cls, p, d, s, y, I, threshold=EXACT):
        refr = s["refractory_steps"] > 0
        h = jnp.where(s["h"] > 0, s["h"], d["dt"])
        if threshold.differentiable:  # fixed RKF45 steps: reverse mode cannot go through the adaptive loop
            y, _ = rkf45_fixed(lambda yy, a: cls._rhs(p, yy, a[0], a[1]), y, d["dt"], (refr, I),
                               threshold.ode_substeps)
            return y, h
        y, h, _ = rkf45_evolve(lambda yy, a: cls._rhs(p, yy, a[0], a[1]), y, h, d["dt"], (refr, I),
                               eps_abs=_EPS_ABS)
        return y, h

    @classmethod
    def _fire(cls, p, d, v, r, threshold=EXACT):
        refr = r > 0
        if threshold.differentiable:
            spike = jnp.where(refr, 0.0, threshold.spike(v, p["V_th"]))
            v = jnp.where(refr, p["V_reset"], threshold.reset(spike, p["V_reset"], v))
            r = refractory_countdown(r, refr, spike > 0, d["ref_counts"])
            return v, r, spike
        spike = ~refr & (v >= p["V_th"])
        v = jnp.where(refr | spike, p["V_reset"], v)
        r = refractory_countdown(r, refr, spike, d["ref_counts"])
        return v, r, spike


@register
class iaf_cond_exp(_IafCondBase):
    """Conductance-based leaky integrate-and-fire neuron, exponential conductances (NEST: iaf_cond_exp).

    C_m dV_m/dt = -g_L (V - E_L) - g_ex (V - E_ex) - g_in (V - E_in) + I_e + I_gen, V = min(V_m, V_th)
    dg_ex/dt = -g_ex / tau_syn_ex,  dg_in/dt = -g_in / tau_syn_in
    A spike of weight w (nS) makes g jump by |w| at its arrival time; V_m responds from the next step.
    Integrated with NEST's adaptive RKF45 (see the module docstring for the update order).

    Parameters (NEST defaults): V_th (mV, -55), V_reset (mV, -60, < V_th), t_ref (ms, 2, >= 0),
    g_L (nS, 16.6667), C_m (pF, 250, > 0), E_ex (mV, 0), E_in (mV, -85), E_L (mV, -70),
    tau_syn_ex (ms, 0.2, > 0), tau_syn_in (ms, 2, > 0), I_e (pA, 0).
    Recordables: V_m, g_ex, g_in.
    """

    name = "iaf_cond_exp"
    differentiable = True  # update(threshold=...): surrogate spikes, fixed RKF45 steps
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "g_ex": State("nS", 0.0, "Excitatory conductance"),
        "g_in": State("nS", 0.0, "Inhibitory conductance"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
        "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
    }

    @classmethod
    def _rhs(cls, p, y, refr, I):
        v, i_ex, i_in, i_l = cls._currents(p, y[0], y[1], y[2], refr)
        dv = jnp.where(refr, 0.0, (-i_l + I + p["I_e"] - i_ex - i_in) / p["C_m"])
        return jnp.stack([dv, -y[1] / p["tau_syn_ex"], -y[2] / p["tau_syn_in"]])

    @classmethod
    def update(cls, p, d, s, syn, I, threshold=EXACT):
        y = jnp.stack([s["V_m"], s["g_ex"], s["g_in"]])
        y, h = cls._integrate(p, d, s, y, I, threshold)
        g_ex = y[1] + syn[0]
        g_in = y[2] + syn[1]
        v, r, spike = cls._fire(p, d, y[0], s["refractory_steps"], threshold)
        return {"V_m": v, "g_ex": g_ex, "g_in": g_in, "refractory_steps": r, "h": h}, spike


@register
class iaf_cond_alpha(_IafCondBase):
    """Conductance-based leaky integrate-and-fire neuron, alpha-shaped conductances (NEST: iaf_cond_alpha).

    C_m dV_m/dt = -g_L (V - E_L) - g_ex (V - E_ex) - g_in (V - E_in) + I_e + I_gen, V = min(V_m, V_th)
    d(dg_X)/dt = -dg_X / tau_syn_X,  dg_X/dt = dg_X - g_X / tau_syn_X
    A spike of weight w (nS) adds |w| e / tau_syn to dg_X, so g_X follows
    |w| (t/tau_syn) exp(1 - t/tau_syn), peaking at |w| after tau_syn; g and V_m move from the step
    after arrival. Integrated with NEST's adaptive RKF45 (see the module docstring).

    Parameters (NEST defaults): V_th (mV, -55), V_reset (mV, -60, < V_th), t_ref (ms, 2, >= 0),
    g_L (nS, 16.6667), C_m (pF, 250, > 0), E_ex (mV, 0), E_in (mV, -85), E_L (mV, -70),
    tau_syn_ex (ms, 0.2, > 0), tau_syn_in (ms, 2, > 0), I_e (pA, 0).
    Recordables: V_m, g_ex, g_in, t_ref_remaining (ms).
    """

    name = "iaf_cond_alpha"
    differentiable = True  # update(threshold=...): surrogate spikes, fixed RKF45 steps
    settable_state = ("V_m", "g_ex", "dg_ex", "g_in", "dg_in")  # what NEST's SetStatus accepts
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "g_ex": State("nS", 0.0, "Excitatory conductance"),
        "dg_ex": State("nS/ms", 0.0, "Derivative state of the excitatory conductance"),
        "g_in": State("nS", 0.0, "Inhibitory conductance"),
        "dg_in": State("nS/ms", 0.0, "Derivative state of the inhibitory conductance"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
        "t_ref_remaining": State("ms", 0.0, "Refractory time left"),
        "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m", "g_ex", "g_in", "t_ref_remaining")

    @classmethod
    def prepare(cls, p, dt):
        d = super().prepare(p, dt)
        d["psc0_ex"] = 1.0 * np.e / p["tau_syn_ex"]
        d["psc0_in"] = 1.0 * np.e / p["tau_syn_in"]
        return d

    @staticmethod
    def _taus(p):
        """(decay ex, rise ex, decay in, rise in): both are tau_syn for the alpha shape."""
        return p["tau_syn_ex"], p["tau_syn_ex"], p["tau_syn_in"], p["tau_syn_in"]

    @classmethod
    def _rhs(cls, p, y, refr, I):
        # y = (V_m, dg_ex, g_ex, dg_in, g_in), NEST's state vector order
        v, i_ex, i_in, i_l = cls._currents(p, y[0], y[2], y[4], refr)
        dv = jnp.where(refr, 0.0, (-i_l - i_ex - i_in + I + p["I_e"]) / p["C_m"])
        td_ex, tr_ex, td_in, tr_in = cls._taus(p)
        return jnp.stack([dv, -y[1] / td_ex, y[1] - y[2] / tr_ex, -y[3] / td_in, y[3] - y[4] / tr_in])

    @classmethod
    def update(cls, p, d, s, syn, I, threshold=EXACT):
        y = jnp.stack([s["V_m"], s["dg_ex"], s["g_ex"], s["dg_in"], s["g_in"]])
        y, h = cls._integrate(p, d, s, y, I, threshold)
        v, r, spike = cls._fire(p, d, y[0], s["refractory_steps"], threshold)
        dg_ex = y[1] + syn[0] * d["psc0_ex"]
        dg_in = y[3] + syn[1] * d["psc0_in"]
        return {"V_m": v, "g_ex": y[2], "dg_ex": dg_ex, "g_in": y[4], "dg_in": dg_in,
                "refractory_steps": r, "t_ref_remaining": r * d["dt"], "h": h}, spike


def beta_normalization(tau_rise, tau_decay):
    """Factor making a unit spike's conductance peak at 1 nS (NEST's beta_normalization_factor).

    g(t) ~ (exp(-t/tau_decay) - exp(-t/tau_rise)) peaks at t* = tau_d tau_r ln(tau_d/tau_r)/(tau_d - tau_r);
    the factor is (1/tau_rise - 1/tau_decay) / g(t*), and e/tau_decay (the alpha shape) when the two
    time constants are equal to within machine epsilon.
    """
    eps = float(np.finfo(np.float64).eps)
    diff = tau_decay - tau_rise
    distinct = jnp.abs(diff) > eps
    safe = jnp.where(distinct, diff, 1.0)
    t_peak = tau_decay * tau_rise * jnp.log(tau_decay / tau_rise) / safe
    peak = jnp.where(distinct, jnp.exp(-t_peak / tau_decay) - jnp.exp(-t_peak / tau_rise), 0.0)
    use_alpha = jnp.abs(peak) < eps
    return jnp.where(use_alpha, np.e / tau_decay, (1.0 / tau_rise - 1.0 / tau_decay) / jnp.where(use_alpha, 1.0, peak))


@register
class iaf_cond_beta(iaf_cond_alpha):
    """Conductance-based leaky integrate-and-fire neuron, beta-shaped conductances (NEST: iaf_cond_beta).

    C_m dV_m/dt = -g_L (V - E_L) - g_ex (V - E_ex) - g_in (V - E_in) + I_e + I_gen, V = min(V_m, V_th)
    d(dg_X)/dt = -dg_X / tau_decay_X,  dg_X/dt = dg_X - g_X / tau_rise_X
    A spike of weight w (nS) adds |w| times NEST's beta normalisation factor to dg_X, so that the
    conductance peaks at |w| (see :func:`beta_normalization`; equal rise and decay times give the
    alpha shape). g and V_m move from the step after arrival; integrated with NEST's adaptive RKF45,
    update order as iaf_cond_alpha.

    Parameters (NEST defaults): V_th (mV, -55), V_reset (mV, -60, < V_th), t_ref (ms, 2, >= 0),
    g_L (nS, 16.6667), C_m (pF, 250, > 0), E_ex (mV, 0), E_in (mV, -85), E_L (mV, -70),
    tau_rise_ex (ms, 0.2, > 0), tau_decay_ex (ms, 0.2, > 0), tau_rise_in (ms, 2, > 0),
    tau_decay_in (ms, 2, > 0), I_e (pA, 0).
    Recordables: V_m, g_ex, g_in, t_ref_remaining (ms).
    """

    name = "iaf_cond_beta"
    parameters = {
        **{k: v for k, v in _COMMON.items() if not k.startswith("tau_syn")},
        "tau_rise_ex": Param(0.2, "ms", "Excitatory synaptic rise time"),
        "tau_decay_ex": Param(0.2, "ms", "Excitatory synaptic decay time"),
        "tau_rise_in": Param(2.0, "ms", "Inhibitory synaptic rise time"),
        "tau_decay_in": Param(2.0, "ms", "Inhibitory synaptic decay time"),
    }
    _time_constants = ("tau_rise_ex", "tau_decay_ex", "tau_rise_in", "tau_decay_in")

    @staticmethod
    def _taus(p):
        return p["tau_decay_ex"], p["tau_rise_ex"], p["tau_decay_in"], p["tau_rise_in"]

    @classmethod
    def prepare(cls, p, dt):
        return {"ref_counts": refractory_steps(p["t_ref"], dt), "dt": dt,
                "psc0_ex": beta_normalization(p["tau_rise_ex"], p["tau_decay_ex"]),
                "psc0_in": beta_normalization(p["tau_rise_in"], p["tau_decay_in"])}
