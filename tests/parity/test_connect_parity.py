"""Connection rules, NEST vs nestax in the same test.

Deterministic rules (all_to_all, one_to_one): identical (source, target, weight, delay) sets.
Fixed-degree rules: identical degree sequences and counts. Random rules: total counts and degree
mean/variance of both simulators within 5 sigma of the exact expectation (binomial / Poisson), and
their difference within 5 * sqrt(2) sigma.
"""
import numpy as np
import pytest

import nestax as nx

from .nest_helpers import fresh_nest

NA, NB = 300, 200


def build(conn, syn=None, same=False, nest_seed=7, nx_seed=7):
    """Connect A -> (A or B) in both simulators; return (nest tuples, nestax tuples) as arrays."""
    syn = dict(syn or {})
    nest = fresh_nest(0.1, nest_seed)
    A = nest.Create("iaf_psc_delta", NA)
    B = A if same else nest.Create("iaf_psc_delta", NB)
    nest.Connect(A, B, conn, syn)
    conns = nest.GetConnections()
    if len(conns) == 0:
        n = np.zeros((4, 0))
    else:
        c = conns.get(["source", "target", "weight", "delay"])
        n = np.array([np.atleast_1d(c[k]) for k in ("source", "target", "weight", "delay")], float)

    sim = nx.Simulator(dt=0.1, seed=nx_seed)
    a = sim.create(nx.iaf_psc_delta, NA)
    b = a if same else sim.create(nx.iaf_psc_delta, NB)
    sim.connect(a, b, dict(conn), **syn)
    k = sim.connections()
    x = np.array([k.sources, k.targets, k.weights, k.delay_values], float)
    return n, x


def rows(m):
    return m[:, np.lexsort(m[::-1])]


@pytest.mark.parametrize("conn,same", [
    ({"rule": "all_to_all"}, False),
    ({"rule": "all_to_all", "allow_autapses": False}, True),
    ({"rule": "one_to_one"}, True),
    ({"rule": "one_to_one", "allow_autapses": False}, True),
])
def test_deterministic_rules_identical(conn, same):
    nb = NA if same else NB
    syn = {"weight": np.arange(nb * NA, dtype=float).reshape(nb, NA) / 7.0, "delay": 1.25}
    if conn["rule"] == "one_to_one":
        syn["weight"] = np.arange(NA, dtype=float) / 3.0
        syn["delay"] = np.linspace(0.1, 3.0, NA)
    n, x = build(conn, syn, same)
    assert n.shape == x.shape
    np.testing.assert_allclose(rows(x), rows(n), atol=1e-12)


@pytest.mark.parametrize("conn,same", [
    ({"rule": "fixed_indegree", "indegree": 25}, False),
    ({"rule": "fixed_indegree", "indegree": 25, "allow_autapses": False, "allow_multapses": False}, True),
    ({"rule": "fixed_outdegree", "outdegree": 30}, False),
    ({"rule": "fixed_outdegree", "outdegree": 30, "allow_autapses": False, "allow_multapses": False}, True),
    ({"rule": "fixed_total_number", "N": 5000}, False),
    ({"rule": "fixed_total_number", "N": 5000, "allow_autapses": False}, True),
])
def test_fixed_rules_degrees(conn, same):
    syn = {"weight": 2.5, "delay": 0.85}
    n, x = build(conn, syn, same)
    assert n.shape == x.shape
    for m in (n, x):
        np.testing.assert_allclose(m[2], 2.5)
        np.testing.assert_allclose(m[3], 0.9)       # rounded to the grid as NEST
        if conn.get("allow_autapses") is False:
            assert not np.any(m[0] == m[1])
        if conn.get("allow_multapses") is False:
            assert len(np.unique(m[0] * 1e4 + m[1])) == m.shape[1]
    # the deterministic degree sequence is identical
    side = {"fixed_indegree": 1, "fixed_outdegree": 0}.get(conn["rule"])
    if side is not None:
        np.testing.assert_array_equal(np.unique(n[side], return_counts=True)[1],
                                      np.unique(x[side], return_counts=True)[1])
    else:  # fixed_total_number: in-degree ~ Multinomial(N, 1/n_post)
        npost = NA if same else NB
        N = conn["N"]
        for m in (n, x):
            deg = np.bincount(m[1].astype(int), minlength=int(m[1].max()) + 1)[-npost:]
            var = N / npost * (1 - 1 / npost)
            assert abs(deg.var(ddof=1) / var - 1) < 5 * np.sqrt(2 / (npost - 1))


def _check_stats(n, x, mean, var_deg, side, n_nodes, what):
    """Total counts and degree mean/variance of both within bounds of the expectation and each other."""
    tot_sd = np.sqrt(var_deg * n_nodes)
    for m, who in ((n, "NEST"), (x, "nestax")):
        assert abs(m.shape[1] - mean * n_nodes) < 5 * tot_sd, (what, who, m.shape[1], mean * n_nodes)
        top = int(m[side].max(initial=0)) + 1
        deg = np.bincount(m[side].astype(int), minlength=top)[-n_nodes:]   # nodes are the last gids
        v = deg.var(ddof=1)
        assert abs(v / var_deg - 1) < 5 * np.sqrt(2 / (n_nodes - 1)) + 0.05, (what, who, v, var_deg)
    assert abs(n.shape[1] - x.shape[1]) < 5 * np.sqrt(2) * tot_sd, (what, n.shape[1], x.shape[1])


def test_pairwise_bernoulli_statistics():
    p = 0.1
    n, x = build({"rule": "pairwise_bernoulli", "p": p}, {"weight": 1.0}, False)
    _check_stats(n, x, NA * p, NA * p * (1 - p), 1, NB, "bernoulli")
    for m in (n, x):
        assert len(np.unique(m[0] * 1e4 + m[1])) == m.shape[1]
    n, x = build({"rule": "pairwise_bernoulli", "p": p, "allow_autapses": False}, None, True)
    _check_stats(n, x, (NA - 1) * p, (NA - 1) * p * (1 - p), 1, NA, "bernoulli no autapses")
    for m in (n, x):
        assert not np.any(m[0] == m[1])


def test_pairwise_poisson_statistics():
    lam = 0.2
    n, x = build({"rule": "pairwise_poisson", "pairwise_avg_num_conns": lam}, None, False)
    _check_stats(n, x, NA * lam, NA * lam, 1, NB, "poisson")
    # multapses appear at the Poisson rate in both
    expected = NA * NB * (1 - np.exp(-lam) * (1 + lam))
    for m in (n, x):
        _, c = np.unique(m[0] * 1e4 + m[1], return_counts=True)
        assert abs((c >= 2).sum() - expected) < 5 * np.sqrt(expected)


def test_symmetric_pairwise_bernoulli_statistics():
    p = 0.05
    conn = {"rule": "symmetric_pairwise_bernoulli", "p": p, "allow_autapses": False, "make_symmetric": True}
    n, x = build(conn, {"weight": 0.5}, True)
    # each node draws k ~ Bin(n, p) partners and each drawn pair is connected both ways
    mean_total = 2 * NA * NA * p
    sd_total = 2 * np.sqrt(NA * NA * p * (1 - p))
    for m in (n, x):
        assert abs(m.shape[1] - mean_total) < 5 * sd_total, (m.shape[1], mean_total)
        assert not np.any(m[0] == m[1])
        f = np.sort(m[0] * 1e4 + m[1])
        r = np.sort(m[1] * 1e4 + m[0])
        np.testing.assert_array_equal(f, r)
        np.testing.assert_allclose(m[2], 0.5)
    dn = np.bincount(n[1].astype(int))[1:]
    dx = np.bincount(x[1].astype(int))[1:]
    # in-degree = own draw + times drawn by others: mean 2 n p, variance ~ 2 n p (1 - p)
    for d in (dn, dx):
        assert abs(d.mean() - 2 * NA * p) < 5 * np.sqrt(2 * NA * p / NA)
        assert abs(d.var(ddof=1) / (2 * NA * p * (1 - p)) - 1) < 0.35
    assert abs(dn.var() - dx.var()) / dn.var() < 0.35


def test_same_errors_as_nest():
    nest = fresh_nest()
    A = nest.Create("iaf_psc_delta", 5)
    sim = nx.Simulator()
    a = sim.create(nx.iaf_psc_delta, 5)
    cases = [
        ({"rule": "fixed_indegree", "indegree": 6, "allow_multapses": False}, "larger than population size"),
        ({"rule": "fixed_outdegree", "outdegree": 6, "allow_multapses": False}, "larger than population size"),
        ({"rule": "pairwise_bernoulli", "p": 1.5}, "0 <= p <= 1"),
        ({"rule": "pairwise_poisson", "pairwise_avg_num_conns": 0.1, "allow_multapses": False},
         "Multapses must be allowed"),
        ({"rule": "symmetric_pairwise_bernoulli", "p": 0.1, "allow_autapses": True, "make_symmetric": True},
         "Autapses must be disabled"),
        ({"rule": "fixed_total_number", "N": 26, "allow_multapses": False}, "cannot exceed product"),
    ]
    for conn, msg in cases:
        with pytest.raises(Exception, match=msg):
            nest.Connect(A, A, conn)
        with pytest.raises(nx.BadParameterError, match=msg):
            sim.connect(a, a, conn)
    with pytest.raises(Exception):
        nest.Connect(A, A, "all_to_all", {"delay": 0.04})
    with pytest.raises(nx.BadParameterError, match="delay = 0.04 ms is invalid"):
        sim.connect(a, a, delay=0.04)
