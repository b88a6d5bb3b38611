"""One network split over several devices, checked against the single-device run.

Without GPUs this makes 4 CPU devices (XLA's host-platform device count, set before JAX is imported),
runs a 2,000-neuron Brunel-style network on all of them and on one, and checks that the spikes are
identical. On a machine with several GPUs, drop the XLA_FLAGS line: ``jax.devices()`` lists the GPUs.

    python examples/multidevice.py
"""
import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")

import time  # noqa: E402

import brainunit as u  # noqa: E402
import jax  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)
import nestax as nx  # noqa: E402


def build(n_e=1600, n_i=400):
    sim = nx.Simulator(dt=0.1 * u.ms, seed=7)
    p = dict(C_m=1.0 * u.pF, tau_m=20.0 * u.ms, t_ref=2.0 * u.ms, E_L=0.0 * u.mV, V_reset=10.0 * u.mV,
             V_m=0.0 * u.mV, V_th=20.0 * u.mV)
    E = sim.create(nx.iaf_psc_delta, n_e, **p)
    I = sim.create(nx.iaf_psc_delta, n_i, **p)
    noise = sim.create(nx.poisson_generator, rate=20000.0 * u.Hz)
    sr = sim.create(nx.spike_recorder)
    sim.connect(noise, E + I, weight=0.1 * u.mV, delay=1.5 * u.ms)
    sim.connect(E, E + I, rule="fixed_indegree", indegree=160, weight=0.1 * u.mV, delay=1.5 * u.ms)
    sim.connect(I, E + I, rule="fixed_indegree", indegree=40, weight=-0.5 * u.mV, delay=1.5 * u.ms)
    sim.connect(E + I, sr)
    return sim, sr


def run(devices):
    sim, sr = build()
    t0 = time.perf_counter()
    ev = sim.simulate(300.0 * u.ms, devices=devices).events(sr)
    return ev, time.perf_counter() - t0


if __name__ == "__main__":
    devs = jax.devices()
    split, t_split = run(devs)
    one, t_one = run(None)
    same = (np.array_equal(split["senders"], one["senders"])
            and np.array_equal(split["times"].to_decimal(u.ms), one["times"].to_decimal(u.ms)))
    n = len(one["senders"])
    print(f"{len(devs)} {devs[0].platform} device(s): {len(split['senders'])} spikes in {t_split:.2f} s "
          f"(with compile); one device: {n} spikes in {t_one:.2f} s; identical: {same}")
    print(f"rate {n / 2000 / 0.3:.1f} Hz")
    assert same
