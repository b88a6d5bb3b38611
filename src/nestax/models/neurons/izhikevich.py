"""Izhikevich (2003) neuron (NEST: izhikevich), integrated with NEST's forward Euler scheme.

    dV_m/dt = 0.04 V_m**2 + 5 V_m + 140 - U_m + I_e + I_gen
    dU_m/dt = a (b V_m - U_m)
    if V_m >= V_th:  V_m <- c,  U_m <- U_m + d

The model is dimensionless in the sense that NEST adds every quantity as a plain number: a spike of
weight w makes V_m jump by w (in mV) in the step it arrives, and a current (I_e, generator current in
pA) enters dV_m/dt as a number of mV/ms. There is no refractory period.
"""
from __future__ import annotations

import sys

import jax.numpy as jnp

from ..base import Neuron, Param, State
from ..registry import register


@register
class izhikevich(Neuron):
    """Izhikevich neuron with forward-Euler integration (NEST: izhikevich).

    Equations (h = dt; all quantities plain numbers, V_m and U_m read as mV):

        dV_m/dt = 0.04 V_m^2 + 5 V_m + 140 - U_m + I_e + I_gen
        dU_m/dt = a (b V_m - U_m)
        spike when V_m >= V_th:  V_m <- c,  U_m <- U_m + d

    Update of step k (covering (k dt, (k+1) dt]), as in NEST 3.10:

    1. ``consistent_integration = True`` (default): one forward-Euler step from the old values,
       V' = V + h (0.04 V^2 + 5 V + 140 - U + I + I_e) + w,  U' = U + h a (b V - U),
       where w is the summed weight of the spikes arriving in this step.
       ``consistent_integration = False`` (the scheme published by Izhikevich 2003, meant for
       h = 1 ms): two half steps for V, each V += h/2 (0.04 V^2 + 5 V + 140 - U + I + I_e + w),
       then U += h a (b V_new - U) with the NEW V. Spike input then enters through the derivative
       (scaled by h), not as a jump.
    2. V_m = max(V_m, V_min).
    3. if V_m >= V_th: V_m = c, U_m += d, emit a spike stamped (k+1) dt. No refractoriness.
    4. The generator current I takes NEST's one-step lag (handled by the engine).

    So a spike arriving at t_a moves V_m at t_a (like iaf_psc_delta); a neuron starting at
    V_m >= V_th fires at dt only if the Euler step keeps it there.

    Parameters (NEST defaults):

    ======================== ====== ============ ==========================================
    a                        1      0.02         time scale of U_m (1/ms)
    b                        1      0.2          sensitivity of U_m to V_m
    c                        mV     -65          reset value of V_m
    d                        mV     8            increment of U_m at a spike
    I_e                      pA     0            constant input (added to dV_m/dt as a number)
    V_th                     mV     30           spike threshold
    V_min                    mV     -1.797e308   lower bound of V_m (-DBL_MAX)
    consistent_integration   bool   True         forward Euler (True) or the 2003 scheme
    ======================== ====== ============ ==========================================

    State / recordables: V_m (mV, initially -65), U_m (mV, initially -13 = 0.2 * -65; NEST keeps this
    fixed initial value whatever b is). Weights in mV (a bare number is read as mV; a quantity of
    another dimension, e.g. pA, is refused at connect), added to V_m.
    NEST checks no parameter of this model; nestax does not either.
    """

    name = "izhikevich"
    kind = "neuron"
    ports = ("spikes",)
    weight_unit = "mV"  # a spike moves V_m by its weight; a bare number is read as mV
    parameters = {
        "a": Param(0.02, "1", "Time scale of the recovery variable U_m"),
        "b": Param(0.2, "1", "Sensitivity of U_m to V_m"),
        "c": Param(-65.0, "mV", "Reset value of V_m after a spike"),
        "d": Param(8.0, "mV", "Increment of U_m after a spike"),
        "I_e": Param(0.0, "pA", "Constant input current"),
        "V_th": Param(30.0, "mV", "Spike threshold"),
        "V_min": Param(-sys.float_info.max, "mV", "Lower bound of V_m"),
        "consistent_integration": Param(True, "1", "Forward Euler (True) or Izhikevich's 2003 scheme", "bool"),
    }
    state = {
        "V_m": State("mV", -65.0, "Membrane potential"),
        "U_m": State("mV", -13.0, "Membrane recovery variable"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m", "U_m")

    @classmethod
    def prepare(cls, p, dt):
        return {"h": dt}

    @classmethod
    def update(cls, p, d, s, syn, I):
        h = d["h"]
        v, um = s["V_m"], s["U_m"]
        w = syn[0]
        # consistent integration: forward Euler from the old values, spikes as a jump
        v_c = v + (h * (0.04 * v * v + 5.0 * v + 140.0 - um + I + p["I_e"]) + w)
        u_c = um + h * p["a"] * (p["b"] * v - um)
        # Izhikevich (2003): two half steps for V (spikes inside the derivative), U from the new V
        v1 = v + h * 0.5 * (0.04 * v * v + 5.0 * v + 140.0 - um + I + p["I_e"] + w)
        v2 = v1 + h * 0.5 * (0.04 * v1 * v1 + 5.0 * v1 + 140.0 - um + I + p["I_e"] + w)
        u2 = um + h * p["a"] * (p["b"] * v2 - um)
        consistent = p["consistent_integration"].astype(bool)
        v = jnp.where(consistent, v_c, v2)
        um = jnp.where(consistent, u_c, u2)
        v = jnp.where(v < p["V_min"], p["V_min"], v)
        spike = v >= p["V_th"]
        v = jnp.where(spike, p["c"], v)
        um = jnp.where(spike, um + p["d"], um)
        return {"V_m": v, "U_m": um}, spike
