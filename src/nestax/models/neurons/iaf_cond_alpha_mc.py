"""Three-compartment conductance-based integrate-and-fire neuron (NEST: iaf_cond_alpha_mc).

A soma (s), a proximal (p) and a distal (d) dendrite in a chain s - p - d, each a passive
membrane with its own leak and its own alpha-shaped excitatory and inhibitory conductances:

    C_m.X dV_X/dt = -g_L.X (V_X - E_L.X) - g_ex.X (V_X - E_ex.X) - g_in.X (V_X - E_in.X)
                    - I_conn.X + I_stim.X + I_e.X
    I_conn.s = g_sp (V_s - V_p)
    I_conn.p = g_sp (V_p - V_s) + g_pd (V_p - V_d)
    I_conn.d = g_pd (V_d - V_p)
    d(dg_Y.X)/dt = -dg_Y.X / tau_syn_Y.X,   dg_Y.X/dt = dg_Y.X - g_Y.X / tau_syn_Y.X   (Y = ex, in)

Threshold, reset and refractoriness live on the soma only. In the soma's equation V_s is replaced
by min(V_m.s, V_th), and by V_reset while the neuron is refractory. While refractory the time
derivative of EVERY compartment's V_m is 0 (NEST evaluates the refractory flag once, in the soma,
and applies it to all three compartments); the conductances keep evolving.

Numerics: as NEST, GSL's adaptive Runge-Kutta-Fehlberg 4(5) over the 15-dimensional state
(per compartment V_m, dg_ex, g_ex, dg_in, g_in; soma, proximal, distal), absolute error 1e-3,
relative error 0, per-neuron internal step size kept across simulation steps (starting at dt),
reproduced by :func:`nestax.models.integrators.rkf45_evolve` with NEST's order of operations.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ...errors import ConnectionError_, did_you_mean
from ..base import Neuron, Param, State
from ..common import refractory_countdown, route_named_receptors
from ..integrators import rkf45_evolve
from ..propagators import refractory_steps
from ..registry import register

_EPS_ABS = 1e-3  # NEST: gsl_odeiv_control_y_new(1e-3, 0.0)

#: compartments: NEST's sub-dictionary name and the suffix of the flat nestax names
COMPARTMENTS = (("soma", "s"), ("proximal", "p"), ("distal", "d"))
_SUF = tuple(c for _, c in COMPARTMENTS)


class UnknownReceptorError(ConnectionError_, KeyError):
    """A receptor type name the model does not have."""

    def __str__(self):
        return self.args[0]


class _ReceptorTypes(dict):
    """NEST's ``receptor_types`` dictionary; an unknown name raises with a did-you-mean."""

    def __missing__(self, key):
        raise UnknownReceptorError(
            f"iaf_cond_alpha_mc: unknown receptor type {key!r}.{did_you_mean(key, self)} Known receptor types: "
            + ", ".join(f"{k} = {v}" for k, v in self.items()) + ".")


#: receptor_type of each named receptor, as NEST's GetDefaults('iaf_cond_alpha_mc')['receptor_types']
RECEPTOR_TYPES = _ReceptorTypes(
    soma_exc=1, soma_inh=2, proximal_exc=3, proximal_inh=4, distal_exc=5, distal_inh=6,
    soma_curr=7, proximal_curr=8, distal_curr=9)

# defaults per compartment (NEST 3.10): soma, proximal, distal
_COMP_DEFAULTS = {
    "g_L": ((10.0, 5.0, 10.0), "nS", "Leak conductance"),
    "C_m": ((150.0, 75.0, 150.0), "pF", "Membrane capacitance"),
    "E_ex": ((0.0, 0.0, 0.0), "mV", "Excitatory reversal potential"),
    "E_in": ((-85.0, -85.0, -85.0), "mV", "Inhibitory reversal potential"),
    "E_L": ((-70.0, -70.0, -70.0), "mV", "Leak reversal potential"),
    "tau_syn_ex": ((0.5, 0.5, 0.5), "ms", "Rise time of the excitatory alpha conductance"),
    "tau_syn_in": ((2.0, 2.0, 2.0), "ms", "Rise time of the inhibitory alpha conductance"),
    "I_e": ((0.0, 0.0, 0.0), "pA", "Constant input current"),
}


def _comp_params():
    out = {}
    for name, (defaults, unit, doc) in _COMP_DEFAULTS.items():
        for (comp, c), dflt in zip(COMPARTMENTS, defaults):
            out[f"{name}.{c}"] = Param(dflt, unit, f"{doc} ({comp})")
    return out


def _comp_state():
    out = {}
    for comp, c in COMPARTMENTS:
        out[f"V_m.{c}"] = State("mV", f"E_L.{c}", f"Membrane potential ({comp})")
        out[f"dg_ex.{c}"] = State("nS/ms", 0.0, f"Derivative state of the excitatory conductance ({comp})")
        out[f"g_ex.{c}"] = State("nS", 0.0, f"Excitatory conductance ({comp})")
        out[f"dg_in.{c}"] = State("nS/ms", 0.0, f"Derivative state of the inhibitory conductance ({comp})")
        out[f"g_in.{c}"] = State("nS", 0.0, f"Inhibitory conductance ({comp})")
    return out


# NEST's state vector: per compartment (V_m, dg_ex, g_ex, dg_in, g_in), soma, proximal, distal
_Y = tuple(f"{v}.{c}" for c in _SUF for v in ("V_m", "dg_ex", "g_ex", "dg_in", "g_in"))


@register
class iaf_cond_alpha_mc(Neuron):
    """Three-compartment conductance-based integrate-and-fire neuron (NEST: iaf_cond_alpha_mc).

    Equations: see the module docstring (soma s, proximal p and distal d compartments coupled by
    g_sp and g_pd; alpha conductances g_ex.X and g_in.X in every compartment; a spike of weight w nS
    on a compartment's receptor adds w e / tau_syn to its dg, so the conductance peaks at w after
    tau_syn).

    Update of step k, which covers (k dt, (k+1) dt] (NEST 3.10 order):
    1. integrate the 15 ODEs over the step with GSL RKF45 (absolute error 1e-3), with the refractory
       state at the start of the step and each compartment's current I_stim.X of this step (NEST's
       one-step lag, applied by the engine);
    2. add the spike input arriving in this step, times e / tau_syn, to each compartment's dg_ex / dg_in
       (so g and V_m move from the step after the arrival);
    3. soma: if refractory, count down and set V_m.s = V_reset; else if V_m.s >= V_th, set
       V_m.s = V_reset, refractory for t_ref (in steps, rounded up as NEST's Time), and emit a spike
       stamped (k+1) dt. The dendrites are not reset.

    Receptors (receptor_type, as NEST's ``receptor_types``; also :attr:`receptor_types` here):
    soma_exc 1, soma_inh 2, proximal_exc 3, proximal_inh 4, distal_exc 5, distal_inh 6 take spikes;
    soma_curr 7, proximal_curr 8, distal_curr 9 take currents from generators. The weight is added
    as given (NEST does not pick the port by sign here: a negative weight on an _inh receptor makes
    that conductance negative). receptor_type 0 takes no spikes. A current on receptor_type 0 goes
    to the soma (NEST refuses it; nestax's connect accepts current receptor 0 for every neuron).

    Parameters (NEST defaults; NEST's sub-dictionaries 'soma', 'proximal', 'distal' become the
    suffixes .s, .p, .d, the naming of NEST's recordables):

    | name | unit | soma (.s) | proximal (.p) | distal (.d) | constraint |
    |---|---|---|---|---|---|
    | g_L | nS | 10 | 5 | 10 | |
    | C_m | pF | 150 | 75 | 150 | > 0 |
    | E_ex | mV | 0 | 0 | 0 | |
    | E_in | mV | -85 | -85 | -85 | |
    | E_L | mV | -70 | -70 | -70 | |
    | tau_syn_ex | ms | 0.5 | 0.5 | 0.5 | > 0 |
    | tau_syn_in | ms | 2 | 2 | 2 | > 0 |
    | I_e | pA | 0 | 0 | 0 | |

    and for the whole neuron: V_th (mV, -55), V_reset (mV, -60, < V_th), t_ref (ms, 2, >= 0),
    g_sp (nS, 2.5: soma - proximal coupling), g_pd (nS, 1: proximal - distal coupling).

    State: V_m.s, V_m.p, V_m.d start at the default E_L of their compartment (-70 mV) and are the
    state variables a user may set (NEST's State_::set); conductances start at 0.
    Recordables: V_m.s, g_ex.s, g_in.s, V_m.p, g_ex.p, g_in.p, V_m.d, g_ex.d, g_in.d,
    t_ref_remaining (ms).
    """

    name = "iaf_cond_alpha_mc"
    kind = "neuron"
    weight_unit = "nS"
    ports = ("soma_exc", "soma_inh", "proximal_exc", "proximal_inh", "distal_exc", "distal_inh",
             "soma_curr", "proximal_curr", "distal_curr")
    current_ports = {7: "soma_curr", 8: "proximal_curr", 9: "distal_curr"}
    receptor_types = RECEPTOR_TYPES
    nest_groups = dict(COMPARTMENTS)  # NEST's sub-dictionaries: soma={"g_L": ...} -> g_L.s
    settable_state = ("V_m.s", "V_m.p", "V_m.d")  # what NEST's SetStatus accepts
    parameters = {
        "V_th": Param(-55.0, "mV", "Spike threshold (soma)"),
        "V_reset": Param(-60.0, "mV", "Reset potential (soma)"),
        "t_ref": Param(2.0, "ms", "Duration of the refractory period"),
        "g_sp": Param(2.5, "nS", "Coupling conductance between soma and proximal dendrite"),
        "g_pd": Param(1.0, "nS", "Coupling conductance between proximal and distal dendrite"),
        **_comp_params(),
    }
    state = {
        **_comp_state(),
        "refractory_steps": State("1", 0, "Refractory steps left"),
        "t_ref_remaining": State("ms", 0.0, "Refractory time left"),
        "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
    }

    @classmethod
    def recordables(cls):
        return tuple(f"{v}.{c}" for c in _SUF for v in ("V_m", "g_ex", "g_in")) + ("t_ref_remaining",)

    @classmethod
    def receptor_range(cls, p):
        return (1, 6)  # spike receptors; currents: receptor_type 7, 8, 9 (current_ports) or 0

    @classmethod
    def route(cls, weights, receptor_type):
        """receptor_type 1..6 -> port 0..5; the weight keeps its sign."""
        return route_named_receptors(cls.name, ("soma_exc", "soma_inh", "proximal_exc", "proximal_inh", "distal_exc", "distal_inh"), weights, receptor_type)

    @classmethod
    def check(cls, p):
        cls._reset_below_threshold(p)
        cls._nonnegative(p, "t_ref")
        for c in _SUF:
            cls._positive(p, f"C_m.{c}", f"tau_syn_ex.{c}", f"tau_syn_in.{c}")

    @classmethod
    def prepare(cls, p, dt):
        d = {"ref_counts": refractory_steps(p["t_ref"], dt), "dt": dt}
        for c in _SUF:
            d[f"psc0_ex.{c}"] = 1.0 * np.e / p[f"tau_syn_ex.{c}"]
            d[f"psc0_in.{c}"] = 1.0 * np.e / p[f"tau_syn_in.{c}"]
        return d

    @staticmethod
    def _rhs(p, y, refr, I_stim):
        """dy/dt for y = (V_m, dg_ex, g_ex, dg_in, g_in) x (soma, proximal, distal), NEST's arithmetic."""
        v_s, v_p, v_d = y[0], y[5], y[10]
        out = []
        for i, c in enumerate(_SUF):
            if c == "s":
                v = jnp.where(refr, p["V_reset"], jnp.minimum(v_s, p["V_th"]))
                i_conn = p["g_sp"] * (v - v_p)
            elif c == "p":
                v = v_p
                i_conn = p["g_sp"] * (v - v_s) + p["g_pd"] * (v - v_d)
            else:
                v = v_d
                i_conn = p["g_pd"] * (v - v_p)
            dg_ex, g_ex, dg_in, g_in = y[5 * i + 1], y[5 * i + 2], y[5 * i + 3], y[5 * i + 4]
            i_ex = g_ex * (v - p[f"E_ex.{c}"])
            i_in = g_in * (v - p[f"E_in.{c}"])
            i_l = p[f"g_L.{c}"] * (v - p[f"E_L.{c}"])
            dv = jnp.where(refr, 0.0,
                           (-i_l - i_ex - i_in - i_conn + I_stim[i] + p[f"I_e.{c}"]) / p[f"C_m.{c}"])
            tau_e, tau_i = p[f"tau_syn_ex.{c}"], p[f"tau_syn_in.{c}"]
            out += [dv, -dg_ex / tau_e, dg_ex - g_ex / tau_e, -dg_in / tau_i, dg_in - g_in / tau_i]
        return jnp.stack(out)

    @classmethod
    def update(cls, p, d, s, syn, I):
        refr = s["refractory_steps"] > 0
        # currents of this step per compartment (already lagged by the engine); receptor 0 -> soma
        I_stim = jnp.stack([syn[6] + I, syn[7], syn[8]])
        h = jnp.where(s["h"] > 0, s["h"], d["dt"])
        y = jnp.stack([s[name] for name in _Y])
        y, h, _ = rkf45_evolve(lambda yy, a: cls._rhs(p, yy, a[0], a[1]), y, h, d["dt"], (refr, I_stim),
                               eps_abs=_EPS_ABS)
        new = {name: y[j] for j, name in enumerate(_Y)}
        for i, c in enumerate(_SUF):
            new[f"dg_ex.{c}"] = new[f"dg_ex.{c}"] + syn[2 * i] * d[f"psc0_ex.{c}"]
            new[f"dg_in.{c}"] = new[f"dg_in.{c}"] + syn[2 * i + 1] * d[f"psc0_in.{c}"]
        r = s["refractory_steps"]
        spike = ~refr & (new["V_m.s"] >= p["V_th"])
        new["V_m.s"] = jnp.where(refr | spike, p["V_reset"], new["V_m.s"])
        r = refractory_countdown(r, refr, spike, d["ref_counts"])
        new.update({"refractory_steps": r, "t_ref_remaining": r * d["dt"], "h": h})
        return new, spike
