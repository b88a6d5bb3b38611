"""aeif neurons in a population large enough for the integrator's compacted phase
(``rkf45_evolve(compact=True)``: once few neurons are still integrating a step, they are iterated
alone). 320 aeif_cond_exp and 320 aeif_psc_delta neurons with a spread of DC drives and spike input,
so that in most steps a handful of neurons run up to V_peak while the rest finished long ago.

Checks, against NEST 3.10 in the same test: identical spike steps for every neuron, and V_m and w
within the aeif tolerance of test_aeif.py (NEST's step control acts on rounding noise near V_peak).
Without NEST: the compacted run equals the uncompacted one (same spikes; V_m within 1e-8 mV, as XLA
may contract the gathered loop's arithmetic into FMAs differently).
"""
from __future__ import annotations

import importlib

import numpy as np
import pytest

import nestax as nx

from .nest_helpers import import_nest

integrators = importlib.import_module("nestax.models.integrators")

N = 320
T = 60.0
DT = 0.1


def drives():
    return np.linspace(600.0, 2000.0, N)


def run_nestax(model):
    sim = nx.Simulator(dt=DT, seed=3)
    pop = sim.create(model, N, I_e=drives())
    sg = sim.create(nx.spike_generator, spike_times=[5.0, 12.3, 20.1, 33.3])
    w = 2.0 if model == "aeif_psc_delta" else 8.0
    sim.connect(sg, pop, weight=w, delay=1.0)
    sr = sim.create(nx.spike_recorder)
    sim.connect(pop, sr)
    mm = sim.create(nx.multimeter, record_from=["V_m", "w"], interval=DT)
    sim.connect(mm, pop)
    res = sim.simulate(T)
    ev = res.events(sr)
    spikes = sorted(zip(np.asarray(ev["senders"]) - pop.tolist()[0],
                        np.round(np.asarray(ev["times"].mantissa) / DT).astype(int)))
    return spikes, np.asarray(res.trace(mm, "V_m").mantissa), np.asarray(res.trace(mm, "w").mantissa)


def run_nest(nest, model):
    nest.ResetKernel()
    nest.resolution = DT
    pop = nest.Create(model, N)
    pop.set({"I_e": drives().tolist()})
    sg = nest.Create("spike_generator", params={"spike_times": [5.0, 12.3, 20.1, 33.3]})
    w = 2.0 if model == "aeif_psc_delta" else 8.0
    nest.Connect(sg, pop, syn_spec={"weight": w, "delay": 1.0})
    sr = nest.Create("spike_recorder")
    nest.Connect(pop, sr)
    mm = nest.Create("multimeter", params={"record_from": ["V_m", "w"], "interval": DT})
    nest.Connect(mm, pop)
    nest.Simulate(T)
    ev = sr.events
    g0 = pop.tolist()[0]
    spikes = sorted(zip(ev["senders"] - g0, np.round(ev["times"] / DT).astype(int)))
    e = mm.events
    order = np.lexsort((e["senders"], e["times"]))
    k = len(order) // N
    V = e["V_m"][order].reshape(k, N)
    W = e["w"][order].reshape(k, N)
    return spikes, V, W


@pytest.mark.parametrize("model", ["aeif_cond_exp", "aeif_psc_delta"])
def test_compacted_population_matches_nest(model):
    assert integrators.compact_capacity(N) is not None  # the population takes the compacted path
    nest = import_nest()
    ref_spk, ref_V, ref_W = run_nest(nest, model)
    spk, V, W = run_nestax(model)
    assert len(ref_spk) > 3 * N and len({s for s, _ in ref_spk}) == N  # every neuron fires, most often
    assert spk == ref_spk
    k = len(ref_V)
    # aeif tolerance (test_aeif.py): NEST's step control near V_peak acts on rounding noise
    np.testing.assert_allclose(V[:k], ref_V, rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(W[:k], ref_W, rtol=2e-5, atol=2e-5)


def test_compaction_does_not_change_results(monkeypatch):
    spk, V, W = run_nestax("aeif_cond_exp")
    monkeypatch.setattr(integrators, "COMPACT_MIN_NEURONS", None)
    spk0, V0, W0 = run_nestax("aeif_cond_exp")
    assert spk == spk0
    np.testing.assert_allclose(V, V0, rtol=0, atol=1e-8)
    np.testing.assert_allclose(W, W0, rtol=0, atol=1e-8)
