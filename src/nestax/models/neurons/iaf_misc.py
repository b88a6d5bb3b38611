"""Further NEST neurons of the iaf family and a test neuron (NEST: iaf_psc_exp_htum, ignore_and_fire).

iaf_psc_exp_htum: iaf_psc_exp with separate absolute and total refractory periods (Hill & Tononi).
ignore_and_fire: fires at a fixed rate and phase whatever its input (a benchmark neuron).
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ...errors import BadParameterError
from ..base import Neuron, Param, State
from ..common import SignedRouting, psc_exp_propagators
from ..propagators import refractory_steps
from ..registry import register


@register
class iaf_psc_exp_htum(SignedRouting, Neuron):
    """Leaky integrate-and-fire neuron with exponential PSCs and two refractory periods
    (NEST: iaf_psc_exp_htum).

        dV_m/dt = -(V_m - E_L)/tau_m + (I_syn_ex + I_syn_in + I_e + I_gen)/C_m
        dI_syn_X/dt = -I_syn_X / tau_syn_X;  a spike of weight w (pA) adds w to I_syn_ex (w >= 0) or
        I_syn_in (w < 0)

    After a spike V_m is held at V_reset for the absolute refractory period t_ref_abs; no new spike
    can be emitted during the total refractory period t_ref_tot (>= t_ref_abs), while V_m already
    integrates again. Exact integration. Update of step k (covering (k dt, (k+1) dt]), NEST 3.10:

    1. if the absolute counter is 0: propagate V_m (synaptic currents and input current of the step's
       start); else count it down;
    2. decay I_syn_ex / I_syn_in and add the spike input arriving in this step;
    3. if the total counter is 0: if V_m >= V_th, set both counters (t_ref_abs, t_ref_tot in steps,
       rounded like NEST: to tics, then up to steps), V_m = V_reset, emit a spike stamped (k+1) dt;
       else count the total counter down.
    4. generator current takes NEST's one-step lag (engine).
    A spike arriving at t_a moves I_syn at t_a and V_m from t_a + dt.

    Parameters (NEST defaults):

    ========== ==== ====== =============================================
    E_L        mV   -70    resting potential
    C_m        pF   250    membrane capacitance (> 0)
    tau_m      ms   10     membrane time constant (> 0)
    tau_syn_ex ms   2      excitatory synaptic time constant (> 0)
    tau_syn_in ms   2      inhibitory synaptic time constant (> 0)
    t_ref_abs  ms   2      absolute refractory period (> 0, at least one step, <= t_ref_tot)
    t_ref_tot  ms   2      total refractory period (> 0, at least one step)
    V_th       mV   -55    threshold
    V_reset    mV   -70    reset potential (< V_th)
    I_e        pA   0      constant input current
    ========== ==== ====== =============================================

    Recordables: V_m, I_syn_ex, I_syn_in.
    """

    name = "iaf_psc_exp_htum"
    settable_state = ("V_m",)  # what NEST's SetStatus accepts
    kind = "neuron"
    ports = ("ex", "in")
    weight_unit = "pA"
    parameters = {
        "E_L": Param(-70.0, "mV", "Resting membrane potential"),
        "C_m": Param(250.0, "pF", "Membrane capacitance"),
        "tau_m": Param(10.0, "ms", "Membrane time constant"),
        "tau_syn_ex": Param(2.0, "ms", "Excitatory synaptic time constant"),
        "tau_syn_in": Param(2.0, "ms", "Inhibitory synaptic time constant"),
        "t_ref_abs": Param(2.0, "ms", "Absolute refractory period (V_m clamped)"),
        "t_ref_tot": Param(2.0, "ms", "Total refractory period (no spikes)"),
        "V_th": Param(-55.0, "mV", "Spike threshold"),
        "V_reset": Param(-70.0, "mV", "Reset potential"),
        "I_e": Param(0.0, "pA", "Constant input current"),
    }
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "I_syn_ex": State("pA", 0.0, "Excitatory synaptic current"),
        "I_syn_in": State("pA", 0.0, "Inhibitory synaptic current"),
        "r_abs": State("1", 0, "Absolute refractory steps left"),
        "r_tot": State("1", 0, "Total refractory steps left"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m", "I_syn_ex", "I_syn_in")

    @classmethod
    def check(cls, p):
        cls._reset_below_threshold(p)
        a, t = np.broadcast_arrays(np.asarray(p["t_ref_abs"], float), np.asarray(p["t_ref_tot"], float))
        bad = np.nonzero((a > t).reshape(-1))[0]
        if len(bad):
            i = bad[0]
            raise BadParameterError(
                f"{cls.name}: parameter 't_ref_abs' = {a.reshape(-1)[i]} ms is invalid; expected t_ref_abs <= "
                f"t_ref_tot (that neuron's t_ref_tot = {t.reshape(-1)[i]} ms).")
        cls._positive(p, "C_m", "tau_m", "tau_syn_ex", "tau_syn_in", "t_ref_tot", "t_ref_abs")

    @classmethod
    def observe(cls, p, s, name):
        return s["V_m"] + p["E_L"] if name == "V_m" else s[name]

    @classmethod
    def assign(cls, p, s, name, value):
        return value - p["E_L"] if name == "V_m" else value

    @classmethod
    def prepare(cls, p, dt):
        return {
            **psc_exp_propagators(p, dt),
            "n_abs": refractory_steps(p["t_ref_abs"], dt),
            "n_tot": refractory_steps(p["t_ref_tot"], dt),
        }

    @classmethod
    def update(cls, p, d, s, syn, I):
        v, iex, iin, ra, rt = s["V_m"], s["I_syn_ex"], s["I_syn_in"], s["r_abs"], s["r_tot"]
        free_v = ra == 0
        v_new = v * d["P22"] + iex * d["P21ex"] + iin * d["P21in"] + (p["I_e"] + I) * d["P20"]
        v = jnp.where(free_v, v_new, v)
        ra = jnp.where(free_v, ra, ra - 1)
        iex = iex * d["P11ex"] + syn[0]
        iin = iin * d["P11in"] + syn[1]
        may_fire = rt == 0
        spike = may_fire & (v >= d["theta"])
        ra = jnp.where(spike, d["n_abs"].astype(ra.dtype), ra)
        rt = jnp.where(spike, d["n_tot"].astype(rt.dtype), jnp.where(may_fire, rt, rt - 1))
        v = jnp.where(spike, d["v_reset"], v)
        return {"V_m": v, "I_syn_ex": iex, "I_syn_in": iin, "r_abs": ra, "r_tot": rt}, spike


@register
class ignore_and_fire(Neuron):
    """Neuron firing regularly at ``rate`` with a given ``phase``, ignoring all input (NEST: ignore_and_fire).

    With T = rate period in steps (1000/rate ms rounded like NEST's Time: to tics, then up to steps) and
    the initial countdown P = phase * 1000/rate ms in steps (same rounding), step k does: if the countdown
    is 0, emit a spike stamped (k+1) dt and restart the countdown at T - 1; else count down. So the first
    spike is stamped (P + 1) dt and the following ones every T steps. Like NEST, the countdown is
    recomputed from rate and phase when the neuron's status is set (nestax: in the first step after
    creation or after ``set`` changed rate or phase; NEST also restarts it when they are set to their
    current values). Incoming spikes and currents are accepted and ignored.

    Parameters (NEST defaults): phase (1, 1.0, 0 < phase <= 1), rate (Hz, 10, > 0).
    Recordables: none.
    """

    name = "ignore_and_fire"
    kind = "neuron"
    ports = ("spikes",)
    weight_unit = "pA"
    parameters = {
        "phase": Param(1.0, "1", "Phase of the firing relative to the period (0 < phase <= 1)"),
        "rate": Param(10.0, "1/s", "Firing rate"),
    }
    state = {
        "phase_steps": State("1", -1, "Steps to the next spike"),
        "_rate_used": State("1/s", 0.0, "rate the countdown was computed from (internal)"),
        "_phase_used": State("1", 0.0, "phase the countdown was computed from (internal)"),
    }

    @classmethod
    def recordables(cls):
        return ()

    @classmethod
    def check(cls, p):
        ph = np.asarray(p["phase"], float)
        cls._require(p, "phase", (ph > 0) & (ph <= 1), "a value > 0 and <= 1")
        cls._positive(p, "rate")

    @classmethod
    def prepare(cls, p, dt):
        return {"period": refractory_steps(1.0 / p["rate"] * 1000.0, dt),
                "initial": refractory_steps(p["phase"] / p["rate"] * 1000.0, dt)}

    @classmethod
    def update(cls, p, d, s, syn, I):
        c = s["phase_steps"]
        # new neuron, or rate / phase changed by set: restart the countdown (NEST does so in set_status)
        fresh = (c < 0) | (s["_rate_used"] != p["rate"]) | (s["_phase_used"] != p["phase"])
        c = jnp.where(fresh, d["initial"].astype(c.dtype), c)
        spike = c == 0
        c = jnp.where(spike, d["period"].astype(c.dtype) - 1, c - 1)
        return {"phase_steps": c, "_rate_used": p["rate"] + 0.0 * s["_rate_used"],
                "_phase_used": p["phase"] + 0.0 * s["_phase_used"]}, spike
