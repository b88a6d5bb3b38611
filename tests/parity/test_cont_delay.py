"""cont_delay_synapse against NEST 3.10: delays between grid points set on existing connections
arrive ceil(d / h) steps later at grid neurons and read back as set; connect-time delays round as
static_synapse's do."""
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

DT = 0.1
DELAYS = [1.0, 1.23, 1.25, 1.27, 0.15, 2.0001, 0.1]


def _nest(set_delays):
    nest = fresh_nest(DT)
    n = len(set_delays)
    g = nest.Create("spike_generator", params={"spike_times": [1.0, 3.3, 7.0]})
    p = nest.Create("parrot_neuron")
    q = nest.Create("parrot_neuron", n)
    v = nest.Create("iaf_psc_delta", n, params={"V_th": -69.5})
    sr = nest.Create("spike_recorder")
    nest.Connect(g, p)
    nest.Connect(p, q + v, "all_to_all", {"synapse_model": "cont_delay_synapse", "weight": 5.0})
    conns = nest.GetConnections(p, q + v)
    order = np.argsort(np.asarray(conns.target))
    conns.set(delay=list(np.asarray(list(set_delays) * 2)[np.argsort(order)]))
    nest.Connect(q + v, sr)
    nest.Simulate(12.0)
    ev = sr.events
    tgt = np.asarray(nest.GetConnections(p, q + v).target)
    return ({int(s): list(np.round(ev["times"][ev["senders"] == s], 4)) for s in (q + v).tolist()},
            np.asarray(nest.GetConnections(p, q + v).delay)[np.argsort(tgt)])


def _nx(set_delays, connect_delay=1.0):
    sim = nx.Simulator(dt=DT)
    n = 1 if set_delays is None else len(set_delays)
    g = sim.create(nx.spike_generator, spike_times=[1.0, 3.3, 7.0])
    p = sim.create(nx.parrot_neuron)
    q = sim.create(nx.parrot_neuron, n)
    v = sim.create(nx.iaf_psc_delta, n, V_th=-69.5)
    sr = sim.create(nx.spike_recorder)
    sim.connect(g, p)
    sim.connect(p, q + v, "all_to_all", synapse_model="cont_delay_synapse", weight=5.0, delay=connect_delay)
    if set_delays is not None:
        sim.connections(p, q + v).set(delay=list(set_delays) * 2)
    sim.connect(q + v, sr)
    ev = sim.simulate(12.0).events(sr)
    t = mantissa(ev["times"])
    return ({int(s): list(np.round(t[ev["senders"] == s], 4)) for s in (q + v).tolist()},
            mantissa(sim.connections(p, q + v).get("delay")))


def test_set_delays_between_grid_points_match_nest():
    spikes_nest, d_nest = _nest(DELAYS)
    spikes_nx, d_nx = _nx(DELAYS)
    assert spikes_nx == spikes_nest
    np.testing.assert_allclose(d_nx, d_nest, rtol=0, atol=1e-12)
    vrecord("cont_delay_synapse", "delays set between grid points",
            float(np.max(np.abs(np.asarray(d_nx) - np.asarray(d_nest)))), 1e-12, "exact",
            "delay read back max abs dev (ms); spike times identical")
    assert 1.23 in np.round(d_nx, 6)  # reads back as set, not rounded


@pytest.mark.parametrize("d", [1.23, 1.25, 0.15])
def test_connect_time_delay_rounds_like_static(d):
    nest = fresh_nest(DT)
    g = nest.Create("spike_generator", params={"spike_times": [1.0, 3.3, 7.0]})
    p, q = nest.Create("parrot_neuron"), nest.Create("parrot_neuron")
    sr = nest.Create("spike_recorder")
    nest.Connect(g, p)
    nest.Connect(p, q, syn_spec={"synapse_model": "cont_delay_synapse", "delay": d})
    nest.Connect(q, sr)
    nest.Simulate(12.0)
    spikes_nx, d_nx = _nx(None, connect_delay=d)
    first_q = min(spikes_nx)  # the parrot target
    assert spikes_nx[first_q] == list(np.round(sr.events["times"], 4))
    np.testing.assert_allclose(d_nx[0], nest.GetConnections(p, q).delay, atol=1e-12)


def test_delay_below_resolution_refused_and_nothing_changes():
    sim = nx.Simulator(dt=DT)
    p, q = sim.create(nx.parrot_neuron), sim.create(nx.parrot_neuron, 2)
    sim.connect(p, q, synapse_model="cont_delay_synapse", delay=1.0)
    with pytest.raises(BadParameterError, match="delay = 0.05 ms is invalid"):
        sim.connections(p, q).set(delay=[1.5, 0.05])
    np.testing.assert_allclose(mantissa(sim.connections(p, q).get("delay")), [1.0, 1.0])
