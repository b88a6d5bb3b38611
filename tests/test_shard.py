"""Sharded runs (``sim.simulate(T, devices=...)``, nestax.engine.shard): the neurons split over JAX
devices give exactly the spikes, traces and final state of the single-device run.

Several devices need XLA_FLAGS=--xla_force_host_platform_device_count before jax is imported, so those
cases run in a subprocess (tests/shard_cases.py, 4 CPU devices); this process has one device and
checks the one-shard run and the errors."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import brainunit as u  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import nestax as nx  # noqa: E402
from nestax.errors import NestaxError  # noqa: E402

HERE = Path(__file__).parent


@pytest.mark.parametrize("case,native", [("alpha", "1"), ("alpha", "0"), ("event", "1"), ("event", "0"),
                                         ("set", "1"), ("noisy", "1")])
def test_sharded_equals_single_device(case, native):
    """4 CPU devices (and 3, 2 in 'alpha'): identical spikes, multimeter traces and final V_m; with the
    native CPU kernels and with the pure-JAX ones (NESTAX_NATIVE=0)."""
    env = {**os.environ, "XLA_FLAGS": (os.environ.get("XLA_FLAGS", "") +
                                       " --xla_force_host_platform_device_count=4").strip(),
           "NESTAX_NATIVE": native, "JAX_PLATFORMS": "cpu"}
    p = subprocess.run([sys.executable, str(HERE / "shard_cases.py"), case], env=env, capture_output=True,
                       text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert f"OK {case}" in p.stdout


def _small(seed=5):
    sim = nx.Simulator(dt=0.1 * u.ms, seed=seed)
    E = sim.create(nx.iaf_psc_alpha, 20, I_e=380.0 * u.pA)
    pg = sim.create(nx.poisson_generator, rate=5000.0 * u.Hz)
    sr = sim.create(nx.spike_recorder)
    sim.connect(pg, E, weight=15.0 * u.pA, delay=1.0 * u.ms)
    sim.connect(E, E, rule="fixed_indegree", indegree=4, weight=20.0 * u.pA, delay=1.7 * u.ms)
    sim.connect(E, sr)
    return sim, E, sr


def test_one_shard_in_process():
    """devices=[one device]: the sharded machinery with one shard equals the plain run."""
    out = []
    for devices in (None, jax.devices()[:1]):
        sim, E, sr = _small()
        ev = sim.simulate(50.0 * u.ms, devices=devices).events(sr)
        out.append((np.asarray(ev["senders"]), np.asarray(ev["times"].to_decimal(u.ms)),
                    np.asarray(sim.get(E, "V_m", unit=False))))
    assert len(out[0][0]) > 20
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


def test_refuses_plastic_synapses():
    sim, E, sr = _small()
    sim.connect(E[:5], E[5:10], synapse_model=nx.stdp_synapse, weight=10.0 * u.pA)
    with pytest.raises(NestaxError, match=r"devices=.*plastic synapses.*devices=None"):
        sim.simulate(10.0 * u.ms, devices=jax.devices())
    sim.simulate(10.0 * u.ms)  # the network still runs on one device


def test_refuses_no_devices():
    sim, E, sr = _small()
    with pytest.raises(NestaxError, match="non-empty list of JAX devices"):
        sim.simulate(10.0 * u.ms, devices=[])


def test_multidevice_example_runs_and_matches_one_device():
    """examples/multidevice.py on 4 CPU devices: identical spikes to the single-device run."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    p = subprocess.run([sys.executable, str(root / "examples" / "multidevice.py")], capture_output=True, text=True,
                       env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "4 cpu device(s)" in p.stdout and "identical: True" in p.stdout
