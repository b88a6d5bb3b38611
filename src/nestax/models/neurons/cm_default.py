"""Compartmental neuron with a user-defined dendritic tree (NEST: cm_default).

A neuron is a tree of compartments, each a membrane patch with capacitance C_m, leak g_L / e_L,
optional Hodgkin-Huxley style Na and K channels (Branco 2010 kinetics, as NEST), and a coupling
conductance g_C to its parent. Synaptic receptors (AMPA, GABA, NMDA, AMPA_NMDA, double-exponential
conductances) sit on compartments. The structure is given as NEST gives it, at ``create`` or with
``set``: ``compartments`` (a list of ``{"parent_idx": p, "params": {...}}``) and ``receptors`` (a
list of ``{"comp_idx": c, "receptor_type": "AMPA", "params": {...}}``).
"""
from __future__ import annotations

import math
import re

import jax.numpy as jnp
import numpy as np

from ...errors import BadParameterError, ConnectionError_, NestaxError, did_you_mean
from ...units import to_nest
from ..base import Neuron, Param, State
from ..registry import register

#: compartment parameters: NEST name -> (default, unit, description)
COMPARTMENT_PARAMS = {
    "C_m": (1.0, "nF", "Capacitance"),
    "g_C": (0.01, "uS", "Coupling conductance with the parent compartment (unused on the root)"),
    "g_L": (0.1, "uS", "Leak conductance"),
    "e_L": (-70.0, "mV", "Leak reversal potential"),
    "v_comp": (-70.0, "mV", "Initial voltage (NEST: -70 mV whatever e_L is)"),
    "gbar_Na": (0.0, "uS", "Maximal conductance of the Na channel (active when > 1e-9)"),
    "e_Na": (50.0, "mV", "Reversal potential of the Na channel"),
    "gbar_K": (0.0, "uS", "Maximal conductance of the K channel (active when > 1e-9)"),
    "e_K": (-85.0, "mV", "Reversal potential of the K channel"),
}

#: receptor types (code, parameters: NEST name -> (default, unit)); the code is the internal type number
RECEPTOR_TYPES = {
    "AMPA": (0, {"e_AMPA": (0.0, "mV"), "tau_r_AMPA": (0.2, "ms"), "tau_d_AMPA": (3.0, "ms")}),
    "GABA": (1, {"e_GABA": (-80.0, "mV"), "tau_r_GABA": (0.2, "ms"), "tau_d_GABA": (10.0, "ms")}),
    "NMDA": (2, {"e_NMDA": (0.0, "mV"), "tau_r_NMDA": (0.2, "ms"), "tau_d_NMDA": (43.0, "ms")}),
    "AMPA_NMDA": (3, {"e_AMPA_NMDA": (0.0, "mV"), "tau_r_AMPA": (0.2, "ms"), "tau_d_AMPA": (3.0, "ms"),
                      "tau_r_NMDA": (0.2, "ms"), "tau_d_NMDA": (43.0, "ms"), "NMDA_ratio": (2.0, "1")}),
}
_TYPE_NAMES = {code: name for name, (code, _) in RECEPTOR_TYPES.items()}
# the state variables NEST records per receptor type (name prefix -> internal state)
_RECEPTOR_RECORDABLES = {
    "AMPA": (("g_r_AMPA_", "g_rA"), ("g_d_AMPA_", "g_dA")),
    "GABA": (("g_r_GABA_", "g_rA"), ("g_d_GABA_", "g_dA")),
    "NMDA": (("g_r_NMDA_", "g_rN"), ("g_d_NMDA_", "g_dN")),
    "AMPA_NMDA": (("g_r_AN_AMPA_", "g_rA"), ("g_d_AN_AMPA_", "g_dA"), ("g_r_AN_NMDA_", "g_rN"),
                  ("g_d_AN_NMDA_", "g_dN")),
}
_COMP_RECORDABLES = (("v_comp", "v_comp"), ("m_Na_", "m_Na"), ("h_Na_", "h_Na"), ("n_K_", "n_K"))
_REC = re.compile(r"^(v_comp|m_Na_|h_Na_|n_K_|g_[rd]_(?:AMPA|GABA|NMDA|AN_AMPA|AN_NMDA)_)(0|[1-9][0-9]*)$")

_GBAR_MIN = 1e-9   # NEST: a channel with gbar <= 1e-9 is off (its state is not advanced)
_Q10 = 1.0 / 3.21


class _Recordables(tuple):
    """The dynamic recordables: v_comp<i>, m_Na_<i>, h_Na_<i>, n_K_<i> per compartment i and the
    receptor conductances g_r_AMPA_<j>, ... per receptor j. Iterating lists the name patterns (docs);
    membership tests the concrete names."""

    def __contains__(self, name):
        return isinstance(name, str) and _REC.match(name) is not None


# ---- the channels' rate functions, NEST's arithmetic (host: math; run: jnp) -------------------------
class _HOST:
    """Scalar float64 arithmetic on the host (libm's exp, as NEST's std::exp)."""
    abs = staticmethod(abs)
    exp = staticmethod(math.exp)


def _m_inf_tau(v, xp):
    """Na activation m: (m_inf, tau_m)."""
    v35 = v + 35.013
    far = xp.abs(v35) > 1e-5
    v35s = xp.where(far, v35, 1.0) if xp is jnp else (v35 if far else 1.0)
    e = xp.exp(0.111111111111111 * v35s)
    fr = 1.0 / (e - 1.0)
    alpha = 0.182 * v35s * e * fr
    beta = 0.124 * v35s * fr
    inv = 1.0 / (alpha + beta)
    alpha_l, inv_l = 1.638, 1.0 / (1.638 + 1.116)
    if xp is jnp:
        alpha, inv = jnp.where(far, alpha, alpha_l), jnp.where(far, inv, inv_l)
    elif not far:
        alpha, inv = alpha_l, inv_l
    return alpha * inv, _Q10 * inv


def _h_inf_tau(v, xp):
    """Na inactivation h: (h_inf, tau_h)."""
    v50, v75 = v + 50.013, v + 75.013
    far50, far75 = xp.abs(v50) > 1e-5, xp.abs(v75) > 1e-9
    if xp is jnp:
        s50, s75 = jnp.where(far50, v50, 1.0), jnp.where(far75, v75, 1.0)
        alpha = jnp.where(far50, 0.024 * s50 / (1.0 - jnp.exp(-0.2 * s50)), 0.12)
        beta = jnp.where(far75, -0.0091 * s75 / (1.0 - jnp.exp(0.2 * s75)), 0.0455)
    else:
        alpha = 0.024 * v50 / (1.0 - math.exp(-0.2 * v50)) if far50 else 0.12
        beta = -0.0091 * v75 / (1.0 - math.exp(0.2 * v75)) if far75 else 0.0455
    return 1.0 / (1.0 + xp.exp((v + 65.0) / 6.2)), _Q10 / (alpha + beta)


def _n_inf_tau(v, xp):
    """K activation n: (n_inf, tau_n)."""
    v25 = v - 25.0
    far = xp.abs(v25) > 1e-5
    s = xp.where(far, v25, 1.0) if xp is jnp else (v25 if far else 1.0)
    e = xp.exp(0.111111111111111 * s)
    fr = 1.0 / (e - 1.0)
    alpha = 0.02 * s * e * fr
    beta = 0.002 * s * fr
    inv = 1.0 / (alpha + beta)
    alpha_l, inv_l = 0.18, 1.0 / (0.18 + 0.018)
    if xp is jnp:
        alpha, inv = jnp.where(far, alpha, alpha_l), jnp.where(far, inv, inv_l)
    elif not far:
        alpha, inv = alpha_l, inv_l
    return alpha * inv, _Q10 * inv


def _g_norm(tau_r, tau_d):
    """Peak normalisation of a double-exponential conductance (NEST's g_norm), host float64."""
    tp = (tau_r * tau_d) / (tau_d - tau_r) * math.log(tau_d / tau_r)
    return 1.0 / (-math.exp(-tp / tau_r) + math.exp(-tp / tau_d))


# ---- structure: the lists NEST takes -> per-neuron arrays ---------------------------------------------
def _number(value, unit, where):
    try:
        x = to_nest(value, unit, "cm_default", where)
        x = float(np.asarray(x, float))
    except (TypeError, ValueError) as e:
        if isinstance(e, NestaxError):
            raise
        raise BadParameterError(f"cm_default: {where} = {value!r} is invalid; expected a number in {unit}.") from None
    if not math.isfinite(x):
        raise BadParameterError(f"cm_default: {where} = {x} is invalid; expected a finite number in {unit}.")
    return x


def _index(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float, np.floating)) or \
            not math.isfinite(value) or float(value) != int(value):
        raise BadParameterError(f"cm_default: {where} = {value!r} is invalid; expected an integer.")
    return int(value)


def _entries(value, what):
    """NEST takes one dict or a list of dicts."""
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(d, dict) for d in value):
        raise BadParameterError(f"cm_default: {what!r} = {value!r} is invalid; expected a list of dictionaries "
                                f"(or one dictionary), as NEST's '{what}'.")
    return list(value)


def _known(d, allowed, where):
    for k in d:
        if k not in allowed:
            raise BadParameterError(f"cm_default: unknown entry {k!r} in {where}.{did_you_mean(k, allowed)} "
                                    f"Known entries: {', '.join(allowed)}.")


def _compartments(value):
    """Parse NEST's ``compartments`` list: per compartment its parent and parameters (dict of floats)."""
    out = []
    for i, d in enumerate(_entries(value, "compartments")):
        where = f"compartments[{i}]"
        _known(d, ("parent_idx", "params"), where)
        if "parent_idx" not in d:
            raise BadParameterError(f"cm_default: {where} has no 'parent_idx'; give -1 for the root (soma) and the "
                                    "index of an existing compartment otherwise.")
        parent = _index(d["parent_idx"], f"{where}['parent_idx']")
        if i == 0 and parent != -1:
            raise BadParameterError(
                f"cm_default: {where}['parent_idx'] = {parent} is invalid: the first compartment is the root (soma) "
                "and takes parent_idx = -1 (NEST: 'Compartment {parent} does not exist in tree').")
        if i > 0 and parent == -1:
            raise BadParameterError(f"cm_default: {where}['parent_idx'] = -1 is invalid: compartment 0 is already the "
                                    "root (NEST: 'Compartment 0, the root, has already been instantiated').")
        if i > 0 and not 0 <= parent < i:
            raise BadParameterError(
                f"cm_default: {where}['parent_idx'] = {parent} is invalid: compartment {parent} does not exist (NEST: "
                f"'does not exist in tree, but was specified as a parent compartment'); expected an index in "
                f"0 .. {i - 1}, a compartment added before this one.")
        params = d.get("params", {}) or {}
        if not isinstance(params, dict):
            raise BadParameterError(f"cm_default: {where}['params'] = {params!r} is invalid; expected a dictionary.")
        _known(params, tuple(COMPARTMENT_PARAMS), f"{where}['params']")
        vals = {k: _number(params.get(k, dflt), unit, f"{where}['params'][{k!r}]")
                for k, (dflt, unit, _) in COMPARTMENT_PARAMS.items()}
        if not vals["C_m"] > 0:
            raise BadParameterError(f"cm_default: {where}['params']['C_m'] = {vals['C_m']} nF is invalid; expected a "
                                    "value > 0 nF.")
        out.append((parent, vals))
    return out


def _receptors(value, n_comp):
    out = []
    for j, d in enumerate(_entries(value, "receptors")):
        where = f"receptors[{j}]"
        _known(d, ("comp_idx", "receptor_type", "params"), where)
        for k in ("comp_idx", "receptor_type"):
            if k not in d:
                raise BadParameterError(f"cm_default: {where} has no {k!r} (NEST requires 'comp_idx' and "
                                        "'receptor_type').")
        comp = _index(d["comp_idx"], f"{where}['comp_idx']")
        if not 0 <= comp < n_comp:
            raise BadParameterError(
                f"cm_default: {where}['comp_idx'] = {comp} is invalid: compartment {comp} does not exist (NEST: "
                f"'Compartment {comp} does not exist in tree'); this neuron has "
                + (f"compartments 0 .. {n_comp - 1}." if n_comp else "no compartments: give 'compartments' first."))
        rtype = d["receptor_type"]
        if not isinstance(rtype, str) or rtype not in RECEPTOR_TYPES:
            hint = did_you_mean(str(rtype), RECEPTOR_TYPES)
            raise BadParameterError(f"cm_default: {where}['receptor_type'] = {rtype!r} is invalid.{hint} "
                                    f"Expected one of {', '.join(RECEPTOR_TYPES)}.")
        code, spec = RECEPTOR_TYPES[rtype]
        params = d.get("params", {}) or {}
        if not isinstance(params, dict):
            raise BadParameterError(f"cm_default: {where}['params'] = {params!r} is invalid; expected a dictionary.")
        _known(params, tuple(spec), f"{where}['params'] (receptor type {rtype})")
        vals = {k: _number(params.get(k, dflt), unit, f"{where}['params'][{k!r}]") for k, (dflt, unit) in spec.items()}
        for k, x in vals.items():
            if k.startswith("tau") and not x > 0:
                raise BadParameterError(f"cm_default: {where}['params'][{k!r}] = {x} ms is invalid; expected a value "
                                        "> 0 ms.")
        for part in ("AMPA", "GABA", "NMDA"):
            r, dd = vals.get(f"tau_r_{part}"), vals.get(f"tau_d_{part}")
            if r is not None and r == dd:
                raise BadParameterError(f"cm_default: {where}['params']['tau_r_{part}'] = {r} ms equals tau_d_{part}; "
                                        "expected different rise and decay times (the normalisation divides by "
                                        "their difference).")
        out.append((comp, code, vals))
    return out


def _elimination_order(parent):
    """NEST's down sweep: the order in which the compartments are eliminated (leaf by leaf, each
    parent when its last child is done); the root comes last."""
    k = len(parent)
    children = [[] for _ in range(k)]
    for c in range(1, k):
        children[parent[c]].append(c)
    leaves = [c for c in range(k) if not children[c]]
    passed = [0] * k
    seq, li, c = [], 0, leaves[0]
    while True:
        seq.append(c)
        p = parent[c]
        if p < 0:
            break
        passed[p] += 1
        if passed[p] == len(children[p]):
            passed[p] = 0
            c = p
        else:
            li += 1
            c = leaves[li]
    return seq


def _neuron_structure(comps, recs):
    """Host arrays of one neuron: compartments (K,), receptors (R,) and the initial state."""
    k = len(comps)
    parent = [c[0] for c in comps]
    col = {name: np.array([c[1][name] for c in comps], float) for name in COMPARTMENT_PARAMS}
    s = {"_parent": np.array(parent, np.int64), "_elim": np.array(_elimination_order(parent) if k else [], np.int64)}
    for name in COMPARTMENT_PARAMS:
        s["_" + name] = col[name]
    s["v_comp"] = col["v_comp"].copy()
    s["m_Na"] = np.array([_m_inf_tau(float(v), _HOST)[0] for v in col["v_comp"]])
    s["h_Na"] = np.array([_h_inf_tau(float(v), _HOST)[0] for v in col["v_comp"]])
    s["n_K"] = np.array([_n_inf_tau(float(v), _HOST)[0] for v in col["v_comp"]])
    r = len(recs)
    rs = {n: np.zeros(r) for n in ("_e_rev", "_tau_rA", "_tau_dA", "_tau_rN", "_tau_dN", "_ratio", "_norm_A",
                                   "_norm_N")}
    rs["_r_comp"] = np.array([x[0] for x in recs], np.int64)
    rs["_r_type"] = np.array([x[1] for x in recs], np.int64)
    for j, (_, code, v) in enumerate(recs):
        name = _TYPE_NAMES[code]
        a = "AMPA" if name in ("AMPA", "AMPA_NMDA") else "GABA" if name == "GABA" else None
        rs["_e_rev"][j] = v[f"e_{name}"]
        rs["_tau_rA"][j], rs["_tau_dA"][j] = (v[f"tau_r_{a}"], v[f"tau_d_{a}"]) if a else (1.0, 2.0)
        rs["_tau_rN"][j], rs["_tau_dN"][j] = (v["tau_r_NMDA"], v["tau_d_NMDA"]) if "tau_r_NMDA" in v else (1.0, 2.0)
        rs["_norm_A"][j] = _g_norm(v[f"tau_r_{a}"], v[f"tau_d_{a}"]) if a else 0.0
        rs["_norm_N"][j] = _g_norm(v["tau_r_NMDA"], v["tau_d_NMDA"]) if "tau_r_NMDA" in v else 0.0
        rs["_ratio"][j] = v.get("NMDA_ratio", 0.0)
    # NEST sums a compartment's receptor currents type by type (AMPA, GABA, NMDA, AMPA_NMDA), each
    # type in the order its receptors were added
    rs["_r_order"] = np.array(sorted(range(r), key=lambda j: (recs[j][1], j)), np.int64)
    s.update(rs)
    for n in ("g_rA", "g_dA", "g_rN", "g_dN"):
        s[n] = np.zeros(r)
    return s


_STRUCT_CACHE: list = []


def _structure(p):
    """Per-population arrays (n, K) / (n, R) built from the lists ``compartments`` and ``receptors``
    (the last result is kept: assign() asks once per state variable)."""
    comps, recs = p["compartments"], p["receptors"]
    comps, recs = tuple(comps), tuple(recs)
    key = (tuple(map(id, comps)), tuple(map(id, recs)))
    if _STRUCT_CACHE and _STRUCT_CACHE[0][0] == key:
        return _STRUCT_CACHE[0][2]
    per = []
    for i, (c, r) in enumerate(zip(comps, recs)):
        cc = _compartments(c)
        per.append(_neuron_structure(cc, _receptors(r, len(cc))))
    ks = {len(x["_parent"]) for x in per}
    rs = {len(x["_r_comp"]) for x in per}
    if len(ks) > 1 or len(rs) > 1:
        raise BadParameterError(
            f"cm_default: the neurons of one population have {sorted(ks)} compartments and {sorted(rs)} receptors; "
            "expected the same numbers for all (create neurons with other trees as another population).")
    out = {name: np.stack([x[name] for x in per]) if per else np.zeros((0, 0)) for name in per[0]}
    _STRUCT_CACHE[:] = [(key, (comps, recs), out)]   # the lists are kept alive with their ids
    return out


def _onehot(idx, k, dtype):
    return (idx[:, None] == jnp.arange(k)[None, :]).astype(dtype)


def _take(x, idx):
    return jnp.take_along_axis(x, idx[:, None], axis=1)[:, 0]


@register
class cm_default(Neuron):
    """Compartmental neuron with a user-defined tree of compartments and receptors (NEST: cm_default).

    Structure (NEST's lists, given at ``create`` or with ``set``; one dict or a list of dicts):

    - ``compartments``: ``{"parent_idx": p, "params": {...}}`` per compartment, indexed 0, 1, ... in
      the order given. Compartment 0 is the root (soma, parent_idx -1); every other compartment names
      a parent added before it. Parameters and NEST defaults: C_m 1 nF (> 0), g_C 0.01 uS (coupling
      to the parent), g_L 0.1 uS, e_L -70 mV, v_comp -70 mV (initial voltage; NEST starts at -70 mV
      even when e_L differs), gbar_Na 0 uS, e_Na 50 mV, gbar_K 0 uS, e_K -85 mV.
    - ``receptors``: ``{"comp_idx": c, "receptor_type": T, "params": {...}}``, indexed 0, 1, ... in the
      order given; a connection's ``receptor_type`` is that index. T and its parameters (defaults):
      AMPA (e_AMPA 0 mV, tau_r_AMPA 0.2 ms, tau_d_AMPA 3 ms), GABA (e_GABA -80 mV, tau_r_GABA 0.2 ms,
      tau_d_GABA 10 ms), NMDA (e_NMDA 0 mV, tau_r_NMDA 0.2 ms, tau_d_NMDA 43 ms), AMPA_NMDA
      (e_AMPA_NMDA 0 mV, tau_r_AMPA, tau_d_AMPA, tau_r_NMDA, tau_d_NMDA as above, NMDA_ratio 2).

    Units are NEST's consistent set: mV, ms, nF, uS, so currents are in nA and weights (conductance
    peaks) in uS. As in NEST, the number a current generator sends (pA for the generator) is used as
    it is, i.e. read as nA when the tree is given in nF / uS (NEST's two_comps example gives pF / nS
    numbers, making currents pA).

    Equations, compartment i with voltage v_i, parent p(i) and children c:

        C_m dv_i/dt = g_L (e_L - v_i) + g_C,i (v_p - v_i) + sum_c g_C,c (v_c - v_i) + I_chan + I_syn + I_inj
        I_Na = gbar_Na m^3 h (e_Na - v),  I_K = gbar_K n (e_K - v),
        dx/dt = (x_inf(v) - x) / tau_x(v)  for x = m, h, n (rates of Branco 2010, q10 factor 1/3.21)
        receptor j: g = g_r + g_d, g_r and g_d decay with tau_r and tau_d; a spike of weight w adds
        -w g_norm to g_r and +w g_norm to g_d (g peaks at w); I = g (e - v), NMDA: I = g sigma(v) (e - v)
        with sigma(v) = 1 / (1 + 0.3 exp(-0.1 v)); AMPA_NMDA: (g_AMPA + NMDA_ratio g_NMDA sigma(v)) (e - v).

    Update of step k (NEST 3.10, semi-implicit Crank-Nicolson as NEST's CompTree):
    1. every active channel (gbar > 1e-9) advances its gates exactly over dt with x_inf, tau_x at the
       voltage of the step's start; every receptor decays by exp(-dt/tau) and takes the spikes that
       arrive in this step; channel and receptor currents are linearised around the start voltage
       (conductance term g/2 on the diagonal, I + g v/2 on the right-hand side);
    2. the tree's trapezoidal system (C_m/dt + g_L/2 + couplings/2 + g_chan/2 on the diagonal) is
       solved exactly by NEST's Hines elimination (leaf to root, then root to leaves), with the
       injected current arriving in this step on each compartment (no one-step lag: NEST reads it here);
    3. a spike is stamped (k+1) dt when the soma voltage v_comp0 crosses V_th upwards (>= V_th now,
       < V_th at the step's start). There is no reset and no refractory period.

    Parameters: V_th (mV, -55), the two lists above (the same numbers of compartments and receptors
    on every neuron of a population: create other trees as other populations), tau_minus /
    tau_minus_triplet (the archiving node's). ``set`` with ``compartments`` or ``receptors`` on
    neurons that have none defines them; on neurons that have them it may give new parameters for the
    same number of compartments / receptors (those neurons' state restarts from the new tree), never
    another number (NEST refuses any second 'compartments' / 'receptors'; its 'add_compartments' /
    'add_receptors' are not provided). NEST only reads e_K when e_Na is also given
    (and fails when e_Na comes without e_K); nestax reads each on its own.

    Receptor types of connections: spikes go to receptor index 0 .. n_receptors - 1 (weights >= 0 uS,
    as NEST); current generators go to compartment index 0 .. n_compartments - 1.

    Recordables (as NEST's): v_comp<i>, m_Na_<i>, h_Na_<i>, n_K_<i> for compartment i (mV, 1);
    g_r_AMPA_<j>, g_d_AMPA_<j>, g_r_GABA_<j>, g_d_GABA_<j>, g_r_NMDA_<j>, g_d_NMDA_<j>, g_r_AN_AMPA_<j>,
    g_d_AN_AMPA_<j>, g_r_AN_NMDA_<j>, g_d_AN_NMDA_<j> for receptor j of the named type (uS). A neuron
    without compartments can be created, as in NEST, but not simulated.
    """

    name = "cm_default"
    kind = "neuron"
    weight_unit = "uS"
    settable_state = ()
    current_same_step = True
    parameters = {
        "V_th": Param(-55.0, "mV", "Spike threshold of the soma (compartment 0), upward crossing"),
        "compartments": Param((), "1", "The tree: one dict per compartment, {'parent_idx': p, 'params': {...}}; "
                                       "params C_m (nF), g_C, g_L, gbar_Na, gbar_K (uS), e_L, v_comp, e_Na, e_K "
                                       "(mV)", "list"),
        "receptors": Param((), "1", "Receptors: one dict each, {'comp_idx': c, 'receptor_type': 'AMPA', "
                                    "'params': {...}}; types AMPA, GABA, NMDA, AMPA_NMDA; the index in this "
                                    "list is a connection's receptor_type", "list"),
    }
    state = {
        "v_comp": State("mV", 0.0, "Compartment voltages, (n, n_compartments)"),
        "m_Na": State("1", 0.0, "Na activation per compartment, (n, n_compartments)"),
        "h_Na": State("1", 0.0, "Na inactivation per compartment, (n, n_compartments)"),
        "n_K": State("1", 0.0, "K activation per compartment, (n, n_compartments)"),
        "g_rA": State("uS", 0.0, "Rise part of the AMPA / GABA conductance per receptor, (n, n_receptors)"),
        "g_dA": State("uS", 0.0, "Decay part of the AMPA / GABA conductance per receptor"),
        "g_rN": State("uS", 0.0, "Rise part of the NMDA conductance per receptor"),
        "g_dN": State("uS", 0.0, "Decay part of the NMDA conductance per receptor"),
        # the tree, rebuilt from the parameter lists (internal)
        **{"_" + k: State(unit, 0.0, f"{doc} per compartment (internal)") for k, (_, unit, doc) in
           COMPARTMENT_PARAMS.items()},
        "_parent": State("1", 0, "Parent index per compartment, -1 for the root (internal)"),
        "_elim": State("1", 0, "NEST's elimination order of the compartments (internal)"),
        **{n: State(unit, 0.0, f"{doc} per receptor (internal)") for n, unit, doc in (
            ("_e_rev", "mV", "Reversal potential"), ("_tau_rA", "ms", "AMPA / GABA rise time"),
            ("_tau_dA", "ms", "AMPA / GABA decay time"), ("_tau_rN", "ms", "NMDA rise time"),
            ("_tau_dN", "ms", "NMDA decay time"), ("_ratio", "1", "NMDA_ratio"),
            ("_norm_A", "1", "AMPA / GABA peak normalisation"), ("_norm_N", "1", "NMDA peak normalisation"))},
        "_r_comp": State("1", 0, "Compartment of each receptor (internal)"),
        "_r_type": State("1", 0, "Type of each receptor: 0 AMPA, 1 GABA, 2 NMDA, 3 AMPA_NMDA (internal)"),
        "_r_order": State("1", 0, "NEST's summation order of the receptors (internal)"),
    }
    # declared before the tree: assign() of these compares the old tree (still in ``s``) with the new
    _dynamic = ("v_comp", "m_Na", "h_Na", "n_K", "g_rA", "g_dA", "g_rN", "g_dN")

    @classmethod
    def recordables(cls):
        return _Recordables(("v_comp<i>", "m_Na_<i>", "h_Na_<i>", "n_K_<i>", "g_r_AMPA_<j>", "g_d_AMPA_<j>",
                             "g_r_GABA_<j>", "g_d_GABA_<j>", "g_r_NMDA_<j>", "g_d_NMDA_<j>", "g_r_AN_AMPA_<j>",
                             "g_d_AN_AMPA_<j>", "g_r_AN_NMDA_<j>", "g_d_AN_NMDA_<j>"))

    @classmethod
    def recordable_unit(cls, name):
        m = _REC.match(name) if isinstance(name, str) else None
        if m:
            return "mV" if m.group(1) == "v_comp" else "uS" if m.group(1).startswith("g_") else "1"
        return "1"

    # ---- structure -------------------------------------------------------------------------------
    @classmethod
    def _sizes(cls, p):
        st = _structure(p)
        return st["_parent"].shape[1], st["_r_comp"].shape[1]

    @classmethod
    def port_names(cls, p):
        k, r = cls._sizes(p)
        return tuple(f"receptor_{j}" for j in range(r)) + tuple(f"current_{i}" for i in range(1, k))

    @classmethod
    def receptor_range(cls, p):
        return (0, cls._sizes(p)[1] - 1)

    @classmethod
    def current_port_map(cls, p):
        k, _ = cls._sizes(p)
        return {i: f"current_{i}" for i in range(1, k)}

    @classmethod
    def route(cls, weights, receptor_type):
        w = np.asarray(weights, float)
        if np.any(w < 0):
            raise ConnectionError_(f"cm_default: weight = {w[w < 0].ravel()[0]} uS is invalid; expected a weight "
                                   ">= 0 uS (NEST: 'Synaptic weights must be positive').")
        return np.broadcast_to(np.asarray(receptor_type), w.shape).astype(int), np.ones_like(w)

    @classmethod
    def check(cls, p):
        _structure(p)

    @classmethod
    def assign(cls, p, s, name, value):
        st = _structure(p)
        if name not in cls._dynamic:
            return st[name]
        if name == "v_comp" and "_parent" in s:   # a set: the old tree is still in s
            for what, key in (("compartments", "_parent"), ("receptors", "_r_comp")):
                k_old, k_new = np.shape(s[key])[1], st[key].shape[1]
                if k_old and k_new != k_old:
                    raise BadParameterError(
                        f"cm_default: {what!r} is already defined for these neurons ({k_old}); a set may change the "
                        f"parameters of the {what} but not their number (got {k_new}; connections use them). NEST "
                        f"refuses a second {what!r} too: create new neurons for another tree.")
        new = st[name]
        old = np.asarray(value, float)
        if old.shape != new.shape or any(k not in s for k in st if k.startswith("_")):
            return new
        # neurons whose tree is unchanged keep their state; the others restart
        same = np.ones(new.shape[0], bool)
        for k, v in st.items():
            if k.startswith("_"):
                o = np.asarray(s[k])
                if o.shape != v.shape:
                    return new
                same &= np.all(o.reshape(len(o), -1) == v.reshape(len(v), -1), axis=1)
        return np.where(same[:, None], old, new)

    @classmethod
    def observe(cls, p, s, name):
        m = _REC.match(name) if isinstance(name, str) else None
        if not m:
            return s[name]
        prefix, i = m.group(1), int(m.group(2))
        xp = jnp if isinstance(s["v_comp"], jnp.ndarray) else np
        for pre, var in _COMP_RECORDABLES:
            if prefix == pre:
                k = s[var].shape[1]
                if i >= k:
                    raise BadParameterError(f"cm_default: recordable {name!r} does not exist; the neurons have "
                                            f"{k} compartments (v_comp0 .. v_comp{k - 1}).")
                return s[var][:, i]
        r = s["g_rA"].shape[1]
        for tname, pairs in _RECEPTOR_RECORDABLES.items():
            for pre, var in pairs:
                if prefix == pre:
                    types = np.asarray(s["_r_type"]) if xp is np else s["_r_type"]
                    if i >= r:
                        raise BadParameterError(f"cm_default: recordable {name!r} does not exist; the neurons have "
                                                f"{r} receptors.")
                    code = RECEPTOR_TYPES[tname][0]
                    return xp.where(types[:, i] == code, s[var][:, i], xp.nan)
        raise BadParameterError(f"cm_default: unknown recordable {name!r}.")  # pragma: no cover

    # ---- dynamics --------------------------------------------------------------------------------
    @classmethod
    def prepare(cls, p, dt):
        return {"dt": dt}

    @classmethod
    def update(cls, p, d, s, syn, I):
        v = s["v_comp"]
        n, k = v.shape
        if k == 0:
            raise BadParameterError("cm_default: the neurons have no compartments (NEST: 'Compartment 0 does not "
                                    "exist in tree, meaning that no compartments have been added'); give "
                                    "compartments=[{'parent_idx': -1, 'params': {...}}, ...] at create or with set.")
        r = s["g_rA"].shape[1]
        dt = d["dt"]
        dtype = v.dtype
        parent = s["_parent"]
        has_parent = parent >= 0
        par0 = jnp.maximum(parent, 0)
        v_par = jnp.take_along_axis(v, par0, axis=1)

        # ---- channels (NEST's Na / K f_numstep)
        m_inf, tau_m = _m_inf_tau(v, jnp)
        h_inf, tau_h = _h_inf_tau(v, jnp)
        n_inf, tau_n = _n_inf_tau(v, jnp)
        na_on, k_on = s["_gbar_Na"] > _GBAR_MIN, s["_gbar_K"] > _GBAR_MIN
        pm, ph, pn = jnp.exp(-dt / tau_m), jnp.exp(-dt / tau_h), jnp.exp(-dt / tau_n)
        m = jnp.where(na_on, s["m_Na"] * pm + (1.0 - pm) * m_inf, s["m_Na"])
        h = jnp.where(na_on, s["h_Na"] * ph + (1.0 - ph) * h_inf, s["h_Na"])
        nk = jnp.where(k_on, s["n_K"] * pn + (1.0 - pn) * n_inf, s["n_K"])
        g_na = s["_gbar_Na"] * jnp.power(m, 3.0) * h   # std::pow(m, 3): jnp.power rounds as libm
        g_k = s["_gbar_K"] * nk
        acc_g = (0.0 + jnp.where(na_on, g_na / 2.0, 0.0)) + jnp.where(k_on, g_k / 2.0, 0.0)
        acc_i = (0.0 + jnp.where(na_on, g_na * (s["_e_Na"] - v / 2.0), 0.0)) + \
            jnp.where(k_on, g_k * (s["_e_K"] - v / 2.0), 0.0)

        # ---- receptors (NEST's AMPA / GABA / NMDA / AMPA_NMDA f_numstep)
        new = {"m_Na": m, "h_Na": h, "n_K": nk}
        if r:
            spikes = syn[:r].T
            rtype = s["_r_type"]
            has_a, has_n = rtype != 2, rtype >= 2
            g_ra = s["g_rA"] * jnp.exp(-dt / s["_tau_rA"])
            g_da = s["g_dA"] * jnp.exp(-dt / s["_tau_dA"])
            g_rn = s["g_rN"] * jnp.exp(-dt / s["_tau_rN"])
            g_dn = s["g_dN"] * jnp.exp(-dt / s["_tau_dN"])
            sa, sn = spikes * s["_norm_A"], spikes * s["_norm_N"]
            g_ra, g_da = jnp.where(has_a, g_ra - sa, 0.0), jnp.where(has_a, g_da + sa, 0.0)
            g_rn, g_dn = jnp.where(has_n, g_rn - sn, 0.0), jnp.where(has_n, g_dn + sn, 0.0)
            new.update(g_rA=g_ra, g_dA=g_da, g_rN=g_rn, g_dN=g_dn)
            vr = jnp.take_along_axis(v, s["_r_comp"], axis=1)
            ga, gn = g_ra + g_da, g_rn + g_dn
            e = s["_e_rev"]
            ex = jnp.exp(-0.1 * vr)
            den = 1.0 + 0.3 * ex
            sig, dsig = 1.0 / den, 0.03 * ex / (den * den)
            i_a = ga * (e - vr)
            i_n = gn * sig * (e - vr)
            d_n = gn * (dsig * (e - vr) - sig)
            rg = s["_ratio"] * gn
            i_an = (ga + rg * sig) * (e - vr)
            d_an = -ga + rg * (dsig * (e - vr) - sig)
            d_tot = jnp.where(rtype <= 1, -ga, jnp.where(rtype == 2, d_n, d_an))
            i_tot = jnp.where(rtype <= 1, i_a, jnp.where(rtype == 2, i_n, i_an))
            g_val = -d_tot / 2.0
            i_val = i_tot + g_val * vr
            for j in range(r):   # NEST's order: per compartment, type by type, each in the order added
                rj = s["_r_order"][:, j]
                oh = _onehot(_take(s["_r_comp"], rj), k, dtype)
                acc_g = acc_g + oh * _take(g_val, rj)[:, None]
                acc_i = acc_i + oh * _take(i_val, rj)[:, None]

        # ---- the tree's matrix (NEST's construct_matrix_element)
        ca_dt = s["_C_m"] / dt
        gl2 = s["_g_L"] / 2.0
        gc2 = s["_g_C"] / 2.0
        gg = jnp.where(has_parent, (ca_dt + gl2) + gc2, ca_dt + gl2)
        hh = jnp.where(has_parent, -gc2, 0.0)
        ff = (ca_dt - gl2) * v + s["_g_L"] * s["_e_L"]
        ff = jnp.where(has_parent, ff - gc2 * (v - v_par), ff)
        for c in range(1, k):  # children, in the order they were added
            oh = _onehot(parent[:, c], k, dtype)
            gg = gg + oh * gc2[:, c:c + 1]
            ff = ff - oh * (gc2[:, c] * (v_par[:, c] - v[:, c]))[:, None]
        gg = gg + acc_g
        ff = ff + acc_i
        inj = jnp.concatenate([I.reshape(1, -1) * jnp.ones((1, n), dtype), syn[r:r + k - 1]], axis=0).T
        ff = ff + inj

        # ---- NEST's Hines solve: down sweep in NEST's order, then up sweep
        xx = jnp.zeros_like(gg)
        yy = jnp.zeros_like(ff)
        for j in range(k):
            c = s["_elim"][:, j]
            ohc = _onehot(c, k, dtype) > 0
            gg_c = _take(gg, c) - _take(xx, c)
            ff_c = _take(ff, c) - _take(yy, c)
            gg = jnp.where(ohc, gg_c[:, None], gg)
            ff = jnp.where(ohc, ff_c[:, None], ff)
            hh_c = _take(hh, c)
            p_c = _take(parent, c)
            ohp = _onehot(p_c, k, dtype)  # all zero for the root (p = -1)
            xx = xx + ohp * (hh_c * hh_c / gg_c)[:, None]
            yy = yy + ohp * (ff_c * hh_c / gg_c)[:, None]
        cols = []
        for c in range(k):
            v_in = 0.0 if c == 0 else _take(jnp.stack(cols, axis=1), parent[:, c])
            cols.append((ff[:, c] - v_in * hh[:, c]) / gg[:, c])
        v_new = jnp.stack(cols, axis=1)

        spike = (v_new[:, 0] >= p["V_th"]) & (v[:, 0] < p["V_th"])
        new["v_comp"] = v_new
        return {**s, **new}, spike
