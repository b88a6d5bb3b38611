"""f-I curve benchmark (issue 15, part 4): K iaf_psc_alpha neurons with K currents, 1 s at dt = 0.1 ms.

    python benchmarks/fi_curve.py [--K 61] [--T 10000] [--repeats 3]

Four ways to the same spike counts (checked equal):
  functional-vmap   jax.jit(jax.vmap(run over I_e)) of nx.functional, one neuron per variant
  functional-n      nx.functional.run with one record of K neurons (I_e per neuron), jitted
  simulator         one nx.Simulator population of K neurons, I_e per neuron, spike_recorder
  nest              NEST 3.10, one population of K neurons, I_e per neuron (2 threads), spike_recorder
Times: first call (compile included) and the best of the later calls, in seconds.
"""
from __future__ import annotations

import argparse
import json
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import nestax as nx  # noqa: E402

F = nx.functional


def _timed(fn, repeats):
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return out, first, best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--K", type=int, default=61)
    ap.add_argument("--T", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-nest", action="store_true")
    a = ap.parse_args()
    K, T, dt = a.K, a.T, 0.1
    currents = np.linspace(300.0, 900.0, K)
    model = nx.iaf_psc_alpha
    p1 = F.params(model)
    s1 = F.init(model, p1)
    rows = {}

    f_vmap = jax.jit(jax.vmap(lambda i: F.run(model, p1.replace(I_e=i), s1, steps=T, dt=dt, record=())
                              .spikes.sum()))
    out, first, best = _timed(lambda: np.asarray(f_vmap(jnp.asarray(currents))), a.repeats)
    rows["functional-vmap"] = (out.astype(int), first, best)

    pK = F.params(model, n=K, I_e=currents)
    sK = F.init(model, pK)
    f_n = jax.jit(lambda p, s: F.run(model, p, s, steps=T, dt=dt, record=()).spikes.sum(axis=0))
    out, first, best = _timed(lambda: np.asarray(f_n(pK, sK)), a.repeats)
    rows["functional-n"] = (out.astype(int), first, best)

    def simulator():
        sim = nx.Simulator(dt=dt)
        pop = sim.create(model, K, I_e=currents)
        sr = sim.create(nx.spike_recorder)
        sim.connect(pop, sr)
        res = sim.simulate(T * dt)
        return res.spikes(sr).sum(axis=0)
    out, first, best = _timed(simulator, a.repeats)
    rows["simulator"] = (np.asarray(out).astype(int), first, best)

    if not a.no_nest:
        def run_nest():
            import nest
            nest.set_verbosity("M_ERROR")
            nest.ResetKernel()
            nest.resolution = dt
            nest.local_num_threads = 2
            pop = nest.Create("iaf_psc_alpha", K, params=[{"I_e": float(i)} for i in currents])
            sr = nest.Create("spike_recorder")
            nest.Connect(pop, sr)
            nest.Simulate(T * dt)
            ev = sr.get("events")
            return np.bincount(np.asarray(ev["senders"]) - pop[0].global_id, minlength=K)
        out, first, best = _timed(run_nest, a.repeats)
        rows["nest"] = (out.astype(int), first, best)

    ref = rows["functional-vmap"][0]
    print(f"K = {K} currents, T = {T} steps (dt = {dt} ms), spikes in all: {int(ref.sum())}")
    print(f"{'way':18s} {'first s':>8s} {'best s':>8s}  same spikes")
    for k, (out, first, best) in rows.items():
        print(f"{k:18s} {first:8.3f} {best:8.3f}  {bool(np.array_equal(out, ref))}")
    print(json.dumps({k: {"first_s": v[1], "best_s": v[2], "same": bool(np.array_equal(v[0], ref))}
                      for k, v in rows.items()}))


if __name__ == "__main__":
    main()
