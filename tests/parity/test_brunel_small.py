"""Brunel (2000) network, scaled down, NEST vs nestax: population rate and ISI CV over seeds.

Network as NEST's examples/brunel_delta_nest.py (iaf_psc_delta, C_m = 1 pF, tau_m = 20 ms, t_ref = 2 ms,
E_L = 0, V_reset = 10 mV, V_th = 20 mV), with N_E = 800, N_I = 200, C_E = 80, C_I = 20, J = 0.1 mV,
g = 5, eta = 2, delay 1.5 ms, one poisson_generator at eta * nu_th * C_E onto every neuron (weight J),
fixed_indegree connectivity with NEST's default autapses/multapses allowed.

The connectivity and the Poisson drive are drawn differently by the two simulators, so spikes differ;
the statistics must agree. Acceptance band: each nestax seed's population rate lies within
[min - m, max + m] of NEST's seeds, where m = 3 x the standard deviation of NEST's seed rates plus
5 % of their mean (3 sigma of the seed-to-seed spread plus a systematic allowance), and the mean over
nestax seeds lies within the NEST mean +- (2 sigma + 5 %); the same for the mean ISI CV (over E
neurons with >= 3 spikes after a 100 ms transient).
"""
import time

import brainunit as u
import numpy as np

import nestax as nx

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

NE, NI, CE, CI = 800, 200, 80, 20
J, G, ETA, DELAY = 0.1, 5.0, 2.0, 1.5
TAU_M, THETA = 20.0, 20.0
T, T0 = 400.0, 100.0
NEURON = {"C_m": 1.0, "tau_m": TAU_M, "t_ref": 2.0, "E_L": 0.0, "V_reset": 10.0, "V_m": 0.0, "V_th": THETA}
NU_TH = THETA / (J * CE * TAU_M)
P_RATE = 1000.0 * ETA * NU_TH * CE        # Hz, = 20 kHz
NEST_SEEDS = (11, 12, 13, 14)
NX_SEEDS = (1, 2, 3, 4)


def stats(senders, times, gids):
    keep = times > T0
    senders, times = senders[keep], times[keep]
    rate = len(times) / len(gids) / ((T - T0) / 1000.0)
    order = np.lexsort((times, senders))
    s, t = senders[order], times[order]
    cvs = []
    bounds = np.searchsorted(s, gids), np.searchsorted(s, gids, side="right")
    for a, b in zip(*bounds):
        if b - a >= 3:
            isi = np.diff(t[a:b])
            cvs.append(isi.std() / isi.mean())
    return rate, float(np.mean(cvs)) if cvs else np.nan


def run_nest(seed):
    nest = fresh_nest(0.1, seed)
    nest.local_num_threads = 1
    nest.SetDefaults("iaf_psc_delta", NEURON)
    E = nest.Create("iaf_psc_delta", NE)
    I = nest.Create("iaf_psc_delta", NI)
    noise = nest.Create("poisson_generator", params={"rate": P_RATE})
    sr = nest.Create("spike_recorder")
    nest.Connect(noise, E + I, syn_spec={"weight": J, "delay": DELAY})
    nest.Connect(E, E + I, {"rule": "fixed_indegree", "indegree": CE}, {"weight": J, "delay": DELAY})
    nest.Connect(I, E + I, {"rule": "fixed_indegree", "indegree": CI}, {"weight": -G * J, "delay": DELAY})
    nest.Connect(E, sr)
    nest.Simulate(T)
    ev = sr.events
    return stats(np.asarray(ev["senders"]), np.asarray(ev["times"]), np.asarray(E.tolist()))


def run_nx(seed):
    sim = nx.Simulator(dt=0.1, seed=seed)
    E = sim.create(nx.iaf_psc_delta, NE, **NEURON)
    I = sim.create(nx.iaf_psc_delta, NI, **NEURON)
    noise = sim.create(nx.poisson_generator, rate=P_RATE)
    sr = sim.create(nx.spike_recorder)
    sim.connect(noise, E + I, weight=J, delay=DELAY)
    sim.connect(E, E + I, rule="fixed_indegree", indegree=CE, weight=J, delay=DELAY)
    sim.connect(I, E + I, rule="fixed_indegree", indegree=CI, weight=-G * J, delay=DELAY)
    sim.connect(E, sr)
    res = sim.simulate(T)
    ev = res.events(sr)
    times = mantissa(ev["times"], u.ms)
    return stats(np.asarray(ev["senders"]), times, np.asarray(E._gids))


def test_brunel_rate_and_cv_within_nest_seed_range():
    t0 = time.perf_counter()
    nest_stats = np.array([run_nest(s) for s in NEST_SEEDS])
    t1 = time.perf_counter()
    nx_stats = np.array([run_nx(s) for s in NX_SEEDS])
    t2 = time.perf_counter()
    report = (f"NEST rate/CV per seed {np.round(nest_stats, 3).tolist()} ({t1 - t0:.1f} s); "
              f"nestax {np.round(nx_stats, 3).tolist()} ({t2 - t1:.1f} s)")
    print(report)
    assert np.all(np.isfinite(nest_stats)) and np.all(np.isfinite(nx_stats)), report
    assert nest_stats[:, 0].min() > 1.0, report     # the network is active
    for col, what in ((0, "rate"), (1, "CV")):
        ref, got = nest_stats[:, col], nx_stats[:, col]
        sd, mu = ref.std(ddof=1), ref.mean()
        m = 3 * sd + 0.05 * mu
        assert np.all((got >= ref.min() - m) & (got <= ref.max() + m)), f"{what}: {report}"
        assert abs(got.mean() - mu) <= 2 * sd + 0.05 * mu, f"{what} mean: {report}"
        outside = float(np.max(np.maximum(0.0, np.maximum(ref.min() - got, got - ref.max()))))
        unit = " (Hz)" if what == "rate" else ""
        vrecord("iaf_psc_delta", f"Brunel network {what} per seed", outside, m, "statistical",
                f"{what}: distance outside NEST's seed range{unit}")
        vrecord("iaf_psc_delta", f"Brunel network {what} mean", abs(got.mean() - mu), 2 * sd + 0.05 * mu,
                "statistical", f"{what}: |mean nestax - mean NEST|{unit}")
