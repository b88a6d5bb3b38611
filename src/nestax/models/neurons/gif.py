"""Generalized integrate-and-fire neurons with escape noise (NEST: gif_psc_exp, gif_cond_exp and their
_multisynapse variants; Mensi et al. 2012, Pozzorini et al. 2015).

    C_m dV/dt = -g_L (V - E_L) - sum_j eta_j(t) + I_syn + I_e + I_gen
    tau_stc_j d eta_j/dt = -eta_j          (spike-triggered currents, eta_j += q_stc_j on a spike)
    V_T(t) = V_T_star + sum_j gamma_j(t),  tau_sfa_j d gamma_j/dt = -gamma_j  (gamma_j += q_sfa_j)
    lambda(t) = lambda_0 exp((V - V_T) / Delta_V)

A spike is emitted in a step with probability 1 - exp(-lambda dt) (escape noise): these models are
stochastic (``stochastic = True``: update() gets a PRNG key per step; nestax cannot reproduce NEST's
random stream, so noisy runs agree with NEST in distribution only). With lambda_0 = 0 they never spike
and are deterministic; with a tiny Delta_V the escape rate is 0 below V_T and infinite above, which
makes the threshold hard (spike whenever V > V_T) and the whole model deterministic.

Update of step k, which covers (k dt, (k+1) dt] (NEST 3.10; every gif model):
1. I_stc = sum_j eta_j and E_sfa = V_T_star + sum_j gamma_j are read from the adaptation elements as they
   stand at the start of the step (summed in order j = 0, 1, ...), then the elements decay by
   exp(-dt/tau);
2. membrane and synapses:
   - gif_psc_exp: I_syn decays and the spike input of this step is added, then (if not refractory)
     V is propagated exactly with the NEW I_syn: an input arriving at t_a moves I_syn and V_m at t_a;
   - gif_psc_exp_multisynapse: V is propagated with the synaptic currents as they were at the start
     of the step, then they decay and take this step's input: V_m moves from t_a + dt;
   - gif_cond_exp(_multisynapse): the ODE (V and the conductances) is integrated over the step with
     NEST's adaptive RKF45 (absolute error ``gsl_error_tol``, relative 0); I_stc is held constant
     during the step; while refractory V is clamped to V_reset inside the right-hand side and
     dV/dt = 0. Then the spike input of this step is added to g: g jumps at t_a, V_m moves from t_a + dt;
3. if not refractory: lambda = lambda_0 exp((V - E_sfa)/Delta_V); if lambda > 0 a uniform number u
   is drawn and the neuron spikes if u < -expm1(-lambda dt): eta_j += q_stc_j, gamma_j += q_sfa_j,
   refractory for t_ref (NEST's rounding to steps), spike stamped (k+1) dt. V_m is NOT reset in the spike
   step (the sample at the stamp shows the value that fired);
   if refractory: count down and set V_m = V_reset (so V_m = V_reset for the t_ref/dt samples after
   the stamp; integration resumes from V_reset).
Generator current reaches the neuron with NEST's one-step lag (handled by the engine).

Units as in NEST 3.10: lambda_0 is given in 1/s (Hz) and used in 1/ms; q_stc is documented by NEST in
nA but NEST subtracts it from the pA currents as is, so nestax declares it in pA (a value of 30 means
30 pA, as in NEST). V_m starts at -70 mV whatever E_L is (NEST's prototype state).

Weights: gif_psc_exp: pA, w >= 0 excitatory, w < 0 inhibitory (kept signed). gif_cond_exp: nS, w >= 0
to g_ex, w < 0 adds |w| to g_in. Multisynapse variants: receptor_type 1..n_receptors selects the
synapse (one per entry of tau_syn); gif_psc_exp_multisynapse takes signed pA, gif_cond_exp_multisynapse
needs w >= 0 (nS).

Implementation note: the adaptation elements and the per-neuron arrays (tau_stc, q_stc, ...) are held
as (n, K) arrays among the state (names starting with an underscore or ending in ``_elems``), built
from the array parameters by :meth:`assign`; neurons of one population with fewer elements are padded
with zero amplitudes, which is exact.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ...errors import BadParameterError
from ..base import Neuron, Param, State
from ..common import MultiReceptor, SignedRouting, stack_rows
from ..integrators import rkf45_evolve
from ..propagators import psc_exp_to_v, refractory_steps
from ..registry import register

_ADAPT = {
    "tau_stc": Param((), "ms", "Time constants of the spike-triggered currents", "array"),
    "q_stc": Param((), "pA", "Jumps of the spike-triggered currents (NEST documents nA, uses pA)", "array"),
    "tau_sfa": Param((), "ms", "Time constants of the threshold adaptation", "array"),
    "q_sfa": Param((), "mV", "Jumps of the adaptive threshold", "array"),
}

_COMMON = {
    "g_L": Param(4.0, "nS", "Leak conductance"),
    "E_L": Param(-70.0, "mV", "Leak reversal potential"),
    "V_reset": Param(-55.0, "mV", "Reset potential"),
    "Delta_V": Param(0.5, "mV", "Stochasticity level of the escape rate"),
    "V_T_star": Param(-35.0, "mV", "Base threshold"),
    "lambda_0": Param(1.0, "1/s", "Escape rate at threshold"),
    "t_ref": Param(4.0, "ms", "Duration of the refractory period"),
    "C_m": Param(80.0, "pF", "Membrane capacitance"),
    "I_e": Param(0.0, "pA", "Constant input current"),
    **_ADAPT,
}

_V0 = -70.0  # NEST's prototype V_m (independent of E_L)


def _seq_sum(start, x):
    """start + x[:, 0] + x[:, 1] + ... summed left to right (NEST's loop order)."""
    acc = start
    for j in range(x.shape[1]):
        acc = acc + x[:, j]
    return acc


class _GifBase(Neuron):
    kind = "neuron"
    settable_state = ("V_m",)  # what NEST's SetStatus accepts
    stochastic = True
    # internal (n, K) arrays: state name -> (parameter it copies, padding)
    _carriers = {"_tau_stc": ("tau_stc", 1.0), "_q_stc": ("q_stc", 0.0),
                 "_tau_sfa": ("tau_sfa", 1.0), "_q_sfa": ("q_sfa", 0.0)}
    # dynamic (n, K) arrays: state name -> parameter giving K
    _elems = {"stc_elems": "tau_stc", "sfa_elems": "tau_sfa"}
    _syn_time_constants = ("tau_syn_ex", "tau_syn_in")

    @classmethod
    def recordables(cls):
        return cls._recordables

    # ---- checks ------------------------------------------------------------------------------
    @classmethod
    def _bad(cls, name, value, expected):
        raise BadParameterError(f"{cls.name}: parameter {name!r} = {value} "
                                f"{cls.parameters[name].unit} is invalid; expected {expected}.")

    @classmethod
    def _check_arrays(cls, p, pairs):
        for tau_name, q_name in pairs:
            for tau, q in zip(p[tau_name], p[q_name]):
                tau, q = np.asarray(tau, float).ravel(), np.asarray(q, float).ravel()
                if len(tau) != len(q):
                    raise BadParameterError(
                        f"{cls.name}: parameters {tau_name!r} ({len(tau)} values) and {q_name!r} ({len(q)} "
                        f"values) are invalid; expected the same number of values.")
                if np.any(~(tau > 0)):
                    cls._bad(tau_name, tau.tolist(), "every time constant > 0 ms")

    @classmethod
    def check(cls, p):
        cls._positive(p, "g_L", "Delta_V", "C_m")
        cls._nonnegative(p, "t_ref", "lambda_0")
        cls._check_arrays(p, [("tau_stc", "q_stc"), ("tau_sfa", "q_sfa")])
        for n in cls._syn_time_constants:
            cls._positive(p, n)
        if "gsl_error_tol" in p:
            cls._positive(p, "gsl_error_tol")

    # ---- (n, K) arrays held in the state ------------------------------------------------------
    @classmethod
    def assign(cls, p, s, name, value):
        if name in cls._carriers:
            src, pad = cls._carriers[name]
            return stack_rows(p[src], pad)
        if name in cls._elems:
            n, k = len(p[cls._elems[name]]), max((len(r) for r in p[cls._elems[name]]), default=0)
            v = np.asarray(value, float)
            return v if v.shape == (n, k) else np.zeros((n, k))
        return value

    # ---- shared pieces of update ---------------------------------------------------------------
    @classmethod
    def _prepare_common(cls, p, dt):
        tau_m = p["C_m"] / p["g_L"]
        return {
            "tau_m": tau_m,
            "P33": jnp.exp(-dt / tau_m),
            "P30": -1.0 / p["C_m"] * jnp.expm1(-dt / tau_m) * tau_m,
            "P31": -jnp.expm1(-dt / tau_m),
            "lambda_0": p["lambda_0"] / 1000.0,  # 1/ms
            "ref_counts": refractory_steps(p["t_ref"], dt),
            "dt": dt,
        }

    @staticmethod
    def _adapt(p, d, s):
        """I_stc and E_sfa at the step's start, and the decayed elements."""
        stc = _seq_sum(jnp.zeros_like(p["E_L"]) + 0.0, s["stc_elems"])
        sfa = _seq_sum(p["V_T_star"] + jnp.zeros_like(p["E_L"]), s["sfa_elems"])
        stc_e = jnp.exp(-d["dt"] / s["_tau_stc"]) * s["stc_elems"]
        sfa_e = jnp.exp(-d["dt"] / s["_tau_sfa"]) * s["sfa_elems"]
        return stc, sfa, stc_e, sfa_e

    @staticmethod
    def _fire(p, d, s, v, sfa, stc_e, sfa_e, key):
        """Escape-noise spike test (free neurons) or refractory countdown with V = V_reset."""
        r = s["refractory_steps"]
        free = r == 0
        lam = d["lambda_0"] * jnp.exp((v - sfa) / p["Delta_V"])
        u = jax.random.uniform(key, v.shape, dtype=v.dtype)
        spike = free & (lam > 0.0) & (u < -jnp.expm1(-lam * d["dt"]))
        stc_e = stc_e + jnp.where(spike[:, None], s["_q_stc"], 0.0)
        sfa_e = sfa_e + jnp.where(spike[:, None], s["_q_sfa"], 0.0)
        r = jnp.where(free, jnp.where(spike, d["ref_counts"].astype(r.dtype), r), r - 1)
        v = jnp.where(free, v, p["V_reset"])
        return v, r, stc_e, sfa_e, spike

    @staticmethod
    def _common_state():
        return {
            "E_sfa": State("mV", 0.0, "Adaptive threshold of the last step"),
            "I_stc": State("pA", 0.0, "Spike-triggered current of the last step"),
            "refractory_steps": State("1", 0, "Refractory steps left"),
            "stc_elems": State("pA", 0.0, "Spike-triggered current elements, (n, K) (internal)"),
            "sfa_elems": State("mV", 0.0, "Threshold adaptation elements, (n, K) (internal)"),
            "_tau_stc": State("ms", 0.0, "tau_stc as an (n, K) array (internal)"),
            "_q_stc": State("pA", 0.0, "q_stc as an (n, K) array (internal)"),
            "_tau_sfa": State("ms", 0.0, "tau_sfa as an (n, K) array (internal)"),
            "_q_sfa": State("mV", 0.0, "q_sfa as an (n, K) array (internal)"),
        }


@register
class gif_psc_exp(SignedRouting, _GifBase):
    """Generalized integrate-and-fire neuron, exponential current synapses, escape noise (NEST: gif_psc_exp).

    C_m dV/dt = -g_L (V - E_L) - I_stc + I_syn_ex + I_syn_in + I_e + I_gen,
    dI_syn_X/dt = -I_syn_X / tau_syn_X; spike-triggered currents, adaptive threshold and escape noise as
    in the module docstring. Exact integration (propagators from tau_m = C_m / g_L, tau_syn, dt).
    A spike of weight w (pA) arriving at t_a makes I_syn jump by w at t_a, and V_m moves at t_a too.

    Parameters (NEST defaults): g_L (nS, 4, > 0), E_L (mV, -70), V_reset (mV, -55), Delta_V (mV, 0.5, > 0),
    V_T_star (mV, -35), lambda_0 (Hz, 1, >= 0), t_ref (ms, 4, >= 0), C_m (pF, 80, > 0),
    tau_stc (ms, [], each > 0), q_stc (pA, [], same length), tau_sfa (ms, [], each > 0),
    q_sfa (mV, [], same length), tau_syn_ex (ms, 2, > 0), tau_syn_in (ms, 2, > 0), I_e (pA, 0).
    Recordables: V_m, E_sfa, I_stc, I_syn_ex, I_syn_in.
    """

    name = "gif_psc_exp"
    ports = ("ex", "in")
    weight_unit = "pA"
    parameters = {**_COMMON,
                  "tau_syn_ex": Param(2.0, "ms", "Excitatory synaptic time constant"),
                  "tau_syn_in": Param(2.0, "ms", "Inhibitory synaptic time constant")}
    state = {"V_m": State("mV", _V0, "Membrane potential"),
             "I_syn_ex": State("pA", 0.0, "Excitatory synaptic current"),
             "I_syn_in": State("pA", 0.0, "Inhibitory synaptic current"),
             **_GifBase._common_state()}
    _recordables = ("V_m", "E_sfa", "I_stc", "I_syn_ex", "I_syn_in")

    @classmethod
    def prepare(cls, p, dt):
        d = cls._prepare_common(p, dt)
        for x in ("ex", "in"):
            d["P11" + x] = jnp.exp(-dt / p["tau_syn_" + x])
            d["P21" + x] = psc_exp_to_v(p["tau_syn_" + x], d["tau_m"], p["C_m"], dt)
        return d

    @classmethod
    def update(cls, p, d, s, syn, I, key):
        stc, sfa, stc_e, sfa_e = cls._adapt(p, d, s)
        iex = s["I_syn_ex"] * d["P11ex"] + syn[0]
        iin = s["I_syn_in"] * d["P11in"] + syn[1]
        v = s["V_m"]
        v_free = (d["P30"] * (I + p["I_e"] - stc) + d["P33"] * v + d["P31"] * p["E_L"]
                  + iex * d["P21ex"] + iin * d["P21in"])
        v = jnp.where(s["refractory_steps"] == 0, v_free, v)
        v, r, stc_e, sfa_e, spike = cls._fire(p, d, s, v, sfa, stc_e, sfa_e, key)
        return {**s, "V_m": v, "I_syn_ex": iex, "I_syn_in": iin, "E_sfa": sfa, "I_stc": stc,
                "refractory_steps": r, "stc_elems": stc_e, "sfa_elems": sfa_e}, spike


class _GifCond(_GifBase):
    weight_unit = "nS"

    @classmethod
    def _integrate(cls, p, d, s, y, I, stc, rhs):
        refr = s["refractory_steps"] > 0
        h = jnp.where(s["h"] > 0, s["h"], d["dt"])
        y, h, _ = rkf45_evolve(lambda yy, a: rhs(p, s, yy, a[0], a[1], a[2]), y, h, d["dt"], (refr, I, stc),
                               eps_abs=p["gsl_error_tol"])
        return y, h


@register
class gif_cond_exp(_GifCond):
    """Generalized integrate-and-fire neuron, exponential conductances, escape noise (NEST: gif_cond_exp).

    C_m dV/dt = -g_L (V - E_L) - g_ex (V - E_ex) - g_in (V - E_in) - I_stc + I_e + I_gen,
    dg_X/dt = -g_X / tau_syn_X; V is replaced by V_reset inside the right-hand side and dV/dt = 0 while
    refractory. Integrated per step with NEST's GSL RKF45 (absolute error gsl_error_tol); I_stc is held at
    its value from the start of the step. A spike of weight w (nS) makes g jump by |w| at t_a; V_m moves
    from t_a + dt. Adaptation and escape noise as in the module docstring.

    Parameters (NEST defaults): as gif_psc_exp without the psc time constants, plus E_ex (mV, 0),
    E_in (mV, -85), tau_syn_ex (ms, 2, > 0), tau_syn_in (ms, 2, > 0), gsl_error_tol (1e-3, > 0).
    Recordables: V_m, E_sfa, I_stc, g_ex, g_in.
    """

    name = "gif_cond_exp"
    settable_state = ("V_m", "g_ex", "g_in")  # what NEST's SetStatus accepts
    ports = ("ex", "in")
    parameters = {**_COMMON,
                  "E_ex": Param(0.0, "mV", "Excitatory reversal potential"),
                  "E_in": Param(-85.0, "mV", "Inhibitory reversal potential"),
                  "tau_syn_ex": Param(2.0, "ms", "Excitatory synaptic time constant"),
                  "tau_syn_in": Param(2.0, "ms", "Inhibitory synaptic time constant"),
                  "gsl_error_tol": Param(1e-3, "1", "Absolute error tolerance of the ODE solver")}
    state = {"V_m": State("mV", _V0, "Membrane potential"),
             "g_ex": State("nS", 0.0, "Excitatory conductance"),
             "g_in": State("nS", 0.0, "Inhibitory conductance"),
             "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
             **_GifBase._common_state()}
    _recordables = ("V_m", "E_sfa", "I_stc", "g_ex", "g_in")

    @classmethod
    def route(cls, weights, receptor_type):
        w = np.asarray(weights)
        inh = w < 0
        return np.where(inh, 1, 0), np.where(inh, -1.0, 1.0)

    @classmethod
    def prepare(cls, p, dt):
        return cls._prepare_common(p, dt)

    @staticmethod
    def _rhs(p, s, y, refr, I, stc):
        v = jnp.where(refr, p["V_reset"], y[0])
        i_ex = y[1] * (v - p["E_ex"])
        i_in = y[2] * (v - p["E_in"])
        i_l = p["g_L"] * (v - p["E_L"])
        dv = jnp.where(refr, 0.0, (-i_l + I + p["I_e"] - i_ex - i_in - stc) / p["C_m"])
        return jnp.stack([dv, -y[1] / p["tau_syn_ex"], -y[2] / p["tau_syn_in"]])

    @classmethod
    def update(cls, p, d, s, syn, I, key):
        stc, sfa, stc_e, sfa_e = cls._adapt(p, d, s)
        y = jnp.stack([s["V_m"], s["g_ex"], s["g_in"]])
        y, h = cls._integrate(p, d, s, y, I, stc, cls._rhs)
        g_ex, g_in = y[1] + syn[0], y[2] + syn[1]
        v, r, stc_e, sfa_e, spike = cls._fire(p, d, s, y[0], sfa, stc_e, sfa_e, key)
        return {**s, "V_m": v, "g_ex": g_ex, "g_in": g_in, "h": h, "E_sfa": sfa, "I_stc": stc,
                "refractory_steps": r, "stc_elems": stc_e, "sfa_elems": sfa_e}, spike


class _Multisynapse(MultiReceptor):
    """Receptor ports 1..n_receptors from the length of tau_syn (the same for a whole population)."""

    @classmethod
    def _check_syn(cls, p):
        cls._n_receptors(p)
        for t in p["tau_syn"]:
            if np.any(~(np.asarray(t) > 0)):
                cls._bad("tau_syn", np.asarray(t).tolist(), "every synaptic time constant > 0 ms")


@register
class gif_psc_exp_multisynapse(_Multisynapse, _GifBase):
    """gif_psc_exp with any number of exponential current synapses (NEST: gif_psc_exp_multisynapse).

    One synaptic current per entry of tau_syn; a spike of weight w (pA, either sign) sent to
    receptor_type i (1-based) makes I_syn_i jump by w. V is propagated with the synaptic currents as they
    stood at the start of the step, so V_m moves from t_a + dt (unlike gif_psc_exp). Adaptation and
    escape noise as in the module docstring.

    Parameters (NEST defaults): as gif_psc_exp, with tau_syn (ms, [2.0], each > 0) instead of
    tau_syn_ex / tau_syn_in. Recordables: V_m, E_sfa, I_stc.
    """

    name = "gif_psc_exp_multisynapse"
    weight_unit = "pA"
    parameters = {**_COMMON, "tau_syn": Param((2.0,), "ms", "Synaptic time constants, one per receptor", "array")}
    state = {"V_m": State("mV", _V0, "Membrane potential"),
             "i_syn": State("pA", 0.0, "Synaptic currents, (n, n_receptors) (internal)"),
             "_tau_syn": State("ms", 0.0, "tau_syn as an (n, n_receptors) array (internal)"),
             **_GifBase._common_state()}
    _carriers = {**_GifBase._carriers, "_tau_syn": ("tau_syn", 1.0)}
    _elems = {**_GifBase._elems, "i_syn": "tau_syn"}
    _syn_time_constants = ()
    _recordables = ("V_m", "E_sfa", "I_stc")

    @classmethod
    def check(cls, p):
        super().check(p)
        cls._check_syn(p)

    @classmethod
    def prepare(cls, p, dt):
        return cls._prepare_common(p, dt)

    @classmethod
    def update(cls, p, d, s, syn, I, key):
        stc, sfa, stc_e, sfa_e = cls._adapt(p, d, s)
        tau = s["_tau_syn"]
        p21 = psc_exp_to_v(tau, d["tau_m"][:, None], p["C_m"][:, None], d["dt"])
        i_syn = s["i_syn"]
        pot = _seq_sum(jnp.zeros_like(s["V_m"]), p21 * i_syn)
        i_syn = jnp.exp(-d["dt"] / tau) * i_syn + syn.T
        v = s["V_m"]
        v_free = d["P30"] * (I + p["I_e"] - stc) + d["P33"] * v + d["P31"] * p["E_L"] + pot
        v = jnp.where(s["refractory_steps"] == 0, v_free, v)
        v, r, stc_e, sfa_e, spike = cls._fire(p, d, s, v, sfa, stc_e, sfa_e, key)
        return {**s, "V_m": v, "i_syn": i_syn, "E_sfa": sfa, "I_stc": stc,
                "refractory_steps": r, "stc_elems": stc_e, "sfa_elems": sfa_e}, spike


@register
class gif_cond_exp_multisynapse(_Multisynapse, _GifCond):
    """gif_cond_exp with any number of exponential conductances (NEST: gif_cond_exp_multisynapse).

    C_m dV/dt = -g_L (V - E_L) - sum_i g_i (V - E_rev_i) - I_stc + I_e + I_gen, dg_i/dt = -g_i / tau_syn_i.
    While refractory V is replaced by V_reset in the synaptic terms (the leak term uses the integrated V,
    as in NEST; dV/dt = 0 anyway). A spike of weight w >= 0 (nS) sent to receptor_type i makes g_i jump by
    w at t_a; V_m moves from t_a + dt. Negative weights are an error (as in NEST). Integrated per step with
    NEST's GSL RKF45 (absolute error gsl_error_tol). Adaptation and escape noise as in the module docstring.

    Parameters (NEST defaults): as gif_cond_exp without E_ex, E_in, tau_syn_ex, tau_syn_in, plus
    tau_syn (ms, [2.0], each > 0) and E_rev (mV, [0.0], same length as tau_syn).
    Recordables: V_m, E_sfa, I_stc.
    """

    name = "gif_cond_exp_multisynapse"
    parameters = {**_COMMON,
                  "tau_syn": Param((2.0,), "ms", "Synaptic time constants, one per receptor", "array"),
                  "E_rev": Param((0.0,), "mV", "Reversal potentials, one per receptor", "array"),
                  "gsl_error_tol": Param(1e-3, "1", "Absolute error tolerance of the ODE solver")}
    state = {"V_m": State("mV", _V0, "Membrane potential"),
             "g": State("nS", 0.0, "Synaptic conductances, (n, n_receptors) (internal)"),
             "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
             "_tau_syn": State("ms", 0.0, "tau_syn as an (n, n_receptors) array (internal)"),
             "_E_rev": State("mV", 0.0, "E_rev as an (n, n_receptors) array (internal)"),
             **_GifBase._common_state()}
    _carriers = {**_GifBase._carriers, "_tau_syn": ("tau_syn", 1.0), "_E_rev": ("E_rev", 0.0)}
    _elems = {**_GifBase._elems, "g": "tau_syn"}
    _syn_time_constants = ()
    _recordables = ("V_m", "E_sfa", "I_stc")

    @classmethod
    def check(cls, p):
        super().check(p)
        cls._check_syn(p)
        for t, e in zip(p["tau_syn"], p["E_rev"]):
            if len(t) != len(e):
                raise BadParameterError(
                    f"{cls.name}: parameters 'E_rev' ({len(e)} values) and 'tau_syn' ({len(t)} values) are "
                    "invalid; expected one reversal potential per synaptic time constant.")

    @classmethod
    def _check_weights(cls, w):
        if np.any(w < 0):
            raise BadParameterError(f"{cls.name}: weight {w[w < 0].ravel()[0]} nS is invalid; expected weights "
                                    ">= 0 (conductance-based multisynapse models take non-negative weights).")

    @classmethod
    def prepare(cls, p, dt):
        return cls._prepare_common(p, dt)

    @staticmethod
    def _rhs(p, s, y, refr, I, stc):
        e_rev, tau = s["_E_rev"], s["_tau_syn"]
        i_l = -p["g_L"] * (y[0] - p["E_L"])
        v = jnp.where(refr, p["V_reset"], y[0])
        i_syn = jnp.zeros_like(v)
        for j in range(tau.shape[1]):
            i_syn = i_syn + -y[1 + j] * (v - e_rev[:, j])
        dv = jnp.where(refr, 0.0, (i_l + I + p["I_e"] + i_syn - stc) / p["C_m"])
        return jnp.concatenate([dv[None], -y[1:] / tau.T])

    @classmethod
    def update(cls, p, d, s, syn, I, key):
        stc, sfa, stc_e, sfa_e = cls._adapt(p, d, s)
        y = jnp.concatenate([s["V_m"][None], s["g"].T])
        y, h = cls._integrate(p, d, s, y, I, stc, cls._rhs)
        g = y[1:].T + syn.T
        v, r, stc_e, sfa_e, spike = cls._fire(p, d, s, y[0], sfa, stc_e, sfa_e, key)
        return {**s, "V_m": v, "g": g, "h": h, "E_sfa": sfa, "I_stc": stc,
                "refractory_steps": r, "stc_elems": stc_e, "sfa_elems": sfa_e}, spike
