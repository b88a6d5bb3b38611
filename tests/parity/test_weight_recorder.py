"""weight_recorder against NEST 3.10: every transmitted spike of the logged connections, with the
weight it delivered, its sender, target, time, receptor and port.

NEST attaches a recorder to a synapse model (CopyModel / SetDefaults); nestax takes it in the synapse
spec (``weight_recorder=wr``). Events are compared as sets: the order within one time step is
NEST's delivery order, which nestax does not reproduce (it sorts by time, sender and port).
"""
import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.engine import delivery as dl
from nestax.errors import ConnectionError_

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

DT = 0.1
PRE = [1.0, 3.0, 3.0, 8.0, 11.0, 11.5, 14.2, 17.0, 17.0, 21.0, 24.4, 27.0]


def _sorted(ev):
    w = np.asarray(mantissa(ev["weights"]) if isinstance(ev["weights"], u.Quantity) else ev["weights"], float)
    t = np.asarray(mantissa(ev["times"], u.ms) if isinstance(ev["times"], u.Quantity) else ev["times"], float)
    cols = [np.asarray(ev[k]) for k in ("senders", "targets", "receptors", "ports")]
    order = np.lexsort((w, *cols[::-1], t))
    return t[order], w[order], [c[order] for c in cols]


def _compare(ev_nx, ev_nest, tol=1e-9):
    t1, w1, c1 = _sorted(ev_nx)
    t2, w2, c2 = _sorted(ev_nest)
    assert len(t1) == len(t2) > 0
    np.testing.assert_array_equal(np.round(t1, 6), np.round(t2, 6))
    for a, b in zip(c1, c2):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(w1, w2, rtol=tol, atol=tol)
    vrecord("weight_recorder", "weights", float(np.max(np.abs(np.asarray(w1) - np.asarray(w2)))),
            tol + tol * float(np.max(np.abs(w2))), "exact", f"logged weight max abs dev, {len(t1)} events")


SYN = {
    "stdp_synapse": {"weight": 40.0, "delay": 2.0, "Wmax": 120.0, "lambda": 0.05},
    "static_synapse": {"weight": 7.0, "delay": 1.5},
    "tsodyks2_synapse": {"weight": 250.0, "delay": 1.0, "U": 0.4, "tau_fac": 20.0},
    "stdp_triplet_synapse": {"weight": 40.0, "delay": 1.0, "Wmax": 150.0},
}
WR = {"start": 0.0, "stop": np.inf, "origin": 0.0}


def _nest_run(models, T, wr_params=None, n_pre=3, n_post=2, windows=None):
    nest = fresh_nest(DT)
    g = nest.Create("spike_generator", n_pre, params=[{"spike_times": list(np.round(np.asarray(PRE) + 0.3 * i, 1))}
                                                    for i in range(n_pre)])
    par = nest.Create("parrot_neuron", n_pre)
    post = nest.Create("iaf_psc_alpha", n_post, params={"I_e": 370.0, "tau_minus": 15.0})
    wr = nest.Create("weight_recorder", params=wr_params or {})
    nest.Connect(g, par, "one_to_one")
    for m in models:
        nest.CopyModel(m, m + "_rec", {"weight_recorder": wr})
        nest.Connect(par, post, "all_to_all", dict(synapse_model=m + "_rec", **SYN[m]))
    for t in (windows or [T]):
        nest.Simulate(t)
    return wr.events, par, post


def _nx_run(models, T, wr_params=None, n_pre=3, n_post=2, windows=None):
    sim = nx.Simulator(dt=DT)
    g = sim.create(nx.spike_generator, n_pre, params=[{"spike_times": list(np.round(np.asarray(PRE) + 0.3 * i, 1))}
                                                    for i in range(n_pre)])
    par = sim.create(nx.parrot_neuron, n_pre)
    post = sim.create(nx.iaf_psc_alpha, n_post, I_e=370.0, tau_minus=15.0)
    wr = sim.create(nx.weight_recorder, **(wr_params or {}))
    sim.connect(g, par, "one_to_one")
    for m in models:
        sim.connect(par, post, "all_to_all", synapse_model=m, weight_recorder=wr, **SYN[m])
    results = [sim.simulate(t) for t in (windows or [T])]
    return results, wr, par, post


def _merge(results, wr):
    evs = [r.events(wr) for r in results]
    out = {}
    for k in evs[0]:
        vals = [mantissa(e[k]) if isinstance(e[k], u.Quantity) else e[k] for e in evs]
        out[k] = np.concatenate(vals)
    return out


@pytest.mark.parametrize("delivery", ["dense", "event"])
@pytest.mark.parametrize("models", [["stdp_synapse", "static_synapse"], ["tsodyks2_synapse"],
                                    ["stdp_triplet_synapse", "stdp_synapse"]])
def test_events_match_nest(models, delivery, monkeypatch):
    if delivery == "event":
        monkeypatch.setattr(dl, "EVENT_MIN_SYNAPSES", 1)
    ev_nest, _, _ = _nest_run(models, 30.0)
    results, wr, _, _ = _nx_run(models, 30.0)
    ev = results[0].events(wr)
    _compare(ev, ev_nest)
    assert results[0].n_events(wr) == len(ev_nest["times"])
    # spikes of multiplicity 2 (PRE repeats 3.0 and 17.0) are two events each
    t = mantissa(ev["times"], u.ms)
    assert np.sum(np.isclose(t, 4.0)) == 2 * 2 * len(models)  # sender 1: 3.0 ms twice (+ 1 ms), 2 targets


def test_split_runs_and_window_filters_match_nest():
    params = {"start": 5.0, "stop": 22.0, "origin": 1.0}
    ev_nest, npar, npost = _nest_run(["stdp_synapse"], None, params, windows=[9.0, 6.3, 14.7])
    results, wr, par, post = _nx_run(["stdp_synapse"], None, params, windows=[9.0, 6.3, 14.7])
    _compare(_merge(results, wr), ev_nest)
    t = mantissa(results[1].events(wr)["times"], u.ms)
    assert np.all((t > 9.0) & (t <= 15.3))  # each result holds its own window's events


def test_senders_targets_filters_match_nest():
    nest_ev, npar, npost = _nest_run(["static_synapse"], 30.0)
    # filter by ids: the same global ids in both simulators (same creation order)
    params = {"senders": [int(npar.tolist()[0]), int(npar.tolist()[2])], "targets": [int(npost.tolist()[1])]}
    ev_nest, _, _ = _nest_run(["static_synapse"], 30.0, params)
    results, wr, par, post = _nx_run(["static_synapse"], 30.0, params)
    ev = results[0].events(wr)
    _compare(ev, ev_nest)
    assert set(ev["senders"]) == set(params["senders"]) and set(ev["targets"]) == set(params["targets"])


def test_time_in_steps():
    results, wr, _, _ = _nx_run(["static_synapse"], 10.0, {"time_in_steps": True})
    ev = results[0].events(wr)
    assert ev["times"].dtype.kind == "i" and set(ev["times"].tolist()) == {20, 23, 26, 40, 43, 46, 90, 93, 96}


def test_bad_attachments_refused():
    sim = nx.Simulator(dt=DT)
    a = sim.create(nx.parrot_neuron, 2)
    b = sim.create(nx.iaf_psc_alpha, 2)
    wr = sim.create(nx.weight_recorder)
    sr = sim.create(nx.spike_recorder)
    g = sim.create(nx.poisson_generator, rate=10.0)
    with pytest.raises(ConnectionError_, match="through the synapse spec"):
        sim.connect(a, wr)
    with pytest.raises(ConnectionError_, match="not a weight_recorder"):
        sim.connect(a, b, weight_recorder=sr)
    with pytest.raises(ConnectionError_, match="not supported yet"):
        sim.connect(a, b, synapse_model="bernoulli_synapse", weight_recorder=wr)
    with pytest.raises(ConnectionError_, match="parrot_neuron"):
        sim.connect(g, b, weight_recorder=wr)
    other = nx.Simulator(dt=DT).create(nx.weight_recorder)
    with pytest.raises(nx.ForeignNodesError):
        sim.connect(a, b, weight_recorder=other)
    assert len(sim.connections()) == 0  # nothing was connected by the failed calls
    res = sim.simulate(5.0)
    assert res.n_events(wr) == 0 and len(res.events(wr)["times"]) == 0
