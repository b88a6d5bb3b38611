#!/usr/bin/env python
"""nestax on an accelerator: Brunel networks from 12,500 to 1,000,000 neurons, CUBA and COBA.

    python benchmarks/gpu.py [--T 1000] [--sizes 12500,50000,1000000] [--out results.json]

Prints one line per run (network, precision, build s, compile s, simulate s, steps/s, spikes, rate,
CV, peak device memory) and writes them as JSON. NEST does not run on GPUs, so the ratio column of
benchmarks/run.py (CPU, same machine) is the reference; compare with the NEST numbers there.
Brunel N = 1,000,000 uses C_E = 100 (J scaled by 10 to keep the drive), the others C_E = 1000.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def run_one(net, n, precision, T):
    import jax
    import numpy as np
    import networks as nw
    if net == "brunel":
        if n >= 500_000:
            spec = nw.Brunel(order=n // 5, CE_fixed=100, J=1.0)
        else:
            spec = nw.Brunel(order=n // 5, CE_fixed=1000)
        t0 = time.perf_counter()
        sim, sr, _ = nw.brunel_nestax(spec, precision=precision)
        n_rec = spec.n_rec
    else:
        spec = nw.VogelsAbbott(kind=net)
        t0 = time.perf_counter()
        sim, sr, _ = nw.va_nestax(spec, precision=precision)
        n_rec = spec.n_rec
    build = time.perf_counter() - t0
    sim.max_chunk = 2000  # warm-up = one full chunk, so the timed run reuses the compiled code
    sim._compiled = None
    t0 = time.perf_counter()
    sim.simulate(200.0)
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = sim.simulate(T)
    el = time.perf_counter() - t0
    ev = res.events(sr)
    t = np.asarray(ev["times"].mantissa)
    rate, cv = nw.rate_and_cv(ev["senders"], t, n_rec, T)
    steps = T / 0.1
    compile_s = max(0.0, warm - el * 200.0 / T)
    mem = None
    try:
        st = jax.devices()[0].memory_stats()
        mem = st.get("peak_bytes_in_use", 0) / 2**20 if st else None
    except Exception:
        pass
    return dict(net=net, N=n, precision=precision, build_s=round(build, 3), compile_s=round(compile_s, 3),
                simulate_s=round(el, 3), steps_per_s=round(steps / el, 1), spikes=int(len(t)),
                rate=round(rate, 3), cv=round(cv, 4), peak_dev_mem_mb=mem and round(mem, 1),
                device=str(jax.devices()[0]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--T", type=float, default=1000.0)
    ap.add_argument("--sizes", default="12500,50000,1000000")
    ap.add_argument("--precisions", default="64,32")
    ap.add_argument("--va", action="store_true", help="also CUBA and COBA (4000 neurons)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:  # worker: one run per process, fresh device memory statistics
        import jax
        net, n, prec = a.one.split(":")
        jax.config.update("jax_enable_x64", prec == "64")
        print("RESULT " + json.dumps(run_one(net, int(n), int(prec), a.T)), flush=True)
        return
    import subprocess
    jobs = [("brunel", int(n), int(p)) for n in a.sizes.split(",") for p in a.precisions.split(",")]
    if a.va:
        jobs += [(k, 4000, int(p)) for k in ("cuba", "coba") for p in a.precisions.split(",")]
    rows = []
    print(f"{'network':>10} {'N':>8} {'prec':>4} {'build s':>8} {'compile s':>9} {'sim s':>8} {'steps/s':>9} "
          f"{'spikes':>8} {'rate Hz':>8} {'CV':>6} {'dev MB':>8}", flush=True)
    for net, n, p in jobs:
        r = subprocess.run([sys.executable, __file__, "--one", f"{net}:{n}:{p}", "--T", str(a.T)],
                           capture_output=True, text=True)
        line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
        if not line:
            print(f"{net:>10} {n:>8} {p:>4} FAILED: {r.stderr.strip().splitlines()[-3:]}", flush=True)
            continue
        d = json.loads(line[0][7:])
        rows.append(d)
        print(f"{net:>10} {n:>8} {p:>4} {d['build_s']:>8.2f} {d['compile_s']:>9.2f} {d['simulate_s']:>8.2f} "
              f"{d['steps_per_s']:>9.0f} {d['spikes']:>8} {d['rate']:>8.2f} {d['cv']:>6.3f} "
              f"{d['peak_dev_mem_mb'] or 0:>8.0f}", flush=True)
    if rows:
        print("device:", rows[0]["device"])
    if a.out:
        with open(a.out, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
