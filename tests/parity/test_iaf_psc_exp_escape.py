"""iaf_psc_exp's escape noise (NEST parameters delta, rho): with delta > 0 the neuron fires with
probability rho exp((V_m - V_th)/delta) dt per step. Distributional parity with NEST 3.10: the mean rate
and ISI CV over 200 neurons (one run per simulator, two parameter sets) agree within 5 combined standard
errors (SE from the spread over neurons); with delta = 0 nothing is drawn and the neuron is the
deterministic iaf_psc_exp (checked by the other parity tests)."""
from __future__ import annotations

import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

N, T = 200, 2000.0
CASES = {"sub-threshold drive": {"delta": 2.0, "rho": 200.0, "I_e": 330.0, "t_ref": 2.0},
         "strong escape noise": {"delta": 5.0, "rho": 50.0, "I_e": 200.0, "t_ref": 1.0, "tau_syn_ex": 0.5}}


def per_neuron(senders, times, gids):
    rates, cvs = [], []
    for g in gids:
        t = np.sort(times[senders == g])
        rates.append(len(t) / T * 1000.0)
        isi = np.diff(t)
        if len(isi) > 2:
            cvs.append(isi.std() / isi.mean())
    return np.array(rates), np.array(cvs)


@pytest.mark.parametrize("case", list(CASES))
def test_escape_noise_rate_and_cv_match_nest(case):
    params = CASES[case]
    nest = fresh_nest(0.1, 7)
    pop = nest.Create("iaf_psc_exp", N, params=params)
    sr = nest.Create("spike_recorder")
    nest.Connect(pop, sr)
    nest.Simulate(T)
    ref = per_neuron(sr.events["senders"], sr.events["times"], pop.tolist())

    sim = nx.Simulator(dt=0.1, seed=7)
    p2 = sim.create(nx.iaf_psc_exp, N, **params)
    s2 = sim.create(nx.spike_recorder)
    sim.connect(p2, s2)
    ev = sim.simulate(T).events(s2)
    got = per_neuron(np.asarray(ev["senders"]), mantissa(ev["times"]), p2.tolist())
    print(f"{case}: rate NEST {ref[0].mean():.2f} nestax {got[0].mean():.2f} Hz; "
          f"CV NEST {ref[1].mean():.3f} nestax {got[1].mean():.3f}")
    assert ref[0].mean() > 5.0 and len(ref[1]) > N // 2
    for a, b, what in ((ref[0], got[0], "rate"), (ref[1], got[1], "ISI CV")):
        se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        assert abs(a.mean() - b.mean()) <= 5 * se, (what, a.mean(), b.mean(), se)
        vrecord("iaf_psc_exp", f"escape noise {what}", abs(a.mean() - b.mean()) / se, 5.0, "statistical",
                f"{what}: |nestax - NEST| / combined SE")


def test_escape_noise_parameters_are_checked():
    sim = nx.Simulator(dt=0.1)
    for bad in ({"rho": -1.0}, {"delta": -0.5}):
        with pytest.raises(BadParameterError, match="iaf_psc_exp: parameter '" + next(iter(bad))):
            sim.create(nx.iaf_psc_exp, 1, **bad)
    nest = fresh_nest(0.1)
    for bad in ({"rho": -1.0}, {"delta": -0.5}):
        with pytest.raises(Exception):
            nest.Create("iaf_psc_exp", params=bad)
