"""iaf_bw_2001 (Brunel-Wang 2001 with NEST's approximate NMDA coupling) against NEST 3.10.

Every case builds the same network in NEST and nestax (nestax's run split into uneven simulate calls)
and requires identical spike steps and every recordable (V_m, s_AMPA, s_GABA, s_NMDA, I_AMPA,
I_GABA, I_NMDA) within ATOL at every common sample. Both integrate with GSL's adaptive RKF45
(absolute error 1e-3 per step); nestax reproduces the integrator's arithmetic, so the measured
deviation is rounding (see ATOL), far below the integrator's own tolerance.

NMDA input reaches a neuron only from iaf_bw_2001 senders (NEST refuses parrots and generators on
receptor 3); each spike carries the sender's delta = k_0 + k_1 s_pre, which the target multiplies by
the weight. The cases drive senders with generators so that they fire repeatedly (s_pre saturates,
so successive NMDA jumps differ): single neurons on every receptor with dc drive and settable state,
an 8-neuron network with recurrent NMDA, and a reduced wang_decision_making (50 neurons, 300 ms).
Measured (x86-64 CPU, float64, NEST 3.10.0): max |dV_m| 4e-14 mV, |ds| 3e-13 nS, |dI| 1e-11 pA;
spike steps identical. NEST has no I_e on this model; dc_generators provide the constant drive.
"""
from __future__ import annotations

import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError, ConnectionError_

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

DT = 0.1
VARS = ("V_m", "s_AMPA", "s_GABA", "s_NMDA", "I_AMPA", "I_GABA", "I_NMDA")
# measured max deviations are printed by each case; ATOL bounds rounding differences (exp, FMA)
ATOL = {"V_m": 1e-9, "s_AMPA": 1e-9, "s_GABA": 1e-9, "s_NMDA": 1e-9,
        "I_AMPA": 1e-7, "I_GABA": 1e-7, "I_NMDA": 1e-7}


def run_nest(build, T, record):
    nest = fresh_nest(DT)
    nodes = build(lambda m, n, p: nest.Create(m, n, params=p),
                  lambda a, b, conn, syn: nest.Connect(a, b, conn, syn_spec=syn), False)
    rec = nodes[record]
    mm = nest.Create("multimeter", params={"record_from": list(VARS), "interval": DT})
    sr = nest.Create("spike_recorder", params={"time_in_steps": True})
    nest.Connect(mm, rec)
    nest.Connect(rec, sr)
    nest.Simulate(T)
    e = mm.events
    gids = list(rec.tolist())
    out = {v: np.array([e[v][e["senders"] == g] for g in gids]).T for v in VARS}
    ev = sr.events
    # iaf_bw_2001 puts delta in the spike event's offset field: NEST's times in ms are off the
    # grid; in steps they are the grid stamps
    spikes = sorted((gids.index(int(s)), int(t)) for s, t in zip(ev["senders"], ev["times"]))
    return out, spikes


def run_nestax(build, T, record, splits):
    sim = nx.Simulator(dt=DT, seed=1)
    nodes = build(lambda m, n, p: sim.create(m, n, **p),
                  lambda a, b, conn, syn: sim.connect(a, b, **(conn if isinstance(conn, dict) else {"rule": conn}),
                                                      **syn), True)
    rec = nodes[record]
    mm = sim.create(nx.multimeter, record_from=list(VARS), interval=DT)
    sr = sim.create(nx.spike_recorder)
    sim.connect(mm, rec)
    sim.connect(rec, sr)
    assert abs(sum(splits) - T) < 1e-9
    out, spikes = {v: [] for v in VARS}, []
    gids = list(rec.tolist())
    for d in splits:
        res = sim.simulate(d)
        for v in VARS:
            out[v].append(mantissa(res.trace(mm, v)))
        e = res.events(sr)
        spikes += [(gids.index(int(s)), int(round(t / DT)))
                   for s, t in zip(np.asarray(e["senders"]), mantissa(e["times"]))]
    return {v: np.concatenate(x) for v, x in out.items()}, sorted(spikes)


def compare(build, T, splits, record="rec", label=""):
    ref, ref_spk = run_nest(build, T, record)
    got, spk = run_nestax(build, T, record, splits)
    assert spk == ref_spk
    k = len(ref["V_m"])
    worst = {}
    for v in VARS:
        worst[v] = float(np.max(np.abs(got[v][:k] - ref[v])))
        np.testing.assert_allclose(got[v][:k], ref[v], rtol=0, atol=ATOL[v], err_msg=f"{label} {v}")
        vrecord("iaf_bw_2001", f"{label} {v}", worst[v], ATOL[v], "integrator", f"{v} max abs dev")
    print(f"{label}: {len(ref_spk)} spikes identical; max deviation",
          {k_: float(f"{x:.3g}") for k_, x in worst.items()})
    return ref, ref_spk, worst


# ---- single neurons: each receptor, dc drive, NMDA from driven senders ----------------------------

SG_TIMES = [2.0, 5.0, 5.5, 6.0, 20.0, 20.1, 20.2, 35.0, 50.0, 50.3, 71.0, 90.0]


def build_receptors(create, connect, is_nestax):
    # senders: driven by dc to fire regularly, different rates and t_ref
    snd = create("iaf_bw_2001", 2, {})
    dc_s = create("dc_generator", 1, {"amplitude": 600.0})
    connect(dc_s, snd, "all_to_all", {})
    connect(create("dc_generator", 1, {"amplitude": 300.0, "start": 40.0}), snd[1:], "all_to_all", {})
    rec = None
    for p in [{"s_NMDA": 5.0, "s_GABA": 2.0}, {"V_m": -50.0},   # settable state; above threshold at t = 0
              {"g_L": 20.0, "tau_AMPA": 1.0, "tau_GABA": 8.0, "E_in": -80.0, "t_ref": 3.3},
              {"tau_decay_NMDA": 60.0, "tau_rise_NMDA": 3.0, "alpha": 0.3, "conc_Mg2": 1.5,
               "C_m": 300.0, "V_reset": -58.0, "gsl_error_tol": 1e-5}]:
        n = create("iaf_bw_2001", 1, p)
        rec = n if rec is None else rec + n
    sg = create("spike_generator", 1, {"spike_times": SG_TIMES})
    connect(sg, rec, "all_to_all", {"receptor_type": 1, "weight": 6.0, "delay": 1.0})
    connect(sg, rec, "all_to_all", {"receptor_type": 2, "weight": 4.0, "delay": 2.5})
    connect(sg, rec, "all_to_all", {"receptor_type": 1, "weight": -1.5, "delay": 0.3})   # sign kept
    connect(snd[0], rec, "all_to_all", {"receptor_type": 3, "weight": 3.0, "delay": 1.0})
    connect(snd[1], rec, "all_to_all", {"receptor_type": 3, "weight": 2.0, "delay": 2.3})
    connect(create("dc_generator", 1, {"amplitude": 480.0, "start": 10.0, "stop": 80.0}), rec, "all_to_all",
            {"delay": 0.5})
    return {"snd": snd, "rec": rec}


def test_receptors_dc_and_nmda_payload():
    ref, spikes, _ = compare(build_receptors, 120.0, [12.3, 0.1, 40.0, 30.5, 37.1], label="receptors")
    assert (1, 1) in spikes                      # V_m above threshold at t = 0: spike at dt
    assert len(spikes) >= 8
    # the NMDA jumps are the senders' delta times the weight, and they shrink as s_pre saturates
    jumps = np.diff(ref["s_NMDA"][:, 0])
    jumps = jumps[jumps > 1e-3]
    assert len(jumps) >= 6 and np.ptp(jumps) > 0.1


# ---- a small network with recurrent NMDA connections --------------------------------------------

def grid_train(rng, rate_hz, t0, t1):
    """Spike times on the 0.1 ms grid in (t0, t1], at most one per step, Bernoulli(rate dt) per step."""
    k = np.arange(int(round(t0 / DT)) + 1, int(round(t1 / DT)) + 1)
    return [round(float(x) * DT, 1) for x in k[rng.random(len(k)) < rate_hz * DT * 1e-3]]


def generators(create, trains):
    """One spike_generator per train, joined into one collection."""
    out = None
    for t in trains:
        g = create("spike_generator", 1, {"spike_times": t})
        out = g if out is None else out + g
    return out


N_NET = 8
W_NMDA = np.random.default_rng(3).uniform(0.5, 4.0, N_NET)   # NMDA weight of each sender (nS)


def build_nmda_network(create, connect, is_nestax):
    rng = np.random.default_rng(7)
    rec = create("iaf_bw_2001", N_NET, {"V_th": -52.0, "V_reset": -57.0})
    ext = generators(create, [grid_train(rng, 1500.0, 0.0, 200.0) for _ in range(N_NET)])
    inh = generators(create, [grid_train(rng, 300.0, 0.0, 200.0) for _ in range(N_NET)])
    connect(ext, rec, "one_to_one", {"receptor_type": 1, "weight": 3.5, "delay": 0.5})
    connect(inh, rec, "one_to_one", {"receptor_type": 2, "weight": 3.0, "delay": 1.0})
    # recurrent NMDA, autapses included: each sender with its own weight and delay
    for i in range(N_NET):
        connect(rec[i], rec, "all_to_all", {"receptor_type": 3, "weight": float(W_NMDA[i]),
                                            "delay": 0.5 + 0.1 * i})
    connect(create("dc_generator", 1, {"amplitude": 100.0, "start": 50.0, "stop": 120.0}), rec[:4],
            "all_to_all", {})
    return {"rec": rec}


def test_recurrent_nmda_network():
    ref, spikes, _ = compare(build_nmda_network, 200.0, [50.0, 33.3, 0.1, 116.6], label="NMDA network")
    assert len(spikes) >= 40 and len({i for i, _ in spikes}) == N_NET
    assert np.max(ref["I_NMDA"]) < -50.0 or np.min(ref["I_NMDA"]) < -50.0   # NMDA current matters


# ---- a reduced version of NEST's wang_decision_making example ------------------------------------

EPOP = {"g_L": 25.0, "C_m": 500.0, "t_ref": 2.0, "V_th": -50.0, "V_reset": -55.0, "E_L": -70.0,
        "E_ex": 0.0, "E_in": -70.0, "tau_AMPA": 2.0, "tau_GABA": 5.0, "tau_rise_NMDA": 2.0,
        "tau_decay_NMDA": 100.0, "alpha": 0.5, "conc_Mg2": 1.0}
IPOP = {**EPOP, "g_L": 20.0, "C_m": 200.0, "t_ref": 1.0}
N_SEL, N_NS, N_I = 6, 28, 10      # the example: 240, 240, 1120 excitatory and 400 inhibitory neurons
T_WANG = 300.0


def build_wang(create, connect, is_nestax):
    """The example's populations, connectivity and weights, with recurrent weights scaled by
    1600/40 (excitatory) and 400/10 (inhibitory) for the smaller populations; the Poisson inputs are
    replaced by fixed spike trains (one per neuron) so that both simulators see the same input, and the
    stimulus is stronger (600 and 300 Hz from 100 ms) so that the short run has selective activity.
"""
    scale_e, scale_i = 1600 / (2 * N_SEL + N_NS), 400 / N_I
    g_ampa_ex, g_ampa_ext_ex, g_nmda_ex, g_gaba_ex = 0.05 * scale_e, 2.1, 0.165 * scale_e, 1.3 * scale_i
    g_ampa_in, g_ampa_ext_in, g_nmda_in, g_gaba_in = 0.04 * scale_e, 1.62, 0.13 * scale_e, 1.0 * scale_i
    f, w_plus = 0.15, 1.7
    w_minus = 1 - f * (w_plus - 1) / (1 - f)
    delay = 0.5

    s1 = create("iaf_bw_2001", N_SEL, EPOP)
    s2 = create("iaf_bw_2001", N_SEL, EPOP)
    ns = create("iaf_bw_2001", N_NS, EPOP)
    inh = create("iaf_bw_2001", N_I, IPOP)

    def fast(src, tgt, w, receptor):
        connect(src, tgt, "all_to_all", {"weight": w, "delay": delay, "receptor_type": receptor})

    def exc(src, tgt, w_ampa, w_nmda):
        fast(src, tgt, w_ampa, 1)
        connect(src, tgt, "all_to_all", {"weight": w_nmda, "delay": delay, "receptor_type": 3})

    rng = np.random.default_rng(2001)
    exc_all = s1 + s2 + ns
    ext_e = generators(create, [grid_train(rng, 2400.0, 0.0, T_WANG) for _ in range(2 * N_SEL + N_NS)])
    ext_i = generators(create, [grid_train(rng, 2400.0, 0.0, T_WANG) for _ in range(N_I)])
    stim1 = generators(create, [grid_train(rng, 600.0, 100.0, T_WANG) for _ in range(N_SEL)])
    stim2 = generators(create, [grid_train(rng, 300.0, 100.0, T_WANG) for _ in range(N_SEL)])
    connect(ext_e, exc_all, "one_to_one", {"weight": g_ampa_ext_ex, "delay": delay, "receptor_type": 1})
    connect(ext_i, inh, "one_to_one", {"weight": g_ampa_ext_in, "delay": delay, "receptor_type": 1})
    connect(stim1, s1, "one_to_one", {"weight": g_ampa_ext_ex, "delay": delay, "receptor_type": 1})
    connect(stim2, s2, "one_to_one", {"weight": g_ampa_ext_ex, "delay": delay, "receptor_type": 1})

    exc(ns, s1 + s2, w_minus * g_ampa_ex, w_minus * g_nmda_ex)
    exc(ns, ns, g_ampa_ex, g_nmda_ex)
    exc(ns, inh, g_ampa_in, g_nmda_in)
    exc(s1, s1, w_plus * g_ampa_ex, w_plus * g_nmda_ex)
    exc(s2, s2, w_plus * g_ampa_ex, w_plus * g_nmda_ex)
    exc(s1, s2, w_minus * g_ampa_ex, w_minus * g_nmda_ex)
    exc(s2, s1, w_minus * g_ampa_ex, w_minus * g_nmda_ex)
    exc(s1 + s2, ns, g_ampa_ex, g_nmda_ex)
    exc(s1 + s2, inh, g_ampa_in, g_nmda_in)
    fast(inh, exc_all, g_gaba_ex, 2)
    fast(inh, inh, g_gaba_in, 2)
    return {"rec": s1 + s2 + ns + inh}


def test_wang_decision_making_reduced():
    ref, spikes, _ = compare(build_wang, T_WANG, [100.0, 0.1, 77.7, 122.2], label="wang reduced")
    n_e = 2 * N_SEL + N_NS
    per = np.bincount([i for i, _ in spikes], minlength=n_e + N_I)
    assert per[:N_SEL].sum() > 0 and per[n_e:].sum() > 0 and len(spikes) >= 100


# ---- defaults, bad parameters and connections NEST refuses ---------------------------------------

def test_defaults_and_recordables_match_nest():
    nest = fresh_nest(DT)
    d = nest.GetDefaults("iaf_bw_2001")
    for name, spec in nx.iaf_bw_2001.parameters.items():
        assert d[name] == pytest.approx(spec.default), name
    assert set(d["recordables"]) == set(nx.iaf_bw_2001.recordables())
    assert d["receptor_types"] == {"AMPA": 1, "GABA": 2, "NMDA": 3}
    assert "I_e" not in d and "I_e" not in nx.iaf_bw_2001.parameters


BAD = [("C_m", 0.0), ("C_m", -10.0), ("t_ref", -0.1), ("V_reset", -55.0), ("V_reset", -40.0),
       ("tau_AMPA", 0.0), ("tau_GABA", -1.0), ("tau_rise_NMDA", 0.0), ("tau_decay_NMDA", -5.0),
       ("alpha", 0.0), ("conc_Mg2", 0.0), ("gsl_error_tol", 0.0)]


@pytest.mark.parametrize("name,value", BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_bad_parameters_refused_like_nest(name, value):
    nest = fresh_nest(DT)
    with pytest.raises(nest.NESTErrors.BadProperty):
        nest.Create("iaf_bw_2001", params={name: value})
    sim = nx.Simulator(dt=DT)
    pattern = rf"iaf_bw_2001: parameter '{name}' = {value}"
    with pytest.raises(BadParameterError, match=pattern) as err:
        sim.create(nx.iaf_bw_2001, 1, **{name: value})
    assert "expected" in str(err.value)
    pop = sim.create(nx.iaf_bw_2001, 2)
    with pytest.raises(BadParameterError, match=pattern):
        sim.set(pop, **{name: value})


def test_connections_nest_refuses():
    nest = fresh_nest(DT)
    a, b = nest.Create("iaf_bw_2001", 2)
    for src, rec in ((a, 0), (a, 4), (nest.Create("parrot_neuron"), 3), (nest.Create("spike_generator"), 3)):
        with pytest.raises(Exception):
            nest.Connect(src, b, syn_spec={"receptor_type": rec})
    sim = nx.Simulator(dt=DT)
    a, b = sim.create(nx.iaf_bw_2001), sim.create(nx.iaf_bw_2001)
    with pytest.raises(ConnectionError_, match="receptor_type 0"):
        sim.connect(sim.create(nx.spike_generator, spike_times=[1.0]), b)
    with pytest.raises(ConnectionError_, match="no receptor_type 4"):
        sim.connect(a, b, receptor_type=4)
    for src in (sim.create(nx.parrot_neuron), sim.create(nx.spike_generator, spike_times=[1.0])):
        with pytest.raises(ConnectionError_, match="receptor_type 3 of iaf_bw_2001"):
            sim.connect(src, b, receptor_type=3)
    sim.connect(a, b, receptor_type=3)                  # NMDA between iaf_bw_2001 neurons
    sim.connect(a, b, receptor_type=1)                  # AMPA and GABA too (NEST allows them)
    sim.connect(a, b, receptor_type=2)
    with pytest.raises(ConnectionError_, match="send from a iaf_bw_2001"):  # NEST: only iaf_bw_2001 on NMDA
        sim.connect(sim.create(nx.iaf_tum_2000), b, receptor_type=3)
    sim.connect(sim.create(nx.dc_generator, amplitude=1.0), b)   # currents on receptor 0
