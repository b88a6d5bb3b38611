"""NEST 3.10 parity of aeif_cond_alpha_multisynapse and aeif_cond_beta_multisynapse.

Same network in NEST and nestax (three receptors: excitatory E_rev = 0 mV, inhibitory E_rev = -85 mV
and a second excitatory one with another time constant), dc / step-current / spike input, several
neurons per case. Required: identical spike (step, sender, multiplicity) lists, every recordable
(V_m, w, g_1 .. g_3) at every common sample within the tolerances below.

Tolerances (same reasoning as tests/parity/test_aeif.py, same RKF45 loop): before a neuron's first
spike traces agree to rounding (ATOL 1e-9, RTOL 1e-10); from its first spike on to the integrator's
accuracy, because NEST's accept/reject decisions while V_m runs up to V_peak depend on last-bit
rounding of the huge exponential term (POST_ATOL = POST_RTOL = 2e-5 relative to max(|value|, 1)).
Measured deviations are printed by every case (x86-64 CPU, float64).
"""
import numpy as np
import pytest

import nestax as nx

from .harness import Experiment, aligned, first_spike, run_both, run_nest
from .nest_helpers import fresh_nest
from .validation import record as vrecord

ATOL, RTOL = 1e-9, 1e-10
POST_ATOL, POST_RTOL = 2e-5, 2e-5
SPIKES = [2.0, 5.0, 5.5, 6.0, 20.0, 20.1, 20.2, 35.0, 50.0, 50.3, 71.0]
CONNS = [(20.0, 1.0, 1), (15.0, 2.0, 2), (5.0, 1.5, 3), (40.0, 1.2, 2)]   # (weight nS, delay, receptor)
MODELS = [nx.aeif_cond_alpha_multisynapse, nx.aeif_cond_beta_multisynapse]
REC = ["V_m", "w", "g_1", "g_2", "g_3"]


def syn_params(model):
    if model is nx.aeif_cond_alpha_multisynapse:
        return {"E_rev": [0.0, -85.0, 0.0], "tau_syn": [0.2, 2.0, 1.0]}
    return {"E_rev": [0.0, -85.0, 0.0], "tau_rise": [0.2, 0.5, 1.0], "tau_decay": [1.0, 5.0, 1.0]}


def compare(model, params, gen, T=100.0, dt=0.1, conns=CONNS, splits=None):
    exp = Experiment(model.name, dt, T, params, REC, conns, SPIKES, gen, splits)
    nest_run, nx_run = run_both(exp)
    worst = {"pre": 0.0, "post": 0.0}
    for v in REC:
        for i in range(exp.n):
            common, ref, mine = aligned(nest_run, nx_run, v, i, exp)
            pre = common < first_spike(nest_run.spikes, i)
            dev = np.abs(mine - ref) / np.maximum(np.abs(ref), 1.0)
            for part, m, atol, rtol in (("pre", pre, ATOL, RTOL), ("post", ~pre, POST_ATOL, POST_RTOL)):
                if m.any():
                    worst[part] = max(worst[part], float(dev[m].max()))
                    np.testing.assert_allclose(mine[m], ref[m], atol=atol, rtol=rtol,
                                               err_msg=f"{model.name} {v} neuron {i} ({part} first spike)")
    assert nx_run.spikes == nest_run.spikes
    case = f"dt={dt}" + (" split" if splits else "")
    vrecord(model.name, f"{case} before first spike", worst["pre"], ATOL + RTOL, "integrator",
            "max |dev| / max(|NEST|, 1), all recordables")
    vrecord(model.name, f"{case} after first spike", worst["post"], POST_ATOL + POST_RTOL, "integrator",
            "max |dev| / max(|NEST|, 1), all recordables")
    print(model.name, "max scaled deviation", {k: float(f"{x:.3g}") for k, x in worst.items()},
          len(nest_run.spikes), "spikes identical")
    return nest_run.spikes, worst


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_dc_and_spike_input(model):
    sp = syn_params(model)
    params = [{"I_e": 700.0, **sp}, {"V_m": -58.0, "a": 2.0, "b": 40.0, "t_ref": 1.0, **sp},
              {"I_e": 1500.0, **sp}, {"V_m": 1.0, **sp}]    # the last starts above V_peak: spikes at dt
    spikes, worst = compare(model, params, ("dc_generator", {"amplitude": 800.0, "start": 10.0, "stop": 60.0}, 0.5))
    assert len(spikes) >= 10 and (1, 3) in spikes


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_step_current_refractoriness_split_runs(model):
    sp = syn_params(model)
    params = [{"t_ref": 2.0, **sp}, {"t_ref": 0.35, "Delta_T": 0.5, "V_reset": -65.0, "gsl_error_tol": 1e-8, **sp}]
    gen = ("step_current_generator", {"amplitude_times": [5.0, 25.0, 40.0, 65.0],
                                      "amplitude_values": [1500.0, -200.0, 2500.0, 0.0]}, 1.0)
    conns = [(3 * w, d, r) for w, d, r in CONNS]
    spikes, _ = compare(model, params, gen, T=80.0, conns=conns, splits=[7.3, 20.0, 0.1, 52.6])
    assert len(spikes) >= 3


def test_refractoriness_and_multiple_spikes_per_step():
    """t_ref = 2 ms under 1200 pA: V_m stays at V_reset for t_ref; t_ref = 0 with a huge drive fires
    several times in one step (multiplicity), as in NEST."""
    model = nx.aeif_cond_beta_multisynapse
    sp = syn_params(model)
    dt = 0.1
    nest_run = run_nest(Experiment(model.name, dt, 40.0, [{"I_e": 1200.0, "t_ref": 2.0, **sp}], REC))
    spk, (sn, v_m) = nest_run.spikes, nest_run.column("V_m", 0)
    compare(model, [{"I_e": 1200.0, "t_ref": 2.0, **sp}], None, T=40.0, conns=[])
    assert len(spk) >= 2
    for k, _ in spk:
        held = (sn >= k) & (sn <= k + round(2.0 / dt) - 1)   # stamp k .. k + 19: clamped
        assert np.all(v_m[held] == -60.0)
    spikes, _ = compare(nx.aeif_cond_alpha_multisynapse, [{"I_e": 2.0e5, "b": 0.0, "a": 0.0,
                                                           **syn_params(nx.aeif_cond_alpha_multisynapse)}],
                        None, T=20.0, dt=0.5, conns=[])
    steps = [k for k, _ in spikes]
    assert len(steps) > len(set(steps))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_defaults_recordables_and_checks(model):
    nest = fresh_nest(0.1)
    nd = nest.GetDefaults(model.name)
    for name, spec in model.parameters.items():
        if spec.kind == "array":
            assert np.array_equal(np.asarray(spec.default, float), np.asarray(nd[name], float)), name
        else:
            assert spec.default == nd[name], name
    assert set(nd["recordables"]) <= {"V_m", "w", "g_1"} and all(r in model.recordables() for r in nd["recordables"])
    sim = nx.Simulator(dt=0.1)
    sp = syn_params(model)
    bad = [{"C_m": 0.0}, {"V_reset": 1.0}, {"V_peak": -60.0}, {"Delta_T": -1.0}, {"tau_w": 0.0},
           {"t_ref": -1.0}, {"gsl_error_tol": 0.0}, {**sp, "E_rev": [0.0, -85.0]}]
    if model is nx.aeif_cond_alpha_multisynapse:
        bad.append({"E_rev": [0.0], "tau_syn": [0.0]})
    else:
        bad += [{"E_rev": [0.0], "tau_rise": [3.0], "tau_decay": [2.0]},
                {"E_rev": [0.0], "tau_rise": [0.0], "tau_decay": [2.0]}]
    for b in bad:
        with pytest.raises(nx.BadParameterError):
            sim.create(model, 1, **b)
    pop = sim.create(model, 1, **sp)
    sg = sim.create(nx.spike_generator, spike_times=[1.0])
    for r in (0, 4):
        with pytest.raises(nx.NestaxError):
            sim.connect(sg, pop, weight=1.0, receptor_type=r)
    with pytest.raises(nx.NestaxError):
        sim2 = nx.Simulator(dt=0.1)
        p2 = sim2.create(model, 1, **sp)
        s2 = sim2.create(nx.spike_generator, spike_times=[1.0])
        sim2.connect(s2, p2, weight=-1.0, receptor_type=1)
        sim2.simulate(5.0)
    with pytest.raises(nx.NestaxError):   # g_4 does not exist with three receptors
        mm = sim.create(nx.multimeter, record_from=["g_4"])
        sim.connect(mm, pop)
        sim.simulate(1.0)
