"""Regression tests against NEST 3.10 for defects found by hand (issue 8).

Each test runs the same experiment in NEST and in nestax and compares; nothing here skips in CI.

1. Initial state (catalog-wide, one pytest id per neuron model of the registry). NEST starts every state
   variable at the model's DEFAULT, whatever parameters Create was given (``Create("aeif_cond_exp",
   params={"E_L": -60.})`` starts at V_m = -70.6 mV); only an explicit state value changes it. Three
   neurons per model, all with every float parameter perturbed away from its default
   (:func:`perturbed`, :data:`OVERRIDES`):
     a  the perturbed parameters given at create,
     b  created with the defaults, then the perturbed parameters given with set (NEST: SetStatus),
     c  the perturbed parameters and an explicit value of every scalar state variable NEST lets one set
        (V_m among them) given at create.
   Compared: every state variable both report right after create (nestax ``sim.get``, NEST
   ``GetStatus``) to 1e-12; then 2 ms of simulation, E_L set to E_L + 4 mV on all three (models with an
   E_L: NEST keeps the absolute V_m, V_th and V_reset of the models holding them relative to E_L), the
   state variables and the float parameters both report compared again to 1e-12, and 2 ms more; the
   multimeter samples of every recordable both have agree to 1e-10 (absolute, plus 1e-10 relative) at
   every common stamp. Noise is switched off where it would make the samples random (rate neurons).
2. parrot_neuron: receptor_type 1 is accepted and its spikes are not repeated (NEST's port for STDP
   between parrots); receptor_type 2 is refused by both. Spike times identical; an stdp_synapse between
   two parrots on receptor 1 ends with NEST's weight (1e-12).
3. izhikevich: weights in mV (a spike moves V_m by the weight); 5 mV and a bare 5. give the same run,
   a weight in pA is refused; V_m against NEST to 1e-9 (forward Euler in both).
4. A current generator changed with set between two simulate calls acts from the first step of the
   next call exactly as NEST's (dc 0 -> 100 pA at 10 ms, delay 1 ms: V_m first moves at 11.2 ms), for
   dc_generator amplitude (into iaf_psc_alpha and iaf_psc_exp), ac_generator amplitude,
   step_current_generator values (of a time to come, and of the time in force) and a dc_generator whose
   start is moved to the past; V_m sample by sample to 1e-9.
   KNOWN FAILURES until the simulator is fixed (left unmarked on purpose): every case except
   step_current_future_value. nestax computes the current of stamp s in engine step s (lead 0 for
   non-binary targets) with the parameters in force then; NEST computes it in step s - 1 (the
   generator's update at step s - 1 sends the event of stamp s). A set between calls at step K therefore
   changes stamp K in nestax but only stamp K + 1 in NEST: V_m moves at 11.1 ms instead of 11.2 ms.
   step_current_value_in_force also fails for a second reason: NEST keeps the amplitude in force after
   SetStatus until the next listed time still to come; nestax looks the new table up for every stamp.
"""
from __future__ import annotations

import functools

import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.models.registry import _MODELS

from .harness import steps_of
from .nest_helpers import fresh_nest, mantissa

DT = 0.1

# ---- 1. initial state ----------------------------------------------------------------------------
# compartment models: NEST takes their parameters as nested dicts ({'soma': {'C_m': ..}}), nestax as
# suffixed names (C_m.s); their own parity files compare create / set against NEST
OWN_FILE = {"iaf_cond_alpha_mc": "test_iaf_cond_alpha_mc.py", "pp_cond_exp_mc_urbanczik": "test_urbanczik.py",
            "cm_default": "test_cm_default.py"}
NEURON_MODELS = sorted(name for name, cls in _MODELS.items() if cls.kind == "neuron" and name not in OWN_FILE)

# potentials are shifted (by different amounts, so V_reset < V_th < V_peak and the other orderings hold);
# other nonzero float parameters are scaled by 1.1 (keeps signs and tau_m != tau_syn), zeros become 0.5
# (15 pA for currents)
MV_SHIFT = {"E_L": 2.0, "V_th": 3.0, "V_reset": 1.0}
MV_SHIFT_OTHER = 2.5
# per-model values where the generic perturbation is invalid, or where noise would make the samples
# random (both simulators draw different streams)
_NO_NOISE_RATE = {"sigma": 0.0}
OVERRIDES = {
    "ignore_and_fire": {"phase": 0.7},            # phase must be in (0, 1]
    "spike_dilutor": {"p_copy": 0.5},             # a probability
    # e-prop low-pass constants must stay in [0, 1] (1.1 x 0.97 would not)
    **{m: {"kappa": 0.9, "kappa_reg": 0.8} for m in ("eprop_iaf", "eprop_iaf_adapt", "eprop_iaf_psc_delta",
                                                      "eprop_iaf_psc_delta_adapt")},
    # NEST's gauss_rate_ipn reads mu and sigma for both the Gaussian and the neuron's drive and noise
    # (nestax: mean and std for the neuron's): give both names the same values; sigma = 0 (no noise) makes
    # the Gaussian a spike at h = mu, phi = 0 for this unconnected neuron (h = 0)
    "gauss_rate_ipn": {"sigma": 0.0, "std": 0.0, "mu": 0.5, "mean": 0.5},
    **{m: _NO_NOISE_RATE for m in ("lin_rate_ipn", "lin_rate_opn", "sigmoid_rate_gg_1998_ipn",
                                   "sigmoid_rate_ipn", "tanh_rate_ipn", "tanh_rate_opn",
                                   "threshold_lin_rate_ipn", "threshold_lin_rate_opn")},
}
# models with no state variable NEST reports in GetStatus and no recordable
NOTHING_TO_COMPARE = {"parrot_neuron", "ignore_and_fire", "volume_transmitter", "parrot_neuron_ps", "spike_dilutor"}
# NEST's multimeter records iaf_psc_exp_htum's V_m relative to E_L (GetStatus gives the absolute value)
NEST_VM_RELATIVE = {"iaf_psc_exp_htum"}
# NEST sizes per-receptor state vectors at the first Simulate: right after Create, glif_cond reports one
# entry of g and dg whatever its number of receptors (nestax: one per receptor at once); the entries NEST
# reports are compared, the whole vectors after the first simulate
NEST_SIZED_AT_RUN = {"glif_cond": ("g", "dg")}
EL_STEP = 4.0            # mV added to E_L after the first 2 ms
STATE_TOL = 1e-12
SAMPLE_TOL = 1e-10


def perturbed(cls) -> dict:
    """Non-default values of every finite float parameter of ``cls`` (plus :data:`OVERRIDES`)."""
    out = {}
    for k, spec in cls.parameters.items():
        if spec.kind != "float":
            continue
        d = float(spec.default)
        if not np.isfinite(d):
            continue
        if spec.unit == "mV":
            out[k] = d + MV_SHIFT.get(k, MV_SHIFT_OTHER)
        elif d == 0.0:
            out[k] = 15.0 if spec.unit == "pA" else 0.5
        else:
            out[k] = d * 1.1
    out.update(OVERRIDES.get(cls.name, {}))
    return out


def _explicit_value(unit, x):
    """A value different from the state's default ``x``, of the state's kind."""
    return {"mV": x + 1.3, "pA": x + 5.0, "nS": x + 0.5, "1": 0.9 * x + 0.01}.get(unit, 1.1 * x + 0.01)


def _flat(x):
    return np.asarray(mantissa(x), float).ravel()


def _close(name, got, ref, tol, what, prefix=False):
    got, ref = _flat(got), _flat(ref)
    ref = np.where(ref >= np.finfo(float).max, np.inf, ref)  # NEST reports an endless window as DBL_MAX
    if prefix and len(ref) < len(got):
        got = got[:len(ref)]
    assert got.shape == ref.shape, f"{what} {name}: nestax {got} vs NEST {ref}"
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol, err_msg=f"{what} {name}")


@functools.cache
def _nest_status_names(name):
    """(state names both report in GetStatus, scalar ones NEST lets one set, NEST's recordables)."""
    cls = _MODELS[name]
    nest = fresh_nest(DT)
    n = nest.Create(name)
    st = n.get()
    names = [k for k in cls.state if k in st]
    settable = {}
    for k in names:
        v = np.asarray(st[k])
        if v.ndim:
            continue
        want = _explicit_value(cls.state[k].unit, float(v))
        scratch = nest.Create(name)
        try:
            scratch.set({k: want})
        except Exception:  # noqa: BLE001 - NEST: a read-only state ("Unaccessed elements in params")
            continue
        if float(scratch.get(k)) == pytest.approx(want, rel=1e-12, abs=1e-12):
            settable[k] = want
    rec = [r for r in (st.get("recordables") or ()) if r in cls.recordables()]
    return names, settable, rec


# NEST's GetStatus reports the e-prop neurons' f_target in spikes/ms (its internal unit); it is set in Hz
NEST_REPORTS_INTERNAL = {"f_target"}


def _params_both_report(cls, st):
    return [k for k, s in cls.parameters.items()
            if s.kind == "float" and k in st and np.ndim(st[k]) == 0 and k not in NEST_REPORTS_INTERNAL]


@pytest.mark.parametrize("name", NEURON_MODELS)
def test_initial_state_is_the_model_default(name):
    cls = _MODELS[name]
    pert = perturbed(cls)
    names, explicit, rec = _nest_status_names(name)
    if name in NOTHING_TO_COMPARE:
        assert not names and not rec
    else:
        assert names or rec, f"{name}: nothing to compare"
    if "V_m" in cls.state and name not in NOTHING_TO_COMPARE:
        assert "V_m" in names and "V_m" in explicit, name
    has_el = "E_L" in cls.parameters

    # NEST
    nest = fresh_nest(DT)
    na = nest.Create(name, params=pert)
    nb = nest.Create(name)
    nb.set(pert)
    nc = nest.Create(name, params={**pert, **explicit})
    npop = na + nb + nc
    nmm = None
    if rec:
        nmm = nest.Create("multimeter", params={"record_from": rec, "interval": DT})
        nest.Connect(nmm, npop)
    nest_st0 = [n.get() for n in (na, nb, nc)]
    nest.Simulate(2.0)
    if has_el:
        for n in (na, nb, nc):
            n.set({"E_L": float(n.get("E_L")) + EL_STEP})
    nest_st1 = [n.get() for n in (na, nb, nc)]
    nest.Simulate(2.0)

    # nestax
    sim = nx.Simulator(dt=DT * u.ms, seed=1)
    xa = sim.create(cls, 1, **pert)
    xb = sim.create(cls, 1)
    sim.set(xb, **pert)
    xc = sim.create(cls, 1, **pert, **explicit)
    xmm = None
    if rec:
        xmm = sim.create(nx.multimeter, record_from=rec, interval=DT)
        sim.connect(xmm, xa + xb + xc)
    for i, pop in enumerate((xa, xb, xc)):
        for k in names:
            _close(k, sim.get(pop, k, unit=False), nest_st0[i][k], STATE_TOL, f"{name} neuron {'abc'[i]} at create:",
                   prefix=k in NEST_SIZED_AT_RUN.get(name, ()))
    # the explicit values are the ones given (and not the defaults)
    for k, v in explicit.items():
        assert float(nest_st0[2][k]) == pytest.approx(v, rel=STATE_TOL, abs=STATE_TOL), (name, k)
    r1 = sim.simulate(2.0)
    if has_el:
        for pop in (xa, xb, xc):
            sim.set(pop, E_L=float(sim.get(pop, "E_L", unit=False)) + EL_STEP)
    for i, pop in enumerate((xa, xb, xc)):
        for k in names + _params_both_report(cls, nest_st1[i]):
            _close(k, sim.get(pop, k, unit=False), nest_st1[i][k], STATE_TOL,
                   f"{name} neuron {'abc'[i]} after set E_L at 2 ms:")
    r2 = sim.simulate(2.0)
    if not rec:
        return

    # multimeter samples at every common stamp
    ev = nmm.events
    g0 = npop.tolist()[0]
    n_steps, n_send = steps_of(ev["times"], DT), np.asarray(ev["senders"]) - g0
    x_steps = np.concatenate([steps_of(mantissa(r.trace_times(xmm), u.ms), DT) for r in (r1, r2)])
    for var in rec:
        xv = np.concatenate([np.asarray(mantissa(r.trace(xmm, var)), float).reshape(len(r.trace_times(xmm)), 3)
                             for r in (r1, r2)])
        for i in range(3):
            sel = n_send == i
            t_n, v_n = n_steps[sel], np.asarray(ev[var], float)[sel]
            if var == "V_m" and name in NEST_VM_RELATIVE:
                el = float(pert.get("E_L", cls.parameters["E_L"].default))
                v_n = v_n + el + np.where(t_n > 20, EL_STEP, 0.0)
            common, i_n, i_x = np.intersect1d(t_n, x_steps, return_indices=True)
            assert len(common) == len(t_n) and len(common) >= 20, (name, var, len(common))
            np.testing.assert_allclose(xv[i_x, i], v_n[i_n], rtol=SAMPLE_TOL, atol=SAMPLE_TOL,
                                       err_msg=f"{name} {var} neuron {'abc'[i]}")


def test_initial_state_example_from_the_issue():
    """The documented example: E_L given at create does not move V_m; an explicit V_m does."""
    nest = fresh_nest(DT)
    a = nest.Create("aeif_cond_exp", params={"E_L": -60.0})
    b = nest.Create("aeif_cond_exp", params={"E_L": -60.0, "V_m": -62.5})
    sim = nx.Simulator(dt=DT * u.ms)
    xa = sim.create(nx.aeif_cond_exp, 1, E_L=-60.0 * u.mV)
    xb = sim.create(nx.aeif_cond_exp, 1, E_L=-60.0 * u.mV, V_m=-62.5 * u.mV)
    assert float(a.get("V_m")) == -70.6 == float(sim.get(xa, "V_m", unit=False))
    assert float(b.get("V_m")) == -62.5 == float(sim.get(xb, "V_m", unit=False))
    # iaf_psc_alpha holds V_m relative to E_L: set(E_L) keeps the absolute V_m and thresholds in both
    c = nest.Create("iaf_psc_alpha")
    c.set({"E_L": -65.0})
    xc = sim.create(nx.iaf_psc_alpha)
    sim.set(xc, E_L=-65.0 * u.mV)
    for k in ("V_m", "V_th", "V_reset"):
        assert float(c.get(k)) == float(sim.get(xc, k, unit=False)), k
    assert float(sim.get(xc, "V_m", unit=False)) == -70.0 and float(sim.get(xc, "V_th", unit=False)) == -55.0


# ---- 2. parrot_neuron receptor_type 1 ------------------------------------------------------------
PARROT_T0 = [1.0, 2.5, 2.5, 4.0, 7.3]      # repeated (receptor 0); 2.5 twice: multiplicity 2
PARROT_T1 = [1.5, 2.5, 5.0, 6.1, 6.1]      # ignored (receptor 1)


def test_parrot_receptor_1_is_accepted_and_not_repeated():
    nest = fresh_nest(DT)
    p = nest.Create("parrot_neuron")
    g0 = nest.Create("spike_generator", params={"spike_times": PARROT_T0})
    g1 = nest.Create("spike_generator", params={"spike_times": PARROT_T1})
    sr = nest.Create("spike_recorder")
    nest.Connect(g0, p, syn_spec={"delay": 1.0, "receptor_type": 0})
    nest.Connect(g1, p, syn_spec={"delay": 1.0, "receptor_type": 1})
    nest.Connect(p, sr)
    nest.Simulate(10.0)
    ref = sorted(steps_of(sr.events["times"], DT).tolist())

    sim = nx.Simulator(dt=DT * u.ms)
    xp = sim.create(nx.parrot_neuron)
    x0 = sim.create(nx.spike_generator, spike_times=PARROT_T0)
    x1 = sim.create(nx.spike_generator, spike_times=PARROT_T1)
    xsr = sim.create(nx.spike_recorder)
    sim.connect(x0, xp, delay=1.0, receptor_type=0)
    sim.connect(x1, xp, delay=1.0, receptor_type=1)
    sim.connect(xp, xsr)
    got = sorted(steps_of(mantissa(sim.simulate(10.0).events(xsr)["times"], u.ms), DT).tolist())
    assert ref == [20, 35, 35, 50, 83]          # t + 1 ms delay, multiplicity kept, receptor 1 dropped
    assert got == ref


STDP_PRE = [4.0, 14.0, 24.0, 39.0, 54.0]     # generator times; the parrots spike 1 ms later
STDP_POST = [6.0, 13.0, 29.0, 40.5, 59.0]
STDP_T = 80.0


def test_stdp_between_parrots_through_receptor_1():
    """The use of port 1: an stdp_synapse from parrot A to parrot B on receptor 1 learns from A's and B's
    spikes while B repeats only its own generator (port 0). Weight and spikes as in NEST."""
    nest = fresh_nest(DT)
    ga = nest.Create("spike_generator", params={"spike_times": STDP_PRE})
    gb = nest.Create("spike_generator", params={"spike_times": STDP_POST})
    a, b = nest.Create("parrot_neuron"), nest.Create("parrot_neuron")
    sr = nest.Create("spike_recorder")
    nest.Connect(ga, a, syn_spec={"delay": 1.0})
    nest.Connect(gb, b, syn_spec={"delay": 1.0})
    nest.Connect(a, b, syn_spec={"synapse_model": "stdp_synapse", "weight": 10.0, "delay": 1.5,
                                 "receptor_type": 1})
    nest.Connect(a + b, sr)
    nest.Simulate(STDP_T)
    w_ref = float(np.atleast_1d(nest.GetConnections(a, b).weight)[0])
    ev = sr.events
    b_ref = sorted(steps_of(ev["times"][ev["senders"] == b.global_id], DT).tolist())

    sim = nx.Simulator(dt=DT * u.ms)
    xga = sim.create(nx.spike_generator, spike_times=STDP_PRE)
    xgb = sim.create(nx.spike_generator, spike_times=STDP_POST)
    xa, xb = sim.create(nx.parrot_neuron), sim.create(nx.parrot_neuron)
    xsr = sim.create(nx.spike_recorder)
    sim.connect(xga, xa, delay=1.0)
    sim.connect(xgb, xb, delay=1.0)
    sim.connect(xa, xb, synapse_model=nx.stdp_synapse, weight=10.0, delay=1.5, receptor_type=1)
    sim.connect(xa + xb, xsr)
    e = sim.simulate(STDP_T).events(xsr)
    times, senders = steps_of(mantissa(e["times"], u.ms), DT), np.asarray(e["senders"])
    w = float(np.asarray(sim.connections(xa, xb).weights)[0])
    assert b_ref == [70, 140, 300, 415, 600]     # B repeats its own generator only
    assert sorted(times[senders == xb.tolist()[0]].tolist()) == b_ref
    assert w_ref != 10.0                           # the synapse learned
    assert w == pytest.approx(w_ref, rel=1e-12, abs=1e-12)


def test_parrot_receptor_2_is_refused():
    nest = fresh_nest(DT)
    p = nest.Create("parrot_neuron")
    g = nest.Create("spike_generator", params={"spike_times": [1.0]})
    with pytest.raises(Exception, match="(?i)receptor type 2"):
        nest.Connect(g, p, syn_spec={"receptor_type": 2})
    sim = nx.Simulator(dt=DT * u.ms)
    xp = sim.create(nx.parrot_neuron)
    xg = sim.create(nx.spike_generator, spike_times=[1.0])
    with pytest.raises(nx.ConnectionError_, match="receptor_type 2"):
        sim.connect(xg, xp, receptor_type=2)


# ---- 3. izhikevich weights in mV -----------------------------------------------------------------
IZH_SPIKES = [2.0, 3.0, 3.1, 3.2, 3.3, 3.4, 6.0, 6.0, 6.5, 11.0, 11.1, 11.2, 11.3, 11.4, 11.5, 11.6]
IZH_T = 30.0


def _izh_nestax(weight):
    sim = nx.Simulator(dt=DT * u.ms)
    n = sim.create(nx.izhikevich, 1, I_e=4.0)
    sg = sim.create(nx.spike_generator, spike_times=IZH_SPIKES)
    mm = sim.create(nx.multimeter, record_from=["V_m", "U_m"], interval=DT)
    sr = sim.create(nx.spike_recorder)
    sim.connect(sg, n, weight=weight, delay=1.0)
    sim.connect(mm, n)
    sim.connect(n, sr)
    r = sim.simulate(IZH_T)
    return (steps_of(mantissa(r.trace_times(mm), u.ms), DT), _flat(r.trace(mm, "V_m")), _flat(r.trace(mm, "U_m")),
            steps_of(mantissa(r.events(sr)["times"], u.ms), DT).tolist())


def test_izhikevich_weight_in_mV():
    nest = fresh_nest(DT)
    n = nest.Create("izhikevich", params={"I_e": 4.0})
    sg = nest.Create("spike_generator", params={"spike_times": IZH_SPIKES})
    mm = nest.Create("multimeter", params={"record_from": ["V_m", "U_m"], "interval": DT})
    sr = nest.Create("spike_recorder")
    nest.Connect(sg, n, syn_spec={"weight": 5.0, "delay": 1.0})
    nest.Connect(mm, n)
    nest.Connect(n, sr)
    nest.Simulate(IZH_T)
    ev = mm.events
    t_n = steps_of(ev["times"], DT)
    spikes_n = steps_of(sr.events["times"], DT).tolist()

    t_q, v_q, u_q, s_q = _izh_nestax(5.0 * u.mV)
    t_b, v_b, u_b, s_b = _izh_nestax(5.0)
    np.testing.assert_array_equal(v_q, v_b)
    np.testing.assert_array_equal(u_q, u_b)
    assert s_q == s_b
    assert len(spikes_n) >= 2 and s_q == spikes_n          # the bursts make it fire
    common, i_n, i_x = np.intersect1d(t_n, t_q, return_indices=True)
    assert len(common) == len(t_n) and len(common) > 0.9 * IZH_T / DT
    np.testing.assert_allclose(v_q[i_x], np.asarray(ev["V_m"])[i_n], rtol=0, atol=1e-9)
    np.testing.assert_allclose(u_q[i_x], np.asarray(ev["U_m"])[i_n], rtol=0, atol=1e-9)
    # the first input (2 ms + 1 ms delay) moves V_m by exactly 5 mV more than without input
    k = int(np.searchsorted(t_n, 30))
    assert np.asarray(ev["V_m"])[k] - np.asarray(ev["V_m"])[k - 1] > 4.0


def test_izhikevich_weight_in_pA_is_refused():
    sim = nx.Simulator(dt=DT * u.ms)
    n = sim.create(nx.izhikevich)
    sg = sim.create(nx.spike_generator, spike_times=[1.0])
    with pytest.raises(nx.UnitError) as ei:
        sim.connect(sg, n, weight=5.0 * u.pA)
    msg = str(ei.value)
    assert "weight" in msg and "pA" in msg and "mV" in msg, msg


# ---- 4. current generators changed with set between simulate calls -------------------------------
SET_CASES = {
    # id: (generator, params at create, params set at 10 ms, target model)
    "dc_amplitude_psc_alpha": ("dc_generator", {"amplitude": 0.0}, {"amplitude": 100.0}, "iaf_psc_alpha"),
    "dc_amplitude_psc_exp": ("dc_generator", {"amplitude": 0.0}, {"amplitude": 100.0}, "iaf_psc_exp"),
    "ac_amplitude": ("ac_generator", {"amplitude": 0.0, "offset": 20.0, "frequency": 50.0, "phase": 30.0},
                     {"amplitude": 80.0}, "iaf_psc_alpha"),
    # NEST takes amplitude_times and amplitude_values together. A changed value of a time still to come
    # acts at that time; a changed value of a time already passed never acts: NEST keeps the amplitude
    # in force (0 here) until the next listed time (15 ms)
    "step_current_future_value": ("step_current_generator",
                                  {"amplitude_times": [2.0, 15.0], "amplitude_values": [30.0, 50.0]},
                                  {"amplitude_times": [2.0, 15.0], "amplitude_values": [30.0, 80.0]},
                                  "iaf_psc_alpha"),
    "step_current_value_in_force": ("step_current_generator",
                                    {"amplitude_times": [2.0, 15.0], "amplitude_values": [0.0, 50.0]},
                                    {"amplitude_times": [2.0, 15.0], "amplitude_values": [120.0, 50.0]},
                                    "iaf_psc_alpha"),
    "dc_start_moved_to_the_past": ("dc_generator", {"amplitude": 100.0, "start": 50.0},
                                   {"start": 5.0}, "iaf_psc_alpha"),
}


def _set_between_calls_nest(gen, p0, p1, model):
    nest = fresh_nest(DT)
    n = nest.Create(model)
    g = nest.Create(gen, params=p0)
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT})
    nest.Connect(g, n, syn_spec={"delay": 1.0})
    nest.Connect(mm, n)
    nest.Simulate(10.0)
    g.set(p1)
    nest.Simulate(10.0)
    nest.Simulate(1.0)        # NEST holds back the last min_delay of samples until the next call
    ev = mm.events
    return steps_of(ev["times"], DT), np.asarray(ev["V_m"], float)


def _set_between_calls_nestax(gen, p0, p1, model):
    sim = nx.Simulator(dt=DT * u.ms)
    n = sim.create(model)
    g = sim.create(gen, **p0)
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=DT)
    sim.connect(g, n, delay=1.0)
    sim.connect(mm, n)
    rs = [sim.simulate(10.0)]
    sim.set(g, **p1)
    rs.append(sim.simulate(10.0))
    return (np.concatenate([steps_of(mantissa(r.trace_times(mm), u.ms), DT) for r in rs]),
            np.concatenate([_flat(r.trace(mm, "V_m")) for r in rs]))


@pytest.mark.parametrize("case", list(SET_CASES))
def test_current_generator_set_between_calls(case):
    gen, p0, p1, model = SET_CASES[case]
    t_n, v_n = _set_between_calls_nest(gen, p0, p1, model)
    t_x, v_x = _set_between_calls_nestax(gen, p0, p1, model)
    assert t_n[-1] == 200
    common, i_n, i_x = np.intersect1d(t_n, t_x, return_indices=True)
    assert len(common) == len(t_n)
    v_n, v_x = v_n[i_n], v_x[i_x]
    # the change is visible in NEST's trace and acts from stamp 112 (set at step 100, delay 10 steps,
    # the one-step current lag) for the generators whose change acts at once
    if case.startswith("dc"):
        assert np.all(v_n[common <= 111] == v_n[0]) and v_n[common == 112][0] > v_n[0]
    np.testing.assert_allclose(v_x, v_n, rtol=0, atol=1e-9, err_msg=f"{case}: V_m, stamps {common[0]}..")
