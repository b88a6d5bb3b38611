"""Live NEST 3.10 parity of pp_psc_delta (stochastic point-process neuron with dead time and adaptation).

pp_psc_delta fires at random, so parity is checked in two ways:

(a) deterministic, every recordable (V_m, E_sfa) at every sample to atol 1e-9 and spike steps identical:
    - rate switched off (c_1 = c_2 = 0): pure subthreshold integration (exact propagators), no draws;
    - hard threshold (c_1 = 0, c_2 = 1e-300 Hz, c_3 = 1e9 / mV): the rate is < 1e-300 Hz while
      V_m <= E_sfa and overflows to infinity once V_m exceeds E_sfa by more than ~1.4e-6 mV, so the
      spike probability is 0 or 1 and the draw decides nothing (the band in between is ~3e-8 mV wide).
      This exercises dead time, reset / no reset, adaptation jumps, t_ref_remaining and dead_time < dt.
    Measured max deviation: ~1e-14 mV.
(b) noisy: firing rate and ISI CV over 5 NEST seeds vs 5 nestax seeds (fixed dead time with adaptation,
    gamma-distributed dead time, dead_time = 0 with Poisson multiplicities); seed means must agree within
    5 combined standard errors.
"""
from __future__ import annotations

import brainunit as u
import numpy as np
import pytest

import nestax as nx

from .nest_helpers import fresh_nest, mantissa
from .test_izhikevich_mat import Net, bad_params, defaults_match, drive, run_both, split_check

REC = ("V_m", "E_sfa")
OFF = {"c_1": 0.0, "c_2": 0.0}
HARD = {"c_1": 0.0, "c_2": 1e-300, "c_3": 1e9}


def _net(extra, shared=None):
    neurons = [
        {},                                          # 0 dc
        {"tau_m": 7.0, "C_m": 100.0},                # 1 step current
        {"tau_m": 20.0},                             # 2 excitatory spikes
        {"I_e": 150.0},                              # 3 inhibition on I_e
        {"I_e": 80.0, "dead_time": 3.0},             # 4 everything
        {"I_e": 300.0, "with_reset": False, "dead_time": 2.5},  # 5 I_e only, no reset
        {"V_m": -3.0},                               # 6 inhibition only
    ]
    neurons = [{**extra, **d} for d in neurons]
    return Net("pp_psc_delta", neurons, drive(4.0, -3.0, dc=450.0, step=(200.0, 550.0, -300.0, 450.0)), REC,
               shared=dict(shared or {}))


@pytest.mark.parametrize("dt", [0.1, 0.01])
def test_subthreshold_rate_off(dt):
    a, b = run_both(f"pp_psc_delta rate off dt={dt}", _net(OFF, {"tau_sfa": [20.0], "q_sfa": [5.0]}), dt, 40.0)
    assert all(len(s) == 0 for s in a["spikes"])
    assert np.ptp(b["samples"]["V_m"][:, 0]) > 5.0


@pytest.mark.parametrize("dt", [0.1, 0.01])
def test_hard_threshold_spikes(dt):
    sfa = {"tau_sfa": [30.0, 4.0], "q_sfa": [3.0, 1.5]}
    a, b = run_both(f"pp_psc_delta hard threshold dt={dt}", _net(HARD, sfa), dt, 40.0)
    for i in (0, 1, 2, 4, 5):
        assert len(a["spikes"][i]) > 0, f"neuron {i} never fired"
    assert b["samples"]["E_sfa"].max() > 3.0


def test_dead_time_reset_start_split():
    """No adaptation, no reset: a neuron above threshold fires once per dead time + 1 step; with reset,
    V_m = 0 at the stamp; t_ref_remaining delays the first spike; dead_time below dt acts as dt."""
    dt = 0.1
    neurons = [{**HARD, "I_e": 500.0, "with_reset": False, "dead_time": dtm} for dtm in (1.0, 2.05, 0.03)]
    neurons += [{**HARD, "I_e": 500.0, "V_m": 1.0, "t_ref_remaining": 1.5},
                {**HARD, "I_e": 500.0, "V_m": 1.0}]
    a, b = run_both("pp_psc_delta dead time", Net("pp_psc_delta", neurons, [], REC), dt, 20.0)
    for i, steps in enumerate((10, 21, 1)):
        np.testing.assert_array_equal(np.diff(b["spikes"][i]), steps + 1)
    assert b["spikes"][4][0] == 1                       # above threshold at t = 0: spikes at dt
    assert b["spikes"][3][0] == 16                      # 15 dead steps first
    st = b["samples"]["stamps"]
    for k in b["spikes"][4]:
        assert b["samples"]["V_m"][np.searchsorted(st, k), 4] == 0.0
    split_check("pp_psc_delta split", _net(HARD, {"tau_sfa": [10.0], "q_sfa": [2.0]}), dt, 40.0,
                [0.1, 7.3, 0.5, 12.0, 1.1, 19.0])


def test_defaults_and_checks():
    nd = defaults_match("pp_psc_delta", skip=("tau_sfa", "q_sfa"))
    assert list(nd["tau_sfa"]) == [] and list(nd["q_sfa"]) == []
    assert set(nx.pp_psc_delta.recordables()) == set(nd["recordables"])
    bad_params("pp_psc_delta", [{"C_m": 0.0}, {"tau_m": -1.0}, {"dead_time": -1.0}, {"dead_time_shape": 0},
                                {"t_ref_remaining": -0.5}, {"c_3": -1.0}, {"tau_sfa": [1.0, 2.0], "q_sfa": [1.0]},
                                {"tau_sfa": [0.0], "q_sfa": [1.0]}])


# ------------------------------------------------------------------------------ noisy statistics
N, T = 12, 1000.0
NOISY = {
    "fixed dead time, adaptation": {"I_e": 300.0, "dead_time": 2.0, "tau_sfa": [50.0], "q_sfa": [3.0]},
    "gamma dead time": {"I_e": 250.0, "dead_time": 4.0, "dead_time_random": True, "dead_time_shape": 3},
    "no dead time (Poisson)": {"I_e": 200.0, "dead_time": 0.0, "c_1": 2.0},
}


def _stats(times, senders, gids):
    by = [np.sort(times[senders == g]) for g in gids]
    rate = sum(len(b) for b in by) / len(gids) / (T / 1000.0)
    cvs = [np.std(np.diff(b)) / np.mean(np.diff(b)) for b in by if len(b) > 3]
    return rate, float(np.mean(cvs))


def _close(a, b, what, k=5.0):
    a, b = np.asarray(a, float), np.asarray(b, float)
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    assert abs(a.mean() - b.mean()) <= k * se, f"{what}: nestax {b} vs NEST {a} (se {se:.3g})"


@pytest.mark.parametrize("case", list(NOISY))
def test_rate_and_cv_match_nest_seeds(case):
    params = NOISY[case]
    nest_r, nx_r = [], []
    for seed in range(1, 6):
        nest = fresh_nest(0.1, seed)
        pop = nest.Create("pp_psc_delta", N, params=params)
        sr = nest.Create("spike_recorder")
        nest.Connect(pop, sr)
        nest.Simulate(T)
        ev = sr.events
        nest_r.append(_stats(np.asarray(ev["times"]), np.asarray(ev["senders"]), pop.tolist()))
        sim = nx.Simulator(dt=0.1, seed=seed)
        p2 = sim.create(nx.pp_psc_delta, N, **params)
        s2 = sim.create(nx.spike_recorder)
        sim.connect(p2, s2)
        e = sim.simulate(T).events(s2)
        nx_r.append(_stats(mantissa(e["times"], u.ms), np.asarray(e["senders"]), p2.tolist()))
    nest_r, nx_r = np.array(nest_r), np.array(nx_r)
    print(f"pp_psc_delta {case}: rate NEST {nest_r[:, 0].round(2)} nestax {nx_r[:, 0].round(2)}; "
          f"CV NEST {nest_r[:, 1].round(3)} nestax {nx_r[:, 1].round(3)}")
    assert nest_r[:, 0].mean() > 10.0
    _close(nest_r[:, 0], nx_r[:, 0], f"{case} rate")
    _close(nest_r[:, 1], nx_r[:, 1], f"{case} CV")
