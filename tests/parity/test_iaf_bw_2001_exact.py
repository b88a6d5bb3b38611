"""iaf_bw_2001_exact (Brunel-Wang 2001, NMDA integrated per connection) against NEST 3.10.

Every case builds the same network in NEST and nestax (nestax's run split into uneven simulate calls)
and requires identical spike steps and every recordable (V_m, s_AMPA, s_GABA, s_NMDA, I_AMPA,
I_GABA, I_NMDA) within ATOL at every common sample. Both integrate the neuron with all its NMDA
connections' (x_j, S_j) pairs as one system with GSL's adaptive RKF45 (absolute error gsl_error_tol
over every component); nestax reproduces the integrator's arithmetic, so the deviation is rounding
(the sum over connections is added in another order), far below the integrator's tolerance.

Cases: NMDA from spike generators, parrots (spikes of multiplicity 2), iaf_bw_2001 (whose payload the exact model ignores) and
iaf_bw_2001_exact senders with several weights, delays and autapses, neurons with different numbers
of NMDA connections (one with none), dc drive, non-default parameters; an 8-neuron recurrent network;
a reduced wang_decision_making network on the exact model (50 neurons, 300 ms).
Measured (x86-64 CPU, float64, NEST 3.10.0): max |dV_m| 1.4e-14 mV, |ds| 5.7e-14 nS, |dI| 1.8e-12 pA;
spike steps identical.
"""
from __future__ import annotations

import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError, ConnectionError_

from .nest_helpers import fresh_nest
from .test_iaf_bw_2001 import (DT, EPOP, IPOP, N_I, N_NS, N_SEL, SG_TIMES, VARS, generators, grid_train,
                               run_nest, run_nestax)
from .validation import record as vrecord

MODEL = "iaf_bw_2001_exact"
ATOL = {"V_m": 1e-9, "s_AMPA": 1e-9, "s_GABA": 1e-9, "s_NMDA": 1e-9,
        "I_AMPA": 1e-7, "I_GABA": 1e-7, "I_NMDA": 1e-7}


def compare(build, T, splits, label=""):
    ref, ref_spk = run_nest(build, T, "rec")
    got, spk = run_nestax(build, T, "rec", splits)
    assert spk == ref_spk, label
    k = len(ref["V_m"])
    worst = {}
    for v in VARS:
        worst[v] = float(np.max(np.abs(got[v][:k] - ref[v])))
        np.testing.assert_allclose(got[v][:k], ref[v], rtol=0, atol=ATOL[v], err_msg=f"{label} {v}")
        vrecord("iaf_bw_2001_exact", f"{label} {v}", worst[v], ATOL[v], "integrator", f"{v} max abs dev")
    print(f"{label}: {len(ref_spk)} spikes identical; max deviation",
          {k_: float(f"{x:.3g}") for k_, x in worst.items()})
    return ref, ref_spk


def build_senders(create, connect, is_nestax):
    rec = None
    for p in [{"s_GABA": 2.0, "s_AMPA": 1.0}, {"V_m": -50.0},   # settable state; above threshold at t = 0
              {"g_L": 20.0, "tau_AMPA": 1.0, "tau_GABA": 8.0, "E_in": -80.0, "t_ref": 3.3},
              {"tau_decay_NMDA": 60.0, "tau_rise_NMDA": 3.0, "alpha": 0.3, "conc_Mg2": 1.5,
               "C_m": 300.0, "V_reset": -58.0, "gsl_error_tol": 1e-5},
              {}]:                                                 # no NMDA connection at all
        n = create(MODEL, 1, p)
        rec = n if rec is None else rec + n
    nmda = rec[:4]
    # senders of other kinds: exact and approximate neurons driven by dc, a parrot of a spike train
    snd_exact = create(MODEL, 1, {})
    snd_approx = create("iaf_bw_2001", 1, {})
    connect(create("dc_generator", 1, {"amplitude": 600.0}), snd_exact + snd_approx, "all_to_all", {})
    parrot = create("parrot_neuron", 1, {})
    sg = create("spike_generator", 1, {"spike_times": SG_TIMES})
    connect(sg, parrot, "all_to_all", {})
    connect(sg, parrot, "all_to_all", {})     # the parrot repeats with multiplicity 2: x_j += 2
    connect(sg, rec, "all_to_all", {"receptor_type": 1, "weight": 6.0, "delay": 1.0})
    connect(sg, rec, "all_to_all", {"receptor_type": 2, "weight": 4.0, "delay": 2.5})
    connect(sg, nmda, "all_to_all", {"receptor_type": 3, "weight": 2.5, "delay": 1.2})
    connect(parrot, nmda[1:], "all_to_all", {"receptor_type": 3, "weight": 1.5, "delay": 0.7})
    connect(snd_exact, nmda, "all_to_all", {"receptor_type": 3, "weight": 3.0, "delay": 1.0})
    connect(snd_approx, nmda[::2], "all_to_all", {"receptor_type": 3, "weight": 2.0, "delay": 2.3})
    connect(snd_approx, nmda[:2], "all_to_all", {"receptor_type": 3, "weight": -0.5, "delay": 0.4})  # sign kept
    connect(nmda[0], nmda, "all_to_all", {"receptor_type": 3, "weight": 4.0, "delay": 0.5})      # autapse too
    connect(create("dc_generator", 1, {"amplitude": 480.0, "start": 10.0, "stop": 80.0}), rec, "all_to_all",
            {"delay": 0.5})
    return {"rec": rec}


def test_nmda_senders_of_every_kind():
    ref, spikes = compare(build_senders, 120.0, [12.3, 0.1, 40.0, 30.5, 37.1], label="senders")
    assert (1, 1) in spikes                      # V_m above threshold at t = 0: spike at dt
    assert len(spikes) >= 8
    assert np.all(ref["s_NMDA"][:, 4] == 0) and np.max(ref["s_NMDA"][:, 0]) > 5.0
    assert np.min(ref["I_NMDA"]) < -50.0          # the NMDA current matters


N_NET = 8
W_NMDA = np.random.default_rng(3).uniform(0.5, 4.0, N_NET)


def build_network(create, connect, is_nestax):
    rng = np.random.default_rng(7)
    rec = create(MODEL, N_NET, {"V_th": -52.0, "V_reset": -57.0})
    ext = generators(create, [grid_train(rng, 1500.0, 0.0, 200.0) for _ in range(N_NET)])
    inh = generators(create, [grid_train(rng, 300.0, 0.0, 200.0) for _ in range(N_NET)])
    connect(ext, rec, "one_to_one", {"receptor_type": 1, "weight": 3.5, "delay": 0.5})
    connect(inh, rec, "one_to_one", {"receptor_type": 2, "weight": 3.0, "delay": 1.0})
    for i in range(N_NET):
        connect(rec[i], rec, "all_to_all", {"receptor_type": 3, "weight": float(W_NMDA[i]),
                                            "delay": 0.5 + 0.1 * i})
    connect(create("dc_generator", 1, {"amplitude": 100.0, "start": 50.0, "stop": 120.0}), rec[:4],
            "all_to_all", {})
    return {"rec": rec}


def test_recurrent_nmda_network():
    ref, spikes = compare(build_network, 200.0, [50.0, 33.3, 0.1, 116.6], label="NMDA network")
    assert len(spikes) >= 40 and len({i for i, _ in spikes}) == N_NET
    assert np.min(ref["I_NMDA"]) < -50.0


T_WANG = 300.0


def build_wang(create, connect, is_nestax):
    """tests/parity/test_iaf_bw_2001.py's reduced wang_decision_making network on the exact model."""
    scale_e, scale_i = 1600 / (2 * N_SEL + N_NS), 400 / N_I
    g_ampa_ex, g_ampa_ext_ex, g_nmda_ex, g_gaba_ex = 0.05 * scale_e, 2.1, 0.165 * scale_e, 1.3 * scale_i
    g_ampa_in, g_ampa_ext_in, g_nmda_in, g_gaba_in = 0.04 * scale_e, 1.62, 0.13 * scale_e, 1.0 * scale_i
    f, w_plus = 0.15, 1.7
    w_minus = 1 - f * (w_plus - 1) / (1 - f)
    delay = 0.5
    s1, s2 = create(MODEL, N_SEL, EPOP), create(MODEL, N_SEL, EPOP)
    ns, inh = create(MODEL, N_NS, EPOP), create(MODEL, N_I, IPOP)

    def fast(src, tgt, w, receptor):
        connect(src, tgt, "all_to_all", {"weight": w, "delay": delay, "receptor_type": receptor})

    def exc(src, tgt, w_ampa, w_nmda):
        fast(src, tgt, w_ampa, 1)
        fast(src, tgt, w_nmda, 3)

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


def test_wang_decision_making_reduced_exact():
    ref, spikes = compare(build_wang, T_WANG, [100.0, 0.1, 77.7, 122.2], label="wang reduced (exact)")
    n_e = 2 * N_SEL + N_NS
    per = np.bincount([i for i, _ in spikes], minlength=n_e + N_I)
    assert per[:N_SEL].sum() > 0 and per[n_e:].sum() > 0 and len(spikes) >= 100


# ---- defaults, bad parameters and connections ----------------------------------------------------

def test_defaults_and_recordables_match_nest():
    nest = fresh_nest(DT)
    d = nest.GetDefaults(MODEL)
    for name, spec in nx.iaf_bw_2001_exact.parameters.items():
        assert d[name] == pytest.approx(spec.default), name
    assert set(d["recordables"]) == set(nx.iaf_bw_2001_exact.recordables())
    assert d["receptor_types"] == {"AMPA": 1, "GABA": 2, "NMDA": 3}
    assert "I_e" not in d and "I_e" not in nx.iaf_bw_2001_exact.parameters
    # NEST's status has V_m, s_AMPA, s_GABA as settable state; s_NMDA only as a recordable
    assert {"V_m", "s_AMPA", "s_GABA"} <= set(d) and "s_NMDA" not in d
    assert set(nx.iaf_bw_2001_exact.settable()) == {"V_m", "s_AMPA", "s_GABA"}


BAD = [("C_m", 0.0), ("t_ref", -0.1), ("V_reset", -55.0), ("tau_AMPA", 0.0), ("tau_decay_NMDA", -5.0),
       ("tau_rise_NMDA", 0.0), ("alpha", 0.0), ("conc_Mg2", 0.0), ("gsl_error_tol", 0.0)]


@pytest.mark.parametrize("name,value", BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_bad_parameters_refused_like_nest(name, value):
    nest = fresh_nest(DT)
    with pytest.raises(nest.NESTErrors.BadProperty):
        nest.Create(MODEL, params={name: value})
    sim = nx.Simulator(dt=DT)
    pattern = rf"{MODEL}: parameter '{name}' = {value}"
    with pytest.raises(BadParameterError, match=pattern):
        sim.create(nx.iaf_bw_2001_exact, 1, **{name: value})


def test_connections():
    nest = fresh_nest(DT)
    a, b = nest.Create(MODEL, 2)
    for rec in (0, 4):
        with pytest.raises(Exception):
            nest.Connect(a, b, syn_spec={"receptor_type": rec})
    # NMDA from any spiking node (no sender check, unlike iaf_bw_2001)
    nest.Connect(nest.Create("spike_generator"), b, syn_spec={"receptor_type": 3})
    nest.Connect(nest.Create("parrot_neuron"), b, syn_spec={"receptor_type": 3})
    nest.Simulate(1.0)
    with pytest.raises(Exception, match="before the first call"):
        nest.Connect(a, b, syn_spec={"receptor_type": 3})
    nest.Connect(a, b, syn_spec={"receptor_type": 1})          # AMPA and GABA still allowed

    sim = nx.Simulator(dt=DT)
    a, b = sim.create(nx.iaf_bw_2001_exact), sim.create(nx.iaf_bw_2001_exact)
    with pytest.raises(ConnectionError_, match="receptor_type 0"):
        sim.connect(sim.create(nx.spike_generator, spike_times=[1.0]), b)
    with pytest.raises(ConnectionError_, match="no receptor_type 4"):
        sim.connect(a, b, receptor_type=4)
    sim.connect(sim.create(nx.spike_generator, spike_times=[1.0]), b, receptor_type=3)
    sim.connect(sim.create(nx.parrot_neuron), b, receptor_type=3)
    sim.connect(sim.create(nx.iaf_tum_2000), b, receptor_type=3)
    with pytest.raises(ConnectionError_, match="stdp_synapse onto receptor_type 3 of iaf_bw_2001_exact"):
        sim.connect(a, b, receptor_type=3, synapse_model=nx.stdp_synapse)
    sim.connect(sim.create(nx.dc_generator, amplitude=1.0), b)
    sim.simulate(1.0)
    with pytest.raises(ConnectionError_, match="only be made before its first simulate"):
        sim.connect(a, b, receptor_type=3)
    sim.connect(a, b, receptor_type=1)
    sim.simulate(1.0)
