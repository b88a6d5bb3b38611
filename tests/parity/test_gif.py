"""NEST 3.10 parity of the generalized integrate-and-fire family: gif_psc_exp, gif_cond_exp,
gif_psc_exp_multisynapse, gif_cond_exp_multisynapse.

These neurons fire stochastically (escape noise, spike probability 1 - exp(-lambda dt) per step), so
parity is checked in two ways:

(a) deterministic: every recordable at every sample and the spike stamps exactly, in runs where the
    random draw cannot decide anything: lambda_0 = 0 (never spikes) or a "hard threshold" (Delta_V =
    1e-6 mV: lambda = 0 below E_sfa by more than ~1e-3 mV and infinite above it, so the neuron spikes
    exactly when V_m > E_sfa). ATOL below. Measured (x86-64 CPU, float64): psc models <= 1e-14 mV,
    cond models (same RKF45 arithmetic as NEST's GSL) <= 1e-13.
(b) noisy: firing rate and ISI CV over 5 NEST seeds vs 5 nestax seeds, 12 neurons each, 1 s; the seed
    means must agree within 5 combined standard errors (false alarm < 1e-4 per comparison). Measured:
    rate NEST 7.9-8.9 Hz, nestax 7.9-9.0 Hz; CV NEST 0.41-0.47, nestax 0.43-0.49. And an
    analytic check of the escape-noise hazard (V clamped at E_L = V_T_star: ISI = t_ref + dt * geometric).
"""
from __future__ import annotations

import brainunit as u
import numpy as np
import pytest

import nestax as nx

from .harness import Experiment, compare_traces, run_both, run_nest, run_nestax
from .nest_helpers import fresh_nest, mantissa

ATOL = 1e-9
DT = 0.1
PSC = ("gif_psc_exp", "gif_psc_exp_multisynapse")
MODELS = ("gif_psc_exp", "gif_cond_exp", "gif_psc_exp_multisynapse", "gif_cond_exp_multisynapse")
MULTI = {"gif_psc_exp_multisynapse": {"tau_syn": [2.0, 6.0, 0.5]},
         "gif_cond_exp_multisynapse": {"tau_syn": [2.0, 6.0, 0.5], "E_rev": [0.0, -85.0, -20.0]}}
ADAPT = {"tau_stc": [10.0, 100.0], "q_stc": [30.0, 5.0], "tau_sfa": [50.0, 200.0], "q_sfa": [3.0, 1.0]}
HARD = {"Delta_V": 1e-6, "lambda_0": 1000.0, "V_T_star": -50.0}   # deterministic threshold at E_sfa


def _conns(model):
    """(weight, delay, receptor_type) of the spike inputs: excitatory and inhibitory on every model."""
    if model == "gif_psc_exp":
        return [(80.0, 1.0, 0), (-60.0, 2.0, 0), (25.0, 1.5, 0)]
    if model == "gif_cond_exp":
        return [(6.0, 1.0, 0), (-8.0, 2.0, 0), (2.0, 1.5, 0)]
    if model == "gif_psc_exp_multisynapse":
        return [(80.0, 1.0, 1), (-60.0, 2.0, 2), (25.0, 1.5, 3), (-20.0, 1.2, 1)]
    return [(6.0, 1.0, 1), (8.0, 2.0, 2), (3.0, 1.5, 3)]


SPIKES = [2.0, 5.0, 5.5, 6.0, 20.0, 20.1, 20.2, 35.0, 50.0, 50.3, 71.0]


def experiment(model, T, neurons, common, gen, conns, spikes, splits=None, dt=DT, seed=None, nx_seed=0):
    return Experiment(model, dt, T, neurons, list(getattr(nx, model).recordables()), conns, spikes, gen, splits,
                      common={**MULTI.get(model, {}), **common}, nest_seed=seed, nx_seed=nx_seed)


def compare(model, T, neurons, common=None, gen=None, conns=None, spikes=SPIKES, splits=None, dt=DT):
    """Run NEST and nestax; every recordable at every common sample within ATOL, identical spikes."""
    common = dict(common or {})
    conns = _conns(model) if conns is None else conns
    exp = experiment(model, T, neurons, common, gen, conns, spikes, splits, dt)
    ref, got = run_both(exp)
    worst = compare_traces(ref, got, exp, lambda var: (ATOL, 0), label=model,
                           kind="integrator" if "cond" in model else "exact")
    assert got.spikes == ref.spikes
    print(f"{model}: max |nestax - NEST|", {k: float(f"{v:.3g}") for k, v in worst.items()},
          f"{len(ref.spikes)} spikes identical")
    return {"step": ref.steps, "sender": ref.senders, **ref.values}, ref.spikes, worst


def _neurons():
    return [
        {**HARD, "I_e": 130.0},                                  # 0: periodic firing with adaptation
        {"lambda_0": 0.0, "I_e": 30.0},                          # 1: noise off: never fires, inputs only
        {**HARD, "I_e": 95.0, "E_L": -65.0, "t_ref": 2.3},       # 2: other E_L, t_ref off the grid
        {**HARD, "V_m": -40.0},                                  # 3: starts above E_sfa: spikes at dt
        {**HARD, "I_e": 60.0, "C_m": 120.0, "g_L": 6.0, "V_reset": -60.0},
    ]


@pytest.mark.parametrize("model", MODELS)
def test_dc_and_spike_input(model):
    _, spikes, worst = compare(model, 100.0, _neurons(), ADAPT,
                               ("dc_generator", {"amplitude": 40.0, "start": 10.0, "stop": 60.0}, 0.5))
    assert (1, 3) in spikes                               # V_m >= threshold at t=0: spike at dt
    assert len([s for s in spikes if s[1] == 0]) >= 2      # adapting periodic firing
    assert not [s for s in spikes if s[1] == 1]            # lambda_0 = 0 never fires
    assert max(worst.values()) < 1e-12


@pytest.mark.parametrize("model", MODELS)
def test_step_current_and_adaptation_traces(model):
    neurons = [{**HARD, "I_e": 20.0}, {**HARD, "lambda_0": 0.0}, {**HARD, "I_e": 50.0, "tau_syn_ex": 1.0}
               if model in ("gif_psc_exp", "gif_cond_exp") else {**HARD, "I_e": 50.0}]
    common = {"tau_stc": [5.0], "q_stc": [-10.0], "tau_sfa": [30.0, 7.0, 300.0], "q_sfa": [2.0, -1.0, 0.5]}
    gen = ("step_current_generator", {"amplitude_times": [5.0, 25.0, 40.0, 65.0],
                                      "amplitude_values": [150.0, -50.0, 220.0, 0.0]}, 1.0)
    ev, spikes, _ = compare(model, 80.0, neurons, common, gen)
    assert len([s for s in spikes if s[1] == 0]) >= 2
    assert np.any(ev["E_sfa"] != -50.0) and np.any(ev["I_stc"] != 0.0)   # adaptation exercised


def test_refractoriness_and_reset_quirk():
    """1200 pA: V_m at the spike stamp is the value that fired (NEST does not reset in the spike step),
    then V_reset for t_ref/dt samples, then free again."""
    dt = DT
    for model in ("gif_psc_exp", "gif_cond_exp"):
        neurons = [{**HARD, "I_e": 1200.0, "t_ref": 4.0}, {**HARD, "I_e": 1200.0, "t_ref": 2.25, "V_reset": -62.0}]
        ev, spikes, _ = compare(model, 40.0, neurons, {}, conns=[])
        for i, (t_ref, v_reset) in enumerate([(4.0, -55.0), (2.25, -62.0)]):
            sel = ev["sender"] == i
            v = dict(zip(ev["step"][sel], ev["V_m"][sel]))
            n_ref = int(np.ceil(round(t_ref * 1000) / round(dt * 1000)))
            mine = [k for k, s in spikes if s == i]
            assert len(mine) >= 3
            for k in mine:
                if k + n_ref + 1 < 400:
                    assert v[k] > -50.0                                  # the value that crossed
                    assert all(v[k + j] == v_reset for j in range(1, n_ref + 1))
                    assert v[k + n_ref + 1] != v_reset


@pytest.mark.parametrize("model", MODELS)
def test_split_simulate_calls(model):
    compare(model, 60.0, _neurons()[:3], ADAPT,
            ("dc_generator", {"amplitude": 45.0, "start": 12.0, "stop": 47.0}, 0.7), splits=[7.3, 20.0, 0.1, 32.6])


def test_fine_resolution_cond():
    compare("gif_cond_exp", 30.0, _neurons()[:3], ADAPT,
            ("dc_generator", {"amplitude": 40.0, "start": 3.0, "stop": 20.0}, 0.3),
            spikes=[1.0, 2.0, 2.05, 10.0, 25.0], dt=0.01)


@pytest.mark.parametrize("model", MODELS)
def test_defaults_routing_and_checks(model):
    nest = fresh_nest(DT)
    nd = nest.GetDefaults(model)
    cls = getattr(nx, model)
    for name, spec in cls.parameters.items():
        if spec.kind == "array":
            assert np.array_equal(np.asarray(spec.default, float), np.asarray(nd[name], float)), name
        else:
            assert spec.default == nd[name], name
    assert set(cls.recordables()) == set(nd["recordables"])
    assert cls.state["V_m"].init == nd["V_m"]
    sim = nx.Simulator(dt=DT)
    bad = [{"g_L": 0.0}, {"C_m": -1.0}, {"Delta_V": 0.0}, {"t_ref": -1.0}, {"lambda_0": -1.0},
           {"tau_stc": [1.0, 2.0], "q_stc": [1.0]}, {"tau_sfa": [0.0], "q_sfa": [1.0]}]
    bad += [{"tau_syn": [2.0, -1.0]}] if "multisynapse" in model else [{"tau_syn_ex": 0.0}]
    if model == "gif_cond_exp_multisynapse":
        bad.append({"tau_syn": [2.0, 3.0], "E_rev": [0.0]})
    for b in bad:
        with pytest.raises(nx.BadParameterError):
            sim.create(cls, 1, **b)
    if "multisynapse" in model:
        pop = sim.create(cls, 2, **MULTI[model])
        assert cls.port_names(sim._net.blocks[-1].params) == ("receptor_1", "receptor_2", "receptor_3")
        sg = sim.create(nx.spike_generator, spike_times=[1.0])
        for r in (0, 4):
            with pytest.raises(nx.NestaxError):
                sim.connect(sg, pop, weight=1.0, receptor_type=r)
        port, _ = cls.route(np.array([1.0, 2.0]), np.array([1, 3]))
        assert port.tolist() == [0, 2]
    if model == "gif_cond_exp_multisynapse":
        with pytest.raises(nx.BadParameterError):
            cls.route(np.array([-1.0]), np.array([1]))


# ------------------------------------------------------------------------------ escape noise statistics
NOISY = {"Delta_V": 2.0, "lambda_0": 5.0, "V_T_star": -45.0, "I_e": 110.0, "t_ref": 2.0,
         "tau_sfa": [40.0], "q_sfa": [2.0], "tau_stc": [15.0], "q_stc": [10.0]}
N_STAT, T_STAT = 12, 1000.0


def _stats(spikes, n, T, dt=DT):
    """Per-seed population rate (Hz) and mean ISI CV over neurons with >= 3 ISIs."""
    by = [np.array(sorted(k for k, s in spikes if s == i)) * dt for i in range(n)]
    rate = sum(len(b) for b in by) / n / (T / 1000.0)
    cvs = [np.std(np.diff(b)) / np.mean(np.diff(b)) for b in by if len(b) > 3]
    return rate, float(np.mean(cvs))


def _close(a, b, what, k=5.0):
    a, b = np.asarray(a, float), np.asarray(b, float)
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    assert abs(a.mean() - b.mean()) <= k * se, f"{what}: nestax {b} vs NEST {a} (se {se:.3g})"


@pytest.mark.parametrize("model", ["gif_psc_exp", "gif_cond_exp_multisynapse"])   # the others share the code
def test_escape_noise_rate_and_cv_match_nest_seeds(model):
    neurons = [{} for _ in range(N_STAT)]
    common = dict(NOISY)
    nest_r, nx_r = [], []
    for seed in range(1, 6):
        exp = experiment(model, T_STAT, neurons, common, None, [], [], seed=seed, nx_seed=seed)
        nest_r.append(_stats(run_nest(exp).spikes, N_STAT, T_STAT))
        nx_r.append(_stats(run_nestax(exp).spikes, N_STAT, T_STAT))
    nest_r, nx_r = np.array(nest_r), np.array(nx_r)
    print(f"{model}: rate NEST {nest_r[:, 0].round(2)} nestax {nx_r[:, 0].round(2)}; "
          f"CV NEST {nest_r[:, 1].round(3)} nestax {nx_r[:, 1].round(3)}")
    assert nest_r[:, 0].mean() > 5.0                     # the comparison is about real firing
    _close(nest_r[:, 0], nx_r[:, 0], f"{model} rate")
    _close(nest_r[:, 1], nx_r[:, 1], f"{model} CV")


def test_escape_noise_hazard_is_geometric():
    """V held at E_L = V_T_star (no input): lambda = lambda_0 exactly, so each free step fires with
    p = 1 - exp(-lambda_0 dt) and ISI = t_ref + dt * Geometric(p). 200 neurons x 2 s."""
    lam, n, T = 100.0, 200, 2000.0
    sim = nx.Simulator(dt=DT, seed=7)
    pop = sim.create(nx.gif_psc_exp, n, E_L=-60.0, V_m=-60.0, V_reset=-60.0, V_T_star=-60.0, lambda_0=lam,
                     t_ref=3.0)
    sr = sim.create(nx.spike_recorder)
    sim.connect(pop, sr)
    e = sim.simulate(T).events(sr)
    t, snd = mantissa(e["times"], u.ms), np.asarray(e["senders"])
    isi = np.concatenate([np.diff(np.sort(t[snd == g])) for g in pop.tolist()])
    steps = np.round(isi / DT).astype(int) - 30
    assert steps.min() == 1                               # t_ref is exactly 30 steps, then >= 1 free step
    p = -np.expm1(-lam / 1000.0 * DT)
    mean, sd = 1.0 / p, np.sqrt(1.0 - p) / p
    assert abs(steps.mean() - mean) < 5 * sd / np.sqrt(len(steps))
    # first free step fires with probability p
    assert abs(np.mean(steps == 1) - p) < 5 * np.sqrt(p * (1 - p) / len(steps))
