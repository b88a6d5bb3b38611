"""Connection rules: properties (hypothesis), NEST's errors, value shapes, delays, speed."""
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nestax as nx
from nestax import connect as cr
from nestax.errors import BadParameterError

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def gen(rule, n_pre, n_post, seed=0, overlap=0):
    """Positions for pre gids 1..n_pre and post gids starting so that `overlap` nodes are shared."""
    pre = np.arange(1, n_pre + 1)
    post = np.arange(n_pre + 1 - overlap, n_pre + 1 - overlap + n_post)
    i_pre, i_post = cr.generate(rule, pre, post, np.random.default_rng(seed))
    return pre, post, i_pre, i_post


sizes = st.integers(1, 30)


@SETTINGS
@given(n_pre=sizes, n_post=sizes, k=st.integers(0, 40), aut=st.booleans(), mult=st.booleans(),
       same=st.booleans(), seed=st.integers(0, 2**31))
def test_fixed_indegree_properties(n_pre, n_post, k, aut, mult, same, seed):
    if same:
        n_post = n_pre
    overlap = n_pre if same else 0
    rule = cr.fixed_indegree(k, allow_autapses=aut, allow_multapses=mult)
    avail = n_pre - (1 if (same and not aut) else 0)
    if (not mult and k > avail) or (k > 0 and avail == 0):
        with pytest.raises(BadParameterError, match="indegree"):
            gen(rule, n_pre, n_post, seed, overlap)
        return
    pre, post, i_pre, i_post = gen(rule, n_pre, n_post, seed, overlap)
    assert len(i_pre) == n_post * k
    assert np.all(np.bincount(i_post, minlength=n_post) == k)
    assert i_pre.min(initial=0) >= 0 and i_pre.max(initial=0) < n_pre
    if not aut:
        assert not np.any(pre[i_pre] == post[i_post])
    if not mult:
        assert len(np.unique(i_post * n_pre + i_pre)) == len(i_pre)


@SETTINGS
@given(n_pre=sizes, n_post=sizes, k=st.integers(0, 40), aut=st.booleans(), mult=st.booleans(),
       overlap=st.integers(0, 30), seed=st.integers(0, 2**31))
def test_fixed_outdegree_properties(n_pre, n_post, k, aut, mult, overlap, seed):
    overlap = min(overlap, n_pre, n_post)
    rule = cr.fixed_outdegree(k, allow_autapses=aut, allow_multapses=mult)
    avail = n_post - (1 if (overlap and not aut) else 0)
    if (not mult and k > avail) or (k > 0 and avail == 0):
        with pytest.raises(BadParameterError, match="outdegree"):
            gen(rule, n_pre, n_post, seed, overlap)
        return
    pre, post, i_pre, i_post = gen(rule, n_pre, n_post, seed, overlap)
    assert np.all(np.bincount(i_pre, minlength=n_pre) == k)
    if not aut:
        assert not np.any(pre[i_pre] == post[i_post])
    if not mult:
        assert len(np.unique(i_post * n_pre + i_pre)) == len(i_pre)


@SETTINGS
@given(n_pre=sizes, n_post=sizes, aut=st.booleans(), overlap=st.integers(0, 30))
def test_all_to_all_and_one_to_one_counts(n_pre, n_post, aut, overlap):
    overlap = min(overlap, n_pre, n_post)
    pre, post, i_pre, i_post = gen(cr.all_to_all(allow_autapses=aut), n_pre, n_post, 0, overlap)
    assert len(i_pre) == n_pre * n_post - (0 if aut else overlap)
    assert len(np.unique(i_post * n_pre + i_pre)) == len(i_pre)
    # one_to_one onto the same collection
    pre, post, i_pre, i_post = gen(cr.one_to_one(allow_autapses=aut), n_pre, n_pre, 0, n_pre)
    assert len(i_pre) == (n_pre if aut else 0)
    pre, post, i_pre, i_post = gen(cr.one_to_one(), n_pre, n_pre, 0, 0)
    np.testing.assert_array_equal(i_pre, np.arange(n_pre))
    np.testing.assert_array_equal(i_post, np.arange(n_pre))


@SETTINGS
@given(n_pre=sizes, n_post=sizes, N=st.integers(0, 200), aut=st.booleans(), mult=st.booleans(),
       overlap=st.integers(0, 30), seed=st.integers(0, 2**31))
def test_fixed_total_number(n_pre, n_post, N, aut, mult, overlap, seed):
    overlap = min(overlap, n_pre, n_post)
    rule = cr.fixed_total_number(N, allow_autapses=aut, allow_multapses=mult)
    n_pairs = n_pre * n_post - (0 if aut else overlap)
    impossible = (not mult and N > n_pairs) or (N > 0 and not aut and n_pre == 1 and overlap == n_post)
    if impossible:
        with pytest.raises(BadParameterError, match="N"):
            gen(rule, n_pre, n_post, seed, overlap)
        return
    pre, post, i_pre, i_post = gen(rule, n_pre, n_post, seed, overlap)
    assert len(i_pre) == N
    if not aut:
        assert not np.any(pre[i_pre] == post[i_post])
    if not mult:
        assert len(np.unique(i_post * n_pre + i_pre)) == N


@SETTINGS
@given(n=st.integers(2, 40), p=st.floats(0, 0.99), seed=st.integers(0, 2**31), shift=st.booleans())
def test_symmetric_pairwise_bernoulli_is_symmetric(n, p, seed, shift):
    sim = nx.Simulator(seed=seed)
    a = sim.create(nx.iaf_psc_delta, n)
    b = a if not shift else sim.create(nx.iaf_psc_delta, n + 3)
    sim.connect(a, b, rule="symmetric_pairwise_bernoulli", p=p)
    c = sim.connections()
    assert not np.any(c.sources == c.targets)
    fwd = np.sort(c.sources * 10_000 + c.targets)
    rev = np.sort(c.targets * 10_000 + c.sources)
    np.testing.assert_array_equal(fwd, rev)       # every connection has its reverse (with multiplicity)
    if shift:
        assert set(c.sources) <= set(a._gids) | set(b._gids)


@SETTINGS
@given(n_pre=sizes, n_post=sizes, p=st.floats(0, 1), aut=st.booleans(), seed=st.integers(0, 2**31))
def test_pairwise_bernoulli_no_multapses(n_pre, n_post, p, aut, seed):
    overlap = min(n_pre, n_post)
    pre, post, i_pre, i_post = gen(cr.pairwise_bernoulli(p, allow_autapses=aut), n_pre, n_post, seed, overlap)
    assert len(np.unique(i_post * n_pre + i_pre)) == len(i_pre)
    if not aut:
        assert not np.any(pre[i_pre] == post[i_post])
    if p == 1.0:
        assert len(i_pre) == n_pre * n_post - (0 if aut else overlap)
    if p == 0.0:
        assert len(i_pre) == 0


@pytest.mark.parametrize("rule", [cr.fixed_indegree(5), cr.fixed_outdegree(5), cr.fixed_total_number(300),
                                  cr.pairwise_bernoulli(0.2), cr.symmetric_pairwise_bernoulli(0.2),
                                  cr.pairwise_poisson(0.2), cr.fixed_indegree(25, allow_multapses=False)])
def test_same_seed_same_network_different_seed_different(rule):
    def build(seed):
        sim = nx.Simulator(seed=seed)
        p = sim.create(nx.iaf_psc_delta, 30)
        w = 1.0 if rule.make_symmetric else nx.random.uniform(0., 1.)
        sim.connect(p, p, rule=rule, weight=w)
        c = sim.connections()
        return c.sources, c.targets, c.weights
    a, b, c = build(3), build(3), build(4)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert len(a[0]) != len(c[0]) or not np.array_equal(a[0], c[0]) or not np.array_equal(a[1], c[1])


def test_statistics_of_random_rules():
    rng = np.random.default_rng(0)
    n = 400
    g = np.arange(1, n + 1)
    # pairwise_bernoulli: in-degree ~ Binomial(n - 1, p) without autapses
    p = 0.1
    i_pre, i_post = cr.generate(cr.pairwise_bernoulli(p, allow_autapses=False), g, g, rng)
    deg = np.bincount(i_post, minlength=n)
    m = (n - 1) * p
    assert abs(deg.mean() - m) < 5 * np.sqrt(m * (1 - p) / n)
    assert 0.8 < deg.var() / (m * (1 - p)) < 1.2
    # pairwise_poisson: multiplicity per pair ~ Poisson(lam)
    lam = 0.05
    i_pre, i_post = cr.generate(cr.pairwise_poisson(lam), g, g, rng)
    mult = np.bincount(i_post * n + i_pre, minlength=n * n)
    assert abs(mult.mean() - lam) < 5 * np.sqrt(lam / n**2)
    assert abs(mult.var() / lam - 1) < 0.05
    assert abs(np.mean(mult >= 2) - (1 - np.exp(-lam) * (1 + lam))) < 5 * np.sqrt(1.2e-3 / n**2) + 2e-4
    # fixed_indegree with multapses: a given source's multiplicity ~ Binomial(k, 1/n)
    i_pre, i_post = cr.generate(cr.fixed_indegree(200), g, g, rng)
    mult = np.bincount(i_post * n + i_pre, minlength=n * n)
    assert abs(mult.mean() - 0.5) < 0.01
    assert abs(mult.var() - 200 * (1 / n) * (1 - 1 / n)) < 0.01
    # symmetric: NEST's in-degree per node: own draw Bin(n, p) + drawn by others ~ 2 n p
    i_pre, i_post = cr.generate(cr.symmetric_pairwise_bernoulli(p), g, g, rng)
    assert abs(len(i_pre) / n - n * p) < 5 * np.sqrt(n * p / n)


def test_uniformity_of_sources():
    # excluded self must not bias the other sources (shift trick), dense and sparse paths
    g = np.arange(1, 11)
    rng = np.random.default_rng(1)
    for k, mult in ((3, True), (3, False), (8, False)):
        i_pre, i_post = cr.generate(cr.fixed_indegree(k, allow_autapses=False, allow_multapses=mult),
                                    g, np.repeat(g[:1], 20000), rng)
        cnt = np.bincount(i_pre, minlength=10)
        assert cnt[0] == 0
        expected = 20000 * k / 9
        assert np.all(np.abs(cnt[1:] - expected) < 5 * np.sqrt(expected))


# ------------------------------------------------------------------ errors
@pytest.fixture
def net():
    sim = nx.Simulator(seed=1)
    return sim, sim.create(nx.iaf_psc_delta, 10), sim.create(nx.iaf_psc_delta, 5)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_bad_p(net, p):
    sim, a, b = net
    with pytest.raises(BadParameterError, match=r"p = .* is invalid; expected a probability"):
        sim.connect(a, b, rule="pairwise_bernoulli", p=p)


def test_indegree_too_large_without_multapses(net):
    sim, a, b = net
    with pytest.raises(BadParameterError, match=r"indegree = 11 is invalid; expected at most 10"):
        sim.connect(a, b, rule="fixed_indegree", indegree=11, allow_multapses=False)
    with pytest.raises(BadParameterError, match=r"indegree = 10 is invalid; expected at most 9"):
        sim.connect(a, a, rule="fixed_indegree", indegree=10, allow_multapses=False, allow_autapses=False)
    with pytest.raises(BadParameterError, match=r"outdegree = 6 is invalid; expected at most 5"):
        sim.connect(a, b, rule="fixed_outdegree", outdegree=6, allow_multapses=False)
    with pytest.raises(BadParameterError, match=r"indegree = -1"):
        sim.connect(a, b, rule="fixed_indegree", indegree=-1)
    with pytest.raises(BadParameterError, match=r"indegree = 1.5"):
        sim.connect(a, b, rule="fixed_indegree", indegree=1.5)
    with pytest.raises(BadParameterError, match="the node itself"):
        sim.connect(a[0], a[0], rule="fixed_indegree", indegree=1, allow_autapses=False)


def test_other_impossible_requests(net):
    sim, a, b = net
    with pytest.raises(BadParameterError, match="same size"):
        sim.connect(a, b, rule="one_to_one")
    with pytest.raises(BadParameterError, match="N = 51 is invalid; expected at most 50"):
        sim.connect(a, b, rule="fixed_total_number", N=51, allow_multapses=False)
    with pytest.raises(BadParameterError, match="Multapses must be allowed"):
        sim.connect(a, b, rule="pairwise_poisson", pairwise_avg_num_conns=0.1, allow_multapses=False)
    with pytest.raises(BadParameterError, match="pairwise_avg_num_conns = -1"):
        sim.connect(a, b, rule="pairwise_poisson", pairwise_avg_num_conns=-1.)
    with pytest.raises(BadParameterError, match="Autapses must be disabled"):
        sim.connect(a, a, rule="symmetric_pairwise_bernoulli", p=0.1, allow_autapses=True)
    with pytest.raises(BadParameterError, match="Multapses must be enabled"):
        sim.connect(a, a, rule="symmetric_pairwise_bernoulli", p=0.1, allow_multapses=False)
    with pytest.raises(BadParameterError, match="must be a scalar"):
        sim.connect(a, a, rule="symmetric_pairwise_bernoulli", p=0.1, weight=nx.random.uniform(0., 1.))
    with pytest.raises(BadParameterError, match="does not support symmetric"):
        sim.connect(a, b, rule="all_to_all", make_symmetric=True)
    assert len(sim.connections()) == 0


def test_unknown_rule_and_keyword(net):
    sim, a, b = net
    with pytest.raises(BadParameterError, match=r"unknown rule 'fixed_indegre'\. Did you mean 'fixed_indegree'"):
        sim.connect(a, b, rule="fixed_indegre", indegree=1)
    with pytest.raises(BadParameterError, match=r"unknown argument 'indegre'.*Did you mean 'indegree'"):
        sim.connect(a, b, rule="fixed_indegree", indegre=1)
    with pytest.raises(BadParameterError, match=r"unknown conn_spec key 'indegre'.*Did you mean 'indegree'"):
        sim.connect(a, b, {"rule": "fixed_indegree", "indegre": 1})
    with pytest.raises(BadParameterError, match=r"unknown argument 'p'"):
        sim.connect(a, b, rule="fixed_indegree", indegree=1, p=0.1)


def test_rule_forms_agree():
    def conns(**kw):
        sim = nx.Simulator(seed=5)
        a, b = sim.create(nx.iaf_psc_delta, 20), sim.create(nx.iaf_psc_delta, 7)
        sim.connect(a, b, **kw)
        c = sim.connections()
        return c.sources, c.targets
    ref = conns(rule="fixed_indegree", indegree=4)
    for kw in ({"conn_spec": {"rule": "fixed_indegree", "indegree": 4}}, {"rule": nx.fixed_indegree(4)},
               {"conn_spec": nx.fixed_indegree(indegree=4)}):
        got = conns(**kw)
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
    s, t = conns()  # default all_to_all
    assert len(s) == 140


# ------------------------------------------------------------------ weights and delays
def test_value_shapes_like_nest():
    sim = nx.Simulator(seed=1)
    a, b = sim.create(nx.iaf_psc_delta, 5), sim.create(nx.iaf_psc_delta, 4)
    W = np.arange(20.).reshape(4, 5)
    sim.connect(a, b, weight=W)
    c = sim.connections()
    np.testing.assert_array_equal(c.weights, W[c.targets - b._gids[0], c.sources - a._gids[0]])
    with pytest.raises(BadParameterError, match=r"shape \(5, 4\); rule all_to_all expects shape \(n_post, n_pre\)"):
        sim.connect(a, b, weight=W.T)
    with pytest.raises(BadParameterError, match="shape"):
        sim.connect(a, b, weight=W.ravel())
    with pytest.raises(BadParameterError, match=r"expects shape \(n_post, indegree\)"):
        sim.connect(a, b, rule="fixed_indegree", indegree=2, weight=np.ones((2, 4)))
    with pytest.raises(BadParameterError, match="cannot be an array"):
        sim.connect(a, b, rule="pairwise_bernoulli", p=1.0, weight=np.ones(20))
    sim2 = nx.Simulator(seed=1)
    a, b = sim2.create(nx.iaf_psc_delta, 5), sim2.create(nx.iaf_psc_delta, 4)
    sim2.connect(a, b, rule="fixed_indegree", indegree=2, weight=np.arange(8.).reshape(4, 2),
                 delay=np.full((4, 2), 2.0))
    sim2.connect(a, b, rule="fixed_outdegree", outdegree=3, weight=100 + np.arange(15.).reshape(5, 3))
    sim2.connect(a, b, rule="fixed_total_number", N=6, weight=200 + np.arange(6.))
    sim2.connect(a[:4], b, rule="one_to_one", weight=300 + np.arange(4.))
    c = sim2.connections()
    w = c.weights
    tgt = c.targets - b._gids[0]
    src = c.sources - a._gids[0]
    ind = w < 100
    np.testing.assert_array_equal(np.floor(w[ind] / 2), tgt[ind])  # row = target for fixed_indegree
    out = (w >= 100) & (w < 200)
    np.testing.assert_array_equal(np.floor((w[out] - 100) / 3), src[out])  # row = source
    np.testing.assert_array_equal(np.sort(w[(w >= 200) & (w < 300)]), 200 + np.arange(6.))
    o2o = w >= 300
    np.testing.assert_array_equal(w[o2o] - 300, src[o2o])
    np.testing.assert_array_equal(src[o2o], tgt[o2o])


def test_delay_rounding_like_nest():
    sim = nx.Simulator(dt=0.1, seed=1)
    a = sim.create(nx.iaf_psc_delta, 1)
    b = sim.create(nx.iaf_psc_delta, 1)
    ds = [0.81, 0.85, 0.15, 0.149, 0.25, 0.07, 0.05, 1.5]
    want = [0.8, 0.9, 0.2, 0.1, 0.3, 0.1, 0.1, 1.5]   # NEST 3.10 at resolution 0.1
    for d in ds:
        sim.connect(a, b, delay=d)
    np.testing.assert_allclose(sim.connections().delay_values, want, atol=1e-12)
    for bad in (0.04999, 0.0, -1.0):
        with pytest.raises(BadParameterError, match=rf"delay = {bad} ms is invalid"):
            sim.connect(a, b, delay=bad)


def test_distribution_values(net):
    sim, a, b = net
    sim.connect(a, b, rule="fixed_indegree", indegree=200, weight=nx.random.uniform(1., 2.),
                delay=nx.random.uniform(1., 3.))
    c = sim.connections()
    assert len(c) == 1000
    assert 1.0 <= c.weights.min() and c.weights.max() < 2.0
    d = c.delay_values
    np.testing.assert_allclose(d, np.round(d / 0.1) * 0.1, atol=1e-12)
    assert d.min() >= 1.0 and d.max() <= 3.0


# ------------------------------------------------------------------ speed
def test_large_fixed_indegree_is_fast():
    """1,250 x CE=1000 (1.25 M synapses) builds in well under a second: no per-neuron Python loop."""
    sim = nx.Simulator(seed=1)
    p = sim.create(nx.iaf_psc_delta, 1250)
    t0 = time.perf_counter()
    sim.connect(p, p, rule="fixed_indegree", indegree=1000, allow_autapses=False, weight=0.1, delay=1.5)
    dt = time.perf_counter() - t0
    c = sim._net.conns[-1]
    assert len(c.src) == 1_250_000 and not np.any(c.src == c.tgt)
    assert dt < 3.0, dt


def test_positions_in_vectorised():
    pool = np.array([7, 3, 9, 1])
    np.testing.assert_array_equal(cr.positions_in(np.array([9, 2, 1, 7]), pool), [2, -1, 3, 0])
    assert len(cr.positions_in(np.array([1]), np.array([], int))) == 1


def test_constant_connection_fields_do_not_keep_their_per_connection_arrays():
    """Regression: a constant weight / delay / receptor was stored as a 0-d *view* of the
    per-connection array it came from, which kept that whole array (n_conn x 8 bytes) alive."""
    sim = nx.Simulator(dt=0.1, seed=1)
    a = sim.create(nx.iaf_psc_alpha, 50)
    sim.connect(a, a, rule="fixed_indegree", indegree=20, weight=3.0, delay=1.0)
    rec = sim._net.conns[-1]
    assert len(rec) == 1000
    for field in ("weight", "delay", "receptor"):
        x = getattr(rec, field)
        assert x.ndim == 0 and x.base is None, field
