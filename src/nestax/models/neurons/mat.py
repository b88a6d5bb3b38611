"""Multi-timescale adaptive threshold neurons (NEST: mat2_psc_exp, amat2_psc_exp), integrated exactly.

Kobayashi, Tsubo & Shinomoto (2009): a leaky membrane that is never reset, with exponential
post-synaptic currents, and a threshold that jumps at each spike and relaxes with two time
constants. amat2 (Yamauchi, Kim & Shinomoto 2011) adds a threshold component driven by the
membrane potential itself.

Internally V_m is held relative to E_L (reported absolute); omega is the absolute resting threshold
(NEST stores it relative to E_L and shows it absolute, so changing E_L leaves omega and V_m where they
are, in NEST and here). The threshold V_th = omega + V_th_alpha_1 + V_th_alpha_2 (+ V_th_v for amat2)
is computed from the state whenever it is read.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ...errors import BadParameterError
from ..base import Neuron, Param, State
from ..common import SignedRouting
from ..propagators import refractory_steps
from ..registry import register


class _MatBase(SignedRouting, Neuron):
    kind = "neuron"
    ports = ("ex", "in")
    _taus = ("tau_m", "tau_syn_ex", "tau_syn_in", "t_ref", "tau_1", "tau_2")

    @classmethod
    def check(cls, p):
        cls._positive(p, "C_m")
        cls._positive(p, *cls._taus)
        cls._differ(p, "tau_syn_ex", "tau_m")
        cls._differ(p, "tau_syn_in", "tau_m")

    @classmethod
    def _differ(cls, p, name, other):
        a, b = np.broadcast_arrays(np.asarray(p[name], float), np.asarray(p[other], float))
        bad = np.nonzero((a == b).reshape(-1))[0]
        if len(bad):
            i = bad[0]
            raise BadParameterError(
                f"{cls.name}: parameter {name!r} = {a.reshape(-1)[i]} ms is invalid; expected a value different "
                f"from {other} (= {b.reshape(-1)[i]} ms): the exact propagators need distinct time constants.")

    @classmethod
    def observe(cls, p, s, name):
        if name == "V_m":
            return s["V_m"] + p["E_L"]
        if name == "V_th":
            return cls._threshold(p, s)
        return s[name]

    @classmethod
    def assign(cls, p, s, name, value):
        if name == "V_m":
            return value - p["E_L"]
        if name == "V_th":  # derived from omega and the threshold state: nothing to store
            return np.zeros_like(np.asarray(value, float))
        return value

    @staticmethod
    def _common_propagators(p, dt):
        tau_m, C = p["tau_m"], p["C_m"]
        d = {
            "P11ex": jnp.exp(-dt / p["tau_syn_ex"]),
            "P11in": jnp.exp(-dt / p["tau_syn_in"]),
            "P11th": jnp.exp(-dt / p["tau_1"]),
            "P22th": jnp.exp(-dt / p["tau_2"]),
            "omega_rel": p["omega"] - p["E_L"],
            "ref_counts": refractory_steps(p["t_ref"], dt),
        }
        return d

    @staticmethod
    def _fire(p, d, v, th1, th2, r, extra=0.0):
        """Threshold test at the end of the step (only when not refractory); the threshold jumps."""
        free = r == 0
        spike = free & (v >= d["omega_rel"] + th2 + th1 + extra)
        r = jnp.where(spike, d["ref_counts"].astype(r.dtype), jnp.where(free, r, r - 1))
        th1 = jnp.where(spike, th1 + p["alpha_1"], th1)
        th2 = jnp.where(spike, th2 + p["alpha_2"], th2)
        return th1, th2, r, spike


_PARAMS = {
    "E_L": Param(-70.0, "mV", "Resting membrane potential"),
    "C_m": Param(100.0, "pF", "Membrane capacitance"),
    "tau_m": Param(5.0, "ms", "Membrane time constant"),
    "tau_syn_ex": Param(1.0, "ms", "Excitatory synaptic time constant"),
    "tau_syn_in": Param(3.0, "ms", "Inhibitory synaptic time constant"),
    "t_ref": Param(2.0, "ms", "Refractory period (no spike emission; V_m is not clamped)"),
    "tau_1": Param(10.0, "ms", "Short threshold time constant"),
    "tau_2": Param(200.0, "ms", "Long threshold time constant"),
    "alpha_1": Param(37.0, "mV", "Jump of the short threshold component at a spike"),
    "alpha_2": Param(2.0, "mV", "Jump of the long threshold component at a spike"),
    "omega": Param(-51.0, "mV", "Resting threshold (absolute)"),
    "I_e": Param(0.0, "pA", "Constant input current"),
}


@register
class mat2_psc_exp(_MatBase):
    """Non-resetting leaky integrate-and-fire neuron with a two-timescale adaptive threshold and
    exponential post-synaptic currents (NEST: mat2_psc_exp).

        dV_m/dt = -(V_m - E_L)/tau_m + (I_syn_ex + I_syn_in + I_e + I_gen)/C_m
        dI_syn_X/dt = -I_syn_X / tau_syn_X                 (a spike of weight w adds w pA)
        V_th = omega + V_th_alpha_1 + V_th_alpha_2,  dV_th_alpha_i/dt = -V_th_alpha_i / tau_i
        spike when V_m >= V_th and not refractory: V_th_alpha_i += alpha_i; V_m is NOT reset.

    Exact integration (propagators from tau_m, tau_syn_X, C_m, dt; tau_m must differ from tau_syn_X).
    Update of step k, which covers (k dt, (k+1) dt] (NEST 3.10):

    1. V_m advances with the synaptic currents and input current of the step's start;
    2. V_th_alpha_1/2 and the synaptic currents decay; the spike input arriving in this step is added
       to I_syn_ex (w >= 0) or I_syn_in (w < 0);
    3. if not refractory and V_m >= V_th: start t_ref (rounded like NEST: to tics, then up to steps),
       raise the threshold by alpha_1 / alpha_2, emit a spike stamped (k+1) dt; if refractory, count
       down. t_ref only blocks spiking: V_m keeps integrating.
    4. generator current takes NEST's one-step lag (engine).
    So a spike arriving at t_a moves I_syn at t_a and V_m from t_a + dt.

    Parameters (NEST defaults):

    ========== ====== ======= ======================================================
    E_L        mV     -70     resting potential
    C_m        pF     100     membrane capacitance (> 0)
    tau_m      ms     5       membrane time constant (> 0, != tau_syn_ex, tau_syn_in)
    tau_syn_ex ms     1       excitatory synaptic time constant (> 0)
    tau_syn_in ms     3       inhibitory synaptic time constant (> 0)
    t_ref      ms     2       refractory period (> 0; at least one step)
    tau_1      ms     10      short threshold time constant (> 0)
    tau_2      ms     200     long threshold time constant (> 0)
    alpha_1    mV     37      short threshold jump
    alpha_2    mV     2       long threshold jump
    omega      mV     -51     resting threshold (absolute)
    I_e        pA     0       constant input current
    ========== ====== ======= ======================================================

    State: V_m (mV, starts at E_L), V_th_alpha_1, V_th_alpha_2 (mV, 0; settable, as in NEST),
    V_th (mV, derived). Recordables: V_m, V_th.
    """

    name = "mat2_psc_exp"
    settable_state = ("V_m", "V_th_alpha_1", "V_th_alpha_2")  # what NEST's SetStatus accepts
    weight_unit = "pA"
    parameters = dict(_PARAMS)
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "V_th": State("mV", 0.0, "Adaptive threshold (derived: omega + V_th_alpha_1 + V_th_alpha_2)"),
        "V_th_alpha_1": State("mV", 0.0, "Short-timescale threshold component"),
        "V_th_alpha_2": State("mV", 0.0, "Long-timescale threshold component"),
        "I_syn_ex": State("pA", 0.0, "Excitatory synaptic current"),
        "I_syn_in": State("pA", 0.0, "Inhibitory synaptic current"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m", "V_th")

    @staticmethod
    def _threshold(p, s):
        return p["omega"] + s["V_th_alpha_1"] + s["V_th_alpha_2"]

    @classmethod
    def prepare(cls, p, dt):
        d = cls._common_propagators(p, dt)
        tau_m, C = p["tau_m"], p["C_m"]
        d["P22_expm1"] = jnp.expm1(-dt / tau_m)
        d["P20"] = -tau_m / C * d["P22_expm1"]
        for x in ("ex", "in"):
            tau = p["tau_syn_" + x]
            # response of V to a unit exponential current over one step (tau != tau_m)
            d["P21" + x] = -tau_m / (C * (1.0 - tau_m / tau)) * d["P11" + x] * jnp.expm1(dt * (1.0 / tau - 1.0 / tau_m))
        return d

    @classmethod
    def update(cls, p, d, s, syn, I):
        v, iex, iin = s["V_m"], s["I_syn_ex"], s["I_syn_in"]
        v = v * d["P22_expm1"] + v + iex * d["P21ex"] + iin * d["P21in"] + (p["I_e"] + I) * d["P20"]
        th1 = s["V_th_alpha_1"] * d["P11th"]
        th2 = s["V_th_alpha_2"] * d["P22th"]
        iex = iex * d["P11ex"] + syn[0]
        iin = iin * d["P11in"] + syn[1]
        th1, th2, r, spike = cls._fire(p, d, v, th1, th2, s["refractory_steps"])
        return {"V_m": v, "V_th": s["V_th"], "V_th_alpha_1": th1, "V_th_alpha_2": th2, "I_syn_ex": iex,
                "I_syn_in": iin, "refractory_steps": r}, spike


@register
class amat2_psc_exp(_MatBase):
    """mat2_psc_exp with a voltage-dependent threshold component (NEST: amat2_psc_exp).

        dV_m/dt = -(V_m - E_L)/tau_m + (I_syn_ex + I_syn_in + I_e + I_gen)/C_m
        dI_syn_X/dt = -I_syn_X / tau_syn_X                 (a spike of weight w adds w pA)
        V_th = omega + V_th_alpha_1 + V_th_alpha_2 + V_th_v
        dV_th_alpha_i/dt = -V_th_alpha_i / tau_i
        dV_th_dv/dt = -V_th_dv / tau_v + beta dV_m/dt
        dV_th_v/dt  = -V_th_v / tau_v + V_th_dv
        (V_th_v is dV_m/dt filtered by the kernel beta t exp(-t/tau_v)); the whole linear system is
        integrated exactly with NEST's propagators.
        spike when V_m >= V_th and not refractory: V_th_alpha_i += alpha_i; V_m is NOT reset.

    Update of step k (NEST 3.10): V_th_v and its derivative advance first (from the old V_m, currents
    and input), then V_m, then the alpha components and the currents decay and the arriving spike input
    is added (w >= 0: I_syn_ex, else I_syn_in), then the threshold test as in mat2_psc_exp.
    A spike arriving at t_a moves I_syn at t_a, V_m from t_a + dt and V_th_v from t_a + 2 dt.
    Time constants must be pairwise different where the propagators divide by their differences:
    tau_m != tau_syn_ex, tau_syn_in, tau_v and tau_v != tau_syn_ex, tau_syn_in.

    Parameters (NEST defaults):

    ========== ====== ======= ======================================================
    E_L        mV     -70     resting potential
    C_m        pF     200     membrane capacitance (> 0)
    tau_m      ms     10      membrane time constant (> 0)
    tau_syn_ex ms     1       excitatory synaptic time constant (> 0)
    tau_syn_in ms     3       inhibitory synaptic time constant (> 0)
    t_ref      ms     2       refractory period (> 0)
    tau_1      ms     10      short threshold time constant (> 0)
    tau_2      ms     200     long threshold time constant (> 0)
    alpha_1    mV     10      short threshold jump
    alpha_2    mV     0       long threshold jump
    beta       1/ms   0       coupling of V_th_v to dV_m/dt
    tau_v      ms     5       time constant of the voltage-dependent component (> 0)
    omega      mV     -65     resting threshold (absolute)
    I_e        pA     0       constant input current
    ========== ====== ======= ======================================================

    State: V_m (mV, E_L), V_th_alpha_1, V_th_alpha_2, V_th_v (mV, 0; settable), V_th (derived).
    Recordables: V_m, V_th, V_th_v, I_syn_ex, I_syn_in.
    """

    name = "amat2_psc_exp"
    settable_state = ("V_m", "V_th_alpha_1", "V_th_alpha_2", "V_th_v")  # what NEST's SetStatus accepts
    weight_unit = "pA"
    parameters = {
        **_PARAMS,
        "C_m": Param(200.0, "pF", "Membrane capacitance"),
        "tau_m": Param(10.0, "ms", "Membrane time constant"),
        "alpha_1": Param(10.0, "mV", "Jump of the short threshold component at a spike"),
        "alpha_2": Param(0.0, "mV", "Jump of the long threshold component at a spike"),
        "beta": Param(0.0, "1/ms", "Coupling of the voltage-dependent threshold component"),
        "tau_v": Param(5.0, "ms", "Time constant of the voltage-dependent threshold component"),
        "omega": Param(-65.0, "mV", "Resting threshold (absolute)"),
    }
    _taus = _MatBase._taus + ("tau_v",)
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "V_th": State("mV", 0.0, "Adaptive threshold (derived)"),
        "V_th_alpha_1": State("mV", 0.0, "Short-timescale threshold component"),
        "V_th_alpha_2": State("mV", 0.0, "Long-timescale threshold component"),
        "V_th_v": State("mV", 0.0, "Voltage-dependent threshold component"),
        "V_th_dv": State("mV/ms", 0.0, "Derivative state of V_th_v"),
        "I_syn_ex": State("pA", 0.0, "Excitatory synaptic current"),
        "I_syn_in": State("pA", 0.0, "Inhibitory synaptic current"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m", "V_th", "V_th_v", "I_syn_ex", "I_syn_in")

    @classmethod
    def check(cls, p):
        super().check(p)
        cls._differ(p, "tau_v", "tau_m")
        cls._differ(p, "tau_syn_ex", "tau_v")
        cls._differ(p, "tau_syn_in", "tau_v")

    @staticmethod
    def _threshold(p, s):
        return p["omega"] + s["V_th_alpha_1"] + s["V_th_alpha_2"] + s["V_th_v"]

    @classmethod
    def prepare(cls, p, dt):
        d = cls._common_propagators(p, dt)
        h, c, beta = dt, p["C_m"], p["beta"]
        tm, tE, tI, tV = p["tau_m"], p["tau_syn_ex"], p["tau_syn_in"], p["tau_v"]
        eE, eI, em, eV = d["P11ex"], d["P11in"], jnp.exp(-h / tm), jnp.exp(-h / tV)
        d["P33"] = em
        d["P66"] = eV
        d["P30"] = (tm - em * tm) / c
        d["P31"] = ((eE - em) * tE * tm) / (c * (tE - tm))
        d["P32"] = ((eI - em) * tI * tm) / (c * (tI - tm))
        d["P60"] = (beta * (em - eV) * tm * tV) / (c * (tm - tV))

        def p6s(ts, es):  # V_th_dv <- synaptic current with time constant ts
            return (beta * ts * tm * tV * (eV * (tm - ts) + em * (ts - tV) + es * (tV - tm))) / (
                c * (ts - tm) * (ts - tV) * (tm - tV))

        def p7s(ts, es):  # V_th_v <- synaptic current with time constant ts
            num = ((em * tm * (ts - tV) ** 2 - es * ts * (tm - tV) ** 2) * tV
                   - eV * (ts - tm) * (h * (ts - tV) * (tm - tV) + ts * tm * tV - tV ** 3))
            return beta * ts * tm * tV * num / (c * (ts - tm) * (ts - tV) ** 2 * (tm - tV) ** 2)

        d["P61"], d["P62"] = p6s(tE, eE), p6s(tI, eI)
        d["P63"] = (beta * (eV - em) * tV) / (tm - tV)
        d["P70"] = (beta * tm * tV * (em * tm * tV - eV * (h * (tm - tV) + tm * tV))) / (c * (tm - tV) ** 2)
        d["P71"], d["P72"] = p7s(tE, eE), p7s(tI, eI)
        d["P73"] = (beta * tV * (eV * (h * (tm - tV) + tm * tV) - em * tm * tV)) / (tm - tV) ** 2
        d["P76"] = eV * h
        return d

    @classmethod
    def update(cls, p, d, s, syn, I):
        v, iex, iin, thv, thdv = s["V_m"], s["I_syn_ex"], s["I_syn_in"], s["V_th_v"], s["V_th_dv"]
        i0 = p["I_e"] + I
        thv_new = i0 * d["P70"] + iex * d["P71"] + iin * d["P72"] + v * d["P73"] + thdv * d["P76"] + thv * d["P66"]
        thdv = i0 * d["P60"] + iex * d["P61"] + iin * d["P62"] + v * d["P63"] + thdv * d["P66"]
        v = i0 * d["P30"] + iex * d["P31"] + iin * d["P32"] + v * d["P33"]
        th1 = s["V_th_alpha_1"] * d["P11th"]
        th2 = s["V_th_alpha_2"] * d["P22th"]
        iex = iex * d["P11ex"] + syn[0]
        iin = iin * d["P11in"] + syn[1]
        th1, th2, r, spike = cls._fire(p, d, v, th1, th2, s["refractory_steps"], thv_new)
        return {"V_m": v, "V_th": s["V_th"], "V_th_alpha_1": th1, "V_th_alpha_2": th2, "V_th_v": thv_new,
                "V_th_dv": thdv, "I_syn_ex": iex, "I_syn_in": iin, "refractory_steps": r}, spike
