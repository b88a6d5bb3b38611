"""Parity of pulsepacket_generator, mip_generator and spike_train_injector with NEST 3.10.

Deterministic parts (windows, pulse packets with sdev = 0, mip with p_copy = 1, injector spike times) are
compared exactly, event by event. Random parts are compared with NEST seed ensembles computed here:
ensemble means agree within 5 combined standard errors, and with theory where it is known.
Connections use delay = dt unless stated: NEST then works in slices of one step, as nestax does.
"""
import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError

from .nest_helpers import fresh_nest, mantissa
from .validation import current_test, record as vrecord

DT = 0.1


def _steps(t_ms):
    return np.round(np.asarray(t_ms) / DT).astype(int)


def _close(a, b, what, k=5.0):
    """Ensemble means of a and b agree within k combined standard errors."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    assert abs(a.mean() - b.mean()) <= k * se, f"{what}: nestax {b.mean():.5g} vs NEST {a.mean():.5g} (se {se:.3g})"
    _record_close(what, abs(a.mean() - b.mean()) / se if se > 0 else 0.0, k, MODELS_OF_TESTS)
    return a.mean(), b.mean(), se


def _record_close(what, z, k, models):
    """Record |z| (combined SE) for the generator this test is about (by the test name's prefix)."""
    name = current_test()[1]
    model = next((m for prefix, m in models if name.startswith(prefix)), None)
    if model is not None:
        vrecord(model, what, z, k, "statistical", f"{what}: |nestax - NEST| ensemble means / combined SE")


MODELS_OF_TESTS = [("test_pulsepacket", "pulsepacket_generator"), ("test_mip", "mip_generator")]


def _run(side, model, gp, T, n_gen=1, n_par=1, delay=DT, direct=False, seed=1, split=None):
    """n_gen generators, each -> its own n_par parrots (connection delay ``delay``) -> one spike_recorder.

    Returns (stamps in steps, generator index, parrot index within the generator) sorted by
    (time, generator, parrot); with ``direct`` the generators are recorded directly (parrot index 0).
    """
    if side == "nest":
        nest = fresh_nest(DT, seed=seed)
        g = nest.Create(model, n_gen, params=gp)
        sr = nest.Create("spike_recorder")
        if direct:
            nest.Connect(g, sr)
            first, width = g.tolist()[0], 1
        else:
            p = nest.Create("parrot_neuron", n_gen * n_par)
            for i in range(n_gen):
                nest.Connect(g[i], p[i * n_par:(i + 1) * n_par], syn_spec={"delay": delay})
            nest.Connect(p, sr)
            first, width = p.tolist()[0], n_par
        for T_i in ([split, T - split] if split else [T]):
            nest.Simulate(T_i)
        t, s = _steps(sr.events["times"]), np.asarray(sr.events["senders"]) - first
    else:
        sim = nx.Simulator(dt=DT * u.ms, seed=seed)
        g = sim.create(model, n_gen, **gp)
        sr = sim.create(nx.spike_recorder)
        if direct:
            sim.connect(g, sr)
            first, width = int(g._gids[0]), 1
        else:
            p = sim.create(nx.parrot_neuron, n_gen * n_par)
            if n_par == 1:  # one connect call: every parrot is a target of the generator block's projection
                sim.connect(g, p, rule="one_to_one", delay=delay * u.ms)
            else:
                for i in range(n_gen):
                    sim.connect(g[i], p[i * n_par:(i + 1) * n_par], delay=delay * u.ms)
            sim.connect(p, sr)
            first, width = int(p._gids[0]), n_par
        if split:
            ev = [sim.simulate(split).events(sr), sim.simulate(T - split).events(sr)]
            t = np.concatenate([_steps(mantissa(e["times"], u.ms)) for e in ev])
            s = np.concatenate([np.asarray(e["senders"]) for e in ev]) - first
        else:
            e = sim.simulate(T).events(sr)
            t, s = _steps(mantissa(e["times"], u.ms)), np.asarray(e["senders"]) - first
    gen, par = s // width, s % width
    o = np.lexsort((par, gen, t))
    return t[o], gen[o], par[o]


def _same(a, b):
    for x, y, what in zip(a, b, ("stamps", "generator", "parrot")):
        np.testing.assert_array_equal(y, x, err_msg=what)


# ------------------------------------------------------------------------------ pulsepacket, exact
PP_EXACT = [
    # pulses at 0, off-grid (10.05 -> step 101, stamp 10.2), repeated, unsorted; delays 0.1 and 1 ms
    (dict(pulse_times=[20.0, 0.0, 0.5, 5.0, 10.05, 20.0], activity=2, sdev=0.0), DT, False),
    (dict(pulse_times=[5.0, 10.05, 20.0], activity=3, sdev=0.0), 1.0, False),
    (dict(pulse_times=[5.0, 10.05, 20.0, 0.1], activity=1, sdev=0.0), DT, True),
    # NEST 3.10 treats the device as a current generator: active for steps k with start < k + 2 <= stop
    (dict(pulse_times=[4.8, 4.9, 5.0, 10.0, 19.8, 19.9, 20.0, 25.0], activity=1, sdev=0.0, start=5.0, stop=20.0),
     DT, False),
    (dict(pulse_times=[5.0, 6.8, 6.9, 10.0, 15.0, 16.8, 16.9, 20.0], activity=2, sdev=0.0, start=5.0, stop=15.0,
          origin=2.0), DT, False),
    # a pulse drawn after the activation (start inside the tolerance window) keeps its on-time spikes
    (dict(pulse_times=[5.5, 6.0], activity=4, sdev=0.0, start=5.0), DT, True),
    (dict(pulse_times=[3.0, 7.0], activity=0, sdev=2.0), DT, False),
]


@pytest.mark.parametrize("gp,delay,direct", PP_EXACT)
def test_pulsepacket_sdev0_exact(gp, delay, direct):
    a = _run("nest", "pulsepacket_generator", gp, 30.0, n_gen=2, delay=delay, direct=direct)
    b = _run("nx", "pulsepacket_generator", gp, 30.0, n_gen=2, delay=delay, direct=direct)
    assert len(a[0]) == len(b[0]) and (len(a[0]) > 0 or gp["activity"] == 0)
    _same(a, b)


def test_pulsepacket_split_run_is_one_run():
    """nestax: splitting the run changes nothing. NEST 3.10 redraws the packets within the tolerance window
    of the time of each Simulate call (pre_run_hook resets its pulse pointers), so a pulse 0.5 ms after
    the split is sent twice; nestax gives the continuous run's answer."""
    gp = dict(pulse_times=[10.5, 15.0], activity=1, sdev=0.0)
    cont = _run("nest", "pulsepacket_generator", gp, 20.0)
    split = _run("nest", "pulsepacket_generator", gp, 20.0, split=10.0)
    assert list(cont[0]) == [107, 152] and list(split[0]) == [107, 107, 152]  # NEST's duplicate
    _same(cont, _run("nx", "pulsepacket_generator", gp, 20.0, split=10.0))
    _same(cont, _run("nx", "pulsepacket_generator", gp, 20.0))


# ------------------------------------------------------------------------------ pulsepacket, statistics
PULSES, ACT, SDEV, N_PP = [20.0, 60.0, 100.0], 25, 1.5, 40


def _packet_stats(t, gen):
    """Per (generator, pulse): spike count, mean offset from the pulse and SD of the parrot stamps (ms)."""
    out = []
    for i in range(N_PP):
        ti = t[gen == i] * DT
        for P in PULSES:
            x = ti[np.abs(ti - P) < 15.0]
            out.append((len(x), x.mean() - P, x.std(ddof=1)))
    return np.array(out)


def test_pulsepacket_statistics_vs_nest_ensemble():
    """activity spikes per packet (exactly, as in NEST), spread sdev: 40 generators x 3 pulses x 2 seeds."""
    gp = dict(pulse_times=PULSES, activity=ACT, sdev=SDEV)
    nst = np.concatenate([_packet_stats(*_run("nest", "pulsepacket_generator", gp, 130.0, n_gen=N_PP, seed=s)[:2])
                          for s in (1, 2)])
    nxs = np.concatenate([_packet_stats(*_run("nx", "pulsepacket_generator", {**gp, "rng_seed": s}, 130.0,
                                              n_gen=N_PP)[:2]) for s in (1, 2)])
    assert np.all(nst[:, 0] == ACT) and np.all(nxs[:, 0] == ACT)
    # mean offset of a parrot stamp: the pulse + 0.05 ms (the step's ceil) + one step stamp + the delay
    _close(nst[:, 1], nxs[:, 1], "mean offset of the packet")
    assert abs(nxs[:, 1].mean() - 0.25) < 5 * SDEV / np.sqrt(ACT * len(nxs))
    _close(nst[:, 2], nxs[:, 2], "SD of the spike times in a packet")
    # SD of a packet: sdev with the grid's rounding (uniform, variance dt^2/12), E[s] ~ sigma (1 - 1/(4(n-1)))
    sig = np.sqrt(SDEV ** 2 + DT ** 2 / 12) * (1 - 1 / (4 * (ACT - 1)))
    assert abs(nxs[:, 2].mean() - sig) < 5 * nxs[:, 2].std(ddof=1) / np.sqrt(len(nxs))
    # every target gets the same packet; two generators get different ones
    t, gen, par = _run("nx", "pulsepacket_generator", {**gp, "rng_seed": 7}, 130.0, n_gen=2, n_par=3)
    trains = [[t[(gen == i) & (par == j)] for j in range(3)] for i in range(2)]
    assert all(np.array_equal(trains[i][0], trains[i][j]) for i in range(2) for j in (1, 2))
    assert not np.array_equal(trains[0][0], trains[1][0])
    # a split run draws nothing anew
    _same(_run("nx", "pulsepacket_generator", {**gp, "rng_seed": 7}, 130.0, n_gen=2, n_par=3, split=61.3),
          (t, gen, par))


def test_pulsepacket_spikes_before_activation_are_lost():
    """start = 9 ms inside a packet at 10 ms (sdev 2): the packet is drawn in the first active step (k = 89,
    NEST's current-generator window), and its spikes before 8.9 ms are lost: 25 P(z >= -0.55) = 17.7 left."""
    from math import erfc, sqrt
    gp = dict(pulse_times=[10.0], activity=25, sdev=2.0, start=9.0)
    n = [np.bincount(_run("nest", "pulsepacket_generator", gp, 40.0, n_gen=N_PP, seed=s)[1], minlength=N_PP)
         for s in (1, 2)]
    x = [np.bincount(_run("nx", "pulsepacket_generator", {**gp, "rng_seed": s}, 40.0, n_gen=N_PP)[1],
                     minlength=N_PP) for s in (1, 2)]
    n, x = np.concatenate(n), np.concatenate(x)
    _close(n, x, "spikes left of the packet")
    expect = 25 * 0.5 * erfc(-(10.0 - 8.8995) / 2.0 / sqrt(2))
    assert abs(x.mean() - expect) < 5 * x.std(ddof=1) / np.sqrt(len(x)), (x.mean(), expect)


# ------------------------------------------------------------------------------ mip_generator
@pytest.mark.parametrize("gp", [dict(start=5.0, stop=8.0), dict(start=0.0, stop=1.0),
                                dict(start=1.0, stop=3.0, origin=2.0)])
def test_mip_window_and_p_copy_one(gp):
    """Active for steps origin+start < k <= origin+stop (stamps +1); p_copy = 1: every target gets the mother."""
    gp = dict(rate=2e5, p_copy=1.0, **gp)
    o = gp.get("origin", 0.0)
    lo, hi = _steps(o + gp["start"]), _steps(o + gp["stop"])
    for side in ("nest", "nx"):
        t, gen, par = _run(side, "mip_generator", gp, 12.0, n_par=4)
        t_g = [t[par == j] for j in range(4)]
        assert (t.min(), t.max()) == (lo + 2 + 1, hi + 1 + 1), side  # parrots: + delay (1 step)
        assert len(np.unique(t)) == hi - lo, side  # 20 spikes per step on average: every step has some
        assert all(np.array_equal(t_g[0], t_g[j]) for j in (1, 2, 3)), side


def test_mip_window_direct_recorder_and_nest_slices():
    """Recorded directly: stamps 22..41 for start 2, stop 4, as NEST with min_delay = dt. NEST checks the
    window of mip_generator once per min_delay slice (at the slice's first step); with its default
    min_delay of 1 ms (no connection shorter) the window moves to whole slices: stamps 31..50."""
    gp = dict(rate=2e5, p_copy=0.5, start=2.0, stop=4.0)

    def nest_stamps(min_delay):
        nest = fresh_nest(DT, seed=1)
        nest.set(min_delay=min_delay, max_delay=2.0)
        g = nest.Create("mip_generator", params=gp)
        sr = nest.Create("spike_recorder")
        nest.Connect(g, sr)
        nest.Simulate(6.0)
        return _steps(sr.events["times"])

    a, a_slice = nest_stamps(DT), nest_stamps(1.0)
    b = _run("nx", "mip_generator", gp, 6.0, direct=True)[0]
    assert (a.min(), a.max()) == (b.min(), b.max()) == (22, 41)
    assert len(np.unique(b)) == 20
    assert (a_slice.min(), a_slice.max()) == (31, 50)


MIP_RATE, MIP_P, MIP_T, N_MIP, MIP_PAR = 400.0, 0.4, 2000.0, 20, 3


def _mip_stats(t, gen, par):
    """Per generator (the independent unit: its targets share the mother): mean over its targets of the
    rate (Hz) and ISI CV, mean over its pairs of targets of the coincident spikes (sum over steps of
    c_i c_j) and of the count correlation in 10 ms bins."""
    n_steps = _steps(MIP_T) + 2
    out = []
    for i in range(N_MIP):
        c = np.array([np.bincount(t[(gen == i) & (par == j)], minlength=n_steps) for j in range(MIP_PAR)])
        rate, cv = [], []
        for j in range(MIP_PAR):
            isi = np.diff(np.repeat(np.arange(n_steps), c[j]))
            rate.append(c[j].sum() / (MIP_T / 1000.0))
            cv.append(isi.std() / isi.mean())
        b = c[:, :n_steps - n_steps % 100].reshape(MIP_PAR, -1, 100).sum(axis=2)
        cc = np.corrcoef(b)
        pairs = [(j, l) for j in range(MIP_PAR) for l in range(j + 1, MIP_PAR)]
        out.append((np.mean(rate), np.mean(cv), np.mean([(c[j] * c[l]).sum() for j, l in pairs]),
                    np.mean([cc[j, l] for j, l in pairs])))
    return np.array(out)


def test_mip_statistics_vs_nest_ensemble():
    """Rate rate*p_copy, Poisson ISIs, coincidences p_copy^2 * rate * T, count correlation p_copy;
    20 generators x 3 targets x 2 seeds per side."""
    gp = dict(rate=MIP_RATE, p_copy=MIP_P)
    nst = np.concatenate([_mip_stats(*_run("nest", "mip_generator", gp, MIP_T, n_gen=N_MIP, n_par=MIP_PAR,
                                           seed=s)) for s in (1, 2)])
    nxs = np.concatenate([_mip_stats(*_run("nx", "mip_generator", gp, MIP_T, n_gen=N_MIP, n_par=MIP_PAR,
                                           seed=s)) for s in (1, 2)])
    for j, what in enumerate(["rate per target", "ISI CV", "coincidences per pair", "count correlation"]):
        _close(nst[:, j], nxs[:, j], what)
    # theory, within 5 standard errors of the nestax ensemble: rate p r; ISI CV of 320-spike Poisson step
    # trains 0.995 (NumPy, 3000 trains; 1 for long trains);
    # coincidences p^2 E[M^2] per step (M ~ Poisson(lam), lam = r dt); count correlation p_copy
    lam = MIP_RATE * DT / 1000.0
    theory = [MIP_P * MIP_RATE, 0.995, MIP_P ** 2 * (lam + lam ** 2) * _steps(MIP_T), MIP_P]
    for j, what in enumerate(["rate", "ISI CV", "coincidences", "correlation"]):
        se = nxs[:, j].std(ddof=1) / np.sqrt(len(nxs))
        assert abs(nxs[:, j].mean() - theory[j]) < 5 * se, f"{what}: {nxs[:, j].mean():.5g} vs {theory[j]:.5g}"
    # targets of different generators are independent: chance coincidences only
    t, gen, par = _run("nx", "mip_generator", gp, MIP_T, n_gen=2, n_par=1, seed=3)
    c = [np.bincount(t[gen == i], minlength=_steps(MIP_T) + 2) for i in range(2)]
    chance = (MIP_P * lam) ** 2 * _steps(MIP_T)
    assert (c[0] * c[1]).sum() < chance + 6 * np.sqrt(chance) + 3


# ------------------------------------------------------------------------------ spike_train_injector
STI_CASES = [
    (dict(spike_times=[1.0, 5.0, 10.0], start=1.0, stop=10.0), DT, False),
    (dict(spike_times=[1.0, 5.0, 5.0, 10.0], spike_multiplicities=[2, 1, 4, 3]), 1.5, False),
    (dict(spike_times=[1.0, 5.0, 10.0], spike_multiplicities=[2, 1, 3]), DT, True),
    (dict(spike_times=[1.0, 5.0, 10.0, 14.9], origin=2.0, start=1.0), DT, False),
    (dict(spike_times=[0.04, 1.01, 5.05, 9.99], allow_offgrid_times=True), 0.5, False),
]


@pytest.mark.parametrize("gp,delay,direct", STI_CASES)
def test_spike_train_injector_exact(gp, delay, direct):
    a = _run("nest", "spike_train_injector", gp, 20.0, n_gen=2, delay=delay, direct=direct)
    b = _run("nx", "spike_train_injector", gp, 20.0, n_gen=2, delay=delay, direct=direct)
    assert len(a[0]) > 0
    _same(a, b)
    # the same spikes as spike_generator
    _same(b, _run("nx", "spike_generator", gp, 20.0, n_gen=2, delay=delay, direct=direct))


def test_spike_train_injector_parameters_match_nest():
    nest = fresh_nest(DT)
    d = nest.GetDefaults("spike_train_injector")
    names = set(nx.spike_train_injector.parameters)
    for k in ("spike_times", "spike_multiplicities", "precise_times", "allow_offgrid_times", "shift_now_spikes",
              "start", "stop", "origin"):
        assert k in d and k in names
    assert "spike_weights" not in d and "spike_weights" not in names
    for k in ("allow_offgrid_times", "shift_now_spikes", "start", "origin"):
        assert nx.spike_train_injector.parameters[k].default == d[k]


# ------------------------------------------------------------------------------ defaults and bad input
@pytest.mark.parametrize("model", ["pulsepacket_generator", "mip_generator"])
def test_defaults_match_nest(model):
    d = fresh_nest(DT).GetDefaults(model)
    for k, prm in getattr(nx, model).parameters.items():
        if k == "rng_seed":
            continue
        v = d[k]
        if k == "stop":
            assert np.isinf(prm.default) and v > 1e300
        elif prm.kind == "array":
            assert len(v) == 0 and len(prm.default) == 0
        else:
            assert prm.default == v, k


BAD = [
    ("mip_generator", dict(rate=-5.0), "rate", "-5.0"),
    ("mip_generator", dict(p_copy=1.5), "p_copy", "1.5"),
    ("mip_generator", dict(p_copy=-0.1), "p_copy", "-0.1"),
    ("mip_generator", dict(start=5.0, stop=2.0), "stop", "2.0"),
    ("pulsepacket_generator", dict(sdev=-1.0), "sdev", "-1.0"),
    ("pulsepacket_generator", dict(activity=-3), "activity", "-3"),
    ("spike_train_injector", dict(spike_times=[2.0, 1.0]), "spike_times", "2.0"),
    ("spike_train_injector", dict(spike_times=[0.0, 1.0]), "spike_times", "0.0"),
    ("spike_train_injector", dict(spike_times=[1.05]), "spike_times", "1.05"),
    ("spike_train_injector", dict(spike_times=[1.0, 2.0], spike_multiplicities=[1]), "spike_multiplicities", "1"),
]


@pytest.mark.parametrize("model,gp,name,value", BAD)
def test_bad_parameters_refused_like_nest(model, gp, name, value):
    nest = fresh_nest(DT)
    with pytest.raises(Exception):
        nest.Create(model, params=gp)
    sim = nx.Simulator(dt=DT * u.ms)
    with pytest.raises(BadParameterError) as e:
        sim.create(model, **gp)
    msg = str(e.value)
    assert model in msg and name in msg and value in msg and ("expected" in msg or "must" in msg or "multiple of" in msg), msg


def test_pulsepacket_draws_from_the_simulator_seed():
    """Without rng_seed the packets come from the Simulator's seed and each generator's global id:
    the same seed gives the same packets, another seed others, and the generators of one population
    differ from each other."""
    def packets(seed, rng_seed=-1):
        sim = nx.Simulator(dt=DT * u.ms, seed=seed)
        g = sim.create(nx.pulsepacket_generator, 2, pulse_times=[5.0, 15.0], activity=20, sdev=1.0,
                       rng_seed=rng_seed)
        sr = sim.create(nx.spike_recorder)
        sim.connect(g, sr)
        ev = sim.simulate(30.0).events(sr)
        return [np.sort(mantissa(ev["times"], u.ms)[ev["senders"] == s]) for s in g.tolist()]
    a, b, c = packets(1), packets(1), packets(2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0]) and not np.array_equal(a[0], a[1])
    assert all(len(x) == 40 for x in a)
    # an explicit rng_seed does not depend on the Simulator's seed
    d, e = packets(1, rng_seed=5), packets(2, rng_seed=5)
    assert all(np.array_equal(x, y) for x, y in zip(d, e))
