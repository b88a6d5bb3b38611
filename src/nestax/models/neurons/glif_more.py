"""More of the Allen Institute's GLIF neurons (NEST: glif_psc_double_alpha, glif_cond).

Both share glif_psc's mechanisms (GLIF levels 1-5 chosen by spike_dependent_threshold /
after_spike_currents / adapting_threshold, after-spike currents, spike and voltage threshold
components, reset rules; see :mod:`nestax.models.neurons.glif`) and differ in the synapses:

* glif_psc_double_alpha: every receptor i has two alpha-shaped currents, a fast one (tau_syn_fast[i],
  peak w) and a slow one (tau_syn_slow[i], peak amp_slow[i] w), integrated exactly as in glif_psc;
  I_syn = (sum of the fast currents) + (sum of the slow currents).
* glif_cond: alpha-shaped conductances g_i (tau_syn[i], reversal E_rev[i], peak w nS per spike), the
  membrane integrated with GSL's RKF45 (see glif_cond's docstring).

Receptors are numbered 1..n (receptor_type 0 does not exist); generators connect to port 0.
Per-neuron array parameters and the states that follow their length are kept as (n, K) arrays in the
state (built by :meth:`assign`, internal names start with an underscore), as in glif_psc.
"""
from __future__ import annotations

import re

import jax.numpy as jnp
import numpy as np

from ...errors import BadParameterError
from ..base import Param, State
from ..integrators import rkf45_evolve
from ..propagators import psc_alpha_to_v, psc_exp_to_v
from ..registry import register
from .glif import _PARAMS, _E_L0, _GlifBase, glif_psc


def _asc_step(s, has_asc, dt):
    """After-spike currents: (step-averaged sum, decayed currents) at the start of a free step."""
    k_asc = s["_asc_decay"]
    asc_rate = jnp.exp(-k_asc * dt)
    coeff = ((1.0 / k_asc) / dt) * (1.0 - asc_rate)
    asc = s["ASCurrents"]
    asc_sum = jnp.zeros(asc.shape[0], asc.dtype)
    for j in range(asc.shape[1]):
        asc_sum = asc_sum + coeff[:, j] * asc[:, j]
    asc_sum = jnp.where(has_asc, asc_sum, 0.0)
    return asc_sum, jnp.where(has_asc[:, None], asc * asc_rate, asc)


def _tv_step(d, p, v_old, beta, tv_old):
    """GLIF5's voltage component of the threshold, exact over one step (NEST's expression)."""
    return (d["phi"] * (v_old - beta) * d["pot_decay"]
            + d["tv_decay_inv"] * (tv_old - d["phi"] * (v_old - beta) - d["ab_ratio"] * beta)
            + d["ab_ratio"] * beta)


def _spike_and_reset(p, d, s, u, v_old, ts, tv, asc_dec, free, has_ts, has_asc):
    """Threshold test (U > threshold, strict) and GLIF's reset rules; refractory neurons keep U."""
    thr = ts + tv + d["th_inf"]
    spike = u > thr
    k_asc = s["_asc_decay"]
    asc_spk = jnp.where(has_asc[:, None],
                        s["_asc_amps"] + asc_dec * (s["_asc_r"] * jnp.exp(-k_asc * p["t_ref"][:, None])), asc_dec)
    asc_new = jnp.where(spike[:, None], asc_spk, asc_dec)
    u_spk = jnp.where(has_ts, p["voltage_reset_fraction"] * v_old + p["voltage_reset_add"], d["v_reset"])
    ts_spk = jnp.where(has_ts, ts * d["ts_refr_decay"] + p["th_spike_add"], ts)
    u = jnp.where(spike, u_spk, u)
    ts = jnp.where(spike, ts_spk, ts)
    thr = ts + tv + d["th_inf"]
    r = s["refractory_steps"]
    r_free = jnp.where(spike, d["ref_counts"].astype(r.dtype), r)
    th_ref = s["threshold_spike"] + s["threshold_voltage"] + d["th_inf"]
    out = {
        "V_m": jnp.where(free, u, v_old),
        "threshold_spike": jnp.where(free, ts, s["threshold_spike"]),
        "threshold_voltage": jnp.where(free, tv, s["threshold_voltage"]),
        "threshold": jnp.where(free, thr, th_ref),
        "ASCurrents": jnp.where(free[:, None], asc_new, s["ASCurrents"]),
        "refractory_steps": jnp.where(free, r_free, r - 1),
    }
    return out, free & spike


def _check_arrays(cls, p, names, expected_pos):
    """Every neuron: the receptor arrays ``names`` of equal length, each value > 0 where required."""
    cls._n_receptors(p)
    for i in range(len(p[names[0]])):
        lens = {len(np.ravel(p[nm][i])) for nm in names}
        if len(lens) != 1:
            raise BadParameterError(f"{cls.name}: parameters {', '.join(repr(n) for n in names)} have lengths "
                                    f"{[len(np.ravel(p[nm][i])) for nm in names]}; expected arrays of the same "
                                    "length (one value per receptor).")
        for nm in expected_pos:
            v = np.ravel(np.asarray(p[nm][i], float))
            if np.any(~(v > 0)):
                cls._bad(nm, v.tolist(), f"every value > 0 {cls.parameters[nm].unit}")


# --------------------------------------------------------------------------------------------------
_DA_PARAMS = {k: v for k, v in _PARAMS.items() if k != "tau_syn"}
_DA_PARAMS.update({
    "tau_syn_fast": Param((2.0,), "ms", "Time constants of the fast synaptic currents, one per receptor", "array"),
    "tau_syn_slow": Param((6.0,), "ms", "Time constants of the slow synaptic currents, one per receptor", "array"),
    "amp_slow": Param((0.3,), "1", "Peak of the slow current relative to the fast one, per receptor", "array"),
})


@register
class glif_psc_double_alpha(_GlifBase):
    """GLIF neuron with double alpha-shaped current synapses (NEST: glif_psc_double_alpha).

    GLIF levels 1-5 as glif_psc (module docstrings of glif and glif_more). Each receptor i carries a
    fast and a slow alpha current; a spike of weight w (pA) on receptor i adds w e / tau_syn_fast[i]
    to the fast derivative state and w amp_slow[i] e / tau_syn_slow[i] to the slow one, so the fast
    current peaks at w after tau_syn_fast[i], the slow one at amp_slow[i] w after tau_syn_slow[i].

        C_m dU/dt = -g U + I_gen + sum_j I_asc_j + sum_i (I_fast_i + I_slow_i),   U = V_m - E_L

    Update order (NEST 3.10): identical to glif_psc with the sum over both kernels of every receptor
    in step 2 (fast kernels first, then slow ones; I_syn = I_syn_fast + I_syn_slow at the start of the
    step); refractory: only the countdown; afterwards both kernels advance and take this step's input.
    Exact integration, NEST's alpha propagators (IAFPropagatorAlpha, incl. its tau_syn ~ tau limit).

    Parameters (NEST defaults): as glif_psc without tau_syn, plus tau_syn_fast (ms, [2.0], > 0),
    tau_syn_slow (ms, [6.0], > 0), amp_slow ([0.3], > 0), all three of equal length = number of
    receptors. Recordables: V_m, ASCurrents_sum, I, I_syn, threshold, threshold_spike,
    threshold_voltage.
    """

    name = "glif_psc_double_alpha"
    parameters = _DA_PARAMS
    _carriers = {"_asc_decay": ("asc_decay", 1.0), "_asc_amps": ("asc_amps", 0.0), "_asc_r": ("asc_r", 0.0),
                 "_tau_fast": ("tau_syn_fast", 1.0), "_tau_slow": ("tau_syn_slow", 1.0),
                 "_amp_slow": ("amp_slow", 0.0)}
    state = {
        **{k: v for k, v in glif_psc.state.items() if not k.startswith("_")},
        "y1s": State("pA/ms", 0.0, "Slow alpha-kernel derivative states, (n, receptors) (internal)"),
        "y2s": State("pA", 0.0, "Slow alpha-kernel currents, (n, receptors) (internal)"),
        **{k: State("1", 0.0, f"{v[0]} as an (n, K) array (internal)") for k, v in _carriers.items()},
    }

    _receptor_array = "tau_syn_fast"

    @classmethod
    def recordables(cls):
        return glif_psc.recordables()

    @classmethod
    def check(cls, p):
        _check_arrays(cls, p, ("tau_syn_fast", "tau_syn_slow", "amp_slow"),
                      ("tau_syn_fast", "tau_syn_slow", "amp_slow"))
        super().check({**p, "tau_syn": p["tau_syn_fast"]})

    @classmethod
    def assign(cls, p, s, name, value):
        if name in ("y1s", "y2s"):
            name = "y1"
        return super().assign({**p, "tau_syn": p["tau_syn_fast"]}, s, name, value)

    @classmethod
    def prepare(cls, p, dt):
        return glif_psc.prepare(p, dt)

    @classmethod
    def update(cls, p, d, s, syn, I):
        dt = d["dt"]
        has_ts = p["spike_dependent_threshold"].astype(bool)
        has_asc = p["after_spike_currents"].astype(bool)
        has_tv = p["adapting_threshold"].astype(bool)
        v_old = s["V_m"]
        free = s["refractory_steps"] == 0
        ts = jnp.where(has_ts, s["threshold_spike"] * d["ts_decay"], s["threshold_spike"])
        asc_sum, asc_dec = _asc_step(s, has_asc, dt)
        u = v_old * d["P33"] + (I + asc_sum) * d["P30"]
        tau, cm = d["tau"][:, None], p["C_m"][:, None]
        kernels = ((s["_tau_fast"], s["y1"], s["y2"]), (s["_tau_slow"], s["y1s"], s["y2s"]))
        parts = []
        for tk, y1, y2 in kernels:
            p31, p32 = psc_alpha_to_v(tk, tau, cm, dt), psc_exp_to_v(tk, tau, cm, dt)
            part = jnp.zeros_like(v_old)
            for i in range(y1.shape[1]):
                u = u + (p31[:, i] * y1[:, i] + p32[:, i] * y2[:, i])
                part = part + y2[:, i]
            parts.append(part)
        i_syn = parts[0] + parts[1]
        beta = (I + asc_sum) / p["g"]
        tv = jnp.where(has_tv, _tv_step(d, p, v_old, beta, s["threshold_voltage"]), s["threshold_voltage"])
        out, spike = _spike_and_reset(p, d, s, u, v_old, ts, tv, asc_dec, free, has_ts, has_asc)
        out["ASCurrents_sum"] = jnp.where(free, asc_sum, s["ASCurrents_sum"])
        out["I_syn"] = jnp.where(free, i_syn, s["I_syn"])
        new = {}
        for (tk, y1, y2), names, amp in zip(kernels, (("y1", "y2"), ("y1s", "y2s")), (1.0, s["_amp_slow"])):
            p11 = jnp.exp(-dt / tk)
            y2 = dt * p11 * y1 + p11 * y2
            y1 = y1 * p11 + (np.e / tk * amp) * syn.T
            new[names[0]], new[names[1]] = y1, y2
        return {**s, **out, **new, "I": I}, spike


# --------------------------------------------------------------------------------------------------
_G = re.compile(r"^g_([1-9][0-9]*)$")


class _CondRecordables(tuple):
    """glif_cond's fixed recordables and g_<k> for every receptor k >= 1."""

    def __contains__(self, name):
        return tuple.__contains__(self, name) or (isinstance(name, str) and _G.match(name) is not None)


_COND_PARAMS = {("g_m" if k == "g" else k): v for k, v in _PARAMS.items() if k != "tau_syn"}
_COND_PARAMS.update({
    "tau_syn": Param((0.2, 2.0), "ms", "Time constants of the alpha-shaped conductances, one per receptor", "array"),
    "E_rev": Param((0.0, -85.0), "mV", "Reversal potentials, one per receptor", "array"),
})


@register
class glif_cond(_GlifBase):
    """GLIF neuron with alpha-shaped conductance synapses (NEST: glif_cond).

    GLIF levels 1-5 as glif_psc (see :mod:`nestax.models.neurons.glif`), U = V_m - E_L:

        C_m dU/dt = -g_m U - sum_i g_i (U + E_L - E_rev[i]) + I_gen + ASCurrents_sum
        d(dg_i)/dt = -dg_i / tau_syn[i],   dg_i/dt = dg_i - g_i / tau_syn[i]

    A spike of weight w (nS) on receptor_type i adds w e / tau_syn[i] to dg_i, so g_i peaks at w.

    Update of step k (NEST 3.10):
    1. the whole step is integrated with GSL's RKF45 (absolute error 1e-3 on every component, the
       internal step size kept from step to step), with the ASCurrents_sum and generator current of
       the previous update held constant; while refractory dU/dt = 0;
    2. not refractory: th_spike decays; ASCurrents_sum = sum_j c_j I_asc_j (step average) and the
       currents decay; GLIF5's th_voltage is propagated exactly from U_old (U at the start of the
       step) with beta = (I_gen + ASCurrents_sum) / g_m; if U > threshold (strict): spike stamped
       (k+1) dt, refractory for t_ref, the reset rules of glif_psc (GLIF1/3: U = V_reset, else
       U = voltage_reset_fraction U_old + voltage_reset_add and th_spike jumps), ASC jump;
       refractory: count down, U = U_old;
    3. this step's spike input is added to dg_i.

    Parameters (NEST defaults): as glif_psc with g renamed g_m (nS, 9.43, > 0), plus
    tau_syn (ms, [0.2, 2.0], > 0) and E_rev (mV, [0.0, -85.0]), of equal length = number of receptors.
    Recordables: V_m, ASCurrents_sum, I, threshold, threshold_spike, threshold_voltage, g_1 .. g_n.
    """

    name = "glif_cond"
    weight_unit = "nS"
    parameters = _COND_PARAMS
    _carriers = {"_asc_decay": ("asc_decay", 1.0), "_asc_amps": ("asc_amps", 0.0), "_asc_r": ("asc_r", 0.0),
                 "_tau_syn": ("tau_syn", 1.0), "_E_rev": ("E_rev", 0.0)}
    state = {
        **{k: v for k, v in glif_psc.state.items() if not k.startswith("_") and k not in ("y1", "y2", "I_syn")},
        "dg": State("nS/ms", 0.0, "Derivative states of the conductances, (n, receptors)"),
        "g": State("nS", 0.0, "Conductances, (n, receptors)"),
        "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
        **{k: State("1", 0.0, f"{v[0]} as an (n, K) array (internal)") for k, v in _carriers.items()},
    }

    @classmethod
    def recordables(cls):
        return _CondRecordables(("V_m", "ASCurrents_sum", "I", "threshold", "threshold_spike", "threshold_voltage"))

    @classmethod
    def check(cls, p):
        cls._positive(p, "g_m")
        _check_arrays(cls, p, ("tau_syn", "E_rev"), ("tau_syn",))
        super().check({**p, "g": p["g_m"]})

    @classmethod
    def _positive(cls, p, *names):
        # glif_psc's check names the membrane conductance g; here it is g_m (checked above)
        super()._positive(p, *(n for n in names if n != "g"))

    @classmethod
    def observe(cls, p, s, name):
        m = _G.match(name) if isinstance(name, str) else None
        if m:
            k = int(m.group(1))
            if k > s["g"].shape[1]:
                raise BadParameterError(f"{cls.name}: recordable {name!r} does not exist; this population has "
                                        f"{s['g'].shape[1]} receptors (g_1 .. g_{s['g'].shape[1]}).")
            return s["g"][:, k - 1]
        return super().observe(p, s, name)

    @classmethod
    def assign(cls, p, s, name, value):
        if name in ("g", "dg"):
            name = "y1"
        return super().assign(p, s, name, value)

    @classmethod
    def prepare(cls, p, dt):
        return glif_psc.prepare({**p, "g": p["g_m"]}, dt)

    @classmethod
    def update(cls, p, d, s, syn, I):
        dt = d["dt"]
        has_ts = p["spike_dependent_threshold"].astype(bool)
        has_asc = p["after_spike_currents"].astype(bool)
        has_tv = p["adapting_threshold"].astype(bool)
        v_old = s["V_m"]
        free = s["refractory_steps"] == 0
        K = s["g"].shape[1]
        tau, E_rev, E_L = s["_tau_syn"], s["_E_rev"], p["E_L"]
        rows = [v_old]
        for i in range(K):
            rows += [s["dg"][:, i], s["g"][:, i]]
        y = jnp.stack(rows)

        def rhs(yy, args):
            refr, Ii, asc = args
            V = jnp.where(refr, d["v_reset"], yy[0])
            i_syn = jnp.zeros_like(V)
            for i in range(K):
                i_syn = i_syn + yy[2 + 2 * i] * (V + E_L - E_rev[:, i])
            out = [jnp.where(refr, 0.0, (-(p["g_m"] * V) - i_syn + Ii + asc) / p["C_m"])]
            for i in range(K):
                dg, g = yy[1 + 2 * i], yy[2 + 2 * i]
                out += [-dg / tau[:, i], dg - g / tau[:, i]]
            return jnp.stack(out)

        h0 = jnp.where(s["h"] > 0, s["h"], dt)
        y, h, _ = rkf45_evolve(rhs, y, h0, dt, (~free, I, s["ASCurrents_sum"]),
                               eps_abs=1e-3, eps_rel=0.0, a_y=1.0, a_dydt=0.0)
        ts = jnp.where(has_ts, s["threshold_spike"] * d["ts_decay"], s["threshold_spike"])
        asc_sum, asc_dec = _asc_step(s, has_asc, dt)
        beta = (I + asc_sum) / p["g_m"]
        tv = jnp.where(has_tv, _tv_step(d, p, v_old, beta, s["threshold_voltage"]), s["threshold_voltage"])
        out, spike = _spike_and_reset(p, d, s, y[0], v_old, ts, tv, asc_dec, free, has_ts, has_asc)
        out["ASCurrents_sum"] = jnp.where(free, asc_sum, s["ASCurrents_sum"])
        dg = jnp.stack([y[1 + 2 * i] for i in range(K)], axis=1) + syn.T * (1.0 * np.e / tau)
        g = jnp.stack([y[2 + 2 * i] for i in range(K)], axis=1)
        return {**s, **out, "dg": dg, "g": g, "h": h, "I": I}, spike
