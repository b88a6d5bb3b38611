"""copy_model / set_defaults / get_defaults (NEST's CopyModel, SetDefaults, GetDefaults) against
NEST 3.10: copies with new defaults, the shared parameters of _hom synapses set the NEST way (also
after connections exist), a weight_recorder attached through a copied synapse model; bad input."""
import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError, UnknownModelError, UnknownParameterError

from .nest_helpers import fresh_nest, mantissa

DT = 0.1
PRE = [[2.0, 9.0, 15.0, 22.0, 30.0], [4.0, 9.5, 18.0, 25.0, 31.0]]
PL = {"alpha": 0.8, "lambda": 0.2, "tau_plus": 15.0, "mu": 0.3}


def _nest_net(late_lambda=None):
    nest = fresh_nest(DT)
    nest.CopyModel("iaf_psc_alpha", "exc", {"I_e": 376.0, "tau_m": 12.0})
    wr = nest.Create("weight_recorder")
    nest.SetDefaults("stdp_pl_synapse_hom", PL)
    nest.CopyModel("stdp_pl_synapse_hom", "pl_rec", {"weight_recorder": wr})
    g = nest.Create("spike_generator", 2, params=[{"spike_times": t} for t in PRE])
    p = nest.Create("parrot_neuron", 2)
    q = nest.Create("exc", 2)
    mm = nest.Create("voltmeter", params={"interval": DT})
    nest.Connect(g, p, "one_to_one")
    nest.Connect(p, q, "all_to_all", {"synapse_model": "pl_rec", "weight": 60.0, "delay": 1.5})
    nest.Connect(mm, q)
    nest.Simulate(20.0)
    if late_lambda is not None:
        nest.SetDefaults("pl_rec", {"lambda": late_lambda})
    nest.Simulate(20.0)
    ev = mm.events
    v = np.stack([ev["V_m"][ev["senders"] == s] for s in q.tolist()], axis=1)
    tgt = np.asarray(nest.GetConnections(p, q).target)
    src = np.asarray(nest.GetConnections(p, q).source)
    w = np.asarray(nest.GetConnections(p, q).weight)[np.lexsort((tgt, src))]
    return v, w, wr.events


def _nx_net(late_lambda=None):
    sim = nx.Simulator(dt=DT)
    sim.copy_model("iaf_psc_alpha", "exc", {"I_e": 376.0 * u.pA, "tau_m": 12.0})
    wr = sim.create(nx.weight_recorder)
    sim.set_defaults("stdp_pl_synapse_hom", PL)
    sim.copy_model("stdp_pl_synapse_hom", "pl_rec", weight_recorder=wr)
    g = sim.create(nx.spike_generator, 2, params=[{"spike_times": t} for t in PRE])
    p = sim.create(nx.parrot_neuron, 2)
    q = sim.create("exc", 2)
    mm = sim.create(nx.voltmeter, interval=DT)
    sim.connect(g, p, "one_to_one")
    sim.connect(p, q, "all_to_all", synapse_model="pl_rec", weight=60.0, delay=1.5)
    sim.connect(mm, q)
    r1 = sim.simulate(20.0)
    if late_lambda is not None:
        sim.set_defaults("pl_rec", {"lambda": late_lambda})
    r2 = sim.simulate(20.0)
    v = np.concatenate([mantissa(r.trace(mm, "V_m"), u.mV) for r in (r1, r2)])
    c = sim.connections(p, q)
    w = np.asarray(c.weights)[np.lexsort((c.targets, c.sources))]
    ev = {k: np.concatenate([np.asarray(mantissa(r.events(wr)[k])) for r in (r1, r2)]) for k in ("times", "weights")}
    return v, w, ev, sim, q


@pytest.mark.parametrize("late_lambda", [None, 0.05])
def test_copies_and_defaults_match_nest(late_lambda):
    v_nest, w_nest, ev_nest = _nest_net(late_lambda)
    v_nx, w_nx, ev_nx, sim, q = _nx_net(late_lambda)
    np.testing.assert_allclose(v_nx[:len(v_nest)], v_nest, rtol=0, atol=1e-9)
    np.testing.assert_allclose(w_nx, w_nest, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(np.sort(ev_nx["weights"]), np.sort(ev_nest["weights"]), rtol=1e-12, atol=1e-9)
    assert len(ev_nx["times"]) == len(ev_nest["times"]) > 0
    assert q.model == "exc" and float(np.ravel(mantissa(sim.get(q, "tau_m")))[0]) == 12.0
    d = sim.get_defaults("pl_rec")
    assert d["lambda"] == (late_lambda if late_lambda is not None else PL["lambda"])
    assert d["weight_recorder"].model == "weight_recorder"


def test_defaults_belong_to_one_simulator():
    a, b = nx.Simulator(dt=DT), nx.Simulator(dt=DT)
    a.set_defaults(nx.iaf_psc_exp, I_e=100.0)
    a.copy_model("iaf_psc_exp", "mine", tau_m=7.0)
    assert float(mantissa(a.get_defaults("iaf_psc_exp")["I_e"])) == 100.0
    assert float(mantissa(b.get_defaults("iaf_psc_exp")["I_e"])) == 0.0
    assert float(np.ravel(mantissa(a.get(a.create(nx.iaf_psc_exp), "I_e")))[0]) == 100.0  # by class too
    with pytest.raises(UnknownModelError, match="mine"):
        b.create("mine")


@pytest.mark.parametrize("call, args, err, match", [
    ("set_defaults", ("iaf_psc_alpha", {"tau_m": -1.0}), BadParameterError, "tau_m' = -1.0 ms is invalid"),
    ("set_defaults", ("iaf_psc_alpha", {"taum": 3.0}), UnknownParameterError, "Did you mean 'tau_m'"),
    ("set_defaults", ("iaf_psc_alpha", {"V_m": -60.0}), BadParameterError, "state variable"),
    ("set_defaults", ("stdp_synapse", {"delay": 0.01}), BadParameterError, "delay = 0.01 ms is invalid"),
    ("copy_model", ("iaf_psc_alpha", "iaf_psc_exp"), BadParameterError, "exists already"),
    ("copy_model", ("iaf_psc_alpha", "bad name"), BadParameterError, "new_name"),
    ("copy_model", ("no_such_model", "x"), UnknownModelError, "no_such_model"),
])
def test_bad_defaults_refused_and_nothing_changes(call, args, err, match):
    sim = nx.Simulator(dt=DT)
    before = {k: sim.get_defaults("iaf_psc_alpha")[k] for k in ("tau_m", "I_e")}
    with pytest.raises(err, match=match):
        getattr(sim, call)(*args)
    after = sim.get_defaults("iaf_psc_alpha")
    assert all(np.all(after[k] == v) for k, v in before.items())
    assert sim._net.local_models == {}
