"""Adaptive exponential integrate-and-fire neurons with any number of conductance synapses
(NEST: aeif_cond_alpha_multisynapse, aeif_cond_beta_multisynapse).

    C_m dV/dt = -g_L (V - E_L) + Delta_T g_L exp((V - V_th)/Delta_T) + sum_i g_i (E_rev[i] - V) - w + I_e + I_gen
    tau_w dw/dt = a (V - E_L) - w
    per receptor i:  d(dg_i)/dt = -dg_i / tau_1[i],   dg_i/dt = dg_i - g_i / tau_2[i]

alpha: tau_1 = tau_2 = tau_syn[i]; a spike of weight w (nS) adds w e / tau_syn[i] to dg_i.
beta:  tau_1 = tau_rise[i], tau_2 = tau_decay[i]; a spike adds w times NEST's beta normalisation
       factor (:func:`nestax.models.neurons.iaf_cond.beta_normalization`), so g_i peaks at w.

Numerics and update order are those of aeif_cond_alpha (:mod:`nestax.models.neurons.aeif`): GSL RKF45
with the yp error control (absolute and relative tolerance gsl_error_tol), V = min(V_m, V_peak) in the
right-hand side (V_reset with dV/dt = 0 while refractory), the spike test after every accepted internal
step (V_m >= V_peak, or V_th when Delta_T == 0: V_m = V_reset, w += b, refractory for t_ref), then the
refractory countdown, then this step's spike input is added to dg_i; generator current with NEST's
one-step lag. State vector order as NEST's: V_m, w, then (dg_i, g_i) per receptor.

Receptors are numbered 1..n (receptor_type 0 does not exist); weights must be >= 0 (NEST raises on a
negative weight when the spike is delivered; nestax raises when the network is built for simulate).
All neurons of one population share the number of receptors. Per-receptor arrays (E_rev and the time
constants) and the states dg, g are held as (n, K) arrays in the state (built by :meth:`assign`).

Recordables (NEST's dynamic map): V_m, w, g_1 .. g_n.
"""
from __future__ import annotations

import re

import jax.numpy as jnp
import numpy as np

from ...errors import BadParameterError
from ..base import Neuron, Param, State
from ..common import MultiReceptor, resize_per_receptor
from ..registry import register
from .aeif import _CORE, aeif_evolve, check_aeif, i_spike, prepare_aeif, v_eff
from .iaf_cond import beta_normalization

_G = re.compile(r"^g_([1-9][0-9]*)$")


class _Recordables(tuple):
    """V_m, w, and g_<k> for every receptor k >= 1 (the count depends on the population)."""

    def __contains__(self, name):
        return tuple.__contains__(self, name) or (isinstance(name, str) and _G.match(name) is not None)


class _AeifMultisynapse(MultiReceptor, Neuron):
    kind = "neuron"
    weight_unit = "nS"
    _arrays: tuple = ()        # per-receptor parameter arrays, the first one counts the receptors
    _carriers: dict = {}       # internal (n, K) state -> (parameter, padding)
    _receptor_hint = " (create one population per count)"

    @classmethod
    def _check_weights(cls, w):
        """Negative weights are rejected as in NEST."""
        if np.any(w < 0):
            raise BadParameterError(f"{cls.name}: connection weight {float(w[w < 0].ravel()[0])} nS is invalid; "
                                    "expected weights >= 0 nS (conductance-based multisynapse model).")

    @classmethod
    def recordables(cls):
        return _Recordables(("V_m", "w"))

    @classmethod
    def check(cls, p):
        check_aeif(cls, p)
        cls._n_receptors(p)
        for i in range(len(p[cls._arrays[0]])):
            vals = {nm: np.ravel(np.asarray(p[nm][i], float)) for nm in cls._arrays}
            if len({len(v) for v in vals.values()}) != 1:
                raise BadParameterError(
                    f"{cls.name}: parameters {', '.join(repr(n) for n in cls._arrays)} have lengths "
                    f"{[len(v) for v in vals.values()]}; expected arrays of the same length (one value per receptor).")
            for nm, v in vals.items():
                if nm != "E_rev" and np.any(~(v > 0)):
                    raise BadParameterError(f"{cls.name}: parameter {nm!r} = {v.tolist()} ms is invalid; expected "
                                            "every synaptic time constant > 0 ms.")
            cls._check_more(vals)

    @classmethod
    def _check_more(cls, vals):
        pass

    @classmethod
    def observe(cls, p, s, name):
        m = _G.match(name) if isinstance(name, str) else None
        if m:
            k = int(m.group(1))
            if k > s["g"].shape[1]:
                raise BadParameterError(f"{cls.name}: recordable {name!r} does not exist; this population has "
                                        f"{s['g'].shape[1]} receptors (g_1 .. g_{s['g'].shape[1]}).")
            return s["g"][:, k - 1]
        return s[name]

    @classmethod
    def assign(cls, p, s, name, value):
        if name in cls._carriers:
            return cls._carried(p, name)
        if name in ("g", "dg"):
            return resize_per_receptor(value, len(p[cls._receptor_array]), cls._n_receptors(p))
        return value

    @classmethod
    def prepare(cls, p, dt):
        return prepare_aeif(p, dt)

    @classmethod
    def update(cls, p, d, s, syn, I):
        K = s["g"].shape[1]
        E_rev, tau1, tau2, g0 = cls._receptor_constants(s)
        rows = [s["V_m"], s["w"]]
        for i in range(K):
            rows += [s["dg"][:, i], s["g"][:, i]]
        y = jnp.stack(rows)

        def rhs(c, yy, refr, Ii):
            p, E_rev, tau1, tau2 = c
            V = v_eff(p, yy[0], refr)
            w = yy[1]
            i_syn = jnp.zeros_like(V)
            for i in range(K):
                i_syn = i_syn + yy[3 + 2 * i] * (E_rev[:, i] - V)
            dv = (-p["g_L"] * (V - p["E_L"]) + i_spike(p, V) + i_syn - w + p["I_e"] + Ii) / p["C_m"]
            out = [jnp.where(refr, 0.0, dv), (p["a"] * (V - p["E_L"]) - w) / p["tau_w"]]
            for i in range(K):
                dg, g = yy[2 + 2 * i], yy[3 + 2 * i]
                out += [-dg / tau1[:, i], dg - g / tau2[:, i]]
            return jnp.stack(out)

        y, h, r, n, _ = aeif_evolve(rhs, p, d, s, y, I, 1, consts=(p, E_rev, tau1, tau2))
        dg = jnp.stack([y[2 + 2 * i] for i in range(K)], axis=1) + syn.T * g0
        g = jnp.stack([y[3 + 2 * i] for i in range(K)], axis=1)
        return {**s, "V_m": y[0], "w": y[1], "dg": dg, "g": g, "refractory_steps": r, "h": h}, n


_STATE = {
    "V_m": State("mV", "E_L", "Membrane potential"),
    "w": State("pA", 0.0, "Adaptation current"),
    "dg": State("nS/ms", 0.0, "Derivative states of the conductances, (n, receptors)"),
    "g": State("nS", 0.0, "Conductances, (n, receptors)"),
    "refractory_steps": State("1", 0, "Refractory steps left"),
    "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
}



@register
class aeif_cond_alpha_multisynapse(_AeifMultisynapse):
    """AdEx neuron with any number of alpha-shaped conductance synapses (NEST: aeif_cond_alpha_multisynapse).

    Equations, numerics and update order in the module docstring; receptor i has reversal potential
    E_rev[i] and time constant tau_syn[i]; a spike of weight w >= 0 nS on receptor_type i adds
    w e / tau_syn[i] to dg_i after the step in which it arrives, so g_i = w (t/tau) exp(1 - t/tau).

    Parameters (NEST defaults): C_m 281 pF (> 0), g_L 30 nS, E_L -70.6 mV, V_th -50.4 mV,
    Delta_T 2 mV (>= 0), V_peak 0 mV (>= V_th), V_reset -60 mV (< V_peak), t_ref 0 ms (>= 0), a 4 nS,
    b 80.5 pA, tau_w 144 ms (> 0), I_e 0 pA, gsl_error_tol 1e-6 (> 0), E_rev (mV, [0.0]),
    tau_syn (ms, [2.0], > 0; same length as E_rev).
    Recordables: V_m (mV), w (pA), g_1 .. g_n (nS).
    """

    name = "aeif_cond_alpha_multisynapse"
    parameters = {**_CORE,
                  "E_rev": Param((0.0,), "mV", "Reversal potentials, one per receptor", "array"),
                  "tau_syn": Param((2.0,), "ms", "Synaptic time constants, one per receptor", "array")}
    _arrays = ("E_rev", "tau_syn")
    _receptor_array = _arrays[0]
    _carriers = {"_E_rev": ("E_rev", 0.0), "_tau_syn": ("tau_syn", 1.0)}
    state = {**_STATE, **{k: State("1", 0.0, f"{v[0]} as an (n, K) array (internal)") for k, v in _carriers.items()}}

    @classmethod
    def _receptor_constants(cls, s):
        t = s["_tau_syn"]
        return s["_E_rev"], t, t, 1.0 * np.e / t


@register
class aeif_cond_beta_multisynapse(_AeifMultisynapse):
    """AdEx neuron with any number of beta-shaped conductance synapses (NEST: aeif_cond_beta_multisynapse).

    Equations, numerics and update order in the module docstring; receptor i has reversal potential
    E_rev[i], rise time tau_rise[i] (time constant of dg_i) and decay time tau_decay[i] (of g_i); a
    spike of weight w >= 0 nS on receptor_type i adds w times NEST's beta normalisation factor to dg_i
    after the step in which it arrives, so g_i peaks at w (alpha shape when tau_rise == tau_decay).

    Parameters (NEST defaults): C_m 281 pF (> 0), g_L 30 nS, E_L -70.6 mV, V_th -50.4 mV,
    Delta_T 2 mV (>= 0), V_peak 0 mV (>= V_th), V_reset -60 mV (< V_peak), t_ref 0 ms (>= 0), a 4 nS,
    b 80.5 pA, tau_w 144 ms (> 0), I_e 0 pA, gsl_error_tol 1e-6 (> 0), E_rev (mV, [0.0]),
    tau_rise (ms, [2.0], > 0), tau_decay (ms, [20.0], >= tau_rise); the three of equal length.
    Recordables: V_m (mV), w (pA), g_1 .. g_n (nS).
    """

    name = "aeif_cond_beta_multisynapse"
    parameters = {**_CORE,
                  "E_rev": Param((0.0,), "mV", "Reversal potentials, one per receptor", "array"),
                  "tau_rise": Param((2.0,), "ms", "Synaptic rise times, one per receptor", "array"),
                  "tau_decay": Param((20.0,), "ms", "Synaptic decay times, one per receptor", "array")}
    _arrays = ("E_rev", "tau_rise", "tau_decay")
    _receptor_array = _arrays[0]
    _carriers = {"_E_rev": ("E_rev", 0.0), "_tau_rise": ("tau_rise", 1.0), "_tau_decay": ("tau_decay", 1.0)}
    state = {**_STATE, **{k: State("1", 0.0, f"{v[0]} as an (n, K) array (internal)") for k, v in _carriers.items()}}

    @classmethod
    def _check_more(cls, vals):
        if np.any(vals["tau_decay"] < vals["tau_rise"]):
            raise BadParameterError(f"{cls.name}: parameter 'tau_decay' = {vals['tau_decay'].tolist()} ms is "
                                    f"invalid; expected tau_decay >= tau_rise (= {vals['tau_rise'].tolist()} ms) "
                                    "for every receptor.")

    @classmethod
    def _receptor_constants(cls, s):
        tr, td = s["_tau_rise"], s["_tau_decay"]
        return s["_E_rev"], tr, td, beta_normalization(tr, td)
