"""Parity of the STDP variants (stdp_pl_synapse_hom, stdp_nn_symm_synapse, stdp_nn_pre_centered_synapse,
stdp_nn_restr_synapse, vogels_sprekeler_synapse) with NEST 3.10: final weight, spikes and V_m.

The presynaptic neuron is a parrot driven by a spike_generator (parrot spike = generator time + 1 ms);
the postsynaptic neuron is an iaf_psc_delta forced to fire by a strong generator input (post spike =
drive time + 1 ms). tau_minus is a parameter of the postsynaptic neuron.
"""
import numpy as np
import pytest

import nestax as nx

from . import test_stdp as stdp
from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

DT = 0.1
TOL = 1e-9
DELTA = dict(t_ref=0.5)
PRE = [10.0, 20.0, 30.0, 40.5, 50.0, 70.0, 71.0, 90.0]
MAXDEV = {}


def _r(x):
    return [round(float(v), 1) for v in x]


def _post_for(d):
    # post spikes exactly at t_pre - d for the first four pre spikes, others in between (several post
    # spikes between two pre spikes, several within one window)
    return sorted(set(_r([p - d for p in PRE[:4]] + [15.0, 25.0, 26.0, 33.3, 45.0, 60.0, 69.5, 85.0])))


HOM = {"stdp_pl_synapse_hom": ("tau_plus", "lambda", "alpha", "mu")}


def run_nest(model, pre_t, post_t, d, syn, T, w0, tau_minus=20.0, drive_w=1000.0):
    return stdp.run_nest(pre_t, post_t, d, syn, "iaf_psc_delta", DELTA, T, w0, tau_minus, drive_w,
                         synapse_model=model, shared=HOM.get(model, ()))


def run_nx(model, pre_t, post_t, d, syn, T, w0, tau_minus=20.0, drive_w=1000.0, split=False, history=None):
    return stdp.run_nx(pre_t, post_t, d, syn, "iaf_psc_delta", DELTA, T, w0, tau_minus, drive_w, split=split,
                       history=history, synapse_model=model)


def _compare(model, n, x):
    w_n, post_n, pre_n, vm_n = n
    w_x, post_x, pre_x, vm_x = x
    np.testing.assert_allclose(pre_x, pre_n, atol=1e-9)
    np.testing.assert_allclose(post_x, post_n, atol=1e-9)
    m = min(len(vm_x), len(vm_n))
    assert m > len(vm_x) - 20
    np.testing.assert_allclose(vm_x[:m], vm_n[:m], rtol=0, atol=TOL)
    dev = abs(w_x - w_n)
    MAXDEV[model] = max(MAXDEV.get(model, 0.0), dev, float(np.max(np.abs(vm_x[:m] - vm_n[:m]))))
    print(f"{model}: w_nest={w_n!r} w_nx={w_x!r} |dw|={dev:.3g} max dev so far {MAXDEV[model]:.3g}")
    assert dev <= TOL * max(1.0, abs(w_n)), (w_x, w_n)
    vrecord(model, "weight", dev, TOL * max(1.0, abs(w_n)), "exact", "final weight abs dev")
    vrecord(model, "V_m", float(np.max(np.abs(vm_x[:m] - vm_n[:m]))), TOL, "exact", "postsynaptic V_m max abs dev (mV)")


# model -> (synapse parameters, initial weight, tau_minus of the target); weights in mV (iaf_psc_delta)
CASES = {
    "stdp_pl_synapse_hom": ({"tau_plus": 16.8, "lambda": 0.08, "alpha": 0.4, "mu": 0.4}, 2.0, 33.7),
    "stdp_nn_symm_synapse": ({"tau_plus": 16.8, "lambda": 0.05, "alpha": 1.2, "mu_plus": 0.5, "mu_minus": 1.0,
                              "Wmax": 5.0}, 1.0, 33.7),
    "stdp_nn_pre_centered_synapse": ({"tau_plus": 16.8, "lambda": 0.05, "alpha": 1.2, "mu_plus": 0.5,
                                      "mu_minus": 1.0, "Wmax": 5.0}, 1.0, 33.7),
    "stdp_nn_restr_synapse": ({"tau_plus": 16.8, "lambda": 0.05, "alpha": 1.2, "mu_plus": 0.5, "mu_minus": 1.0,
                               "Wmax": 5.0}, 1.0, 33.7),
    "vogels_sprekeler_synapse": ({"tau": 18.0, "alpha": 0.3, "eta": 0.05, "Wmax": 3.0}, 1.0, 18.0),
    "vogels_sprekeler_inh": ({"tau": 18.0, "alpha": 0.3, "eta": 0.05, "Wmax": -3.0}, -1.0, 18.0),
    # the post trace decays with the TARGET's tau_minus, not the synapse's tau (NEST's get_K_value)
    "vogels_sprekeler_tau_minus_differs": ({"tau": 18.0, "alpha": 0.3, "eta": 0.05, "Wmax": 3.0}, 1.0, 31.0),
}


def _model(case):
    return "vogels_sprekeler_synapse" if case.startswith("vogels_sprekeler") else case


@pytest.mark.parametrize("d", [1.0, 1.5, 3.0])
@pytest.mark.parametrize("case", list(CASES))
def test_pair_patterns(case, d):
    syn, w0, tm = CASES[case]
    model = _model(case)
    args = (model, PRE, _post_for(d), d, syn, 120.0, w0)
    n = run_nest(*args, tau_minus=tm)
    assert set(_r(np.asarray(PRE[:4]) - d)) <= set(_r(n[1]))  # the coincidences happen in NEST
    assert abs(n[0] - w0) > 1e-3  # the weight did change
    _compare(model, n, run_nx(*args, tau_minus=tm))


@pytest.mark.parametrize("case", list(CASES))
def test_dense_pre_and_post_bursts(case):
    """Bursts: several pre spikes with no post spike between, several post spikes with no pre spike between."""
    syn, w0, tm = CASES[case]
    model = _model(case)
    pre = [5.0, 6.0, 7.5, 30.0, 31.0, 55.0, 56.2, 57.0, 80.0]
    post = [8.0, 12.0, 13.0, 14.0, 29.0, 40.0, 41.0, 42.5, 58.0, 79.0, 81.0]
    args = (model, pre, post, 1.0, syn, 100.0, w0)
    _compare(model, run_nest(*args, tau_minus=tm), run_nx(*args, tau_minus=tm))


@pytest.mark.parametrize("case", list(CASES))
def test_split_run_and_rebuild(case):
    syn, w0, tm = CASES[case]
    model = _model(case)
    args = (model, PRE, _post_for(1.5), 1.5, syn, 120.0, w0)
    _compare(model, run_nest(*args, tau_minus=tm), run_nx(*args, tau_minus=tm, split=True))


@pytest.mark.parametrize("case", list(CASES))
def test_event_delivery_path(case, monkeypatch):
    from nestax.engine import delivery as dl
    monkeypatch.setattr(dl, "EVENT_MIN_SYNAPSES", 1)
    syn, w0, tm = CASES[case]
    model = _model(case)
    args = (model, PRE, _post_for(1.5), 1.5, syn, 120.0, w0)
    _compare(model, run_nest(*args, tau_minus=tm), run_nx(*args, tau_minus=tm))


def test_clipping():
    """nn weights run into Wmax and 0; vogels_sprekeler into |Wmax| and 0."""
    syn = {"lambda": 0.3, "mu_plus": 0.0, "alpha": 0.0, "Wmax": 1.2}
    pre = [10.0, 12.0, 14.0, 16.0, 18.0, 20.0]
    post = [11.0, 13.0, 15.0, 17.0, 19.0]
    for model in ("stdp_nn_symm_synapse", "stdp_nn_restr_synapse"):
        args = (model, pre, post, 1.0, syn, 40.0, 1.0)
        n = run_nest(*args)
        assert n[0] == pytest.approx(1.2)
        _compare(model, n, run_nx(*args))
    syn = {"lambda": 0.3, "mu_minus": 0.0, "alpha": 3.0, "Wmax": 2.0}
    pre2, post2 = [12.0, 14.0, 16.0, 18.0, 20.0], [10.0, 12.5, 14.5, 16.5]
    for model in ("stdp_nn_symm_synapse", "stdp_nn_pre_centered_synapse", "stdp_nn_restr_synapse"):
        args = (model, pre2, post2, 1.0, syn, 40.0, 1.0)
        n = run_nest(*args)
        print(model, "depression clipping case: NEST weight", n[0])
        if model == "stdp_nn_symm_synapse":
            assert n[0] == pytest.approx(0.0)
        _compare(model, n, run_nx(*args))
    for syn, w0, want, q in (({"tau": 20.0, "alpha": 0.0, "eta": 0.4, "Wmax": -1.5}, -1.0, -1.5, post),
                             ({"tau": 20.0, "alpha": 3.0, "eta": 0.2, "Wmax": 2.0}, 1.0, 0.0, [])):
        args = ("vogels_sprekeler_synapse", pre, q, 1.0, syn, 40.0, w0)
        n = run_nest(*args)
        assert n[0] == pytest.approx(want)
        _compare("vogels_sprekeler_synapse", n, run_nx(*args))


@pytest.mark.parametrize("case", list(CASES)[:-2])
def test_history_overflow_is_reported(case):
    """More post spikes between two pre spikes than the archive holds: an error, as for stdp_synapse;
    a long enough history gives NEST's weight."""
    from nestax.errors import NestaxError
    syn, w0, tm = CASES[case]
    model = _model(case)
    pre = [10.0, 40.0]
    post = _r(np.arange(12.0, 35.0, 1.0))  # 23 post spikes between two pre spikes
    args = (model, pre, post, 1.0, syn, 50.0, w0)
    with pytest.raises(NestaxError, match="stdp_history"):
        run_nx(*args, tau_minus=tm, history=16)
    _compare(model, run_nest(*args, tau_minus=tm), run_nx(*args, tau_minus=tm, history=32))


def _nest_error(model, syn_spec, defaults=None):
    nest = fresh_nest(DT)
    a = nest.Create("parrot_neuron")
    b = nest.Create("iaf_psc_delta")
    try:
        if defaults:
            nest.SetDefaults(model, defaults)
        nest.Connect(a, b, syn_spec=dict(synapse_model=model, **syn_spec))
    except Exception:
        return True
    return False


def _nx_error(model, syn_spec):
    sim = nx.Simulator(dt=DT)
    a = sim.create(nx.parrot_neuron)
    b = sim.create(nx.iaf_psc_delta)
    try:
        sim.connect(a, b, synapse_model=model, **syn_spec)
    except nx.BadParameterError:
        return True
    return False


# NEST checks the sign rule only when the Connect call sets a synapse parameter besides weight and delay
# (a weight alone is set without set_status): it accepts weight -1 with the default Wmax = 100. nestax
# always checks (marked "nest_accepts" below), as it does for stdp_synapse.
@pytest.mark.parametrize("model,spec,refused", [
    ("stdp_nn_symm_synapse", {"weight": -1.0}, "nest_accepts"),
    ("stdp_nn_symm_synapse", {"weight": 0.0, "Wmax": -1.0}, True),
    ("stdp_nn_symm_synapse", {"weight": -1.0, "Wmax": -5.0}, False),
    ("stdp_nn_pre_centered_synapse", {"weight": 2.0, "Wmax": -5.0}, True),
    ("stdp_nn_pre_centered_synapse", {"weight": 0.0, "Wmax": -5.0}, True),
    ("stdp_nn_restr_synapse", {"weight": -2.0, "Wmax": 5.0}, True),
    ("stdp_nn_restr_synapse", {"weight": 0.0, "Wmax": -5.0}, True),
    ("vogels_sprekeler_synapse", {"weight": -0.5}, "nest_accepts"),
    ("vogels_sprekeler_synapse", {"weight": -0.5, "eta": 0.01}, True),
    ("stdp_nn_symm_synapse", {"weight": -1.0, "lambda": 0.02}, True),
    ("stdp_nn_pre_centered_synapse", {"weight": 1.0, "Wmax": 5.0}, False),
    ("stdp_nn_restr_synapse", {"weight": 1.0, "Wmax": 5.0}, False),
    ("vogels_sprekeler_synapse", {"weight": 0.0, "Wmax": -1.0}, False),
    ("vogels_sprekeler_synapse", {"weight": -0.5, "Wmax": -1.0}, False),
])
def test_weight_wmax_sign_rules(model, spec, refused):
    if refused == "nest_accepts":
        assert _nest_error(model, spec) is False
        assert _nx_error(model, spec) is True
        return
    assert _nest_error(model, spec) is refused
    assert _nx_error(model, spec) is refused


def test_pl_hom_tau_plus_must_be_positive():
    nest = fresh_nest(DT)
    with pytest.raises(Exception, match="tau_plus"):
        nest.SetDefaults("stdp_pl_synapse_hom", {"tau_plus": 0.0})
    with pytest.raises(nx.BadParameterError, match="tau_plus"):
        _nx_error_raise("stdp_pl_synapse_hom", {"tau_plus": 0.0})
    # the shared parameters are one value per model, as for every _hom synapse
    sim = nx.Simulator(dt=DT)
    a = sim.create(nx.parrot_neuron)
    b = sim.create(nx.iaf_psc_delta, 2)
    sim.connect(a, b[:1], synapse_model="stdp_pl_synapse_hom", weight=1.0, mu=0.5)
    with pytest.raises(nx.BadParameterError, match="mu = 0.3 differs"):
        sim.connect(a, b[1:], synapse_model="stdp_pl_synapse_hom", weight=1.0, mu=0.3)


def _nx_error_raise(model, spec):
    sim = nx.Simulator(dt=DT)
    a = sim.create(nx.parrot_neuron)
    b = sim.create(nx.iaf_psc_delta)
    sim.connect(a, b, synapse_model=model, **spec)


def test_defaults_match_nest():
    nest = fresh_nest(DT)
    for model in ("stdp_pl_synapse_hom", "stdp_nn_symm_synapse", "stdp_nn_pre_centered_synapse",
                  "stdp_nn_restr_synapse", "vogels_sprekeler_synapse"):
        dn = nest.GetDefaults(model)
        for name, p in getattr(nx, model).parameters.items():
            assert float(dn[name]) == float(p.default), (model, name)


@pytest.mark.parametrize("case", ["stdp_pl_synapse_hom", "stdp_nn_pre_centered_synapse", "vogels_sprekeler_synapse"])
def test_kplus_column_matches_nest(case):
    """The presynaptic trace Kplus after a run, read with sim.connections(...).get('Kplus'), is NEST's."""
    syn, w0, tm = CASES[case]
    pre, post = [5.0, 12.0, 14.0, 30.0, 31.5], [13.0, 20.0]
    nest = fresh_nest(DT)
    shared = {k: v for k, v in syn.items() if k in HOM.get(case, ())}
    if shared:
        nest.SetDefaults(case, shared)
    sg = nest.Create("spike_generator", params={"spike_times": _r(np.asarray(pre) - 1.0)})
    sq = nest.Create("spike_generator", params={"spike_times": _r(np.asarray(post) - 1.0)})
    p_n = nest.Create("parrot_neuron")
    q_n = nest.Create("iaf_psc_delta", params=dict(DELTA, tau_minus=tm))
    nest.Connect(sg, p_n, syn_spec={"delay": 1.0})
    nest.Connect(sq, q_n, syn_spec={"weight": 1000.0, "delay": 1.0})
    nest.Connect(p_n, q_n, syn_spec=dict(synapse_model=case, weight=w0, delay=1.0,
                                         **{k: v for k, v in syn.items() if k not in shared}))
    nest.Simulate(40.0)
    cn = nest.GetConnections(p_n, q_n)

    sim = nx.Simulator(dt=DT)
    sg = sim.create(nx.spike_generator, spike_times=_r(np.asarray(pre) - 1.0))
    sq = sim.create(nx.spike_generator, spike_times=_r(np.asarray(post) - 1.0))
    p_x = sim.create(nx.parrot_neuron)
    q_x = sim.create(nx.iaf_psc_delta, **DELTA, tau_minus=tm)
    sim.connect(sg, p_x, delay=1.0)
    sim.connect(sq, q_x, weight=1000.0, delay=1.0)
    sim.connect(p_x, q_x, synapse_model=case, weight=w0, delay=1.0, **syn)
    sim.simulate(40.0)
    cx = sim.connections(p_x, q_x)
    for name in ("Kplus", "weight"):
        got = float(np.asarray(mantissa(cx.get(name)), float)[0])
        want = float(np.atleast_1d(np.asarray(cn.get(name), float))[0])
        assert abs(got - want) < 1e-12, (name, got, want)
    assert float(np.asarray(cx.get("Kplus"))[0]) > 0.5
