"""Point-process neuron with delta synapses, dead time and spike-frequency adaptation
(NEST: pp_psc_delta; Cardanobile & Rotter 2010, Deger et al. 2012).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ...errors import BadParameterError
from ..base import Neuron, Param, State
from ..common import stack_rows
from ..propagators import refractory_steps
from ..registry import register


@register
class pp_psc_delta(Neuron):
    """Stochastic point-process neuron whose potential jumps at each input spike (NEST: pp_psc_delta).

    The membrane potential V_m is measured relative to rest (there is no E_L):

        dV_m/dt = -V_m / tau_m + (I_e + I_gen) / C_m,   a spike of weight w (mV) adds w to V_m
        E_sfa = sum_j e_j,  tau_sfa_j de_j/dt = -e_j,    e_j += q_sfa_j at each emitted spike
        rate = c_1 V' + c_2 exp(c_3 V'),   V' = V_m - E_sfa   (Hz)

    Update of step k, covering (k dt, (k+1) dt] (NEST 3.10):

    1. V_m <- P30 (I_gen + I_e) + P33 V_m + (spike input arriving in this step), exactly integrated
       with P33 = exp(-dt/tau_m), P30 = tau_m/C_m (1 - P33); the input current is that of the previous
       step (NEST's one-step lag, done by the engine); input also moves V_m during the dead time;
    2. every adaptation element decays by exp(-dt/tau_sfa_j); E_sfa = their sum (in order);
    3. if not in dead time and rate > 0: with dead_time > 0, one spike with probability
       1 - exp(-rate dt) (a uniform number u, spike if u <= that probability); with dead_time = 0, a
       Poisson number of spikes with mean rate dt (emitted as one event with that multiplicity). On
       n > 0 spikes: dead time starts (dead_time rounded like NEST: to tics, then up to steps; with
       dead_time_random a gamma(dead_time_shape) number of mean dead_time, rounded the same way),
       e_j += n q_sfa_j, and V_m = 0 if with_reset; the spike is stamped (k+1) dt;
       in dead time: count down.
    A dead_time between 0 and dt is raised to dt (as NEST does, at the start of a run). The initial
    dead time is t_ref_remaining (read when the neuron first runs).

    Stochastic: nestax cannot reproduce NEST's random stream; rates and ISI statistics agree in
    distribution. With c_1 = c_2 = 0 the rate is 0 and the model is deterministic (pure subthreshold
    integration); with c_1 = 0 and huge c_3 the escape rate is 0 below E_sfa and infinite above it
    (a hard threshold at V_m = E_sfa), which is deterministic as well.

    Parameters (NEST defaults):

    ================ ===== ======= ==================================================
    tau_m            ms    10      membrane time constant (> 0)
    C_m              pF    250     membrane capacitance (> 0)
    dead_time        ms    1       dead time after a spike (>= 0)
    dead_time_random bool  False   draw the dead time from a gamma distribution
    dead_time_shape  1     1       shape of that gamma distribution (>= 1)
    with_reset       bool  True    reset V_m to 0 after a spike
    tau_sfa          ms    []      adaptation time constants (each > 0)
    q_sfa            mV    []      adaptation jumps (same length as tau_sfa)
    c_1              Hz/mV 0       slope of the linear part of the rate
    c_2              Hz    1.238   prefactor of the exponential part
    c_3              1/mV  0.25    coefficient of the exponential part (>= 0)
    I_e              pA    0       constant input current
    t_ref_remaining  ms    0       dead time left at the start (>= 0)
    ================ ===== ======= ==================================================

    Recordables: V_m (mV, relative to rest), E_sfa (mV, adaptive threshold).
    Weights: mV (delta synapses, added to V_m); one port, the weight's sign is kept.
    """

    name = "pp_psc_delta"
    kind = "neuron"
    stochastic = True
    ports = ("spikes",)
    weight_unit = "mV"
    parameters = {
        "tau_m": Param(10.0, "ms", "Membrane time constant"),
        "C_m": Param(250.0, "pF", "Membrane capacitance"),
        "dead_time": Param(1.0, "ms", "Dead time after a spike"),
        "dead_time_random": Param(False, "1", "Gamma-distributed dead time", "bool"),
        "dead_time_shape": Param(1, "1", "Shape of the dead-time gamma distribution", "int"),
        "with_reset": Param(True, "1", "Reset V_m to 0 after a spike", "bool"),
        "tau_sfa": Param((), "ms", "Adaptation time constants", "array"),
        "q_sfa": Param((), "mV", "Adaptation jumps", "array"),
        "c_1": Param(0.0, "Hz/mV", "Slope of the linear part of the transfer function"),
        "c_2": Param(1.238, "Hz", "Prefactor of the exponential part of the transfer function"),
        "c_3": Param(0.25, "1/mV", "Coefficient of the exponential part of the transfer function"),
        "I_e": Param(0.0, "pA", "Constant input current"),
        "t_ref_remaining": Param(0.0, "ms", "Dead time left at the start"),
    }
    state = {
        "V_m": State("mV", 0.0, "Membrane potential relative to rest"),
        "E_sfa": State("mV", 0.0, "Adaptive threshold (sum of the adaptation elements)"),
        "r": State("1", -1, "Dead-time steps left (-1: not yet started, internal)"),
        "q_elems": State("mV", 0.0, "Adaptation elements, (n, K) (internal)"),
        "_tau_sfa": State("ms", 0.0, "tau_sfa as an (n, K) array (internal)"),
        "_q_sfa": State("mV", 0.0, "q_sfa as an (n, K) array (internal)"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m", "E_sfa")

    @classmethod
    def check(cls, p):
        for tau, q in zip(p["tau_sfa"], p["q_sfa"]):
            tau, q = np.asarray(tau, float).ravel(), np.asarray(q, float).ravel()
            if len(tau) != len(q):
                raise BadParameterError(
                    f"{cls.name}: parameters 'tau_sfa' ({len(tau)} values) and 'q_sfa' ({len(q)} values) are "
                    f"invalid; expected the same number of values.")
            if np.any(~(tau > 0)):
                raise BadParameterError(f"{cls.name}: parameter 'tau_sfa' = {tau.tolist()} ms is invalid; "
                                        f"expected every time constant > 0 ms.")
        cls._positive(p, "C_m", "tau_m")
        cls._nonnegative(p, "dead_time", "t_ref_remaining", "c_3")
        cls._require(p, "dead_time_shape", np.asarray(p["dead_time_shape"]) >= 1, "a value >= 1")

    @classmethod
    def assign(cls, p, s, name, value):
        if name == "_tau_sfa":
            return stack_rows(p["tau_sfa"], 1.0)
        if name == "_q_sfa":
            return stack_rows(p["q_sfa"], 0.0)
        if name == "q_elems":
            n, k = len(p["tau_sfa"]), max((len(r) for r in p["tau_sfa"]), default=0)
            v = np.asarray(value, float)
            return v if v.shape == (n, k) else np.zeros((n, k))
        return value

    @classmethod
    def prepare(cls, p, dt):
        p33 = jnp.exp(-dt / p["tau_m"])
        dead = jnp.where((p["dead_time"] != 0) & (p["dead_time"] < dt), dt, p["dead_time"])
        return {
            "P33": p33,
            "P30": 1.0 / p["C_m"] * (1.0 - p33) * p["tau_m"],
            "dead": dead,
            "dead_steps": refractory_steps(dead, dt),
            "r0": refractory_steps(p["t_ref_remaining"], dt),
            "dt": dt,
            "tps": float(int(round(dt * 1000))),
        }

    @classmethod
    def update(cls, p, d, s, syn, I, key):
        r = s["r"]
        r = jnp.where(r < 0, d["r0"].astype(r.dtype), r)
        v = d["P30"] * (I + p["I_e"]) + d["P33"] * s["V_m"] + syn[0]
        qe = jnp.exp(-d["dt"] / s["_tau_sfa"]) * s["q_elems"]
        q = jnp.zeros_like(v)
        for j in range(qe.shape[1]):
            q = q + qe[:, j]
        free = r == 0
        veff = v - q
        rate = p["c_1"] * veff + p["c_2"] * jnp.exp(p["c_3"] * veff)
        k_u, k_p, k_g = jax.random.split(key, 3)
        u = jax.random.uniform(k_u, v.shape, dtype=v.dtype)
        bern = (u <= -jnp.expm1(-rate * d["dt"] * 1e-3)).astype(jnp.int32)
        lam = jnp.where((rate > 0) & jnp.isfinite(rate), rate * d["dt"] * 1e-3, 0.0)
        may_fire = free & (rate > 0.0)
        # Poisson and gamma numbers are costly (rejection loops): draw them only in steps where some
        # neuron uses them (dead_time = 0, resp. dead_time_random and a spike); the numbers drawn are
        # the same as unconditional draws with these keys
        pois = jax.lax.cond(jnp.any(may_fire & (d["dead"] <= 0.0)),
                            lambda: jax.random.poisson(k_p, lam, v.shape).astype(jnp.int32),
                            lambda: jnp.zeros(v.shape, jnp.int32))
        n = jnp.where(d["dead"] > 0.0, bern, pois)
        n = jnp.where(may_fire, n, 0)
        fired = n > 0
        shape = jnp.maximum(p["dead_time_shape"], 1).astype(v.dtype)
        g = jax.lax.cond(jnp.any(fired & p["dead_time_random"]),
                         lambda: jax.random.gamma(k_g, shape, v.shape, dtype=v.dtype),
                         lambda: jnp.ones(v.shape, v.dtype))
        # NEST's Time(Time::ms(x)).get_steps(): to tics (half a tic up), then up to whole steps
        tics = jnp.floor(g / (shape / d["dead"]) * 1000.0 + 0.5)
        rand_dead = jnp.floor((tics + d["tps"] - 1.0) / d["tps"])
        dead_steps = jnp.where(p["dead_time_random"], rand_dead, d["dead_steps"]).astype(r.dtype)
        r = jnp.where(free, jnp.where(fired, dead_steps, r), r - 1)
        qe = qe + n[:, None].astype(v.dtype) * s["_q_sfa"]
        v = jnp.where(fired & p["with_reset"], 0.0, v)
        return {**s, "V_m": v, "E_sfa": q, "r": r, "q_elems": qe}, n
