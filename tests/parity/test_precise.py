"""Precise spike timing (off-grid spikes): NEST's _ps models, spike_generator(precise_times=True) and
the engine's precise buffer (nestax.engine.precise), against live NEST 3.10 and analytic solutions.

Tolerances: spike times 1e-12 ms (both compute in double; measured differences are below 1e-13),
offsets 1e-12 ms, V_m traces 1e-9 mV (measured below 2e-13 mV). NEST's accuracy tests
(testsuite/pytests/neurons/test_iaf_ps_dc_accuracy.py) are reproduced at the resolutions nestax's time
base (1000 tics per ms) represents: V_m after 5 ms to 1e-13 mV of the analytic value and the first
spike time to 1e-13 ms, from 1 ms down to 0.001 ms.
"""
from __future__ import annotations

import math

import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError, NestaxError

from .nest_helpers import fresh_nest
from .validation import record as vrecord

T_TOL = 1e-12   # ms
V_TOL = 1e-9    # mV

PRECISE_NEURONS = ["iaf_psc_exp_ps", "iaf_psc_delta_ps", "iaf_psc_alpha_ps", "iaf_psc_exp_ps_lossless"]
#: weights that make the input matter: pA for the psc models, mV for delta
WEIGHT = {"iaf_psc_exp_ps": 900.0, "iaf_psc_delta_ps": 3.0, "iaf_psc_alpha_ps": 500.0,
          "iaf_psc_exp_ps_lossless": 900.0}


def _input_train(seed=1, n=150, t_max=95.0):
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0.3, t_max, n))
    # a few exact duplicates and grid times: simultaneous events and offset 0
    times[10] = times[11]
    times[20] = 10.0
    times[21] = 10.0
    times = np.sort(times)
    weights = rng.choice([1.0, -0.7], size=n)
    return times, weights


def _run_both(model, dt, params, times, weights, w, T=100.0, delay=1.0):
    """spike_generator(precise_times) -> one neuron of ``model``; spike times (ms), step/offset pairs
    and V_m (every step) from nestax and NEST."""
    sim = nx.Simulator(dt=dt * u.ms)
    g = sim.create(nx.spike_generator, 1, spike_times=times * u.ms, spike_weights=weights, precise_times=True)
    n = sim.create(getattr(nx, model), 1, **params)
    sr = sim.create(nx.spike_recorder)
    sr2 = sim.create(nx.spike_recorder, time_in_steps=True)
    sim.connect(g, n, weight=w, delay=delay * u.ms)
    sim.connect(n, sr)
    sim.connect(n, sr2)
    rec_v = model != "parrot_neuron_ps"
    if rec_v:
        mm = sim.create(nx.multimeter, record_from=["V_m"], interval=dt * u.ms)
        sim.connect(mm, n)
    res = sim.simulate(T * u.ms)
    ev2 = res.events(sr2)
    got = {"t": res.events(sr)["times"].to_decimal(u.ms), "steps": np.asarray(ev2["times"]),
           "offsets": (ev2["offsets"].to_decimal(u.ms) if "offsets" in ev2 else np.zeros(len(ev2["times"]))),
           "v": res.trace(mm, "V_m").to_decimal(u.mV)[:, 0] if rec_v else None}
    nest = fresh_nest(dt)
    a = nest.Create("spike_generator", params={"spike_times": times, "spike_weights": weights, "precise_times": True})
    unit = lambda k: u.pA if k == "I_e" else u.ms if k == "t_ref" or k.startswith("tau") else u.mV
    b = nest.Create(model, params={k: float(v.to_decimal(unit(k))) for k, v in params.items()})
    s = nest.Create("spike_recorder")
    s2 = nest.Create("spike_recorder", params={"time_in_steps": True})
    nest.Connect(a, b, syn_spec={"weight": w, "delay": delay})
    nest.Connect(b, s)
    nest.Connect(b, s2)
    if rec_v:
        m = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": dt})
        nest.Connect(m, b)
    nest.Simulate(T)
    ref = {"t": np.asarray(s.events["times"]), "steps": np.asarray(s2.events["times"]),
           "offsets": np.asarray(s2.events["offsets"]), "v": np.asarray(m.events["V_m"]) if rec_v else None}
    return got, ref


def _compare(got, ref, min_spikes=3, model=None):
    assert len(ref["t"]) >= min_spikes, f"NEST fired {len(ref['t'])} times: the check would be weak"
    assert len(got["t"]) == len(ref["t"]), (got["t"], ref["t"])
    np.testing.assert_allclose(got["t"], ref["t"], rtol=0, atol=T_TOL)
    np.testing.assert_array_equal(got["steps"], ref["steps"])
    np.testing.assert_allclose(got["offsets"], ref["offsets"], rtol=0, atol=T_TOL)
    assert np.any(ref["offsets"] > 0)  # really off the grid
    if ref["v"] is not None:
        k = min(len(got["v"]), len(ref["v"]))
        assert k >= len(ref["v"]) - 1
        np.testing.assert_allclose(got["v"][:k], ref["v"][:k], rtol=0, atol=V_TOL)
    if model is not None:
        dt_max = float(np.max(np.abs(np.asarray(got["t"]) - np.asarray(ref["t"]))))
        vrecord(model, "spike times", dt_max, T_TOL, "exact", f"spike time max abs dev (ms), {len(ref['t'])} spikes")
        if ref["v"] is not None:
            vrecord(model, "V_m", float(np.max(np.abs(np.asarray(got["v"][:k]) - np.asarray(ref["v"][:k])))), V_TOL,
                    "exact", "V_m max abs dev (mV)")


@pytest.mark.parametrize("dt", [0.1, 1.0, 0.01])
@pytest.mark.parametrize("model", PRECISE_NEURONS)
def test_precise_input_parity(model, dt):
    """Off-grid input spikes (excitatory and inhibitory, some simultaneous, some on the grid) and a DC
    drive: the same spike times, steps, offsets and V_m as NEST at three resolutions."""
    times, weights = _input_train()
    got, ref = _run_both(model, dt, {"I_e": 300.0 * u.pA}, times, weights, WEIGHT[model])
    _compare(got, ref, model=model)


@pytest.mark.parametrize("model", PRECISE_NEURONS)
def test_precise_drift_crossings(model):
    """A suprathreshold DC with sparse input: most spikes come from the drift crossing threshold
    between events (regula falsi / closed form), some right after input."""
    times, weights = _input_train(seed=3, n=40)
    got, ref = _run_both(model, 0.1, {"I_e": 600.0 * u.pA, "t_ref": 1.3 * u.ms}, times, weights,
                         WEIGHT[model] / 3)
    _compare(got, ref, min_spikes=8, model=model)


def test_lossless_finds_crossings_inside_a_step():
    """iaf_psc_exp_ps_lossless detects a threshold crossing that V_m leaves again within the step (fast
    membrane, coarse step): NEST's lossless model fires where iaf_psc_exp_ps does not, and nestax
    gives the same spikes as each of them."""
    p = {"tau_m": 1.0 * u.ms, "tau_syn_ex": 0.5 * u.ms, "tau_syn_in": 0.5 * u.ms, "t_ref": 1.0 * u.ms}
    times = np.array([5.001, 25.3])
    got, ref = _run_both("iaf_psc_exp_ps_lossless", 1.0, p, times, np.ones(2), 76000.0, T=40.0)
    got_x, ref_x = _run_both("iaf_psc_exp_ps", 1.0, p, times, np.ones(2), 76000.0, T=40.0)
    assert len(ref["t"]) > len(ref_x["t"])
    _compare(got, ref, model="iaf_psc_exp_ps_lossless")
    _compare(got_x, ref_x, min_spikes=2, model="iaf_psc_exp_ps")


def test_parrot_neuron_ps_repeats_offsets():
    """parrot_neuron_ps repeats each precise spike with its offset and multiplicity."""
    times, _ = _input_train(seed=5, n=80)
    got, ref = _run_both("parrot_neuron_ps", 0.1, {}, times, np.ones(len(times)), 1.0)
    _compare(got, ref, min_spikes=70, model="parrot_neuron_ps")


@pytest.mark.parametrize("model", PRECISE_NEURONS)
@pytest.mark.parametrize("dt", [1.0, 0.5, 0.25, 0.125, 0.1, 0.01, 0.001])
def test_iaf_ps_dc_accuracy(model, dt):
    """NEST's test_iaf_ps_dc_accuracy: V_m after 5 ms of I_e = 1000 pA (E_L = 0, V_th high) equals
    I_e tau_m / C_m (1 - exp(-t / tau_m)) to 1e-13 mV, and with V_th = 15 mV the single spike comes at
    -tau_m ln(1 - C_m V_th / (tau_m I_e)) to 1e-13 ms, at every resolution."""
    p = {"E_L": 0.0 * u.mV, "V_m": 0.0 * u.mV, "V_reset": 0.0 * u.mV, "I_e": 1000.0 * u.pA, "tau_m": 10.0 * u.ms,
         "C_m": 250.0 * u.pF}
    dur = 5.0
    sim = nx.Simulator(dt=dt * u.ms)
    sim.precise_capacity = 1
    a = sim.create(getattr(nx, model), 1, V_th=2000.0 * u.mV, **p)
    b = sim.create(getattr(nx, model), 1, V_th=15.0 * u.mV, **p)
    sr = sim.create(nx.spike_recorder)
    sim.connect(b, sr)
    res = sim.simulate(dur * u.ms)
    v = float(np.ravel(sim.get(a, "V_m").to_decimal(u.mV))[0])
    assert v == pytest.approx(1000.0 * 10.0 / 250.0 * (1.0 - math.exp(-dur / 10.0)), abs=1e-13)
    t = res.events(sr)["times"].to_decimal(u.ms)
    assert len(t) == 1
    assert t[0] == pytest.approx(-10.0 * math.log(1.0 - 250.0 * 15.0 / (10.0 * 1000.0)), abs=1e-13)


def test_mixed_grid_and_precise_network():
    """Grid and precise models in one network: precise generator -> iaf_psc_exp_ps -> iaf_psc_alpha
    (grid: the offset is dropped) and -> iaf_psc_delta_ps, parrot_neuron_ps (precise); a grid
    spike_generator and the grid neuron drive the precise ones at offset 0. Every spike time and V_m as
    NEST."""
    times, weights = _input_train(seed=7, n=120)
    grid_times = np.round(np.sort(np.random.default_rng(8).uniform(1, 90, 30)), 1)
    sim = nx.Simulator(dt=0.1 * u.ms)
    g = sim.create(nx.spike_generator, 1, spike_times=times * u.ms, spike_weights=weights, precise_times=True)
    gg = sim.create(nx.spike_generator, 1, spike_times=grid_times * u.ms)
    a = sim.create(nx.iaf_psc_exp_ps, 2, I_e=250.0 * u.pA)
    b = sim.create(nx.iaf_psc_alpha, 1, I_e=300.0 * u.pA)
    c = sim.create(nx.iaf_psc_delta_ps, 1, I_e=330.0 * u.pA)
    pr = sim.create(nx.parrot_neuron_ps, 1)
    sr = sim.create(nx.spike_recorder)
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=0.1 * u.ms)
    sim.connect(g, a, weight=900.0, delay=1.0 * u.ms)
    sim.connect(gg, a, weight=-400.0, delay=1.5 * u.ms)
    sim.connect(a, b, weight=700.0, delay=1.2 * u.ms)
    sim.connect(a, c, weight=2.5, delay=0.7 * u.ms)
    sim.connect(b, c, weight=3.0, delay=1.0 * u.ms)
    sim.connect(gg, c, weight=-1.0, delay=2.0 * u.ms)
    sim.connect(a, pr, weight=1.0, delay=0.4 * u.ms)
    sim.connect(b, pr, weight=1.0, delay=0.3 * u.ms)
    sim.connect(a + b + c + pr, sr)
    sim.connect(mm, a + b + c)
    res = sim.simulate(100.0 * u.ms)
    ev = res.events(sr)
    got_t, got_s = ev["times"].to_decimal(u.ms), np.asarray(ev["senders"])
    got_v = res.trace(mm, "V_m").to_decimal(u.mV)

    nest = fresh_nest(0.1)
    G = nest.Create("spike_generator", params={"spike_times": times, "spike_weights": weights, "precise_times": True})
    GG = nest.Create("spike_generator", params={"spike_times": grid_times})
    A = nest.Create("iaf_psc_exp_ps", 2, params={"I_e": 250.0})
    B = nest.Create("iaf_psc_alpha", params={"I_e": 300.0})
    C = nest.Create("iaf_psc_delta_ps", params={"I_e": 330.0})
    PR = nest.Create("parrot_neuron_ps")
    S = nest.Create("spike_recorder")
    M = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": 0.1})
    for src, tgt, w, d in ((G, A, 900.0, 1.0), (GG, A, -400.0, 1.5), (A, B, 700.0, 1.2), (A, C, 2.5, 0.7),
                           (B, C, 3.0, 1.0), (GG, C, -1.0, 2.0), (A, PR, 1.0, 0.4), (B, PR, 1.0, 0.3)):
        nest.Connect(src, tgt, syn_spec={"weight": w, "delay": d})
    nest.Connect(A + B + C + PR, S)
    nest.Connect(M, A + B + C)
    nest.Simulate(100.0)
    ref_t, ref_s = np.asarray(S.events["times"]), np.asarray(S.events["senders"])
    for gid in (3, 4, 5, 6, 7):
        mine, theirs = np.sort(got_t[got_s == gid]), np.sort(ref_t[ref_s == gid])
        assert len(theirs) >= 3, gid
        assert len(mine) == len(theirs), (gid, mine, theirs)
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=T_TOL)
    mv = M.events
    for j, gid in enumerate((3, 4, 5, 6)):
        theirs = np.asarray(mv["V_m"])[np.asarray(mv["senders"]) == gid]
        k = min(len(theirs), got_v.shape[0])
        np.testing.assert_allclose(got_v[:k, j], theirs[:k], rtol=0, atol=V_TOL)


def test_split_runs_keep_input_in_flight():
    """simulate in uneven pieces (with a parameter set in between forcing a rebuild) gives the same
    precise spikes as one call: events in the precise buffer survive the rebuild."""
    times, weights = _input_train(seed=11, n=100)

    def run(pieces):
        sim = nx.Simulator(dt=0.1 * u.ms)
        g = sim.create(nx.spike_generator, 1, spike_times=times * u.ms, spike_weights=weights, precise_times=True)
        n = sim.create(nx.iaf_psc_exp_ps, 1, I_e=300.0 * u.pA)
        sr = sim.create(nx.spike_recorder)
        sim.connect(g, n, weight=900.0, delay=3.0 * u.ms)
        sim.connect(n, sr)
        out = []
        for i, T in enumerate(pieces):
            if i == 2:
                sim.set(n, tau_syn_in=2.0 * u.ms)  # same value: the network is lowered again
            out.append(sim.simulate(T * u.ms).events(sr)["times"].to_decimal(u.ms))
        return np.concatenate(out)

    one, split = run([100.0]), run([13.3, 0.1, 40.0, 46.6])
    assert len(one) >= 3
    np.testing.assert_array_equal(split, one)


def test_capacity_error_and_setting():
    """More precise events for one neuron in one step than Simulator.precise_capacity: a clear error;
    after raising the capacity the run goes through."""
    sim = nx.Simulator(dt=0.1 * u.ms)
    sim.precise_capacity = 2
    g = sum((sim.create(nx.spike_generator, 1, spike_times=[t] * u.ms, precise_times=True)
             for t in (1.03, 1.05, 1.07)[1:]), sim.create(nx.spike_generator, 1, spike_times=[1.03] * u.ms,
                                                           precise_times=True))
    n = sim.create(nx.iaf_psc_exp_ps, 1)
    sim.connect(g, n, weight=10.0)
    with pytest.raises(NestaxError, match=r"precise_capacity = 2.*at least 3"):
        sim.simulate(5.0 * u.ms)
    sim.precise_capacity = 4
    sim.simulate(5.0 * u.ms)
    with pytest.raises(BadParameterError, match="precise_capacity"):
        sim.precise_capacity = 0


def test_bad_input_is_refused():
    sim = nx.Simulator(dt=0.1 * u.ms)
    with pytest.raises(BadParameterError, match="precise_times.*allow_offgrid_times"):
        sim.create(nx.spike_generator, 1, spike_times=[1.05] * u.ms, precise_times=True, allow_offgrid_times=True)
    with pytest.raises(BadParameterError, match="iaf_psc_exp_ps.*t_ref.*at least one time step"):
        sim.create(nx.iaf_psc_exp_ps, 1, t_ref=0.0 * u.ms)
    with pytest.raises(BadParameterError, match="iaf_psc_delta_ps.*V_reset.*V_min"):
        sim.create(nx.iaf_psc_delta_ps, 1, V_min=-60.0 * u.mV)


def test_spike_generator_precise_offsets():
    """NEST's spike_generator with precise_times: stamp ceil(t/h) in tics, offset stamp - t; a spike
    recorder reports the exact times, and grid targets see the spikes at their stamps."""
    times = np.array([0.35, 1.0, 1.0001, 2.55, 2.56])
    sim = nx.Simulator(dt=0.1 * u.ms)
    g = sim.create(nx.spike_generator, 1, spike_times=times * u.ms, precise_times=True)
    sr = sim.create(nx.spike_recorder)
    sr2 = sim.create(nx.spike_recorder, time_in_steps=True)
    p = sim.create(nx.parrot_neuron, 1)
    sr3 = sim.create(nx.spike_recorder)
    sim.connect(g, sr)
    sim.connect(g, sr2)
    sim.connect(g, p)
    sim.connect(p, sr3)
    res = sim.simulate(5.0 * u.ms)
    nest = fresh_nest(0.1)
    G = nest.Create("spike_generator", params={"spike_times": times, "precise_times": True})
    S = nest.Create("spike_recorder")
    S2 = nest.Create("spike_recorder", params={"time_in_steps": True})
    P = nest.Create("parrot_neuron")
    S3 = nest.Create("spike_recorder")
    nest.Connect(G, S)
    nest.Connect(G, S2)
    nest.Connect(G, P)
    nest.Connect(P, S3)
    nest.Simulate(5.0)
    np.testing.assert_allclose(res.events(sr)["times"].to_decimal(u.ms), S.events["times"], rtol=0, atol=T_TOL)
    ev2 = res.events(sr2)
    np.testing.assert_array_equal(ev2["times"], S2.events["times"])
    np.testing.assert_allclose(ev2["offsets"].to_decimal(u.ms), S2.events["offsets"], rtol=0, atol=T_TOL)
    np.testing.assert_allclose(res.events(sr3)["times"].to_decimal(u.ms), S3.events["times"], rtol=0, atol=T_TOL)


def _isi_stats(times, senders):
    isis = np.concatenate([np.diff(np.sort(times[senders == s])) for s in np.unique(senders)])
    return isis.min(), isis.mean(), isis.std() / isis.mean()


def test_poisson_generator_ps_statistics():
    """poisson_generator_ps (statistical parity, NEST draws its own numbers): one independent train per
    target, 2000 Hz with dead time 0.2 ms, through 100 parrot_neuron_ps (precise) and 20 parrot_neuron
    (grid): the rate, the smallest interval (the dead time, to rounding) and the CV of the intervals
    ((1/rate - dead_time) * rate = 0.6) agree with NEST's; spike times are off the grid."""
    rate, dead, T = 2000.0, 0.2, 1000.0
    sim = nx.Simulator(dt=0.1 * u.ms, seed=5)
    g = sim.create(nx.poisson_generator_ps, 1, rate=rate * u.Hz, dead_time=dead * u.ms)
    pr = sim.create(nx.parrot_neuron_ps, 100)
    pg = sim.create(nx.parrot_neuron, 20)
    sr, sr_g, sr_d = (sim.create(nx.spike_recorder) for _ in range(3))
    sim.connect(g, pr + pg)
    sim.connect(pr, sr)
    sim.connect(pg, sr_g)
    sim.connect(g, sr_d)  # a train of its own, recorded with its offsets
    res = sim.simulate(T * u.ms)
    ev = res.events(sr)
    t, s = ev["times"].to_decimal(u.ms), np.asarray(ev["senders"])
    mine = _isi_stats(t, s)
    nest = fresh_nest(0.1, seed=5)
    G = nest.Create("poisson_generator_ps", params={"rate": rate, "dead_time": dead})
    P = nest.Create("parrot_neuron_ps", 100)
    S = nest.Create("spike_recorder")
    nest.Connect(G, P)
    nest.Connect(P, S)
    nest.Simulate(T)
    theirs = _isi_stats(np.asarray(S.events["times"]), np.asarray(S.events["senders"]))
    n_mine, n_theirs = len(t) / 100 / (T / 1000), len(S.events["times"]) / 100 / (T / 1000)
    # 200,000 spikes: the rate to 1.5 % (> 6 standard errors), the CV to 0.02
    assert abs(n_mine - rate) < 0.015 * rate and abs(n_theirs - rate) < 0.015 * rate
    assert abs(n_mine - n_theirs) < 0.015 * rate
    assert mine[0] >= dead - 1e-9 and theirs[0] >= dead - 1e-9
    assert abs(mine[2] - 0.6) < 0.02 and abs(mine[2] - theirs[2]) < 0.02
    vrecord("poisson_generator_ps", "rate", abs(n_mine - n_theirs), 0.015 * rate, "statistical",
            "|rate nestax - rate NEST| (Hz), 100 trains")
    vrecord("poisson_generator_ps", "ISI CV", abs(mine[2] - theirs[2]), 0.02, "statistical", "|ISI CV nestax - NEST|")
    assert np.mean(np.abs(t * 10 - np.round(t * 10)) > 1e-9) > 0.99     # off the grid
    # grid parrots: the same trains at their stamps (one per connection, so only the rate compares)
    n_grid = res.n_events(sr_g) / 20 / (T / 1000)
    assert abs(n_grid - rate) < 0.03 * rate
    td = res.events(sr_d)["times"].to_decimal(u.ms)
    assert abs(len(td) / (T / 1000) - rate) < 0.1 * rate and np.all(np.diff(td) >= dead - 1e-9)


@pytest.mark.parametrize("in_steps", [False, True])
def test_ascii_files_with_offsets_match_nest(tmp_path, in_steps):
    """A spike_recorder writing to an ascii file: precise spikes as NEST writes them (time_ms = stamp -
    offset; with time_in_steps the time_step and time_offset columns), byte for byte. Rows are
    compared sorted (NEST writes them in delivery order, nestax by time)."""
    times, weights = _input_train(seed=13, n=60)
    p = dict(record_to="ascii", time_in_steps=in_steps, precision=6, label="prec")
    sim = nx.Simulator(dt=0.1 * u.ms)
    (tmp_path / "x").mkdir()
    sim.data_path, sim.data_prefix, sim.overwrite_files = str(tmp_path / "x"), "run_", True
    g = sim.create(nx.spike_generator, 1, spike_times=times * u.ms, precise_times=True)
    n = sim.create(nx.parrot_neuron_ps, 2)
    sr = sim.create(nx.spike_recorder, **p)
    sim.connect(g, n)
    sim.connect(n, sr)
    res = sim.simulate(100.0 * u.ms)
    nest = fresh_nest(0.1)
    (tmp_path / "n").mkdir()
    nest.SetKernelStatus({"data_path": str(tmp_path / "n"), "data_prefix": "run_", "overwrite_files": True})
    G = nest.Create("spike_generator", params={"spike_times": times, "precise_times": True})
    N = nest.Create("parrot_neuron_ps", 2)
    S = nest.Create("spike_recorder", params=p)
    nest.Connect(G, N)
    nest.Connect(N, S)
    nest.Simulate(100.0)
    mine = open(res.filename(sr)).read().splitlines()
    theirs = open(S.get("filenames")[0]).read().splitlines()
    head = [i for i, line in enumerate(theirs) if line.startswith("sender")][0] + 1
    assert mine[:head] == theirs[:head]
    assert len(theirs) - head >= 100
    assert sorted(mine[head:]) == sorted(theirs[head:])


def test_precise_spiking_example():
    """examples/precise_spiking.py (NEST's precise_spiking example): every spike time and V_m sample as
    NEST at each resolution, and the precise model's spike times do not depend on the resolution."""
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / "precise_spiking.py"
    spec = importlib.util.spec_from_file_location("precise_spiking_example", path)
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    data = {r: {m: ex.run(r, m) for m in ex.MODELS} for r in ex.RESOLUTIONS}
    for r in ex.RESOLUTIONS:
        for m in ex.MODELS:
            nest = fresh_nest(r)
            n = nest.Create(m)
            vm = nest.Create("voltmeter", params={"interval": r})
            dc = nest.Create("dc_generator", params={"amplitude": ex.STIM_CURRENT})
            sr = nest.Create("spike_recorder")
            nest.Connect(vm, n)
            nest.Connect(dc, n)
            nest.Connect(n, sr)
            nest.Simulate(ex.SIMTIME)
            mine, theirs = data[r][m], sr.events["times"]
            assert len(theirs) >= 5 and len(mine["spikes"]) == len(theirs)
            np.testing.assert_allclose(mine["spikes"], theirs, rtol=0, atol=T_TOL)
            k = len(vm.events["V_m"])
            np.testing.assert_allclose(mine["vm_values"][:k], vm.events["V_m"], rtol=0, atol=V_TOL)
    # the current reaches the neuron one step after the 1 ms delay (NEST's lag), at 1 + h: measured from
    # there, the precise spike times do not depend on the resolution; the grid ones do
    ps = [data[r]["iaf_psc_exp_ps"]["spikes"] - (1.0 + r) for r in ex.RESOLUTIONS]
    grid = [data[r]["iaf_psc_exp"]["spikes"] - (1.0 + r) for r in ex.RESOLUTIONS]
    for a in ps[1:]:
        np.testing.assert_allclose(a, ps[0], rtol=0, atol=1e-12)
    assert not np.allclose(grid[2], grid[0][:len(grid[2])], atol=1e-3)


def test_poisson_generator_ps_several_spikes_per_step():
    """20 kHz without dead time (2 spikes per step on average): several spikes of one train in one
    step all reach the parrot_neuron_ps, each with its own offset; the trains are Poisson (rate, ISI CV
    1, exponential intervals shorter than the step)."""
    rate, T = 20000.0, 200.0
    sim = nx.Simulator(dt=0.1 * u.ms, seed=9)
    g = sim.create(nx.poisson_generator_ps, 1, rate=rate * u.Hz)
    pr = sim.create(nx.parrot_neuron_ps, 50)
    sr = sim.create(nx.spike_recorder)
    sim.connect(g, pr)
    sim.connect(pr, sr)
    ev = sim.simulate(T * u.ms).events(sr)
    t, s = ev["times"].to_decimal(u.ms), np.asarray(ev["senders"])
    n = len(t) / 50 / (T / 1000)
    assert abs(n - rate) < 0.015 * rate            # 200,000 spikes
    smallest, mean, cv = _isi_stats(t, s)
    assert abs(cv - 1.0) < 0.02
    assert abs(mean - 1000.0 / rate) < 0.015 * 1000.0 / rate
    stamps = np.ceil(t / 0.1 - 1e-9)
    per_step = np.unique(np.stack([s, stamps]), axis=1, return_counts=True)[1]
    assert per_step.max() >= 5                      # many steps with several spikes of one train
