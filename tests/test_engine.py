"""Engine invariants: delivery kernels agree, chunking and capacity overflow never change results."""
import numpy as np
import pytest

import nestax as nx


def brunel_small(seed=3, n_e=400, n_i=100, ce=40):
    sim = nx.Simulator(dt=0.1, seed=seed)
    p = dict(C_m=1.0, tau_m=20.0, t_ref=2.0, E_L=0.0, V_reset=10.0, V_m=0.0, V_th=20.0)
    E = sim.create(nx.iaf_psc_delta, n_e, **p)
    I = sim.create(nx.iaf_psc_delta, n_i, **p)
    noise = sim.create(nx.poisson_generator, rate=20000.0)
    sr = sim.create(nx.spike_recorder)
    sim.connect(noise, E + I, weight=0.1, delay=1.5)
    sim.connect(E, E + I, rule="fixed_indegree", indegree=ce, weight=0.1, delay=1.5)
    sim.connect(I, E + I, rule="fixed_indegree", indegree=ce // 4, weight=-0.5,
                delay=nx.random.uniform(0.5, 3.0))
    sim.connect(E + I, sr)
    return sim, sr


def spikes_of(sim, sr, T=200.0, **kw):
    res = sim.simulate(T, **kw)
    ev = res.events(sr)
    return np.asarray(ev["senders"]), np.round(np.asarray(ev["times"].mantissa) / 0.1).astype(int)


@pytest.fixture
def event_mode(monkeypatch):
    from nestax.engine import delivery
    monkeypatch.setattr(delivery, "EVENT_MIN_SYNAPSES", 1)  # force the event-driven kernel


def assert_dense_and_event_agree(monkeypatch, network, min_events):
    """The same network run with the dense kernel and with the event kernel forced gives the same spikes."""
    a = spikes_of(*network())
    from nestax.engine import delivery
    monkeypatch.setattr(delivery, "EVENT_MIN_SYNAPSES", 1)
    b = spikes_of(*network())
    assert len(a[0]) > min_events
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_dense_and_event_delivery_give_identical_spikes(monkeypatch):
    assert_dense_and_event_agree(monkeypatch, brunel_small, 1000)


def test_fixed_capacity_overflow_reruns_chunk_and_drops_nothing(monkeypatch, event_mode):
    """Fixed-capacity delivery (the accelerator path) with a tiny capacity: every chunk overflows at
    first, is rerun with a larger capacity, and the spikes equal the looping kernel's."""
    ref = spikes_of(*brunel_small())
    monkeypatch.setenv("NESTAX_DELIVERY", "capacity")
    sim, sr = brunel_small()
    sim._session.capacity = {0: 1, 1: 1}
    got = spikes_of(sim, sr)
    assert max(sim._session.capacity.values()) > 1  # it had to grow
    np.testing.assert_array_equal(ref[0], got[0])
    np.testing.assert_array_equal(ref[1], got[1])


def test_chunk_size_does_not_change_results():
    sim, sr = brunel_small()
    a = spikes_of(sim, sr)
    sim2, sr2 = brunel_small()
    sim2.max_chunk = 37  # many chunks, a partial last one
    sim2._session.compiled = None
    b = spikes_of(sim2, sr2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_progress_bar_runs():
    sim, sr = brunel_small(n_e=80, n_i=20, ce=8)
    s, t = spikes_of(sim, sr, T=50.0, progress=True)
    assert len(s) > 0


def test_network_is_the_same_in_every_process():
    """Regression: random parameters and connections were seeded with Python's str hash, which
    changes from process to process (PYTHONHASHSEED), so the same seed built different networks."""
    import subprocess
    import sys
    code = ("import jax; jax.config.update('jax_enable_x64', True); import nestax as nx; "
            "sim = nx.Simulator(dt=0.1, seed=3); p = sim.create(nx.iaf_psc_exp, 4, "
            "I_e=nx.random.uniform(200., 400.)); sim.connect(p, p, rule='fixed_indegree', indegree=2); "
            "c = sim.connections(); print(list(sim.get(p, 'I_e', unit=False)), c.sources.tolist())")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**__import__("os").environ, "PYTHONHASHSEED": str(h)}).stdout for h in (1, 2)}
    assert len(outs) == 1 and next(iter(outs)).strip()


def binary_net(seed=5):
    """Random binary network: transitions are +1 / -1 signals, so the kernels must carry the sign."""
    sim = nx.Simulator(dt=0.1, seed=seed)
    E = sim.create(nx.mcculloch_pitts_neuron, 400, tau_m=5.0, theta=0.93)
    I = sim.create(nx.ginzburg_neuron, 100, tau_m=5.0, theta=0.5, c_3=4.0)
    drive = sim.create(nx.noise_generator, mean=1.03, std=0.0)
    sim.connect(drive, E + I)
    sim.connect(E, E + I, rule="fixed_indegree", indegree=40, weight=0.05, delay=0.5)
    sim.connect(I, E + I, rule="fixed_indegree", indegree=10, weight=-0.2, delay=nx.random.uniform(0.5, 2.0))
    sr = sim.create(nx.spike_recorder)
    sim.connect(E + I, sr)
    return sim, sr


def test_binary_transitions_identical_with_dense_and_event_delivery(monkeypatch):
    """The event kernel must list sources with a negative signal too (with `cnt > 0` it drops every
    down-transition: this test then fails)."""
    assert_dense_and_event_agree(monkeypatch, binary_net, 500)
