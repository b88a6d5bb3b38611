#!/usr/bin/env python
"""Plastic synapses: nestax (event-driven and dense plastic delivery) vs NEST 3.10 on one network.

    python benchmarks/stdp.py                 # 2,000 iaf_psc_alpha, fixed indegree 100, stdp_synapse
    python benchmarks/stdp.py --n 4000 --T 200 --skip-dense

Each simulator runs in its own subprocess; the script prints simulate seconds (after a 50 ms warm-up),
spike counts, the mean weight after the run and the ratio to NEST. The network: n neurons driven by
I_e ~ U(350, 420) pA, every neuron receiving ``indegree`` stdp_synapse connections (weight 5 pA,
Wmax 50 pA, delay 1.5 ms) from the population.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def worker(sim_name, a):
    import numpy as np
    if sim_name == "nest":
        import nest
        nest.set_verbosity("M_ERROR")
        nest.ResetKernel()
        nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": a.threads, "rng_seed": 1})
        ie = np.random.default_rng(1).uniform(350.0, 420.0, a.n)
        pop = nest.Create("iaf_psc_alpha", a.n, params={"I_e": ie})
        nest.Connect(pop, pop, {"rule": "fixed_indegree", "indegree": a.indegree},
                     {"synapse_model": "stdp_synapse", "weight": 5.0, "delay": 1.5, "Wmax": 50.0})
        sr = nest.Create("spike_recorder")
        nest.Connect(pop, sr)
        nest.Simulate(50.0)
        t0 = time.perf_counter()
        nest.Simulate(a.T)
        el = time.perf_counter() - t0
        w = float(np.mean(nest.GetConnections(pop, pop).weight))
        return {"sim_s": el, "spikes": int(sr.n_events), "mean_w": w}
    import jax
    jax.config.update("jax_enable_x64", True)
    import nestax as nx
    from nestax.engine import delivery
    if sim_name == "nestax-dense":
        delivery.EVENT_MIN_SYNAPSES = 10 ** 12
    sim = nx.Simulator(dt=0.1, seed=1, max_chunk=500)
    pop = sim.create(nx.iaf_psc_alpha, a.n, I_e=nx.random.uniform(350.0, 420.0))
    sim.connect(pop, pop, rule="fixed_indegree", indegree=a.indegree, synapse_model="stdp_synapse", weight=5.0,
                delay=1.5, Wmax=50.0)
    sr = sim.create(nx.spike_recorder)
    sim.connect(pop, sr)
    sim.simulate(50.0)
    t0 = time.perf_counter()
    res = sim.simulate(a.T)
    el = time.perf_counter() - t0
    return {"sim_s": el, "spikes": int(res.n_events(sr)), "mean_w": float(np.mean(sim.connections().weights))}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--indegree", type=int, default=100)
    ap.add_argument("--T", type=float, default=100.0, help="timed biological time in ms")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="NEST threads")
    ap.add_argument("--skip-dense", action="store_true", help="leave out the dense plastic kernel (slow)")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(worker(a.worker, a)))
        return
    sims = ["nest", "nestax"] + ([] if a.skip_dense else ["nestax-dense"])
    rows = {}
    for s in sims:
        cmd = [sys.executable, __file__, "--worker", s, "--n", str(a.n), "--indegree", str(a.indegree),
               "--T", str(a.T), "--threads", str(a.threads)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows[s] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"# stdp network: {a.n} iaf_psc_alpha, indegree {a.indegree}, T = {a.T} ms, NEST threads = {a.threads}")
    print(f"{'simulator':14s} {'simulate s':>10s} {'spikes':>8s} {'mean w':>9s} {'x NEST':>7s}")
    for s, r in rows.items():
        print(f"{s:14s} {r['sim_s']:10.2f} {r['spikes']:8d} {r['mean_w']:9.3f} {r['sim_s'] / rows['nest']['sim_s']:7.2f}")


if __name__ == "__main__":
    main()
