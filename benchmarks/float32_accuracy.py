#!/usr/bin/env python
"""How far float32 runs drift from float64 (the parity precision), on deterministic input.

    python benchmarks/float32_accuracy.py

For each model: 20 neurons under a dc current ramp (I_e from 380 to 570 pA) plus a fixed
spike_generator input, 1 s at dt 0.1 ms, once with Simulator(precision=64) and once with
precision=32. Prints the largest V_m difference over time and neurons, the share of spikes at the
same step, and the largest shift of a spike in steps. A Brunel network (random, chaotic) is compared
by its statistics only.
"""
import os
import sys

import jax

jax.config.update("jax_enable_x64", True)
import numpy as np  # noqa: E402

import nestax as nx  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def run(model, precision, T=1000.0):
    sim = nx.Simulator(dt=0.1, precision=precision)
    n = sim.create(model, 20, I_e=np.linspace(380.0, 570.0, 20))
    sg = sim.create(nx.spike_generator, spike_times=np.arange(5.0, T, 7.3).round(1))
    sim.connect(sg, n, weight=60.0 if "cond" not in model.name else 3.0, delay=1.0)
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=0.1)
    sr = sim.create(nx.spike_recorder)
    sim.connect(mm, n)
    sim.connect(n, sr)
    res = sim.simulate(T)
    return np.asarray(res.trace(mm, "V_m").mantissa, float), res.spikes(sr)


def main():
    print(f"{'model':<16} {'max |dV_m| mV':>14} {'spikes same step':>17} {'max shift (steps)':>18} {'spikes':>7}")
    for model in (nx.iaf_psc_delta, nx.iaf_psc_exp, nx.iaf_psc_alpha, nx.iaf_cond_exp, nx.iaf_cond_alpha):
        v64, s64 = run(model, 64)
        v32, s32 = run(model, 32)
        t64 = [np.nonzero(s64[:, j])[0] for j in range(s64.shape[1])]
        t32 = [np.nonzero(s32[:, j])[0] for j in range(s32.shape[1])]
        same = sum(len(np.intersect1d(a, b)) for a, b in zip(t64, t32))
        total = sum(len(a) for a in t64)
        shift = max((np.max(np.abs(a - b)) for a, b in zip(t64, t32) if len(a) == len(b) and len(a)), default=0)
        counts_equal = all(len(a) == len(b) for a, b in zip(t64, t32))
        print(f"{model.name:<16} {np.max(np.abs(v64 - v32)):>14.2e} {same / max(total, 1):>16.1%} "
              f"{shift if counts_equal else 'counts differ':>18} {total:>7}")
    import networks as nw
    for prec in (64, 32):
        spec = nw.Brunel(order=500)
        sim, sr, _ = nw.brunel_nestax(spec, precision=prec)
        res = sim.simulate(1000.0)
        ev = res.events(sr)
        rate, cv = nw.rate_and_cv(ev["senders"], np.asarray(ev["times"].mantissa), spec.n_rec, 1000.0)
        print(f"Brunel N=2500 precision {prec}: rate {rate:.2f} Hz, CV {cv:.3f}")


if __name__ == "__main__":
    main()
