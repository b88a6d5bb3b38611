"""Parity of the short-term plasticity synapses (tsodyks_synapse, tsodyks2_synapse) with NEST 3.10.

The standard experiment: spike_generator -> parrot_neuron -> (synapse) -> iaf_psc_exp, with a train
of presynaptic spikes at irregular intervals (some much closer than the time constants); the target's
V_m (every step) and spike times are compared sample by sample. Also a recurrent network of 50
iaf_psc_exp with tsodyks2 connections driven by I_e, and the connect-time errors.
"""
import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import NestaxError

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

DT = 0.1
TOL = 1e-9
PRE = [5.0, 7.0, 9.5, 10.0, 12.3, 30.0, 31.0, 33.3, 60.0, 61.5, 62.0, 100.0, 160.0, 161.2, 165.0,
       240.0, 241.0, 242.0, 243.0, 300.0]
T = 350.0
TARGET = dict(tau_syn_ex=2.0, tau_syn_in=2.0, V_th=-64.0, t_ref=2.0, I_e=140.0)

CASES = {
    "tsodyks_synapse": [
        dict(weight=500.0),
        dict(weight=300.0, U=0.1, tau_fac=120.0, tau_rec=150.0, tau_psc=2.0, delay=1.5),
        dict(weight=-400.0, U=0.8, tau_fac=0.0, tau_rec=40.0, tau_psc=5.0, x=0.7, y=0.2, u=0.3, delay=2.0),
    ],
    "tsodyks2_synapse": [
        dict(weight=500.0),
        dict(weight=300.0, U=0.1, u=0.1, tau_fac=120.0, tau_rec=150.0, delay=1.5),
        dict(weight=-400.0, U=0.8, tau_fac=30.0, tau_rec=40.0, x=0.6, delay=2.0),
    ],
}


def run_nest(model, syn, pre_times=PRE):
    nest = fresh_nest(DT)
    sg = nest.Create("spike_generator", params={"spike_times": pre_times})
    pre = nest.Create("parrot_neuron")
    post = nest.Create("iaf_psc_exp", params=TARGET)
    nest.Connect(sg, pre, syn_spec={"delay": 1.0})
    nest.Connect(pre, post, syn_spec=dict(synapse_model=model, **syn))
    sr = nest.Create("spike_recorder")
    nest.Connect(post, sr)
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT})
    nest.Connect(mm, post)
    nest.Simulate(T)
    return np.sort(sr.events["times"]), np.asarray(mm.events["V_m"])


def run_nx(model, syn, windows=(T,)):
    sim = nx.Simulator(dt=DT)
    sg = sim.create(nx.spike_generator, spike_times=PRE)
    pre = sim.create(nx.parrot_neuron)
    post = sim.create(nx.iaf_psc_exp, **TARGET)
    sim.connect(sg, pre, delay=1.0)
    sim.connect(pre, post, syn_spec=dict(synapse_model=model, **syn))
    sr = sim.create(nx.spike_recorder)
    sim.connect(post, sr)
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=DT)
    sim.connect(mm, post)
    times, vm = [], []
    for i, w in enumerate(windows):
        if i == 2:  # a rebuild of the run state between windows
            sim.set(post, V_th=sim.get(post, "V_th"))
        r = sim.simulate(w)
        times.append(mantissa(r.events(sr)["times"], u.ms))
        vm.append(mantissa(r.events(mm)["V_m"], u.mV).reshape(-1))
    c = sim.connections(pre, post)
    assert c.synapse_models == [model]
    assert float(np.asarray(u.get_mantissa(c.weights))[0]) == syn["weight"]  # the user's weight is kept
    return np.sort(np.concatenate(times)), np.concatenate(vm)


def _compare(n, x):
    st_n, vm_n = n
    st_x, vm_x = x
    m = min(len(vm_x), len(vm_n))  # NEST holds back the last min_delay of samples
    assert m > len(vm_x) - 25
    dev = float(np.max(np.abs(vm_x[:m] - vm_n[:m])))
    np.testing.assert_allclose(vm_x[:m], vm_n[:m], rtol=0, atol=TOL)
    np.testing.assert_allclose(st_x, st_n, atol=1e-9)
    return dev


@pytest.mark.parametrize("delivery", ["dense", "event"])
@pytest.mark.parametrize("case", [0, 1, 2])
@pytest.mark.parametrize("model", sorted(CASES))
def test_single_synapse(model, case, delivery, monkeypatch):
    if delivery == "event":
        from nestax.engine import delivery as dl
        monkeypatch.setattr(dl, "EVENT_MIN_SYNAPSES", 1)
    syn = CASES[model][case]
    n = run_nest(model, syn)
    assert np.ptp(n[1]) > 0.5  # the synapse does drive the target
    dev = _compare(n, run_nx(model, syn))
    dev2 = _compare(n, run_nx(model, syn, windows=(61.0, 39.0, 100.0, 150.0)))
    vrecord(model, "", max(dev, dev2), TOL, "exact", "postsynaptic V_m max abs dev (mV), one run and split")
    print(f"{model} case {case} {delivery}: max |dV_m| = {max(dev, dev2):.3g} mV, spikes {len(n[0])}")


def test_depression_visible():
    """With defaults the delivered weight halves-and-recovers as NEST's: first PSP from w * U."""
    n = run_nest("tsodyks_synapse", dict(weight=250.0))
    n2 = run_nest("static_synapse", dict(weight=125.0))
    # the first PSP (before the second spike at 7 ms + 1 ms delay) equals a static synapse of w * U
    k = int(round((7.0 + 1.0) / DT))
    np.testing.assert_allclose(n[1][:k], n2[1][:k], atol=1e-12)


def _network(nest_side, model, n=50, indeg=6, T_net=300.0):
    rng = np.random.default_rng(11)
    srcs = [np.sort(rng.choice([j for j in range(n) if j != i], indeg, replace=False)) for i in range(n)]
    ie = np.linspace(380.0, 480.0, n)
    syn = dict(weight=120.0, delay=1.5, U=0.3, u=0.3, tau_rec=100.0, tau_fac=50.0)
    if nest_side:
        nest = fresh_nest(DT)
        pop = nest.Create("iaf_psc_exp", n, params={"I_e": ie})
        for i in range(n):
            nest.Connect(pop[srcs[i].tolist()], pop[i], syn_spec=dict(synapse_model=model, **syn))
        sr = nest.Create("spike_recorder")
        nest.Connect(pop, sr)
        nest.Simulate(T_net)
        ev = sr.events
        g0 = pop.tolist()[0]
        s, t = np.asarray(ev["senders"]) - g0, np.asarray(ev["times"])
    else:
        sim = nx.Simulator(dt=DT)
        pop = sim.create(nx.iaf_psc_exp, n, I_e=ie)
        for i in range(n):
            sim.connect(pop[srcs[i]], pop[i:i + 1], syn_spec=dict(synapse_model=model, **syn))
        sr = sim.create(nx.spike_recorder)
        sim.connect(pop, sr)
        ev = sim.simulate(T_net).events(sr)
        g0 = pop.tolist()[0]
        s, t = np.asarray(ev["senders"]) - g0, mantissa(ev["times"], u.ms)
    o = np.lexsort((t, s))
    return s[o], t[o]


@pytest.mark.parametrize("delivery", ["dense", "event"])
@pytest.mark.parametrize("model", ["tsodyks2_synapse", "tsodyks_synapse"])
def test_recurrent_network(model, delivery, monkeypatch):
    if delivery == "event":
        from nestax.engine import delivery as dl
        monkeypatch.setattr(dl, "EVENT_MIN_SYNAPSES", 1)
    sn, tn = _network(True, model)
    sx, tx = _network(False, model)
    assert len(sn) > 200
    np.testing.assert_array_equal(sx, sn)
    np.testing.assert_allclose(tx, tn, atol=1e-9)
    vrecord(model, "", float(np.max(np.abs(tx - tn))), 1e-9, "exact", f"spike time max abs dev (ms), {len(sn)} spikes")
    print(f"{model} network {delivery}: {len(sn)} spikes, max |dt| = {np.max(np.abs(tx - tn)):.3g} ms")


def _pair():
    sim = nx.Simulator(dt=DT)
    return sim, sim.create(nx.parrot_neuron), sim.create(nx.iaf_psc_exp)


@pytest.mark.parametrize("model,bad,match", [
    ("tsodyks_synapse", dict(U=1.5), "'U'"),
    ("tsodyks_synapse", dict(U=-0.1), "'U'"),
    ("tsodyks_synapse", dict(tau_psc=0.0), "'tau_psc'"),
    ("tsodyks_synapse", dict(tau_rec=-1.0), "'tau_rec'"),
    ("tsodyks_synapse", dict(tau_fac=-1.0), "'tau_fac'"),
    ("tsodyks_synapse", dict(u=2.0), "'u'"),
    ("tsodyks_synapse", dict(x=0.8, y=0.3), "x \\+ y"),
    ("tsodyks2_synapse", dict(U=1.01), "'U'"),
    ("tsodyks2_synapse", dict(u=-0.5), "'u'"),
    ("tsodyks2_synapse", dict(tau_rec=0.0), "'tau_rec'"),
    ("tsodyks2_synapse", dict(tau_fac=-2.0), "'tau_fac'"),
])
def test_invalid_values_refused(model, bad, match):
    nest = fresh_nest(DT)
    a, b = nest.Create("parrot_neuron"), nest.Create("iaf_psc_exp")
    with pytest.raises(Exception):
        nest.Connect(a, b, syn_spec=dict(synapse_model=model, **bad))
    sim, a, b = _pair()
    with pytest.raises(nx.BadParameterError, match=match):
        sim.connect(a, b, syn_spec=dict(synapse_model=model, **bad))
    # a per-connection array with one bad entry is refused too
    name, val = next(iter(bad.items()))
    good = 0.5 if name == "x" else 0.1
    sim2 = nx.Simulator(dt=DT)
    a2, b2 = sim2.create(nx.parrot_neuron, 2), sim2.create(nx.iaf_psc_exp, 2)
    sim2.connect(a2, b2, rule="one_to_one", syn_spec=dict(synapse_model=model, **{**bad, name: np.array([good, good])}))
    with pytest.raises(nx.BadParameterError, match=match):
        sim2.connect(a2, b2, rule="one_to_one", syn_spec=dict(synapse_model=model, **{**bad, name: np.array([good, val])}))


@pytest.mark.parametrize("model", ["tsodyks_synapse", "tsodyks2_synapse"])
def test_unknown_parameter(model):
    names = ["tau_fak"] + (["y", "tau_psc"] if model == "tsodyks2_synapse" else [])  # tsodyks2 has neither
    nest = fresh_nest(DT)
    a, b = nest.Create("parrot_neuron"), nest.Create("iaf_psc_exp")
    sim, ax, bx = _pair()
    for name in names:
        with pytest.raises(Exception):
            nest.Connect(a, b, syn_spec=dict(synapse_model=model, **{name: 0.1}))
        with pytest.raises(NestaxError, match=f"unknown parameter '{name}'"):
            sim.connect(ax, bx, syn_spec=dict(synapse_model=model, **{name: 0.1}))


def test_defaults_match_nest():
    nest = fresh_nest(DT)
    for model in CASES:
        d = nest.GetDefaults(model)
        cls = getattr(nx, model)
        for name, spec in cls.parameters.items():
            assert d[name] == spec.default, (model, name)


@pytest.mark.parametrize("delivery", ["dense", "event"])
@pytest.mark.parametrize("case", [1, 2])
@pytest.mark.parametrize("model", sorted(CASES))
def test_multiplicity_and_reset(model, case, delivery, monkeypatch):
    """A parrot spike of multiplicity m (repeated generator times): NEST unrolls it into m
    transmissions through the synapse at the same time (h = 0 for the repeats), each delivered.
    reset() restarts the synapse state from its initial values."""
    if delivery == "event":
        from nestax.engine import delivery as dl
        monkeypatch.setattr(dl, "EVENT_MIN_SYNAPSES", 1)
    pre_times = [10.0, 10.0, 12.0, 20.0, 20.0, 20.0, 21.0, 35.0, 80.0, 80.0]
    syn = CASES[model][case]
    n = run_nest(model, syn, pre_times)
    sim = nx.Simulator(dt=DT)
    sg = sim.create(nx.spike_generator, spike_times=pre_times)
    pre = sim.create(nx.parrot_neuron)
    post = sim.create(nx.iaf_psc_exp, **TARGET)
    sim.connect(sg, pre, delay=1.0)
    sim.connect(pre, post, syn_spec=dict(synapse_model=model, **syn))
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=DT)
    sim.connect(mm, post)
    vm1 = mantissa(sim.simulate(T).events(mm)["V_m"], u.mV).reshape(-1)
    sim.reset()
    vm2 = mantissa(sim.simulate(T).events(mm)["V_m"], u.mV).reshape(-1)
    m = min(len(vm1), len(n[1]))
    print(f"{model} multiplicity case {case} {delivery}: max |dV_m| = {np.max(np.abs(vm1[:m] - n[1][:m])):.3g} mV")
    np.testing.assert_allclose(vm1[:m], n[1][:m], rtol=0, atol=TOL)
    vrecord(model, "", float(np.max(np.abs(vm1[:m] - n[1][:m]))), TOL, "exact", "postsynaptic V_m max abs dev (mV)")
    np.testing.assert_array_equal(vm2, vm1)
