"""Neurons that keep the voltage history read by Clopath plasticity (NEST: aeif_psc_delta_clopath,
hh_psc_alpha_clopath).

NEST's Clopath archiving node (shared by its Clopath neurons), per neuron and step:
after the step stamped s the neuron writes u = V_m, u_bar_plus and u_bar_minus into a ring of
N = round(delay_u_bars / dt) + 1 values and reads back the values written N - 1 steps earlier
(0 during the first N - 1 steps: the ring starts filled with zeros) - the delayed u_bar_plus* and
u_bar_minus*. Then

    LTP entry (when u > theta_plus and u_bar_plus* > theta_minus):
        dw_LTP(s) = A_LTP (u - theta_plus) (u_bar_plus* - theta_minus) dt
    LTD entry (when u_bar_minus* > theta_minus):
        dw_LTD(s) = A_LTD (u_bar_minus* - theta_minus)                                (A_LTD_const)
                  = A_LTD u_bar_bar^2 (u_bar_minus* - theta_minus) / u_ref_squared     (otherwise)

nestax holds these as the state variables ``_ltp_dw`` and ``_ltd_dw`` (0: no entry in this step)
and declares them as ``step_history``: the engine keeps them per step for the targets of
``clopath_synapse`` (:mod:`nestax.engine.step_history`, ``Simulator.step_history`` steps).

The delay ring is part of the neuron's run state with room for :data:`DELAY_RING` values, so
delay_u_bars may be at most (DELAY_RING - 1) steps (102.3 ms at dt = 0.1 ms); NEST sizes its ring
when the simulation starts and keeps that size if delay_u_bars is changed later, nestax uses the
current value.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ...errors import BadParameterError
from ..base import Neuron, Param, State
from ..common import OnePortRouting
from ..integrators import rkf45_evolve
from ..propagators import refractory_steps
from ..registry import register
from .aeif import _MAX_EXP_ARG
from .hh import hh_psc_alpha

DELAY_RING = 1024  # values of the delayed u_bar ring kept per neuron (delay_u_bars <= 1023 steps)

CLOPATH_PARAMS = {
    "A_LTD": Param(14.0e-5, "1/mV", "Amplitude of depression"),
    "A_LTP": Param(8.0e-5, "1/mV^2", "Amplitude of facilitation"),
    "u_ref_squared": Param(60.0, "mV^2", "Reference value of u_bar_bar^2 (A_LTD_const = False)"),
    "theta_plus": Param(-45.3, "mV", "Threshold of u for facilitation"),
    "theta_minus": Param(-70.6, "mV", "Threshold of u_bar_plus / u_bar_minus"),
    "A_LTD_const": Param(True, "1", "A_LTD constant (True) or scaled by u_bar_bar^2 / u_ref_squared", "bool"),
    "delay_u_bars": Param(5.0, "ms", "Delay with which u_bar_plus / u_bar_minus enter the weight change"),
}

CLOPATH_STATE = {
    "_ltp_dw": State("1", 0.0, "LTP value written after this step (0: none; internal)"),
    "_ltd_dw": State("1", 0.0, "LTD value written after this step (0: none; internal)"),
    "_ubp_ring": State("mV", 0.0, "Ring of past u_bar_plus values (internal)"),
    "_ubm_ring": State("mV", 0.0, "Ring of past u_bar_minus values (internal)"),
    "_ring_idx": State("1", 0, "Position in the u_bar rings (internal)"),
}


def check_clopath(cls, p, dt):
    cls._positive(p, "u_ref_squared")
    steps = np.floor(np.asarray(p["delay_u_bars"], float) / dt + 0.5)
    cls._require(p, "delay_u_bars", (steps >= 0) & (steps <= DELAY_RING - 1),
                 f"0 <= delay_u_bars <= {(DELAY_RING - 1) * dt:g} ms ({DELAY_RING - 1} steps at resolution {dt:g} ms)")


def prepare_clopath(p, dt):
    return {"ring_len": (jnp.floor(p["delay_u_bars"] / dt + 0.5) + 1).astype(jnp.int32)}


def clopath_history(p, d, s, u, ubp, ubm, ubb):
    """Write this step's u_bar_plus / u_bar_minus into the delay rings, read the delayed ones and
    compute the step's LTP and LTD values (0: no entry). Returns the state entries."""
    n = u.shape[0]
    rows = jnp.arange(n)
    idx = s["_ring_idx"].astype(jnp.int32) % d["ring_len"]
    rp = s["_ubp_ring"].at[rows, idx].set(ubp)
    rm = s["_ubm_ring"].at[rows, idx].set(ubm)
    idx = (idx + 1) % d["ring_len"]
    del_p, del_m = rp[rows, idx], rm[rows, idx]
    ltp = jnp.where((u > p["theta_plus"]) & (del_p > p["theta_minus"]),
                    p["A_LTP"] * (u - p["theta_plus"]) * (del_p - p["theta_minus"]) * d["dt"], 0.0)
    ltd_c = p["A_LTD"] * (del_m - p["theta_minus"])
    ltd_v = p["A_LTD"] * ubb * ubb * (del_m - p["theta_minus"]) / p["u_ref_squared"]
    ltd = jnp.where(del_m > p["theta_minus"], jnp.where(p["A_LTD_const"].astype(bool), ltd_c, ltd_v), 0.0)
    return {"_ltp_dw": ltp, "_ltd_dw": ltd, "_ubp_ring": rp, "_ubm_ring": rm, "_ring_idx": idx}


class _ClopathRing:
    """The delay rings are (n, DELAY_RING) arrays."""

    @classmethod
    def assign(cls, p, s, name, value):
        if name in ("_ubp_ring", "_ubm_ring") and np.ndim(value) == 1:
            return np.zeros((len(value), DELAY_RING))
        return value


@register
class aeif_psc_delta_clopath(_ClopathRing, OnePortRouting, Neuron):
    """Adaptive exponential integrate-and-fire neuron with Clopath's voltage traces, delta synapses
    (NEST: aeif_psc_delta_clopath).

    C_m dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_th)/Delta_T) - w + z + I_e + I_gen
    tau_w dw/dt = a (V - E_L) - w            (0 while clamped)
    tau_z dz/dt = -z,   tau_V_th dV_th/dt = -(V_th - V_th_rest)
    tau_u_bar_plus du_bar_plus/dt = V - u_bar_plus,   tau_u_bar_minus du_bar_minus/dt = V - u_bar_minus
    tau_u_bar_bar du_bar_bar/dt = u_bar_minus - u_bar_bar

    with V = V_clamp while clamped, V_reset while refractory, else min(V_m, V_peak); dV/dt = 0 while
    clamped or refractory. Integrated per step with GSL's RKF45 (``yp`` control, absolute and
    relative tolerance gsl_error_tol), as NEST. After every accepted internal step:

    1. if neither clamped nor refractory, the spike input of this step (weights in mV) is added to
       V_m (once: at the first accepted internal step); otherwise it is dropped;
    2. spike if V_m >= V_peak (V_th when Delta_T == 0) and not clamped: V_m = V_clamp, w += b,
       z = I_sp, V_th = V_th_max, clamped for round(t_clamp/dt) steps (counter + 1, counted down
       after the step; none if t_clamp rounds to 0);
       else, at the last clamped step: V_m = V_reset, clamping ends, refractory for t_ref;
    3. while refractory V_m = V_reset.

    After the step the Clopath history is written (module docstring), then the clamp and
    refractory counters count down; the generator current is used from the next step on.

    Parameters (NEST defaults): C_m 281 pF (> 0), g_L 30 nS, E_L -70.6 mV, Delta_T 2 mV (>= 0),
    V_peak 33 mV (>= V_th_rest, > V_reset), V_reset -60 mV, t_ref 0 ms (>= 0), a 4 nS, b 80.5 pA,
    tau_w 144 ms, tau_z 40 ms, I_sp 400 pA, tau_V_th 50 ms, V_th_rest -50.4 mV,
    V_th_max 30.4 mV (>= V_th_rest), tau_u_bar_plus 7 ms, tau_u_bar_minus 10 ms,
    tau_u_bar_bar 500 ms (all time constants > 0), t_clamp 2 ms (>= 0), V_clamp 33 mV, I_e 0 pA,
    gsl_error_tol 1e-6 (> 0); Clopath: A_LTD 1.4e-4, A_LTP 8e-5, u_ref_squared 60 (> 0),
    theta_plus -45.3 mV, theta_minus -70.6 mV, A_LTD_const True, delay_u_bars 5 ms.
    Recordables: V_m, w, z, V_th, u_bar_plus, u_bar_minus, u_bar_bar.
    """

    name = "aeif_psc_delta_clopath"
    weight_unit = "mV"
    ports = ("in",)
    parameters = {
        "C_m": Param(281.0, "pF", "Membrane capacitance"),
        "g_L": Param(30.0, "nS", "Leak conductance"),
        "E_L": Param(-70.6, "mV", "Leak reversal potential"),
        "Delta_T": Param(2.0, "mV", "Slope factor of the exponential term"),
        "V_peak": Param(33.0, "mV", "Spike detection threshold"),
        "V_reset": Param(-60.0, "mV", "Reset potential (after the clamp)"),
        "t_ref": Param(0.0, "ms", "Duration of the refractory period (after the clamp)"),
        "a": Param(4.0, "nS", "Subthreshold adaptation"),
        "b": Param(80.5, "pA", "Spike-triggered adaptation"),
        "tau_w": Param(144.0, "ms", "Adaptation time constant"),
        "tau_z": Param(40.0, "ms", "Time constant of the spike after-depolarisation z"),
        "I_sp": Param(400.0, "pA", "Value of z after a spike"),
        "tau_V_th": Param(50.0, "ms", "Time constant of the adaptive threshold"),
        "V_th_rest": Param(-50.4, "mV", "Resting value of the adaptive threshold"),
        "V_th_max": Param(30.4, "mV", "Value of the adaptive threshold after a spike"),
        "tau_u_bar_plus": Param(7.0, "ms", "Time constant of u_bar_plus"),
        "tau_u_bar_minus": Param(10.0, "ms", "Time constant of u_bar_minus"),
        "tau_u_bar_bar": Param(500.0, "ms", "Time constant of u_bar_bar"),
        "t_clamp": Param(2.0, "ms", "Duration of the clamp after a spike"),
        "V_clamp": Param(33.0, "mV", "Membrane potential while clamped"),
        "I_e": Param(0.0, "pA", "Constant input current"),
        "gsl_error_tol": Param(1e-6, "1", "Absolute and relative error tolerance of the RKF45 integrator"),
        **CLOPATH_PARAMS,
    }
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "w": State("pA", 0.0, "Adaptation current"),
        "z": State("pA", 0.0, "Spike after-depolarisation current"),
        "V_th": State("mV", "V_th_rest", "Adaptive threshold"),
        "u_bar_plus": State("mV", "E_L", "Low-pass filtered V_m (tau_u_bar_plus)"),
        "u_bar_minus": State("mV", "E_L", "Low-pass filtered V_m (tau_u_bar_minus)"),
        "u_bar_bar": State("mV", "E_L", "Low-pass filtered u_bar_minus (tau_u_bar_bar)"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
        "clamp_steps": State("1", 0, "Clamped steps left"),
        "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
        **CLOPATH_STATE,
    }
    settable_state = ("V_m", "w", "u_bar_plus", "u_bar_minus", "u_bar_bar")  # what NEST's SetStatus accepts
    step_history = ("_ltp_dw", "_ltd_dw")
    _y = ("V_m", "w", "z", "V_th", "u_bar_plus", "u_bar_minus", "u_bar_bar")

    @classmethod
    def recordables(cls):
        return ("V_m", "w", "z", "V_th", "u_bar_plus", "u_bar_minus", "u_bar_bar")

    @classmethod
    def check(cls, p):
        v_peak, v_rest, dT = (np.asarray(p[k], float) for k in ("V_peak", "V_th_rest", "Delta_T"))
        cls._require(p, "V_reset", np.asarray(p["V_reset"]) < v_peak,
                     f"V_reset < V_peak (V_peak = {v_peak.ravel()[0]} mV)")
        cls._nonnegative(p, "Delta_T")
        with np.errstate(divide="ignore", invalid="ignore"):
            arg = np.where(dT > 0, (v_peak - v_rest) / np.where(dT > 0, dT, 1.0), 0.0)
        cls._require(p, "Delta_T", arg < _MAX_EXP_ARG,
                     f"(V_peak - V_th_rest) / Delta_T < {_MAX_EXP_ARG:.4g} (exp would overflow at spike time)")
        cls._require(p, "V_th_max", np.asarray(p["V_th_max"]) >= v_rest,
                     f"V_th_max >= V_th_rest (V_th_rest = {v_rest.ravel()[0]} mV)")
        cls._require(p, "V_peak", v_peak >= v_rest, f"V_peak >= V_th_rest (V_th_rest = {v_rest.ravel()[0]} mV)")
        cls._positive(p, "C_m")
        cls._nonnegative(p, "t_ref", "t_clamp")
        cls._positive(p, "tau_w", "tau_V_th", "tau_z", "tau_u_bar_plus", "tau_u_bar_minus", "tau_u_bar_bar")
        cls._positive(p, "gsl_error_tol")
        cls._positive(p, "u_ref_squared")

    @classmethod
    def check_grid(cls, p, dt):
        super().check_grid(p, dt)
        check_clopath(cls, p, dt)

    @classmethod
    def prepare(cls, p, dt):
        ref = refractory_steps(p["t_ref"], dt)
        clamp = refractory_steps(p["t_clamp"], dt)
        return {"dt": dt, **prepare_clopath(p, dt),
                # counters set at a spike: + 1 for the count-down after the step (0: none)
                "ref_set": jnp.where(ref > 0, ref + 1, 0).astype(jnp.int32),
                "clamp_set": jnp.where(clamp > 0, clamp + 1, 0).astype(jnp.int32)}

    @staticmethod
    def _rhs(p, y, r, cr, I):
        refr, clamped = r > 0, cr > 0
        V = jnp.where(clamped, p["V_clamp"], jnp.where(refr, p["V_reset"], jnp.minimum(y[0], p["V_peak"])))
        w, z, vth, ubp, ubm, ubb = y[1], y[2], y[3], y[4], y[5], y[6]
        dT = p["Delta_T"]
        pos = dT > 0
        isp = jnp.where(pos, p["g_L"] * dT * jnp.exp((V - vth) / jnp.where(pos, dT, 1.0)), 0.0)
        dv = (-p["g_L"] * (V - p["E_L"]) + isp - w + z + p["I_e"] + I) / p["C_m"]
        return jnp.stack([jnp.where(refr | clamped, 0.0, dv),
                          jnp.where(clamped, 0.0, (p["a"] * (V - p["E_L"]) - w) / p["tau_w"]),
                          -z / p["tau_z"], -(vth - p["V_th_rest"]) / p["tau_V_th"],
                          (V - ubp) / p["tau_u_bar_plus"], (V - ubm) / p["tau_u_bar_minus"],
                          (ubm - ubb) / p["tau_u_bar_bar"]])

    @classmethod
    def update(cls, p, d, s, syn, I):
        y = jnp.stack([s[k] for k in cls._y])
        h = jnp.where(s["h"] > 0, s["h"], d["dt"])
        r0 = s["refractory_steps"].astype(jnp.int32)
        c0 = s["clamp_steps"].astype(jnp.int32)
        tol = p["gsl_error_tol"]

        def post(yy, args, acc):
            r, cr, Ii, n, pend, (pp, dd) = args
            v = yy[0]
            free = acc & (r == 0) & (cr == 0)
            v = jnp.where(free, v + pend, v)
            pend = jnp.where(acc, 0.0, pend)       # the input of this step is read once
            v_spike = jnp.where(pp["Delta_T"] == 0.0, yy[3], pp["V_peak"])
            spike = acc & (v >= v_spike) & (cr == 0)
            unclamp = acc & ~spike & (cr == 1)
            v = jnp.where(spike, pp["V_clamp"], jnp.where(unclamp, pp["V_reset"], v))
            r = jnp.where(unclamp, dd["ref_set"], r)
            cr = jnp.where(spike, dd["clamp_set"], jnp.where(unclamp, 0, cr))
            v = jnp.where(acc & (r > 0), pp["V_reset"], v)
            yy = (yy.at[0].set(v).at[1].set(jnp.where(spike, yy[1] + pp["b"], yy[1]))
                  .at[2].set(jnp.where(spike, pp["I_sp"], yy[2])).at[3].set(jnp.where(spike, pp["V_th_max"], yy[3])))
            return yy, (r, cr, Ii, n + spike.astype(n.dtype), pend, (pp, dd))

        y, h, (r, cr, _, n, _, _) = rkf45_evolve(
            lambda yy, a: cls._rhs(a[5][0], yy, a[0], a[1], a[2]), y, h, d["dt"],
            (r0, c0, I, jnp.zeros_like(r0), syn[0], (p, d)), eps_abs=tol, eps_rel=tol, a_y=0.0, a_dydt=1.0,
            post=post, compact=True)
        out = {k: y[i] for i, k in enumerate(cls._y)}
        out.update(clopath_history(p, d, s, y[0], y[4], y[5], y[6]))
        out.update(refractory_steps=jnp.where(r > 0, r - 1, r), clamp_steps=jnp.where(cr > 0, cr - 1, cr), h=h)
        return out, n


@register
class hh_psc_alpha_clopath(_ClopathRing, hh_psc_alpha):
    """Hodgkin-Huxley neuron with alpha-shaped synaptic currents and Clopath's voltage traces
    (NEST: hh_psc_alpha_clopath).

    :class:`~nestax.models.neurons.hh.hh_psc_alpha` (membrane, gates, synaptic currents, spike
    detection at a maximum of V_m >= 0 mV, t_ref only suppressing detection) with three more
    components of the same ODE system:

    tau_u_bar_plus du_bar_plus/dt = V_m - u_bar_plus,   tau_u_bar_minus du_bar_minus/dt = V_m - u_bar_minus
    tau_u_bar_bar du_bar_bar/dt = u_bar_minus - u_bar_bar

    integrated together with the others by NEST's GSL RKF45 (absolute error 1e-3 on all eleven
    components, so the traces take part in the step-size control). Per step: integrate, add the
    spike input to the synaptic variables, write the Clopath history (module docstring) from
    V_m, u_bar_plus, u_bar_minus, u_bar_bar, then the refractory count-down / spike detection.

    Parameters (NEST defaults): those of hh_psc_alpha, tau_u_bar_plus 114 ms, tau_u_bar_minus 10 ms,
    tau_u_bar_bar 500 ms (all > 0); Clopath: A_LTD 1.4e-4, A_LTP 8e-5, u_ref_squared 60 mV^2 (> 0),
    theta_plus -45.3 mV, theta_minus -70.6 mV, A_LTD_const True, delay_u_bars 5 ms.
    State: as hh_psc_alpha (V_m starts at -65 mV, gates at their equilibrium there), u_bar_plus,
    u_bar_minus, u_bar_bar start at 0 mV (NEST's start values, not E_L or V_m).
    Recordables: V_m, I_syn_ex, I_syn_in, Act_m, Inact_h, Act_n, u_bar_plus, u_bar_minus, u_bar_bar.
    """

    name = "hh_psc_alpha_clopath"
    parameters = {
        **hh_psc_alpha.parameters,
        "tau_u_bar_plus": Param(114.0, "ms", "Time constant of u_bar_plus"),
        "tau_u_bar_minus": Param(10.0, "ms", "Time constant of u_bar_minus"),
        "tau_u_bar_bar": Param(500.0, "ms", "Time constant of u_bar_bar"),
        **CLOPATH_PARAMS,
    }
    state = {
        **hh_psc_alpha.state,
        "u_bar_plus": State("mV", 0.0, "Low-pass filtered V_m (tau_u_bar_plus)"),
        "u_bar_minus": State("mV", 0.0, "Low-pass filtered V_m (tau_u_bar_minus)"),
        "u_bar_bar": State("mV", 0.0, "Low-pass filtered u_bar_minus (tau_u_bar_bar)"),
        **CLOPATH_STATE,
    }
    settable_state = hh_psc_alpha.settable_state + ("u_bar_plus", "u_bar_minus", "u_bar_bar")
    step_history = ("_ltp_dw", "_ltd_dw")
    _time_constants = hh_psc_alpha._time_constants + ("tau_u_bar_plus", "tau_u_bar_minus", "tau_u_bar_bar")
    _y = hh_psc_alpha._y + ("u_bar_plus", "u_bar_minus", "u_bar_bar")   # NEST's state vector order

    @classmethod
    def recordables(cls):
        return super().recordables() + ("u_bar_plus", "u_bar_minus", "u_bar_bar")

    @classmethod
    def assign(cls, p, s, name, value):
        v = np.asarray(value, float)
        if name in ("Act_m", "Inact_h", "Act_n") and np.any(v < 0):     # NEST refuses negative gates
            raise BadParameterError(f"{cls.name}: state {name!r} = {v.ravel()[np.argmax(v.ravel() < 0)]} is "
                                    "invalid; expected a value >= 0.")
        return super().assign(p, s, name, value)

    @classmethod
    def check(cls, p):
        super().check(p)
        cls._positive(p, "u_ref_squared")

    @classmethod
    def check_grid(cls, p, dt):
        super().check_grid(p, dt)
        check_clopath(cls, p, dt)

    @classmethod
    def prepare(cls, p, dt):
        return {**super().prepare(p, dt), **prepare_clopath(p, dt)}

    @classmethod
    def _rhs(cls, p, y, I):
        V, ubp, ubm, ubb = y[0], y[8], y[9], y[10]
        return jnp.concatenate([super()._rhs(p, y[:8], I),
                                jnp.stack([(-ubp + V) / p["tau_u_bar_plus"], (-ubm + V) / p["tau_u_bar_minus"],
                                           (-ubb + ubm) / p["tau_u_bar_bar"]])])

    @classmethod
    def update(cls, p, d, s, syn, I):
        out, spike = super().update(p, d, s, syn, I)
        out.update(clopath_history(p, d, s, out["V_m"], out["u_bar_plus"], out["u_bar_minus"], out["u_bar_bar"]))
        return out, spike
