"""gif_pop_psc_exp (population GIF model with finite-size noise, Schwalger et al. 2017) against NEST 3.10.

The model draws a binomial (or Poisson) spike count every step, so spikes agree with NEST in
distribution only. Three kinds of check:

1. Exact given the counts: NEST runs a population with spike input on both synapses (weights of
   both signs, multiplicity from a second generator connection), a dc_generator switched on and off
   and I_e; nestax runs the same network with the model's draw replaced by NEST's recorded n_events
   of each step (a test subclass, ``_Replay``). Everything else is deterministic, so V_m, E_sfa,
   mean (the expected count, which depends on the whole history), I_syn_ex and I_syn_in must equal
   NEST's at every step: measured max relative deviation 1.2e-14 (bound 1e-9), for the automatic and
   a given len_kernel, binomial and Poisson settings, over four uneven simulate calls. The counts
   reach targets as multiplicity: an iaf_psc_delta driven by the population has NEST's V_m (1e-9 mV)
   and a spike_recorder has one event per spike.
2. Statistics against NEST's seed ensemble (dt = 0.5 ms, N = 200, 2 s, transient 500 ms dropped):
   the time-averaged rate of each run and the variance of its activity in 10 ms bins. Over
   N_RUNS runs per simulator the means must agree within 4 combined standard errors (rate) and the
   mean bin variance within a factor exp(+-0.35) (its run-to-run spread is ~10 %); for binomial
   and Poisson counts.
3. Large-N limit: with N = 10^7 the finite-size noise vanishes (n_events / N -> mean / N), and the
   population activity follows the deterministic mean-field trajectory: nestax's A(t) = mean / (N dt)
   within 1 % (plus 0.05 Hz) of NEST's at every 1 ms bin after the first spike wave, and
   |n_events - mean| <= 6 sqrt(mean) + 1 every step.
Plus defaults, recordables, the automatic len_kernel (NEST's value after Simulate) and bad parameters.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError
from nestax.models.base import State
from nestax.models.neurons.gif_pop import history_length

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

REC = ["V_m", "n_events", "E_sfa", "mean", "I_syn_ex", "I_syn_in"]


# ---- 1. exact arithmetic, given NEST's spike counts --------------------------------------------

_TABLE = {"n": np.zeros(1)}


class _Replay(nx.gif_pop_psc_exp):
    """gif_pop_psc_exp whose count of step k is NEST's recorded n_events of step k (not registered)."""
    name = "gif_pop_psc_exp"
    state = {**nx.gif_pop_psc_exp.state, "_step": State("1", 0, "step counter (test)")}

    @classmethod
    def _draw(cls, p, mean, key):
        return jnp.full_like(mean, jnp.asarray(_TABLE["n"], mean.dtype)[key])

    @classmethod
    def update(cls, p, d, s, syn, I, key):
        out, spk = super().update(p, d, s, syn, I, s["_step"])
        return {**out, "_step": s["_step"] + 1}, spk


def _build(create, connect, params):
    pop = create("gif_pop_psc_exp", params)
    sg = create("spike_generator", {"spike_times": [5.0, 5.1, 20.0, 40.0, 40.5, 60.0, 61.0, 120.0, 150.0]})
    connect(sg, pop, {"weight": 40.0, "delay": 1.0})
    connect(sg, pop, {"weight": 25.0, "delay": 1.0})                    # multiplicity 2 on the same step
    connect(sg, pop, {"weight": -60.0, "delay": 3.5})
    dc = create("dc_generator", {"amplitude": 60.0, "start": 30.0, "stop": 170.0})
    connect(dc, pop, {"delay": 0.5})
    # a target sees weight x n_events per step (the spike's multiplicity)
    tgt = create("iaf_psc_delta", {"V_th": 1e6, "tau_m": 50.0})
    connect(pop, tgt, {"weight": 0.02, "delay": 0.7})
    return pop, tgt


CASES = {
    "auto-binomial": dict(N=400, I_e=120.0, lambda_0=20.0, tau_sfa=[30.0, 250.0], q_sfa=[2.0, 0.8]),
    "given-poisson": dict(N=150, I_e=150.0, len_kernel=900, t_ref=2.0, BinoRand=False, tau_m=15.0,
                          C_m=200.0, V_reset=2.0, E_L=1.0, tau_syn_ex=2.0, tau_syn_in=8.0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_arithmetic_equals_nest_given_its_counts(case):
    params, T, dt = CASES[case], 200.0, 0.1
    nest = fresh_nest(dt, seed=11)
    pop, tgt = _build(lambda m, p: nest.Create(m, params=p), lambda a, b, s: nest.Connect(a, b, syn_spec=s), params)
    mm = nest.Create("multimeter", params={"record_from": REC, "interval": dt})
    vm = nest.Create("voltmeter", params={"interval": dt})
    sr = nest.Create("spike_recorder", params={"time_in_steps": True})
    nest.Connect(mm, pop)
    nest.Connect(vm, tgt)
    nest.Connect(pop, sr)
    nest.Simulate(T)
    ref = {v: np.asarray(mm.events[v], float) for v in REC}
    ref_tgt = np.asarray(vm.events["V_m"], float)
    # the recorder has one event per spike (stamp k + 1 for step k), complete up to T; the multimeter
    # holds back its last min_delay of samples
    counts = np.bincount(np.asarray(sr.events["times"], int) - 1, minlength=round(T / dt))
    np.testing.assert_array_equal(counts[:len(ref["n_events"])], ref["n_events"])
    assert ref["n_events"].sum() > 50
    # nestax with NEST's counts: the count of step k is NEST's sample k (stamp k + 1)
    _TABLE["n"] = np.concatenate([counts, [0, 0]]).astype(float)
    sim = nx.Simulator(dt=dt)
    pop, tgt = _build(lambda m, p: sim.create(_Replay if m == "gif_pop_psc_exp" else m, 1, **p),
                      lambda a, b, s: sim.connect(a, b, **s), params)
    mm = sim.create(nx.multimeter, record_from=REC, interval=dt)
    vm = sim.create(nx.voltmeter, interval=dt)
    sr = sim.create(nx.spike_recorder)
    sim.connect(mm, pop)
    sim.connect(vm, tgt)
    sim.connect(pop, sr)
    got = {v: [] for v in REC}
    got_tgt, n_rec = [], 0
    for piece in (47.3, 0.1, 100.0, 52.6):            # split runs continue the history
        res = sim.simulate(piece)
        for v in REC:
            got[v].append(mantissa(res.trace(mm, v))[:, 0])
        got_tgt.append(mantissa(res.trace(vm, "V_m"))[:, 0])
        n_rec += res.n_events(sr)
    got = {v: np.concatenate(x)[:len(ref[v])] for v, x in got.items()}
    np.testing.assert_array_equal(got["n_events"], ref["n_events"])
    assert n_rec == counts.sum()
    np.testing.assert_allclose(np.concatenate(got_tgt)[:len(ref_tgt)], ref_tgt, rtol=0, atol=1e-9)
    assert np.ptp(ref_tgt) > 0.5
    worst = {}
    for v in ("V_m", "E_sfa", "mean", "I_syn_ex", "I_syn_in"):
        scale = max(1.0, float(np.max(np.abs(ref[v]))))
        worst[v] = float(np.max(np.abs(got[v] - ref[v])) / scale)
        np.testing.assert_allclose(got[v], ref[v], rtol=0, atol=1e-9 * scale, err_msg=f"{case} {v}")
        vrecord("gif_pop_psc_exp", v, worst[v], 1e-9, "exact",
                f"{v} max abs dev / max(1, max |NEST|), NEST's counts replayed")
    print(case, "max relative deviation", {k: float(f"{x:.2g}") for k, x in worst.items()})
    assert np.ptp(ref["I_syn_in"]) > 1.0 and np.ptp(ref["I_syn_ex"]) > 1.0 and np.ptp(ref["mean"]) > 0.1


def test_set_between_runs_rebuilds_the_history_like_nest():
    """NEST rebuilds the population history at the next Simulate after SetStatus (V_m and the synaptic
    currents are kept); with NEST's counts replayed, nestax follows it exactly through the change."""
    params, dt = dict(N=300, I_e=150.0, tau_sfa=[40.0], q_sfa=[1.0]), 0.1
    nest = fresh_nest(dt, seed=5)
    pop = nest.Create("gif_pop_psc_exp", params=params)
    mm = nest.Create("multimeter", params={"record_from": REC, "interval": dt})
    sr = nest.Create("spike_recorder", params={"time_in_steps": True})
    nest.Connect(mm, pop)
    nest.Connect(pop, sr)
    nest.Simulate(80.0)
    pop.set({"I_e": 190.0, "V_T_star": 14.0})
    nest.Simulate(80.0)
    ref = {v: np.asarray(mm.events[v], float) for v in REC}
    counts = np.bincount(np.asarray(sr.events["times"], int) - 1, minlength=1600)
    _TABLE["n"] = np.concatenate([counts, [0, 0]]).astype(float)
    sim = nx.Simulator(dt=dt)
    pop = sim.create(_Replay, 1, **params)
    mm = sim.create(nx.multimeter, record_from=REC, interval=dt)
    sim.connect(mm, pop)
    r1 = sim.simulate(80.0)
    sim.set(pop, I_e=190.0, V_T_star=14.0)
    r2 = sim.simulate(80.0)
    for v in ("V_m", "E_sfa", "mean"):
        got = np.concatenate([mantissa(r.trace(mm, v))[:, 0] for r in (r1, r2)])[:len(ref[v])]
        np.testing.assert_allclose(got, ref[v], rtol=1e-9, atol=1e-12, err_msg=v)
    # the rebuilt history: every neuron fired just before the second run, so none can fire for t_ref
    k = 800
    assert ref["mean"][k:k + 39].max() == 0.0 and ref["mean"][k - 50:k].max() > 0.0


# ---- 2. statistics against NEST's seed ensemble ----------------------------------------------------

ENS = dict(N=200, I_e=160.0, tau_sfa=[50.0], q_sfa=[1.5], lambda_0=10.0, Delta_V=2.0)
DT_ENS, T_ENS, BURN, BIN = 0.5, 2000.0, 500.0, 10.0
N_RUNS = 8


def _stats(n_events):
    """(rate in Hz, variance of the spike count in 10 ms bins) of one run, after the transient."""
    x = np.asarray(n_events, float)[int(BURN / DT_ENS):]
    per = int(BIN / DT_ENS)
    x = x[:len(x) // per * per].reshape(-1, per).sum(1)
    return x.mean() / ENS["N"] / (BIN * 1e-3), x.var(ddof=1)


@pytest.mark.parametrize("bino", [True, False], ids=["binomial", "poisson"])
def test_activity_statistics_match_nest_ensemble(bino):
    params = {**ENS, "BinoRand": bino}
    ref = []
    for seed in range(1, N_RUNS + 1):
        nest = fresh_nest(DT_ENS, seed=seed)
        pop = nest.Create("gif_pop_psc_exp", params=params)
        mm = nest.Create("multimeter", params={"record_from": ["n_events"], "interval": DT_ENS})
        nest.Connect(mm, pop)
        nest.Simulate(T_ENS)
        ref.append(_stats(mm.events["n_events"]))
    sim = nx.Simulator(dt=DT_ENS, seed=5)
    pop = sim.create(nx.gif_pop_psc_exp, N_RUNS, **params)   # independent streams per node
    mm = sim.create(nx.multimeter, record_from=["n_events"], interval=DT_ENS)
    sim.connect(mm, pop)
    n = mantissa(sim.simulate(T_ENS).trace(mm, "n_events"))
    got = [_stats(n[:, i]) for i in range(N_RUNS)]
    ref, got = np.array(ref), np.array(got)
    se = np.sqrt(ref[:, 0].var(ddof=1) / N_RUNS + got[:, 0].var(ddof=1) / N_RUNS)
    print(f"rate NEST {ref[:, 0].mean():.3f} +/- {ref[:, 0].std(ddof=1):.3f} Hz, nestax {got[:, 0].mean():.3f} +/- "
          f"{got[:, 0].std(ddof=1):.3f} Hz; bin variance NEST {ref[:, 1].mean():.2f}, nestax {got[:, 1].mean():.2f}")
    assert ref[:, 0].mean() > 2.0                          # a population that fires
    assert abs(ref[:, 0].mean() - got[:, 0].mean()) <= 4 * se
    assert abs(np.log(got[:, 1].mean() / ref[:, 1].mean())) <= 0.35
    vrecord("gif_pop_psc_exp", "rate", abs(ref[:, 0].mean() - got[:, 0].mean()) / se, 4.0, "statistical",
            "|rate nestax - NEST| / combined SE")
    vrecord("gif_pop_psc_exp", "bin variance", abs(float(np.log(got[:, 1].mean() / ref[:, 1].mean()))), 0.35,
            "statistical", "|log(10 ms bin variance nestax / NEST)|")


# ---- 3. large-N limit: the mean-field trajectory ----------------------------------------------------

def test_large_population_follows_mean_field():
    params = dict(N=10_000_000, I_e=170.0, tau_sfa=[50.0], q_sfa=[1.5])
    T, dt = 300.0, 0.5
    nest = fresh_nest(dt, seed=3)
    pop = nest.Create("gif_pop_psc_exp", params=params)
    mm = nest.Create("multimeter", params={"record_from": ["n_events", "mean"], "interval": dt})
    nest.Connect(mm, pop)
    nest.Simulate(T)
    ref_mean = np.asarray(mm.events["mean"], float)
    sim = nx.Simulator(dt=dt, seed=3)
    pop = sim.create(nx.gif_pop_psc_exp, 1, **params)
    mm = sim.create(nx.multimeter, record_from=["n_events", "mean"], interval=dt)
    sim.connect(mm, pop)
    res = sim.simulate(T)
    mean = mantissa(res.trace(mm, "mean"))[:, 0][:len(ref_mean)]
    n_ev = mantissa(res.trace(mm, "n_events"))[:, 0]
    assert np.all(np.abs(n_ev - mantissa(res.trace(mm, "mean"))[:, 0]) <= 6 * np.sqrt(mantissa(res.trace(mm, "mean"))[:, 0]) + 1)
    per = int(1.0 / dt)
    k = len(mean) // per * per

    def rate(m):
        return m[:k].reshape(-1, per).sum(1) / params["N"] / 1e-3    # Hz in 1 ms bins

    a_ref, a_got = rate(ref_mean), rate(mean)
    start = int(np.argmax(a_ref > 1.0)) + 20                          # after the first wave
    assert a_ref[start:].min() > 2.0
    print("large N: max |A_nestax - A_NEST| / A_NEST =", float(np.max(np.abs(a_got[start:] / a_ref[start:] - 1))))
    np.testing.assert_allclose(a_got[start:], a_ref[start:], rtol=0.01, atol=0.05)
    vrecord("gif_pop_psc_exp", "N=1e7 activity", float(np.max(np.abs(a_got[start:] - a_ref[start:]))),
            0.05 + 0.01 * float(np.max(np.abs(a_ref[start:]))), "statistical",
            "1 ms population activity max abs dev (Hz)")


# ---- defaults, len_kernel, parameters ------------------------------------------------------------

def test_defaults_recordables_and_kernel_length_match_nest():
    nest = fresh_nest(0.1)
    d = nest.GetDefaults("gif_pop_psc_exp")
    for name, spec in nx.gif_pop_psc_exp.parameters.items():
        want = d[name]
        if spec.kind == "array":
            assert list(want) == list(spec.default), name
        else:
            assert want == spec.default, name
    assert set(d["recordables"]) == set(nx.gif_pop_psc_exp.recordables())
    assert d["V_m"] == 0.0 and "tau_minus" not in d and "tau_minus" not in nx.gif_pop_psc_exp.parameters
    for dt, p in [(0.1, {}), (0.5, dict(tau_sfa=[100.0, 1000.0], q_sfa=[1.0, 0.2], tau_m=10.0)),
                  (0.1, dict(tau_sfa=[1.0], q_sfa=[0.01], tau_m=1.0, t_ref=10.0))]:
        nest = fresh_nest(dt)
        pop = nest.Create("gif_pop_psc_exp", params=p)
        nest.Simulate(dt)
        full = {k: v.default for k, v in nx.gif_pop_psc_exp.parameters.items()} | p
        assert pop.get("len_kernel") == history_length(full, dt), p


BAD = [("C_m", 0.0), ("tau_m", -1.0), ("tau_syn_ex", 0.0), ("tau_syn_in", -2.0), ("N", 0), ("lambda_0", -1.0),
       ("Delta_V", 0.0), ("t_ref", -0.5), ("tau_sfa", [0.0]), ("q_sfa", [1.0, 2.0])]


@pytest.mark.parametrize("name,value", BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_bad_parameters_refused_like_nest(name, value):
    nest = fresh_nest(0.1)
    with pytest.raises(nest.NESTErrors.BadProperty):
        nest.Create("gif_pop_psc_exp", params={name: value})
    sim = nx.Simulator(dt=0.1)
    with pytest.raises(BadParameterError, match=rf"gif_pop_psc_exp: parameter.*'{name}'"):
        sim.create(nx.gif_pop_psc_exp, 1, **{name: value})


def test_nestax_only_refusals():
    sim = nx.Simulator(dt=0.1)
    with pytest.raises(BadParameterError, match=r"'tau_syn_ex' = 20.0 ms is invalid; expected a value != tau_m"):
        sim.create(nx.gif_pop_psc_exp, 1, tau_syn_ex=20.0)         # NEST: NaN
    with pytest.raises(BadParameterError, match=r"'tau_sfa' = \[\] ms is invalid"):
        sim.create(nx.gif_pop_psc_exp, 1, tau_sfa=[], q_sfa=[])       # NEST: error at Simulate
    sim.create(nx.gif_pop_psc_exp, 2, params=[{"tau_sfa": [100.0]}, {"tau_sfa": [300.0]}])
    with pytest.raises(BadParameterError, match="history lengths"):
        sim.simulate(1.0)
