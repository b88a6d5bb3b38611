"""Leaky integrate-and-fire neurons with current-based synapses, integrated exactly.

The family mirrors NEST's iaf_psc_delta, iaf_psc_exp and iaf_psc_alpha: the subthreshold dynamics
are linear, so each step applies precomputed propagators (exact for any dt) instead of an ODE
solver. Internally V_m is held relative to E_L, as NEST does; it is reported absolute.

Common timing (NEST 3.10), step k integrates (k*dt, (k+1)*dt]:
1. if not refractory, propagate V_m with the synaptic currents and the input current of this step;
   otherwise count the refractory period down;
2. propagate the synaptic currents and add the spike input arriving in this step;
3. if V_m >= V_th: V_m = V_reset, refractory for t_ref/dt steps, emit a spike stamped (k+1)*dt.
   As in NEST, t_ref is first rounded to the 0.001 ms time base and then UP to whole steps
   (t_ref = 0.21 ms at dt = 0.1 ms gives 3 steps); V_m stays at V_reset for the spike stamp plus
   that many samples.
Generator current reaches V_m with NEST's one-step lag, handled by the engine.

Weights: psc models take pA (positive -> excitatory port, negative -> inhibitory port);
iaf_psc_delta takes mV (the jump of V_m).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..base import Neuron, Param, State
from ..common import OnePortRouting, SignedRouting, psc_exp_propagators
from ..propagators import leak_to_v, psc_alpha_to_v, psc_exp_to_v, refractory_steps
from ..registry import register
from ..surrogate import EXACT

_COMMON = {
    "E_L": Param(-70.0, "mV", "Resting membrane potential"),
    "C_m": Param(250.0, "pF", "Membrane capacitance"),
    "tau_m": Param(10.0, "ms", "Membrane time constant"),
    "t_ref": Param(2.0, "ms", "Duration of the refractory period"),
    "V_th": Param(-55.0, "mV", "Spike threshold"),
    "V_reset": Param(-70.0, "mV", "Reset potential"),
    "I_e": Param(0.0, "pA", "Constant input current"),
}


class _IafPscBase(SignedRouting, Neuron):
    kind = "neuron"
    params_once = True  # exact integration: the same numbers with block-shared parameters passed once
    settable_state = ("V_m",)  # what NEST's SetStatus accepts
    ports = ("ex", "in")

    @classmethod
    def check(cls, p):
        cls._positive(p, "C_m", "tau_m")
        cls._nonnegative(p, "t_ref")
        for n in ("tau_syn_ex", "tau_syn_in"):
            if n in p:
                cls._positive(p, n)
        cls._reset_below_threshold(p)

    # V_m is stored relative to E_L; these map it to and from the absolute value users see.
    @classmethod
    def observe(cls, p, s, name):
        if name == "V_m":
            return s["V_m"] + p["E_L"]
        return s[name]

    @classmethod
    def assign(cls, p, s, name, value):
        return value - p["E_L"] if name == "V_m" else value


@register
class iaf_psc_delta(OnePortRouting, _IafPscBase):
    """Leaky integrate-and-fire neuron with delta-shaped synaptic input (NEST: iaf_psc_delta).

    dV_m/dt = -(V_m - E_L)/tau_m + (I_e + I_gen)/C_m, and each incoming spike of weight w (mV) makes
    V_m jump by w at its arrival time. V_m is clamped below at V_min.

    Spikes arriving while refractory are dropped, unless ``refractory_input`` is True: then they are
    summed, each discounted by exp(-r*dt/tau_m) for the r steps of refractoriness still left, and added
    to V_m in the first step after the refractory period.

    Parameters: E_L (mV, -70), C_m (pF, 250, > 0), tau_m (ms, 10, > 0), t_ref (ms, 2, >= 0),
    V_th (mV, -55), V_reset (mV, -70, < V_th), I_e (pA, 0), V_min (mV, -1.797e308 = -DBL_MAX, as NEST),
    refractory_input (bool, False).
    Recordables: V_m.
    """

    name = "iaf_psc_delta"
    differentiable = True  # update(threshold=...): surrogate spikes (models/surrogate.py)
    ports = ("spikes",)
    weight_unit = "mV"
    parameters = {
        **_COMMON,
        "V_min": Param(-np.finfo(float).max, "mV", "Lower bound of V_m (NEST: -DBL_MAX)"),
        "refractory_input": Param(False, "1", "Keep spikes arriving during refractoriness", "bool"),
    }
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
        "refr_spikes_buffer": State("mV", 0.0, "Input kept during refractoriness"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m",)

    @classmethod
    def prepare(cls, p, dt):
        return {
            "P33": jnp.exp(-dt / p["tau_m"]),
            "P30": leak_to_v(p["tau_m"], p["C_m"], dt),
            "theta": p["V_th"] - p["E_L"],
            "v_reset": p["V_reset"] - p["E_L"],
            "v_min": p["V_min"] - p["E_L"],
            "ref_counts": refractory_steps(p["t_ref"], dt),
            "dt": dt,
        }

    @classmethod
    def update(cls, p, d, s, syn, I, threshold=EXACT):
        v, r, buf = s["V_m"], s["refractory_steps"], s["refr_spikes_buffer"]
        w = syn[0]
        free = r == 0
        keep = p["refractory_input"].astype(bool)
        v_free = d["P30"] * (I + p["I_e"]) + d["P33"] * v + w + jnp.where(keep, buf, 0.0)
        v_free = jnp.maximum(v_free, d["v_min"])
        # (the discount, an exp per neuron, is computed only when some neuron keeps refractory input)
        held = jax.lax.cond(jnp.any(keep), lambda: buf + w * jnp.exp(-r * d["dt"] / p["tau_m"]), lambda: buf)
        buf = jnp.where(free, jnp.where(keep, 0.0, buf), jnp.where(keep, held, buf))
        v = jnp.where(free, v_free, v)
        r = jnp.where(free, r, r - 1)
        spike = threshold.spike(v, d["theta"])
        v = threshold.reset(spike, d["v_reset"], v)
        r = jnp.where(spike, d["ref_counts"], r)
        return {"V_m": v, "refractory_steps": r, "refr_spikes_buffer": buf}, spike


@register
class iaf_psc_exp(_IafPscBase):
    """Leaky integrate-and-fire neuron with exponential post-synaptic currents (NEST: iaf_psc_exp).

    dV_m/dt = -(V_m - E_L)/tau_m + (I_syn_ex + I_syn_in + I_e + I_gen)/C_m
    dI_syn_X/dt = -I_syn_X/tau_syn_X, and a spike of weight w (pA) makes I_syn_X jump by w.

    Exact integration; the tau_m == tau_syn case uses the analytic limit.
    A spike arriving at t_a changes I_syn at t_a and V_m from t_a + dt.

    Escape noise, as in NEST: with delta > 1e-10 mV the neuron fires when a uniform number is below
    phi dt 1e-3, phi = rho exp((V_m - V_th)/delta) (1/s), tested every step (also while refractory,
    as in NEST); with delta = 0 (default) the threshold is deterministic and no number is drawn.

    Current input, as in NEST: receptor_type 0 (default) is a step current entering dV_m/dt
    (I_gen); receptor_type 1 is filtered by the excitatory synapse: each step
    I_syn_ex <- P11ex I_syn_ex + (1 - P11ex) I_1 + spikes, with I_1 the receptor-1 current, lagging
    one step like I_gen. I_syn_ex then includes that current (NEST warns about the same). Spikes
    connect on receptor 0 only.

    Parameters: E_L (mV, -70), C_m (pF, 250, > 0), tau_m (ms, 10, > 0), tau_syn_ex (ms, 2, > 0),
    tau_syn_in (ms, 2, > 0), t_ref (ms, 2, >= 0), V_th (mV, -55), V_reset (mV, -70, < V_th),
    I_e (pA, 0).
    Recordables: V_m, I_syn_ex, I_syn_in.
    """

    name = "iaf_psc_exp"
    differentiable = True  # update(threshold=...): surrogate spikes (models/surrogate.py)
    weight_unit = "pA"
    ports = ("ex", "in", "I_1")
    current_ports = {1: "I_1"}
    stochastic = True  # only with delta > 0

    @classmethod
    def draws(cls, p) -> bool:
        """Escape noise only where delta > 1e-10 mV (else the draw is not used)."""
        return bool(np.any(np.asarray(p["delta"]) > 1e-10))
    parameters = {
        **_COMMON,
        "tau_syn_ex": Param(2.0, "ms", "Excitatory synaptic time constant"),
        "tau_syn_in": Param(2.0, "ms", "Inhibitory synaptic time constant"),
        "rho": Param(0.01, "1/s", "Escape rate at threshold (used when delta > 0)"),
        "delta": Param(0.0, "mV", "Width of the escape-noise threshold region (0: deterministic)"),
    }
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "I_syn_ex": State("pA", 0.0, "Excitatory synaptic current"),
        "I_syn_in": State("pA", 0.0, "Inhibitory synaptic current"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m", "I_syn_ex", "I_syn_in")

    @classmethod
    def prepare(cls, p, dt):
        return {
            **psc_exp_propagators(p, dt),
            "ref_counts": refractory_steps(p["t_ref"], dt),
            "dt": dt,
        }

    @classmethod
    def check(cls, p):
        super().check(p)
        cls._nonnegative(p, "rho", "delta")

    @classmethod
    def update(cls, p, d, s, syn, I, key, threshold=EXACT):
        v, iex, iin, r = s["V_m"], s["I_syn_ex"], s["I_syn_in"], s["refractory_steps"]
        free = r == 0
        v_new = v * d["P22"] + (p["I_e"] + I) * d["P20"] + iex * d["P21ex"] + iin * d["P21in"]
        v = jnp.where(free, v_new, v)
        r = jnp.where(free, r, r - 1)
        iex = iex * d["P11ex"] + (1.0 - d["P11ex"]) * syn[2] + syn[0]
        iin = iin * d["P11in"] + syn[1]
        stoch = p["delta"] > 1e-10

        def escape():
            phi = p["rho"] * jnp.exp(1.0 / jnp.where(stoch, p["delta"], 1.0) * (v - d["theta"]))
            return jax.random.uniform(key, v.shape, dtype=v.dtype) < phi * d["dt"] * 1e-3
        escaped = jax.lax.cond(jnp.any(stoch), escape, lambda: jnp.zeros(v.shape, bool))
        spike = jnp.where(stoch, escaped, threshold.spike(v, d["theta"]))
        v = threshold.reset(spike, d["v_reset"], v)
        r = jnp.where(spike, d["ref_counts"], r)
        return {"V_m": v, "I_syn_ex": iex, "I_syn_in": iin, "refractory_steps": r}, spike


@register
class iaf_psc_alpha(_IafPscBase):
    """Leaky integrate-and-fire neuron with alpha-shaped post-synaptic currents (NEST: iaf_psc_alpha).

    dV_m/dt = -(V_m - E_L)/tau_m + (I_syn_ex + I_syn_in + I_e + I_gen)/C_m, V_m >= V_min.
    A spike of weight w (pA) adds the current w * (t/tau_syn) * exp(1 - t/tau_syn): it peaks at w
    after tau_syn. Exact integration; like NEST, the alpha-kernel propagator switches to its
    tau_syn -> tau_m limit whenever dt * |tau_m - tau_syn| <= 1e-7 tau_m**2 (a relative change below 1e-7,
    but visible at 1e-9 mV), see :func:`nestax.models.propagators.psc_alpha_to_v`.
    A spike arriving at t_a changes I_syn and V_m from t_a + dt.

    Parameters: E_L (mV, -70), C_m (pF, 250, > 0), tau_m (ms, 10, > 0), tau_syn_ex (ms, 2, > 0),
    tau_syn_in (ms, 2, > 0), t_ref (ms, 2, >= 0), V_th (mV, -55), V_reset (mV, -70, < V_th),
    I_e (pA, 0), V_min (mV, -inf).
    Recordables: V_m, I_syn_ex, I_syn_in.
    """

    name = "iaf_psc_alpha"
    differentiable = True  # update(threshold=...): surrogate spikes (models/surrogate.py)
    weight_unit = "pA"
    parameters = {
        **_COMMON,
        "tau_syn_ex": Param(2.0, "ms", "Excitatory synaptic time constant"),
        "tau_syn_in": Param(2.0, "ms", "Inhibitory synaptic time constant"),
        "V_min": Param(-np.inf, "mV", "Lower bound of V_m"),
    }
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "I_syn_ex": State("pA", 0.0, "Excitatory synaptic current"),
        "I_syn_in": State("pA", 0.0, "Inhibitory synaptic current"),
        "dI_syn_ex": State("pA/ms", 0.0, "Derivative state of the excitatory alpha current"),
        "dI_syn_in": State("pA/ms", 0.0, "Derivative state of the inhibitory alpha current"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m", "I_syn_ex", "I_syn_in")

    @classmethod
    def prepare(cls, p, dt):
        d = {
            "P30": leak_to_v(p["tau_m"], p["C_m"], dt),
            "expm1_m": jnp.expm1(-dt / p["tau_m"]),
            "theta": p["V_th"] - p["E_L"],
            "v_reset": p["V_reset"] - p["E_L"],
            "v_min": p["V_min"] - p["E_L"],
            "ref_counts": refractory_steps(p["t_ref"], dt),
        }
        for x in ("ex", "in"):
            tau = p["tau_syn_" + x]
            e = jnp.exp(-dt / tau)
            d["P11" + x] = e
            d["P21" + x] = dt * e
            d["P31" + x] = psc_alpha_to_v(tau, p["tau_m"], p["C_m"], dt)
            d["P32" + x] = psc_exp_to_v(tau, p["tau_m"], p["C_m"], dt)
            d["psc0" + x] = np.e / tau
        return d

    @classmethod
    def update(cls, p, d, s, syn, I, threshold=EXACT):
        v, r = s["V_m"], s["refractory_steps"]
        iex, din_ex = s["I_syn_ex"], s["dI_syn_ex"]
        iin, din_in = s["I_syn_in"], s["dI_syn_in"]
        free = r == 0
        v_new = (d["P30"] * (I + p["I_e"]) + d["P31ex"] * din_ex + d["P32ex"] * iex
                 + d["P31in"] * din_in + d["P32in"] * iin + d["expm1_m"] * v + v)
        v_new = jnp.maximum(v_new, d["v_min"])
        v = jnp.where(free, v_new, v)
        r = jnp.where(free, r, r - 1)
        iex = d["P21ex"] * din_ex + d["P11ex"] * iex
        din_ex = din_ex * d["P11ex"] + d["psc0ex"] * syn[0]
        iin = d["P21in"] * din_in + d["P11in"] * iin
        din_in = din_in * d["P11in"] + d["psc0in"] * syn[1]
        spike = threshold.spike(v, d["theta"])
        v = threshold.reset(spike, d["v_reset"], v)
        r = jnp.where(spike, d["ref_counts"], r)
        return {"V_m": v, "I_syn_ex": iex, "I_syn_in": iin, "dI_syn_ex": din_ex,
                "dI_syn_in": din_in, "refractory_steps": r}, spike
