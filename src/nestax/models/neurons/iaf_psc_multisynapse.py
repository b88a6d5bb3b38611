"""Leaky integrate-and-fire neurons with any number of current synapses (NEST: iaf_psc_exp_multisynapse,
iaf_psc_alpha_multisynapse), integrated exactly.

Each neuron has one synaptic current per entry of the array parameter ``tau_syn``. A connection picks
its synapse with ``receptor_type`` i = 1 .. len(tau_syn) (NEST's 1-based numbering; receptor 0 is
reserved for current generators); the weight (pA, either sign) is added to that synapse as it is.
``port_names(p)`` gives one input port per receptor and ``receptor_range(p)`` = (1, len(tau_syn)).

All neurons of one nestax population share the number of receptors (NEST allows it to differ per
neuron; create separate populations for that). Per-receptor state and time constants are held as
(n, n_receptors) arrays in the state, rebuilt from ``tau_syn`` whenever parameters change.

Recordables (as NEST's dynamic recordables map): V_m, I_syn (the sum over receptors) and
I_syn_1 .. I_syn_<n_receptors>.

Update of step k (covering (k dt, (k+1) dt]), NEST 3.10:
1. if not refractory: V_m <- P_leak V_m + P_I (I_e + I_gen) + sum_i (synapse i's propagators applied to
   its state at the step's start); iaf_psc_alpha_multisynapse then clamps V_m at V_min;
   else count the refractory period down;
2. every synapse decays and the spike input arriving in this step for it is added;
3. if V_m >= V_th: V_m = V_reset, refractory for t_ref (rounded as NEST: to tics, then up to steps),
   emit a spike stamped (k+1) dt.
Generator current takes NEST's one-step lag (engine).
"""
from __future__ import annotations

import re

import jax.numpy as jnp
import numpy as np

from ...errors import BadParameterError
from ..base import Neuron, Param, State
from ..common import MultiReceptor, resize_per_receptor, stack_rows
from ..propagators import leak_to_v, psc_alpha_to_v, psc_exp_to_v, refractory_steps
from ..registry import register

_ISYN = re.compile(r"^I_syn_([1-9][0-9]*)$")


class _Recordables(tuple):
    """V_m, I_syn, and I_syn_<k> for every receptor k >= 1 (the count depends on the population)."""

    def __contains__(self, name):
        return tuple.__contains__(self, name) or (isinstance(name, str) and _ISYN.match(name) is not None)


_COMMON = {
    "E_L": Param(-70.0, "mV", "Resting membrane potential"),
    "C_m": Param(250.0, "pF", "Membrane capacitance"),
    "tau_m": Param(10.0, "ms", "Membrane time constant"),
    "t_ref": Param(2.0, "ms", "Duration of the refractory period"),
    "V_th": Param(-55.0, "mV", "Spike threshold"),
    "V_reset": Param(-70.0, "mV", "Reset potential"),
    "I_e": Param(0.0, "pA", "Constant input current"),
    "tau_syn": Param((2.0,), "ms", "Synaptic time constants, one per receptor", "array"),
}


class _MultisynapseBase(MultiReceptor, Neuron):
    kind = "neuron"
    weight_unit = "pA"
    # per-receptor state held as (n, K): state name -> padding
    _per_receptor = ("i_syn",)
    _tau_syn_may_equal_tau_m = True
    _receptor_hint = " (create one population per count)"

    # ---- receptors ------------------------------------------------------------------------------
    @classmethod
    def recordables(cls):
        return _Recordables(("V_m", "I_syn"))

    # ---- checks -----------------------------------------------------------------------------------
    @classmethod
    def check(cls, p):
        cls._positive(p, "C_m", "tau_m")
        cls._nonnegative(p, "t_ref")
        cls._n_receptors(p)
        for i, t in enumerate(p["tau_syn"]):
            t = np.ravel(np.asarray(t, float))
            if np.any(~(t > 0)):
                raise BadParameterError(f"{cls.name}: parameter 'tau_syn' = {t.tolist()} ms is invalid; expected "
                                        "every synaptic time constant > 0 ms.")
            tau_m = float(np.broadcast_to(np.asarray(p["tau_m"], float), (len(p["tau_syn"]),))[i])
            if not cls._tau_syn_may_equal_tau_m and np.any(t == tau_m):
                raise BadParameterError(
                    f"{cls.name}: parameter 'tau_syn' = {t.tolist()} ms is invalid; expected every value different "
                    f"from tau_m (= {tau_m} ms), as NEST requires for this model.")
        cls._reset_below_threshold(p)

    # ---- state: V_m relative to E_L; (n, K) arrays ------------------------------------------------
    @classmethod
    def observe(cls, p, s, name):
        if name == "V_m":
            return s["V_m"] + p["E_L"]
        if name == "I_syn":
            cur = cls._currents(s)
            acc = jnp.zeros_like(s["V_m"]) if not isinstance(cur, np.ndarray) else np.zeros(cur.shape[0])
            for k in range(cur.shape[1]):  # NEST sums receptor by receptor
                acc = acc + cur[:, k]
            return acc
        m = _ISYN.match(name) if isinstance(name, str) else None
        if m:
            k = int(m.group(1))
            cur = cls._currents(s)
            if k > cur.shape[1]:
                raise BadParameterError(f"{cls.name}: recordable {name!r} does not exist; this population has "
                                        f"{cur.shape[1]} receptors (I_syn_1 .. I_syn_{cur.shape[1]}).")
            return cur[:, k - 1]
        return s[name]

    @classmethod
    def assign(cls, p, s, name, value):
        if name == "V_m":
            return value - p["E_L"]
        if name == "_tau_syn":
            return stack_rows(p["tau_syn"], 1.0)
        if name in cls._per_receptor:
            return resize_per_receptor(value, len(p["tau_syn"]), cls._n_receptors(p))
        return value

    params_once = True  # exact integration: block-shared parameters are passed once (Neuron.params_once)

    @classmethod
    def run_params(cls, p):
        # tau_syn as an (n, n_receptors) array, so that prepare computes the propagators once per run
        # chunk instead of every step; (1, n_receptors) when all neurons share it (with the other
        # parameters passed once, the propagators are then read once per receptor, not per neuron)
        rows = stack_rows(p["tau_syn"], 1.0)
        return {"tau_syn_rows": rows[:1] if len(rows) > 1 and np.all(rows == rows[:1]) else rows}

    @staticmethod
    def _common_prepare(p, dt):
        return {
            "P22": jnp.exp(-dt / p["tau_m"]),
            "P20": leak_to_v(p["tau_m"], p["C_m"], dt),
            "theta": p["V_th"] - p["E_L"],
            "v_reset": p["V_reset"] - p["E_L"],
            "ref_counts": refractory_steps(p["t_ref"], dt),
            "dt": dt,
        }

    @staticmethod
    def _fire(d, v, r):
        spike = v >= d["theta"]
        v = jnp.where(spike, d["v_reset"], v)
        r = jnp.where(spike, d["ref_counts"].astype(r.dtype), r)
        return v, r, spike


@register
class iaf_psc_exp_multisynapse(_MultisynapseBase):
    """Leaky integrate-and-fire neuron with any number of exponential current synapses
    (NEST: iaf_psc_exp_multisynapse).

        dV_m/dt = -(V_m - E_L)/tau_m + (sum_i I_syn_i + I_e + I_gen)/C_m
        dI_syn_i/dt = -I_syn_i / tau_syn[i-1];  a spike of weight w (pA) with receptor_type i adds w to I_syn_i

    Exact integration (see the module docstring for the update order): a spike arriving at t_a moves
    I_syn_i at t_a and V_m from t_a + dt. As NEST requires, every tau_syn differs from tau_m.

    Parameters (NEST defaults):

    ======== ==== ======== ============================================
    E_L      mV   -70      resting potential
    C_m      pF   250      membrane capacitance (> 0)
    tau_m    ms   10       membrane time constant (> 0)
    t_ref    ms   2        refractory period (>= 0)
    V_th     mV   -55      threshold
    V_reset  mV   -70      reset potential (< V_th)
    I_e      pA   0        constant input current
    tau_syn  ms   [2.0]    synaptic time constants, one per receptor (> 0, != tau_m)
    ======== ==== ======== ============================================

    Recordables: V_m, I_syn (sum), I_syn_1 .. I_syn_n (pA).
    """

    name = "iaf_psc_exp_multisynapse"
    parameters = dict(_COMMON)
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
        "i_syn": State("pA", 0.0, "Synaptic currents, (n, n_receptors) (internal)"),
        "_tau_syn": State("ms", 1.0, "tau_syn as an (n, n_receptors) array (internal)"),
    }
    _tau_syn_may_equal_tau_m = False

    @staticmethod
    def _currents(s):
        return s["i_syn"]

    @classmethod
    def prepare(cls, p, dt):
        d = cls._common_prepare(p, dt)
        tau = p["tau_syn_rows"]
        d["p11"] = jnp.exp(-dt / tau)
        d["p21"] = psc_exp_to_v(tau, p["tau_m"][:, None], p["C_m"][:, None], dt)
        return d

    @classmethod
    def update(cls, p, d, s, syn, I):
        p11, p21 = d["p11"], d["p21"]
        v, r, i_syn = s["V_m"], s["refractory_steps"], s["i_syn"]
        free = r == 0
        v_new = v * d["P22"] + (p["I_e"] + I) * d["P20"]
        for k in range(i_syn.shape[1]):
            v_new = v_new + p21[:, k] * i_syn[:, k]
        v = jnp.where(free, v_new, v)
        r = jnp.where(free, r, r - 1)
        i_syn = i_syn * p11 + syn.T
        v, r, spike = cls._fire(d, v, r)
        return {**s, "V_m": v, "refractory_steps": r, "i_syn": i_syn}, spike


@register
class iaf_psc_alpha_multisynapse(_MultisynapseBase):
    """Leaky integrate-and-fire neuron with any number of alpha-shaped current synapses
    (NEST: iaf_psc_alpha_multisynapse).

        dV_m/dt = -(V_m - E_L)/tau_m + (sum_i I_syn_i + I_e + I_gen)/C_m,  V_m >= V_min
        a spike of weight w (pA) with receptor_type i adds the current w (t/tau) exp(1 - t/tau),
        tau = tau_syn[i-1] (peak w after tau)

    Exact integration (see the module docstring); tau_syn may equal tau_m: like NEST, the alpha
    propagator switches to its singular limit when |tau_m - tau_syn| dt <= 1e-7 tau_m^2
    (:func:`nestax.models.propagators.psc_alpha_to_v`). A spike arriving at t_a changes I_syn_i and
    V_m from t_a + dt.

    Parameters (NEST defaults): as iaf_psc_exp_multisynapse (tau_syn > 0, may equal tau_m), plus
    V_min (mV, -inf): lower bound of V_m.

    Recordables: V_m, I_syn (sum), I_syn_1 .. I_syn_n (pA).
    """

    name = "iaf_psc_alpha_multisynapse"
    parameters = {**_COMMON, "V_min": Param(-np.inf, "mV", "Lower bound of V_m")}
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
        "i_syn": State("pA", 0.0, "Synaptic currents (NEST's y2), (n, n_receptors) (internal)"),
        "di_syn": State("pA/ms", 0.0, "Derivative states (NEST's y1), (n, n_receptors) (internal)"),
        "_tau_syn": State("ms", 1.0, "tau_syn as an (n, n_receptors) array (internal)"),
    }
    _per_receptor = ("i_syn", "di_syn")

    @staticmethod
    def _currents(s):
        return s["i_syn"]

    @classmethod
    def prepare(cls, p, dt):
        d = cls._common_prepare(p, dt)
        d["P33"] = d.pop("P22")
        d["P30"] = d.pop("P20")
        d["v_min"] = p["V_min"] - p["E_L"]
        tau = p["tau_syn_rows"]
        tau_m, C = p["tau_m"][:, None], p["C_m"][:, None]
        d["e"] = jnp.exp(-dt / tau)
        d["p31"] = psc_alpha_to_v(tau, tau_m, C, dt)
        d["p32"] = psc_exp_to_v(tau, tau_m, C, dt)
        d["e_over_tau"] = np.e / tau
        return d

    @classmethod
    def update(cls, p, d, s, syn, I):
        dt = d["dt"]
        e, p31, p32 = d["e"], d["p31"], d["p32"]
        v, r, y1, y2 = s["V_m"], s["refractory_steps"], s["di_syn"], s["i_syn"]
        free = r == 0
        v_new = d["P30"] * (I + p["I_e"]) + d["P33"] * v
        for k in range(y1.shape[1]):
            v_new = v_new + (p31[:, k] * y1[:, k] + p32[:, k] * y2[:, k])
        v_new = jnp.maximum(v_new, d["v_min"])
        v = jnp.where(free, v_new, v)
        r = jnp.where(free, r, r - 1)
        y2 = (dt * e) * y1 + e * y2
        y1 = y1 * e + d["e_over_tau"] * syn.T
        v, r, spike = cls._fire(d, v, r)
        return {**s, "V_m": v, "refractory_steps": r, "i_syn": y2, "di_syn": y1}, spike
