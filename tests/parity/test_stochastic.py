"""Statistics of the random devices (poisson_generator, noise_generator) against NEST 3.10 seed ensembles.

Tolerances are stated per test: ensemble means are compared within 5 combined standard errors (a
false alarm rate far below 1e-4 per comparison), and against theory where it is known.
"""
import brainunit as u
import numpy as np
import pytest

import nestax as nx

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

DT = 0.1


def _steps(t_ms):
    return np.round(np.asarray(t_ms) / DT).astype(int)


def _close(a, b, what, k=5.0, model=None):
    """Ensemble means of a and b agree within k combined standard errors."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    assert abs(a.mean() - b.mean()) <= k * se, f"{what}: nestax {b.mean():.4g} vs NEST {a.mean():.4g} (se {se:.3g})"
    if model is not None:
        vrecord(model, what, abs(a.mean() - b.mean()) / se if se > 0 else 0.0, k, "statistical",
                f"{what}: |nestax - NEST| ensemble means / combined SE")


# ------------------------------------------------------------------------------ poisson timing
@pytest.mark.parametrize("gp", [dict(start=2.0, stop=5.0), dict(start=0.0, stop=1.0),
                                dict(start=1.0, stop=3.0, origin=2.0)])
def test_poisson_window_earliest_latest_stamp(gp):
    """Active during steps origin+start < k <= origin+stop; spikes of step k are stamped k+1."""
    nest = fresh_nest(DT, seed=5)
    g = nest.Create("poisson_generator", params=dict(rate=1e6, **gp))
    sr = nest.Create("spike_recorder")
    nest.Connect(g, sr)
    nest.Simulate(10.0)
    t_n = _steps(sr.events["times"])
    sim = nx.Simulator(dt=DT, seed=5)
    g = sim.create(nx.poisson_generator, rate=1e6, **gp)
    sr = sim.create(nx.spike_recorder)
    sim.connect(g, sr)
    r = sim.simulate(10.0)
    t_x = _steps(mantissa(r.events(sr)["times"], u.ms))
    o = gp.get("origin", 0.0)
    lo, hi = _steps(o + gp["start"]), _steps(o + gp["stop"])
    assert (t_n.min(), t_n.max()) == (lo + 2, hi + 1)
    assert (t_x.min(), t_x.max()) == (t_n.min(), t_n.max())
    # every active step gets spikes (mean 100 per step), so the count per step is also checked
    n_active = hi - lo
    assert len(np.unique(t_x)) == n_active
    assert abs(len(t_x) - 100 * n_active) < 6 * np.sqrt(100 * n_active)


# ------------------------------------------------------------------------------ poisson statistics
N_TRAINS, T_POIS, RATE = 8, 2000.0, 80.0


def _poisson_trains(side, seed):
    """One poisson_generator -> N parrots -> spike_recorder, plus the generator recorded directly."""
    if side == "nest":
        nest = fresh_nest(DT, seed=seed)
        g = nest.Create("poisson_generator", params={"rate": RATE})
        p = nest.Create("parrot_neuron", N_TRAINS)
        sr, sr_g = nest.Create("spike_recorder"), nest.Create("spike_recorder")
        nest.Connect(g, p)
        nest.Connect(p, sr)
        nest.Connect(g, sr_g)
        nest.Simulate(T_POIS)
        e = sr.events
        snd = e["senders"] - p.tolist()[0]
        return _steps(e["times"]), snd, _steps(sr_g.events["times"])
    sim = nx.Simulator(dt=DT, seed=seed)
    g = sim.create(nx.poisson_generator, rate=RATE)
    p = sim.create(nx.parrot_neuron, N_TRAINS)
    sr, sr_g = sim.create(nx.spike_recorder), sim.create(nx.spike_recorder)
    sim.connect(g, p)
    sim.connect(p, sr)
    sim.connect(g, sr_g)
    r = sim.simulate(T_POIS)
    e = r.events(sr)
    return (_steps(mantissa(e["times"], u.ms)), np.asarray(e["senders"]) - int(p._gids[0]),
            _steps(mantissa(r.events(sr_g)["times"], u.ms)))


def _train_stats(t, snd):
    """Per train: rate (Hz), ISI CV, Fano factor of counts in 50 ms windows; mean |corr| between trains."""
    rates, cvs, fanos, counts = [], [], [], []
    edges = np.arange(0, _steps(T_POIS) + 1, _steps(50.0)) + 1
    for i in range(N_TRAINS):
        ti = np.sort(t[snd == i])
        rates.append(len(ti) / (T_POIS / 1000.0))
        isi = np.diff(ti)
        cvs.append(isi.std() / isi.mean())
        c = np.histogram(ti, edges)[0]
        counts.append(c)
        fanos.append(c.var(ddof=1) / c.mean())
    cc = np.corrcoef(np.array(counts))
    corr = np.abs(cc[np.triu_indices(N_TRAINS, 1)]).mean()
    return np.mean(rates), np.mean(cvs), np.mean(fanos), corr


def test_poisson_statistics_vs_nest_ensemble():
    seeds = range(1, 11)
    nst = np.array([_train_stats(*_poisson_trains("nest", s)[:2]) for s in seeds])
    res = [_poisson_trains("nx", s) for s in seeds]
    nxs = np.array([_train_stats(t, snd) for t, snd, _ in res])
    for j, name in enumerate(["rate", "ISI CV", "Fano"]):
        _close(nst[:, j], nxs[:, j], name, model="poisson_generator")
    # theory (about 4 standard errors): rate 80 Hz within 4% (12800 spikes: se 0.9%); ISI CV 1 within 0.05
    # (se ~0.01); Fano factor 1 within 0.1 (40 windows per train, 80 trains: se ~0.025)
    assert abs(nxs[:, 0].mean() - RATE) < 0.04 * RATE
    assert abs(nxs[:, 1].mean() - 1.0) < 0.05 and abs(nxs[:, 2].mean() - 1.0) < 0.1
    # N independent trains: the count correlation between trains is that of independent trains (NEST's)
    _close(nst[:, 3], nxs[:, 3], "|corr| between trains", model="poisson_generator")
    assert nxs[:, 3].mean() < 0.2   # independent trains, 40 windows: E|r| ~ 0.13; copies give 1
    for t, snd, t_g in res:
        # the directly recorded train is one more independent realisation, not a copy of a parrot's
        assert abs(len(t_g) / (T_POIS / 1000.0) - RATE) < 6 * np.sqrt(RATE * 2.0) / 2.0
        assert not any(np.array_equal(np.sort(t[snd == i]) - 1, t_g) for i in range(N_TRAINS))


def test_poisson_multiplicity_at_high_rate():
    """rate 100 kHz at dt 0.1: 10 spikes per step on average, delivered as multiplicity (mean = var)."""
    def counts(side, seed):
        if side == "nest":
            nest = fresh_nest(DT, seed=seed)
            g = nest.Create("poisson_generator", params={"rate": 1e5})
            sr = nest.Create("spike_recorder")
            nest.Connect(g, sr)
            nest.Simulate(100.0)
            t = _steps(sr.events["times"])
        else:
            sim = nx.Simulator(dt=DT, seed=seed)
            g = sim.create(nx.poisson_generator, rate=1e5)
            sr = sim.create(nx.spike_recorder)
            sim.connect(g, sr)
            t = _steps(mantissa(sim.simulate(100.0).events(sr)["times"], u.ms))
        return np.bincount(t, minlength=1002)[2:1001]
    cn = np.array([counts("nest", s) for s in (1, 2, 3)])
    cx = np.array([counts("nx", s) for s in (1, 2, 3)])
    _close(cn.mean(axis=1), cx.mean(axis=1), "mean count per step", k=6, model="poisson_generator")
    # mean and variance of the count per step: 10 +- 0.3 (se 0.06) and 10 +- 1.2 (se ~0.26)
    assert abs(cx.mean() - 10.0) < 0.3 and abs(cx.var() - 10.0) < 1.2
    assert abs(cn.mean() - 10.0) < 0.3 and abs(cn.var() - 10.0) < 1.2


# ------------------------------------------------------------------------------ noise_generator
N_NOISE, T_NOISE = 4, 400.0


def _noise_vm(side, seed, dt_noise=1.0):
    """V_m (after 100 ms) of N iaf_psc_alpha (no spikes) under one noise_generator."""
    if side == "nest":
        nest = fresh_nest(DT, seed=seed)
        n = nest.Create("iaf_psc_alpha", N_NOISE, params={"V_th": 1e9})
        g = nest.Create("noise_generator", params={"mean": 100.0, "std": 200.0, "dt": dt_noise})
        mm = nest.Create("voltmeter", params={"interval": DT, "start": 100.0})
        nest.Connect(g, n)
        nest.Connect(mm, n)
        nest.Simulate(T_NOISE)
        e = mm.events
        o = np.lexsort((e["senders"], e["times"]))
        return e["V_m"][o].reshape(-1, N_NOISE)
    sim = nx.Simulator(dt=DT, seed=seed)
    n = sim.create(nx.iaf_psc_alpha, N_NOISE, V_th=1e9)
    g = sim.create(nx.noise_generator, mean=100.0, std=200.0, dt=dt_noise)
    mm = sim.create(nx.voltmeter, interval=DT, start=100.0)
    sim.connect(g, n)
    sim.connect(mm, n)
    return mantissa(sim.simulate(T_NOISE).trace(mm, "V_m"), u.mV)


@pytest.mark.parametrize("dt_noise", [1.0, 0.3])
def test_noise_generator_vm_statistics_vs_nest(dt_noise):
    seeds = range(1, 9)
    vn = [_noise_vm("nest", s, dt_noise) for s in seeds]
    vx = [_noise_vm("nx", s, dt_noise) for s in seeds]
    # per seed and neuron: mean and std of V_m over 300 ms (samples correlated: compare across runs)
    mn, mx = np.array([v.mean(0) for v in vn]).ravel(), np.array([v.mean(0) for v in vx]).ravel()
    sn, sx = np.array([v.std(0) for v in vn]).ravel(), np.array([v.std(0) for v in vx]).ravel()
    _close(mn, mx, "V_m mean", model="noise_generator")
    _close(sn, sx, "V_m std", model="noise_generator")
    # the std of V_m depends on the noise interval (0.3 ms gives a smaller one than 1 ms)
    assert abs(sx.mean() / sn.mean() - 1.0) < 0.15
    # independent currents for the targets: V_m traces of the neurons are uncorrelated (|r| < 0.35 on
    # average; a shared current would give r = 1)
    rx = np.mean([np.abs(np.corrcoef(v.T)[np.triu_indices(N_NOISE, 1)]).mean() for v in vx])
    rn = np.mean([np.abs(np.corrcoef(v.T)[np.triu_indices(N_NOISE, 1)]).mean() for v in vn])
    assert rx < 0.35 and rn < 0.35


def test_noise_dt_must_be_multiple_of_resolution():
    nest = fresh_nest(DT)
    with pytest.raises(Exception):
        nest.Create("noise_generator", params={"dt": 0.25})
    sim = nx.Simulator(dt=DT)
    with pytest.raises(nx.BadParameterError, match="multiple of the resolution"):  # at create, as NEST
        sim.create(nx.noise_generator, std=10.0, dt=0.25)


# ------------------------------------------------------------------------------ the documented example
def _example(side, seed):
    if side == "nest":
        nest = fresh_nest(DT, seed=seed)
        n = nest.Create("iaf_psc_exp")
        pg = nest.Create("poisson_generator", params={"rate": 1e6})
        sr = nest.Create("spike_recorder")
        mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT})
        nest.Connect(pg, n, syn_spec={"weight": 10.0, "delay": 1.0})
        nest.Connect(n, sr)
        nest.Connect(mm, n)
        nest.Simulate(100.0)
        return sr.events["times"], mm.events["V_m"]
    sim = nx.Simulator(dt=DT * u.ms, seed=seed)
    n = sim.create(nx.iaf_psc_exp, 1)
    pg = sim.create(nx.poisson_generator, 1, rate=1_000_000.0 * u.Hz, rng_seed=seed)
    sr = sim.create(nx.spike_recorder)
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=DT * u.ms)
    sim.connect(pg, n, weight=10.0 * u.pA, delay=1.0 * u.ms)
    sim.connect(n, sr)
    sim.connect(mm, n)
    r = sim.simulate(100.0 * u.ms)
    return mantissa(r.events(sr)["times"], u.ms), mantissa(r.trace(mm, "V_m"), u.mV)[:, 0]


def _example_stats(t, v):
    isi = np.diff(t)
    return len(t), round(float(t[0]), 1), isi.std() / isi.mean(), v.max()


def test_documented_example_ranges():
    """45 spikes and a first spike at 2.1 or 2.2 ms for every seed (NEST and nestax). The documented ISI CV
    (0.007-0.011) and V_m max (-57.4..-55.0 mV) ranges come from 30 NEST seeds and are not hard bounds:
    NEST seeds 1-40 give CV 0.0068 for 5 seeds and a V_m max down to -57.58 mV (nestax seeds 0-39: CV
    0.0068 for 8 seeds). So at least half of 10 nestax seeds must land in both ranges, all within the
    support NEST shows, and the ensembles must agree (5 standard errors)."""
    nst = np.array([_example_stats(*_example("nest", s)) for s in (1, 2, 3, 4)])
    nxs = np.array([_example_stats(*_example("nx", s)) for s in range(10)])
    for who, a in (("NEST", nst), ("nestax", nxs)):
        assert np.all(a[:, 0] == 45), f"{who}: spike counts {a[:, 0]}"
        assert set(a[:, 1]) <= {2.1, 2.2}, f"{who}: first spikes {a[:, 1]}"
    in_range = (nxs[:, 2] >= 0.007) & (nxs[:, 2] <= 0.011) & (nxs[:, 3] >= -57.4) & (nxs[:, 3] <= -55.0)
    assert in_range.sum() >= 5, f"nestax: CV {nxs[:, 2]}, V_m max {nxs[:, 3]}"
    assert np.all((nxs[:, 2] > 0.0065) & (nxs[:, 2] < 0.0135)) and np.all((nxs[:, 3] > -57.7) & (nxs[:, 3] <= -55.0))
    _close(nst[:, 2], nxs[:, 2], "ISI CV", k=5)
    _close(nst[:, 3], nxs[:, 3], "V_m max", k=5)
