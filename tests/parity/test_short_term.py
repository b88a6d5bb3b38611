"""Parity of quantal_stp_synapse and ht_synapse with NEST 3.10.

ht_synapse is deterministic: spike_generator -> parrot_neuron -> ht_synapse -> iaf_psc_exp with an
irregular train (repeated times give parrot spikes of multiplicity 2 and 3); the target's V_m every
step and the pool P of every connection (GetConnections) must match NEST, also when the run is split
into several simulate calls and with per-connection parameter arrays.

quantal_stp_synapse draws random numbers:
- exact cases: U = u = 1 (every available site releases) or u = U = 0 (none), tau_rec = 1e-3 ms
  (exp(-h / tau_rec) = 0 in float64 for h >= 0.1 ms: every depleted site recovers), and a != n at
  the start; the outcome is deterministic and V_m, u, a must equal NEST's;
- statistics: one parrot drives N_STAT non-leaky, never-firing iaf_psc_delta targets through
  quantal synapses (n sites); each released site raises V_m by exactly the weight, so V_m counts the
  released sites. The release probability u is deterministic, and the expected number of available
  sites obeys a linear recursion (E[a] after recovery = n - (n - E[a]) exp(-h / tau_rec), E[released]
  = u E[a]), so the mean released count per spike is known exactly. NEST's and nestax's ensembles
  are each held to it (5 standard errors per spike) and to each other.
"""
import brainunit as u
import numpy as np
import pytest

import nestax as nx

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

DT = 0.1
TOL_V = 1e-9
TOL_P = 1e-12
PRE = [5.0, 7.0, 7.0, 9.5, 10.0, 12.3, 30.0, 31.0, 31.0, 31.0, 33.3, 60.0, 61.5, 62.0, 100.0, 160.0,
       161.2, 165.0, 240.0, 241.0, 242.0, 300.0]
T = 350.0
WINDOWS = (61.0, 39.0, 100.0, 150.0)
TARGET = dict(tau_syn_ex=2.0, tau_syn_in=2.0, V_th=-64.0, t_ref=2.0, I_e=140.0)


def _use_event(monkeypatch, delivery):
    if delivery == "event":
        from nestax.engine import delivery as dl
        monkeypatch.setattr(dl, "EVENT_MIN_SYNAPSES", 1)


def run_nest(model, syn, pre_times=PRE, seed=None):
    nest = fresh_nest(DT, seed)
    sg = nest.Create("spike_generator", params={"spike_times": pre_times})
    pre = nest.Create("parrot_neuron")
    post = nest.Create("iaf_psc_exp", params=TARGET)
    nest.Connect(sg, pre, syn_spec={"delay": 1.0})
    nest.Connect(pre, post, syn_spec=dict(synapse_model=model, **syn))
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT})
    nest.Connect(mm, post)
    nest.Simulate(T)
    c = nest.GetConnections(pre, post)
    return np.asarray(mm.events["V_m"]), c.get()


def run_nx(model, syn, pre_times=PRE, windows=WINDOWS):
    sim = nx.Simulator(dt=DT, seed=5)
    sg = sim.create(nx.spike_generator, spike_times=pre_times)
    pre = sim.create(nx.parrot_neuron)
    post = sim.create(nx.iaf_psc_exp, **TARGET)
    sim.connect(sg, pre, delay=1.0)
    sim.connect(pre, post, syn_spec=dict(synapse_model=model, **syn))
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=DT)
    sim.connect(mm, post)
    vm = [mantissa(sim.simulate(w).events(mm)["V_m"], u.mV).reshape(-1) for w in windows]
    c = sim.connections(pre, post)
    assert c.synapse_models == [model]
    return np.concatenate(vm), c


def _max_dev(vm_x, vm_n):
    m = min(len(vm_x), len(vm_n))  # NEST holds back the last min_delay of samples
    assert m > len(vm_x) - 25
    np.testing.assert_allclose(vm_x[:m], vm_n[:m], rtol=0, atol=TOL_V)
    return float(np.max(np.abs(vm_x[:m] - vm_n[:m])))


# ------------------------------------------------------------------------------------- ht_synapse
HT_CASES = [
    dict(weight=500.0),
    dict(weight=300.0, tau_P=50.0, delta_P=0.4, P=0.7, delay=1.5),
    dict(weight=-400.0, tau_P=20.0, delta_P=1.0, P=0.2, delay=2.0),
]


@pytest.mark.parametrize("delivery", ["dense", "event"])
@pytest.mark.parametrize("case", [0, 1, 2])
def test_ht_single_synapse(case, delivery, monkeypatch):
    """V_m every step and P after the run, through four simulate calls; repeated times included."""
    _use_event(monkeypatch, delivery)
    syn = HT_CASES[case]
    vm_n, cn = run_nest("ht_synapse", syn)
    assert np.ptp(vm_n) > 0.5  # the synapse does drive the target
    vm_x, cx = run_nx("ht_synapse", syn)
    dev = _max_dev(vm_x, vm_n)
    p_x = float(np.asarray(u.get_mantissa(cx.get("P")))[0])
    assert abs(p_x - cn["P"]) <= TOL_P, (p_x, cn["P"])
    assert float(np.asarray(u.get_mantissa(cx.weights))[0]) == cn["weight"] == syn["weight"]
    assert 0.0 <= cn["P"] < 1.0
    vrecord("ht_synapse", "V_m", dev, TOL_V, "exact", "postsynaptic V_m max abs dev (mV)")
    vrecord("ht_synapse", "P", abs(p_x - cn["P"]), TOL_P, "exact", "final P abs dev")
    print(f"ht_synapse case {case} {delivery}: max |dV_m| = {dev:.3g} mV, |dP| = {abs(p_x - cn['P']):.3g}")


def test_ht_first_psp_is_weight_times_pool():
    """The first spike is delivered with weight * P recovered from t = 0 (NEST's t_lastspike = 0):
    with P = 0.3, tau_P = 10 ms and the first spike stamped 6 ms, a static synapse of weight
    w * (1 - 0.7 exp(-0.6)) gives the same V_m up to the second spike's arrival."""
    vm_n, _ = run_nest("ht_synapse", dict(weight=400.0, P=0.3, tau_P=10.0))
    vm_s, _ = run_nest("static_synapse", dict(weight=400.0 * (1.0 - 0.7 * np.exp(-6.0 / 10.0))))
    k = int(round((8.0 + 1.0) / DT))  # second spike stamped 8 ms arrives at 9 ms
    assert np.ptp(vm_n[:k]) > 0.5
    np.testing.assert_allclose(vm_n[:k], vm_s[:k], rtol=0, atol=1e-12)


def _ht_many(nest_side):
    """3 parrots (own trains) -> 2 iaf_psc_exp, all_to_all, per-connection tau_P, delta_P, P, weight."""
    trains = [PRE, [2.0, 2.0, 4.4, 50.0, 51.0, 52.0, 53.0, 120.0], [15.5, 15.5, 15.5, 90.0, 200.0, 201.3]]
    cols = dict(weight=[300.0, -250.0, 400.0, 150.0, 220.0, -180.0], tau_P=[500.0, 30.0, 80.0, 5.0, 250.0, 60.0],
                delta_P=[0.125, 0.5, 0.9, 0.3, 0.0, 1.0], P=[1.0, 0.4, 0.8, 0.0, 0.6, 1.0],
                delay=[1.0, 1.3, 2.0, 0.5, 1.1, 3.0])
    # connection (parrot i, target j) takes entry 2 i + j, one connect call each
    syns = {(i, j): dict(synapse_model="ht_synapse", **{k: v[2 * i + j] for k, v in cols.items()})
            for i in range(3) for j in range(2)}
    if nest_side:
        nest = fresh_nest(DT)
        sgs = [nest.Create("spike_generator", params={"spike_times": t}) for t in trains]
        pre = nest.Create("parrot_neuron", 3)
        post = nest.Create("iaf_psc_exp", 2, params=TARGET)
        for i, sg in enumerate(sgs):
            nest.Connect(sg, pre[i])
        for (i, j), syn in syns.items():
            nest.Connect(pre[i], post[j], syn_spec=syn)
        mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT})
        nest.Connect(mm, post)
        nest.Simulate(T)
        ev = mm.events
        g0 = post.tolist()[0]
        vm = [np.asarray(ev["V_m"])[np.asarray(ev["senders"]) == g0 + i] for i in range(2)]
        c = nest.GetConnections(pre, post).get(["source", "target", "P", "weight"])
        o = np.lexsort((c["target"], c["source"]))
        return vm, np.asarray(c["P"])[o], np.asarray(c["weight"])[o]
    sim = nx.Simulator(dt=DT)
    sgs = [sim.create(nx.spike_generator, spike_times=t) for t in trains]
    pre = sim.create(nx.parrot_neuron, 3)
    post = sim.create(nx.iaf_psc_exp, 2, **TARGET)
    for i, sg in enumerate(sgs):
        sim.connect(sg, pre[i:i + 1])
    for (i, j), syn in syns.items():
        sim.connect(pre[i:i + 1], post[j:j + 1], syn_spec=syn)
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=DT)
    sim.connect(mm, post)
    trs = [mantissa(sim.simulate(w).trace(mm, "V_m"), u.mV) for w in (100.0, 250.0)]
    tr = np.concatenate(trs)
    c = sim.connections(pre, post)
    o = np.lexsort((c.targets, c.sources))
    return ([tr[:, 0], tr[:, 1]], np.asarray(u.get_mantissa(c.get("P")))[o],
            np.asarray(u.get_mantissa(c.weights))[o])


def test_ht_per_connection_parameters():
    vm_n, p_n, w_n = _ht_many(True)
    vm_x, p_x, w_x = _ht_many(False)
    devs = [_max_dev(x, n) for x, n in zip(vm_x, vm_n)]
    assert np.ptp(vm_n[0]) > 0.5 and np.ptp(vm_n[1]) > 0.5
    np.testing.assert_allclose(p_x, p_n, rtol=0, atol=TOL_P)
    np.testing.assert_array_equal(w_x, w_n)
    assert len(np.unique(np.round(p_n, 6))) >= 5  # the six pools ended in different states
    vrecord("ht_synapse", "V_m", max(devs), TOL_V, "exact", "postsynaptic V_m max abs dev (mV)")
    vrecord("ht_synapse", "P", float(np.max(np.abs(p_x - p_n))), TOL_P, "exact", "final P max abs dev")
    print(f"ht_synapse per-connection: max |dV_m| = {max(devs):.3g} mV, max |dP| = {np.max(np.abs(p_x - p_n)):.3g}")


# ---------------------------------------------------------------------- quantal_stp_synapse, exact
Q_EXACT = [
    # every available site releases, every depleted site recovers: 1 site on the first spike (a = 1),
    # then 3; a repeat at the same time (h = 0) recovers nothing, so releases nothing
    dict(weight=100.0, U=1.0, u=1.0, tau_rec=1e-3, n=3, a=1),
    # u = 0 on the first spike: nothing released; then u = U = 1 and a = 5 > n releases 5 sites once
    dict(weight=-60.0, U=1.0, u=0.0, tau_rec=1e-3, tau_fac=20.0, n=2, a=5, delay=1.5),
    # U = u = 0: never releases (the target sees only I_e)
    dict(weight=500.0, U=0.0, u=0.0, tau_rec=50.0, n=4, a=4),
]


@pytest.mark.parametrize("delivery", ["dense", "event"])
@pytest.mark.parametrize("case", [0, 1, 2])
def test_quantal_deterministic_cases(case, delivery, monkeypatch):
    _use_event(monkeypatch, delivery)
    syn = Q_EXACT[case]
    vm_n, cn = run_nest("quantal_stp_synapse", syn, seed=3)
    vm_x, cx = run_nx("quantal_stp_synapse", syn)
    dev = _max_dev(vm_x, vm_n)
    for name in ("u", "a"):
        assert float(np.asarray(u.get_mantissa(cx.get(name)))[0]) == cn[name], name
    assert float(np.asarray(u.get_mantissa(cx.weights))[0]) == cn["weight"] == syn["weight"]
    if case < 2:
        assert np.ptp(vm_n) > 1.0  # the releases are visible
    vrecord("quantal_stp_synapse", "V_m", dev, TOL_V, "exact", "postsynaptic V_m max abs dev (mV)")
    print(f"quantal case {case} {delivery}: max |dV_m| = {dev:.3g} mV; u = {cn['u']}, a = {cn['a']}")


def test_quantal_deterministic_release_sizes():
    """Case 0 without NEST: the n_release sequence is 1, then 3 per spike time, 0 for repeats."""
    syn = dict(Q_EXACT[0], weight=1.0)
    sim = nx.Simulator(dt=DT)
    sg = sim.create(nx.spike_generator, spike_times=PRE)
    pre = sim.create(nx.parrot_neuron)
    post = sim.create(nx.iaf_psc_delta, tau_m=1e12, V_th=1e12, E_L=0.0, V_m=0.0, C_m=250.0)
    sim.connect(sg, pre, delay=1.0)
    sim.connect(pre, post, syn_spec=dict(synapse_model="quantal_stp_synapse", **syn))
    sim.simulate(T)
    n_times = len(np.unique(PRE))
    assert float(np.ravel(mantissa(sim.get(post, "V_m"), u.mV))[0]) == pytest.approx(1 + 3 * (n_times - 1), abs=1e-6)


# ------------------------------------------------------------------- quantal_stp_synapse, statistics
N_STAT = 400
W_STAT = 0.5
STAT_TIMES = [3.0, 6.0, 6.0, 9.0, 14.0, 20.0, 28.0, 30.0, 32.0, 32.0, 45.0, 70.0, 72.0, 110.0, 111.0, 113.0,
              150.0, 200.0]
STAT_SYN = dict(weight=W_STAT, U=0.3, u=0.6, tau_rec=40.0, tau_fac=25.0, n=5, a=4)
STAT_T = 220.0
DELTA = dict(tau_m=1e12, V_th=1e12, E_L=0.0, V_m=0.0, V_reset=-1.0, t_ref=0.1, C_m=250.0)


def _expected():
    """Exact mean released sites per spike time and the final u, E[a] (u is deterministic)."""
    U, u_, tr, tf, n, a = (STAT_SYN[k] for k in ("U", "u", "tau_rec", "tau_fac", "n", "a"))
    t_last, ea, per_time = None, float(a), {}
    stamps = [t + 1.0 for t in STAT_TIMES]  # the parrot's spike stamps
    for t in stamps:
        if t_last is not None:
            h = t - t_last
            u_ = U + u_ * (1 - U) * np.exp(-h / tf)
            ea = n - (n - ea) * np.exp(-h / tr)
        rel = u_ * ea
        ea -= rel
        per_time[t] = per_time.get(t, 0.0) + rel
        t_last = t
    return np.array([per_time[t] for t in sorted(per_time)]), u_, ea


def _released(vm, sample_times):
    """Released sites per spike time from V_m sampled every 1 ms (rows: samples, cols: targets):
    the increment between the sample 1 ms after a generator time (before its arrival 2 ms after)
    and the same sample of the next generator time."""
    times = np.unique(STAT_TIMES)
    idx = [int(np.flatnonzero(np.isclose(sample_times, t + 1.0))[0]) for t in times] + [len(sample_times) - 1]
    return np.diff(vm[idx], axis=0) / W_STAT  # (n spike times, N_STAT)


def _stat_nest(seed):
    nest = fresh_nest(DT, seed)
    sg = nest.Create("spike_generator", params={"spike_times": STAT_TIMES})
    pre = nest.Create("parrot_neuron")
    tgt = nest.Create("iaf_psc_delta", N_STAT, params=DELTA)
    nest.Connect(sg, pre)
    nest.Connect(pre, tgt, syn_spec=dict(synapse_model="quantal_stp_synapse", **STAT_SYN))
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": 1.0})
    nest.Connect(mm, tgt)
    nest.Simulate(STAT_T)
    ev = mm.events
    g0 = tgt.tolist()[0]
    t, s, v = np.asarray(ev["times"]), np.asarray(ev["senders"]) - g0, np.asarray(ev["V_m"])
    st = np.unique(t)
    vm = np.zeros((len(st), N_STAT))
    vm[np.searchsorted(st, t), s] = v
    c = nest.GetConnections(pre, tgt).get(["u", "a"])
    return _released(vm, st), np.asarray(c["u"], float), np.asarray(c["a"], float)


def _stat_nx(seed):
    sim = nx.Simulator(dt=DT, seed=seed)
    sg = sim.create(nx.spike_generator, spike_times=STAT_TIMES)
    pre = sim.create(nx.parrot_neuron)
    tgt = sim.create(nx.iaf_psc_delta, N_STAT, **DELTA)
    sim.connect(sg, pre)
    sim.connect(pre, tgt, syn_spec=dict(synapse_model="quantal_stp_synapse", **STAT_SYN))
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=1.0)
    sim.connect(mm, tgt)
    r1, r2 = sim.simulate(STAT_T / 2), sim.simulate(STAT_T / 2)
    vm = np.concatenate([mantissa(r1.trace(mm, "V_m"), u.mV), mantissa(r2.trace(mm, "V_m"), u.mV)])
    st = np.concatenate([mantissa(r1.trace_times(mm), u.ms), mantissa(r2.trace_times(mm), u.ms)])
    c = sim.connections(pre, tgt)
    return _released(vm, st), np.asarray(u.get_mantissa(c.get("u"))), np.asarray(u.get_mantissa(c.get("a")))


def _check_ensemble(rel, u_end, a_end, label):
    mean_exp, u_exp, a_exp = _expected()
    assert rel.shape == (len(mean_exp), N_STAT)
    # whole numbers of sites, never more than the sites there can be
    np.testing.assert_allclose(rel, np.round(rel), atol=1e-6)
    rel = np.round(rel)
    assert rel.min() >= 0 and rel.max() <= 10  # two spikes at most per time, 5 sites each
    se = np.sqrt(rel.var(axis=1, ddof=1) / N_STAT)
    z = (rel.mean(axis=1) - mean_exp) / se
    assert np.all(np.abs(z) < 5), (label, z)
    # first spike: Binomial(a = 4, u = 0.6), variance 4 * 0.6 * 0.4 = 0.96
    assert 0.96 * 0.7 < rel[0].var(ddof=1) < 0.96 * 1.35, (label, rel[0].var(ddof=1))
    np.testing.assert_allclose(u_end, u_exp, rtol=0, atol=1e-12)  # u is deterministic
    se_a = a_end.std(ddof=1) / np.sqrt(N_STAT)
    assert abs(a_end.mean() - a_exp) < 5 * se_a, (label, a_end.mean(), a_exp, se_a)
    assert np.all((a_end >= 0) & (a_end <= STAT_SYN["n"]))
    return z


@pytest.mark.parametrize("delivery", ["dense", "event"])
def test_quantal_release_statistics(delivery, monkeypatch):
    _use_event(monkeypatch, delivery)
    rel_n, u_n, a_n = _stat_nest(7)
    rel_x, u_x, a_x = _stat_nx(7)
    z_n = _check_ensemble(rel_n, u_n, a_n, "NEST")
    z_x = _check_ensemble(rel_x, u_x, a_x, "nestax")
    np.testing.assert_allclose(u_x, u_n, rtol=0, atol=1e-12)
    # nestax against NEST per spike time: difference of means within 5 SE of the difference
    se = np.sqrt(rel_n.var(axis=1, ddof=1) / N_STAT + rel_x.var(axis=1, ddof=1) / N_STAT)
    d = (rel_x.mean(axis=1) - rel_n.mean(axis=1)) / se
    assert np.all(np.abs(d) < 5), d
    # spread of the total released per connection: variance ratio within 5 SE (SE of a log variance
    # ratio ~ sqrt(2 / (N - 1) * 2))
    tot_n, tot_x = rel_n.sum(axis=0), rel_x.sum(axis=0)
    lr = np.log(tot_x.var(ddof=1) / tot_n.var(ddof=1))
    assert abs(lr) < 5 * np.sqrt(4.0 / (N_STAT - 1)), lr
    # the connections draw independently: many different totals
    assert len(np.unique(tot_x)) > 8
    vrecord("quantal_stp_synapse", "release z nestax", float(np.max(np.abs(z_x))), 5.0, "statistical",
            "mean sites released per spike vs exact expectation, max |z| (SE)")
    vrecord("quantal_stp_synapse", "release z nestax-NEST", float(np.max(np.abs(d))), 5.0, "statistical",
            "nestax - NEST mean sites released per spike, max |z| (combined SE)")
    vrecord("quantal_stp_synapse", "total variance log-ratio", abs(float(lr)), 5 * np.sqrt(4.0 / (N_STAT - 1)),
            "statistical", "|log(var nestax / var NEST)| of the total released")
    print(f"quantal stats {delivery}: max |z| NEST {np.max(np.abs(z_n)):.2f}, nestax {np.max(np.abs(z_x)):.2f}, "
          f"nestax-NEST {np.max(np.abs(d)):.2f}; total released mean NEST {tot_n.mean():.3f} nestax "
          f"{tot_x.mean():.3f} (exact {_expected()[0].sum():.3f}), var NEST {tot_n.var(ddof=1):.3f} "
          f"nestax {tot_x.var(ddof=1):.3f}; mean a_end NEST {a_n.mean():.3f} nestax {a_x.mean():.3f} "
          f"(exact {_expected()[2]:.3f})")


def test_quantal_seeds_differ_and_repeat():
    """The same seed repeats the draws; another seed gives other draws with the same statistics."""
    r1 = _stat_nx(1)[0]
    r1b = _stat_nx(1)[0]
    r2 = _stat_nx(2)[0]
    np.testing.assert_array_equal(r1, r1b)
    assert np.any(r1 != r2)


# ------------------------------------------------------------------------------ defaults and errors
@pytest.mark.parametrize("model", ["quantal_stp_synapse", "ht_synapse"])
def test_defaults_match_nest(model):
    nest = fresh_nest(DT)
    d = nest.GetDefaults(model)
    cls = getattr(nx, model)
    for name, spec in cls.parameters.items():
        assert d[name] == spec.default, (model, name)
    assert set(d) >= set(cls.parameters)


def _pair():
    sim = nx.Simulator(dt=DT)
    return sim, sim.create(nx.parrot_neuron), sim.create(nx.iaf_psc_exp)


@pytest.mark.parametrize("model,bad,match", [
    ("quantal_stp_synapse", dict(U=1.5), "'U' = 1.5 is invalid; expected a value in \\[0, 1\\]"),
    ("quantal_stp_synapse", dict(U=-0.1), "'U' = -0.1 is invalid"),
    ("quantal_stp_synapse", dict(u=1.2), "'u' = 1.2 is invalid"),
    ("quantal_stp_synapse", dict(tau_rec=0.0), "'tau_rec' = 0.0 is invalid; expected a value > 0 ms"),
    ("quantal_stp_synapse", dict(tau_fac=-1.0), "'tau_fac' = -1.0 is invalid; expected a value >= 0 ms"),
    ("quantal_stp_synapse", dict(n=2.5), "'n'.*integer"),
    ("quantal_stp_synapse", dict(a=1.5), "'a'.*integer"),
    ("ht_synapse", dict(tau_P=0.0), "'tau_P' = 0.0 is invalid; expected a value > 0 ms"),
    ("ht_synapse", dict(delta_P=1.1), "'delta_P' = 1.1 is invalid; expected a value in \\[0, 1\\]"),
    ("ht_synapse", dict(delta_P=-0.1), "'delta_P' = -0.1 is invalid"),
    ("ht_synapse", dict(P=1.2), "'P' = 1.2 is invalid"),
    ("ht_synapse", dict(P=-0.1), "'P' = -0.1 is invalid"),
])
def test_invalid_values_refused(model, bad, match):
    nest = fresh_nest(DT)
    a, b = nest.Create("parrot_neuron"), nest.Create("iaf_psc_exp")
    with pytest.raises(Exception):
        nest.Connect(a, b, syn_spec=dict(synapse_model=model, **bad))
    sim, a, b = _pair()
    with pytest.raises(nx.BadParameterError, match=f"{model}: parameter {match}"):
        sim.connect(a, b, syn_spec=dict(synapse_model=model, **bad))
    # a per-connection array with one bad entry is refused too
    name, val = next(iter(bad.items()))
    good = 1 if name in ("n", "a") else 0.5
    sim2 = nx.Simulator(dt=DT)
    a2, b2 = sim2.create(nx.parrot_neuron, 2), sim2.create(nx.iaf_psc_exp, 2)
    sim2.connect(a2, b2, rule="one_to_one", syn_spec=dict(synapse_model=model, **{name: np.array([good, good])}))
    with pytest.raises(nx.BadParameterError, match=name):
        sim2.connect(a2, b2, rule="one_to_one", syn_spec=dict(synapse_model=model, **{name: np.array([good, val])}))


def test_quantal_accepts_what_nest_accepts():
    """NEST checks neither n >= 1 nor 0 <= a <= n; neither does nestax (a > n releases a sites once)."""
    nest = fresh_nest(DT)
    a, b = nest.Create("parrot_neuron"), nest.Create("iaf_psc_exp")
    sim, ax, bx = _pair()
    for ok in (dict(n=0), dict(n=3, a=7), dict(a=-2)):
        nest.Connect(a, b, syn_spec=dict(synapse_model="quantal_stp_synapse", **ok))
        sim.connect(ax, bx, syn_spec=dict(synapse_model="quantal_stp_synapse", **ok))
