"""nest.Disconnect / SynapseCollection.disconnect through nestax.nest, against NEST 3.10 in the same test:
the connections left, and the spikes, V_m and stdp weights of a deterministic network disconnected
between two Simulate calls (to 1e-9), plus NEST's errors for what it refuses."""
from __future__ import annotations

import numpy as np
import pytest





def _left(k, among=None):
    """The connections as sorted (source, target, weight, model) rows (both ends in ``among``: NEST also
    lists the links to recorders, nestax.nest does not)."""
    c = k.GetConnections(among, among) if among is not None else k.GetConnections()
    if len(c) == 0:
        return []
    d = c.get(["source", "target", "weight", "synapse_model"])
    if len(c) == 1:
        d = {n: [v] for n, v in d.items()}
    return sorted(zip(d["source"], d["target"], d["weight"], d["synapse_model"]))


def test_connections_left_match_nest(both):
    left = {}
    for k in both:
        a = k.Create("iaf_psc_alpha", 4)
        k.CopyModel("static_synapse", "exc", {"weight": 5.0})
        k.Connect(a, a, "all_to_all", {"weight": 1.0})
        k.Connect(a[0], a[1], syn_spec={"weight": 2.0})                     # a multapse: the earliest goes
        k.Connect(a, a, "one_to_one", {"synapse_model": "stdp_synapse", "weight": 3.0})
        k.Connect(a, a, "one_to_one", "exc")
        k.Disconnect(a[0], a[1])                                            # default: one_to_one, static
        k.Disconnect(a[2:], a[:2], conn_spec="all_to_all")
        k.Disconnect(a[1:3], a[1:3], syn_spec={"synapse_model": "stdp_synapse", "weight": 99.0})  # weight ignored
        k.Disconnect(a[3], a[3], syn_spec="exc")                             # a copy is its own model
        k.GetConnections(a[0], a[3]).disconnect()
        k.Disconnect(k.GetConnections(a[1], a[0], "static_synapse"))
        left[k] = (_left(k), k.num_connections)
    nest, nx = both
    assert left[nx] == left[nest]
    assert (0 + 1, 2, 2.0, "static_synapse") in left[nx][0] and (1, 2, 1.0, "static_synapse") not in left[nx][0]


def test_what_nest_refuses_is_refused(both):
    nest, nx = both
    for k in both:
        a = k.Create("iaf_psc_alpha", 3)
        k.Connect(a, a, "one_to_one")
        with pytest.raises(Exception, match="not possible because it does not exist"):
            k.Disconnect(a[0], a[1])  # a pair without the connection (NEST: InexistentConnection)
        with pytest.raises(Exception, match="same size"):
            k.Disconnect(a[:2], a, conn_spec="one_to_one")
        with pytest.raises(TypeError):
            k.Disconnect([1])
        with pytest.raises(TypeError):
            k.Disconnect(a, a, "one_to_one")  # conn_spec is a keyword
        with pytest.raises(ValueError):
            k.Disconnect(k.GetConnections(), conn_spec="one_to_one")
        assert k.num_connections == 3
    nodes = nx.NodeCollection(nx._sim(), np.arange(1, 4))
    with pytest.raises(NotImplementedError, match="one_to_one.*all_to_all"):
        nx.Disconnect(nodes, nodes, conn_spec={"rule": "pairwise_bernoulli", "p": 1.0})
    with pytest.raises(NotImplementedError, match="one_to_one.*all_to_all"):
        nx.Disconnect(nodes, nodes, conn_spec="fixed_indegree")
    # nestax removes nothing when a pair is missing (NEST removes the pairs before the missing one)
    with pytest.raises(Exception, match="nothing was disconnected"):
        nx.Disconnect(nodes, nodes, conn_spec="all_to_all")
    assert nx.num_connections == 3
    pg = nx.Create("poisson_generator")
    nx.Connect(pg, nodes)
    with pytest.raises(Exception, match="device poisson_generator"):
        nx.Disconnect(pg, nodes, conn_spec="all_to_all")
    c = nx.GetConnections(nodes[0], nodes[0])
    nx.Disconnect(nx.GetConnections(nodes[1], nodes[1]))
    with pytest.raises(Exception, match="read them again"):
        c.weight = 2.0  # read before a disconnect: refused rather than changing another connection
    assert nx.num_connections == 2 + 3


T1, T2 = 40.0, 60.0


def _network(k, disconnect=True):
    """Drivers fire tonically into targets through static all_to_all and stdp one_to_one synapses; some
    of them are disconnected between the two Simulate calls (no driver spikes in the last min_delay
    before the disconnect: NEST would deliver those through the connections left at the next call)."""
    drv = k.Create("iaf_psc_alpha", 3, params=[{"I_e": 420.0}, {"I_e": 510.0}, {"I_e": 600.0}])
    tgt = k.Create("iaf_psc_alpha", 3, params={"I_e": 300.0})
    k.Connect(drv, tgt, "all_to_all", {"weight": 150.0, "delay": 1.5})
    k.Connect(drv, tgt, "one_to_one", {"synapse_model": "stdp_synapse", "weight": 100.0, "delay": 1.0,
                                       "Wmax": 1000.0})
    sr = k.Create("spike_recorder")
    mm = k.Create("multimeter", params={"record_from": ["V_m"], "interval": 0.1})
    k.Connect(drv + tgt, sr)
    k.Connect(mm, tgt)
    k.Simulate(T1)
    if disconnect:
        k.Disconnect(drv[:2], tgt[:2], conn_spec="all_to_all")
        k.Disconnect(drv[2], tgt[2], syn_spec="stdp_synapse")
        k.GetConnections(drv[1], tgt[2]).disconnect()
    k.Simulate(T2)
    w = sorted(zip(*k.GetConnections(synapse_model="stdp_synapse").get(["source", "target", "weight"]).values()))
    return sr.get("events"), mm.get("events"), w, _left(k, drv + tgt)


def test_disconnect_between_simulate_calls_agrees_with_nest(both):
    nest, nx = both
    ev_n, vm_n, w_n, left_n = _network(nest)
    ev_x, vm_x, w_x, left_x = _network(nx)
    t, s = np.asarray(ev_n["times"]), np.asarray(ev_n["senders"])
    assert not np.any((s <= 3) & (t > T1 - 1.0) & (t <= T1))  # the premise (see _network)
    assert np.any((s > 3) & (t > T1)) and np.any((s > 3) & (t <= T1))
    assert left_x == left_n and len(left_n) == 4 + 2  # static: 9 - 4 - 1; stdp: 3 - 1
    on, ox = np.lexsort((s, t)), np.lexsort((ev_x["senders"], ev_x["times"]))
    np.testing.assert_array_equal(np.asarray(ev_x["senders"])[ox], s[on])
    np.testing.assert_allclose(np.asarray(ev_x["times"])[ox], t[on], rtol=0, atol=1e-9)
    kn, kx = np.lexsort((vm_n["senders"], vm_n["times"])), np.lexsort((vm_x["senders"], vm_x["times"]))
    np.testing.assert_array_equal(np.asarray(vm_x["senders"])[kx], np.asarray(vm_n["senders"])[kn])
    dv = np.max(np.abs(np.asarray(vm_x["V_m"])[kx] - np.asarray(vm_n["V_m"])[kn]))
    assert dv < 1e-9, dv
    assert [x[:2] for x in w_x] == [x[:2] for x in w_n] == [(1, 4), (2, 5)]
    np.testing.assert_allclose([x[2] for x in w_x], [x[2] for x in w_n], rtol=0, atol=1e-9)


def test_disconnected_network_differs_from_the_full_one(both):
    """The disconnect matters: without it the targets' V_m after T1 differs (guards the test above)."""
    _, nx = both
    _, vm, _, _ = _network(nx)
    nx.ResetKernel()
    _, full, _, _ = _network(nx, disconnect=False)
    assert np.array_equal(vm["times"], full["times"])
    late = np.asarray(vm["times"]) > T1 + 2.0
    early = np.asarray(vm["times"]) <= T1
    np.testing.assert_array_equal(np.asarray(vm["V_m"])[early], np.asarray(full["V_m"])[early])
    assert np.max(np.abs(np.asarray(vm["V_m"])[late] - np.asarray(full["V_m"])[late])) > 1.0


def test_simulator_disconnect_and_reset():
    """nestax's own API: sim.disconnect(pre, post, ...) / connections.disconnect(); reset() after a
    disconnect starts the network left (its connections at their first-simulate values) from t = 0, so
    the rerun equals a run disconnected before its start."""
    import brainunit as u

    import nestax as nx

    def build(disconnect_first):
        sim = nx.Simulator(seed=3)
        drv = sim.create("iaf_psc_alpha", 2, I_e=np.array([450.0, 520.0]) * u.pA)
        tgt = sim.create("iaf_psc_alpha", 2, I_e=360.0 * u.pA)
        sim.connect(drv, tgt, "all_to_all", synapse_model="stdp_synapse", weight=300.0, delay=1.0, Wmax=1000.0)
        sr = sim.create("spike_recorder")
        sim.connect(tgt, sr)
        mm = sim.create("multimeter", record_from=["V_m"], interval=0.1 * u.ms)
        sim.connect(mm, tgt)
        if disconnect_first:
            sim.disconnect(drv[0], tgt[1], syn_spec="stdp_synapse")
            sim.connections(drv[1], tgt[0]).disconnect()
        return sim, drv, tgt, sr, mm

    sim, drv, tgt, sr, mm = build(False)
    sim.simulate(30.0 * u.ms)
    sim.disconnect(drv[0], tgt[1], syn_spec="stdp_synapse")
    sim.connections(drv[1], tgt[0]).disconnect()
    assert sorted(zip(sim.connections().sources.tolist(), sim.connections().targets.tolist())) == [(1, 3), (2, 4)]
    sim.simulate(50.0 * u.ms)
    sim.reset()
    assert np.all(sim.connections().weights == 300.0)
    rerun = sim.simulate(80.0 * u.ms)
    ref, *_, sr_b, mm_b = build(True)
    want = ref.simulate(80.0 * u.ms)
    assert want.n_events(sr_b) > 2  # the targets fire, so the stdp weights move
    np.testing.assert_array_equal(np.asarray(rerun.trace(mm, "V_m").to_decimal(u.mV)),
                                  np.asarray(want.trace(mm_b, "V_m").to_decimal(u.mV)))
    np.testing.assert_array_equal(sim.connections().weights, ref.connections().weights)
    assert np.all(sim.connections().weights != 300.0)
    with pytest.raises(Exception, match="no stdp_synapse connection from node 1 to node 4"):
        sim.disconnect(drv[0], tgt[1], syn_spec="stdp_synapse")
