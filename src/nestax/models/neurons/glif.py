"""Generalized leaky integrate-and-fire neurons of the Allen Institute (NEST: glif_psc; Teeter et al. 2018).

Five model levels are chosen by three mechanism flags (any other combination is an error, as in NEST):

    level                         spike_dependent_threshold  after_spike_currents  adapting_threshold
    GLIF1 leaky integrate & fire  False                      False                 False
    GLIF2 + reset rules           True                       False                 False
    GLIF3 + after-spike currents  False                      True                  False
    GLIF4 (2 and 3)               True                       True                  False
    GLIF5 + voltage threshold     True                       True                  True

Dynamics (U = V_m - E_L, all thresholds relative to E_L):

    C_m dU/dt = -g U + I_gen + sum_j I_asc_j + I_syn,     I_syn: alpha-shaped currents, one per tau_syn
    dI_asc_j/dt = -asc_decay_j I_asc_j                    (GLIF3-5; on a spike I_asc_j = asc_amps_j +
                                                           asc_r_j exp(-asc_decay_j t_ref) I_asc_j)
    d th_spike/dt = -th_spike_decay th_spike               (GLIF2,4,5; += th_spike_add on a spike)
    d th_voltage/dt = th_voltage_index U - th_voltage_decay th_voltage   (GLIF5)
    threshold = V_th + th_spike + th_voltage

Update of step k (NEST 3.10), when not refractory (U_old: U at the start of the step):
1. th_spike decays by exp(-th_spike_decay dt); ASCurrents_sum = sum_j c_j I_asc_j with the step average
   c_j = (1 - exp(-asc_decay_j dt)) / (asc_decay_j dt), then I_asc_j decays;
2. U = U_old P33 + (I_gen + ASCurrents_sum) P30 + sum_i (P31_i y1_i + P32_i y2_i), with the alpha-kernel
   states y1 (derivative) and y2 (current) at the start of the step; I_syn = sum_i y2_i;
3. GLIF5: th_voltage propagated exactly with U_old and beta = (I_gen + ASCurrents_sum) / g;
4. if U > threshold (strictly): refractory for t_ref (NEST's step rounding); after-spike currents jump;
   U = V_reset (GLIF1/3) or U = voltage_reset_fraction U_old + voltage_reset_add and th_spike =
   th_spike exp(-th_spike_decay t_ref) + th_spike_add (GLIF2/4/5); spike stamped (k+1) dt.
When refractory: count down; U, I_syn and ASCurrents_sum keep their values (nothing decays).
Then, always: the alpha states advance one step and the spike input of this step is added to y1
(times e / tau_syn). So a spike arriving at t_a moves V_m from t_a + dt and I_syn from t_a + 2 dt.

Inputs: spikes need receptor_type 1..len(tau_syn) (NEST: receptor 0 does not exist for glif), weights in
pA of either sign. Current generators connect to receptor 0; there is no I_e parameter.

Recordable ``I``: as in NEST, the sample at stamp k + 1 is the generator current that the neuron reads
for the step after it (the engine records the next step's current row).

Array parameters (asc_*, tau_syn) and the per-neuron states that follow their length (ASCurrents, y1,
y2) are held as (n, K) arrays among the state, built by :meth:`assign` (internal names start with an
underscore).
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ...errors import BadParameterError
from ..base import Neuron, Param, State
from ..common import MultiReceptor, stack_rows
from ..propagators import psc_alpha_to_v, psc_exp_to_v, refractory_steps
from ..registry import register

_E_L0 = -78.85  # NEST's prototype E_L: V_m starts here whatever E_L is set to


_PARAMS = {
    "V_th": Param(-51.68, "mV", "Instantaneous threshold"),
    "g": Param(9.43, "nS", "Membrane conductance"),
    "E_L": Param(-78.85, "mV", "Resting membrane potential"),
    "C_m": Param(58.72, "pF", "Membrane capacitance"),
    "t_ref": Param(3.75, "ms", "Duration of the refractory period"),
    "V_reset": Param(-78.85, "mV", "Reset potential (GLIF1/3)"),
    "th_spike_add": Param(0.37, "mV", "Threshold jump after a spike"),
    "th_spike_decay": Param(0.009, "1/ms", "Decay rate of the spike component of the threshold"),
    "voltage_reset_fraction": Param(0.20, "1", "Fraction of the pre-spike voltage kept at reset"),
    "voltage_reset_add": Param(18.51, "mV", "Voltage added at reset"),
    "th_voltage_index": Param(0.005, "1/ms", "Coupling of the threshold to the membrane potential"),
    "th_voltage_decay": Param(0.09, "1/ms", "Decay rate of the voltage component of the threshold"),
    "asc_init": Param((0.0, 0.0), "pA", "Initial after-spike currents (NEST: only via the model defaults)",
                      "array"),
    "asc_decay": Param((0.003, 0.1), "1/ms", "After-spike current decay rates", "array"),
    "asc_amps": Param((-9.18, -198.94), "pA", "After-spike current amplitudes", "array"),
    "asc_r": Param((1.0, 1.0), "1", "Fraction of the after-spike currents kept at a spike", "array"),
    "tau_syn": Param((2.0,), "ms", "Synaptic time constants, one per receptor", "array"),
    "spike_dependent_threshold": Param(False, "1", "GLIF2/4/5 mechanism", "bool"),
    "after_spike_currents": Param(False, "1", "GLIF3/4/5 mechanism", "bool"),
    "adapting_threshold": Param(False, "1", "GLIF5 mechanism", "bool"),
}

_LEVELS = {(False, False, False), (True, False, False), (False, True, False), (True, True, False),
           (True, True, True)}


class _GlifBase(MultiReceptor, Neuron):
    next_current = "I"  # the multimeter shows the next step's generator current, as NEST records it
    settable_state = ("V_m",)  # what NEST's SetStatus accepts
    kind = "neuron"
    weight_unit = "pA"
    _carriers = {"_asc_decay": ("asc_decay", 1.0), "_asc_amps": ("asc_amps", 0.0), "_asc_r": ("asc_r", 0.0),
                 "_tau_syn": ("tau_syn", 1.0)}

    @classmethod
    def _bad(cls, name, value, expected):
        raise BadParameterError(f"{cls.name}: parameter {name!r} = {value} {cls.parameters[name].unit} is "
                                f"invalid; expected {expected}.")

    @classmethod
    def check(cls, p):
        flags = zip(*(np.broadcast_to(np.asarray(p[f], bool), np.shape(p["g"])).ravel() for f in
                      ("spike_dependent_threshold", "after_spike_currents", "adapting_threshold")))
        for f in flags:
            if tuple(bool(x) for x in f) not in _LEVELS:
                raise BadParameterError(
                    f"{cls.name}: parameters (spike_dependent_threshold, after_spike_currents, adapting_threshold) "
                    f"= {tuple(bool(x) for x in f)} are invalid; expected one of the GLIF levels 1-5: "
                    "(F,F,F), (T,F,F), (F,T,F), (T,T,F), (T,T,T).")
        asc = np.asarray(p["after_spike_currents"], bool).reshape(-1)
        for i, dec in enumerate(p["asc_decay"]):
            if not asc[min(i, len(asc) - 1)]:
                continue
            if not (len(p["asc_init"][i]) == len(dec) == len(p["asc_amps"][i]) == len(p["asc_r"][i])):
                raise BadParameterError(f"{cls.name}: parameters 'asc_init', 'asc_decay', 'asc_amps', 'asc_r' are "
                                        "invalid; expected arrays of the same length.")
            if np.any(~(np.asarray(dec) > 0)):
                cls._bad("asc_decay", list(dec), "every decay rate > 0 1/ms")
            r = np.asarray(p["asc_r"][i])
            if np.any((r < 0) | (r > 1)):
                cls._bad("asc_r", list(r), "values within [0, 1]")
        cls._require(p, "V_reset", np.asarray(p["V_reset"]) < np.asarray(p["V_th"]),
                     f"V_reset < V_th (V_th = {np.asarray(p['V_th']).ravel()[0]} mV)")
        cls._positive(p, "C_m", "g", "t_ref")
        tv = np.asarray(p["adapting_threshold"], bool)
        cls._require(p, "th_voltage_decay", ~tv | (np.asarray(p["th_voltage_decay"]) > 0),
                     "a value > 0 1/ms (adapting_threshold is on)")
        ts = np.asarray(p["spike_dependent_threshold"], bool)
        cls._require(p, "th_spike_decay", ~ts | (np.asarray(p["th_spike_decay"]) > 0),
                     "a value > 0 1/ms (spike_dependent_threshold is on)")
        f = np.asarray(p["voltage_reset_fraction"])
        cls._require(p, "voltage_reset_fraction", ~ts | ((f >= 0) & (f <= 1)),
                     "a value within [0, 1] (spike_dependent_threshold is on)")
        cls._n_receptors(p)
        for t in p["tau_syn"]:
            if np.any(~(np.asarray(t) > 0)):
                cls._bad("tau_syn", list(t), "every synaptic time constant > 0 ms")

    @classmethod
    def observe(cls, p, s, name):
        if name in ("V_m", "threshold"):
            return s[name] + p["E_L"]
        return s[name]

    @classmethod
    def assign(cls, p, s, name, value):
        if name in cls._carriers:
            return cls._carried(p, name)
        if name == "ASCurrents":
            # NEST builds the state from the prototype (asc_init = [0, 0]) before the parameters of
            # Create/SetStatus are applied, so asc_init given there does not reach ASCurrents
            shape = stack_rows(p["asc_decay"]).shape
            v = np.asarray(value, float)
            return v if v.shape == shape else np.zeros(shape)
        if name in ("y1", "y2"):
            shape = (len(p["tau_syn"]), cls._n_receptors(p))
            v = np.asarray(value, float)
            return v if v.shape == shape else np.zeros(shape)
        if name in ("V_m", "threshold"):
            return np.asarray(value, float) - np.asarray(p["E_L"], float)
        return value


@register
class glif_psc(_GlifBase):
    """Generalized leaky integrate-and-fire neuron with alpha-shaped current synapses (NEST: glif_psc).

    GLIF levels 1-5 selected by spike_dependent_threshold / after_spike_currents / adapting_threshold;
    equations, update order and the one-sample difference of the recordable ``I`` in the module
    docstring. Exact integration: P33 = exp(-dt/tau), P30 = (1 - P33) tau / C_m with tau = C_m / g, and
    NEST's alpha-kernel propagators (P31, P32) per receptor; a spike of weight w (pA) on receptor i adds
    w e / tau_syn_i to y1_i, so the current peaks at w after tau_syn_i.

    Parameters (NEST defaults): V_th (mV, -51.68), g (nS, 9.43, > 0), E_L (mV, -78.85), C_m (pF, 58.72, > 0),
    t_ref (ms, 3.75, > 0), V_reset (mV, -78.85, < V_th), th_spike_add (mV, 0.37), th_spike_decay (1/ms,
    0.009), voltage_reset_fraction (0.2, in [0, 1]), voltage_reset_add (mV, 18.51), th_voltage_index (1/ms,
    0.005), th_voltage_decay (1/ms, 0.09), asc_init (pA, [0, 0]), asc_decay (1/ms, [0.003, 0.1], > 0),
    asc_amps (pA, [-9.18, -198.94]), asc_r ([1, 1], in [0, 1]), tau_syn (ms, [2.0], > 0),
    spike_dependent_threshold, after_spike_currents, adapting_threshold (bool, False).
    Recordables: V_m, ASCurrents_sum, I, I_syn, threshold, threshold_spike, threshold_voltage.
    """

    name = "glif_psc"
    parameters = _PARAMS
    state = {
        "V_m": State("mV", _E_L0, "Membrane potential (held relative to E_L)"),
        "threshold": State("mV", "V_th", "Total threshold (held relative to E_L)"),
        "threshold_spike": State("mV", 0.0, "Spike component of the threshold"),
        "threshold_voltage": State("mV", 0.0, "Voltage component of the threshold"),
        "I": State("pA", 0.0, "Generator current of the last step"),
        "I_syn": State("pA", 0.0, "Synaptic current"),
        "ASCurrents_sum": State("pA", 0.0, "Sum of the after-spike currents"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
        "ASCurrents": State("pA", 0.0, "After-spike currents, (n, K)"),
        "y1": State("pA/ms", 0.0, "Alpha-kernel derivative states, (n, receptors) (internal)"),
        "y2": State("pA", 0.0, "Alpha-kernel currents, (n, receptors) (internal)"),
        **{k: State("1", 0.0, f"{v[0]} as an (n, K) array (internal)") for k, v in _GlifBase._carriers.items()},
    }

    @classmethod
    def recordables(cls):
        return ("V_m", "ASCurrents_sum", "I", "I_syn", "threshold", "threshold_spike", "threshold_voltage")

    @classmethod
    def prepare(cls, p, dt):
        tau = p["C_m"] / p["g"]
        p33 = jnp.exp(-dt / tau)
        return {
            "tau": tau, "P33": p33, "P30": 1.0 / p["C_m"] * (1.0 - p33) * tau,
            "th_inf": p["V_th"] - p["E_L"], "v_reset": p["V_reset"] - p["E_L"],
            "ts_decay": jnp.exp(-p["th_spike_decay"] * dt),
            "ts_refr_decay": jnp.exp(-p["th_spike_decay"] * p["t_ref"]),
            "pot_decay": jnp.exp(-p["g"] * dt / p["C_m"]),
            "tv_decay_inv": 1.0 / jnp.exp(p["th_voltage_decay"] * dt),
            "phi": p["th_voltage_index"] / (p["th_voltage_decay"] - p["g"] / p["C_m"]),
            "ab_ratio": p["th_voltage_index"] / p["th_voltage_decay"],
            "ref_counts": refractory_steps(p["t_ref"], dt),
            "dt": dt,
        }

    @classmethod
    def update(cls, p, d, s, syn, I):
        dt = d["dt"]
        has_ts = p["spike_dependent_threshold"].astype(bool)
        has_asc = p["after_spike_currents"].astype(bool)
        has_tv = p["adapting_threshold"].astype(bool)
        v_old, r = s["V_m"], s["refractory_steps"]
        free = r == 0
        I_cur = I  # the generator current NEST holds during this step (read one step earlier)
        # 1. spike threshold decay, after-spike currents
        ts = jnp.where(has_ts, s["threshold_spike"] * d["ts_decay"], s["threshold_spike"])
        k_asc = s["_asc_decay"]
        asc_rate = jnp.exp(-k_asc * dt)
        coeff = ((1.0 / k_asc) / dt) * (1.0 - asc_rate)
        asc = s["ASCurrents"]
        asc_sum = jnp.zeros_like(v_old)
        for j in range(asc.shape[1]):
            asc_sum = asc_sum + coeff[:, j] * asc[:, j]
        asc_sum = jnp.where(has_asc, asc_sum, 0.0)
        asc_dec = jnp.where(has_asc[:, None], asc * asc_rate, asc)
        # 2. membrane
        u = v_old * d["P33"] + (I_cur + asc_sum) * d["P30"]
        tau_syn = s["_tau_syn"]
        p31 = psc_alpha_to_v(tau_syn, d["tau"][:, None], p["C_m"][:, None], dt)
        p32 = psc_exp_to_v(tau_syn, d["tau"][:, None], p["C_m"][:, None], dt)
        y1, y2 = s["y1"], s["y2"]
        i_syn = jnp.zeros_like(v_old)
        for i in range(y1.shape[1]):
            u = u + (p31[:, i] * y1[:, i] + p32[:, i] * y2[:, i])
            i_syn = i_syn + y2[:, i]
        # 3. voltage-dependent threshold
        beta = (I_cur + asc_sum) / p["g"]
        tv_new = (d["phi"] * (v_old - beta) * d["pot_decay"]
                  + d["tv_decay_inv"] * (s["threshold_voltage"] - d["phi"] * (v_old - beta) - d["ab_ratio"] * beta)
                  + d["ab_ratio"] * beta)
        tv = jnp.where(has_tv, tv_new, s["threshold_voltage"])
        thr = ts + tv + d["th_inf"]
        # 4. spike
        spike = u > thr
        asc_spk = jnp.where(has_asc[:, None], s["_asc_amps"] + asc_dec * (s["_asc_r"] * jnp.exp(-k_asc * p["t_ref"][:, None])),
                            asc_dec)
        asc_new = jnp.where(spike[:, None], asc_spk, asc_dec)
        u_spk = jnp.where(has_ts, p["voltage_reset_fraction"] * v_old + p["voltage_reset_add"], d["v_reset"])
        ts_spk = jnp.where(has_ts, ts * d["ts_refr_decay"] + p["th_spike_add"], ts)
        u = jnp.where(spike, u_spk, u)
        ts = jnp.where(spike, ts_spk, ts)
        thr = ts + tv + d["th_inf"]
        r_free = jnp.where(spike, d["ref_counts"].astype(r.dtype), r)
        # refractory neurons: nothing but the countdown (U, I_syn, ASCurrents_sum kept)
        th_ref = s["threshold_spike"] + s["threshold_voltage"] + d["th_inf"]
        out = {
            "V_m": jnp.where(free, u, v_old),
            "threshold_spike": jnp.where(free, ts, s["threshold_spike"]),
            "threshold_voltage": jnp.where(free, tv, s["threshold_voltage"]),
            "threshold": jnp.where(free, thr, th_ref),
            "ASCurrents": jnp.where(free[:, None], asc_new, asc),
            "ASCurrents_sum": jnp.where(free, asc_sum, s["ASCurrents_sum"]),
            "I_syn": jnp.where(free, i_syn, s["I_syn"]),
            "refractory_steps": jnp.where(free, r_free, r - 1),
        }
        spike = free & spike
        # alpha states advance and take this step's input
        p11 = jnp.exp(-dt / tau_syn)
        y2 = dt * p11 * y1 + p11 * y2
        y1 = y1 * p11 + (np.e / tau_syn) * syn.T
        return {**s, **out, "y1": y1, "y2": y2, "I": I_cur}, spike
