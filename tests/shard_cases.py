"""Cases of tests/test_shard.py that need several JAX devices: run as a script in a subprocess whose
XLA_FLAGS give 4 CPU devices (the flag has to be set before jax is imported; the rest of the suite runs
with one device). ``python tests/shard_cases.py CASE`` prints ``OK CASE`` when the case holds."""
from __future__ import annotations

import os
import sys

if "--xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4").strip()

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import brainunit as u  # noqa: E402
import numpy as np  # noqa: E402

import nestax as nx  # noqa: E402


def network(n_e=41, n_i=11, ce=8, ci=3, seed=3):
    """iaf_psc_alpha excitatory and inhibitory populations (sizes that do not divide by 3 or 4),
    recurrent fixed-indegree connections with two delays, Poisson input to all, DC input to some."""
    sim = nx.Simulator(dt=0.1 * u.ms, seed=seed)
    E = sim.create(nx.iaf_psc_alpha, n_e, I_e=200.0 * u.pA)
    I = sim.create(nx.iaf_psc_alpha, n_i)
    P = E + I
    pg = sim.create(nx.poisson_generator, rate=8000.0 * u.Hz)
    dc = sim.create(nx.dc_generator, amplitude=300.0 * u.pA)
    sr = sim.create(nx.spike_recorder)
    mm = sim.create(nx.multimeter, record_from=["V_m", "I_syn_ex"], interval=0.5 * u.ms)
    sim.connect(pg, P, weight=20.0 * u.pA, delay=1.0 * u.ms)
    sim.connect(dc, P[3:17])
    sim.connect(E, P, rule="fixed_indegree", indegree=ce, weight=30.0 * u.pA, delay=1.5 * u.ms)
    sim.connect(I, P, rule="fixed_indegree", indegree=ci, weight=-100.0 * u.pA, delay=2.3 * u.ms)
    sim.connect(P, sr)
    sim.connect(mm, P[::7])
    return sim, E, I, sr, mm


def record(sim, E, I, sr, mm, res):
    ev, m = res.events(sr), res.events(mm)
    return {"senders": np.asarray(ev["senders"]), "times": np.asarray(ev["times"].to_decimal(u.ms)),
            "V_m": np.asarray(m["V_m"].to_decimal(u.mV)), "I_syn_ex": np.asarray(m["I_syn_ex"].to_decimal(u.pA)),
            "mm_senders": np.asarray(m["senders"])}


def same(a, b, what):
    assert a.keys() == b.keys()
    for k in a:
        if not np.array_equal(a[k], b[k]):
            raise AssertionError(f"{what}: {k} differs: {a[k][:10]} vs {b[k][:10]}")


def run(devices, windows, build=network, between=None, **kw):
    """Results of consecutive simulate calls (``windows``: (ms, devices or None) pairs; ``devices``
    replaces a window's 'sharded'), and the final V_m of every neuron read back with get."""
    sim, E, I, sr, mm = build(**kw)
    out = []
    for i, (T, dev) in enumerate(windows):
        if between is not None and i:
            between(sim, E, I)
        out.append(record(sim, E, I, sr, mm, sim.simulate(T * u.ms, devices=devices if dev == "sharded" else dev)))
    V = np.asarray(sim.get(E + I, "V_m", unit=False))
    return out, V


def check(ref, got, what):
    (r_out, r_V), (g_out, g_V) = ref, got
    for i, (a, b) in enumerate(zip(r_out, g_out)):
        same(a, b, f"{what}, window {i}")
    assert np.array_equal(r_V, g_V), f"{what}: final V_m differs"
    assert sum(len(o["senders"]) for o in r_out) > 100  # the network is active


def case_alpha():
    """4 and 3 devices (padded shards), two windows, spikes, traces and state identical."""
    devs = jax.devices()
    assert len(devs) == 4
    ref = run(None, [(60.0, None), (40.0, None)])
    for d in (devs, devs[:3], devs[:2]):
        check(ref, run(d, [(60.0, "sharded"), (40.0, "sharded")]), f"{len(d)} devices")
    # one device, then four, then one again: the state moves between the layouts
    ref3 = run(None, [(30.0, None), (30.0, None), (40.0, None)])
    check(ref3, run(devs, [(30.0, None), (30.0, "sharded"), (40.0, None)]), "switching")


def case_event():
    """Projections large enough for event delivery (>= 20,000 synapses) and a delay spread."""
    def build(**kw):
        sim = nx.Simulator(dt=0.1 * u.ms, seed=11)
        E = sim.create(nx.iaf_psc_alpha, 503, I_e=150.0 * u.pA)
        I = sim.create(nx.iaf_psc_alpha, 127)
        P = E + I
        pg = sim.create(nx.poisson_generator, rate=12000.0 * u.Hz)
        sr = sim.create(nx.spike_recorder)
        mm = sim.create(nx.multimeter, record_from=["V_m", "I_syn_ex"], interval=1.0 * u.ms)
        sim.connect(pg, P, weight=20.0 * u.pA, delay=1.0 * u.ms)
        sim.connect(E, P, rule="fixed_indegree", indegree=40, weight=12.0 * u.pA,
                    delay=nx.random.uniform(0.5 * u.ms, 3.0 * u.ms))
        sim.connect(I, P, rule="fixed_indegree", indegree=10, weight=-50.0 * u.pA, delay=0.8 * u.ms)
        sim.connect(P, sr)
        sim.connect(mm, P[::50])
        return sim, E, I, sr, mm

    sim = build()[0]
    sim.simulate(0.1 * u.ms)
    modes = [pp.mode for pp in sim._session.runner.low.plan.projections]
    assert "event" in modes, modes
    ref = run(None, [(80.0, None)], build=build)
    check(ref, run(jax.devices(), [(80.0, "sharded")], build=build), "event delivery, 4 devices")


def case_set():
    """A neuron parameter set between sharded runs reaches every shard."""
    def between(sim, E, I):
        sim.set(E[::3], I_e=420.0 * u.pA)
    ref = run(None, [(40.0, None), (40.0, None)], between=between)
    check(ref, run(jax.devices(), [(40.0, "sharded"), (40.0, "sharded")], between=between), "set between runs")


def case_noisy():
    """A block with escape noise (iaf_psc_exp, delta > 0) and a spike_dilutor (run whole by every
    shard) next to split iaf_psc_alpha blocks, which they drive."""
    def build(**kw):
        sim, E, I, sr, mm = network()
        N = sim.create(nx.iaf_psc_exp, 13, delta=2.0 * u.mV, rho=200.0 * u.Hz, I_e=250.0 * u.pA)
        sim.connect(N, E, rule="fixed_indegree", indegree=2, weight=80.0 * u.pA, delay=1.2 * u.ms)
        sim.connect(E, N, rule="fixed_indegree", indegree=3, weight=40.0 * u.pA, delay=0.7 * u.ms)
        sim.connect(N, sr)
        # a spike_dilutor (thins each outgoing connection's spikes with its own draws): run whole too
        dil = sim.create(nx.spike_dilutor, p_copy=0.5)
        pg2 = sim.create(nx.poisson_generator, rate=3000.0 * u.Hz)
        sim.connect(pg2, dil)
        sim.connect(dil, E[::2], weight=60.0 * u.pA, delay=1.0 * u.ms)
        return sim, E, N, sr, mm

    sim, _, N, _, _ = build()
    sim.simulate(0.1 * u.ms, devices=jax.devices())
    assert len(sim._session.runner.lay.whole) == 2  # the noisy block and the dilutor run whole, the others split
    ref = run(None, [(60.0, None), (40.0, None)], build=build)
    assert np.isin(ref[0][0]["senders"], np.asarray(N._gids)).sum() > 10  # the noisy block fires
    check(ref, run(jax.devices(), [(60.0, "sharded"), (40.0, "sharded")], build=build), "escape noise, 4 devices")


if __name__ == "__main__":
    name = sys.argv[1]
    globals()[f"case_{name}"]()
    print("OK", name)
