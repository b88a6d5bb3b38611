"""Two-compartment point-process neuron of Urbanczik and Senn (2014) (NEST: pp_cond_exp_mc_urbanczik).

A soma (s) and a dendrite (p, NEST's "dendritic" compartment; the suffix is the one NEST's
recordables use), coupled by g_sp (dendrite -> soma) and g_ps (soma -> dendrite):

    C_m.s dV_m.s/dt = -g_L.s (V_m.s - E_L.s) - g_ex.s (V_m.s - E_ex.s) - g_in.s (V_m.s - E_in.s)
                      + g_sp (V_m.p - V_m.s) + I_stim.s + I_e.s
    C_m.p dV_m.p/dt = -g_L.p (V_m.p - E_L.p) + I_ex.p + I_in.p + g_ps (V_m.s - V_m.p)
    dg_ex.s/dt = -g_ex.s / tau_syn_ex.s     dg_in.s/dt = -g_in.s / tau_syn_in.s
    dI_ex.p/dt = -I_ex.p / tau_syn_ex.p     dI_in.p/dt = -I_in.p / tau_syn_in.p

The soma has exponential conductances, the dendrite exponential CURRENTS. As in NEST 3.10, the
dendrite's E_ex.p, E_in.p, I_e.p and the current on receptor dendritic_curr are accepted and stored
but do not enter the equations (NEST's dynamics function never reads them).

Spiking is stochastic with the rate phi(V_m.s) (1/ms), no reset of V_m:

    phi(u) = phi_max / (1 + rate_slope exp(beta (theta - u)))
    h(u)   = 15 beta / (1 + exp(-beta (theta - u)) / rate_slope)

For the Urbanczik-Senn rule (``urbanczik_synapse``) every step also yields the dendritic prediction
error ``_dPI`` = (n_spikes - phi(V_W*) dt) h(V_W*), with the dendritic prediction of the somatic
potential V_W* = (E_L.s g_L.s + V_m.p g_sp) / (g_sp + g_L.s); the engine keeps it per step
(``step_history``) for the targets of that synapse (NEST's Urbanczik archiving node).

Numerics: as NEST, GSL's adaptive Runge-Kutta-Fehlberg 4(5) with absolute error 1e-3 and relative
error 0, the internal step size kept per neuron across steps (:func:`nestax.models.integrators.
rkf45_evolve`). NEST's state vector has ten entries; the four it keeps at a zero derivative
(I_ex / I_in of the soma, g_ex / g_in of the dendrite) are left out here, which changes neither the
steps nor the error control (their error is 0).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from ...errors import did_you_mean
from ..base import Neuron, Param, State
from ..common import refractory_countdown, route_named_receptors
from ..integrators import rkf45_evolve
from ..propagators import refractory_steps
from ..registry import register
from .iaf_cond_alpha_mc import UnknownReceptorError

_EPS_ABS = 1e-3  # NEST: gsl_odeiv_control_y_new(1e-3, 0.0)

#: compartments: NEST's sub-dictionary name and the suffix of the flat nestax names (NEST's recordables)
COMPARTMENTS = (("soma", "s"), ("dendritic", "p"))

class _ReceptorTypes(dict):
    """NEST's ``receptor_types`` dictionary; an unknown name raises with a did-you-mean."""

    def __missing__(self, key):
        raise UnknownReceptorError(
            f"pp_cond_exp_mc_urbanczik: unknown receptor type {key!r}.{did_you_mean(key, self)} Known receptor "
            "types: " + ", ".join(f"{k} = {v}" for k, v in self.items()) + ".")


#: receptor_type of each named receptor, as NEST's GetDefaults('pp_cond_exp_mc_urbanczik')['receptor_types']
RECEPTOR_TYPES = _ReceptorTypes(soma_exc=1, soma_inh=2, dendritic_exc=3, dendritic_inh=4, soma_curr=5,
                                dendritic_curr=6)

# defaults per compartment (NEST 3.10): soma, dendritic
_COMP_DEFAULTS = {
    "g_L": ((30.0, 30.0), "nS", "Leak conductance"),
    "C_m": ((300.0, 300.0), "pF", "Membrane capacitance"),
    "E_ex": ((0.0, 0.0), "mV", "Excitatory reversal potential (unused on the dendrite, as in NEST)"),
    "E_in": ((-75.0, 0.0), "mV", "Inhibitory reversal potential (unused on the dendrite, as in NEST)"),
    "E_L": ((-70.0, -70.0), "mV", "Leak reversal potential"),
    "tau_syn_ex": ((3.0, 3.0), "ms", "Time constant of the excitatory synaptic conductance / current"),
    "tau_syn_in": ((3.0, 3.0), "ms", "Time constant of the inhibitory synaptic conductance / current"),
    "I_e": ((0.0, 0.0), "pA", "Constant input current (unused on the dendrite, as in NEST)"),
}


def _comp_params():
    out = {}
    for name, (defaults, unit, doc) in _COMP_DEFAULTS.items():
        for (comp, c), dflt in zip(COMPARTMENTS, defaults):
            out[f"{name}.{c}"] = Param(dflt, unit, f"{doc} ({comp})")
    return out


_Y = ("V_m.s", "g_ex.s", "g_in.s", "V_m.p", "I_ex.p", "I_in.p")


def phi(p, u):
    """The rate function (1/ms), NEST's order of operations."""
    return p["phi_max"] / (1.0 + p["rate_slope"] * jnp.exp(p["beta"] * (p["theta"] - u)))


def h_fn(p, u):
    """The derivative factor h(u) of the Urbanczik-Senn rule, NEST's order of operations."""
    return 15.0 * p["beta"] / (1.0 + (1.0 / p["rate_slope"]) * jnp.exp(-p["beta"] * (p["theta"] - u)))


@register
class pp_cond_exp_mc_urbanczik(Neuron):
    """Two-compartment point-process neuron with conductance-based somatic synapses (NEST:
    pp_cond_exp_mc_urbanczik), the target of ``urbanczik_synapse``.

    Equations: see the module docstring (soma s, dendrite p).

    Update of step k, which covers (k dt, (k+1) dt] (NEST 3.10 order):
    1. integrate the six ODEs over the step with GSL RKF45 (absolute error 1e-3), with the soma's
       current I_stim.s of this step (NEST's one-step lag, applied by the engine);
    2. add the spike input arriving in this step: soma_exc to g_ex.s, soma_inh to g_in.s,
       dendritic_exc to I_ex.p, and dendritic_inh SUBTRACTED from I_in.p (weights as given: NEST
       picks excitation / inhibition by receptor, not by sign);
    3. if not refractory: rate = 1000 phi(V_m.s) Hz; if rate > 0, with t_ref > 0 one spike with
       probability 1 - exp(-rate dt), with t_ref = 0 a Poisson number of spikes (mean rate dt); after
       a spike the neuron is refractory for t_ref (in steps, as NEST's Time). If refractory, count
       down. V_m is never reset;
    4. ``_dPI`` = (n_spikes - phi(V_W*) dt) h(V_W*) from the dendritic V_m.p after 2 (module docstring).

    Receptors (receptor_type, as NEST's ``receptor_types``; also :attr:`receptor_types` here):
    soma_exc 1, soma_inh 2, dendritic_exc 3, dendritic_inh 4 take spikes; soma_curr 5 and
    dendritic_curr 6 take currents (dendritic_curr has no effect, as in NEST). receptor_type 0 takes
    no spikes; a current on receptor_type 0 goes to the soma (NEST refuses it).
    Weights are plain numbers: nS on the soma's receptors, pA on the dendrite's.

    Parameters (NEST defaults; NEST's sub-dictionaries 'soma' and 'dendritic' become the suffixes
    .s and .p, the naming of NEST's recordables):

    | name | unit | soma (.s) | dendritic (.p) | constraint |
    |---|---|---|---|---|
    | g_L | nS | 30 | 30 | |
    | C_m | pF | 300 | 300 | > 0 |
    | E_ex | mV | 0 | 0 (unused) | |
    | E_in | mV | -75 | 0 (unused) | |
    | E_L | mV | -70 | -70 | |
    | tau_syn_ex | ms | 3 | 3 | > 0 |
    | tau_syn_in | ms | 3 | 3 | > 0 |
    | I_e | pA | 0 | 0 (unused) | |

    and for the whole neuron: t_ref (ms, 3, >= 0), phi_max (1/ms, 0.15, >= 0), rate_slope (0.5,
    >= 0), beta (1/mV, 1/3), theta (mV, -55), g_sp (nS, 600: dendrite -> soma coupling), g_ps
    (nS, 0: soma -> dendrite coupling).

    State: V_m.s and V_m.p start at the default E_L of their compartment (-70 mV) and are the state a
    user may set (NEST's State_::set); conductances and currents start at 0.
    Recordables: V_m.s, g_ex.s, g_in.s, V_m.p, I_ex.p, I_in.p (NEST's names).
    """

    name = "pp_cond_exp_mc_urbanczik"
    kind = "neuron"
    weight_unit = "1"  # nS on the soma's receptors, pA on the dendrite's
    stochastic = True
    ports = ("soma_exc", "soma_inh", "dendritic_exc", "dendritic_inh", "soma_curr", "dendritic_curr")
    current_ports = {5: "soma_curr", 6: "dendritic_curr"}
    receptor_types = RECEPTOR_TYPES
    nest_groups = dict(COMPARTMENTS)  # NEST's sub-dictionaries: soma={"g_L": ...} -> g_L.s
    settable_state = ("V_m.s", "V_m.p")  # what NEST's SetStatus accepts
    step_history = ("_dPI",)
    parameters = {
        "t_ref": Param(3.0, "ms", "Duration of the refractory period"),
        "phi_max": Param(0.15, "1/ms", "Maximal rate of the rate function phi"),
        "rate_slope": Param(0.5, "1", "Slope parameter of phi"),
        "beta": Param(1.0 / 3.0, "1/mV", "Steepness of phi"),
        "theta": Param(-55.0, "mV", "Midpoint parameter of phi"),
        "g_sp": Param(600.0, "nS", "Coupling conductance dendrite -> soma"),
        "g_ps": Param(0.0, "nS", "Coupling conductance soma -> dendrite"),
        **_comp_params(),
    }
    state = {
        "V_m.s": State("mV", "E_L.s", "Membrane potential (soma)"),
        "g_ex.s": State("nS", 0.0, "Excitatory conductance (soma)"),
        "g_in.s": State("nS", 0.0, "Inhibitory conductance (soma)"),
        "V_m.p": State("mV", "E_L.p", "Membrane potential (dendritic)"),
        "I_ex.p": State("pA", 0.0, "Excitatory synaptic current (dendritic)"),
        "I_in.p": State("pA", 0.0, "Inhibitory synaptic current (dendritic)"),
        "refractory_steps": State("1", 0, "Refractory steps left"),
        "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
        "_dPI": State("1", 0.0, "Dendritic prediction error of the step, for urbanczik_synapse (internal)"),
    }

    @classmethod
    def recordables(cls):
        return _Y

    @classmethod
    def receptor_range(cls, p):
        return (1, 4)  # spike receptors; currents: receptor_type 5, 6 (current_ports) or 0

    @classmethod
    def route(cls, weights, receptor_type):
        """receptor_type 1..4 -> port 0..3; the weight keeps its sign."""
        return route_named_receptors(cls.name, ("soma_exc", "soma_inh", "dendritic_exc", "dendritic_inh"), weights, receptor_type)

    @classmethod
    def check(cls, p):
        cls._nonnegative(p, "t_ref", "phi_max", "rate_slope")
        for _, c in COMPARTMENTS:
            cls._positive(p, f"C_m.{c}", f"tau_syn_ex.{c}", f"tau_syn_in.{c}")

    @classmethod
    def prepare(cls, p, dt):
        return {"ref_counts": refractory_steps(p["t_ref"], dt), "dt": dt}

    @staticmethod
    def _rhs(p, y, I_stim):
        """dy/dt for y = (V_m.s, g_ex.s, g_in.s, V_m.p, I_ex.p, I_in.p), NEST's arithmetic."""
        v, g_ex, g_in, v_d, i_ex, i_in = y
        i_l = p["g_L.s"] * (v - p["E_L.s"])
        i_syn_exc = g_ex * (v - p["E_ex.s"])
        i_syn_inh = g_in * (v - p["E_in.s"])
        i_conn_d_s = p["g_sp"] * (v_d - v)
        i_conn_s_d = p["g_ps"] * (v - v_d)
        dv_d = (-p["g_L.p"] * (v_d - p["E_L.p"]) + i_ex + i_in + i_conn_s_d) / p["C_m.p"]
        dv = (-i_l - i_syn_exc - i_syn_inh + i_conn_d_s + I_stim + p["I_e.s"]) / p["C_m.s"]
        return jnp.stack([dv, -g_ex / p["tau_syn_ex.s"], -g_in / p["tau_syn_in.s"],
                          dv_d, -i_ex / p["tau_syn_ex.p"], -i_in / p["tau_syn_in.p"]])

    @classmethod
    def update(cls, p, d, s, syn, I, key):
        I_stim = syn[4] + I  # soma_curr (receptor 0 also goes to the soma); dendritic_curr is unused
        h = jnp.where(s["h"] > 0, s["h"], d["dt"])
        y = jnp.stack([s[name] for name in _Y])
        y, h, _ = rkf45_evolve(lambda yy, a: cls._rhs(p, yy, a), y, h, d["dt"], I_stim, eps_abs=_EPS_ABS)
        new = {name: y[j] for j, name in enumerate(_Y)}
        new["g_ex.s"] = new["g_ex.s"] + syn[0]
        new["g_in.s"] = new["g_in.s"] + syn[1]
        new["I_ex.p"] = new["I_ex.p"] + syn[2]
        new["I_in.p"] = new["I_in.p"] - syn[3]
        # stochastic spiking with rate 1000 phi(V_m.s) Hz, no reset
        r = s["refractory_steps"]
        refr = r > 0
        rate = 1000.0 * phi(p, new["V_m.s"])
        may_fire = ~refr & (rate > 0.0)
        k_u, k_p = jax.random.split(key)
        u = jax.random.uniform(k_u, rate.shape, dtype=rate.dtype)
        bern = (u <= -jnp.expm1(-rate * d["dt"] * 1e-3)).astype(jnp.int32)
        lam = jnp.where(may_fire & jnp.isfinite(rate), rate * d["dt"] * 1e-3, 0.0)
        pois = jax.lax.cond(jnp.any(may_fire & (p["t_ref"] <= 0.0)),
                            lambda: jax.random.poisson(k_p, lam, rate.shape).astype(jnp.int32),
                            lambda: jnp.zeros(rate.shape, jnp.int32))
        n = jnp.where(may_fire, jnp.where(p["t_ref"] > 0.0, bern, pois), 0)
        spike = n > 0
        r = refractory_countdown(r, refr, spike, d["ref_counts"])
        # the dendritic prediction error of this step (NEST: write_urbanczik_history)
        v_w = (p["E_L.s"] * p["g_L.s"] + new["V_m.p"] * p["g_sp"]) / (p["g_sp"] + p["g_L.s"])
        dpi = (n.astype(rate.dtype) - phi(p, v_w) * d["dt"]) * h_fn(p, v_w)
        new.update({"refractory_steps": r, "h": h, "_dPI": dpi})
        return new, n
