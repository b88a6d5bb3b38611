"""Adaptive exponential integrate-and-fire neurons (NEST: aeif_cond_exp, aeif_cond_alpha, aeif_psc_exp,
aeif_psc_alpha, aeif_psc_delta).

Brette & Gerstner's AdEx model with NEST's synapse variants:

    C_m dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_th) / Delta_T) + I_syn - w + I_e + I_gen
    tau_w dw/dt = a (V - E_L) - w

where I_syn is -g_ex (V - E_ex) - g_in (V - E_in) for the conductance models and I_syn_ex - I_syn_in
for the current models (aeif_psc_delta has no synaptic state: a spike of weight J mV moves V_m by J).

Numerics (NEST 3.10, reproduced step for step): every simulation step is integrated with GSL's
adaptive RKF45 (:func:`nestax.models.integrators.rkf45_evolve`) under the ``yp`` error control with
absolute and relative tolerance ``gsl_error_tol`` (error scale eps (1 + h |dy/dt|)); the proposed
internal step size survives from step to step and starts at dt. Inside the right-hand side

* V is replaced by min(V_m, V_peak) (the exponential term cannot overflow), and
* while refractory V = V_reset, dV/dt = 0 (w still relaxes towards a (V_reset - E_L)).

The spike test runs INSIDE the integration loop, after every accepted internal step:

* refractory: V_m = V_reset;
* else if V_m >= V_peak (V_th when Delta_T == 0): V_m = V_reset, w += b, the refractory counter is
  set to round(t_ref/dt) + 1 steps (0 when t_ref rounds to 0 steps, so that with the default
  t_ref = 0 the neuron can fire again within the same step), a spike stamped (k+1) dt is emitted.
  Several spikes in one step are emitted as a spike count (multiplicity).

After the integration of step k: the refractory counter counts down by one; the spike input
arriving in this step is added (exp: g / I_syn jumps, so V_m responds from the next step; alpha:
the derivative state jumps by w e / tau_syn, g / I_syn moves from the next step); the generator
current of this step is used from the next step on (NEST's one-step lag, done by the engine).
aeif_psc_delta instead adds its spike input to V_m after the FIRST accepted internal step of the
step in which it arrives (and only if not refractory; with ``refractory_input`` the input is kept,
discounted by exp(-r dt / tau_m), tau_m = C_m / g_L, r the refractory steps left, and added when the
neuron leaves refractoriness).

With Delta_T == 0 the exponential term vanishes and spikes are tested against V_th (NEST's
integrate-and-fire limit); V is still bounded by V_peak inside the right-hand side.

NEST raises NumericalInstability when V_m < -1e3 mV or |w| > 1e6 pA; nestax does not check this.

Reproducibility: before a neuron's first spike nestax follows NEST to rounding (XLA's exp differs
from glibc's by up to ~1 ulp). While V_m runs up to V_peak the exponential term is huge and the RKF45
error estimate is cancellation noise, so NEST's accept/reject decisions there (and with them the
internal step size after a spike and the exact reset time within the step) depend on last-bit
rounding; afterwards traces agree to the integrator's accuracy (~1e-9 to 1e-5 relative), spike
steps stay identical.

NEST 3.10 quirk not reproduced: aeif_psc_delta with ``refractory_input=True`` turns V_m into NaN
after the first refractory period (NEST's refractory counter is unsigned, so its discount
exp(-r dt / tau_m) overflows to inf and 0 * inf = NaN); nestax applies the intended discount.
"""
from __future__ import annotations

from collections.abc import Mapping

import jax.numpy as jnp
import numpy as np

from ..base import Neuron, Param, State
from ..common import ConductanceRouting, OnePortRouting
from ..integrators import rkf45_evolve, rkf45_fixed
from ..propagators import refractory_steps
from ..registry import register
from ..surrogate import EXACT

_MAX_EXP_ARG = float(np.log(np.finfo(np.float64).max / 1e20))

_CORE = {
    "C_m": Param(281.0, "pF", "Membrane capacitance"),
    "g_L": Param(30.0, "nS", "Leak conductance"),
    "E_L": Param(-70.6, "mV", "Leak reversal potential"),
    "V_th": Param(-50.4, "mV", "Spike initiation threshold (centre of the exponential term)"),
    "Delta_T": Param(2.0, "mV", "Slope factor of the exponential term"),
    "V_peak": Param(0.0, "mV", "Spike detection threshold"),
    "V_reset": Param(-60.0, "mV", "Reset potential"),
    "t_ref": Param(0.0, "ms", "Duration of the refractory period"),
    "a": Param(4.0, "nS", "Subthreshold adaptation"),
    "b": Param(80.5, "pA", "Spike-triggered adaptation"),
    "tau_w": Param(144.0, "ms", "Adaptation time constant"),
    "I_e": Param(0.0, "pA", "Constant input current"),
    "gsl_error_tol": Param(1e-6, "1", "Absolute and relative error tolerance of the RKF45 integrator"),
}
_SYN_TAUS = {
    "tau_syn_ex": Param(0.2, "ms", "Excitatory synaptic time constant"),
    "tau_syn_in": Param(2.0, "ms", "Inhibitory synaptic time constant"),
}
_REVERSALS = {
    "E_ex": Param(0.0, "mV", "Excitatory reversal potential"),
    "E_in": Param(-85.0, "mV", "Inhibitory reversal potential"),
}
_INTERNAL = {
    "refractory_steps": State("1", 0, "Refractory steps left"),
    "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
}


def check_aeif(cls, p, time_constants=("tau_w",)):
    """NEST's parameter constraints shared by the aeif family."""
    v_peak, v_th, dT = (np.asarray(p[k], float) for k in ("V_peak", "V_th", "Delta_T"))
    cls._require(p, "V_reset", np.asarray(p["V_reset"]) < v_peak,
                 f"V_reset < V_peak (V_peak = {v_peak.ravel()[0]} mV)")
    cls._nonnegative(p, "Delta_T")
    with np.errstate(divide="ignore", invalid="ignore"):
        arg = np.where(dT > 0, (v_peak - v_th) / np.where(dT > 0, dT, 1.0), 0.0)
    cls._require(p, "Delta_T", arg < _MAX_EXP_ARG,
                 f"(V_peak - V_th) / Delta_T < {_MAX_EXP_ARG:.4g} (exp would overflow at spike time)")
    cls._require(p, "V_peak", v_peak >= v_th, f"V_peak >= V_th (V_th = {v_th.ravel()[0]} mV)")
    cls._positive(p, "C_m")
    cls._nonnegative(p, "t_ref")
    cls._positive(p, *time_constants)
    cls._positive(p, "gsl_error_tol")


def prepare_aeif(p, dt):
    counts = refractory_steps(p["t_ref"], dt)
    return {"dt": dt,
            # refractory counter set at a spike: NEST adds 1 for the count-down after the loop
            "ref_set": jnp.where(counts > 0, counts + 1, 0).astype(jnp.int32),
            # spike detection threshold: V_peak, or V_th in the Delta_T == 0 limit
            "V_spike": jnp.where(p["Delta_T"] > 0, p["V_peak"], p["V_th"])}


def v_eff(p, v, refr):
    """V seen by the right-hand side: V_reset while refractory, else min(V_m, V_peak)."""
    return jnp.where(refr, p["V_reset"], jnp.minimum(v, p["V_peak"]))


def i_spike(p, V):
    """g_L Delta_T exp((V - V_th)/Delta_T), 0 when Delta_T == 0."""
    dT = p["Delta_T"]
    pos = dT > 0
    return jnp.where(pos, p["g_L"] * dT * jnp.exp((V - p["V_th"]) / jnp.where(pos, dT, 1.0)), 0.0)


#: differentiable mode: spikes are detected at V_th + DIFF_CUT Delta_T (at most V_peak), see aeif_evolve
DIFF_CUT = 5.0


def aeif_evolve(rhs, p, d, s, y, I, w_index, extra=None, extra_post=None, consts=None, threshold=EXACT):
    """Integrate one step of ``dy/dt = rhs(consts, y, refractory, I)`` with NEST's in-loop spike handling.

    ``consts``: the per-neuron values the right-hand side needs (and ``extra_post(consts, v, r, extra,
    accepted)``, if given); they travel through the integrator's arguments, never a closure, so
    that the integrator can iterate a subset of the neurons (see ``rkf45_evolve(compact=True)``).

    ``threshold`` (:mod:`nestax.models.surrogate`): a differentiable one tests and resets spikes through
    it after each of ``threshold.ode_substeps`` fixed RKF45 steps (the spike count is then a float).

    Returns (y, h, refractory steps after the count-down, spike count, extra)."""
    h = jnp.where(s["h"] > 0, s["h"], d["dt"])
    r0 = s["refractory_steps"].astype(jnp.int32)
    n0 = jnp.zeros_like(r0)
    tol = p["gsl_error_tol"]

    def post(yy, args, acc):
        r, Ii, n, ex, (c, pp, dd) = args
        v = yy[0]
        if extra_post is not None:
            v, ex = extra_post(c, v, r, ex, acc)
        refr = r > 0
        spike = acc & ~refr & (v >= dd["V_spike"])
        v = jnp.where(acc & (refr | spike), pp["V_reset"], v)
        w = jnp.where(spike, yy[w_index] + pp["b"], yy[w_index])
        r = jnp.where(spike, dd["ref_set"], r)
        yy = yy.at[0].set(v).at[w_index].set(w)
        return yy, (r, Ii, n + spike.astype(n.dtype), ex, (c, pp, dd))

    if threshold.differentiable:
        # fixed steps cannot follow the exponential run-up to V_peak (a stiff blow-up): the spike is
        # detected, and the right-hand side capped, at V_cut = min(V_peak, V_th + DIFF_CUT Delta_T),
        # from where V_m would reach V_peak within a small fraction of a step (docs/gradients.md)
        v_cut = jnp.where(p["Delta_T"] > 0, jnp.minimum(p["V_peak"], p["V_th"] + DIFF_CUT * p["Delta_T"]), p["V_th"])
        if isinstance(consts, Mapping):
            consts = {**consts, "V_peak": v_cut}
        elif isinstance(consts, tuple) and isinstance(consts[0], Mapping):
            consts = ({**consts[0], "V_peak": v_cut},) + tuple(consts[1:])
        d = {**d, "V_spike": v_cut}

        def post_diff(yy, args, acc):  # after each fixed step: input handling, V held while refractory
            r, Ii, n, ex, (c, pp, dd) = args
            v = yy[0]
            if extra_post is not None:
                v, ex = extra_post(c, v, r, ex, acc)
            yy = yy.at[0].set(jnp.where(r > 0, pp["V_reset"], v))
            return yy, (r, Ii, n, ex, (c, pp, dd))

        y, (r, _, _, ex, _) = rkf45_fixed(lambda yy, a: rhs(a[4][0], yy, a[0] > 0, a[1]), y, d["dt"],
                                          (r0, I, n0, extra, (consts, p, d)), threshold.ode_substeps,
                                          post=post_diff)
        # the spike test once, at the end of the step (one surrogate per step, whatever ode_substeps)
        refr = r > 0
        spike = jnp.where(refr, 0.0, threshold.spike(y[0], d["V_spike"]))
        v = jnp.where(refr, p["V_reset"], threshold.reset(spike, p["V_reset"], y[0]))
        w = threshold.reset(spike, y[w_index] + p["b"], y[w_index])
        y = y.at[0].set(v).at[w_index].set(w)
        r = jnp.where(spike > 0, d["ref_set"], r)
        r = jnp.where(r > 0, r - 1, r)
        return y, h, r, spike, ex
    y, h, (r, _, n, ex, _) = rkf45_evolve(lambda yy, a: rhs(a[4][0], yy, a[0] > 0, a[1]), y, h, d["dt"],
                                          (r0, I, n0, extra, (consts, p, d)), eps_abs=tol, eps_rel=tol,
                                          a_y=0.0, a_dydt=1.0, post=post, compact=True)
    r = jnp.where(r > 0, r - 1, r)
    return y, h, r, n, ex


class _AeifBase(ConductanceRouting, Neuron):
    kind = "neuron"
    ports = ("ex", "in")
    _time_constants = ("tau_syn_ex", "tau_syn_in", "tau_w")
    _y: tuple = ()           # state vector layout (NEST's order)

    @classmethod
    def check(cls, p):
        check_aeif(cls, p, cls._time_constants)

    @classmethod
    def prepare(cls, p, dt):
        return prepare_aeif(p, dt)

    @classmethod
    def _add_input(cls, p, d, y, syn):
        return y

    @classmethod
    def update(cls, p, d, s, syn, I, threshold=EXACT):
        y = jnp.stack([s[k] for k in cls._y])
        y, h, r, n, _ = aeif_evolve(cls._rhs, p, d, s, y, I, cls._y.index("w"), consts=p, threshold=threshold)
        y = cls._add_input(p, d, y, syn)
        out = {k: y[i] for i, k in enumerate(cls._y)}
        out.update(refractory_steps=r, h=h)
        return out, n


class _ExpInput:
    # exponential kernels, state (V_m, x_ex, x_in, w): a spike adds its weight to x_ex or x_in
    @classmethod
    def _add_input(cls, p, d, y, syn):
        return y.at[1].add(syn[0]).at[2].add(syn[1])


class _AlphaInput:
    # alpha kernels, state (V_m, dx_ex, x_ex, dx_in, x_in, w): a spike adds w e / tau_syn to dx, so that
    # x peaks at w after tau_syn
    @classmethod
    def prepare(cls, p, dt):
        d = prepare_aeif(p, dt)
        d["x0_ex"] = 1.0 * np.e / p["tau_syn_ex"]
        d["x0_in"] = 1.0 * np.e / p["tau_syn_in"]
        return d

    @classmethod
    def _add_input(cls, p, d, y, syn):
        return y.at[1].add(syn[0] * d["x0_ex"]).at[3].add(syn[1] * d["x0_in"])


@register
class aeif_cond_exp(_ExpInput, _AeifBase):
    """Adaptive exponential integrate-and-fire neuron, exponential conductances (NEST: aeif_cond_exp).

    C_m dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_th)/Delta_T) - g_ex (V - E_ex) - g_in (V - E_in)
                - w + I_e + I_gen
    tau_w dw/dt = a (V - E_L) - w,   dg_ex/dt = -g_ex / tau_syn_ex,   dg_in/dt = -g_in / tau_syn_in
    with V = min(V_m, V_peak) (V_reset and dV/dt = 0 while refractory). Spike at V_m >= V_peak
    (V_th if Delta_T == 0), tested after every accepted RKF45 step: V_m = V_reset, w += b,
    refractory for t_ref. A spike of weight w nS adds |w| to g_ex (w > 0) or g_in (w <= 0) at its
    arrival; V_m responds from the next step. See the module docstring for the update order.

    Parameters (NEST defaults): C_m 281 pF (> 0), g_L 30 nS, E_L -70.6 mV, V_th -50.4 mV,
    Delta_T 2 mV (>= 0), V_peak 0 mV (>= V_th), V_reset -60 mV (< V_peak), t_ref 0 ms (>= 0), a 4 nS,
    b 80.5 pA, tau_w 144 ms (> 0), E_ex 0 mV, E_in -85 mV, tau_syn_ex 0.2 ms (> 0),
    tau_syn_in 2 ms (> 0), I_e 0 pA, gsl_error_tol 1e-6 (> 0).
    Recordables: V_m (mV), g_ex (nS), g_in (nS), w (pA).
    """

    name = "aeif_cond_exp"
    differentiable = True  # update(threshold=...): surrogate spikes, fixed RKF45 steps
    weight_unit = "nS"
    parameters = {**_CORE, **_REVERSALS, **_SYN_TAUS}
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "g_ex": State("nS", 0.0, "Excitatory conductance"),
        "g_in": State("nS", 0.0, "Inhibitory conductance"),
        "w": State("pA", 0.0, "Adaptation current"),
        **_INTERNAL,
    }
    _y = ("V_m", "g_ex", "g_in", "w")

    @classmethod
    def recordables(cls):
        return ("V_m", "g_ex", "g_in", "w")

    @classmethod
    def _rhs(cls, p, y, refr, I):
        V = v_eff(p, y[0], refr)
        g_ex, g_in, w = y[1], y[2], y[3]
        i_ex = g_ex * (V - p["E_ex"])
        i_in = g_in * (V - p["E_in"])
        dv = (-p["g_L"] * (V - p["E_L"]) + i_spike(p, V) - i_ex - i_in - w + p["I_e"] + I) / p["C_m"]
        return jnp.stack([jnp.where(refr, 0.0, dv), -g_ex / p["tau_syn_ex"], -g_in / p["tau_syn_in"],
                          (p["a"] * (V - p["E_L"]) - w) / p["tau_w"]])


@register
class aeif_cond_alpha(_AlphaInput, _AeifBase):
    """Adaptive exponential integrate-and-fire neuron, alpha-shaped conductances (NEST: aeif_cond_alpha).

    C_m dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_th)/Delta_T) - g_ex (V - E_ex) - g_in (V - E_in)
                - w + I_e + I_gen
    tau_w dw/dt = a (V - E_L) - w,   d(dg_X)/dt = -dg_X / tau_syn_X,   dg_X/dt = dg_X - g_X / tau_syn_X
    with V = min(V_m, V_peak) (V_reset and dV/dt = 0 while refractory). A spike of weight w nS adds
    |w| e / tau_syn_X to dg_X after the step in which it arrives, so g_X = |w| (t/tau) exp(1 - t/tau)
    peaks at |w|. Spike handling as aeif_cond_exp (see the module docstring).

    Parameters (NEST defaults): C_m 281 pF (> 0), g_L 30 nS, E_L -70.6 mV, V_th -50.4 mV,
    Delta_T 2 mV (>= 0), V_peak 0 mV (>= V_th), V_reset -60 mV (< V_peak), t_ref 0 ms (>= 0), a 4 nS,
    b 80.5 pA, tau_w 144 ms (> 0), E_ex 0 mV, E_in -85 mV, tau_syn_ex 0.2 ms (> 0),
    tau_syn_in 2 ms (> 0), I_e 0 pA, gsl_error_tol 1e-6 (> 0).
    Recordables: V_m (mV), g_ex (nS), g_in (nS), w (pA).
    """

    name = "aeif_cond_alpha"
    differentiable = True  # update(threshold=...): surrogate spikes, fixed RKF45 steps
    settable_state = ("V_m", "g_ex", "dg_ex", "g_in", "dg_in", "w")  # what NEST's SetStatus accepts
    weight_unit = "nS"
    parameters = {**_CORE, **_REVERSALS, **_SYN_TAUS}
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "dg_ex": State("nS/ms", 0.0, "Derivative state of the excitatory conductance"),
        "g_ex": State("nS", 0.0, "Excitatory conductance"),
        "dg_in": State("nS/ms", 0.0, "Derivative state of the inhibitory conductance"),
        "g_in": State("nS", 0.0, "Inhibitory conductance"),
        "w": State("pA", 0.0, "Adaptation current"),
        **_INTERNAL,
    }
    _y = ("V_m", "dg_ex", "g_ex", "dg_in", "g_in", "w")

    @classmethod
    def recordables(cls):
        return ("V_m", "g_ex", "g_in", "w")

    @classmethod
    def _rhs(cls, p, y, refr, I):
        V = v_eff(p, y[0], refr)
        dg_ex, g_ex, dg_in, g_in, w = y[1], y[2], y[3], y[4], y[5]
        i_ex = g_ex * (V - p["E_ex"])
        i_in = g_in * (V - p["E_in"])
        dv = (-p["g_L"] * (V - p["E_L"]) + i_spike(p, V) - i_ex - i_in - w + p["I_e"] + I) / p["C_m"]
        return jnp.stack([jnp.where(refr, 0.0, dv),
                          -dg_ex / p["tau_syn_ex"], dg_ex - g_ex / p["tau_syn_ex"],
                          -dg_in / p["tau_syn_in"], dg_in - g_in / p["tau_syn_in"],
                          (p["a"] * (V - p["E_L"]) - w) / p["tau_w"]])


@register
class aeif_psc_exp(_ExpInput, _AeifBase):
    """Adaptive exponential integrate-and-fire neuron, exponential synaptic currents (NEST: aeif_psc_exp).

    C_m dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_th)/Delta_T) + I_syn_ex - I_syn_in - w + I_e + I_gen
    tau_w dw/dt = a (V - E_L) - w,   dI_syn_X/dt = -I_syn_X / tau_syn_X
    with V = min(V_m, V_peak) (V_reset and dV/dt = 0 while refractory). A spike of weight w pA adds
    |w| to I_syn_ex (w > 0) or I_syn_in (w <= 0; I_syn_in is positive and subtracted) at its arrival;
    V_m responds from the next step. Spike handling as aeif_cond_exp (see the module docstring).

    Parameters (NEST defaults): C_m 281 pF (> 0), g_L 30 nS, E_L -70.6 mV, V_th -50.4 mV,
    Delta_T 2 mV (>= 0), V_peak 0 mV (>= V_th), V_reset -60 mV (< V_peak), t_ref 0 ms (>= 0), a 4 nS,
    b 80.5 pA, tau_w 144 ms (> 0), tau_syn_ex 0.2 ms (> 0), tau_syn_in 2 ms (> 0), I_e 0 pA,
    gsl_error_tol 1e-6 (> 0).
    Recordables: V_m (mV), I_syn_ex (pA), I_syn_in (pA), w (pA).
    """

    name = "aeif_psc_exp"
    differentiable = True  # update(threshold=...): surrogate spikes, fixed RKF45 steps
    weight_unit = "pA"
    parameters = {**_CORE, **_SYN_TAUS}
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "I_syn_ex": State("pA", 0.0, "Excitatory synaptic current"),
        "I_syn_in": State("pA", 0.0, "Inhibitory synaptic current (positive, subtracted)"),
        "w": State("pA", 0.0, "Adaptation current"),
        **_INTERNAL,
    }
    _y = ("V_m", "I_syn_ex", "I_syn_in", "w")

    @classmethod
    def recordables(cls):
        return ("V_m", "I_syn_ex", "I_syn_in", "w")

    @classmethod
    def _rhs(cls, p, y, refr, I):
        V = v_eff(p, y[0], refr)
        i_ex, i_in, w = y[1], y[2], y[3]
        dv = (-p["g_L"] * (V - p["E_L"]) + i_spike(p, V) + i_ex - i_in - w + p["I_e"] + I) / p["C_m"]
        return jnp.stack([jnp.where(refr, 0.0, dv), -i_ex / p["tau_syn_ex"], -i_in / p["tau_syn_in"],
                          (p["a"] * (V - p["E_L"]) - w) / p["tau_w"]])


@register
class aeif_psc_alpha(_AlphaInput, _AeifBase):
    """Adaptive exponential integrate-and-fire neuron, alpha-shaped synaptic currents (NEST: aeif_psc_alpha).

    C_m dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_th)/Delta_T) + I_syn_ex - I_syn_in - w + I_e + I_gen
    tau_w dw/dt = a (V - E_L) - w,   d(dI_X)/dt = -dI_X / tau_syn_X,   dI_syn_X/dt = dI_X - I_syn_X / tau_syn_X
    with V = min(V_m, V_peak) (V_reset and dV/dt = 0 while refractory). A spike of weight w pA adds
    |w| e / tau_syn_X to dI_X after the step in which it arrives, so I_syn_X peaks at |w|.
    Spike handling as aeif_cond_exp (see the module docstring).

    Parameters (NEST defaults): C_m 281 pF (> 0), g_L 30 nS, E_L -70.6 mV, V_th -50.4 mV,
    Delta_T 2 mV (>= 0), V_peak 0 mV (>= V_th), V_reset -60 mV (< V_peak), t_ref 0 ms (>= 0), a 4 nS,
    b 80.5 pA, tau_w 144 ms (> 0), tau_syn_ex 0.2 ms (> 0), tau_syn_in 2 ms (> 0), I_e 0 pA,
    gsl_error_tol 1e-6 (> 0).
    Recordables: V_m (mV), I_syn_ex (pA), I_syn_in (pA), w (pA).
    """

    name = "aeif_psc_alpha"
    differentiable = True  # update(threshold=...): surrogate spikes, fixed RKF45 steps
    settable_state = ("V_m", "I_syn_ex", "dI_syn_ex", "I_syn_in", "dI_syn_in", "w")  # what NEST's SetStatus accepts
    weight_unit = "pA"
    parameters = {**_CORE, **_SYN_TAUS}
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "dI_syn_ex": State("pA/ms", 0.0, "Derivative state of the excitatory current"),
        "I_syn_ex": State("pA", 0.0, "Excitatory synaptic current"),
        "dI_syn_in": State("pA/ms", 0.0, "Derivative state of the inhibitory current"),
        "I_syn_in": State("pA", 0.0, "Inhibitory synaptic current (positive, subtracted)"),
        "w": State("pA", 0.0, "Adaptation current"),
        **_INTERNAL,
    }
    _y = ("V_m", "dI_syn_ex", "I_syn_ex", "dI_syn_in", "I_syn_in", "w")

    @classmethod
    def recordables(cls):
        return ("V_m", "I_syn_ex", "I_syn_in", "w")

    @classmethod
    def _rhs(cls, p, y, refr, I):
        V = v_eff(p, y[0], refr)
        di_ex, i_ex, di_in, i_in, w = y[1], y[2], y[3], y[4], y[5]
        dv = (-p["g_L"] * (V - p["E_L"]) + i_spike(p, V) + i_ex - i_in - w + p["I_e"] + I) / p["C_m"]
        return jnp.stack([jnp.where(refr, 0.0, dv),
                          -di_ex / p["tau_syn_ex"], di_ex - i_ex / p["tau_syn_ex"],
                          -di_in / p["tau_syn_in"], di_in - i_in / p["tau_syn_in"],
                          (p["a"] * (V - p["E_L"]) - w) / p["tau_w"]])


@register
class aeif_psc_delta(OnePortRouting, _AeifBase):
    """Adaptive exponential integrate-and-fire neuron, delta synapses (NEST: aeif_psc_delta).

    C_m dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_th)/Delta_T) - w + I_e + I_gen
    tau_w dw/dt = a (V - E_L) - w
    with V = min(V_m, V_peak) (V_reset and dV/dt = 0 while refractory). A spike of weight J (mV,
    either sign) moves V_m by J after the first accepted RKF45 step of the step in which it arrives
    (NEST's order; the spike test follows, so the jump can trigger a spike in that step). Input
    arriving while refractory is dropped, unless ``refractory_input``: then it is kept, discounted
    by exp(-r dt / tau_m) with tau_m = C_m / g_L and r the refractory steps left at arrival, and
    added when refractoriness ends. Spike handling as aeif_cond_exp (see the module docstring).
    As in NEST the right-hand side multiplies by precomputed 1/Delta_T, 1/C_m and 1/tau_w.

    Parameters (NEST defaults): C_m 281 pF (> 0), g_L 30 nS, E_L -70.6 mV, V_th -50.4 mV,
    Delta_T 2 mV (>= 0), V_peak 0 mV (>= V_th), V_reset -60 mV (< V_peak), t_ref 0 ms (>= 0), a 4 nS,
    b 80.5 pA, tau_w 144 ms (> 0), I_e 0 pA, gsl_error_tol 1e-6 (> 0), refractory_input (False).
    Recordables: V_m (mV), w (pA).
    """

    name = "aeif_psc_delta"
    differentiable = True  # update(threshold=...): surrogate spikes, fixed RKF45 steps
    weight_unit = "mV"
    ports = ("in",)
    parameters = {**_CORE,
                  "refractory_input": Param(False, "1", "Keep spikes arriving during refractoriness", "bool")}
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "w": State("pA", 0.0, "Adaptation current"),
        "refr_spikes_buffer": State("mV", 0.0, "Input held back during refractoriness"),
        **_INTERNAL,
    }
    _y = ("V_m", "w")
    _time_constants = ("tau_w",)

    @classmethod
    def recordables(cls):
        return ("V_m", "w")

    @classmethod
    def prepare(cls, p, dt):
        d = prepare_aeif(p, dt)
        pos = p["Delta_T"] > 0
        d["Delta_T_inv"] = jnp.where(pos, 1.0 / jnp.where(pos, p["Delta_T"], 1.0), 0.0)
        d["C_m_inv"] = 1.0 / p["C_m"]
        d["tau_w_inv"] = 1.0 / p["tau_w"]
        d["tau_m"] = p["C_m"] / p["g_L"]
        return d

    @classmethod
    def update(cls, p, d, s, syn, I, threshold=EXACT):
        y = jnp.stack([s["V_m"], s["w"]])
        def add_input(c, v, r, ex, acc):
            pp, dd = c
            keep = pp["refractory_input"].astype(bool)
            pend, buf = ex
            free = acc & (r == 0)
            v = jnp.where(free, v + pend, v)
            v = jnp.where(free & keep & (buf != 0.0), v + buf, v)
            held = acc & (r > 0) & keep
            buf = jnp.where(free & keep, 0.0, jnp.where(held, buf + pend * jnp.exp(-r * dd["dt"] / dd["tau_m"]), buf))
            pend = jnp.where(acc, 0.0, pend)   # the ring-buffer entry is read once, at the first step
            return v, (pend, buf)

        y, h, r, n, (_, buf) = aeif_evolve(lambda c, yy, refr, Ii: cls._rhs_delta(c[0], c[1], yy, refr, Ii), p, d,
                                           s, y, I, 1, (syn[0], s["refr_spikes_buffer"]), add_input, consts=(p, d),
                                           threshold=threshold)
        return {"V_m": y[0], "w": y[1], "refr_spikes_buffer": buf, "refractory_steps": r, "h": h}, n

    @staticmethod
    def _rhs_delta(p, d, y, refr, I):
        V = v_eff(p, y[0], refr)
        w = y[1]
        pos = p["Delta_T"] > 0
        isp = jnp.where(pos, p["g_L"] * p["Delta_T"] * jnp.exp((V - p["V_th"]) * d["Delta_T_inv"]), 0.0)
        dv = (-p["g_L"] * (V - p["E_L"]) + isp - w + p["I_e"] + I) * d["C_m_inv"]
        return jnp.stack([jnp.where(refr, 0.0, dv), (p["a"] * (V - p["E_L"]) - w) * d["tau_w_inv"]])
