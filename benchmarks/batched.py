"""Batched runs (nx.Batch) against K sequential runs, in nestax and in NEST.

Two workloads, built by benchmarks/networks.py:

- CUBA (Vogels-Abbott, 4,000 iaf_psc_exp neurons): K = 64 variants with I_e spread over 0 .. 10 pA;
- Brunel 2,500 (iaf_psc_delta, Poisson input): K = 16 seeds (``nx.Batch.build``: each seed builds
  its own network, connectivity included, exactly as the sequential run with that seed does).

For each: one nx.Batch (one compile, ``jax.vmap`` over the variants), K sequential nestax Simulators,
and K sequential NEST runs. Wall times include building and compiling (what a user waits for); the
batched run's steady-state time (a second ``simulate(T)`` of the same batch, compiled) is printed too. Throughput
is variants x simulated seconds per wall second; the ratios say how many times faster the batch is.
``--sample n`` runs only n of the K sequential runs and scales their time by K / n.

Full size (on a quiet machine): python benchmarks/batched.py
Smoke check: python benchmarks/batched.py --K-cuba 2 --K-brunel 2 --T 20 --sample 1
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import networks as N  # noqa: E402


@dataclass
class CubaIe(N.VogelsAbbott):
    """CUBA with a constant input current I_e (pA) on every neuron."""
    I_e: float = 0.0

    def neuron_params(self):
        return {**super().neuron_params(), "I_e": self.I_e}


def workloads(K_cuba, K_brunel):
    cuba = [("CUBA 4000", "I_e", CubaIe(I_e=float(x)), None) for x in np.linspace(0.0, 10.0, K_cuba)]
    brunel = [("Brunel 2500", "seed", N.Brunel(order=500), s) for s in range(1, K_brunel + 1)]
    return [w for w in (cuba, brunel) if w]


def build_nestax(spec, seed, precision):
    if isinstance(spec, N.Brunel):
        return N.brunel_nestax(spec, seed=seed or 1, precision=precision)[:2]
    return N.va_nestax(spec, seed=seed or 1, precision=precision)[:2]


def build_nest(spec, seed, threads):
    if isinstance(spec, N.Brunel):
        return N.brunel_nest(spec, seed=seed or 1, threads=threads)[:2]
    return N.va_nest(spec, seed=seed or 1, threads=threads)[:2]


def run_batched(variants, T, precision, group):
    import nestax as nx
    t0 = time.perf_counter()
    name, kind, spec0, seed0 = variants[0]
    sim, sr = build_nestax(spec0, seed0, precision)
    if kind == "I_e":
        P = nx.NodeCollection(sim, np.arange(1, spec0.N + 1))
        batch = nx.Batch(sim, {(P, "I_e"): [v[2].I_e for v in variants]}, group=group)
    else:  # every seed builds its own network (connectivity included), as the sequential runs do
        batch, sr = nx.Batch.build(lambda s: build_nestax(spec0, s, precision), [v[3] for v in variants],
                                   group=group)
    res = batch.simulate(T)
    wall = time.perf_counter() - t0
    t1 = time.perf_counter()
    batch.simulate(T)  # steady state: the same batch again, compiled
    return wall, time.perf_counter() - t1, res.n_events(sr), batch._runner.group


def run_sequential_nestax(variants, T, precision, sample):
    counts, t0 = [], time.perf_counter()
    for name, kind, spec, seed in variants[:sample]:
        sim, sr = build_nestax(spec, seed, precision)
        counts.append(sim.simulate(T).n_events(sr))
    return (time.perf_counter() - t0) * len(variants) / sample, counts


def run_sequential_nest(variants, T, threads, sample):
    counts, t0 = [], time.perf_counter()
    for name, kind, spec, seed in variants[:sample]:
        nest, sr = build_nest(spec, seed, threads)
        nest.Simulate(T)
        counts.append(int(sr.get("n_events")))
    return (time.perf_counter() - t0) * len(variants) / sample, counts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--K-cuba", type=int, default=64, help="CUBA variants (0: skip)")
    ap.add_argument("--K-brunel", type=int, default=16, help="Brunel 2,500 variants (0: skip)")
    ap.add_argument("--T", type=float, default=1000.0, help="biological time per variant in ms")
    ap.add_argument("--sample", type=int, default=0, help="sequential runs actually made (0: all K); their time "
                    "is scaled to K runs")
    ap.add_argument("--group", type=int, default=None, help="variants per compiled call (default: what fits)")
    ap.add_argument("--threads", type=int, default=0, help="NEST threads (default os.cpu_count())")
    ap.add_argument("--no-nest", action="store_true", help="skip the NEST runs")
    ap.add_argument("--float32", action="store_true", help="nestax in float32 (default float64)")
    args = ap.parse_args(argv)
    import jax
    if not args.float32:
        jax.config.update("jax_enable_x64", True)
    precision = 32 if args.float32 else None
    threads = args.threads or os.cpu_count()
    print(f"nestax batched vs sequential; T = {args.T:g} ms per variant, backend {jax.default_backend()}, "
          f"NEST threads {threads}")
    header = f"{'network':<12} {'K':>3} {'group':>5} {'batched s':>10} {'(steady)':>9} {'nestax seq s':>13} " \
             f"{'NEST seq s':>11} {'x nestax':>9} {'x NEST':>8}  check"
    print(header)
    for variants in workloads(args.K_cuba, args.K_brunel):
        K = len(variants)
        sample = min(K, args.sample or K)
        wall_b, steady, n_b, group = run_batched(variants, args.T, precision, args.group)
        wall_s, n_s = run_sequential_nestax(variants, args.T, precision, sample)
        # variant i is the i-th sequential run (same network, values and seed): compare every one run
        same = all(int(n_b[i]) == int(n_s[i]) for i in range(sample))
        check = f"same spike counts ({sample} compared)" if same else \
            f"DIFFERENT ({list(n_b[:sample])} vs {n_s})"
        wall_n = float("nan")
        if not args.no_nest:
            wall_n, _ = run_sequential_nest(variants, args.T, threads, sample)
        print(f"{variants[0][0]:<12} {K:>3} {group:>5} {wall_b:>10.2f} {steady:>9.2f} {wall_s:>13.2f} {wall_n:>11.2f} "
              f"{wall_s / wall_b:>9.2f} {wall_n / wall_b:>8.2f}  {check}")
        thr = K * args.T / 1000.0
        print(f"{'':<12} throughput (variant-seconds per wall second): batched {thr / wall_b:.3g}, nestax "
              f"sequential {thr / wall_s:.3g}, NEST sequential {thr / wall_n:.3g}")


if __name__ == "__main__":
    main()
