"""Live NEST 3.10 parity of iaf_psc_exp_htum and ignore_and_fire.

NEST quirk: iaf_psc_exp_htum's multimeter records V_m relative to E_L (its recordable reads the internal
value without adding E_L), while GetStatus / SetStatus use the absolute V_m. nestax reports the absolute
V_m everywhere (get, set and multimeter share one definition); the tests add E_L to NEST's recorded V_m.

iaf_psc_exp_htum is integrated exactly: V_m, I_syn_ex, I_syn_in agree with NEST to atol 1e-9 at every
sample (measured ~1e-13) and spike steps are identical. ignore_and_fire has no recordables: its spike
steps must be identical.
"""
from __future__ import annotations

import numpy as np
import pytest

import nestax as nx

from .nest_helpers import fresh_nest
from .test_izhikevich_mat import Net, bad_params, defaults_match, drive, first_response_step, run_both, split_check

HTUM_REC = ("V_m", "I_syn_ex", "I_syn_in")


def _htum_net():
    neurons = [
        {},                                                      # 0 dc
        {"t_ref_abs": 1.0, "t_ref_tot": 3.3},                    # 1 step current
        {"tau_syn_ex": 0.7, "tau_syn_in": 4.0, "t_ref_abs": 0.5, "t_ref_tot": 0.5},  # 2 exc spikes
        {"I_e": 300.0, "tau_syn_ex": 5.0, "tau_syn_in": 0.5},    # 3 inhibition on I_e
        {"I_e": 200.0, "t_ref_abs": 0.3, "t_ref_tot": 4.0},      # 4 everything
        {"I_e": 420.0, "V_reset": -65.0, "t_ref_abs": 1.0},      # 5 I_e only
        {},                                                      # 6 inhibition only
    ]
    return Net("iaf_psc_exp_htum", neurons, drive(900.0, -600.0), HTUM_REC, nest_vm_relative=True)


@pytest.mark.parametrize("dt", [0.1, 0.01])
def test_htum_inputs(dt):
    a, b = run_both(f"iaf_psc_exp_htum inputs dt={dt}", _htum_net(), dt, 50.0)
    for i in (0, 1, 2, 4, 5):
        assert len(a["spikes"][i]) > 0, f"neuron {i} never fired"


def test_htum_refractoriness_arrival_start_split():
    """V_m held at V_reset for t_ref_abs; no spike before t_ref_tot although V_m integrates again."""
    dt = 0.1
    cases = [(0.5, 2.0), (2.0, 2.0), (1.0, 3.3), (0.21, 0.5)]
    neurons = [{"I_e": 1500.0, "t_ref_abs": ab, "t_ref_tot": tot, "V_reset": -68.0} for ab, tot in cases]
    neurons += [{}, {"V_m": -50.0}]
    inputs = [{"kind": "spike_generator", "params": {"spike_times": [5.0]}, "weight": 500.0, "delay": 1.0,
               "targets": [4]}]
    a, b = run_both("iaf_psc_exp_htum refractory", Net("iaf_psc_exp_htum", neurons, inputs, HTUM_REC,
                                                                   nest_vm_relative=True), dt, 30.0)
    st, v = b["samples"]["stamps"], b["samples"]["V_m"]
    steps = lambda t: int(np.ceil(round(t * 1000) / 100 - 1e-12))  # noqa: E731  (tics, then up to steps)
    for i, (ab, tot) in enumerate(cases):
        spikes = b["spikes"][i]
        assert len(spikes) >= 3
        assert np.all(np.diff(spikes) >= steps(tot) + 1)
        j = int(np.searchsorted(st, spikes[1]))
        np.testing.assert_array_equal(v[j:j + steps(ab) + 1, i], -68.0)
        assert v[j + steps(ab) + 1, i] > -68.0
    assert first_response_step(b, "I_syn_ex", 4, 0) == 60 and first_response_step(b, "V_m", 4, 0) == 61
    assert list(b["spikes"][5][:1]) == [1]
    split_check("iaf_psc_exp_htum split", _htum_net(), dt, 50.0, [0.1, 7.3, 0.5, 12.0, 1.1, 9.0, 20.0])


def test_htum_defaults_and_checks():
    nd = defaults_match("iaf_psc_exp_htum")
    assert set(nx.iaf_psc_exp_htum.recordables()) == set(nd["recordables"])
    bad_params("iaf_psc_exp_htum", [{"V_reset": -50.0}, {"t_ref_abs": 3.0}, {"C_m": 0.0}, {"tau_m": -1.0},
                                    {"tau_syn_ex": 0.0}, {"t_ref_tot": 0.0}])
    nest = fresh_nest(0.1)
    with pytest.raises(Exception):
        nest.Create("iaf_psc_exp_htum", params={"t_ref_abs": 3.0})


# ------------------------------------------------------------------------------------------ ignore_and_fire
@pytest.mark.parametrize("dt", [0.1, 0.25])
def test_ignore_and_fire_spikes(dt):
    """Spike steps for several rates and phases (including ones off the grid), input ignored."""
    neurons = [{}, {"rate": 50.0, "phase": 0.5}, {"rate": 33.0, "phase": 0.3}, {"rate": 200.0, "phase": 1.0},
               {"rate": 1000.0, "phase": 0.01}, {"rate": 7.0, "phase": 0.9}]
    inputs = [{"kind": "spike_generator", "params": {"spike_times": [1.0, 2.0, 3.0]}, "weight": 1e4, "delay": 1.0,
               "targets": [0, 1]},
              {"kind": "dc_generator", "params": {"amplitude": 1e4}, "delay": 1.0, "targets": [2]}]
    a, b = run_both(f"ignore_and_fire dt={dt}", Net("ignore_and_fire", neurons, inputs, ()), dt, 250.0)
    assert all(len(s) >= 1 for s in a["spikes"])
    # default: 10 Hz, phase 1 -> first spike at 100 ms + dt, then every 100 ms
    np.testing.assert_array_equal(b["spikes"][0], np.round(np.array([100.0, 200.0]) / dt).astype(int) + 1)


def test_ignore_and_fire_set_and_checks():
    nd = defaults_match("ignore_and_fire")
    assert nd["recordables"] == [] or len(nd["recordables"]) == 0
    bad_params("ignore_and_fire", [{"phase": 0.0}, {"phase": 1.5}, {"rate": 0.0}])
    dt = 0.1
    nest = fresh_nest(dt)
    npop = nest.Create("ignore_and_fire", 2, params={"rate": 40.0, "phase": 0.5})
    nsr = nest.Create("spike_recorder")
    nest.Connect(npop, nsr)
    sim = nx.Simulator(dt=dt)
    pop = sim.create(nx.ignore_and_fire, 2, rate=40.0, phase=0.5)
    sr = sim.create(nx.spike_recorder)
    sim.connect(pop, sr)
    res = []
    for T, ch in [(33.3, {"rate": 100.0}), (20.0, {"phase": 0.2}), (40.0, {})]:
        nest.Simulate(T)
        res.append(sim.simulate(T))
        if ch:
            npop[1:].set(ch)
            sim.set(pop[1:], **ch)
    ev = nsr.events
    for j, g in enumerate(pop.tolist()):
        ours = np.concatenate([np.asarray(r.events(sr)["times"].mantissa)[np.asarray(r.events(sr)["senders"]) == g]
                               for r in res])
        theirs = ev["times"][ev["senders"] == npop[j].global_id]
        np.testing.assert_array_equal(np.round(ours / dt).astype(int), np.round(theirs / dt).astype(int))
