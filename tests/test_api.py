"""The user-facing contract of DESIGN.md, line by line.

Each test names the contract line it checks. Networks are small and windows short: these tests are
about the API (shapes, units, ids, windows, determinism), not about NEST parity (tests/parity/).
"""
import brainunit as u
import numpy as np
import pytest

import nestax as nx

DT = 0.1


def ms(q):
    return np.asarray(u.get_mantissa(q.to(u.ms) if isinstance(q, u.Quantity) else q))


def mant(q, unit):
    return np.asarray(q.to_decimal(unit))


# ---------------------------------------------------------------------------------------------
# the contract script, as written in DESIGN.md
# ---------------------------------------------------------------------------------------------
HAS_STDP = hasattr(nx, "stdp_synapse")


@pytest.fixture(scope="module")
def contract():
    sim = nx.Simulator(dt=0.1 * u.ms, seed=1)
    pop = sim.create(nx.iaf_psc_alpha, 100, V_th=-50. * u.mV,
                     I_e=nx.random.uniform(0. * u.pA, 100. * u.pA))
    pg = sim.create(nx.poisson_generator, 1, rate=8000. * u.Hz, rng_seed=0)
    sr = sim.create(nx.spike_recorder)
    mm = sim.create(nx.multimeter, record_from=['V_m'], interval=1. * u.ms)
    sim.connect(pg, pop, weight=10. * u.pA, delay=1. * u.ms)
    syn = dict(synapse_model=nx.stdp_synapse, tau_plus=20. * u.ms) if HAS_STDP else {}
    sim.connect(pop, pop, rule='fixed_indegree', indegree=10, allow_autapses=False,
                weight=20. * u.pA, delay=1.5 * u.ms, **syn)
    sim.connect(pop, sr)
    sim.connect(mm, pop)
    res = sim.simulate(1000. * u.ms)
    return dict(sim=sim, pop=pop, pg=pg, sr=sr, mm=mm, res=res)


def test_contract_ids_are_one_based_in_creation_order_devices_included(contract):
    c = contract
    assert c["pop"].tolist() == list(range(1, 101))
    assert c["pg"].tolist() == [101]
    assert c["sr"].tolist() == [102]
    assert c["mm"].tolist() == [103]


def test_contract_times_and_spike_matrix(contract):
    res, sr, pop = contract["res"], contract["sr"], contract["pop"]
    n_steps = 10_000
    assert res.times.shape == (n_steps,)
    assert np.allclose(mant(res.times, u.ms), np.arange(n_steps) * DT)
    spk = res.spikes(sr)
    assert spk.shape == (n_steps, 100)
    assert spk.dtype.kind == "i" and spk.min() >= 0
    assert spk[0].sum() == 0            # nothing is stamped at t = 0
    assert list(res.senders(sr)) == pop.tolist()


def test_contract_events_counts_and_rate(contract):
    res, sr = contract["res"], contract["sr"]
    ev = res.events(sr)
    assert set(ev) == {"senders", "times"}
    assert len(ev["senders"]) == len(ev["times"]) == res.n_events(sr)
    t = mant(ev["times"], u.ms)
    assert np.all(np.diff(t) >= 0) and t.min() > 0 and t.max() <= 1000.
    assert set(np.unique(ev["senders"])) <= set(contract["pop"].tolist())
    # the matrix holds every event except those stamped exactly at the window's end (next window, row 0)
    at_end = np.isclose(t, 1000.).sum()
    assert res.spikes(sr).sum() + at_end == res.n_events(sr)
    assert res.n_events(sr) > 0
    assert res.rate(sr) == pytest.approx(res.n_events(sr) / (100 * 1.0))
    # the matrix and the event list agree on where the spikes are
    spk = res.spikes(sr)
    rows, cols = np.nonzero(spk)
    senders = res.senders(sr)
    keep = ~np.isclose(t, 1000.)
    pairs_ev = sorted(zip(np.round(t[keep] / DT).astype(int), ev["senders"][keep]))
    pairs_m = sorted(p for r, c_, n in zip(rows, cols, spk[rows, cols]) for p in [(r, senders[c_])] * n)
    assert pairs_ev == pairs_m


def test_contract_trace(contract):
    res, mm = contract["res"], contract["mm"]
    v = res.trace(mm, 'V_m')
    assert v.shape == (1000, 100)
    assert u.get_unit(v) == u.mV
    tt = res.trace_times(mm)
    assert np.allclose(mant(tt, u.ms), np.arange(1, 1001) * 1.0)
    vv = mant(v, u.mV)
    assert np.all(vv <= -50. + 1e-9) and np.all(vv > -90.)
    assert list(res.targets(mm)) == contract["pop"].tolist()


def test_contract_set_get_and_connections(contract):
    sim, pop = contract["sim"], contract["pop"]
    assert u.get_unit(sim.get(pop, 'V_m')) == u.mV and sim.get(pop, 'V_m').shape == (100,)
    ie = mant(sim.get(pop, 'I_e'), u.pA)
    assert np.all((ie >= 0.) & (ie < 100.)) and len(np.unique(ie)) == 100
    conns = sim.connections(pop, pop)
    assert len(conns) == 1000
    assert np.all(np.isin(conns.sources, pop.tolist())) and np.all(np.isin(conns.targets, pop.tolist()))
    assert np.all(np.bincount(conns.targets, minlength=101)[1:] == 10)      # indegree 10
    assert not np.any(conns.sources == conns.targets)                        # no autapses
    if HAS_STDP:  # stdp weights start at 20 pA and have changed during the run (within [0, Wmax])
        w = np.asarray(conns.weights)
        assert np.all((w >= 0.) & (w <= 100.)) and not np.allclose(w, 20.)
    else:
        assert np.allclose(np.asarray(conns.weights), 20.)
    assert np.allclose(mant(conns.delays, u.ms), 1.5)
    pg_conns = sim.connections(contract["pg"], pop)
    assert len(pg_conns) == 100 and np.all(pg_conns.sources == 101)
    assert set(conns.synapse_models) == {"stdp_synapse" if HAS_STDP else "static_synapse"}


def test_contract_stdp_synapse_exists():
    assert nx.stdp_synapse.name == "stdp_synapse"


def test_set_between_simulate_calls():
    sim = nx.Simulator(dt=0.1, seed=1)
    pop = sim.create(nx.iaf_psc_alpha, 20)
    sr = sim.create(nx.spike_recorder)
    sim.connect(pop, sr)
    r1 = sim.simulate(50.)
    assert r1.n_events(sr) == 0
    sim.set(pop[:10], I_e=500. * u.pA)
    assert np.allclose(mant(sim.get(pop, 'I_e'), u.pA), [500.] * 10 + [0.] * 10)
    r2 = sim.simulate(50. * u.ms)
    senders = np.unique(r2.events(sr)["senders"])
    assert senders.tolist() == pop[:10].tolist()
    # state continues: V_m set between calls is where the next window starts
    sim.set(pop[10:], V_m=-60. * u.mV)
    assert np.allclose(mant(sim.get(pop[10:], 'V_m'), u.mV), -60.)
    # one name -> Quantity; several -> dict; a single node -> scalar quantity
    got = sim.get(pop, 'I_e', 'V_th')
    assert set(got) == {'I_e', 'V_th'} and u.get_unit(got['V_th']) == u.mV
    assert float(sim.get(pop[0], 'V_th').to_decimal(u.mV)) == -55.
    assert pop[0].get('I_e') == sim.get(pop[0], 'I_e')


# ---------------------------------------------------------------------------------------------
# Simulator, create, values
# ---------------------------------------------------------------------------------------------
def _driven(dt, seed, n=5, T=50.):
    sim = nx.Simulator(dt=dt, seed=seed)
    pop = sim.create(nx.iaf_psc_exp, n, I_e=nx.random.uniform(200. * u.pA, 400. * u.pA))
    pg = sim.create(nx.poisson_generator, rate=10000. * u.Hz)
    sr = sim.create(nx.spike_recorder)
    sim.connect(pg, pop, weight=5. * u.pA)
    sim.connect(pop, sr)
    res = sim.simulate(T)
    return sim, pop, sr, res


def test_simulator_accepts_quantities_and_bare_numbers():
    a = _driven(0.1 * u.ms, 3)
    b = _driven(0.1, 3)
    c = _driven(100. * u.us, 3)
    assert a[0].dt == b[0].dt == pytest.approx(c[0].dt)
    assert a[3].n_events(a[2]) > 0
    for other in (b, c):
        assert np.array_equal(a[3].spikes(a[2]), other[3].spikes(other[2]))


def test_create_by_class_name_and_spec():
    sim = nx.Simulator()
    a = sim.create(nx.iaf_psc_exp, 2)
    b = sim.create('iaf_psc_exp', 2)
    c = sim.create(nx.iaf_psc_exp(tau_m=20. * u.ms, C_m=100.), 2)
    d = sim.create(nx.iaf_psc_exp(tau_m=20.), 2, tau_m=30. * u.ms)   # create's keywords win
    e = sim.create(nx.iaf_psc_exp, 2, params={'tau_m': 5.})          # NEST's params dict
    assert a.model == b.model == c.model == 'iaf_psc_exp'
    assert np.allclose(mant(sim.get(a, 'tau_m'), u.ms), 10.)
    assert np.allclose(mant(sim.get(b, 'tau_m'), u.ms), 10.)
    assert np.allclose(mant(sim.get(c, 'tau_m'), u.ms), 20.)
    assert np.allclose(mant(sim.get(c, 'C_m'), u.pF), 100.)
    assert np.allclose(mant(sim.get(d, 'tau_m'), u.ms), 30.)
    assert np.allclose(mant(sim.get(e, 'tau_m'), u.ms), 5.)
    assert repr(nx.iaf_psc_exp(tau_m=20.)) == "iaf_psc_exp(tau_m=20.0)"
    assert 'iaf_psc_exp' in nx.models() and 'spike_recorder' in nx.models()


def test_quantities_in_other_units_and_per_neuron_arrays():
    sim = nx.Simulator()
    pop = sim.create(nx.iaf_psc_alpha, 3, I_e=np.array([0.1, 0.2, 0.3]) * u.nA,
                     V_th=[-50., -51., -52.], tau_m=[10. * u.ms, 0.02 * u.second, 30. * u.ms],
                     V_m=np.array([-70., -65., -60.]) * u.mV)
    assert np.allclose(mant(sim.get(pop, 'I_e'), u.pA), [100., 200., 300.])
    assert np.allclose(mant(sim.get(pop, 'V_th'), u.mV), [-50., -51., -52.])
    assert np.allclose(mant(sim.get(pop, 'tau_m'), u.ms), [10., 20., 30.])
    assert np.allclose(mant(sim.get(pop, 'V_m'), u.mV), [-70., -65., -60.])
    sim.set(pop, I_e=np.array([1., 2., 3.]) * u.pA)
    assert np.allclose(mant(sim.get(pop, 'I_e'), u.pA), [1., 2., 3.])


@pytest.mark.parametrize("dist, check", [
    (nx.random.uniform(100. * u.pA, 200. * u.pA), lambda x: x.min() >= 100. and x.max() < 200.),
    (nx.random.normal(150. * u.pA, 10. * u.pA), lambda x: abs(x.mean() - 150.) < 3. and 7. < x.std() < 13.),
    (nx.random.lognormal(0., 0.5, scale=100. * u.pA), lambda x: x.min() > 0 and abs(np.log(x / 100.).mean()) < .15),
    (nx.random.exponential(50. * u.pA), lambda x: x.min() > 0 and 40. < x.mean() < 60.),
], ids=["uniform", "normal", "lognormal", "exponential"])
def test_distributions_for_parameters_state_and_weights(dist, check):
    sim = nx.Simulator(seed=5)
    pop = sim.create(nx.iaf_psc_alpha, 400, I_e=dist)
    x = mant(sim.get(pop, 'I_e'), u.pA)
    assert check(x) and len(np.unique(x)) == 400
    sim.set(pop, I_e=dist)                 # set draws afresh
    assert check(mant(sim.get(pop, 'I_e'), u.pA))
    sim.connect(pop[:20], pop[:20], weight=dist)
    w = np.asarray(sim.connections(pop[:20], pop[:20]).weights)
    assert check(w) and len(w) == 400


def test_distributions_for_state_and_delays():
    sim = nx.Simulator(dt=0.1, seed=2)
    pop = sim.create(nx.iaf_psc_alpha, 200, V_m=nx.random.uniform(-70. * u.mV, -60. * u.mV))
    v = mant(sim.get(pop, 'V_m'), u.mV)
    assert v.min() >= -70. and v.max() < -60. and len(np.unique(v)) == 200
    sim.set(pop, V_m=nx.random.normal(-65. * u.mV, 1. * u.mV))
    assert abs(mant(sim.get(pop, 'V_m'), u.mV).mean() + 65.) < 0.5
    sim.connect(pop[:10], pop[:10], delay=nx.random.uniform(1. * u.ms, 3. * u.ms))
    sim.connect(pop[:10], pop[10:20], delay=nx.random.lognormal(0., 0.3, scale=1. * u.ms))
    d = mant(sim.connections(pop[:10], pop[:20]).delays, u.ms)
    assert len(d) == 200
    assert np.allclose(d / 0.1, np.round(d / 0.1))          # on the time grid
    assert d.min() >= 0.1 and len(np.unique(d)) > 10


# ---------------------------------------------------------------------------------------------
# NodeCollection
# ---------------------------------------------------------------------------------------------
def test_node_collection():
    sim = nx.Simulator()
    a = sim.create(nx.iaf_psc_alpha, 5)
    sr = sim.create(nx.spike_recorder)
    b = sim.create('parrot_neuron', 3)
    assert a.tolist() == [1, 2, 3, 4, 5] and sr.tolist() == [6] and b.tolist() == [7, 8, 9]
    assert len(a) == 5 and len(a[1:3]) == 2 and a[1:3].tolist() == [2, 3]
    assert a[0].tolist() == [1] and a[-1].tolist() == [5] and a[::2].tolist() == [1, 3, 5]
    assert a[0].global_id == 1
    ab = a + b
    assert len(ab) == 8 and ab.tolist() == [1, 2, 3, 4, 5, 7, 8, 9]
    assert [n.tolist() for n in b] == [[7], [8], [9]]
    assert all(len(n) == 1 for n in a)
    assert a[2] in a and b[0] not in a
    assert a[1:3] == a[1:3] and a[1:3] != a[2:4]
    assert np.array_equal(a.global_ids, np.arange(1, 6))
    assert a.model == 'iaf_psc_alpha' and b.model == 'parrot_neuron'
    assert "iaf_psc_alpha" in repr(a)
    # a joined collection works with connect and set/get
    sim.set(a[:2] + a[3:], I_e=10.)
    assert np.allclose(mant(sim.get(a, 'I_e'), u.pA), [10., 10., 0., 10., 10.])
    sim.connect(a[:2] + a[4], b, rule='one_to_one')
    c = sim.connections()
    assert c.sources.tolist() == [1, 2, 5] and c.targets.tolist() == [7, 8, 9]


# ---------------------------------------------------------------------------------------------
# windows: state continues, each Result covers its own window
# ---------------------------------------------------------------------------------------------
def _window_net(seed=1):
    sim = nx.Simulator(dt=0.1, seed=seed)
    pop = sim.create(nx.iaf_psc_alpha, 10, I_e=nx.random.uniform(350. * u.pA, 450. * u.pA))
    pg = sim.create(nx.poisson_generator, rate=5000. * u.Hz)
    sr = sim.create(nx.spike_recorder)
    mm = sim.create(nx.multimeter, record_from=['V_m'], interval=0.5 * u.ms)
    sim.connect(pg, pop, weight=20. * u.pA)
    sim.connect(pop, pop, rule=nx.fixed_indegree(3), weight=-30. * u.pA, delay=0.5 * u.ms)
    sim.connect(pop, sr)
    sim.connect(mm, pop)
    return sim, pop, sr, mm


def test_windows_continue_and_each_result_covers_its_own_window():
    sim, pop, sr, mm = _window_net()
    full = sim.simulate(60.)
    sim2, _, sr2, mm2 = _window_net()
    parts = [sim2.simulate(20.), sim2.cont(15. * u.ms), sim2.simulate(25.)]
    t0s = [0., 20., 35.]
    for r, t0, n in zip(parts, t0s, (200, 150, 250)):
        assert r.times.shape == (n,)
        assert np.allclose(mant(r.times, u.ms), t0 + np.arange(n) * DT)
        assert float(r.t_start.to_decimal(u.ms)) == pytest.approx(t0)
        ev_t = mant(r.events(sr2)["times"], u.ms)
        assert np.all(ev_t > t0 - 1e-9) and np.all(ev_t <= t0 + n * DT + 1e-9)
        assert r.rate(sr2) == pytest.approx(r.n_events(sr2) / (10 * n * DT / 1000.))
        tt = mant(r.trace_times(mm2), u.ms)
        assert tt.min() > t0 and tt.max() <= t0 + n * DT + 1e-9
    # rows of the windows' matrices stack to the matrix of one long run
    assert np.array_equal(np.vstack([r.spikes(sr2) for r in parts]), full.spikes(sr))
    # events, counts and traces concatenate to those of one long run
    ev = [r.events(sr2) for r in parts]
    assert np.array_equal(np.concatenate([e["senders"] for e in ev]), full.events(sr)["senders"])
    assert np.allclose(np.concatenate([mant(e["times"], u.ms) for e in ev]), mant(full.events(sr)["times"], u.ms))
    assert sum(r.n_events(sr2) for r in parts) == full.n_events(sr) > 0
    tr = np.vstack([mant(r.trace(mm2, 'V_m'), u.mV) for r in parts])
    assert np.allclose(tr, mant(full.trace(mm, 'V_m'), u.mV), atol=1e-9)


def test_spike_stamped_at_window_end():
    """result.py: a spike stamped at t0 + n*dt is in this window's events/n_events/rate and in row 0
    of the next window's spikes matrix."""
    sim = nx.Simulator(dt=0.1, seed=1)
    sg = sim.create(nx.spike_generator, spike_times=[1.0, 5.0, 10.0, 12.3] * u.ms)
    par = sim.create(nx.parrot_neuron, 1)
    sr = sim.create(nx.spike_recorder)
    sim.connect(sg, par, delay=1. * u.ms)
    sim.connect(sg + par, sr)
    r1 = sim.simulate(11.)
    r2 = sim.simulate(5.)
    e1, e2 = r1.events(sr), r2.events(sr)
    assert np.allclose(mant(e1["times"], u.ms), [1., 2., 5., 6., 10., 11.])
    assert e1["senders"].tolist() == [1, 2, 1, 2, 1, 2]
    assert np.allclose(mant(e2["times"], u.ms), [12.3, 13.3]) and e2["senders"].tolist() == [1, 2]
    s1, s2 = r1.spikes(sr), r2.spikes(sr)
    assert s1.shape == (110, 2) and s2.shape == (50, 2)
    assert list(zip(*np.nonzero(s1))) == [(10, 0), (20, 1), (50, 0), (60, 1), (100, 0)]
    assert list(zip(*np.nonzero(s2))) == [(0, 1), (13, 0), (23, 1)]       # 11.0 ms is row 0 of window 2
    assert r1.n_events(sr) == 6 and r2.n_events(sr) == 2
    assert r1.rate(sr) == pytest.approx(6 / (2 * 0.011))
    st = r1.spike_times(sr)
    assert set(st) == {1, 2} and np.allclose(mant(st[2], u.ms), [2., 6., 11.])
    assert np.allclose(mant(r1.spike_times(sr, par), u.ms), [2., 6., 11.])
    assert np.allclose(mant(r1.spike_times(sr, 1), u.ms), [1., 5., 10.])


def test_connections_record():
    sim = nx.Simulator(dt=0.1, seed=4)
    a = sim.create(nx.iaf_psc_alpha, 4)
    b = sim.create(nx.iaf_psc_exp, 3)
    sim.connect(a, b, weight=np.arange(12.).reshape(3, 4) * u.pA, delay=0.26 * u.ms)
    sim.connect(b, a, rule='all_to_all', weight=-2.)
    c = sim.connections(a, b)
    assert len(c) == 12 and set(c.sources) == {1, 2, 3, 4} and set(c.targets) == {5, 6, 7}
    w = np.asarray(c.weights)
    for s, t, x in zip(c.sources, c.targets, w):
        assert x == (t - 5) * 4 + (s - 1)      # NEST's (n_post, n_pre) weight array
    assert np.allclose(mant(c.delays, u.ms), 0.3)   # rounded to the grid as NEST does
    assert np.array_equal(c.get("source"), c.sources)
    assert len(sim.connections()) == 24
    assert len(sim.connections(target=a)) == 12 and np.allclose(np.asarray(sim.connections(target=a).weights), -2.)
    assert len(sim.connections(synapse_model='static_synapse')) == 24


# ---------------------------------------------------------------------------------------------
# plots
# ---------------------------------------------------------------------------------------------
def test_plots_return_axes():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes
    sim, pop, sr, mm = _window_net()
    res = sim.simulate(20.)
    ax = nx.plot.raster(res, sr)
    assert isinstance(ax, Axes) and len(ax.lines) == 1
    ax2 = nx.plot.trace(res, mm, 'V_m')
    assert isinstance(ax2, Axes) and len(ax2.lines) == 10 and "mV" in ax2.get_ylabel()
    fig, ax3 = plt.subplots()
    assert nx.plot.raster(res, sr, ax=ax3, color='r') is ax3
    assert nx.plot.trace(res, mm, ax=ax3) is ax3
    plt.close("all")


# ---------------------------------------------------------------------------------------------
# several simulators; seeds
# ---------------------------------------------------------------------------------------------
def test_several_simulators_do_not_interfere():
    solo_a = _driven(0.1, 1, T=40.)
    solo_b = _driven(0.05, 2, T=40.)
    # interleave the building and the running of two simulators with different dt and seed
    sa = nx.Simulator(dt=0.1, seed=1)
    sb = nx.Simulator(dt=0.05 * u.ms, seed=2)
    pops = [sim.create(nx.iaf_psc_exp, 5, I_e=nx.random.uniform(200. * u.pA, 400. * u.pA)) for sim in (sa, sb)]
    pgs = [sim.create(nx.poisson_generator, rate=10000. * u.Hz) for sim in (sa, sb)]
    sr_a, sr_b = [sim.create(nx.spike_recorder) for sim in (sa, sb)]
    for sim, pop, pg, sr in zip((sa, sb), pops, pgs, (sr_a, sr_b)):
        sim.connect(pg, pop, weight=5. * u.pA)
        sim.connect(pop, sr)
    ra1 = sa.simulate(20.)
    rb1 = sb.simulate(10.)
    ra2 = sa.simulate(20.)
    rb2 = sb.simulate(30.)
    assert np.array_equal(np.vstack([ra1.spikes(sr_a), ra2.spikes(sr_a)]), solo_a[3].spikes(solo_a[2]))
    assert np.array_equal(np.vstack([rb1.spikes(sr_b), rb2.spikes(sr_b)]), solo_b[3].spikes(solo_b[2]))
    assert rb2.times.shape == (600,) and ra2.times.shape == (200,)


def test_same_seed_same_results_different_seed_different():
    def net(seed):
        sim = nx.Simulator(dt=0.1, seed=seed)
        pop = sim.create(nx.iaf_psc_alpha, 30, V_m=nx.random.normal(-65. * u.mV, 3. * u.mV), I_e=300.)
        pg = sim.create(nx.poisson_generator, rate=8000. * u.Hz)
        sr = sim.create(nx.spike_recorder)
        sim.connect(pg, pop, weight=10. * u.pA)
        sim.connect(pop, pop, rule='pairwise_bernoulli', p=0.2, weight=nx.random.normal(-10., 2.))
        sim.connect(pop, sr)
        return sim, sim.simulate(50.), sr
    (s1, r1, sr1), (s2, r2, sr2), (s3, r3, sr3) = net(7), net(7), net(8)
    assert np.array_equal(r1.spikes(sr1), r2.spikes(sr2))
    c1, c2, c3 = s1.connections(), s2.connections(), s3.connections()
    assert np.array_equal(c1.sources, c2.sources) and np.array_equal(c1.weights, c2.weights)
    assert len(c1) != len(c3) or not np.array_equal(c1.sources, c3.sources)
    assert not np.array_equal(r1.spikes(sr1), r3.spikes(sr3))
    s1.reset(); s3.reset()   # initial V_m drawn from the seed
    assert not np.array_equal(mant(s1.get(nx.NodeCollection(s1, range(1, 31)), 'V_m'), u.mV),
                              mant(s3.get(nx.NodeCollection(s3, range(1, 31)), 'V_m'), u.mV))


# ---------------------------------------------------------------------------------------------
# brainpy.state-style scripts and NEST-style dicts
# ---------------------------------------------------------------------------------------------
def test_brainpy_state_style_script_and_reset():
    sim = nx.Simulator(dt=0.1 * u.ms, seed=11)
    pop = sim.create(nx.iaf_psc_exp(tau_m=20.), 40, V_m=nx.random.uniform(-70. * u.mV, -55. * u.mV),
                     I_e=nx.random.uniform(300. * u.pA, 450. * u.pA))
    pg = sim.create(nx.poisson_generator, 1, rate=6000. * u.Hz)
    sr = sim.create(nx.spike_recorder)
    mm = sim.create(nx.multimeter, record_from=['V_m'], interval=1. * u.ms)
    sim.connect(pg, pop, synapse=nx.static_synapse(weight=10. * u.pA, delay=1. * u.ms))
    sim.connect(pop, pop, rule=nx.fixed_indegree(10), synapse=nx.static_synapse(weight=-15. * u.pA, delay=1.5 * u.ms))
    sim.connect(pop, pop[:5], rule=nx.pairwise_bernoulli(p=0.5, allow_autapses=False),
                synapse=nx.static_synapse(weight=5.))
    sim.connect(pop, sr)
    sim.connect(mm, pop)
    first = [sim.cont(30. * u.ms), sim.cont(20. * u.ms)]
    assert sim.t == pytest.approx(50.)
    sim.reset()
    assert sim.t == 0.
    again = [sim.cont(30. * u.ms), sim.cont(20. * u.ms)]
    for a, b in zip(first, again):
        assert np.array_equal(a.spikes(sr), b.spikes(sr))
        assert np.array_equal(a.events(sr)["senders"], b.events(sr)["senders"])
        assert np.allclose(mant(a.trace(mm, 'V_m'), u.mV), mant(b.trace(mm, 'V_m'), u.mV))
        assert np.allclose(mant(a.times, u.ms), mant(b.times, u.ms))
    assert first[0].n_events(sr) > 0
    # a network change after a run keeps the state; reset still goes back to the same start
    sim.create(nx.iaf_psc_alpha, 2)
    sim.reset()
    third = sim.simulate(30.)
    assert np.array_equal(third.spikes(sr), first[0].spikes(sr))


def test_create_between_runs_keeps_the_state():
    sim = nx.Simulator(dt=0.1, seed=1)
    pop = sim.create(nx.iaf_psc_alpha, 1, I_e=300.)
    sim.simulate(10.)
    v = mant(sim.get(pop, 'V_m'), u.mV)
    sim2 = nx.Simulator(dt=0.1, seed=1)
    pop2 = sim2.create(nx.iaf_psc_alpha, 1, I_e=300.)
    sim2.simulate(10.)
    sim2.create(nx.iaf_psc_alpha, 1)           # structure change without a get in between
    assert mant(sim2.get(pop2, 'V_m'), u.mV) == pytest.approx(v)
    assert v > -70.


def test_nest_style_dicts_equal_keywords():
    def build(style):
        sim = nx.Simulator(dt=0.1, seed=9)
        a = sim.create('iaf_psc_alpha', 20)
        if style == "dict":
            sim.connect(a, a, {'rule': 'fixed_indegree', 'indegree': 4, 'allow_autapses': False},
                        {'synapse_model': 'static_synapse', 'weight': 2.5, 'delay': 1.2})
            sim.connect(a[:5], a[5:10], conn_spec='one_to_one', syn_spec={'weight': np.arange(5.)})
        elif style == "kw":
            sim.connect(a, a, rule='fixed_indegree', indegree=4, allow_autapses=False,
                        synapse_model='static_synapse', weight=2.5 * u.pA, delay=1.2 * u.ms)
            sim.connect(a[:5], a[5:10], rule='one_to_one', weight=np.arange(5.) * u.pA)
        else:
            sim.connect(a, a, rule=nx.fixed_indegree(4, allow_autapses=False),
                        synapse=nx.static_synapse(weight=2.5, delay=1.2))
            sim.connect(a[:5], a[5:10], rule=nx.one_to_one(), synapse=nx.static_synapse(weight=np.arange(5.)))
        return sim.connections()
    c = [build(s) for s in ("dict", "kw", "obj")]
    for x in c[1:]:
        assert np.array_equal(c[0].sources, x.sources) and np.array_equal(c[0].targets, x.targets)
        assert np.array_equal(c[0].weights, x.weights) and np.allclose(mant(c[0].delays, u.ms), mant(x.delays, u.ms))
    assert len(c[0]) == 85 and np.allclose(np.asarray(c[0].weights)[80:], np.arange(5.))


def test_default_rule_weight_delay_as_nest():
    sim = nx.Simulator(dt=0.1)
    a = sim.create(nx.iaf_psc_alpha, 3)
    b = sim.create(nx.iaf_psc_alpha, 2)
    sim.connect(a, b)
    c = sim.connections()
    assert len(c) == 6 and np.allclose(np.asarray(c.weights), 1.) and np.allclose(mant(c.delays, u.ms), 1.)


def test_rate_neurons_accept_nests_old_names_mean_and_std():
    """NEST still accepts mean/std for a rate neuron's mu/sigma; so does nestax (both at once is an error)."""
    sim = nx.Simulator()
    n = sim.create("lin_rate_ipn", 2, mean=1.5, std=0.0)
    assert np.all(sim.get(n, "mu") == 1.5) and np.all(sim.get(n, "sigma") == 0.0)
    sim.set(n, std=0.3)
    assert np.all(sim.get(n, "sigma") == 0.3)
    with pytest.raises(nx.BadParameterError, match="'mean' is another name of 'mu'"):
        sim.create("tanh_rate_opn", 1, mu=1.0, mean=2.0)
    # gauss_rate_ipn: mean/std are the neuron's own drive and noise (mu/sigma: the Gaussian)
    g = sim.create("gauss_rate_ipn", 1, mean=0.5, sigma=2.0)
    assert sim.get(g, "mean") == 0.5 and sim.get(g, "sigma") == 2.0 and sim.get(g, "std") == 1.0
