"""Changing existing connections between simulate calls (NEST's SynapseCollection.set), against NEST 3.10.

Static weights and delays, stdp_synapse's weight, parameters and trace, and tsodyks2_synapse's state
are set between two simulate calls in NEST and in nestax on the same network; V_m traces and the
final weights must agree to 1e-9. Then the error paths: a failed set changes nothing.
"""
import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError, UnknownParameterError

from .nest_helpers import fresh_nest, mantissa

DT = 0.1
PRE = [1.0, 3.0, 3.5, 8.0, 12.0, 12.3, 17.0, 22.0, 26.0]


def _net(api, synapse, syn, n=3):
    """spike_generator -> n parrots -> (one_to_one, ``synapse``) -> n iaf_psc_exp (with I_e so that
    they fire), voltmeter on the targets. ``api`` is NEST or a nestax Simulator."""
    is_nest = not isinstance(api, nx.Simulator)
    create = api.Create if is_nest else api.create
    g = create("spike_generator", params={"spike_times": PRE}) if is_nest else create(nx.spike_generator,
                                                                                       spike_times=PRE)
    par = create("parrot_neuron", n) if is_nest else create(nx.parrot_neuron, n)
    post_p = {"I_e": 372.0, "tau_minus": 15.0}
    post = create("iaf_psc_exp", n, params=post_p) if is_nest else create(nx.iaf_psc_exp, n, **post_p)
    vm = create("voltmeter", params={"interval": DT}) if is_nest else create(nx.voltmeter, interval=DT)
    if is_nest:
        api.Connect(g, par)
        api.Connect(par, post, "one_to_one", dict(synapse_model=synapse, **syn))
        api.Connect(vm, post)
    else:
        api.connect(g, par)
        api.connect(par, post, "one_to_one", synapse_model=synapse, **syn)
        api.connect(vm, post)
    return par, post, vm


def _nest_vm(nest, vm, post):
    ev = vm.events
    return np.stack([ev["V_m"][ev["senders"] == gid] for gid in post.tolist()], axis=1)


CASES = {
    # (NEST refuses delays outside the network's range once it has run; nestax lowers the network again)
    "static weights and delays": ("static_synapse", {"weight": 120.0, "delay": [0.5, 1.0, 3.3]},
                                  {"weight": [300.0, -200.0, 50.0], "delay": [2.0, 0.5, 3.3]}),
    "static weight, one value": ("static_synapse", {"weight": 120.0, "delay": 1.5}, {"weight": 480.0}),
    "stdp weight, parameters and trace": ("stdp_synapse", {"weight": 300.0, "delay": 1.0, "Wmax": 1000.0},
                                          {"weight": [500.0, 200.0, 350.0], "lambda": 0.2, "Wmax": [800.0, 900.0, 600.0],
                                           "Kplus": [0.5, 0.0, 2.0], "alpha": 1.5}),
    "tsodyks2 state and parameters": ("tsodyks2_synapse", {"weight": 600.0, "delay": 1.0, "U": 0.4},
                                      {"u": [0.9, 0.2, 0.5], "x": [0.3, 1.0, 0.6], "U": 0.7, "tau_rec": 200.0}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_set_between_runs_matches_nest(case):
    synapse, syn, new = CASES[case]
    nest = fresh_nest(DT)
    npar, npost, nvm = _net(nest, synapse, syn)
    nest.Simulate(10.0)
    conns = nest.GetConnections(npar, npost)
    order = np.argsort(np.asarray(conns.source))  # per-connection values in source order
    vals = {k: (list(np.asarray(v)[np.argsort(order)]) if isinstance(v, list) else v) for k, v in new.items()}
    conns.set(**vals)
    nest.Simulate(20.0)
    v_nest = _nest_vm(nest, nvm, npost)
    w_nest = np.asarray(nest.GetConnections(npar, npost).weight)[np.argsort(np.asarray(conns.source))]

    sim = nx.Simulator(dt=DT)
    par, post, vm = _net(sim, synapse, syn)
    r1 = sim.simulate(10.0)
    c = sim.connections(par, post)
    assert list(c.sources) == sorted(c.sources)
    c.set(**new)
    for k, v in new.items():  # the collection shows the new values
        got = c.get(k)
        np.testing.assert_allclose(np.asarray(getattr(got, "mantissa", got)), np.broadcast_to(v, (3,)))
    r2 = sim.simulate(20.0)
    v_nx = np.concatenate([mantissa(r1.trace(vm, "V_m"), u.mV), mantissa(r2.trace(vm, "V_m"), u.mV)])
    # NEST holds back the last min_delay of samples until a next Simulate call: compare what it reports
    assert len(v_nest) >= len(v_nx) - 10
    np.testing.assert_allclose(v_nx[:len(v_nest)], v_nest, rtol=0, atol=1e-9)
    np.testing.assert_allclose(sim.connections(par, post).weights, w_nest, rtol=1e-12, atol=1e-9)


def test_set_with_quantities_and_reset_keeps_static_weight():
    sim = nx.Simulator(dt=DT)
    par, post, vm = _net(sim, "static_synapse", {"weight": 120.0})
    first = sim.simulate(30.0)
    c = sim.connections(par, post)
    c.set(weight=0.3 * u.nA)
    assert np.allclose(mantissa(c.get("weight"), u.pA), 300.0)
    sim.reset()
    again = sim.simulate(30.0)
    assert np.allclose(sim.connections(par, post).weights, 300.0)
    v1, v2 = mantissa(first.trace(vm, "V_m"), u.mV), mantissa(again.trace(vm, "V_m"), u.mV)
    assert v2.max() > v1.max() or not np.allclose(v1, v2)  # the stronger weight acts after the reset


def _snapshot(sim, par, post):
    c = sim.connections(par, post)
    return {k: np.asarray(getattr(c.get(k), "mantissa", c.get(k))).copy()
            for k in ("weight", "delay", "Wmax", "lambda", "Kplus")}


@pytest.mark.parametrize("bad, err, match", [
    ({"weight": [100.0, 200.0, 300.0], "Wmax": -5.0}, BadParameterError, "same sign"),
    ({"weight": [1.0, 2.0]}, BadParameterError, "one per connection \\(3\\)"),
    ({"lamda": 0.1}, UnknownParameterError, "Did you mean 'lambda'"),
    ({"weight": 5.0, "receptor_type": 1}, BadParameterError, "cannot set 'receptor_type'"),
    ({"source": 1}, BadParameterError, "cannot set 'source'"),
    ({"delay": 0.01}, BadParameterError, "delay = 0.01 ms is invalid"),
    ({"weight": float("nan")}, BadParameterError, "finite"),
    ({"weight": 2.0 * u.mV}, nx.UnitError, "pA"),
    ({"_t_last": 3}, UnknownParameterError, "unknown parameter '_t_last'"),
    ({"tau_plus": -1.0}, BadParameterError, "tau_plus"),
])
def test_failed_set_changes_nothing(bad, err, match):
    sim = nx.Simulator(dt=DT)
    par, post, vm = _net(sim, "stdp_synapse", {"weight": 300.0, "Wmax": 1000.0})
    sim.simulate(10.0)
    before = _snapshot(sim, par, post)
    with pytest.raises(err, match=match):
        sim.connections(par, post).set(**bad)
    after = _snapshot(sim, par, post)
    for k in before:
        np.testing.assert_array_equal(after[k], before[k])


def test_hom_parameter_refused_and_foreign_collection():
    sim = nx.Simulator(dt=DT)
    par, post, _ = _net(sim, "stdp_synapse_hom", {"weight": 300.0})
    with pytest.raises(BadParameterError, match="one value for all connections"):
        sim.connections(par, post).set(lambda_=0.5)
    other = nx.Simulator(dt=DT)
    with pytest.raises(nx.ForeignNodesError):
        other._set_connections(sim.connections(par, post), {"weight": 1.0})


def test_state_given_at_connect_is_shown_before_any_spike():
    """Regression: a plastic synapse's state given at connect time (tsodyks2's u and x) is what
    connections().get shows, and set changes it, before the connection ever transmitted."""
    sim = nx.Simulator(dt=DT)
    a = sim.create(nx.parrot_neuron, 2)
    b = sim.create(nx.iaf_psc_exp, 2)
    sim.connect(a, b, "one_to_one", synapse_model="tsodyks2_synapse", u=[0.3, 0.7], x=0.4)
    c = sim.connections(a, b)
    np.testing.assert_allclose(c.get("u"), [0.3, 0.7])
    np.testing.assert_allclose(c.get("x"), [0.4, 0.4])
    c.set(x=[0.9, 0.1])
    sim.simulate(5.0)  # silent sources: nothing changes the state
    c = sim.connections(a, b)
    np.testing.assert_allclose(c.get("x"), [0.9, 0.1])
    np.testing.assert_allclose(c.get("u"), [0.3, 0.7])
