"""nx.Batch.build: K networks, each built by the user's function with its own seed (its connectivity
and the values drawn at build time included), run in one compiled program. Every variant must give
exactly what that function's Simulator gives run on its own: identical spikes, bit-equal traces."""
from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

import brainunit as u  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import nestax as nx  # noqa: E402
from nestax.errors import BadParameterError, NestaxError  # noqa: E402

T = 150.0 * u.ms
SEEDS = [1, 2, 3]


def brunel(seed, NE=80, NI=20, CE=8, random_values=False, rate=12000.0, p=0.1):
    if random_values == "mixed":  # random weights and delays in some variants, constant in others
        random_values = seed != 1
    """Brunel-like iaf_psc_delta E/I network: fixed_indegree E->all, pairwise_bernoulli I->all, Poisson
    input, a spike recorder on all and a multimeter on four E neurons. ``random_values``: weights and
    delays of E drawn from nx.random distributions (so constant-weight/delay layouts differ by seed)."""
    sim = nx.Simulator(dt=0.1 * u.ms, seed=seed)
    E = sim.create(nx.iaf_psc_delta, NE)
    I = sim.create(nx.iaf_psc_delta, NI)
    P = E + I
    pg = sim.create(nx.poisson_generator, rate=rate * u.Hz)
    sr = sim.create(nx.spike_recorder)
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=0.1 * u.ms)
    sim.connect(pg, P, weight=0.2 * u.mV, delay=1.0 * u.ms)
    if random_values:
        sim.connect(E, P, rule="fixed_indegree", indegree=CE, weight=nx.random.normal(0.2 * u.mV, 0.05 * u.mV),
                    delay=nx.random.uniform(0.5 * u.ms, 2.5 * u.ms))
    else:
        sim.connect(E, P, rule="fixed_indegree", indegree=CE, weight=0.2 * u.mV, delay=1.5 * u.ms)
    sim.connect(I, P, rule="pairwise_bernoulli", p=p, weight=-1.0 * u.mV, delay=1.5 * u.ms)
    sim.connect(P, sr)
    sim.connect(mm, E[:4])
    return sim, sr, mm


def _bits(q):
    return np.asarray(u.get_mantissa(q))


def check_all(make, seeds=SEEDS, min_spikes=200):
    batch, sr, mm = nx.Batch.build(make, seeds)
    res = batch.simulate(T)
    assert len(res) == len(seeds) and res.values("seed").tolist() == seeds
    ev_all = []
    for i, s in enumerate(seeds):
        sim, sr_s, mm_s = make(s)
        ref = sim.simulate(T)
        eb, er = res[i].events(sr), ref.events(sr_s)
        assert len(er["senders"]) > min_spikes  # the network is active
        np.testing.assert_array_equal(eb["senders"], er["senders"])
        np.testing.assert_array_equal(_bits(eb["times"]), _bits(er["times"]))
        vb, vr = _bits(res[i].trace(mm, "V_m")), _bits(ref.trace(mm_s, "V_m"))
        assert vb.dtype == np.float64 and vb.shape == vr.shape
        np.testing.assert_array_equal(vb, vr)  # bit for bit
        ev_all.append(er)
    # the seeds draw other networks (not only other input): the variants differ
    assert not np.array_equal(ev_all[0]["senders"], ev_all[1]["senders"])
    return batch


def test_build_dense_projections_match_separate_simulators():
    batch = check_all(brunel)
    modes = {pp.mode for pp in batch._variants.low.plan.projections}
    assert modes == {"dense"}
    # a second window continues every variant
    res = batch.simulate(T)
    sr = batch.extra[0]
    for i, s in enumerate(SEEDS):
        sim, sr_s, _ = brunel(s)
        sim.simulate(T)
        ref = sim.simulate(T)
        np.testing.assert_array_equal(res[i].events(sr)["senders"], ref.events(sr_s)["senders"])
        np.testing.assert_array_equal(_bits(res[i].events(sr)["times"]), _bits(ref.events(sr_s)["times"]))


def test_build_event_projections_match_separate_simulators():
    # 1000 neurons x indegree 25: event-mode rows whose lengths differ between seeds
    make = lambda s: brunel(s, NE=800, NI=200, CE=25, rate=11000.0, p=0.05)  # noqa: E731
    batch = check_all(make)
    plan = batch._variants.low.plan
    ev = [j for j, pp in enumerate(plan.projections) if pp.mode == "event"]
    assert ev
    # the rows were padded: some variant's longest row is shorter than the common row length
    rows = [np.asarray(batch._variants.arrays(np.arange(3))[0]["proj"][j]["tgt"]) for j in ev]
    assert any(np.any((r != plan.pad_index).sum(axis=-1).max(axis=-1) < r.shape[-1]) for r in rows)


def test_build_random_weights_and_delays():
    batch = check_all(lambda s: brunel(s, random_values=True))
    pp = batch._variants.low.plan.projections
    assert any(not p.const_w for p in pp) and any(not p.const_d for p in pp)


@pytest.mark.parametrize("big", [False, True])
def test_build_constant_in_some_variants_only(big):
    """A projection with one weight and delay in variant 0 and drawn ones in the others: variant 0's
    constant is expanded to full arrays (dense lists, event rows)."""
    kw = dict(NE=800, NI=200, CE=25, rate=11000.0, p=0.05) if big else {}
    batch = check_all(lambda s: brunel(s, random_values="mixed", **kw))
    pp = next(q for q in batch._variants.low.plan.projections if q.src_block == 0)  # E -> all
    assert pp.mode == ("event" if big else "dense") and not pp.const_w and not pp.const_d


def test_build_returns_batch_alone_and_checks_structure():
    batch = nx.Batch.build(lambda s: brunel(s)[0], [4, 5])
    assert isinstance(batch, nx.Batch) and batch.K == 2 and batch.seeds == [4, 5]

    def other_size(s):
        return brunel(s, NE=80 if s == 1 else 81)
    with pytest.raises(NestaxError, match=r"create call 0 makes 81 iaf_psc_delta"):
        nx.Batch.build(other_size, [1, 2])

    def other_recorder(s):
        sim, sr, mm = brunel(s)
        if s == 2:
            sim.set(sr, start=10.0 * u.ms)
        return sim, sr, mm
    with pytest.raises(NestaxError, match=r"spike_recorder of create call 3 has other settings \(start\)"):
        nx.Batch.build(other_recorder, [1, 2])

    with pytest.raises(TypeError, match="expected a nestax Simulator"):
        nx.Batch.build(lambda s: 3, [1])
    with pytest.raises(BadParameterError, match="seed"):
        nx.Batch.build(brunel, [-1])
