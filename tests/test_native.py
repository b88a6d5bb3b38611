"""The native CPU kernels (nestax.engine.native) give bit-identical results to the pure-JAX kernels.

Each network runs twice in one process: once lowered with NESTAX_NATIVE=0 (XLA scatters) and once
with the native row scatter / dense add / ring clear; spikes and membrane traces must be equal
bit for bit (the kernels add in the order XLA's scatter does).
"""
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nestax as nx
from nestax.engine import delivery, native


def test_native_kernels_build_in_ci():
    # CI machines have a C++ compiler: a build failure there must not hide behind the fallback
    if os.environ.get("CI"):
        assert native.enabled(), native.status()
    assert native.status().startswith(("on", "off"))


pytestmark = pytest.mark.skipif(not native.enabled() and not os.environ.get("CI"),
                                reason="no C++ compiler here: " + native.status())


def run_both(monkeypatch, build, T=150.0):
    out = []
    for flag in ("0", "1"):
        monkeypatch.setenv("NESTAX_NATIVE", flag)
        sim, sr, mm = build()
        res = sim.simulate(T)
        ev = res.events(sr)
        tr = np.asarray(res.trace(mm, "V_m").mantissa) if mm is not None else None
        out.append((np.asarray(ev["senders"]), np.asarray(ev["times"].mantissa), tr))
    (s0, t0, v0), (s1, t1, v1) = out
    assert len(s0) > 50
    np.testing.assert_array_equal(s0, s1)
    np.testing.assert_array_equal(t0, t1)
    if v0 is not None:
        np.testing.assert_array_equal(v0, v1)
    return len(s0)


def network(model=nx.iaf_psc_alpha, n_e=300, n_i=75, ce=30, random_w=False, random_d=True, parrots=False,
            precision=None, seed=2):
    def build():
        sim = nx.Simulator(dt=0.1, seed=seed, precision=precision)
        p = {"I_e": 200.0} if model is not nx.iaf_psc_delta else {"I_e": 0.0}
        E = sim.create(model, n_e, **p)
        I = sim.create(model, n_i, **p)
        noise = sim.create(nx.poisson_generator, rate=15000.0)
        dc = sim.create(nx.dc_generator, amplitude=30.0)
        sim.connect(noise, E + I, weight=15.0 if model is not nx.iaf_psc_delta else 0.1, delay=1.0)
        sim.connect(dc, E)
        w = nx.random.normal(20.0, 5.0) if random_w else 20.0
        d = nx.random.uniform(0.5, 3.0) if random_d else 1.5
        sim.connect(E, E + I, rule="fixed_indegree", indegree=ce, weight=w, delay=d)
        sim.connect(I, E + I, rule="fixed_indegree", indegree=ce // 4, weight=-80.0, delay=1.2)
        # a small projection: the dense kernel
        sim.connect(E[:20], I[:10], rule="all_to_all", weight=5.0, delay=2.0)
        if parrots:
            par = sim.create(nx.parrot_neuron, 50)
            sim.connect(E[:100], par, rule="fixed_indegree", indegree=10, weight=1.0, delay=1.0)
            sim.connect(par, I, rule="fixed_indegree", indegree=5, weight=10.0, delay=1.0)
        sr = sim.create(nx.spike_recorder)
        mm = sim.create(nx.multimeter, record_from=["V_m"], interval=0.1)
        sim.connect(E + I, sr)
        sim.connect(mm, E[:5] + I[:5])
        return sim, sr, mm
    return build


@pytest.mark.parametrize("case", [
    dict(),
    dict(random_w=True),
    dict(random_d=False),
    dict(model=nx.iaf_psc_delta),
    dict(parrots=True),
    dict(precision=32),
])
def test_native_equals_pure_jax(monkeypatch, case):
    monkeypatch.setattr(delivery, "EVENT_MIN_SYNAPSES", 2_000)  # the recurrent projections take the row kernel
    run_both(monkeypatch, network(**case))


def test_native_event_kernel_is_selected(monkeypatch):
    monkeypatch.setattr(delivery, "EVENT_MIN_SYNAPSES", 2_000)
    monkeypatch.setenv("NESTAX_NATIVE", "1")
    sim, sr, mm = network()()
    sim.simulate(1.0)
    from nestax.engine.lower import lower
    low = lower(sim._net, jnp.float64, 1, 1 << 20, 100)
    modes = {(pp.mode, pp.native) for pp in low.plan.projections}
    assert ("event", True) in modes and ("event", False) not in modes and low.plan.native
    monkeypatch.setenv("NESTAX_NATIVE", "0")
    low = lower(sim._net, jnp.float64, 1, 1 << 20, 100)
    assert not low.plan.native and not any(pp.native for pp in low.plan.projections)


def test_suspended_lowers_pure_jax(monkeypatch):
    monkeypatch.setenv("NESTAX_NATIVE", "1")
    with native.suspended():
        assert not native.enabled()
    assert native.enabled()


def test_kernels_directly_against_xla_scatter():
    rng = np.random.default_rng(0)
    D, S = 7, 33
    ring = jnp.asarray(rng.normal(size=D * S))
    tgt = jnp.asarray(rng.integers(0, S, 500), jnp.int32)   # many duplicates: order matters
    val = jnp.asarray(rng.normal(size=500))
    d = jnp.asarray(rng.integers(1, D, 500), jnp.int32)
    for k in (0, 5, 13):
        ref = ring.at[((k + d) % D) * S + tgt].add(val)
        np.testing.assert_array_equal(jax.jit(lambda r: native.dense_add(r, k, d, tgt, val, D, S))(ring), ref)
        ref1 = ring.at[((k + 3) % D) * S + tgt].add(2.5)
        got1 = jax.jit(lambda r: native.dense_add(r, k, jnp.int32(3), tgt, jnp.float64(2.5), D, S))(ring)
        np.testing.assert_array_equal(got1, ref1)
        cleared = jax.jit(lambda r: native.ring_clear(r, k, D, S))(ring)
        ref2 = ring.at[(k % D) * S + jnp.arange(S)].set(0.0)
        np.testing.assert_array_equal(cleared, ref2)


def test_kernels_under_vmap():
    """vmap (batched runs) calls the kernels once per variant."""
    rng = np.random.default_rng(1)
    D, S = 4, 9
    rings = jnp.asarray(rng.normal(size=(3, D * S)))
    tgt = jnp.asarray(rng.integers(0, S, 20), jnp.int32)
    vals = jnp.asarray(rng.normal(size=(3, 20)))
    d = jnp.asarray(rng.integers(1, D, 20), jnp.int32)
    got = jax.vmap(lambda r, v: native.dense_add(r, 2, d, tgt, v, D, S))(rings, vals)
    ref = jnp.stack([rings[i].at[((2 + d) % D) * S + tgt].add(vals[i]) for i in range(3)])
    np.testing.assert_array_equal(got, ref)


def test_threaded_row_scatter_equals_pure_jax(monkeypatch):
    """Steps with more than kParallelMin (16,384) additions are split over XLA's intra-op threads by
    target range. 400 identical neurons fire in the same steps, each with 1,200 targets of random
    weight and delay: each volley makes 480,000 additions in one step (split over 2 threads on a
    2-core machine). Spikes and V_m equal the pure-JAX scatter's bit for bit, in float64 and float32."""
    for precision in (64, 32):
        def build(precision=precision):
            sim = nx.Simulator(dt=0.1, seed=5, precision=precision)
            src = sim.create(nx.iaf_psc_alpha, 400, I_e=420.0)  # identical: they fire in the same steps
            tgt = sim.create(nx.iaf_psc_alpha, 3000, I_e=300.0)
            sr, mm = sim.create(nx.spike_recorder), sim.create(nx.multimeter, record_from=["V_m"], interval=0.1)
            sim.connect(src, tgt, rule="fixed_outdegree", outdegree=1200, weight=nx.random.normal(3.0, 2.0),
                        delay=nx.random.uniform(0.5, 2.5))
            sim.connect(src + tgt[:200], sr)
            sim.connect(mm, tgt[:20])
            return sim, sr, mm
        monkeypatch.setenv("NESTAX_NATIVE", "1")
        sim, sr, mm = build()
        plans = [pp for pp in sim._prepare().low.plan.projections if pp.mode == "event"]
        assert plans and plans[0].native and plans[0].t_range[1] - plans[0].t_range[0] > 2000
        assert run_both(monkeypatch, build, T=120.0) > 400
