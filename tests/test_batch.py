"""nx.Batch: K variants of one network in one compiled program. Every variant must give exactly what a
separate Simulator with those values and that seed gives: identical spike events, equal traces."""
from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

import brainunit as u  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import nestax as nx  # noqa: E402

T = 150.0
NE, NI, CE, CI = 40, 10, 6, 2


def _connectivity():
    """Fixed in-degree connectivity drawn with NumPy: the same whatever the kernel seed, so a separate
    Simulator with another seed has the same network (only its random streams differ)."""
    rng = np.random.default_rng(7)
    N = NE + NI
    return [(np.sort(rng.choice(NE, CE, replace=False)), np.sort(rng.choice(NI, CI, replace=False)))
            for _ in range(N)]


CONN = _connectivity()


def brunel(seed=1, I_e=0.0, g=5.0, rate=6000.0, J=25.0, amp=0.0, explicit=False):
    """A small Brunel-like network of iaf_psc_alpha neurons with Poisson input, a multimeter on five
    neurons and a dc_generator on the first two."""
    sim = nx.Simulator(dt=0.1 * u.ms, seed=seed)
    E = sim.create(nx.iaf_psc_alpha, NE, I_e=I_e * u.pA)
    I = sim.create(nx.iaf_psc_alpha, NI, I_e=I_e * u.pA)
    P = E + I
    pg = sim.create(nx.poisson_generator, rate=rate * u.Hz)
    dc = sim.create(nx.dc_generator, amplitude=amp * u.pA)
    sr = sim.create(nx.spike_recorder)
    mm = sim.create(nx.multimeter, record_from=["V_m", "I_syn_ex"], interval=0.5 * u.ms)
    sim.connect(pg, P, weight=J * u.pA, delay=1.0 * u.ms)
    sim.connect(dc, P[:2])
    if explicit:
        for j, (se, si) in enumerate(CONN):
            sim.connect(E[se], P[j:j + 1], weight=J * u.pA, delay=1.5 * u.ms)
            sim.connect(I[si], P[j:j + 1], weight=-g * J * u.pA, delay=1.5 * u.ms)
    else:
        sim.connect(E, P, rule="fixed_indegree", indegree=CE, weight=J * u.pA, delay=1.5 * u.ms)
        sim.connect(I, P, rule="fixed_indegree", indegree=CI, weight=-g * J * u.pA, delay=1.5 * u.ms)
    sim.connect(P, sr)
    sim.connect(mm, P[:5])
    return sim, E, I, pg, dc, sr, mm


def same(res_b, sr_b, mm_b, res_r, sr_r, mm_r):
    """Variant result == separate Simulator's result: identical events, equal traces."""
    eb, er = res_b.events(sr_b), res_r.events(sr_r)
    assert len(er["senders"]) > 20  # the network is active
    np.testing.assert_array_equal(eb["senders"], er["senders"])
    np.testing.assert_array_equal(np.asarray(eb["times"].to_decimal(u.ms)), np.asarray(er["times"].to_decimal(u.ms)))
    np.testing.assert_array_equal(res_b.spikes(sr_b), res_r.spikes(sr_r))
    for var in ("V_m", "I_syn_ex"):
        a = np.asarray(res_b.trace(mm_b, var).mantissa)
        b = np.asarray(res_r.trace(mm_r, var).mantissa)
        assert a.shape == b.shape and a.shape[0] == int(T / 0.5)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)


def test_grid_of_neuron_parameter_and_synapse_weight_equals_separate_simulators():
    """I_e x g sweep (g through the inhibitory weights, a sim.connections selection): each variant equals
    a Simulator built with that I_e and g."""
    sim, E, I, pg, dc, sr, mm = brunel()
    I_es, gs = [0.0, 150.0], [3.0, 6.0]
    batch = nx.Batch(sim, {(E + I, "I_e"): np.array(I_es) * u.pA,
                           (I, E + I, "weight"): [-g * 25.0 * u.pA for g in gs]}, grid=True)
    res = batch.simulate(T * u.ms)
    assert len(res) == 4 and res.shape == (2, 2)
    rates = res.rate(sr)
    assert rates.shape == (4,) and len(set(rates.tolist())) == 4
    for i, (Ie, g) in enumerate([(a, b) for a in I_es for b in gs]):
        assert float(res.values("I_e")[i].to_decimal(u.pA)) == Ie
        ref, Er, Ir, _, _, srr, mmr = brunel(I_e=Ie, g=g)
        same(res[i], sr, mm, ref.simulate(T * u.ms), srr, mmr)
    # the grid's layout: rate table by (I_e, g); more drive, more spikes
    table = rates.reshape(res.shape)
    assert np.all(table[1] > table[0])
    # sim itself is unchanged
    np.testing.assert_array_equal(np.asarray(sim.get(E, "I_e").mantissa), 0.0)
    np.testing.assert_array_equal(sim.connections(I, E + I).weights, -125.0)
    assert sim.k == 0
    ref, Er, Ir, _, _, srr, _ = brunel()
    np.testing.assert_array_equal(sim.simulate(20. * u.ms).spikes(sr), ref.simulate(20. * u.ms).spikes(srr))


def test_seeds_and_a_device_parameter_equal_separate_simulators():
    """Four seeds x the poisson_generator's rate: variant i equals Simulator(seed=s_i) with that rate (the
    connectivity here does not depend on the seed, so the two networks are the same)."""
    sim, E, I, pg, dc, sr, mm = brunel(explicit=True)
    seeds, rates = [1, 2, 3, 12345], [6000.0, 7000.0, 6000.0, 8000.0]
    batch = nx.Batch(sim, [(pg, "rate", np.array(rates) * u.Hz)], seeds=seeds)
    res = batch.simulate(T * u.ms)
    np.testing.assert_array_equal(res.values("seed"), seeds)
    ev = res.events(sr)
    assert not np.array_equal(ev[0]["times"].mantissa, ev[2]["times"].mantissa)  # other seed, other spikes
    for i, (s, r) in enumerate(zip(seeds, rates)):
        ref, _, _, _, _, srr, mmr = brunel(seed=s, rate=r, explicit=True)
        same(res[i], sr, mm, ref.simulate(T * u.ms), srr, mmr)


def test_groups_continuation_and_a_start_after_a_run():
    """Variants run in groups (the last one padded) give the same as all at once; a batch made after sim
    ran starts from sim's state, and a second simulate continues like a Simulator's."""
    sim, E, I, pg, dc, sr, mm = brunel()
    sim.simulate(40.0 * u.ms)
    amps = [0.0, 300.0, 600.0]
    whole = nx.Batch(sim, {(dc, "amplitude"): np.array(amps) * u.pA})
    grouped = nx.Batch(sim, {(dc, "amplitude"): np.array(amps) * u.pA}, group=2)
    assert grouped._runner.group == 2 and len(grouped._runner.groups) == 2
    r1, r2 = whole.simulate(T * u.ms), whole.simulate(60.0 * u.ms)
    g1 = grouped.simulate(T * u.ms)
    np.testing.assert_array_equal(r1.spikes(sr), g1.spikes(sr))
    np.testing.assert_array_equal(np.asarray(r1.trace(mm, "V_m").mantissa), np.asarray(g1.trace(mm, "V_m").mantissa))
    assert r2[0].t_start.to_decimal(u.ms) == pytest.approx(40.0 + T)
    for i in (0, 2):
        ref, _, _, _, dcr, srr, mmr = brunel()
        ref.simulate(40.0 * u.ms)
        ref.set(dcr, amplitude=amps[i] * u.pA)
        same(r1[i], sr, mm, ref.simulate(T * u.ms), srr, mmr)
        ref_2 = ref.simulate(60.0 * u.ms)
        np.testing.assert_array_equal(r2[i].spikes(sr), ref_2.spikes(srr))
    # sim did not move on
    assert sim.k == 400


def test_accessors_and_errors():
    sim, E, I, pg, dc, sr, mm = brunel()
    res = nx.Batch(sim, {(E, "V_th"): [-55.0, -50.0] * u.mV}).simulate(20.0 * u.ms)
    assert res.spikes(sr).shape == (2, 200, NE + NI)
    assert res.trace(mm, "V_m").shape == (2, 40, 5)
    assert res.n_events(sr).shape == (2,) and len(res.events(sr)) == 2
    assert res.times.shape == (200,) and res.trace_times(mm).shape == (40,)
    with pytest.raises(nx.BadParameterError, match="numbers of values differ"):
        nx.Batch(sim, {(E, "I_e"): [1.0, 2.0]}, seeds=[1, 2, 3])
    with pytest.raises(nx.UnknownParameterError, match="I_e"):
        nx.Batch(sim, {(E, "I_ee"): [1.0, 2.0]})
    with pytest.raises(nx.BadParameterError, match="V_reset"):  # the model's own check, as sim.set makes it
        nx.Batch(sim, {(E, "V_reset"): [-70.0, -40.0]})
    with pytest.raises(nx.NestaxError, match="variant 1 changes"):  # a delay that lengthens the ring
        nx.Batch(sim, [(sim.connections(E, E + I), "delay", [1.5, 9.0])])
    with pytest.raises(nx.BadParameterError, match="seed"):
        nx.Batch(sim, seeds=[1, -2])
    other = nx.Simulator()
    with pytest.raises(nx.ForeignNodesError):
        nx.Batch(sim, {(other.create(nx.iaf_psc_alpha), "I_e"): [1.0]})
    b = nx.Batch(sim, seeds=[3, 4])
    sim.create(nx.iaf_psc_alpha)
    with pytest.raises(nx.NestaxError, match="network changed"):
        b.simulate(1.0)


def test_plastic_synapse_weights_per_variant():
    """Initial weights of stdp_synapse connections per variant equal a Simulator whose connections were set."""
    def build(w=None):
        sim = nx.Simulator(dt=0.1 * u.ms, seed=3)
        pre = sim.create(nx.parrot_neuron, 20)
        post = sim.create(nx.iaf_psc_alpha, 5, I_e=300. * u.pA)
        pg = sim.create(nx.poisson_generator, rate=20. * u.Hz)
        sr = sim.create(nx.spike_recorder)
        sim.connect(pg, pre)
        sim.connect(pre, post, synapse_model=nx.stdp_synapse, weight=50. * u.pA)
        sim.connect(pre + post, sr)
        if w is not None:
            sim.connections(pre, post).set(weight=w * u.pA)
        return sim, pre, post, sr

    sim, pre, post, sr = build()
    ws = [30.0, 80.0]
    res = nx.Batch(sim, {(pre, post, "weight"): np.array(ws) * u.pA}).simulate(300. * u.ms)
    assert res.n_events(sr)[1] > res.n_events(sr)[0]
    for i, w in enumerate(ws):
        ref, _, _, srr = build(w)
        r = ref.simulate(300. * u.ms)
        np.testing.assert_array_equal(res[i].spikes(sr), r.spikes(srr))
        np.testing.assert_array_equal(res[i].events(sr)["senders"], r.events(srr)["senders"])
