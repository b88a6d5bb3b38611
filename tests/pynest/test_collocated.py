"""Collocated synapses (``nest.CollocatedSynapses``) through nestax.nest, against NEST 3.10 in the same test.

NEST draws a rule's pairs once and makes one connection per pair and per synapse spec. Checked: the same
number of connections per synapse model as NEST, identical (source, target) multisets across the specs
within each simulator, weights / delays / receptors as given (for deterministic rules the whole sorted
connection list equals NEST's), ``return_synapsecollection``, and a deterministic network whose spikes and
V_m agree with NEST to 1e-9."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import nestax.nest as nx_nest




def _conns(kernel, **sel):
    c = kernel.GetConnections(**sel)
    d = c.get(["source", "target", "weight", "delay", "synapse_model", "receptor"])
    if len(c) == 1:
        d = {k: [v] for k, v in d.items()}
    return [tuple(x) for x in zip(*(list(d[k]) for k in ("source", "target", "weight", "delay", "synapse_model",
                                                         "receptor")))]


def _pairs_by_spec(rows, key):
    """{spec key: Counter of (source, target)} with ``key(row)`` naming a row's spec."""
    out = {}
    for r in rows:
        out.setdefault(key(r), Counter())[(r[0], r[1])] += 1
    return out


def _rounded(rows):
    return sorted((s, t, round(w, 12), round(d, 12), m, r) for s, t, w, d, m, r in rows)


DETERMINISTIC = [
    ("one_to_one", 5, 5),
    ("all_to_all", 3, 4),
    ({"rule": "one_to_one", "make_symmetric": True}, 4, 4),
]


@pytest.mark.parametrize("conn_spec,n_pre,n_post", DETERMINISTIC)
def test_deterministic_rules_give_nests_connections(both, conn_spec, n_pre, n_post):
    specs = ({"weight": -2.0, "delay": 1.5},
             {"synapse_model": "stdp_synapse", "weight": 3.0},
             {"synapse_model": "tsodyks_synapse", "weight": 4.5, "delay": 2.0})
    rows = {}
    for k in both:
        a = k.Create("iaf_psc_alpha", n_pre)
        b = k.Create("iaf_psc_alpha", n_post)
        k.Connect(a, b, conn_spec, k.CollocatedSynapses(*specs))
        rows[k] = _conns(k)
        assert k.num_connections == len(rows[k])
    nest, nx = both
    assert _rounded(rows[nx]) == _rounded(rows[nest])
    by_model = _pairs_by_spec(rows[nx], lambda r: r[4])
    assert len(by_model) == 3 and len({frozenset(c.items()) for c in by_model.values()}) == 1


RANDOM = [
    ({"rule": "pairwise_bernoulli", "p": 0.3}, 20, 30),
    ({"rule": "fixed_indegree", "indegree": 4, "allow_autapses": False}, 25, 25),
    ({"rule": "fixed_outdegree", "outdegree": 3}, 10, 12),
    ({"rule": "fixed_total_number", "N": 50}, 10, 8),
    ({"rule": "pairwise_poisson", "pairwise_avg_num_conns": 0.2}, 10, 10),
]


@pytest.mark.parametrize("conn_spec,n_pre,n_post", RANDOM)
def test_random_rules_draw_the_pairs_once(both, conn_spec, n_pre, n_post):
    """Each simulator: every spec connects exactly the same (source, target) multiset; per spec the
    weights, delays and receptors are the given ones; the counts agree with NEST where they are fixed,
    and within 5 standard deviations where the rule draws them."""
    specs = ({"weight": 2.0, "delay": 1.2, "receptor_type": 1},
             {"synapse_model": "stdp_synapse", "weight": 7.0, "receptor_type": 3},
             {"weight": -1.0, "delay": 3.0, "receptor_type": 2})
    counts = {}
    for k in both:
        k.SetKernelStatus({"rng_seed": 12})
        same = n_pre == n_post and conn_spec["rule"] == "fixed_indegree"
        a = k.Create("iaf_psc_exp_multisynapse", n_pre, {"tau_syn": [1.0, 2.0, 3.0]})
        b = a if same else k.Create("iaf_psc_exp_multisynapse", n_post, {"tau_syn": [1.0, 2.0, 3.0]})
        k.Connect(a, b, conn_spec, k.CollocatedSynapses(*specs))
        rows = _conns(k)
        by_rec = _pairs_by_spec(rows, lambda r: r[5])
        assert sorted(by_rec) == [1, 2, 3]
        assert by_rec[1] == by_rec[2] == by_rec[3], k
        for (w, d, m, r) in ((2.0, 1.2, "static_synapse", 1), (7.0, 1.0, "stdp_synapse", 3),
                             (-1.0, 3.0, "static_synapse", 2)):
            mine = [x for x in rows if x[5] == r]
            assert {(x[2], round(x[3], 12), x[4]) for x in mine} == {(w, d, m)}
        if same:
            assert all(s != t for s, t, *_ in rows)
        counts[k] = Counter(x[4] for x in rows)
    nest, nx = both
    assert set(counts[nx]) == set(counts[nest]) == {"static_synapse", "stdp_synapse"}
    assert counts[nx]["static_synapse"] == 2 * counts[nx]["stdp_synapse"]
    n_nest, n_nx = counts[nest]["stdp_synapse"], counts[nx]["stdp_synapse"]
    if conn_spec["rule"] in ("pairwise_bernoulli", "pairwise_poisson"):
        p = conn_spec.get("p", conn_spec.get("pairwise_avg_num_conns"))
        mean, sd = n_pre * n_post * p, np.sqrt(n_pre * n_post * p)
        assert abs(n_nx - mean) < 5 * sd and abs(n_nest - mean) < 5 * sd
    else:
        assert n_nx == n_nest


def test_spatial_collocated_with_a_distance_dependent_weight(both):
    """NEST's spatial path for every spec once one has a spatial value; the pairs are shared and the
    second spec's weight is exp(-distance) of its own pair."""
    counts = {}
    for k in both:
        pos = k.spatial.free(k.random.uniform(), num_dimensions=2)
        a = k.Create("iaf_psc_alpha", 11, positions=pos)
        b = k.Create("iaf_psc_alpha", 37, positions=k.spatial.free(k.random.uniform(), num_dimensions=2))
        k.Connect(a, b, {"rule": "fixed_indegree", "indegree": 3},
                  k.CollocatedSynapses({"weight": -3.0},
                                       {"weight": k.spatial_distributions.exponential(k.spatial.distance),
                                        "delay": 1.4}))
        rows = _conns(k)
        counts[k] = len(rows)
        first = [r for r in rows if r[3] == 1.0]
        second = [r for r in rows if abs(r[3] - 1.4) < 1e-12]
        assert Counter((r[0], r[1]) for r in first) == Counter((r[0], r[1]) for r in second)
        assert {r[2] for r in first} == {-3.0}
        if k is nx_nest:
            pa = {g: np.asarray(k.GetPosition(a[i])) for i, g in enumerate(a.tolist())}
            pb = {g: np.asarray(k.GetPosition(b[i])) for i, g in enumerate(b.tolist())}
            want = [np.exp(-np.linalg.norm(pb[t] - pa[s])) for s, t, *_ in second]
            np.testing.assert_allclose([r[2] for r in second], want, rtol=1e-12)
    nest, nx = both
    assert counts[nx] == counts[nest] == 37 * 3 * 2


def test_return_synapsecollection_is_every_connection_from_pre_to_post(both):
    out = {}
    for k in both:
        a = k.Create("iaf_psc_alpha", 2)
        b = k.Create("iaf_psc_alpha", 3)
        k.Connect(a, b, "all_to_all", {"weight": 1.0})
        c = k.Connect(a, b, "all_to_all", k.CollocatedSynapses({"weight": 4.0}, {"synapse_model": "stdp_synapse"}),
                      return_synapsecollection=True)
        one = k.Connect(b, a, "one_to_one" if len(a) == len(b) else "all_to_all", {"synapse_model": "stdp_synapse"},
                        return_synapsecollection=True)
        out[k] = (sorted(zip(c.source, c.target, c.weight, c.synapse_model)),
                  sorted(zip(one.source, one.target, one.synapse_model)))
        assert len(c) == 18 and len(one) == 6
    nest, nx = both
    assert out[nx] == out[nest]


def test_a_plain_list_and_model_names_work_as_collocated_synapses():
    nx_nest.ResetKernel()
    a = nx_nest.Create("iaf_psc_alpha", 3)
    nx_nest.Connect(a, a, "one_to_one", [{"weight": 2.0}, "stdp_synapse"])
    assert sorted(nx_nest.GetConnections().synapse_model) == ["static_synapse"] * 3 + ["stdp_synapse"] * 3
    assert len(nx_nest.CollocatedSynapses({}, {}, {})) == 3


def test_bad_collocated_specs_are_clear_errors():
    nx_nest.ResetKernel()
    a = nx_nest.Create("iaf_psc_alpha", 3)
    with pytest.raises(TypeError, match="CollocatedSynapses: spec 1"):
        nx_nest.CollocatedSynapses({"weight": 1.0}, 5.0)
    with pytest.raises(Exception, match="empty"):
        nx_nest.Connect(a, a, "one_to_one", nx_nest.CollocatedSynapses())
    with pytest.raises(Exception, match="wieght.*Did you mean 'weight'|[Dd]id you mean 'weight'"):
        nx_nest.Connect(a, a, "one_to_one", nx_nest.CollocatedSynapses({"weight": 1.0}, {"wieght": 2.0}))
    assert nx_nest.num_connections == 0  # a failed connect stores none of its specs
    with pytest.raises(Exception, match="one_to_one"):  # a spatial value needs a spatial rule, as in NEST
        pos = nx_nest.Create("iaf_psc_alpha", 3, positions=nx_nest.spatial.free(nx_nest.random.uniform(),
                                                                              num_dimensions=2))
        nx_nest.Connect(pos, pos, "one_to_one", nx_nest.CollocatedSynapses(
            {"weight": 1.0}, {"weight": nx_nest.spatial.distance}))
    import nestax as nx
    sim = nx.Simulator()
    p = sim.create("iaf_psc_alpha", 2)
    with pytest.raises(Exception, match="weight= given beside a list"):
        sim.connect(p, p, "one_to_one", [{"weight": 1.0}, {"weight": 2.0}], weight=3.0)
    sim.connect(p, p, "one_to_one", [{"weight": 1.0}, {"synapse_model": "stdp_synapse", "weight": 2.0}])
    assert len(sim.connections(p, p)) == 4


def _network(k):
    """Deterministic: a spike_generator and a tonically firing neuron drive multisynapse and alpha
    neurons through collocated static / stdp synapses of different weights, delays and receptors."""
    k.SetKernelStatus({"resolution": 0.1})
    sg = k.Create("spike_generator", params={"spike_times": [2.0, 5.3, 11.0, 11.5, 30.2, 47.7]})
    drv = k.Create("iaf_psc_alpha", 2, params=[{"I_e": 420.0}, {"I_e": 510.0}])
    ms = k.Create("iaf_psc_exp_multisynapse", 3, params={"tau_syn": [0.5, 2.0, 6.0], "I_e": 300.0})
    al = k.Create("iaf_psc_alpha", 2, params={"I_e": 350.0})
    k.Connect(sg, ms, "all_to_all", k.CollocatedSynapses(
        {"weight": 250.0, "delay": 1.0, "receptor_type": 1},
        {"weight": -120.0, "delay": 2.3, "receptor_type": 3},
        {"weight": 400.0, "delay": 0.7, "receptor_type": 2}))
    k.Connect(drv, al, "all_to_all", k.CollocatedSynapses(
        {"weight": 300.0, "delay": 1.5},
        {"synapse_model": "stdp_synapse", "weight": 200.0, "delay": 1.0, "Wmax": 1000.0},
        {"weight": -80.0, "delay": 3.1}))
    k.Connect(drv, ms, "all_to_all", k.CollocatedSynapses({"weight": 150.0, "receptor_type": 2},
                                                          {"weight": 90.0, "receptor_type": 1}))
    sr = k.Create("spike_recorder")
    mm = k.Create("multimeter", params={"record_from": ["V_m"], "interval": 0.1})
    k.Connect(drv + ms + al, sr)
    k.Connect(mm, ms + al)
    k.Simulate(60.0)
    ev = sr.get("events")
    vm = mm.get("events")
    w = sorted(zip(*k.GetConnections(synapse_model="stdp_synapse").get(["source", "target", "weight"]).values()))
    return ev, vm, w


def test_collocated_network_spikes_and_vm_agree_with_nest(both):
    nest, nx = both
    ev_n, vm_n, w_n = _network(nest)
    ev_x, vm_x, w_x = _network(nx)
    order_n = np.lexsort((ev_n["senders"], ev_n["times"]))
    order_x = np.lexsort((ev_x["senders"], ev_x["times"]))
    assert len(ev_n["times"]) > 10  # the drivers fire; the collocated input makes the targets fire too
    assert set(np.asarray(ev_n["senders"])) >= {3, 4, 5, 8}
    np.testing.assert_array_equal(np.asarray(ev_x["senders"])[order_x], np.asarray(ev_n["senders"])[order_n])
    np.testing.assert_allclose(np.asarray(ev_x["times"])[order_x], np.asarray(ev_n["times"])[order_n],
                               rtol=0, atol=1e-9)
    kn = np.lexsort((vm_n["senders"], vm_n["times"]))
    kx = np.lexsort((vm_x["senders"], vm_x["times"]))
    np.testing.assert_array_equal(np.asarray(vm_x["senders"])[kx], np.asarray(vm_n["senders"])[kn])
    dv = np.max(np.abs(np.asarray(vm_x["V_m"])[kx] - np.asarray(vm_n["V_m"])[kn]))
    assert dv < 1e-9, dv
    assert [x[:2] for x in w_x] == [x[:2] for x in w_n] and len(w_n) == 4
    np.testing.assert_allclose([x[2] for x in w_x], [x[2] for x in w_n], rtol=0, atol=1e-9)
    assert any(abs(x[2] - 200.0) > 1e-3 for x in w_n)  # the stdp weights moved
