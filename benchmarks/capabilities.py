#!/usr/bin/env python
"""What NEST cannot do, timed: a gradient through a simulation, and one network split over devices.

    python benchmarks/capabilities.py                # both
    python benchmarks/capabilities.py --only grad    # or: shard

Gradient: the network of examples/fit_rates.py (50 iaf_psc_alpha, two Poisson inputs, 300 ms) as
``sim.as_function``; timed warm (compiled): one forward run, one ``jax.value_and_grad`` with respect
to the two input rates, and one with respect to the 50 neurons' I_e. Finite differences would need
P + 1 forward runs for P parameters; the printed ratio says what one gradient costs against that.

Devices: the 2,000-neuron network of examples/multidevice.py, 1 s, on one device and split over
``--devices`` host devices (XLA's --xla_force_host_platform_device_count, set here before JAX loads);
spikes must be identical. On a CPU the devices share the machine's cores, so this checks the
exchange cost rather than a speed-up; on several GPUs the same call runs one shard per GPU.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--only", default="grad,shard")
ap.add_argument("--devices", type=int, default=2)
ap.add_argument("--repeat", type=int, default=3)
args = ap.parse_args()
if "XLA_FLAGS" not in os.environ:
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={args.devices}"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)
import nestax as nx  # noqa: E402


def best(fn, repeat):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def grad_rows(repeat):
    sim = nx.Simulator(dt=0.1, seed=12, differentiable=True)
    E = sim.create(nx.iaf_psc_alpha, 40)
    I = sim.create(nx.iaf_psc_alpha, 10)
    pg_E, pg_I = sim.create(nx.poisson_generator, rate=8000.0), sim.create(nx.poisson_generator, rate=8000.0)
    sr = sim.create(nx.spike_recorder)
    sim.connect(pg_E, E, weight=20.0, delay=1.0)
    sim.connect(pg_I, I, weight=20.0, delay=1.0)
    sim.connect(E, E + I, rule="fixed_indegree", indegree=8, weight=30.0, delay=1.5)
    sim.connect(I, E + I, rule="fixed_indegree", indegree=4, weight=-120.0, delay=1.0)
    sim.connect(E + I, sr)
    key = jax.random.PRNGKey(0)
    for label, params in (("2 input rates", {"nu_E": (pg_E, "rate"), "nu_I": (pg_I, "rate")}),
                          ("40 + 10 neurons' I_e", {"I_e_E": (E, "I_e"), "I_e_I": (I, "I_e")})):
        f = sim.as_function(300.0, params=params, connection_gradients=False)
        x0 = f.init
        P = sum(int(np.size(v)) for v in jax.tree.leaves(x0))
        fwd = jax.jit(lambda x: f(x, key=key).rate(sr).mean())
        vg = jax.jit(jax.value_and_grad(lambda x: f(x, key=key).rate(sr).mean()))
        fwd(x0), vg(x0)  # compile
        t_f = best(lambda: fwd(x0), repeat)
        t_g = best(lambda: vg(x0), repeat)
        print(f"gradient, {label} (P = {P}), 300 ms: forward {t_f:.3f} s, value_and_grad {t_g:.3f} s "
              f"({t_g / t_f:.1f}x a forward run; finite differences: {P + 1} forward runs = "
              f"{(P + 1) * t_f:.2f} s, {(P + 1) * t_f / t_g:.1f}x the gradient's time)", flush=True)


def shard_rows(repeat, n_dev):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
    from multidevice import build
    devs = jax.devices()[:n_dev]
    out = {}
    for label, devices in (("1 device", None), (f"{len(devs)} devices", devs)):
        ts, ev = [], None
        for _ in range(repeat + 1):
            sim, sr = build()
            t = time.perf_counter()
            res = sim.simulate(1000.0, devices=devices)
            ts.append(time.perf_counter() - t)
            e = res.events(sr)
            ev = (np.asarray(e["senders"]), np.asarray(e["times"].mantissa if hasattr(e["times"], "mantissa")
                                                       else e["times"]))
        out[label] = (float(np.median(ts[1:])), ev)
        print(f"devices: 2,000 neurons, 1 s, {label}: {out[label][0]:.2f} s (first call with compile "
              f"{ts[0]:.2f} s), {len(ev[0]):,} spikes", flush=True)
    (a, ea), (b, eb) = out.values()
    same = len(ea[0]) == len(eb[0]) and np.array_equal(ea[0], eb[0]) and np.array_equal(ea[1], eb[1])
    print(f"devices: split / one = {b / a:.2f}x; spikes identical: {same}")


if __name__ == "__main__":
    if "grad" in args.only:
        grad_rows(args.repeat)
    if "shard" in args.only:
        shard_rows(args.repeat, args.devices)
