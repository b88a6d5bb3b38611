"""Closed-loop input between simulate calls (examples/closed_loop.py): device parameters and spike
times set between runs reuse the compiled program, and give exactly what a freshly compiled run of
the same schedule gives."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import nestax as nx

ROOT = Path(__file__).resolve().parents[1]


def _loop(reuse: bool, rounds=6):
    sim = nx.Simulator(dt=0.1, seed=2)
    n = sim.create(nx.iaf_psc_alpha, 8)
    dc = sim.create(nx.dc_generator, amplitude=350.0)
    sg = sim.create(nx.spike_generator, spike_times=[3.0])
    pg = sim.create(nx.poisson_generator, rate=2000.0)
    sr = sim.create(nx.spike_recorder)
    sim.connect(dc, n)
    sim.connect(sg, n, weight=150.0)
    sim.connect(pg, n, weight=20.0)
    sim.connect(n, sr)
    events, compiled = [], []
    for i in range(rounds):
        if not reuse:
            sim._session.compiled = None  # forget the compiled program: lower and compile afresh
        res = sim.simulate(15.0)
        ev = res.events(sr)
        events.append((np.asarray(ev["senders"]), np.round(np.asarray(ev["times"].mantissa), 6)))
        compiled.append(sim.timings["first_chunk_s"] > 0)
        sim.set(dc, amplitude=350.0 + 40.0 * i)
        sim.set(sg, spike_times=[sim.t + 2.0 + i])
        sim.set(pg, rate=2000.0 + 500.0 * i)
    return events, compiled


def test_set_between_runs_reuses_the_compiled_program_and_matches_a_fresh_compile():
    ev_reuse, compiled = _loop(True)
    ev_fresh, compiled_fresh = _loop(False)
    assert compiled[0] and not any(compiled[1:]), compiled
    assert all(compiled_fresh)
    for (s1, t1), (s2, t2) in zip(ev_reuse, ev_fresh):
        np.testing.assert_array_equal(s1, s2)
        np.testing.assert_array_equal(t1, t2)
    assert sum(len(s) for s, _ in ev_reuse) > 20


def test_closed_loop_example_reaches_its_target():
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    p = subprocess.run([sys.executable, str(ROOT / "examples" / "closed_loop.py")], env=env, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    last = float(p.stdout.split("in the last five: ")[1].split(" Hz")[0])
    assert abs(last - 40.0) <= 2.0, p.stdout
