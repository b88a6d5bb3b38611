"""NEST parity of the Hodgkin-Huxley models: hh_psc_alpha, hh_cond_exp_traub, hh_cond_beta_gap_traub.

Each case runs the same network in NEST 3.10 and nestax and requires identical spike steps and every
recordable (V_m, synaptic currents / conductances, Act_m, Inact_h, Act_n) to agree at every sample.
NEST integrates these models with GSL's RKF45 (absolute error 1e-3); nestax reproduces the same
adaptive loop, so the traces agree to rounding, not merely to the integrator's tolerance.
Measured on CPU in float64 (x86-64, NEST 3.10.0 wheel): between action potentials and in short runs
everything agrees to ~1e-11 (V_m) / 1e-13 (gates, synaptic variables); over many action potentials
V_m drifts apart by up to 4e-8 mV, the gates by 3e-10, the synaptic variables by 4e-10 (explained below).
Spike steps are identical in every case.
"""
import brainunit as u
import numpy as np
import pytest

import nestax as nx

from .harness import Experiment, compare_traces, run_both
from .nest_helpers import fresh_nest, mantissa

# The rate functions are evaluated with exp at every RKF45 stage; XLA's exp differs
# from glibc's in the last bit for ~14% of arguments, and a regularly firing neuron accumulates these
# differences as a phase drift that shows in V_m, multiplied by its slope (up to ~500 mV/ms) during an
# action potential. Replacing nestax's exp by exp * (1 + 2^-52) moves the Traub traces by the same
# amount as the NEST difference (Traub: 1e-7 vs 3e-8 mV), so the tolerance below is the measured effect of
# last-bit rounding, ~25 times the largest deviation seen, not integrator error (1e-3). Synaptic
# variables share the adaptive step with V_m, so the drift of the step sizes reaches them (4e-10 seen).
ATOL = {"hh_psc_alpha": {"V_m": 1e-6, "gate": 1e-8, "syn": 1e-8},
        "hh_cond_exp_traub": {"V_m": 1e-6, "gate": 1e-8, "syn": 1e-8},
        "hh_cond_beta_gap_traub": {"V_m": 1e-6, "gate": 1e-8, "syn": 1e-8}}
SPIKES = [2.0, 5.0, 5.5, 6.0, 20.0, 20.1, 20.2, 35.0, 50.0, 50.3, 71.0]
MODELS = [nx.hh_psc_alpha, nx.hh_cond_exp_traub, nx.hh_cond_beta_gap_traub]
# (weight, delay): pA for hh_psc_alpha, nS for the Traub models; both signs
CONNS = {"hh_psc_alpha": [(300.0, 1.0), (-200.0, 2.0), (80.0, 1.5), (-500.0, 1.2)],
         "hh_cond_exp_traub": [(20.0, 1.0), (-15.0, 2.0), (5.0, 1.5), (-40.0, 1.2)],
         "hh_cond_beta_gap_traub": [(60.0, 1.0), (-15.0, 2.0), (20.0, 1.5), (-40.0, 1.2)]}


def _tol(model, var):
    return ATOL[model.name]["V_m" if var == "V_m" else "gate" if var.startswith(("Act", "Inact")) else "syn"], 0


def compare(model, dt, T, params, gen, conns=None, spikes=SPIKES, splits=None):
    """Run both simulators; assert identical spikes and every recordable within ATOL at every sample."""
    rec = list(model.recordables())
    conns = CONNS[model.name] if conns is None else conns
    exp = Experiment(model.name, dt, T, params, rec, conns, spikes, gen, splits)
    ref, got = run_both(exp)
    worst = compare_traces(ref, got, exp, lambda var: _tol(model, var), label=model.name, kind="integrator")
    assert got.spikes == ref.spikes
    print(f"{model.name} dt={dt}: max deviation", {k: float(f"{v:.3g}") for k, v in worst.items()},
          f"{len(ref.spikes)} spikes identical")
    return ref.events, ref.spikes, worst


def _drive(model, amp):
    """Scale a current (pA) to the model: hh_psc_alpha (100 pF) needs less than the Traub models."""
    return amp * {"hh_psc_alpha": 1.0, "hh_cond_exp_traub": 2.0, "hh_cond_beta_gap_traub": 3.0}[model.name]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_dc_and_spike_input(model):
    params = [{"I_e": _drive(model, 300.0)}, {"I_e": 0.0, "V_m": -62.0},
              {"I_e": _drive(model, 800.0), "t_ref": 7.3}]
    gen = ("dc_generator", {"amplitude": _drive(model, 500.0), "start": 10.0, "stop": 60.0}, 0.5)
    ev, spikes, _ = compare(model, 0.1, 100.0, params, gen)
    assert len(spikes) >= 10
    assert {s for _, s in spikes} == {0, 1, 2}   # the input alone makes neuron 1 fire


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_step_current_and_strong_inhibition(model):
    params = [{}, {"E_L": -65.0, "C_m": 150.0}]
    # hh_psc_alpha: inhibition that drives V_m below ~ -110 mV makes the m-gate stiff (beta_m > 100/ms);
    # RKF45 then runs at its stability limit, where 1-ulp differences of exp flip accept/reject
    # decisions and the traces differ by up to the tolerance 1e-3 (measured: NEST vs nestax 2.1e-3 mV at
    # -136 mV, nestax vs nestax with exp * (1 + 2^-52) 2.3e-3 mV). The input here stays above that regime.
    conns = [(1500.0, 1.0), (-800.0, 2.5), (60.0, 0.1)] if model is nx.hh_psc_alpha else \
        [(60.0, 1.0), (-120.0, 2.5), (2.0, 0.1)]
    gen = ("step_current_generator", {"amplitude_times": [5.0, 25.0, 40.0, 65.0],
                                      "amplitude_values": [_drive(model, 600.0), -200.0,
                                                           _drive(model, 900.0), 0.0]}, 1.0)
    _, spikes, _ = compare(model, 0.1, 80.0, params, gen, conns=conns)
    assert len(spikes) >= 4


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_refractory_detection_and_split_simulate(model):
    """A long t_ref suppresses detection of action potentials (V_m is not clamped), and a run split
    into several Simulate calls continues exactly."""
    dt = 0.1
    t_refs = [0.0, 2.0, 9.35]
    params = [{"I_e": _drive(model, 1200.0), "t_ref": t} for t in t_refs]
    ev, spikes, _ = compare(model, dt, 60.0, params, None, conns=[], spikes=[],
                            splits=[7.3, 20.0, 0.1, 32.6])
    for i, t_ref in enumerate(t_refs):
        k = np.array([s for s, j in spikes if j == i])
        n_ref = int(np.ceil(round(t_ref * 1000) / round(dt * 1000)))
        assert len(k) >= 3 and np.all(np.diff(k) > n_ref)
    # without the counter the neuron fires more often than with t_ref = 9.35 ms
    assert sum(j == 0 for _, j in spikes) > sum(j == 2 for _, j in spikes)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_fine_resolution(model):
    _, spikes, _ = compare(model, 0.01, 25.0, [{"I_e": _drive(model, 600.0)}, {}],
                           ("dc_generator", {"amplitude": _drive(model, 400.0), "start": 3.0, "stop": 20.0}, 0.3),
                           spikes=[1.0, 2.0, 2.05, 10.0])
    assert len(spikes) >= 3


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_defaults_initial_state_routing_and_checks(model):
    nest = fresh_nest(0.1)
    nd = nest.GetDefaults(model.name)
    for name, spec in model.parameters.items():
        assert spec.default == nd[name], name
    assert set(model.recordables()) == set(nd["recordables"])
    for name in ("V_m", "Act_m", "Inact_h", "Act_n"):   # NEST's equilibrium start values
        assert abs(model.state[name].init - nd[name]) <= 1e-15 * max(1.0, abs(nd[name])), name
    # NEST's start state does not follow E_L given at creation
    nn = nest.Create(model.name, params={"E_L": -70.0})
    sim = nx.Simulator(dt=0.1)
    n = sim.create(model, 1, E_L=-70.0)
    assert np.ravel(mantissa(sim.get(n, "V_m"), u.mV))[0] == nn.V_m
    port, sign = model.route(np.array([2.0, -3.0, 0.0]), None)
    assert port.tolist() == [0, 1, 1]
    assert sign.tolist() == ([1.0, 1.0, 1.0] if model is nx.hh_psc_alpha else [1.0, -1.0, -1.0])
    bad = [{"C_m": 0.0}, {"t_ref": -1.0}] + [{k: 0.0} for k in model._time_constants]
    bad += [{k: -1.0} for k in model._conductances]
    for b in bad:
        with pytest.raises(nx.BadParameterError):
            sim.create(model, 1, **b)
        with pytest.raises(Exception):
            nest.Create(model.name, params=b)
    if model is nx.hh_cond_exp_traub:   # NEST does not check this model's conductances
        nest.Create(model.name, params={"g_K": -1.0})
        sim.create(model, 1, g_K=-1.0)
