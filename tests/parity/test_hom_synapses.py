"""NEST's _hom synapses (one value of some parameters for all connections of the model) against NEST 3.10.

NEST sets the shared values with SetDefaults and refuses them in Connect; nestax, which has no
SetDefaults yet, takes them from the first connect call and refuses a different value later, or
per-connection values. The dynamics are those of the non-hom model.
"""
import brainunit as u
import numpy as np
import pytest

import nestax as nx

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

DT = 0.1
PRE = [2.0, 4.0, 4.5, 9.0, 15.0, 15.5, 16.0, 30.0]
POST_DRIVE = [6.0, 20.0, 33.0]


def _run_nest(model, shared, per_conn, target="iaf_psc_alpha", T=45.0):
    nest = fresh_nest(DT)
    nest.SetDefaults(model, shared)
    sg = nest.Create("spike_generator", params={"spike_times": PRE})
    pre = nest.Create("parrot_neuron")
    post = nest.Create(target, 2)
    nest.Connect(sg, pre, syn_spec={"delay": 1.0})
    drive = nest.Create("spike_generator", params={"spike_times": POST_DRIVE})
    nest.Connect(drive, post, syn_spec={"weight": 1500.0, "delay": 1.0})
    for i, d in enumerate((1.0, 2.3)):
        nest.Connect(pre, post[i], syn_spec={"synapse_model": model, "delay": d, **per_conn})
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT})
    nest.Connect(mm, post)
    nest.Simulate(T)
    ev = mm.events
    vm = np.stack([np.asarray(ev["V_m"])[ev["senders"] == g] for g in post.tolist()], axis=1)
    w = np.asarray(nest.GetConnections(pre, post).weight, float)
    return vm, w


def _run_nx(model, shared, per_conn, target="iaf_psc_alpha", T=45.0, split=False):
    sim = nx.Simulator(dt=DT)
    sg = sim.create(nx.spike_generator, spike_times=PRE)
    pre = sim.create(nx.parrot_neuron)
    post = sim.create(target, 2)
    sim.connect(sg, pre, delay=1.0)
    drive = sim.create(nx.spike_generator, spike_times=POST_DRIVE)
    sim.connect(drive, post, weight=1500.0, delay=1.0)
    for i, d in enumerate((1.0, 2.3)):
        sim.connect(pre, post[i], synapse_model=model, delay=d, **shared, **per_conn)
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=DT)
    sim.connect(mm, post)
    rs = [sim.simulate(T / 2), sim.simulate(T / 2)] if split else [sim.simulate(T)]
    vm = np.concatenate([mantissa(r.trace(mm, "V_m"), u.mV) for r in rs])
    w = np.asarray(sim.connections(pre, post).weights, float)
    return vm, w


CASES = {
    "static_synapse_hom_w": ({"weight": 250.0}, {}),
    "stdp_synapse_hom": ({"tau_plus": 15.0, "lambda": 0.05, "Wmax": 900.0, "mu_plus": 0.5}, {"weight": 400.0}),
    "tsodyks_synapse_hom": ({"weight": 600.0, "U": 0.3, "tau_fac": 50.0, "tau_rec": 200.0, "tau_psc": 2.0},
                            {"x": 0.9}),
}


@pytest.mark.parametrize("model", list(CASES))
@pytest.mark.parametrize("split", [False, True])
def test_hom_synapse_matches_nest(model, split):
    shared, per_conn = CASES[model]
    vm_n, w_n = _run_nest(model, shared, per_conn)
    vm_x, w_x = _run_nx(model, shared, per_conn, split=split)
    m = min(len(vm_n), len(vm_x))
    assert m > len(vm_x) - 20
    assert np.ptp(vm_n[:m]) > 1.0
    np.testing.assert_allclose(vm_x[:m], vm_n[:m], rtol=0, atol=1e-9)
    vrecord(model, "V_m", float(np.max(np.abs(vm_x[:m] - vm_n[:m]))), 1e-9, "exact",
            "postsynaptic V_m max abs dev (mV)")
    if len(w_n):  # NEST reports no per-connection weight for static_synapse_hom_w (it is a default)
        np.testing.assert_allclose(np.sort(w_x), np.sort(w_n), rtol=0, atol=1e-9)
        vrecord(model, "weight", float(np.max(np.abs(np.sort(w_x) - np.sort(w_n)))), 1e-9, "exact",
                "final weights max abs dev")
    else:
        np.testing.assert_array_equal(w_x, shared["weight"])
    if model == "stdp_synapse_hom":
        assert not np.allclose(w_n, 400.0)  # the weights did change


def test_hom_values_are_one_per_model():
    nest = fresh_nest(DT)
    a = nest.Create("iaf_psc_alpha", 2)
    with pytest.raises(Exception):  # NEST: the shared weight is set with SetDefaults only
        nest.Connect(a, a, syn_spec={"synapse_model": "static_synapse_hom_w", "weight": 3.0})

    sim = nx.Simulator(dt=DT)
    a = sim.create(nx.iaf_psc_alpha, 3)
    with pytest.raises(nx.BadParameterError, match="one value for all connections"):
        sim.connect(a, a, synapse_model="static_synapse_hom_w", weight=np.arange(9.0).reshape(3, 3))
    sim.connect(a[:1], a[1:], synapse_model="static_synapse_hom_w", weight=3.0)
    with pytest.raises(nx.BadParameterError, match="differs from 3.0"):
        sim.connect(a[1:2], a[2:], synapse_model="static_synapse_hom_w", weight=4.0)
    sim.connect(a[1:2], a[2:], synapse_model="static_synapse_hom_w", weight=3.0)
    assert np.all(np.asarray(sim.connections(synapse_model="static_synapse_hom_w").weights) == 3.0)
    p = sim.create(nx.parrot_neuron)
    sim.connect(p, a[:1], synapse_model="stdp_synapse_hom", weight=1.0, tau_plus=10.0)
    with pytest.raises(nx.BadParameterError, match="tau_plus = 12.0 differs"):
        sim.connect(p, a[1:2], synapse_model="stdp_synapse_hom", weight=5.0, tau_plus=12.0)
    sim.connect(p, a[1:2], synapse_model="stdp_synapse_hom", weight=5.0, tau_plus=10.0)  # weight per connection
