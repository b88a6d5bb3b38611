"""Property test: random sequences of create / connect / set / simulate / reset, valid and invalid.

Every call either succeeds or raises a nestax error; a call that raises leaves the simulator exactly as
it was (parameters, state, connections, time, and the random draws of later calls); and the calls that
succeeded, replayed on a fresh simulator with the same seed, give the same state and the same spikes.
"""
import brainunit as u
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nestax as nx
from nestax.errors import NestaxError

MODELS = ["iaf_psc_alpha", "iaf_psc_delta", "parrot_neuron"]


def snapshot(sim):
    """Everything a user can read back: time, every node's parameters and state, every connection."""
    out = {"k": sim.k}
    n = sim._net.next_gid() - 1
    if n:
        for g in range(1, n + 1):
            node = nx.NodeCollection(sim, [g])
            out[g] = {k: (np.asarray(v).tolist() if not isinstance(v, (list, tuple, str)) else v)
                      for k, v in sim.get(node, unit=False).items()}
    c = sim.connections()
    out["conns"] = (c.sources.tolist(), c.targets.tolist(), np.asarray(c.weights).tolist(),
                    np.asarray(c.delays.mantissa).tolist())
    return out


def spikes(res, sr):
    ev = res.events(sr)
    return np.asarray(ev["senders"]).tolist(), np.round(np.asarray(ev["times"].mantissa), 6).tolist()


op = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(MODELS), st.integers(1, 4),
              st.sampled_from([{}, {"I_e": 500.0}, {"V_th": -50.0}, {"I_e": 5 * u.nS}, {"V_tth": 1.0},
                               {"V_reset": 0.0}, {"I_e": nx.random.uniform(300.0, 600.0)}])),
    st.tuples(st.just("connect"), st.integers(0, 5), st.integers(0, 5),
              st.sampled_from([{}, {"rule": "fixed_indegree", "indegree": 2},
                               {"rule": "pairwise_bernoulli", "p": 0.5}, {"rule": "one_to_one"},
                               {"rule": "fixed_indegree", "indegree": -1}]),
              st.sampled_from([{"weight": 300.0}, {"weight": 2.0, "delay": 0.5},
                               {"weight": nx.random.normal(100.0, 20.0)}, {"delay": 0.01},
                               {"weight": 1.0, "synapse_model": "stdp_synap"},
                               {"weight": 50.0, "synapse_model": "stdp_synapse", "Wmax": 100.0}])),
    st.tuples(st.just("set"), st.integers(0, 5),
              st.sampled_from([{"I_e": 450.0}, {"V_m": -60.0}, {"V_th": -40.0, "V_m": 5 * u.nS},
                               {"tau_minus": 30.0}, {"tau_minus": -3.0}, {"C_m": 0.0}])),
    st.tuples(st.just("simulate"), st.sampled_from([2.0, 3.7, -1.0, 0.05, 0.0])),
    st.tuples(st.just("reset")),
)


def apply(sim, pops, sr, o):
    """Run operation ``o``; returns the Result of a simulate (else None)."""
    kind = o[0]
    if kind == "create":
        _, model, n, params = o
        pops.append(sim.create(model, n, **params))
        sim.connect(pops[-1], sr)
        return None
    if kind == "connect":
        _, i, j, rule, syn = o
        if not pops:
            raise nx.BadParameterError("no populations yet")  # a nestax error: nothing to connect
        a, b = pops[i % len(pops)], pops[j % len(pops)]
        sim.connect(a, b, **rule, **syn)
        return None
    if kind == "set":
        _, i, params = o
        if not pops:
            raise nx.BadParameterError("no populations yet")
        sim.set(pops[i % len(pops)], **params)
        return None
    if kind == "simulate":
        return sim.simulate(o[1])
    sim.reset()
    return None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=9), st.integers(0, 3))
def test_calls_succeed_or_change_nothing_and_replay_identically(ops, seed):
    sim = nx.Simulator(dt=0.1, seed=seed)
    sr = sim.create(nx.spike_recorder)
    pops, done, last = [], [], None
    for o in ops:
        before = snapshot(sim)
        try:
            res = apply(sim, pops, sr, o)
        except NestaxError:
            assert snapshot(sim) == before, o
            continue
        done.append(o)
        if res is not None:
            last = spikes(res, sr)
    # replay the calls that succeeded
    sim2 = nx.Simulator(dt=0.1, seed=seed)
    sr2 = sim2.create(nx.spike_recorder)
    pops2, last2 = [], None
    for o in done:
        res = apply(sim2, pops2, sr2, o)
        if res is not None:
            last2 = spikes(res, sr2)
    assert snapshot(sim2) == snapshot(sim)
    assert last2 == last
