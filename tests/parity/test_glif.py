"""NEST 3.10 parity of glif_psc at the five GLIF levels (mechanism flags spike_dependent_threshold,
after_spike_currents, adapting_threshold), with dc, step-current and spike input (excitatory and
inhibitory weights on two receptors).

Every recordable is compared at every common sample to ATOL and the spike stamps exactly; measured
max deviation (x86-64 CPU, float64) <= 1.2e-13 (V_m, ASCurrents_sum). The recordable ``I`` is the
generator current read for the next step, in NEST and in nestax, and is compared sample by sample too.
"""
from __future__ import annotations

import brainunit as u
import numpy as np
import pytest

import nestax as nx

from .harness import Experiment, compare_traces, run_both
from .nest_helpers import fresh_nest, mantissa

ATOL = 1e-9
DT = 0.1
LEVELS = {1: (False, False, False), 2: (True, False, False), 3: (False, True, False), 4: (True, True, False),
          5: (True, True, True)}
FLAGS = ("spike_dependent_threshold", "after_spike_currents", "adapting_threshold")
REC = ["V_m", "ASCurrents_sum", "I", "I_syn", "threshold", "threshold_spike", "threshold_voltage"]
SPIKES = [2.0, 10.0, 10.3, 30.0, 55.0]
CONNS = [(100.0, 1.0, 1), (-50.0, 2.0, 2), (40.0, 1.5, 2)]


def compare(params, gen, T=100.0, splits=None):
    exp = Experiment("glif_psc", DT, T, params, REC, CONNS, SPIKES, gen, splits)
    ref, got = run_both(exp)
    worst = compare_traces(ref, got, exp, lambda v: (ATOL, 0), label="glif_psc", kind="exact")
    assert got.spikes == ref.spikes
    print("glif_psc max |nestax - NEST|", {k: float(f"{x:.3g}") for k, x in worst.items()}, len(ref.spikes), "spikes")
    return ref.spikes, worst


def _level(lv, **kw):
    return {**dict(zip(FLAGS, LEVELS[lv])), "tau_syn": [2.0, 1.0], **kw}


@pytest.mark.parametrize("lv", sorted(LEVELS))
def test_levels_dc_and_spikes(lv):
    params = [_level(lv), _level(lv, E_L=-70.0, V_th=-50.0, V_reset=-72.0, t_ref=2.05), _level(lv, C_m=80.0, g=12.0)]
    spikes, worst = compare(params, ("dc_generator", {"amplitude": 300.0, "start": 5.0, "stop": 80.0}, 1.0))
    assert len(spikes) >= 6
    assert max(worst.values()) < 1e-12


@pytest.mark.parametrize("lv", [1, 5])
def test_levels_step_current_split_runs(lv):
    params = [_level(lv, asc_init=[5.0, -3.0]) if lv == 5 else _level(lv)]
    gen = ("step_current_generator", {"amplitude_times": [5.0, 25.0, 40.0, 65.0],
                                      "amplitude_values": [400.0, -100.0, 600.0, 0.0]}, 1.0)
    spikes, _ = compare(params, gen, T=80.0, splits=[7.3, 20.0, 0.1, 52.6])
    assert len(spikes) >= 3


def test_defaults_levels_and_checks():
    nest = fresh_nest(DT)
    nd = nest.GetDefaults("glif_psc")
    for name, spec in nx.glif_psc.parameters.items():
        if spec.kind == "array":
            assert np.array_equal(np.asarray(spec.default, float), np.asarray(nd[name], float)), name
        else:
            assert spec.default == nd[name], name
    assert set(nx.glif_psc.recordables()) == set(nd["recordables"])
    sim = nx.Simulator(dt=DT)
    for bad in [{"spike_dependent_threshold": False, "after_spike_currents": False, "adapting_threshold": True},
                {"after_spike_currents": True, "asc_decay": [0.1]}, {"after_spike_currents": True, "asc_r": [2.0, 1.0]},
                {"V_reset": -40.0}, {"C_m": 0.0}, {"g": -1.0}, {"t_ref": 0.0}, {"tau_syn": [0.0]}]:
        with pytest.raises(nx.BadParameterError):
            sim.create(nx.glif_psc, 1, **bad)
    pop = sim.create(nx.glif_psc, 1, tau_syn=[1.0, 2.0])
    sg = sim.create(nx.spike_generator, spike_times=[1.0])
    for r in (0, 3):   # glif needs receptor_type >= 1
        with pytest.raises(nx.NestaxError):
            sim.connect(sg, pop, weight=1.0, receptor_type=r)
    assert np.allclose(mantissa(sim.get(pop, "V_m"), u.mV), -78.85)
