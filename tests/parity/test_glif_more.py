"""NEST 3.10 parity of glif_psc_double_alpha and glif_cond at GLIF levels 1-5, with dc, step-current and
spike input (excitatory and inhibitory weights on two receptors), split runs and parameter checks.

Every recordable (``I`` included) is compared at every common sample and the spike stamps must be
identical. Tolerances and measured deviations (x86-64 CPU, float64) are stated per model below.
"""
from __future__ import annotations

import numpy as np
import pytest

import nestax as nx

from .harness import Experiment, compare_traces, run_both
from .nest_helpers import fresh_nest

DT = 0.1
LEVELS = {1: (False, False, False), 2: (True, False, False), 3: (False, True, False), 4: (True, True, False),
          5: (True, True, True)}
FLAGS = ("spike_dependent_threshold", "after_spike_currents", "adapting_threshold")
SPIKES = [2.0, 10.0, 10.3, 30.0, 55.0]
BASE_REC = ["V_m", "ASCurrents_sum", "I", "threshold", "threshold_spike", "threshold_voltage"]
# glif_psc_double_alpha: exact integration, ATOL 1e-9 (measured max deviation printed by each case, <= 1e-12)
DA_ATOL = 1e-9


def compare(model, params, gen, rec, conns, atol, rtol=0.0, T=100.0, splits=None):
    exp = Experiment(model, DT, T, params, rec, conns, SPIKES, gen, splits)
    ref, got = run_both(exp)
    worst = compare_traces(ref, got, exp, lambda v: (atol, rtol), label=model,
                           kind="integrator" if "cond" in model else "exact")
    assert got.spikes == ref.spikes
    print(model, "max |nestax - NEST|", {k: float(f"{x:.3g}") for k, x in worst.items()}, len(ref.spikes), "spikes")
    return ref.spikes, worst


def _level(lv, **kw):
    return {**dict(zip(FLAGS, LEVELS[lv])), **kw}


# ---------------------------------------------------------------- glif_psc_double_alpha
DA_REC = BASE_REC + ["I_syn"]
DA_CONNS = [(100.0, 1.0, 1), (-50.0, 2.0, 2), (40.0, 1.5, 2)]
DA_SYN = {"tau_syn_fast": [2.0, 1.0], "tau_syn_slow": [6.0, 8.0], "amp_slow": [0.3, 0.8]}


@pytest.mark.parametrize("lv", sorted(LEVELS))
def test_double_alpha_levels_dc_and_spikes(lv):
    params = [_level(lv, **DA_SYN), _level(lv, E_L=-70.0, V_th=-50.0, V_reset=-72.0, t_ref=2.05, **DA_SYN),
              _level(lv, C_m=80.0, g=12.0, **DA_SYN)]
    spikes, worst = compare("glif_psc_double_alpha", params,
                            ("dc_generator", {"amplitude": 300.0, "start": 5.0, "stop": 80.0}, 1.0),
                            DA_REC, DA_CONNS, DA_ATOL)
    assert len(spikes) >= 6
    assert max(worst.values()) < 1e-12


@pytest.mark.parametrize("lv", [1, 5])
def test_double_alpha_step_current_split_runs(lv):
    params = [_level(lv, **DA_SYN)]
    gen = ("step_current_generator", {"amplitude_times": [5.0, 25.0, 40.0, 65.0],
                                      "amplitude_values": [400.0, -100.0, 600.0, 0.0]}, 1.0)
    spikes, _ = compare("glif_psc_double_alpha", params, gen, DA_REC, DA_CONNS, DA_ATOL, T=80.0,
                        splits=[7.3, 20.0, 0.1, 52.6])
    assert len(spikes) >= 3


def test_double_alpha_defaults_and_checks():
    nest = fresh_nest(DT)
    nd = nest.GetDefaults("glif_psc_double_alpha")
    for name, spec in nx.glif_psc_double_alpha.parameters.items():
        if spec.kind == "array":
            assert np.array_equal(np.asarray(spec.default, float), np.asarray(nd[name], float)), name
        else:
            assert spec.default == nd[name], name
    assert set(nx.glif_psc_double_alpha.recordables()) == set(nd["recordables"])
    sim = nx.Simulator(dt=DT)
    for bad in [{"spike_dependent_threshold": False, "after_spike_currents": False, "adapting_threshold": True},
                {"V_reset": -40.0}, {"C_m": 0.0}, {"t_ref": 0.0}, {"tau_syn_fast": [0.0]},
                {"tau_syn_slow": [-1.0]}, {"amp_slow": [0.0]},
                {"tau_syn_fast": [1.0, 2.0], "tau_syn_slow": [3.0], "amp_slow": [0.3]}]:
        with pytest.raises(nx.BadParameterError):
            sim.create(nx.glif_psc_double_alpha, 1, **bad)
    pop = sim.create(nx.glif_psc_double_alpha, 1, **DA_SYN)
    sg = sim.create(nx.spike_generator, spike_times=[1.0])
    for r in (0, 3):
        with pytest.raises(nx.NestaxError):
            sim.connect(sg, pop, weight=1.0, receptor_type=r)


# ---------------------------------------------------------------- glif_cond
# Same RKF45 loop as NEST (absolute error 1e-3): traces agree to rounding; ATOL 1e-9 (measured
# max deviation printed by each case).
COND_ATOL = 1e-9
COND_REC = BASE_REC + ["g_1", "g_2"]
COND_CONNS = [(5.0, 1.0, 1), (8.0, 2.0, 2), (3.0, 1.5, 1)]
COND_SYN = {"tau_syn": [0.5, 2.0], "E_rev": [0.0, -85.0]}


@pytest.mark.parametrize("lv", sorted(LEVELS))
def test_cond_levels_dc_and_spikes(lv):
    params = [_level(lv, **COND_SYN), _level(lv, E_L=-70.0, V_th=-50.0, V_reset=-72.0, t_ref=2.05, **COND_SYN),
              _level(lv, C_m=80.0, g_m=12.0, **COND_SYN)]
    spikes, worst = compare("glif_cond", params,
                            ("dc_generator", {"amplitude": 300.0, "start": 5.0, "stop": 80.0}, 1.0),
                            COND_REC, COND_CONNS, COND_ATOL)
    assert len(spikes) >= 6


@pytest.mark.parametrize("lv", [1, 5])
def test_cond_step_current_split_runs(lv):
    params = [_level(lv, **COND_SYN)]
    gen = ("step_current_generator", {"amplitude_times": [5.0, 25.0, 40.0, 65.0],
                                      "amplitude_values": [400.0, -100.0, 600.0, 0.0]}, 1.0)
    spikes, _ = compare("glif_cond", params, gen, COND_REC, COND_CONNS, COND_ATOL, T=80.0,
                        splits=[7.3, 20.0, 0.1, 52.6])
    assert len(spikes) >= 3


def test_cond_defaults_and_checks():
    nest = fresh_nest(DT)
    nd = nest.GetDefaults("glif_cond")
    for name, spec in nx.glif_cond.parameters.items():
        if spec.kind == "array":
            assert np.array_equal(np.asarray(spec.default, float), np.asarray(nd[name], float)), name
        else:
            assert spec.default == nd[name], name
    assert all(r in nx.glif_cond.recordables() for r in nd["recordables"])
    sim = nx.Simulator(dt=DT)
    for bad in [{"spike_dependent_threshold": False, "after_spike_currents": False, "adapting_threshold": True},
                {"V_reset": -40.0}, {"C_m": 0.0}, {"g_m": 0.0}, {"t_ref": 0.0}, {"tau_syn": [0.0, 1.0]},
                {"tau_syn": [1.0], "E_rev": [0.0, -85.0]}]:
        with pytest.raises(nx.BadParameterError):
            sim.create(nx.glif_cond, 1, **bad)
    pop = sim.create(nx.glif_cond, 1, **COND_SYN)
    sg = sim.create(nx.spike_generator, spike_times=[1.0])
    for r in (0, 3):
        with pytest.raises(nx.NestaxError):
            sim.connect(sg, pop, weight=1.0, receptor_type=r)
