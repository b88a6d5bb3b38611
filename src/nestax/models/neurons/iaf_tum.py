"""Leaky integrate-and-fire neuron carrying its own Tsodyks-Markram short-term plasticity state
(NEST: iaf_tum_2000; Tsodyks, Uziel & Markram 2000).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ...errors import BadParameterError
from ..base import Neuron, Param, State
from ..common import psc_exp_propagators, route_by_sign
from ..propagators import refractory_steps
from ..registry import register
from .iaf_psc import _COMMON as _IAF_COMMON
from .iaf_psc import iaf_psc_exp as _iaf_psc_exp


@register
class iaf_tum_2000(Neuron):
    """iaf_psc_exp neuron whose spikes carry Tsodyks-Markram short-term plasticity (NEST: iaf_tum_2000).

    Membrane (V_m relative to E_L inside, absolute outside), exact integration:

        dV_m/dt = -(V_m - E_L)/tau_m + (I_syn_ex + I_syn_in + I_e + I_gen)/C_m
        dI_syn_X/dt = -I_syn_X / tau_syn_X;  a spike of weight w (pA) adds w to I_syn_ex (w > 0) or to
        I_syn_in (w <= 0)

    Short-term plasticity of the neuron's OUTGOING spikes (state x, y, u, z = 1 - x - y): at each own
    spike, with h the time since the previous own spike (since t = 0 for the first), in this order:
    u *= exp(-h/tau_fac) (0 if tau_fac = 0); x += Pxy y - expm1(-h/tau_rec) z; y *= exp(-h/tau_psc);
    u += U (1 - u); then x -= u x, y += u x. NEST sends u x with the spike; a target connected with
    receptor_type 1 multiplies the weight by it.

    Update of step k, covering (k dt, (k+1) dt] (NEST 3.10):

    1. if not refractory: V_m <- P22 V_m + P21ex I_syn_ex + P21in I_syn_in + P20 (I_e + I_gen);
       else count the refractory steps down;
    2. decay I_syn_ex, I_syn_in; add the spike input of this step (I_syn jumps at t_a, V_m moves from
       t_a + dt);
    3. spike if (delta < 1e-10 and V_m >= V_th) or (delta > 1e-10 and a uniform u < phi dt 1e-3,
       phi = rho exp((V_m - V_th)/delta) in 1/s; this stochastic test is made also during the
       refractory period, as in NEST): refractory for t_ref (NEST's rounding to steps), V_m = V_reset,
       plasticity update above, spike stamped (k+1) dt;
    4. generator current with NEST's one-step lag (engine).

    receptor_type 1, as in NEST: a spike arriving there is scaled by the sender's u x of that spike
    (the engine carries it with the spike; only iaf_tum_2000 senders have it: NEST multiplies the
    spikes of other neurons by 0 there, nestax refuses them at connect), then goes to I_syn_ex or
    I_syn_in by the sign of the product. A current on receptor 1 is filtered by the excitatory
    synapse: I_syn_ex <- P11ex I_syn_ex + (1 - P11ex) I_1 + spikes, as in iaf_psc_exp.

    Parameters (NEST defaults):

    ========== ==== ====== =================================================
    E_L        mV   -70    resting potential
    C_m        pF   250    membrane capacitance (> 0)
    tau_m      ms   10     membrane time constant (> 0)
    tau_syn_ex ms   2      excitatory synaptic time constant (> 0)
    tau_syn_in ms   2      inhibitory synaptic time constant (> 0)
    t_ref      ms   2      refractory period (>= 0)
    V_th       mV   -55    threshold
    V_reset    mV   -70    reset potential (< V_th)
    I_e        pA   0      constant input current
    rho        1/s  0.01   stochastic firing intensity at threshold (>= 0)
    delta      mV   0      width of the threshold region (>= 0; 0: deterministic threshold)
    tau_fac    ms   1000   facilitation time constant (>= 0)
    tau_psc    ms   2      time constant of y (> 0)
    tau_rec    ms   400    recovery time constant (> 0)
    U          1    0.5    utilisation increment (in [0, 1])
    ========== ==== ====== =================================================

    State: V_m, I_syn_ex, I_syn_in (recordables), x, y, u (plasticity, readable and settable).
    """

    name = "iaf_tum_2000"
    settable_state = ("V_m", "x", "y", "u")  # what NEST's SetStatus accepts
    kind = "neuron"
    stochastic = True
    ports = ("ex", "in", "I_1")
    current_ports = {1: "I_1"}
    payload_receptors = (1,)   # spikes on receptor 1 carry the sender's u x
    payload_state = "_offset"  # what this model's spikes carry: u x of its last spike
    payload_doc = "u x"
    payload_exclusive = True   # NEST: iaf_tum_2000 neurons connect to each other on receptor 1 only
    weight_unit = "pA"
    parameters = {
        **_IAF_COMMON,  # E_L, C_m, tau_m, t_ref, V_th, V_reset, I_e as iaf_psc_exp
        "tau_syn_ex": _iaf_psc_exp.parameters["tau_syn_ex"],
        "tau_syn_in": _iaf_psc_exp.parameters["tau_syn_in"],
        "rho": Param(0.01, "1/s", "Stochastic firing intensity at threshold"),
        "delta": Param(0.0, "mV", "Width of the threshold region"),
        "tau_fac": Param(1000.0, "ms", "Facilitation time constant"),
        "tau_psc": Param(2.0, "ms", "Time constant of the active resources y"),
        "tau_rec": Param(400.0, "ms", "Recovery time constant"),
        "U": Param(0.5, "1", "Utilisation increment"),
    }
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "I_syn_ex": State("pA", 0.0, "Excitatory synaptic current"),
        "I_syn_in": State("pA", 0.0, "Inhibitory synaptic current"),
        "x": State("1", 0.0, "Available resources"),
        "y": State("1", 0.0, "Active resources"),
        "u": State("1", 0.0, "Utilisation"),
        "r": State("1", 0, "Refractory steps left"),
        "_k": State("1", 0, "Steps run so far (internal)"),
        "_k_last": State("1", 0, "Stamp (steps) of the last own spike, 0 if none (internal)"),
        "_offset": State("1", 0.0, "u x of the last own spike, sent with it (internal)"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m", "I_syn_ex", "I_syn_in")

    @classmethod
    def check(cls, p):
        cls._reset_below_threshold(p)
        cls._positive(p, "C_m", "tau_m", "tau_syn_ex", "tau_syn_in", "tau_psc", "tau_rec")
        cls._nonnegative(p, "tau_fac", "t_ref", "rho", "delta")
        U = np.asarray(p["U"], float)
        cls._require(p, "U", (U >= 0) & (U <= 1), "a value in [0, 1]")

    @classmethod
    def observe(cls, p, s, name):
        return s["V_m"] + p["E_L"] if name == "V_m" else s[name]

    @classmethod
    def assign(cls, p, s, name, value):
        if name == "u":
            v = np.asarray(value, float)
            if np.any((v < 0) | (v > 1)):
                raise BadParameterError(f"{cls.name}: state 'u' = {v[(v < 0) | (v > 1)][0]} is invalid; "
                                        f"expected a value in [0, 1].")
        if name == "y" and "x" in s:
            tot = np.asarray(s["x"], float) + np.asarray(value, float)
            if np.any(tot > 1.0):
                raise BadParameterError(f"{cls.name}: state 'x' + 'y' = {tot[tot > 1][0]} is invalid; "
                                        f"expected x + y <= 1.")
        return value - p["E_L"] if name == "V_m" else value

    @classmethod
    def receptor_range(cls, p):
        return (0, 1)

    @classmethod
    def route(cls, weights, receptor_type):
        # receptor 0 and 1 alike: NEST routes w (times u x on receptor 1, which is >= 0) by sign
        return route_by_sign(weights)

    @classmethod
    def prepare(cls, p, dt):
        d = psc_exp_propagators(p, dt)
        # NEST's iaf_tum_2000 computes P20 as tau_m/C_m (1 - P22), not with expm1 as iaf_psc_exp: the
        # last bits differ, and a drive tuned to reach V_th exactly (NEST's iaf_tum_2000 examples) fires
        # a step later or earlier with the other form
        d["P20"] = p["tau_m"] / p["C_m"] * (1.0 - d["P22"])
        return {
            **d,
            "n_ref": refractory_steps(p["t_ref"], dt),
            "dt": dt,
            "tps": float(int(round(dt * 1000))),
        }

    @classmethod
    def update(cls, p, d, s, syn, I, key):
        v, iex, iin, r = s["V_m"], s["I_syn_ex"], s["I_syn_in"], s["r"]
        free = r == 0
        v_new = v * d["P22"] + iex * d["P21ex"] + iin * d["P21in"] + (p["I_e"] + I) * d["P20"]
        v = jnp.where(free, v_new, v)
        r = jnp.where(free, r, r - 1)
        iex = iex * d["P11ex"] + (1.0 - d["P11ex"]) * syn[2] + syn[0]
        iin = iin * d["P11in"] + syn[1]
        stoch = p["delta"] > 1e-10
        phi = p["rho"] * jnp.exp(1.0 / jnp.where(stoch, p["delta"], 1.0) * (v - d["theta"]))
        draw = jax.random.uniform(key, v.shape, dtype=v.dtype)
        spike = jnp.where(stoch, draw < phi * d["dt"] * 1e-3, v >= d["theta"])
        r = jnp.where(spike, d["n_ref"].astype(r.dtype), r)
        v = jnp.where(spike, d["v_reset"], v)
        # outgoing short-term plasticity, propagated from the last own spike to this one
        k1 = s["_k"] + 1
        t_spike = (k1 * d["tps"]) / 1000.0
        t_last = (s["_k_last"] * d["tps"]) / 1000.0
        h = t_spike - t_last
        puu = jnp.where(p["tau_fac"] == 0.0, 0.0, jnp.exp(-h / jnp.where(p["tau_fac"] == 0.0, 1.0, p["tau_fac"])))
        pyy = jnp.exp(-h / p["tau_psc"])
        pzz = jnp.expm1(-h / p["tau_rec"])
        pxy = (pzz * p["tau_rec"] - (pyy - 1.0) * p["tau_psc"]) / (p["tau_psc"] - p["tau_rec"])
        x, y, u = s["x"], s["y"], s["u"]
        z = 1.0 - x - y
        u2 = u * puu
        x2 = x + (pxy * y - pzz * z)
        y2 = y * pyy
        u2 = u2 + p["U"] * (1.0 - u2)
        dy = u2 * x2
        x2, y2 = x2 - dy, y2 + dy
        x, y, u = jnp.where(spike, x2, x), jnp.where(spike, y2, y), jnp.where(spike, u2, u)
        k_last = jnp.where(spike, k1.astype(s["_k_last"].dtype), s["_k_last"])
        return {**s, "V_m": v, "I_syn_ex": iex, "I_syn_in": iin, "r": r, "x": x, "y": y, "u": u,
                "_k": k1.astype(s["_k"].dtype), "_k_last": k_last,
                "_offset": jnp.where(spike, dy, s["_offset"])}, spike
