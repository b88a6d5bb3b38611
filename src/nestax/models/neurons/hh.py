"""Hodgkin-Huxley neurons (NEST: hh_psc_alpha, hh_cond_exp_traub, hh_cond_beta_gap_traub).

All three integrate the membrane potential V_m together with the sodium activation m (``Act_m``),
sodium inactivation h (``Inact_h``) and potassium activation n (``Act_n``) and their synaptic
variables with GSL's adaptive Runge-Kutta-Fehlberg 4(5), exactly as NEST 3.10 does: one
``gsl_odeiv_evolve_apply`` loop per simulation step, error control ``gsl_odeiv_control_y_new(1e-3, 0)``
(absolute error 1e-3 on every state component, no relative part), a per-neuron step size carried
across steps that starts at dt. nestax runs the same loop (:func:`nestax.models.integrators.rkf45_evolve`)
with the right-hand side written in NEST's order of operations, so traces agree to rounding.
Rounding is not bit-identical: XLA's exp differs from glibc's in the last bit for some arguments, and
over many action potentials this shows as a phase drift (measured up to 4e-8 mV in V_m against NEST;
a 1-ulp change of nestax's own exp moves the traces by the same amount). Below about -110 mV the
m-gate of hh_psc_alpha becomes stiff, RKF45 runs at its stability limit and such last-bit differences
can flip step-size decisions (traces then agree only to the integrator tolerance, ~1e-3 mV).

These models have no threshold and no reset: a spike is a local maximum of V_m above a level.
With U_old the value of V_m at the start of step k (covering (k dt, (k+1) dt]):

1. integrate the ODE over the step with the generator current of this step (NEST's one-step lag
   is done by the engine) and I_e;
2. add the spike input arriving in this step to the synaptic variables;
3. if refractory: count down one step (V_m is NOT clamped; the counter only suppresses spikes);
   else if V_m >= level and U_old > V_m (the potential has started to fall): emit a spike stamped
   (k+1) dt and become refractory for round-up(t_ref/dt) steps.
   The level is 0 mV for hh_psc_alpha and V_T + 30 mV for the Traub models.

Initial state (as NEST): V_m = -65 mV (hh_psc_alpha) or -60 mV (Traub models; NEST's default E_L,
not the E_L given at creation) and the gating variables at their equilibrium for that V_m, computed
with the default parameters. Setting V_m does not re-equilibrate the gating variables (NEST neither).
"""
from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from ..base import Neuron, Param, State
from ..common import ConductanceRouting, refractory_countdown, route_by_sign
from ..integrators import rkf45_evolve
from ..propagators import refractory_steps
from ..registry import register
from .iaf_cond import beta_normalization

# GSL error control used by NEST for the hh family: gsl_odeiv_control_y_new(1e-3, 0)
_EPS_ABS = 1e-3


def _hh_rates(V, exp=jnp.exp):
    """Classic squid-axon rate functions (1/ms) of hh_psc_alpha, V in mV."""
    alpha_n = (0.01 * (V + 55.0)) / (1.0 - exp(-(V + 55.0) / 10.0))
    beta_n = 0.125 * exp(-(V + 65.0) / 80.0)
    alpha_m = (0.1 * (V + 40.0)) / (1.0 - exp(-(V + 40.0) / 10.0))
    beta_m = 4.0 * exp(-(V + 65.0) / 18.0)
    alpha_h = 0.07 * exp(-(V + 65.0) / 20.0)
    beta_h = 1.0 / (1.0 + exp(-(V + 35.0) / 10.0))
    return alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n


def _traub_rates(V, exp=jnp.exp):
    """Traub & Miles (1991) rate functions (1/ms); V is the potential relative to V_T (mV)."""
    alpha_n = 0.032 * (15.0 - V) / (exp((15.0 - V) / 5.0) - 1.0)
    beta_n = 0.5 * exp((10.0 - V) / 40.0)
    alpha_m = 0.32 * (13.0 - V) / (exp((13.0 - V) / 4.0) - 1.0)
    beta_m = 0.28 * (V - 40.0) / (exp((V - 40.0) / 5.0) - 1.0)
    alpha_h = 0.128 * exp((17.0 - V) / 18.0)
    beta_h = 4.0 / (1.0 + exp((40.0 - V) / 5.0))
    return alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n


def _equilibrium(rates, V):
    """(m, h, n) at rest, alpha / (alpha + beta), computed on the host in double precision."""
    with np.errstate(all="ignore"):
        am, bm, ah, bh, an, bn = (float(x) for x in rates(np.float64(V), math.exp))
    return am / (am + bm), ah / (ah + bh), an / (an + bn)


_HH_V0 = -65.0
_HH_M0, _HH_H0, _HH_N0 = _equilibrium(_hh_rates, _HH_V0)
# NEST evaluates the Traub rates at the raw V_m = E_L = -60 mV here (not V_m - V_T as in the dynamics)
_TRAUB_V0 = -60.0
_TRAUB_M0, _TRAUB_H0, _TRAUB_N0 = _equilibrium(_traub_rates, _TRAUB_V0)


def gap_current(g_sum, coef, V, t):
    """NEST's gap-junction current into a neuron at potential V, the fraction t of the step:
    -g_sum V plus the partners' interpolation polynomial (coef: (K, n), K = 1, 2 or 4), summed in
    NEST's order."""
    x = -g_sum * V + coef[0]
    if coef.shape[0] == 2:
        x = x + coef[1] * t
    elif coef.shape[0] == 4:
        x = x + coef[1] * t + coef[2] * t * t + coef[3] * t * t * t
    return x


class _HHBase(Neuron):
    kind = "neuron"
    settable_state = ("V_m", "Act_m", "Inact_h", "Act_n")  # what NEST's SetStatus accepts
    ports = ("ex", "in")
    _time_constants: tuple = ()
    _conductances: tuple = ("g_Na", "g_K", "g_L")

    @classmethod
    def check(cls, p):
        cls._positive(p, "C_m")
        cls._nonnegative(p, "t_ref")
        cls._positive(p, *cls._time_constants)
        cls._nonnegative(p, *cls._conductances)

    @classmethod
    def prepare(cls, p, dt):
        return {"ref_counts": refractory_steps(p["t_ref"], dt), "dt": dt}

    @classmethod
    def _integrate(cls, p, d, s, y, I):
        h = jnp.where(s["h"] > 0, s["h"], d["dt"])
        # p travels in the integrator's arguments so that it can iterate spiking neurons alone
        y, h, _ = rkf45_evolve(lambda yy, a: cls._rhs(a[0], yy, a[1]), y, h, d["dt"], (p, I), eps_abs=_EPS_ABS,
                               compact=True)
        return y, h

    @classmethod
    def _integrate_gap(cls, p, d, s, y, I, gap, eps_abs):
        """:meth:`_integrate` with a gap-junction current (``gap = (g_sum, coef)``, see
        ``Neuron.gap``) that depends on the time within the step: the time rides along as one more
        component of the state (dt/dt = 1, integrated exactly; its error estimate is rounding), and
        ``_rhs(p, y, I, I_gap)`` gets the gap current at that time."""
        g_sum, coef = gap
        h = jnp.where(s["h"] > 0, s["h"], d["dt"])
        y = jnp.concatenate([y, jnp.zeros_like(y[:1])])

        def f(yy, a):
            pp, ii, gs, cf = a
            i_gap = gap_current(gs, cf, yy[0], yy[-1] / d["dt"])
            return jnp.concatenate([cls._rhs(pp, yy[:-1], ii, i_gap), jnp.ones_like(yy[:1])])

        y, h, _ = rkf45_evolve(f, y, h, d["dt"], (p, I, g_sum, coef), eps_abs=eps_abs, compact=True)
        return y[:-1], h

    @classmethod
    def gap_slope(cls, p, d, s, I, gap, frac):
        """dV_m/dt (mV/ms) at state ``s`` and the fraction ``frac`` of the step (Neuron.gap)."""
        y = cls._state_vector(s)
        return cls._rhs(p, y, I, gap_current(gap[0], gap[1], y[0], frac))[0]

    @classmethod
    def _spike_level(cls, p):
        raise NotImplementedError

    @classmethod
    def _fire(cls, p, d, v_old, v, r):
        """Refractory countdown, else a spike at a local maximum above the level."""
        refr = r > 0
        spike = ~refr & (v >= cls._spike_level(p)) & (v_old > v)
        r = refractory_countdown(r, refr, spike, d["ref_counts"])
        return r, spike


_GATES = {
    "Act_m": "Activation of the sodium current, m",
    "Inact_h": "Inactivation of the sodium current, h",
    "Act_n": "Activation of the potassium current, n",
}


@register
class hh_psc_alpha(_HHBase):
    """Hodgkin-Huxley neuron with alpha-shaped synaptic currents (NEST: hh_psc_alpha).

    C_m dV_m/dt = -(I_Na + I_K + I_L) + I_gen + I_e + I_syn_ex + I_syn_in
    I_Na = g_Na m^3 h (V_m - E_Na),  I_K = g_K n^4 (V_m - E_K),  I_L = g_L (V_m - E_L)
    dx/dt = alpha_x(V_m) (1 - x) - beta_x(V_m) x  for x = m, h, n, with (V in mV, rates in 1/ms)
      alpha_n = 0.01 (V+55) / (1 - exp(-(V+55)/10)),  beta_n = 0.125 exp(-(V+65)/80)
      alpha_m = 0.1 (V+40) / (1 - exp(-(V+40)/10)),   beta_m = 4 exp(-(V+65)/18)
      alpha_h = 0.07 exp(-(V+65)/20),                 beta_h = 1 / (1 + exp(-(V+35)/10))
    d(dI_X)/dt = -dI_X / tau_syn_X,  dI_X/dt = dI_X - I_X / tau_syn_X  (X = ex, in)
    A spike of weight w (pA) adds w e / tau_syn to dI_X after the step's integration, so I_X follows
    w (t/tau_syn) exp(1 - t/tau_syn), peaking at w; w > 0 goes to the excitatory, w <= 0 to the
    inhibitory current (which stays negative). I_syn and V_m move from the step after arrival.

    Spikes: V_m >= 0 mV and V_m lower than at the start of the step (a maximum has passed), and not
    refractory; the refractory counter (t_ref rounded up to steps) only suppresses detection, V_m
    evolves freely. Integration: NEST's GSL RKF45 with absolute error 1e-3 (see module docstring).

    Parameters (NEST defaults): t_ref (ms, 2, >= 0), g_Na (nS, 12000, >= 0), g_K (nS, 3600, >= 0),
    g_L (nS, 30, >= 0), C_m (pF, 100, > 0), E_Na (mV, 50), E_K (mV, -77), E_L (mV, -54.402),
    tau_syn_ex (ms, 0.2, > 0), tau_syn_in (ms, 2, > 0), I_e (pA, 0).
    State: V_m (mV, starts at -65), Act_m, Inact_h, Act_n (start at equilibrium for -65 mV).
    Recordables: V_m, I_syn_ex, I_syn_in (pA), Act_m, Inact_h, Act_n.
    """

    name = "hh_psc_alpha"
    weight_unit = "pA"
    parameters = {
        "t_ref": Param(2.0, "ms", "Duration of the refractory period (spike detection off)"),
        "g_Na": Param(12000.0, "nS", "Sodium peak conductance"),
        "g_K": Param(3600.0, "nS", "Potassium peak conductance"),
        "g_L": Param(30.0, "nS", "Leak conductance"),
        "C_m": Param(100.0, "pF", "Membrane capacitance"),
        "E_Na": Param(50.0, "mV", "Sodium reversal potential"),
        "E_K": Param(-77.0, "mV", "Potassium reversal potential"),
        "E_L": Param(-54.402, "mV", "Leak reversal potential"),
        "tau_syn_ex": Param(0.2, "ms", "Rise time of the excitatory synaptic alpha function"),
        "tau_syn_in": Param(2.0, "ms", "Rise time of the inhibitory synaptic alpha function"),
        "I_e": Param(0.0, "pA", "Constant input current"),
    }
    state = {
        "V_m": State("mV", _HH_V0, "Membrane potential"),
        "Act_m": State("1", _HH_M0, _GATES["Act_m"]),
        "Inact_h": State("1", _HH_H0, _GATES["Inact_h"]),
        "Act_n": State("1", _HH_N0, _GATES["Act_n"]),
        "I_syn_ex": State("pA", 0.0, "Excitatory synaptic current"),
        "dI_syn_ex": State("pA/ms", 0.0, "Derivative state of the excitatory current"),
        "I_syn_in": State("pA", 0.0, "Inhibitory synaptic current"),
        "dI_syn_in": State("pA/ms", 0.0, "Derivative state of the inhibitory current"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
        "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
    }
    _time_constants = ("tau_syn_ex", "tau_syn_in")
    _y = ("V_m", "Act_m", "Inact_h", "Act_n", "dI_syn_ex", "I_syn_ex", "dI_syn_in", "I_syn_in")  # ODE state

    @classmethod
    def recordables(cls):
        return ("V_m", "I_syn_ex", "I_syn_in", "Act_m", "Inact_h", "Act_n")

    @classmethod
    def route(cls, weights, receptor_type):
        """w > 0: excitatory port; otherwise the inhibitory port, the weight keeping its sign (pA)."""
        return route_by_sign(weights)

    @classmethod
    def prepare(cls, p, dt):
        d = super().prepare(p, dt)
        d["psc0_ex"] = 1.0 * math.e / p["tau_syn_ex"]
        d["psc0_in"] = 1.0 * math.e / p["tau_syn_in"]
        return d

    @classmethod
    def _spike_level(cls, p):
        return 0.0

    @classmethod
    def _rhs(cls, p, y, I):
        # y = (V_m, m, h, n, dI_ex, I_ex, dI_in, I_in), NEST's state vector order
        V, m, h, n = y[0], y[1], y[2], y[3]
        am, bm, ah, bh, an, bn = _hh_rates(V)
        i_na = p["g_Na"] * m * m * m * h * (V - p["E_Na"])
        i_k = p["g_K"] * n * n * n * n * (V - p["E_K"])
        i_l = p["g_L"] * (V - p["E_L"])
        dv = (-(i_na + i_k + i_l) + I + p["I_e"] + y[5] + y[7]) / p["C_m"]
        return jnp.stack([
            dv,
            am * (1 - m) - bm * m,
            ah * (1 - h) - bh * h,
            an * (1 - n) - bn * n,
            -y[4] / p["tau_syn_ex"],
            y[4] - (y[5] / p["tau_syn_ex"]),
            -y[6] / p["tau_syn_in"],
            y[6] - (y[7] / p["tau_syn_in"]),
        ])

    @classmethod
    def update(cls, p, d, s, syn, I):
        # the integrated state, in NEST's order (a subclass may append components: hh_psc_alpha_clopath)
        y, h = cls._integrate(p, d, s, jnp.stack([s[k] for k in cls._y]), I)
        out = {k: y[i] for i, k in enumerate(cls._y)}
        out["dI_syn_ex"] = y[4] + syn[0] * d["psc0_ex"]
        out["dI_syn_in"] = y[6] + syn[1] * d["psc0_in"]
        r, spike = cls._fire(p, d, s["V_m"], y[0], s["refractory_steps"])
        out.update(refractory_steps=r, h=h)
        return out, spike


_TRAUB_COMMON = {
    "g_Na": Param(20000.0, "nS", "Sodium peak conductance"),
    "g_K": Param(6000.0, "nS", "Potassium peak conductance"),
    "g_L": Param(10.0, "nS", "Leak conductance"),
    "C_m": Param(200.0, "pF", "Membrane capacitance"),
    "E_Na": Param(50.0, "mV", "Sodium reversal potential"),
    "E_K": Param(-90.0, "mV", "Potassium reversal potential"),
    "E_L": Param(-60.0, "mV", "Leak reversal potential"),
    "V_T": Param(-63.0, "mV", "Voltage offset of the rate functions (spike level V_T + 30 mV)"),
    "E_ex": Param(0.0, "mV", "Excitatory reversal potential"),
    "E_in": Param(-80.0, "mV", "Inhibitory reversal potential"),
}

_TRAUB_STATE = {
    "V_m": State("mV", _TRAUB_V0, "Membrane potential"),
    "Act_m": State("1", _TRAUB_M0, _GATES["Act_m"]),
    "Inact_h": State("1", _TRAUB_H0, _GATES["Inact_h"]),
    "Act_n": State("1", _TRAUB_N0, _GATES["Act_n"]),
}


class _TraubBase(ConductanceRouting, _HHBase):
    weight_unit = "nS"

    @classmethod
    def recordables(cls):
        return ("V_m", "g_ex", "g_in", "Act_m", "Inact_h", "Act_n")

    @classmethod
    def _spike_level(cls, p):
        return p["V_T"] + 30.0

    @staticmethod
    def _membrane(p, y, g_ex, g_in, I, I_gap=None):
        """dV_m/dt and dm/dt, dh/dt, dn/dt of the Traub models (NEST's order of operations; a gap
        current enters after the generator current, as in hh_cond_beta_gap_traub)."""
        V, m, h, n = y[0], y[1], y[2], y[3]
        i_na = p["g_Na"] * m * m * m * h * (V - p["E_Na"])
        i_k = p["g_K"] * n * n * n * n * (V - p["E_K"])
        i_l = p["g_L"] * (V - p["E_L"])
        i_ex = g_ex * (V - p["E_ex"])
        i_in = g_in * (V - p["E_in"])
        x = -i_na - i_k - i_l - i_ex - i_in + I
        if I_gap is not None:
            x = x + I_gap
        dv = (x + p["I_e"]) / p["C_m"]
        am, bm, ah, bh, an, bn = _traub_rates(V - p["V_T"])
        return dv, am - (am + bm) * m, ah - (ah + bh) * h, an - (an + bn) * n


@register
class hh_cond_exp_traub(_TraubBase):
    """Hodgkin-Huxley neuron of Traub & Miles (1991) with exponential conductances (NEST: hh_cond_exp_traub).

    C_m dV_m/dt = -I_Na - I_K - I_L - g_ex (V_m - E_ex) - g_in (V_m - E_in) + I_gen + I_e
    I_Na = g_Na m^3 h (V_m - E_Na),  I_K = g_K n^4 (V_m - E_K),  I_L = g_L (V_m - E_L)
    dx/dt = alpha_x - (alpha_x + beta_x) x  for x = m, h, n, with V = V_m - V_T (mV, rates in 1/ms)
      alpha_n = 0.032 (15 - V) / (exp((15 - V)/5) - 1),  beta_n = 0.5 exp((10 - V)/40)
      alpha_m = 0.32 (13 - V) / (exp((13 - V)/4) - 1),   beta_m = 0.28 (V - 40) / (exp((V - 40)/5) - 1)
      alpha_h = 0.128 exp((17 - V)/18),                  beta_h = 4 / (1 + exp((40 - V)/5))
    dg_ex/dt = -g_ex / tau_syn_ex,  dg_in/dt = -g_in / tau_syn_in
    A spike of weight w (nS) makes g_ex (w > 0) or g_in (w <= 0, by |w|) jump at its arrival time;
    V_m responds from the next step.

    Spikes: V_m >= V_T + 30 mV and V_m lower than at the start of the step, and not refractory (the
    counter, t_ref rounded up to steps, only suppresses detection). Integration: NEST's GSL RKF45
    with absolute error 1e-3 (see the module docstring).

    Parameters (NEST defaults): g_Na (nS, 20000), g_K (nS, 6000), g_L (nS, 10), C_m (pF, 200, > 0),
    E_Na (mV, 50), E_K (mV, -90), E_L (mV, -60), V_T (mV, -63), E_ex (mV, 0), E_in (mV, -80),
    tau_syn_ex (ms, 5, > 0), tau_syn_in (ms, 10, > 0), t_ref (ms, 2, >= 0), I_e (pA, 0).
    NEST does not check the conductances of this model for sign; nestax neither.
    State: V_m (mV, starts at -60), Act_m, Inact_h, Act_n (NEST's start values: the rates evaluated
    at V = -60 mV without the V_T shift). Recordables: V_m, g_ex, g_in (nS), Act_m, Inact_h, Act_n.
    """

    name = "hh_cond_exp_traub"
    parameters = {
        **_TRAUB_COMMON,
        "tau_syn_ex": Param(5.0, "ms", "Excitatory synaptic time constant"),
        "tau_syn_in": Param(10.0, "ms", "Inhibitory synaptic time constant"),
        "t_ref": Param(2.0, "ms", "Duration of the refractory period (spike detection off)"),
        "I_e": Param(0.0, "pA", "Constant input current"),
    }
    state = {
        **_TRAUB_STATE,
        "g_ex": State("nS", 0.0, "Excitatory conductance"),
        "g_in": State("nS", 0.0, "Inhibitory conductance"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
        "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
    }
    _time_constants = ("tau_syn_ex", "tau_syn_in")
    _conductances = ()

    @classmethod
    def _rhs(cls, p, y, I):
        # y = (V_m, m, h, n, g_ex, g_in), NEST's state vector order
        dv, dm, dh, dn = cls._membrane(p, y, y[4], y[5], I)
        return jnp.stack([dv, dm, dh, dn, -y[4] / p["tau_syn_ex"], -y[5] / p["tau_syn_in"]])

    @classmethod
    def update(cls, p, d, s, syn, I):
        y = jnp.stack([s["V_m"], s["Act_m"], s["Inact_h"], s["Act_n"], s["g_ex"], s["g_in"]])
        y, h = cls._integrate(p, d, s, y, I)
        r, spike = cls._fire(p, d, s["V_m"], y[0], s["refractory_steps"])
        return {"V_m": y[0], "Act_m": y[1], "Inact_h": y[2], "Act_n": y[3],
                "g_ex": y[4] + syn[0], "g_in": y[5] + syn[1], "refractory_steps": r, "h": h}, spike


@register
class hh_cond_beta_gap_traub(_TraubBase):
    """Traub Hodgkin-Huxley neuron with beta-shaped conductances and gap junctions (NEST: hh_cond_beta_gap_traub).

    Membrane and gating equations as :class:`hh_cond_exp_traub` (with V_T = -50 mV by default), the
    conductances are beta functions:
    d(dg_X)/dt = -dg_X / tau_decay_X,  dg_X/dt = dg_X - g_X / tau_rise_X   (X = ex, in)
    A spike of weight w (nS) adds |w| times NEST's beta normalisation factor (peak of g = |w|; the
    alpha factor e / tau_decay when rise and decay times coincide) to dg_X after the step's
    integration, w > 0 excitatory, w <= 0 inhibitory. g and V_m move from the step after arrival.

    Gap junctions (``gap_junction`` synapses, weight g in nS) add I_gap = sum_j g_ij (V_j(t) - V_m)
    to C_m dV_m/dt (after the generator current, NEST's order), with V_j interpolated within the step
    as NEST's waveform relaxation does (see nestax.models.synapses.gap). Spike detection and refractoriness as
    hh_cond_exp_traub (V_m >= V_T + 30 mV at a maximum). Integration: NEST's GSL RKF45 with absolute
    error 1e-3.

    Parameters (NEST defaults): g_Na (nS, 20000, >= 0), g_K (nS, 6000, >= 0), g_L (nS, 10, >= 0),
    C_m (pF, 200, > 0), E_Na (mV, 50), E_K (mV, -90), E_L (mV, -60), V_T (mV, -50), E_ex (mV, 0),
    E_in (mV, -80), tau_rise_ex (ms, 0.5, > 0), tau_decay_ex (ms, 5, > 0), tau_rise_in (ms, 0.5, > 0),
    tau_decay_in (ms, 10, > 0), t_ref (ms, 2, >= 0), I_e (pA, 0).
    State: V_m (mV, starts at -60), Act_m, Inact_h, Act_n (NEST's start values, as hh_cond_exp_traub).
    Recordables: V_m, g_ex, g_in (nS), Act_m, Inact_h, Act_n.
    """

    name = "hh_cond_beta_gap_traub"
    parameters = {
        **{k: v for k, v in _TRAUB_COMMON.items() if k != "V_T"},
        "V_T": Param(-50.0, "mV", "Voltage offset of the rate functions (spike level V_T + 30 mV)"),
        "tau_rise_ex": Param(0.5, "ms", "Excitatory synaptic rise time"),
        "tau_decay_ex": Param(5.0, "ms", "Excitatory synaptic decay time"),
        "tau_rise_in": Param(0.5, "ms", "Inhibitory synaptic rise time"),
        "tau_decay_in": Param(10.0, "ms", "Inhibitory synaptic decay time"),
        "t_ref": Param(2.0, "ms", "Duration of the refractory period (spike detection off)"),
        "I_e": Param(0.0, "pA", "Constant input current"),
    }
    state = {
        **_TRAUB_STATE,
        "g_ex": State("nS", 0.0, "Excitatory conductance"),
        "dg_ex": State("nS/ms", 0.0, "Derivative state of the excitatory conductance"),
        "g_in": State("nS", 0.0, "Inhibitory conductance"),
        "dg_in": State("nS/ms", 0.0, "Derivative state of the inhibitory conductance"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
        "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
    }
    _time_constants = ("tau_rise_ex", "tau_decay_ex", "tau_rise_in", "tau_decay_in")
    gap = True
    gap_kept = ("h",)

    @classmethod
    def prepare(cls, p, dt):
        d = super().prepare(p, dt)
        d["psc0_ex"] = beta_normalization(p["tau_rise_ex"], p["tau_decay_ex"])
        d["psc0_in"] = beta_normalization(p["tau_rise_in"], p["tau_decay_in"])
        return d

    @classmethod
    def _rhs(cls, p, y, I, I_gap=None):
        # y = (V_m, m, h, n, dg_ex, g_ex, dg_in, g_in), NEST's state vector order
        dv, dm, dh, dn = cls._membrane(p, y, y[5], y[7], I, I_gap)
        return jnp.stack([dv, dm, dh, dn,
                          -y[4] / p["tau_decay_ex"], y[4] - (y[5] / p["tau_rise_ex"]),
                          -y[6] / p["tau_decay_in"], y[6] - (y[7] / p["tau_rise_in"])])

    @classmethod
    def _state_vector(cls, s):
        return jnp.stack([s["V_m"], s["Act_m"], s["Inact_h"], s["Act_n"],
                          s["dg_ex"], s["g_ex"], s["dg_in"], s["g_in"]])

    @classmethod
    def update(cls, p, d, s, syn, I, gap=None):
        y = cls._state_vector(s)
        if gap is None:
            y, h = cls._integrate(p, d, s, y, I)
        else:
            y, h = cls._integrate_gap(p, d, s, y, I, gap, _EPS_ABS)
        r, spike = cls._fire(p, d, s["V_m"], y[0], s["refractory_steps"])
        return {"V_m": y[0], "Act_m": y[1], "Inact_h": y[2], "Act_n": y[3],
                "dg_ex": y[4] + syn[0] * d["psc0_ex"], "g_ex": y[5],
                "dg_in": y[6] + syn[1] * d["psc0_in"], "g_in": y[7],
                "refractory_steps": r, "h": h}, spike
