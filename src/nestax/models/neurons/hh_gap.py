"""Hodgkin-Huxley neuron with gap junctions (NEST: hh_psc_alpha_gap).

Not the squid axon of hh_psc_alpha: NEST's hh_psc_alpha_gap is the fast-spiking cortical
interneuron of Mancilla et al. (2007) with a sodium current (m^3 h) and two potassium currents,
Kv1 (n^4) and Kv3 (p^2). Synaptic input, spike detection, refractoriness and the integration loop
are hh_psc_alpha's (this class derives from it); the GSL error control is tighter, absolute error
1e-6 (hh_psc_alpha: 1e-3), as in NEST.

Gap junctions (``gap_junction``, weight g in nS) add I_gap = sum_j g_ij (V_j(t) - V_m) to the
membrane current, V_j interpolated within the step from NEST's waveform relaxation (see
:mod:`nestax.models.synapses.gap`).
"""
from __future__ import annotations

import math

import jax.numpy as jnp

from ..base import Param, State
from ..registry import register
from .hh import hh_psc_alpha

_EPS_ABS = 1e-6  # NEST: gsl_odeiv_control_y_new(1e-6, 0) for hh_psc_alpha_gap


def _rates(V, exp=jnp.exp):
    """Rate functions (1/ms) of hh_psc_alpha_gap, V in mV (NEST's expressions)."""
    alpha_m = 40. * (V - 75.5) / (1. - exp(-(V - 75.5) / 13.5))
    beta_m = 1.2262 / exp(V / 42.248)
    alpha_h = 0.0035 / exp(V / 24.186)
    beta_h = 0.017 * (51.25 + V) / (1. - exp(-(51.25 + V) / 5.2))
    alpha_p = (V - 95.) / (1. - exp(-(V - 95.) / 11.8))
    beta_p = 0.025 / exp(V / 22.222)
    alpha_n = 0.014 * (V + 44.) / (1. - exp(-(V + 44.) / 2.3))
    beta_n = 0.0043 / exp((V + 44.) / 34.)
    return alpha_m, beta_m, alpha_h, beta_h, alpha_p, beta_p, alpha_n, beta_n


_V0 = -69.60401191631222  # NEST's initial V_m (not E_L)
_am, _bm, _ah, _bh, _ap, _bp, _an, _bn = _rates(_V0, math.exp)
_M0, _H0, _P0, _N0 = _am / (_am + _bm), _ah / (_ah + _bh), _ap / (_ap + _bp), _an / (_an + _bn)


@register
class hh_psc_alpha_gap(hh_psc_alpha):
    """Hodgkin-Huxley neuron with alpha-shaped synaptic currents and gap junctions (NEST: hh_psc_alpha_gap).

    C_m dV_m/dt = -(I_Na + I_K + I_L) + I_gen + I_e + I_syn_ex + I_syn_in + I_gap
    I_Na = g_Na m^3 h (V_m - E_Na),  I_K = (g_Kv1 n^4 + g_Kv3 p^2) (V_m - E_K),  I_L = g_L (V_m - E_L)
    I_gap = sum_j g_ij (V_j(t) - V_m)  (gap_junction connections; V_j interpolated within the step)
    dx/dt = alpha_x (1 - x) - beta_x x  for x = m, h, n, p, with (V in mV, rates in 1/ms)
      alpha_m = 40 (V - 75.5) / (1 - exp(-(V - 75.5)/13.5)),   beta_m = 1.2262 / exp(V/42.248)
      alpha_h = 0.0035 / exp(V/24.186),   beta_h = 0.017 (51.25 + V) / (1 - exp(-(51.25 + V)/5.2))
      alpha_p = (V - 95) / (1 - exp(-(V - 95)/11.8)),          beta_p = 0.025 / exp(V/22.222)
      alpha_n = 0.014 (V + 44) / (1 - exp(-(V + 44)/2.3)),     beta_n = 0.0043 / exp((V + 44)/34)
    Synaptic currents as hh_psc_alpha (alpha functions peaking at the weight in pA; w > 0
    excitatory, w <= 0 inhibitory), moving from the step after arrival.

    Update order of step k: integrate the step (GSL RKF45, absolute error 1e-6, step size kept
    across steps) with this step's generator current, I_e and the gap current; add the step's spike
    input to dI_syn; if refractory count down, else spike when V_m >= 0 mV and V_m is lower than at
    the start of the step (t_ref rounded up to steps only suppresses detection).

    Parameters (NEST defaults): t_ref (ms, 2, >= 0), g_Na (nS, 4500, >= 0), g_Kv1 (nS, 9, >= 0),
    g_Kv3 (nS, 9000, >= 0), g_L (nS, 10, >= 0), C_m (pF, 40, > 0), E_Na (mV, 74), E_K (mV, -90),
    E_L (mV, -70), tau_syn_ex (ms, 0.2, > 0), tau_syn_in (ms, 2, > 0), I_e (pA, 0).
    State: V_m (mV, starts at -69.604..., NEST's value), Act_m, Inact_h, Act_n, Inact_p (start at
    equilibrium for that V_m). Recordables: V_m, I_syn_ex, I_syn_in (pA), Act_m, Inact_h, Act_n,
    Inact_p.
    """

    name = "hh_psc_alpha_gap"
    settable_state = ("V_m", "Act_m", "Inact_h", "Act_n", "Inact_p")
    parameters = {
        "t_ref": Param(2.0, "ms", "Duration of the refractory period (spike detection off)"),
        "g_Na": Param(4500.0, "nS", "Sodium peak conductance"),
        "g_Kv1": Param(9.0, "nS", "Kv1 potassium peak conductance (n^4)"),
        "g_Kv3": Param(9000.0, "nS", "Kv3 potassium peak conductance (p^2)"),
        "g_L": Param(10.0, "nS", "Leak conductance"),
        "C_m": Param(40.0, "pF", "Membrane capacitance"),
        "E_Na": Param(74.0, "mV", "Sodium reversal potential"),
        "E_K": Param(-90.0, "mV", "Potassium reversal potential"),
        "E_L": Param(-70.0, "mV", "Leak reversal potential"),
        "tau_syn_ex": Param(0.2, "ms", "Rise time of the excitatory synaptic alpha function"),
        "tau_syn_in": Param(2.0, "ms", "Rise time of the inhibitory synaptic alpha function"),
        "I_e": Param(0.0, "pA", "Constant input current"),
    }
    state = {
        "V_m": State("mV", _V0, "Membrane potential"),
        "Act_m": State("1", _M0, "Activation of the sodium current, m"),
        "Inact_h": State("1", _H0, "Inactivation of the sodium current, h"),
        "Act_n": State("1", _N0, "Activation of the Kv1 potassium current, n"),
        "Inact_p": State("1", _P0, "Activation of the Kv3 potassium current, p (NEST's name)"),
        "I_syn_ex": State("pA", 0.0, "Excitatory synaptic current"),
        "dI_syn_ex": State("pA/ms", 0.0, "Derivative state of the excitatory current"),
        "I_syn_in": State("pA", 0.0, "Inhibitory synaptic current"),
        "dI_syn_in": State("pA/ms", 0.0, "Derivative state of the inhibitory current"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
        "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
    }
    _conductances = ("g_Na", "g_Kv1", "g_Kv3", "g_L")
    gap = True
    gap_kept = ("h",)

    @classmethod
    def recordables(cls):
        return ("V_m", "I_syn_ex", "I_syn_in", "Act_m", "Inact_h", "Act_n", "Inact_p")

    @classmethod
    def _rhs(cls, p, y, I, I_gap=0.0):
        # y = (V_m, m, h, n, p, dI_ex, I_ex, dI_in, I_in), NEST's state vector order
        V, m, h, n, pp = y[0], y[1], y[2], y[3], y[4]
        am, bm, ah, bh, ap, bp, an, bn = _rates(V)
        i_na = p["g_Na"] * m * m * m * h * (V - p["E_Na"])
        i_k = (p["g_Kv1"] * n * n * n * n + p["g_Kv3"] * pp * pp) * (V - p["E_K"])
        i_l = p["g_L"] * (V - p["E_L"])
        dv = (-(i_na + i_k + i_l) + I + p["I_e"] + y[6] + y[8] + I_gap) / p["C_m"]
        return jnp.stack([
            dv,
            am * (1 - m) - bm * m,
            ah * (1 - h) - bh * h,
            an * (1 - n) - bn * n,
            ap * (1 - pp) - bp * pp,
            -y[5] / p["tau_syn_ex"],
            y[5] - (y[6] / p["tau_syn_ex"]),
            -y[7] / p["tau_syn_in"],
            y[7] - (y[8] / p["tau_syn_in"]),
        ])

    @classmethod
    def _state_vector(cls, s):
        return jnp.stack([s["V_m"], s["Act_m"], s["Inact_h"], s["Act_n"], s["Inact_p"],
                          s["dI_syn_ex"], s["I_syn_ex"], s["dI_syn_in"], s["I_syn_in"]])

    @classmethod
    def update(cls, p, d, s, syn, I, gap=None):
        y = cls._state_vector(s)
        if gap is None:
            g0 = jnp.zeros_like(s["V_m"])
            gap = (g0, g0[None])
        y, h = cls._integrate_gap(p, d, s, y, I, gap, _EPS_ABS)
        dI_ex = y[5] + syn[0] * d["psc0_ex"]
        dI_in = y[7] + syn[1] * d["psc0_in"]
        r, spike = cls._fire(p, d, s["V_m"], y[0], s["refractory_steps"])
        return {"V_m": y[0], "Act_m": y[1], "Inact_h": y[2], "Act_n": y[3], "Inact_p": y[4],
                "dI_syn_ex": dI_ex, "I_syn_ex": y[6], "dI_syn_in": dI_in, "I_syn_in": y[8],
                "refractory_steps": r, "h": h}, spike
