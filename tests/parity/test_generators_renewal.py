"""Parity of gamma_sup_generator, ppd_sup_generator and sinusoidal_gamma_generator with NEST 3.10.

Windows (start / stop / origin) are compared exactly at rates high enough that every active step sends
spikes. Random parts are compared with ensembles: independent trains (one per target, parrot_neuron,
delay dt) of two seeds on each side; per-train statistics agree within 5 combined standard errors
(ensemble means), and with theory where it is known.
"""
import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError

from .nest_helpers import fresh_nest, mantissa
from .validation import current_test, record as vrecord

DT = 0.1
SEEDS = (1, 2)


def _steps(t_ms):
    return np.round(np.asarray(t_ms) / DT).astype(int)


def _close(a, b, what, k=5.0):
    """Ensemble means of a and b agree within k combined standard errors."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    print(f"{what}: nestax {b.mean():.5g} vs NEST {a.mean():.5g} (se {se:.3g}, {abs(a.mean() - b.mean()) / se:.2f} SE)")
    assert abs(a.mean() - b.mean()) <= k * se, f"{what}: nestax {b.mean():.5g} vs NEST {a.mean():.5g} (se {se:.3g})"
    _record_close(what, abs(a.mean() - b.mean()) / se if se > 0 else 0.0, k, MODELS_OF_TESTS)
    return a.mean(), b.mean(), se


def _record_close(what, z, k, models):
    """Record |z| (combined SE) for the generator this test is about (by the test name's prefix)."""
    name = current_test()[1]
    model = next((m for prefix, m in models if name.startswith(prefix)), None)
    if model is not None:
        vrecord(model, what, z, k, "statistical", f"{what}: |nestax - NEST| ensemble means / combined SE")


MODELS_OF_TESTS = [("test_gamma_sup", "gamma_sup_generator"), ("test_ppd", "ppd_sup_generator"),
                   ("test_sinusoidal_gamma", "sinusoidal_gamma_generator")]


def _run(side, model, gp, T, n_par=1, seed=1, direct=False, defaults=None, split=None, reset_between=False):
    """One generator -> n_par parrots (delay dt) -> one spike_recorder (and, with ``direct``, the
    generator -> the recorder too). ``defaults``: set on NEST's model (individual_spike_trains).

    Returns a list of n_par (+1) arrays of stamps in steps (parrots: + 1 step of delay), the last the
    directly recorded train."""
    gp = dict(gp)
    if side == "nest":
        nest = fresh_nest(DT, seed=seed)
        if defaults:
            nest.SetDefaults(model, defaults)
        g = nest.Create(model, params=gp)
        p = nest.Create("parrot_neuron", n_par)
        sr = nest.Create("spike_recorder")
        nest.Connect(g, p, syn_spec={"delay": DT})
        nest.Connect(p, sr)
        if direct:
            nest.Connect(g, sr)
        nest.Simulate(T)
        t, s = _steps(sr.events["times"]), np.asarray(sr.events["senders"])
        first, gid = p.tolist()[0], g.tolist()[0]
    else:
        sim = nx.Simulator(dt=DT * u.ms, seed=seed)
        g = sim.create(model, **gp, **(defaults or {}))
        p = sim.create(nx.parrot_neuron, n_par)
        sr = sim.create(nx.spike_recorder)
        sim.connect(g, p, delay=DT * u.ms)
        sim.connect(p, sr)
        if direct:
            sim.connect(g, sr)
        ev = []
        for i, T_i in enumerate([split, T - split] if split else [T]):
            if i and reset_between:
                sim.set(g, **gp)  # the network is rebuilt: per-connection states must survive
            ev.append(sim.simulate(T_i).events(sr))
        t = np.concatenate([_steps(mantissa(e["times"], u.ms)) for e in ev])
        s = np.concatenate([np.asarray(e["senders"]) for e in ev])
        first, gid = int(p._gids[0]), int(g._gids[0])
    trains = [np.sort(t[s == first + j]) for j in range(n_par)]
    if direct:
        trains.append(np.sort(t[s == gid]))
    return trains


def _isi_stats(trains, T):
    """Per train: rate (Hz), CV of the inter-spike intervals and lag-1 serial correlation of the ISIs
    (spikes of one step counted once per multiplicity: ISIs of 0 included)."""
    out = []
    for t in trains:
        isi = np.diff(t).astype(float)
        cv = isi.std() / isi.mean()
        rho = np.corrcoef(isi[:-1], isi[1:])[0, 1]
        out.append((len(t) / T * 1000.0, cv, rho, isi.min()))
    return np.array(out)


def _ensemble(model, gp, T, n_par, stat, defaults=None):
    nst = np.concatenate([stat(_run("nest", model, gp, T, n_par, seed=s, defaults=defaults)) for s in SEEDS])
    nxs = np.concatenate([stat(_run("nx", model, gp, T, n_par, seed=s, defaults=defaults)) for s in SEEDS])
    return nst, nxs


# ------------------------------------------------------------------------------ windows, exact
WINDOWS = [dict(start=2.0, stop=5.0), dict(start=0.0, stop=1.0), dict(start=1.0, stop=3.0, origin=2.0)]
HIGH = {
    # every active step sends spikes to every target (a mean of 100 spikes per step, or hazard > 1)
    "gamma_sup_generator": dict(rate=1000.0, gamma_shape=1, n_proc=1000),
    "ppd_sup_generator": dict(rate=100.0, n_proc=10000),
    "sinusoidal_gamma_generator": dict(rate=20000.0, order=1.0),
}


@pytest.mark.parametrize("model", sorted(HIGH))
def test_window_exact(model):
    """Spike generator timing in NEST 3.10: active in steps origin+start < k <= origin+stop, stamps k + 1;
    the parrots add the delay (one step). The same stamps on both sides, every step sending."""
    for w in WINDOWS:
        o = w.get("origin", 0.0)
        lo, hi = _steps(o + w["start"]), _steps(o + w["stop"])
        expect = np.arange(lo + 2, hi + 2)
        for side in ("nest", "nx"):
            trains = _run(side, model, {**HIGH[model], **w}, 8.0, n_par=2, direct=True)
            for t in trains:
                got = np.unique(t)
                shift = 0 if t is trains[-1] else 1
                np.testing.assert_array_equal(got, expect + shift, err_msg=f"{side} {model} {w}")


# ------------------------------------------------------------------------------ gamma_sup_generator
def test_gamma_sup_one_process_rate_and_cv():
    """One gamma process of order 4 at 40 Hz per target: rate 40 Hz, ISI CV 1/sqrt(4) = 0.5, no serial
    correlation (a renewal process)."""
    T = 5000.0
    nst, nxs = _ensemble("gamma_sup_generator", dict(rate=40.0, gamma_shape=4, n_proc=1), T, 40, lambda tr: _isi_stats(tr, T))
    for i, what in enumerate(("rate", "CV", "ISI serial correlation")):
        _close(nst[:, i], nxs[:, i], what)
    n = len(nxs)
    assert abs(nxs[:, 0].mean() - 40.0) < 5 * nxs[:, 0].std(ddof=1) / np.sqrt(n)
    assert abs(nxs[:, 1].mean() - 0.5) < 5 * nxs[:, 1].std(ddof=1) / np.sqrt(n)
    assert abs(nxs[:, 2].mean()) < 5 * nxs[:, 2].std(ddof=1) / np.sqrt(n) + 0.01


def test_gamma_sup_superposition_cv_and_autocorrelation():
    """5 processes of order 3 at 20 Hz: rate 100 Hz; the superposition's ISI CV and the negative serial
    correlation of its ISIs, and the spike-count autocorrelation at 1-10 ms, as NEST's."""
    T = 4000.0

    def stat(trains):
        base = _isi_stats(trains, T)
        ac = []
        for t in trains:
            c = np.bincount(t // 10, minlength=int(T / 1.0) + 2)[:int(T)].astype(float)  # 1 ms bins
            c -= c.mean()
            ac.append([np.dot(c[:-L], c[L:]) / np.dot(c, c) for L in (1, 3, 10)])
        return np.column_stack([base, np.array(ac)])

    nst, nxs = _ensemble("gamma_sup_generator", dict(rate=20.0, gamma_shape=3, n_proc=5), T, 30, stat)
    for i, what in [(0, "rate"), (1, "CV"), (2, "ISI serial correlation"), (4, "count autocorrelation 1 ms"),
                    (5, "count autocorrelation 3 ms"), (6, "count autocorrelation 10 ms")]:
        _close(nst[:, i], nxs[:, i], what)
    assert abs(nxs[:, 0].mean() - 100.0) < 5 * nxs[:, 0].std(ddof=1) / np.sqrt(len(nxs))


# ------------------------------------------------------------------------------ ppd_sup_generator
def test_ppd_one_process_dead_time_rate_cv():
    """One process with dead time 10 ms at 50 Hz: no ISI shorter than dead_time + dt (the component is
    dead for floor(dead_time / dt) steps after the step of its spike), rate 50 Hz, CV as NEST's
    (theory: (1/rate - dead_time) * rate = 0.5)."""
    T = 5000.0
    nst, nxs = _ensemble("ppd_sup_generator", dict(rate=50.0, dead_time=10.0, n_proc=1), T, 40,
                         lambda tr: _isi_stats(tr, T))
    assert nst[:, 3].min() == nxs[:, 3].min() == 101
    for i, what in enumerate(("rate", "CV", "ISI serial correlation")):
        _close(nst[:, i], nxs[:, i], what)
    n = len(nxs)
    assert abs(nxs[:, 0].mean() - 50.0) < 5 * nxs[:, 0].std(ddof=1) / np.sqrt(n)
    assert abs(nxs[:, 1].mean() - 0.5) < 5 * nxs[:, 1].std(ddof=1) / np.sqrt(n) + 0.01


def test_ppd_superposition_modulated():
    """3 processes with dead time 4 ms at 40 Hz, rate modulated at 5 Hz with relative amplitude 0.8: the
    rate, the modulation depth and phase (first Fourier component of the spike times) and the CV."""
    T, f = 4000.0, 5.0

    def stat(trains):
        out = []
        for t in trains:
            ph = 2 * np.pi * f * (t - 1) * DT / 1000.0  # the hazard of step k is sin(omega k dt): stamp k + 1
            z = np.exp(1j * ph).mean()
            isi = np.diff(t).astype(float)
            out.append((len(t) / T * 1000.0, 2 * np.abs(z), np.angle(z), isi.std() / isi.mean()))
        return np.array(out)

    nst, nxs = _ensemble("ppd_sup_generator", dict(rate=40.0, dead_time=4.0, n_proc=3, frequency=f,
                                                  relative_amplitude=0.8), T, 30, stat)
    for i, what in enumerate(("rate", "modulation depth", "modulation phase", "CV")):
        _close(nst[:, i], nxs[:, i], what)
    # the dead time makes the rate a concave function of the hazard: modulated, the mean is below 3 x 40 Hz
    assert nxs[:, 0].mean() < 120.0 - 5 * nxs[:, 0].std(ddof=1) / np.sqrt(len(nxs))


# ------------------------------------------------------------------------------ sinusoidal_gamma_generator
def test_sinusoidal_gamma_rate_amplitude_phase():
    """rate 60 Hz, amplitude 40 Hz, 4 Hz, phase 60 deg, order 3: rate, modulation depth and phase of the
    spike times as NEST's; the phase as set (sin(x + phase) peaks at x = 90 - phase deg)."""
    T, f, ph0 = 4000.0, 4.0, 60.0

    def stat(trains):
        out = []
        for t in trains:
            z = np.exp(1j * 2 * np.pi * f * t * DT / 1000.0).mean()
            out.append((len(t) / T * 1000.0, 2 * np.abs(z), np.angle(z)))
        return np.array(out)

    gp = dict(rate=60.0, amplitude=40.0, frequency=f, phase=ph0, order=3.0)
    nst, nxs = _ensemble("sinusoidal_gamma_generator", gp, T, 40, stat)
    for i, what in enumerate(("rate", "modulation depth", "modulation phase")):
        _close(nst[:, i], nxs[:, i], what)
    n = len(nxs)
    assert abs(nxs[:, 0].mean() - 60.0) < 5 * nxs[:, 0].std(ddof=1) / np.sqrt(n) + 0.1
    # sum over spikes of e^{i omega t} ~ rate-weighted: angle = phase of the rate's sine - 90 deg
    # mean of e^{i omega t} over spikes of density r0 + A sin(omega t + phase): angle 90 deg - phase (the
    # parrots' two steps add 0.3 deg)
    assert abs(np.degrees(nxs[:, 2].mean()) - (90.0 - ph0)) < 5 * np.degrees(nxs[:, 2].std(ddof=1)) / np.sqrt(n) + 1


def test_sinusoidal_gamma_cv_unmodulated():
    """amplitude 0, order 4 at 50 Hz: a gamma process, CV 0.5 (as NEST's, and theory)."""
    T = 5000.0
    nst, nxs = _ensemble("sinusoidal_gamma_generator", dict(rate=50.0, order=4.0), T, 40, lambda tr: _isi_stats(tr, T))
    for i, what in enumerate(("rate", "CV", "ISI serial correlation")):
        _close(nst[:, i], nxs[:, i], what)
    assert abs(nxs[:, 1].mean() - 0.5) < 5 * nxs[:, 1].std(ddof=1) / np.sqrt(len(nxs)) + 0.01


@pytest.mark.parametrize("individual", [True, False])
def test_sinusoidal_gamma_individual_spike_trains(individual):
    """True: every target (a directly connected spike_recorder included) gets its own train; False: all get
    the same one (NEST: the model default, set with SetDefaults)."""
    gp = dict(rate=200.0, amplitude=100.0, frequency=10.0, order=2.0)
    for side in ("nest", "nx"):
        tr = _run(side, "sinusoidal_gamma_generator", gp, 500.0, n_par=4, direct=True,
                  defaults={"individual_spike_trains": individual})
        shared = [t for t in tr[:-1]]
        same = [np.array_equal(shared[0] + 0, shared[j]) for j in (1, 2, 3)] + [np.array_equal(tr[0], tr[-1] + 1)]
        assert all(len(t) > 50 for t in tr), side
        assert all(same) if not individual else not any(same), (side, same)


# ------------------------------------------------------------------------------ state across calls
@pytest.mark.parametrize("model,gp", [
    ("gamma_sup_generator", dict(rate=30.0, gamma_shape=5, n_proc=2)),
    ("ppd_sup_generator", dict(rate=30.0, dead_time=3.0, n_proc=2, frequency=3.0, relative_amplitude=0.5)),
    ("sinusoidal_gamma_generator", dict(rate=30.0, amplitude=10.0, frequency=3.0, order=3.0)),
    ("sinusoidal_gamma_generator", dict(rate=30.0, amplitude=10.0, frequency=3.0, order=3.0,
                                        individual_spike_trains=False)),
])
def test_state_kept_across_calls_and_rebuilds(model, gp):
    """The per-target states live on between simulate calls, also when ``set`` rebuilds the run: a run
    split in two (with or without a rebuild) is the continuous run, spike for spike."""
    cont = _run("nx", model, gp, 400.0, n_par=3, direct=True)
    for reset in (False, True):
        split = _run("nx", model, gp, 400.0, n_par=3, direct=True, split=173.4, reset_between=reset)
        for a, b in zip(cont, split):
            np.testing.assert_array_equal(a, b)


def test_new_connections_start_fresh_old_ones_keep_their_state():
    """A connection made between simulate calls starts from the initial occupation (NEST initialises new
    targets at the next run); the existing ones keep theirs (engine internals: the run state)."""
    sim = nx.Simulator(dt=DT * u.ms, seed=3)
    g = sim.create(nx.gamma_sup_generator, rate=200.0, gamma_shape=3, n_proc=10)
    p = sim.create(nx.parrot_neuron, 5)
    sim.connect(g, p[:3])
    sim.simulate(50.0)
    (before,) = [np.asarray(cs["occ"]) for cs in sim._session.runner.state["conn_state"].values()]
    assert before.sum(axis=1).tolist() == [10, 10, 10] and not np.all(before == [3, 3, 4])
    sim.connect(g, p[3:])
    sim._prepare()
    (after,) = [np.asarray(cs["occ"]) for cs in sim._session.runner.state["conn_state"].values()]
    np.testing.assert_array_equal(after[:3], before)
    np.testing.assert_array_equal(after[3:], [[3, 3, 4], [3, 3, 4]])


# ------------------------------------------------------------------------------ bad input
BAD = [
    ("gamma_sup_generator", dict(gamma_shape=0), "gamma_shape", "0"),
    ("gamma_sup_generator", dict(n_proc=0), "n_proc", "0"),
    ("gamma_sup_generator", dict(rate=-1.0), "rate", "-1.0"),
    ("ppd_sup_generator", dict(dead_time=-1.0), "dead_time", "-1.0"),
    ("ppd_sup_generator", dict(rate=-5.0), "rate", "-5.0"),
    ("ppd_sup_generator", dict(rate=200.0, dead_time=5.0), "rate", "200.0"),
    ("ppd_sup_generator", dict(n_proc=0), "n_proc", "0"),
    ("ppd_sup_generator", dict(relative_amplitude=1.5), "relative_amplitude", "1.5"),
    ("ppd_sup_generator", dict(relative_amplitude=-0.1), "relative_amplitude", "-0.1"),
    ("sinusoidal_gamma_generator", dict(order=0.5), "order", "0.5"),
    ("sinusoidal_gamma_generator", dict(rate=10.0, amplitude=20.0), "amplitude", "20.0"),
    ("sinusoidal_gamma_generator", dict(rate=-1.0), "rate", "-1.0"),
    ("sinusoidal_gamma_generator", dict(rate=10.0, amplitude=-1.0), "amplitude", "-1.0"),
]


@pytest.mark.parametrize("model,bad,name,value", BAD)
def test_bad_parameters_refused_as_nest(model, bad, name, value):
    nest = fresh_nest(DT)
    with pytest.raises(Exception):
        nest.Create(model, params=bad)
    sim = nx.Simulator(dt=DT * u.ms)
    with pytest.raises(BadParameterError) as e:
        sim.create(model, **bad)
    msg = str(e.value)
    assert model in msg and repr(name) in msg and value in msg and "expected" in msg, msg
    g = sim.create(model)  # set is refused as create, and leaves the generator unchanged
    with pytest.raises(BadParameterError):
        sim.set(g, **bad)


def test_defaults_as_nest():
    nest = fresh_nest(DT)
    for model in HIGH:
        d = nest.GetDefaults(model)
        cls = getattr(nx, model)
        for name, par in cls.parameters.items():
            if name in d:
                nest_val = np.inf if name == "stop" and float(d[name]) >= np.finfo(float).max else float(d[name])
                assert nest_val == float(par.default), (model, name)
