"""NEST's example cross_check_mip_corrdet.py reproduced (examples/cross_check_mip_corrdet.py), live.

The network: mip_generator (nu = 100 Hz, p_copy = 0.5) -> two parrot_neurons -> correlation_detector
(tau_max = 100 ms, delta_tau = 10 ms) and a spike_recorder; T = 100 s at dt = 0.1 ms.

Deterministic parts, exact:
1. In NEST (every seed of the ensemble) and in nestax, the detector's histogram and count_histogram
   equal the example's hand-made histogram of the recorded trains (``corr_spikes_sorted``; NEST's
   script feeds it the senders instead of the times, we feed it the times), and n_events are the
   trains' lengths; the trains end with the last complete min_delay slice (1 ms), as the spikes of
   the last slice reach the detector only when a next simulate call starts.
2. NEST's parrot trains of a 10 s run, replayed in nestax (spike_generator -> parrot -> detector, the
   parrots firing at NEST's stamps), give NEST's histogram, count_histogram and n_events exactly.

Random parts (the mip_generator's draws are each simulator's own), statistical:
3. A NEST ensemble of 24 seeds gives each bin's mean and spread. The ensemble means agree with the
   analytic expectation within 4 standard errors: a bin at lag tau holds lambda^2 delta_tau (T -
   |tau|) pairs (lambda = nu p_copy = 50 Hz; 2497.5 at lag 10 ms), the zero-lag bin nu p_copy^2 T =
   2500 more; n_events = lambda (T - 0) = 5000 per parrot.
4. nestax's run (seed 12345, the example's) lies within 4.5 ensemble SD of NEST's mean in every bin,
   and its background level (mean of the 20 bins off zero lag), zero-lag excess and n_events within
   4 ensemble SD.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import brainunit as u
import numpy as np
import pytest

import nestax as nx

from .nest_helpers import fresh_nest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("cross_check_mip_corrdet", ROOT / "examples" / "cross_check_mip_corrdet.py")
EX = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(EX)

DT, T, TAU_MAX, DELTA_TAU, PC, NU = 0.1, 100000.0, 100.0, 10.0, 0.5, 100.0
N_SEEDS = 24


def _nest_example(seed, T=T):
    nest = fresh_nest(DT, seed)
    mg = nest.Create("mip_generator", params=dict(rate=NU, p_copy=PC))
    cd = nest.Create("correlation_detector", params=dict(tau_max=TAU_MAX, delta_tau=DELTA_TAU))
    sr = nest.Create("spike_recorder", params={"time_in_steps": True})
    pn1, pn2 = nest.Create("parrot_neuron"), nest.Create("parrot_neuron")
    nest.Connect(mg, pn1)
    nest.Connect(mg, pn2)
    nest.Connect(pn1, sr)
    nest.Connect(pn2, sr)
    nest.Connect(pn1, cd, syn_spec={"weight": 1.0, "receptor_type": 0})
    nest.Connect(pn2, cd, syn_spec={"weight": 1.0, "receptor_type": 1})
    nest.Simulate(T)
    t, s = np.asarray(sr.events["times"]), np.asarray(sr.events["senders"])
    out = {k: np.asarray(cd.get(k)) for k in ("n_events", "histogram", "count_histogram")}
    return out, np.sort(t[s == pn1.global_id]), np.sort(t[s == pn2.global_id])


def _check_cross(out, sp1, sp2, who, T=T):
    # the spikes of the last min_delay slice (1 ms) reach the detector only when a next call starts
    last = int(round(T / DT)) - int(round(1.0 / DT))
    sp1, sp2 = sp1[sp1 <= last], sp2[sp2 <= last]
    cross = EX.corr_spikes_sorted(sp1, sp2, DELTA_TAU, TAU_MAX, DT)
    np.testing.assert_array_equal(out["histogram"], cross, err_msg=who)
    np.testing.assert_array_equal(out["count_histogram"], cross, err_msg=who)
    np.testing.assert_array_equal(out["n_events"], [len(sp1), len(sp2)], err_msg=who)


def _stats(h):
    h = np.asarray(h, float)
    c = len(h) // 2
    bg = np.delete(h, c).mean()
    return bg, h[c] - bg


@pytest.fixture(scope="module")
def nest_ensemble():
    hs, ns = [], []
    for seed in range(1, N_SEEDS + 1):
        out, sp1, sp2 = _nest_example(seed)
        _check_cross(out, sp1, sp2, f"NEST seed {seed}")
        hs.append(out["histogram"])
        ns.append(out["n_events"])
    return np.array(hs), np.array(ns)


def test_nest_ensemble_matches_theory(nest_ensemble):
    hs, ns = nest_ensemble
    lam = NU * PC
    lags = (np.arange(hs.shape[1]) - hs.shape[1] // 2) * DELTA_TAU
    expect = lam ** 2 * (DELTA_TAU / 1000.0) * (T - np.abs(lags)) / 1000.0
    expect[len(lags) // 2] += NU * PC ** 2 * T / 1000.0
    se = hs.std(axis=0, ddof=1) / np.sqrt(len(hs))
    z = (hs.mean(axis=0) - expect) / se
    print("NEST ensemble vs theory (SE):", np.round(z, 2))
    assert np.all(np.abs(z) < 4.0)
    zn = (ns.mean(axis=0) - lam * T / 1000.0) / (ns.std(axis=0, ddof=1) / np.sqrt(len(ns)))
    assert np.all(np.abs(zn) < 4.0), zn


def test_nestax_example_against_nest_ensemble(nest_ensemble):
    hs, ns = nest_ensemble
    out, sp1, sp2 = EX.run(T, seed=12345, resolution=DT, tau_max=TAU_MAX, delta_tau=DELTA_TAU, pc=PC, nu=NU)
    _check_cross(out, sp1, sp2, "nestax")
    h = out["histogram"]
    mu, sd = hs.mean(axis=0), hs.std(axis=0, ddof=1)
    z = (h - mu) / sd
    print("nestax bins vs NEST ensemble (SD):", np.round(z, 2))
    assert np.all(np.abs(z) < 4.5)
    st = np.array([_stats(x) for x in hs])
    bg, ex = _stats(h)
    zb = (bg - st[:, 0].mean()) / st[:, 0].std(ddof=1)
    ze = (ex - st[:, 1].mean()) / st[:, 1].std(ddof=1)
    zn = (np.asarray(out["n_events"]) - ns.mean(axis=0)) / ns.std(axis=0, ddof=1)
    print(f"background {bg:.1f} ({zb:+.2f} SD), zero-lag excess {ex:.1f} ({ze:+.2f} SD), n_events {zn}")
    assert abs(zb) < 4.0 and abs(ze) < 4.0 and np.all(np.abs(zn) < 4.0)


def test_nest_trains_replayed_exactly():
    out_n, sp1, sp2 = _nest_example(7, T=10000.0)
    sim = nx.Simulator(dt=DT)
    cd = sim.create(nx.correlation_detector, tau_max=TAU_MAX, delta_tau=DELTA_TAU)
    for r, sp in ((0, sp1), (1, sp2)):
        # the parrot fires at NEST's stamps: its generator one delay (1 ms) earlier
        g = sim.create(nx.spike_generator, spike_times=np.round((sp - 10) * DT, 1).tolist())
        p = sim.create(nx.parrot_neuron)
        sim.connect(g, p)
        sim.connect(p, cd, weight=1.0, receptor_type=r)
    res = sim.simulate(10000.0 * u.ms)
    for k in ("n_events", "histogram", "count_histogram"):
        np.testing.assert_array_equal(res.get(cd, k), out_n[k], err_msg=k)
    assert out_n["histogram"].sum() > 1000


def test_example_script_runs():
    """The example as a user runs it (a shorter T), printing the cross-check."""
    import os
    import subprocess
    import sys
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run([sys.executable, str(ROOT / "examples" / "cross_check_mip_corrdet.py"), "3000"],
                       capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "detector == hand-made histogram: True" in p.stdout, p.stdout
    assert "Crosscorrelation:" in p.stdout and "Sum of crosscorrelation:" in p.stdout
