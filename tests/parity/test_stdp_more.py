"""Parity of stdp_triplet_synapse, jonke_synapse and stdp_facetshw_synapse_hom with NEST 3.10: final
weight, spikes and V_m.

The presynaptic neuron is a parrot driven by a spike_generator (parrot spike = generator time + 1 ms);
the postsynaptic neuron is an iaf_psc_delta forced to fire by a strong generator input (post spike =
drive time + 1 ms). tau_minus and tau_minus_triplet are parameters of the postsynaptic neuron.
"""
import brainunit as u
import numpy as np
import pytest

import nestax as nx

from . import test_stdp as stdp
from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

DT = 0.1
TOL = 1e-9
PRE = [10.0, 20.0, 30.0, 40.5, 50.0, 70.0, 71.0, 90.0]
MAXDEV = {}

HOM = {"jonke_synapse": ("alpha", "beta", "lambda", "mu_plus", "mu_minus", "tau_plus", "Wmax"),
       "stdp_facetshw_synapse_hom": ("tau_plus", "tau_minus_stdp", "Wmax", "synapses_per_driver",
                                     "driver_readout_time")}


def _r(x):
    return [round(float(v), 1) for v in x]


def _post_for(d):
    # post spikes exactly at t_pre - d for the first four pre spikes (simultaneous at the synapse), others
    # in between: several post spikes between two pre spikes, several within one window
    return sorted(set(_r([p - d for p in PRE[:4]] + [15.0, 25.0, 26.0, 33.3, 45.0, 60.0, 69.5, 85.0])))


def _post_params(tmt):
    return dict(t_ref=0.5, tau_minus_triplet=tmt)


def run_nest(model, pre_t, post_t, d, syn, T, w0, tm=20.0, tmt=110.0):
    return stdp.run_nest(pre_t, post_t, d, syn, "iaf_psc_delta", _post_params(tmt), T, w0, tm,
                         synapse_model=model, shared=HOM.get(model, ()))


def run_nx(model, pre_t, post_t, d, syn, T, w0, tm=20.0, tmt=110.0, split=False, history=None):
    return stdp.run_nx(pre_t, post_t, d, syn, "iaf_psc_delta", _post_params(tmt), T, w0, tm, split=split,
                       history=history, synapse_model=model)


def _compare(model, n, x, changed=True):
    w_n, post_n, pre_n, vm_n = n
    w_x, post_x, pre_x, vm_x = x
    np.testing.assert_allclose(pre_x, pre_n, atol=1e-9)
    np.testing.assert_allclose(post_x, post_n, atol=1e-9)
    m = min(len(vm_x), len(vm_n))
    assert m > len(vm_x) - 20
    np.testing.assert_allclose(vm_x[:m], vm_n[:m], rtol=0, atol=TOL)
    dev = abs(w_x - w_n)
    MAXDEV[model] = max(MAXDEV.get(model, 0.0), dev / max(1.0, abs(w_n)))
    print(f"{model}: w_nest={w_n!r} w_nx={w_x!r} |dw|={dev:.3g} max rel dev so far {MAXDEV[model]:.3g}")
    assert dev <= TOL * max(1.0, abs(w_n)), (w_x, w_n)
    vrecord(model, "weight", dev, TOL * max(1.0, abs(w_n)), "exact", "final weight abs dev")
    vrecord(model, "V_m", float(np.max(np.abs(vm_x[:m] - vm_n[:m]))), TOL, "exact", "postsynaptic V_m max abs dev (mV)")


# case -> (model, synapse parameters, initial weight, tau_minus, tau_minus_triplet of the target)
CASES = {
    "triplet": ("stdp_triplet_synapse", {"tau_plus": 16.8, "tau_plus_triplet": 70.0, "Aplus": 0.05, "Aminus": 0.06,
                                         "Aplus_triplet": 0.04, "Aminus_triplet": 0.02, "Wmax": 5.0}, 1.0, 33.7, 95.0),
    "triplet_inh": ("stdp_triplet_synapse", {"tau_plus": 16.8, "tau_plus_triplet": 70.0, "Aplus": 0.05,
                                             "Aminus": 0.06, "Aplus_triplet": 0.04, "Aminus_triplet": 0.02,
                                             "Wmax": -5.0}, -1.0, 33.7, 95.0),
    "triplet_defaults": ("stdp_triplet_synapse", {}, 1.0, 20.0, 110.0),
    "jonke": ("jonke_synapse", {"alpha": 1.3, "beta": 0.01, "lambda": 0.05, "mu_plus": 0.3, "mu_minus": 0.2,
                                "tau_plus": 16.8, "Wmax": 5.0}, 1.0, 33.7, 110.0),
    "jonke_defaults": ("jonke_synapse", {}, 1.0, 20.0, 110.0),
}


@pytest.mark.parametrize("d", [1.0, 1.5, 3.0])
@pytest.mark.parametrize("case", list(CASES))
def test_pair_patterns(case, d):
    model, syn, w0, tm, tmt = CASES[case]
    args = (model, PRE, _post_for(d), d, syn, 120.0, w0, tm, tmt)
    n = run_nest(*args)
    assert set(_r(np.asarray(PRE[:4]) - d)) <= set(_r(n[1]))  # the coincidences happen in NEST
    assert abs(n[0] - w0) > 1e-6  # the weight did change
    _compare(model, n, run_nx(*args))


@pytest.mark.parametrize("case", ["triplet", "jonke"])
def test_bursts_split_and_event_delivery(case, monkeypatch):
    """Bursts (several pre spikes with no post spike between and vice versa), a run split in two with a
    rebuild in between, and the event-driven delivery path (forced here; used above 20,000 synapses)."""
    model, syn, w0, tm, tmt = CASES[case]
    pre = [5.0, 6.0, 7.5, 30.0, 31.0, 55.0, 56.2, 57.0, 80.0]
    post = [8.0, 12.0, 13.0, 14.0, 29.0, 40.0, 41.0, 42.5, 58.0, 79.0, 81.0]
    args = (model, pre, post, 1.0, syn, 100.0, w0, tm, tmt)
    n = run_nest(*args)
    _compare(model, n, run_nx(*args))
    _compare(model, n, run_nx(*args, split=True))
    from nestax.engine import delivery as dl
    monkeypatch.setattr(dl, "EVENT_MIN_SYNAPSES", 1)
    _compare(model, n, run_nx(*args))


def test_clipping():
    """Facilitation runs into Wmax (|Wmax| for an inhibitory triplet synapse), depression into 0."""
    pre, post = [10.0, 12.0, 14.0, 16.0, 18.0, 20.0], [11.0, 13.0, 15.0, 17.0, 19.0]
    pre2, post2 = [12.0, 14.0, 16.0, 18.0, 20.0], [10.0, 12.5, 14.5, 16.5]
    trip_up = {"Aplus": 0.5, "Aplus_triplet": 0.3, "Aminus": 0.0, "Aminus_triplet": 0.0, "Wmax": 1.2}
    trip_down = {"Aplus": 0.0, "Aplus_triplet": 0.0, "Aminus": 0.5, "Aminus_triplet": 0.5, "Wmax": 2.0}
    for model, syn, w0, want, p, q in (
            ("stdp_triplet_synapse", trip_up, 1.0, 1.2, pre, post),
            ("stdp_triplet_synapse", dict(trip_up, Wmax=-1.2), -1.0, -1.2, pre, post),
            ("stdp_triplet_synapse", trip_down, 1.0, 0.0, pre2, post2),
            ("jonke_synapse", {"lambda": 0.3, "alpha": 0.0, "Wmax": 1.2}, 1.0, 1.2, pre, post),
            ("jonke_synapse", {"lambda": 0.3, "alpha": 3.0, "Wmax": 2.0}, 1.0, 0.0, pre2, post2)):
        args = (model, p, q, 1.0, syn, 40.0, w0)
        n = run_nest(*args)
        assert n[0] == pytest.approx(want)
        _compare(model, n, run_nx(*args))


def test_jonke_lambda_zero_freezes_the_weight_and_beta_alone_depresses():
    pre, post = [10.0, 20.0, 30.0], [12.0, 22.0]
    args = ("jonke_synapse", pre, post, 1.0, {"lambda": 0.0, "beta": 0.5}, 40.0, 1.5)
    n = run_nest(*args)
    assert n[0] == 1.5
    _compare("jonke_synapse", n, run_nx(*args))
    # K_plus = 0 at the first pairing: only -lambda beta acts (also on the post spikes of the window)
    args = ("jonke_synapse", pre, post, 1.0, {"lambda": 0.1, "beta": 0.5, "alpha": 0.0}, 40.0, 1.5)
    n = run_nest(*args)
    _compare("jonke_synapse", n, run_nx(*args))


@pytest.mark.parametrize("case", ["triplet", "jonke"])
def test_history_overflow_is_reported(case):
    from nestax.errors import NestaxError
    model, syn, w0, tm, tmt = CASES[case]
    pre, post = [10.0, 40.0], _r(np.arange(12.0, 35.0, 1.0))  # 23 post spikes between two pre spikes
    args = (model, pre, post, 1.0, syn, 50.0, w0, tm, tmt)
    with pytest.raises(NestaxError, match="stdp_history"):
        run_nx(*args, history=16)
    _compare(model, run_nest(*args), run_nx(*args, history=32))


def _network(model, syn, nest_side, n=30, indeg=4, T=300.0):
    if model == "stdp_facetshw_synapse_hom":  # NEST's readout schedule of one driver: <= 50 synapses
        n = 12
    rng = np.random.default_rng(11)
    srcs = [rng.choice([j for j in range(n) if j != i], indeg, replace=False) for i in range(n)]
    ie = np.linspace(360.0, 460.0, n)
    shared = {k: v for k, v in syn.items() if k in HOM.get(model, ())}
    own = {k: v for k, v in syn.items() if k not in shared}
    neuron = {"tau_minus": 25.0, "tau_minus_triplet": 80.0}
    if nest_side:
        nest = fresh_nest(DT)
        if shared:
            nest.SetDefaults(model, shared)
        pop = nest.Create("iaf_psc_alpha", n, params=dict(I_e=ie, **neuron))
        for i in range(n):
            nest.Connect(pop[sorted(srcs[i].tolist())], pop[i], syn_spec=dict(synapse_model=model, **own))
        sr = nest.Create("spike_recorder")
        nest.Connect(pop, sr)
        nest.Simulate(T)
        c = nest.GetConnections(pop, pop)
        s, t, w = np.asarray(c.source), np.asarray(c.target), np.asarray(c.weight)
        ev = sr.events
        g0 = pop.tolist()[0]
        spikes = (np.asarray(ev["senders"]) - g0, np.asarray(ev["times"]))
    else:
        sim = nx.Simulator(dt=DT)
        pop = sim.create(nx.iaf_psc_alpha, n, I_e=ie, **neuron)
        for i in range(n):
            sim.connect(pop[np.array(sorted(srcs[i].tolist()))], pop[i:i + 1],
                        syn_spec=dict(synapse_model=model, **syn))
        sr = sim.create(nx.spike_recorder)
        sim.connect(pop, sr)
        ev = sim.simulate(T).events(sr)
        c = sim.connections(pop, pop)
        s, t, w = np.asarray(c.sources), np.asarray(c.targets), np.asarray(c.weights)
        g0 = pop.tolist()[0]
        spikes = (np.asarray(ev["senders"]) - g0, mantissa(ev["times"], u.ms))
    o = np.lexsort((t, s))
    so = np.lexsort((spikes[1], spikes[0]))
    return s[o] - g0, t[o] - g0, w[o], spikes[0][so], spikes[1][so]


NET = {
    "stdp_facetshw_synapse_hom": dict(weight=60.0, delay=1.5, tau_plus=15.0, tau_minus_stdp=25.0, Wmax=150.0,
                                      driver_readout_time=7.0, a_thresh_th=1.5, a_thresh_tl=1.2),
    "stdp_triplet_synapse": dict(weight=60.0, delay=1.5, tau_plus=15.0, tau_plus_triplet=60.0, Aplus=1.0,
                                 Aminus=1.2, Aplus_triplet=0.8, Aminus_triplet=0.2, Wmax=200.0),
    "jonke_synapse": dict(weight=60.0, delay=1.5, tau_plus=15.0, Wmax=200.0, mu_plus=0.005, mu_minus=0.004,
                          beta=0.05, alpha=1.2, **{"lambda": 2.0}),
}


@pytest.mark.parametrize("delivery", ["dense", "event"])
@pytest.mark.parametrize("model", list(NET))
def test_recurrent_network_weights(model, delivery, monkeypatch):
    """A closed loop of 30 iaf_psc_alpha neurons with plastic recurrent synapses: the same spikes and
    weights as NEST, with both plastic kernels (dense; event-driven forced)."""
    if delivery == "event":
        from nestax.engine import delivery as dl
        monkeypatch.setattr(dl, "EVENT_MIN_SYNAPSES", 1)
    sn, tn, wn, gn, stn = _network(model, NET[model], True)
    sx, tx, wx, gx, stx = _network(model, NET[model], False)
    np.testing.assert_array_equal(sx, sn)
    np.testing.assert_array_equal(tx, tn)
    np.testing.assert_array_equal(gx, gn)
    np.testing.assert_allclose(stx, stn, atol=1e-9)
    assert np.std(wn) > 1.0  # the weights did change
    # NEST applies the updates of the last presynaptic spikes before T only at the next min_delay slice:
    # compare the synapses whose source did not fire in the last 3 ms
    late = np.unique(gn[stn > 300.0 - 3.0])
    ok = ~np.isin(sn, late)
    assert ok.mean() > 0.4
    dev = np.abs(wx - wn)[ok].max()
    MAXDEV[model + " network"] = dev
    print(f"{model} network ({delivery}): max |w_nestax - w_NEST| = {dev:.3g} over {ok.sum()} synapses")
    np.testing.assert_allclose(wx[ok], wn[ok], rtol=TOL, atol=0)
    vrecord(model, "network weights", float(dev), TOL * float(np.max(np.abs(wn[ok]))), "exact",
            f"max abs weight dev over {int(ok.sum())} synapses")


def test_state_columns_match_nest():
    """Kplus and Kplus_triplet after a run, read with sim.connections(...).get(name), are NEST's."""
    pre, post = [5.0, 12.0, 14.0, 30.0, 31.5], [13.0, 20.0]
    for case, names in (("triplet", ("Kplus", "Kplus_triplet", "weight")), ("jonke", ("Kplus", "weight"))):
        model, syn, w0, tm, tmt = CASES[case]
        nest = fresh_nest(DT)
        shared = {k: v for k, v in syn.items() if k in HOM.get(model, ())}
        if shared:
            nest.SetDefaults(model, shared)
        sg = nest.Create("spike_generator", params={"spike_times": _r(np.asarray(pre) - 1.0)})
        sq = nest.Create("spike_generator", params={"spike_times": _r(np.asarray(post) - 1.0)})
        p_n = nest.Create("parrot_neuron")
        q_n = nest.Create("iaf_psc_delta", params=dict(_post_params(tmt), tau_minus=tm))
        nest.Connect(sg, p_n, syn_spec={"delay": 1.0})
        nest.Connect(sq, q_n, syn_spec={"weight": 1000.0, "delay": 1.0})
        nest.Connect(p_n, q_n, syn_spec=dict(synapse_model=model, weight=w0, delay=1.0,
                                             **{k: v for k, v in syn.items() if k not in shared}))
        nest.Simulate(40.0)
        cn = nest.GetConnections(p_n, q_n)

        sim = nx.Simulator(dt=DT)
        sg = sim.create(nx.spike_generator, spike_times=_r(np.asarray(pre) - 1.0))
        sq = sim.create(nx.spike_generator, spike_times=_r(np.asarray(post) - 1.0))
        p_x = sim.create(nx.parrot_neuron)
        q_x = sim.create(nx.iaf_psc_delta, **_post_params(tmt), tau_minus=tm)
        sim.connect(sg, p_x, delay=1.0)
        sim.connect(sq, q_x, weight=1000.0, delay=1.0)
        sim.connect(p_x, q_x, synapse_model=model, weight=w0, delay=1.0, **syn)
        sim.simulate(40.0)
        cx = sim.connections(p_x, q_x)
        for name in names:
            got = float(mantissa(cx.get(name), u.mV if name == "weight" else None)[0])
            want = float(np.atleast_1d(np.asarray(cn.get(name), float))[0])
            assert abs(got - want) < 1e-12, (model, name, got, want)
        assert float(mantissa(cx.get("Kplus"))[0]) > 0.5


def test_defaults_match_nest():
    nest = fresh_nest(DT)
    for model in ("stdp_triplet_synapse", "jonke_synapse"):
        dn = nest.GetDefaults(model)
        cls = getattr(nx, model)
        for name, p in cls.parameters.items():
            assert float(dn[name]) == float(p.default), (model, name)
        for name, st in cls.connection_state.items():
            if not name.startswith("_"):
                assert float(dn[name]) == float(st.init), (model, name)


def _nest_refuses(model, spec, defaults=None):
    nest = fresh_nest(DT)
    a = nest.Create("parrot_neuron")
    b = nest.Create("iaf_psc_delta")
    try:
        if defaults:
            nest.SetDefaults(model, defaults)
        nest.Connect(a, b, syn_spec=dict(synapse_model=model, **spec))
    except Exception:
        return True
    return False


def _nx_connect(model, spec):
    sim = nx.Simulator(dt=DT)
    a = sim.create(nx.parrot_neuron)
    b = sim.create(nx.iaf_psc_delta)
    sim.connect(a, b, synapse_model=model, **spec)


@pytest.mark.parametrize("spec,refused", [
    ({"weight": 1.0, "Wmax": -5.0}, True),
    ({"weight": -1.0, "Wmax": 5.0}, True),
    ({"weight": 0.0, "Wmax": -5.0}, True),   # NEST: a zero weight counts as positive
    ({"weight": -1.0, "Wmax": -5.0}, False),
    ({"weight": 0.0, "Wmax": 5.0}, False),
])
def test_triplet_weight_wmax_sign(spec, refused):
    assert _nest_refuses("stdp_triplet_synapse", spec) is refused
    if refused:
        with pytest.raises(nx.BadParameterError, match="stdp_triplet_synapse: weight and Wmax"):
            _nx_connect("stdp_triplet_synapse", spec)
    else:
        _nx_connect("stdp_triplet_synapse", spec)


@pytest.mark.parametrize("model,name", [("stdp_triplet_synapse", "tau_plus"),
                                        ("stdp_triplet_synapse", "tau_plus_triplet"),
                                        ("jonke_synapse", "tau_plus")])
@pytest.mark.parametrize("value", [0.0, -3.0])
def test_time_constants_must_be_positive(model, name, value):
    """nestax refuses a time constant <= 0 naming model, parameter, value and range (NEST does not check)."""
    with pytest.raises(nx.BadParameterError, match=rf"{model}: parameter '{name}' = {value} ms .*> 0 ms"):
        _nx_connect(model, {name: value})


def test_jonke_parameters_are_model_wide():
    """NEST keeps jonke_synapse's parameters in the model's common properties (SetDefaults only);
    nestax takes them from the first connect call and refuses other values later."""
    nest = fresh_nest(DT)
    a = nest.Create("parrot_neuron")
    b = nest.Create("iaf_psc_delta")
    with pytest.raises(Exception):
        nest.Connect(a, b, syn_spec={"synapse_model": "jonke_synapse", "lambda": 0.5})
    sim = nx.Simulator(dt=DT)
    a = sim.create(nx.parrot_neuron)
    b = sim.create(nx.iaf_psc_delta, 2)
    sim.connect(a, b[:1], synapse_model="jonke_synapse", weight=1.0, mu_plus=0.5)
    with pytest.raises(nx.BadParameterError, match="mu_plus = 0.3 differs"):
        sim.connect(a, b[1:], synapse_model="jonke_synapse", weight=1.0, mu_plus=0.3)


# ---------------------------------------------------------------------------- stdp_facetshw_synapse_hom
FACETS = "stdp_facetshw_synapse_hom"
FACETS_CASES = {
    # causal pairs first (the weight goes up through lookuptable_0), then acausal ones (down, lookuptable_1)
    "up_down": {"a_thresh_th": 1.5, "a_thresh_tl": 1.5, "Wmax": 3.0, "driver_readout_time": 7.0, "tau_plus": 15.0,
                "tau_minus_stdp": 25.0},
    # both evaluation bits (lookuptable_2), readouts every 15 ms
    "both": {"a_thresh_th": 2.0, "a_thresh_tl": 1.0, "Wmax": 3.0},
}


def _facets_spikes(d):
    pre = sorted(set(_r(list(np.arange(5.0, 200.0, 19.7)) + [21.0, 28.0, 35.0, 42.0])))
    post = [p + 2.0 for p in pre if p < 100.0] + [p - 2.0 for p in pre if p > 100.0]
    post += [p - d for p in pre[:4]]  # post spikes exactly at t_pre - d
    return pre, sorted(set(_r(post)))


@pytest.mark.parametrize("d", [1.0, 1.5, 3.0])
def test_facets_patterns(d):
    """Readouts with table lookups, capacitor resets, a pre spike exactly at a readout time (21, 28, 35
    and 42 ms with a 7 ms cycle: no readout), coincident pre and post spikes; weights compared at 130 ms
    and at the end."""
    pre, post = _facets_spikes(d)
    seen = set()
    for case, syn in FACETS_CASES.items():
        for T in (130.0, 210.0):
            args = (FACETS, pre, post, d, syn, T, 1.0)
            n = run_nest(*args)
            seen.add(round(n[0], 6))
            _compare(FACETS, n, run_nx(*args))
    assert len(seen) >= 3  # the weight took several table values


def test_facets_split_event_and_state_columns(monkeypatch):
    pre, post = _facets_spikes(1.5)
    syn = FACETS_CASES["up_down"]
    args = (FACETS, pre, post, 1.5, syn, 150.0, 1.0)
    n = run_nest(*args)
    _compare(FACETS, n, run_nx(*args, split=True))
    from nestax.engine import delivery as dl
    monkeypatch.setattr(dl, "EVENT_MIN_SYNAPSES", 1)
    _compare(FACETS, n, run_nx(*args))
    # the per-connection state by NEST's names
    shared = {k: v for k, v in syn.items() if k in HOM[FACETS]}
    own = {k: v for k, v in syn.items() if k not in shared}
    nest = fresh_nest(DT)
    nest.SetDefaults(FACETS, shared)
    sg = nest.Create("spike_generator", params={"spike_times": _r(np.asarray(pre) - 1.0)})
    sq = nest.Create("spike_generator", params={"spike_times": _r(np.asarray(post) - 1.0)})
    p_n, q_n = nest.Create("parrot_neuron"), nest.Create("iaf_psc_delta", params={"t_ref": 0.5})
    nest.Connect(sg, p_n, syn_spec={"delay": 1.0})
    nest.Connect(sq, q_n, syn_spec={"weight": 1000.0, "delay": 1.0})
    nest.Connect(p_n, q_n, syn_spec=dict(synapse_model=FACETS, weight=1.0, delay=1.5, **own))
    nest.Simulate(90.0)
    cn = nest.GetConnections(p_n, q_n)
    sim = nx.Simulator(dt=DT)
    sg = sim.create(nx.spike_generator, spike_times=_r(np.asarray(pre) - 1.0))
    sq = sim.create(nx.spike_generator, spike_times=_r(np.asarray(post) - 1.0))
    p_x, q_x = sim.create(nx.parrot_neuron), sim.create(nx.iaf_psc_delta, t_ref=0.5)
    sim.connect(sg, p_x, delay=1.0)
    sim.connect(sq, q_x, weight=1000.0, delay=1.0)
    sim.connect(p_x, q_x, synapse_model=FACETS, weight=1.0, delay=1.5, **syn)
    sim.simulate(90.0)
    cx = sim.connections(p_x, q_x)
    for name, unit in (("a_causal", None), ("a_acausal", None), ("next_readout_time", u.ms), ("weight", u.mV)):
        got = float(mantissa(cx.get(name), unit)[0])
        want = float(np.atleast_1d(np.asarray(cn.get(name), float))[0])
        assert abs(got - want) < 1e-12, (name, got, want)
    assert float(mantissa(cx.get("a_causal"))[0]) > 0.1


def test_facets_defaults_match_nest():
    dn = fresh_nest(DT).GetDefaults(FACETS)
    cls = nx.stdp_facetshw_synapse_hom
    for name, p in cls.parameters.items():
        assert float(dn[name]) == float(p.default), name
    for name, st in cls.connection_state.items():
        if not name.startswith("_"):
            assert float(dn[name]) == float(st.init), name
    from nestax.models.synapses import stdp_more
    for i in range(3):
        assert list(dn[f"lookuptable_{i}"]) == list(stdp_more._FACETS_LUT[i])
    assert [list(dn["configbit_0"]), list(dn["configbit_1"])] == [list(b) for b in stdp_more._FACETS_CONFIGBIT]
    assert list(dn["reset_pattern"]) == list(stdp_more._FACETS_RESET)
    assert dn["weight_per_lut_entry"] == pytest.approx(dn["Wmax"] / 15.0, rel=1e-15)


@pytest.mark.parametrize("spec,match", [
    ({"weight": -0.1}, r"weight = -0.1 is invalid; expected a value in \[0, Wmax\]"),
    ({"weight": 3.2, "Wmax": 3.0}, r"weight = 3.2 is invalid"),
    ({"Wmax": 0.0}, r"'Wmax' = 0.0 is invalid; expected a value > 0"),
    ({"tau_plus": 0.0}, r"'tau_plus' = 0.0 ms is invalid"),
    ({"tau_minus_stdp": -1.0}, r"'tau_minus_stdp' = -1.0 ms is invalid"),
    ({"driver_readout_time": 0.0}, r"'driver_readout_time' = 0.0 ms is invalid"),
    ({"synapses_per_driver": 0}, r"'synapses_per_driver' = 0 is invalid"),
])
def test_facets_bad_parameters(spec, match):
    with pytest.raises(nx.BadParameterError, match=f"{FACETS}: .*{match}"):
        _nx_connect(FACETS, spec)
    _nx_connect(FACETS, {"weight": 3.09, "Wmax": 3.0})  # index round(15.45) = 15: still in the table
