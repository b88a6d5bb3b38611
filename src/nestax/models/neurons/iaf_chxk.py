"""Conductance-based integrate-and-fire neuron with an after-hyperpolarising conductance
(NEST: iaf_chxk_2008; Casti et al. 2008).
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..base import Neuron, Param, State
from ..common import ConductanceRouting
from ..integrators import rkf45_evolve
from ..registry import register


@register
class iaf_chxk_2008(ConductanceRouting, Neuron):
    """Conductance-based leaky integrate-and-fire neuron with alpha-shaped synaptic and AHP conductances
    and no reset (NEST: iaf_chxk_2008).

        C_m dV_m/dt = -g_L (V_m - E_L) - g_ex (V_m - E_ex) - g_in (V_m - E_in) - g_ahp (V_m - E_ahp)
                      + I_e + I_gen
        d(dg_X)/dt = -dg_X / tau_X,  dg_X/dt = dg_X - g_X / tau_X   (X = ex, in, ahp)

    A spike of weight w (nS) adds |w| e / tau_syn to dg_ex (w > 0) or dg_in (w <= 0): g follows an alpha
    function peaking at |w|. Integrated per step with NEST's adaptive RKF45 (GSL rkf45, absolute error
    1e-3, relative 0, step size carried across steps).

    Update of step k, covering (k dt, (k+1) dt] (NEST 3.10):

    1. integrate the ODE over the step (input current of the previous step: one-step lag, engine);
    2. a spike is emitted only on an upward crossing: V_m(start) < V_th <= V_m(end). V_m is NOT reset
       and there is no refractory period. The crossing time is interpolated linearly; with
       delta = dt (V_m(end) - V_th)/(V_m(end) - V_m(start)) the time from the crossing to the step's end,
       the AHP alpha function kicked off at the crossing is added as its value at the step's end:
       dg_ahp += g_ahp e / tau_ahp exp(-delta / tau_ahp), g_ahp += (that increment) * delta
       (with ahp_bug = True these replace the old values: Casti et al.'s Fortran bug);
       the spike is stamped (k+1) dt;
    3. add this step's spike input to dg_ex / dg_in (g and V_m move from t_a + dt).

    NEST sends delta as the spike's precise-time offset, so NEST's spike_recorder reports
    (k+1) dt - delta; nestax reports the grid stamp (k+1) dt.

    Parameters (NEST defaults):

    ========== ==== ====== ==========================================
    V_th       mV   -45    threshold
    g_L        nS   100    leak conductance
    C_m        pF   1000   membrane capacitance (> 0)
    E_ex       mV   20     excitatory reversal potential
    E_in       mV   -90    inhibitory reversal potential
    E_L        mV   -60    leak reversal potential
    tau_syn_ex ms   1      excitatory alpha time constant (> 0)
    tau_syn_in ms   1      inhibitory alpha time constant (> 0)
    I_e        pA   0      constant input current
    tau_ahp    ms   0.5    AHP alpha time constant (> 0)
    g_ahp      nS   443.8  AHP conductance peak
    E_ahp      mV   -95    AHP reversal potential
    ahp_bug    bool False  reproduce the original implementation's bug
    ========== ==== ====== ==========================================

    State: V_m, g_ex, dg_ex, g_in, dg_in, G_ahp, dG_ahp (the AHP conductance is held as G_ahp because
    NEST's parameter g_ahp is its peak; the recordable g_ahp reads G_ahp).
    Recordables: V_m, g_ex, g_in, g_ahp, I_syn_ex = g_ex (V_m - E_ex), I_syn_in = g_in (V_m - E_in),
    I_ahp = g_ahp (V_m - E_ahp).
    """

    name = "iaf_chxk_2008"
    settable_state = ("V_m",)  # NEST's SetStatus accepts V_m (g_ahp is the parameter, the AHP peak)
    kind = "neuron"
    ports = ("ex", "in")
    weight_unit = "nS"
    parameters = {
        "V_th": Param(-45.0, "mV", "Spike threshold"),
        "g_L": Param(100.0, "nS", "Leak conductance"),
        "C_m": Param(1000.0, "pF", "Membrane capacitance"),
        "E_ex": Param(20.0, "mV", "Excitatory reversal potential"),
        "E_in": Param(-90.0, "mV", "Inhibitory reversal potential"),
        "E_L": Param(-60.0, "mV", "Leak reversal potential"),
        "tau_syn_ex": Param(1.0, "ms", "Excitatory synaptic time constant"),
        "tau_syn_in": Param(1.0, "ms", "Inhibitory synaptic time constant"),
        "I_e": Param(0.0, "pA", "Constant input current"),
        "tau_ahp": Param(0.5, "ms", "AHP time constant"),
        "g_ahp": Param(443.8, "nS", "AHP conductance peak"),
        "E_ahp": Param(-95.0, "mV", "AHP reversal potential"),
        "ahp_bug": Param(False, "1", "Keep only the most recent AHP (original implementation's bug)", "bool"),
    }
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "dg_ex": State("nS/ms", 0.0, "Derivative state of g_ex"),
        "g_ex": State("nS", 0.0, "Excitatory conductance"),
        "dg_in": State("nS/ms", 0.0, "Derivative state of g_in"),
        "g_in": State("nS", 0.0, "Inhibitory conductance"),
        "dG_ahp": State("nS/ms", 0.0, "Derivative state of the AHP conductance"),
        "G_ahp": State("nS", 0.0, "AHP conductance (recorded as g_ahp; NEST's parameter g_ahp is its peak)"),
        "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m", "g_ex", "g_in", "g_ahp", "I_syn_ex", "I_syn_in", "I_ahp")

    @classmethod
    def observe(cls, p, s, name):
        v = s["V_m"]
        if name == "g_ahp":
            return s["G_ahp"]
        if name == "I_syn_ex":
            return s["g_ex"] * (v - p["E_ex"])
        if name == "I_syn_in":
            return s["g_in"] * (v - p["E_in"])
        if name == "I_ahp":
            return s["G_ahp"] * (v - p["E_ahp"])
        return s[name]

    @classmethod
    def check(cls, p):
        cls._positive(p, "C_m", "tau_syn_ex", "tau_syn_in", "tau_ahp")

    @classmethod
    def prepare(cls, p, dt):
        return {"dt": dt, "psc_ex": 1.0 * np.e / p["tau_syn_ex"], "psc_in": 1.0 * np.e / p["tau_syn_in"],
                "psc_ahp": p["g_ahp"] * np.e / p["tau_ahp"]}

    @staticmethod
    def _rhs(p, y, I):
        # y = (V_m, dg_ex, g_ex, dg_in, g_in, dg_ahp, g_ahp), NEST's state vector order
        v = y[0]
        i_ex = y[2] * (v - p["E_ex"])
        i_in = y[4] * (v - p["E_in"])
        i_ahp = y[6] * (v - p["E_ahp"])
        i_l = p["g_L"] * (v - p["E_L"])
        dv = (-i_l - i_ex - i_in - i_ahp + I + p["I_e"]) / p["C_m"]
        return jnp.stack([dv, -y[1] / p["tau_syn_ex"], y[1] - y[2] / p["tau_syn_ex"],
                          -y[3] / p["tau_syn_in"], y[3] - y[4] / p["tau_syn_in"],
                          -y[5] / p["tau_ahp"], y[5] - y[6] / p["tau_ahp"]])

    @classmethod
    def update(cls, p, d, s, syn, I):
        v0 = s["V_m"]
        y = jnp.stack([s["V_m"], s["dg_ex"], s["g_ex"], s["dg_in"], s["g_in"], s["dG_ahp"], s["G_ahp"]])
        h = jnp.where(s["h"] > 0, s["h"], d["dt"])
        y, h, _ = rkf45_evolve(lambda yy, a: cls._rhs(p, yy, a), y, h, d["dt"], I, eps_abs=1e-3)
        v = y[0]
        spike = (v0 < p["V_th"]) & (v >= p["V_th"])
        delta = d["dt"] * (v - p["V_th"]) / jnp.where(spike, v - v0, 1.0)
        ddg = d["psc_ahp"] * jnp.exp(-delta / p["tau_ahp"])
        dg = ddg * delta
        g_ahp = jnp.where(p["ahp_bug"], dg, y[6] + dg)
        dg_ahp = jnp.where(p["ahp_bug"], ddg, y[5] + ddg)
        g_ahp = jnp.where(spike, g_ahp, y[6])
        dg_ahp = jnp.where(spike, dg_ahp, y[5])
        dg_ex = y[1] + syn[0] * d["psc_ex"]
        dg_in = y[3] + syn[1] * d["psc_in"]
        return {"V_m": v, "dg_ex": dg_ex, "g_ex": y[2], "dg_in": dg_in, "g_in": y[4], "dG_ahp": dg_ahp,
                "G_ahp": g_ahp, "h": h}, spike


@register
class iaf_chs_2007(Neuron):
    """Normalised spike-response neuron of Carandini, Horton & Sincich 2007 (NEST: iaf_chs_2007).

    Dimensionless potentials (threshold U_th = 1, rest 0):

        V_m = V_syn + V_spike + V_noise * noise[position]
        V_syn: alpha-shaped EPSPs, d i_syn/dt = -i_syn/tau_epsp, and each step
               V_syn <- V_syn exp(-dt/tau_epsp) + i_syn V_epsp e/tau_epsp exp(-dt/tau_epsp) dt
        V_spike: after-spike reset, decays with tau_reset; each spike subtracts V_reset

    A spike of weight w >= 0 adds w to i_syn (an EPSP peaking at w V_epsp after tau_epsp); negative
    weights are ignored, as in NEST. NEST's model has no current input (generators cannot connect in NEST;
    nestax ignores any current sent to it).

    Update of step k, covering (k dt, (k+1) dt] (NEST 3.10):

    1. V_syn <- P22 V_syn + P21 i_syn (with the i_syn of the step's start);
    2. i_syn decays by exp(-dt/tau_epsp), then takes this step's spike input;
    3. V_spike decays by exp(-dt/tau_reset);
    4. noise term: if V_noise > 0 and the noise array is not empty, V_noise * noise[position] and
       position advances by one (position starts at 0); else 0;
    5. V_m = V_syn + V_spike + noise term; if V_m >= 1: V_spike -= V_reset, V_m -= V_reset, spike
       stamped (k+1) dt. There is no refractory period.
    V_m is recomputed every step, so a V_m set by the user only shows until the next step (as in NEST).

    Deterministic: the noise is a given array. NEST reads past its end (undefined behaviour) when a
    run is longer than the array; nestax uses 0 there. NEST restarts at position 0 when ``noise`` is
    set; nestax keeps the position (not supported yet).

    Parameters (NEST defaults): tau_epsp (ms, 8.5, > 0), tau_reset (ms, 15.4, > 0), V_epsp (1, 0.77,
    >= 0), V_reset (1, 2.31, >= 0), V_noise (1, 0), noise (1, []).
    Recordables: V_m.
    """

    name = "iaf_chs_2007"
    kind = "neuron"
    ports = ("ex",)
    weight_unit = "1"
    parameters = {
        "tau_epsp": Param(8.5, "ms", "Time constant of the EPSP"),
        "tau_reset": Param(15.4, "ms", "Time constant of the reset potential"),
        "V_epsp": Param(0.77, "1", "Normalised maximum amplitude of the EPSP"),
        "V_reset": Param(2.31, "1", "Normalised magnitude of the reset"),
        "V_noise": Param(0.0, "1", "Normalised amplitude of the noise"),
        "noise": Param((), "1", "Noise signal, one value per step", "array"),
    }
    state = {
        "V_m": State("1", 0.0, "Membrane potential (normalised)"),
        "V_syn": State("1", 0.0, "Synaptic part of V_m"),
        "V_spike": State("1", 0.0, "Reset part of V_m"),
        "i_syn_ex": State("1", 0.0, "Synaptic drive"),
        "position": State("1", 0, "Index of the next noise value"),
        "_noise": State("1", 0.0, "noise as an (n, K) array, zero-padded (internal)"),
        "_noise_n": State("1", 0, "length of each neuron's noise array (internal)"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m",)

    @classmethod
    def check(cls, p):
        cls._nonnegative(p, "V_epsp", "V_reset")
        cls._positive(p, "tau_epsp", "tau_reset")

    @classmethod
    def assign(cls, p, s, name, value):
        if name == "_noise":
            rows = [np.asarray(r, float).ravel() for r in p["noise"]]
            k = max((len(r) for r in rows), default=0)
            out = np.zeros((len(rows), max(k, 1)))
            for i, r in enumerate(rows):
                out[i, :len(r)] = r
            return out
        if name == "_noise_n":
            return np.array([len(np.asarray(r).ravel()) for r in p["noise"]], dtype=np.int64)
        return value

    @classmethod
    def route(cls, weights, receptor_type):
        w = np.asarray(weights)
        return np.zeros(w.shape, int), np.where(w >= 0, 1.0, 0.0)

    @classmethod
    def prepare(cls, p, dt):
        p11 = jnp.exp(-dt / p["tau_epsp"])
        return {"P11": p11, "P22": jnp.exp(-dt / p["tau_epsp"]), "P30": jnp.exp(-dt / p["tau_reset"]),
                "P21": p["V_epsp"] * np.exp(1.0) / 1.0 * p11 * dt / p["tau_epsp"]}

    @classmethod
    def update(cls, p, d, s, syn, I):
        vsyn = s["V_syn"] * d["P22"] + s["i_syn_ex"] * d["P21"]
        isyn = s["i_syn_ex"] * d["P11"] + syn[0]
        vspike = s["V_spike"] * d["P30"]
        pos = s["position"]
        use = (p["V_noise"] > 0.0) & (s["_noise_n"] > 0)
        k = s["_noise"].shape[1]
        val = jnp.take_along_axis(s["_noise"], jnp.clip(pos, 0, k - 1)[:, None].astype(jnp.int32), axis=1)[:, 0]
        val = jnp.where(pos < s["_noise_n"], val, 0.0)
        noise = jnp.where(use, p["V_noise"] * val, 0.0)
        pos = jnp.where(use, pos + 1, pos)
        v = vsyn + vspike + noise
        spike = v >= 1.0
        vspike = jnp.where(spike, vspike - p["V_reset"], vspike)
        v = jnp.where(spike, v - p["V_reset"], v)
        return {**s, "V_m": v, "V_syn": vsyn, "V_spike": vspike, "i_syn_ex": isyn, "position": pos}, spike
