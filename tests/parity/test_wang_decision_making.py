"""NEST's wang_decision_making example (examples/wang_decision_making.py) against NEST 3.10.

The network draws random numbers (Poisson input, NEST's and nestax's own streams), so the test
compares seed ensembles, not spikes. To run in CI in well under a minute per simulator it is a
scaled-down version of the example: NE = 160, NI = 40 (recurrent weights scaled by 1600 / NE and
400 / NI, see the example), 1000 ms, the signal (coherence 51.2) from 300 ms to 1000 ms, model
iaf_bw_2001 (the example's default). Both simulators build the same network with the same signal
rates (numpy, seed per run); NEST's twin below follows the example line by line.

Per run we measure the mean rate of each population in a spontaneous window (100, 300] ms and a
decision window (600, 1000] ms. Over SEEDS runs per simulator, the ensemble means must agree within
TOL(pop, window) = 3 x the standard error of the difference (from both ensembles' spreads) + 0.5 Hz
(so the bound is stated, not fitted), and the decision must go the same way: selective population 1
(the favoured one) fires more than population 2 in the decision window on average.
Measured (NEST 3.10.0 / nestax, seeds 1-4): see the printed table; docs/validation.md lists it.
"""
from __future__ import annotations

import importlib.util
import pathlib

import numpy as np

from .nest_helpers import fresh_nest
from .validation import record as vrecord

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("wang_example", ROOT / "examples" / "wang_decision_making.py")
wang = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wang)

NE, NI, T = 160, 40, 1000.0
SIGNAL_START, SIGNAL_DURATION, COHERENCE = 300.0, 700.0, 51.2
SEEDS = (1, 2, 3, 4)
WINDOWS = {"spontaneous": (100.0, 300.0), "decision": (600.0, 1000.0)}
POPS = ("selective1", "selective2", "nonselective", "inhibitory")


def nest_run(seed):
    """The example's network in NEST (its run_sim), scaled as nestax's build_network."""
    nest = fresh_nest(wang.DT, seed=seed)
    g = wang.weights(NE, NI)
    times, rates_a, rates_b = wang.signal_rates(COHERENCE, np.random.default_rng(seed), SIGNAL_DURATION)
    n_sel = int(wang.F * NE)
    s1 = nest.Create("iaf_bw_2001", n_sel, params=wang.EPOP)
    s2 = nest.Create("iaf_bw_2001", n_sel, params=wang.EPOP)
    ns = nest.Create("iaf_bw_2001", NE - 2 * n_sel, params=wang.EPOP)
    inh = nest.Create("iaf_bw_2001", NI, params=wang.IPOP)
    pa, pb = (nest.Create("inhomogeneous_poisson_generator",
                          params={"origin": SIGNAL_START - 0.1, "start": 0.0, "stop": SIGNAL_DURATION,
                                  "rate_times": times, "rate_values": r}) for r in (rates_a, rates_b))
    p0 = nest.Create("poisson_generator", params={"rate": 2400.0})

    def conn(src, tgt, w, receptor, delay=wang.DELAY):
        nest.Connect(src, tgt, "all_to_all", {"weight": w, "delay": delay, "receptor_type": receptor})

    def exc(src, tgt, w_ampa, w_nmda):
        conn(src, tgt, w_ampa, 1)
        conn(src, tgt, w_nmda, 3)

    conn(p0, ns + s1 + s2, g["AMPA_ext_ex"], 1, delay=0.1)
    conn(p0, inh, g["AMPA_ext_in"], 1, delay=0.1)
    conn(pa, s1, g["AMPA_ext_ex"], 1, delay=0.1)
    conn(pb, s2, g["AMPA_ext_ex"], 1, delay=0.1)
    wp, wm = wang.W_PLUS, wang.W_MINUS
    exc(ns, s1 + s2, wm * g["AMPA_ex"], wm * g["NMDA_ex"])
    exc(ns, ns, g["AMPA_ex"], g["NMDA_ex"])
    exc(ns, inh, g["AMPA_in"], g["NMDA_in"])
    exc(s1, s1, wp * g["AMPA_ex"], wp * g["NMDA_ex"])
    exc(s2, s2, wp * g["AMPA_ex"], wp * g["NMDA_ex"])
    exc(s1, s2, wm * g["AMPA_ex"], wm * g["NMDA_ex"])
    exc(s2, s1, wm * g["AMPA_ex"], wm * g["NMDA_ex"])
    exc(s1 + s2, ns, g["AMPA_ex"], g["NMDA_ex"])
    exc(s1 + s2, inh, g["AMPA_in"], g["NMDA_in"])
    conn(inh, s1 + s2 + ns, g["GABA_ex"], 2)
    conn(inh, inh, g["GABA_in"], 2)
    pops = {"selective1": s1, "selective2": s2, "nonselective": ns, "inhibitory": inh}
    recs = {k: nest.Create("spike_recorder", params={"time_in_steps": True}) for k in pops}
    for k, p in pops.items():
        nest.Connect(p, recs[k])
    nest.Simulate(T)
    return {k: np.asarray(r.events["times"], int) for k, r in recs.items()}, {k: len(p) for k, p in pops.items()}


def nestax_run(seed):
    return wang.run_sim(COHERENCE, seed=seed, T=T, NE=NE, NI=NI, signal_start=SIGNAL_START,
                        signal_duration=SIGNAL_DURATION)


def window_rates(spikes, sizes):
    """{(pop, window): mean rate in Hz}."""
    out = {}
    for pop in POPS:
        t = spikes[pop] * wang.DT
        for w, (a, b) in WINDOWS.items():
            out[(pop, w)] = np.count_nonzero((t > a) & (t <= b)) / sizes[pop] / ((b - a) * 1e-3)
    return out


def ensemble(run):
    rates = [window_rates(*run(s)) for s in SEEDS]
    return {k: np.array([r[k] for r in rates]) for k in rates[0]}


def test_wang_population_rates_match_nest():
    ref = ensemble(nest_run)
    got = ensemble(nestax_run)
    n = len(SEEDS)
    for key in ref:
        se = np.sqrt(ref[key].var(ddof=1) / n + got[key].var(ddof=1) / n)
        tol = 3 * se + 0.5
        print(f"{key[0]:>13} {key[1]:>11}: NEST {ref[key].mean():6.2f} +/- {ref[key].std(ddof=1):5.2f} Hz, "
              f"nestax {got[key].mean():6.2f} +/- {got[key].std(ddof=1):5.2f} Hz (tol {tol:.2f})")
        assert abs(ref[key].mean() - got[key].mean()) <= tol, key
        vrecord("iaf_bw_2001", f"wang_decision_making {key[0]} {key[1]}", abs(ref[key].mean() - got[key].mean()), tol,
                "statistical", "population rate |nestax - NEST| (Hz), bound 3 SE + 0.5 Hz")
    # the favoured population wins in both
    for r in (ref, got):
        assert r[("selective1", "decision")].mean() > r[("selective2", "decision")].mean()
    # the signal raises the favoured population's rate above its spontaneous rate
    assert got[("selective1", "decision")].mean() > got[("selective1", "spontaneous")].mean()


def test_example_runs_small():
    """The example's --small run prints a rate per population (subprocess-free: main())."""
    spikes, sizes = nestax_run(5)
    assert set(spikes) == set(POPS) and sizes == {"selective1": 24, "selective2": 24, "nonselective": 112,
                                                  "inhibitory": 40}
    assert all(len(v) > 0 for v in spikes.values())
    assert np.all(np.diff(np.sort(spikes["inhibitory"])) >= 0) and spikes["inhibitory"].max() <= T / wang.DT
