"""Parity of the recording devices with NEST 3.10: spike_recorder and multimeter / voltmeter windows."""
import brainunit as u
import numpy as np
import pytest

import nestax as nx

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

DT = 0.1
EVERY_STEP = [round(DT * i, 1) for i in range(1, 200)]


def _steps(t_ms):
    return np.round(np.asarray(t_ms) / DT).astype(int)


@pytest.mark.parametrize("sp", [dict(start=2.0, stop=5.0), dict(start=0.0, stop=1.0),
                                dict(start=1.0, stop=3.0, origin=2.0), dict()])
def test_spike_recorder_window(sp):
    """Spikes stamped exactly at origin+stop are recorded, those at origin+start are not."""
    nest = fresh_nest(DT)
    g = nest.Create("spike_generator", params={"spike_times": EVERY_STEP})
    sr = nest.Create("spike_recorder", params=sp)
    nest.Connect(g, sr)
    nest.Simulate(10.0)
    t_n = _steps(sr.events["times"])
    sim = nx.Simulator(dt=DT)
    g = sim.create(nx.spike_generator, spike_times=EVERY_STEP)
    sr = sim.create(nx.spike_recorder, **sp)
    sim.connect(g, sr)
    t_x = _steps(mantissa(sim.simulate(10.0).events(sr)["times"], u.ms))
    np.testing.assert_array_equal(t_x, t_n)
    vrecord("spike_recorder", "", int(np.sum(t_x != t_n)), 0, "exact", f"stamps differing from NEST's (of {len(t_n)})")
    o = sp.get("origin", 0.0)
    lo, hi = _steps(o + sp.get("start", 0.0)), _steps(min(o + sp.get("stop", 10.0), 10.0))
    np.testing.assert_array_equal(t_x, np.arange(lo + 1, hi + 1))


MM_CASES = [dict(interval=1.0), dict(interval=0.5, offset=0.3), dict(interval=0.2, start=2.0, stop=5.0),
            dict(interval=0.3, offset=0.2, start=1.0, stop=4.0, origin=1.5), dict(interval=1.0, offset=15.0),
            dict(interval=0.1)]


def _nest_mm(model, mp, recs, T1, T2):
    nest = fresh_nest(DT)
    n = nest.Create("iaf_psc_alpha", 3, params={"I_e": [380.0, 400.0, 420.0]})
    mm = nest.Create(model, params=dict(mp, **({"record_from": recs} if model == "multimeter" else {})))
    nest.Connect(mm, n)
    nest.Simulate(T1)
    n1 = len(mm.events["times"]) // 3
    nest.Simulate(T2)
    e = mm.events
    o = np.lexsort((e["senders"], e["times"]))
    return n1, _steps(e["times"][o][::3]), {v: e[v][o].reshape(-1, 3) for v in recs}, e["senders"][o][:3]


def _nx_mm(model, mp, recs, T1, T2):
    sim = nx.Simulator(dt=DT)
    n = sim.create(nx.iaf_psc_alpha, 3, I_e=np.array([380.0, 400.0, 420.0]))
    mm = sim.create(getattr(nx, model), **dict(mp, **({"record_from": recs} if model == "multimeter" else {})))
    sim.connect(mm, n)
    rs = [sim.simulate(T1), sim.simulate(T2)]
    t = [_steps(mantissa(r.trace_times(mm), u.ms)) for r in rs]
    vals = {v: np.concatenate([mantissa(r.trace(mm, v)) for r in rs]) for v in recs}
    return len(t[0]), np.concatenate(t), vals, rs[0].targets(mm)


@pytest.mark.parametrize("mp", MM_CASES, ids=[f"mm{i}" for i in range(len(MM_CASES))])
@pytest.mark.parametrize("model", ["multimeter", "voltmeter"])
def test_multimeter_windows_and_two_calls(model, mp):
    recs = ["V_m", "I_syn_ex"] if model == "multimeter" else ["V_m"]
    T1, T2 = 10.0, 10.0
    n1_n, t_n, v_n, snd_n = _nest_mm(model, mp, recs, T1, T2)
    n1_x, t_x, v_x, snd_x = _nx_mm(model, mp, recs, T1, T2)
    np.testing.assert_array_equal(snd_x, snd_n)
    # expected sample grid: offset + j*interval (t > 0) inside (origin+start, origin+stop], up to T
    iv, off = _steps(mp["interval"]), _steps(mp.get("offset", 0.0))
    o = mp.get("origin", 0.0)
    lo, hi = _steps(o + mp.get("start", 0.0)), _steps(o + mp.get("stop", 1e6))
    grid = np.arange(1, _steps(T1 + T2) + 1)
    grid = grid[(grid >= off) & ((grid - off) % iv == 0) & (grid > lo) & (grid <= hi)]
    np.testing.assert_array_equal(t_x, grid)           # nestax: every sample up to T
    assert n1_x == np.sum(grid <= _steps(T1))
    # NEST holds back the samples of the last min_delay (1 ms); all it has, nestax has, equal values
    assert np.array_equal(t_n, grid[grid <= _steps(T1 + T2 - 1.0)])
    assert n1_n == np.sum(grid <= _steps(T1 - 1.0))
    common, i_n, i_x = np.intersect1d(t_n, t_x, return_indices=True)
    assert len(common) == len(t_n)
    for v in recs:
        np.testing.assert_allclose(v_x[v][i_x], v_n[v][i_n], atol=1e-9, rtol=0, err_msg=v)
        vrecord(model, v, float(np.max(np.abs(v_x[v][i_x] - v_n[v][i_n]))) if len(common) else 0.0, 1e-9, "exact",
                f"recorded {v} max abs dev, {len(common)} samples on NEST's grid")


def test_multimeter_full_count_at_resolution():
    """100 ms at interval 0.1: NEST returns 990 samples (holds back min_delay), nestax 1000."""
    nest = fresh_nest(DT)
    n = nest.Create("iaf_psc_exp", params={"I_e": 500.0})
    mm = nest.Create("voltmeter", params={"interval": DT})
    nest.Connect(mm, n)
    nest.Simulate(100.0)
    assert len(mm.events["times"]) == 990
    sim = nx.Simulator(dt=DT)
    n = sim.create(nx.iaf_psc_exp, I_e=500.0)
    vm = sim.create(nx.voltmeter, interval=DT)
    sim.connect(vm, n)
    r = sim.simulate(100.0)
    assert r.trace(vm, "V_m").shape == (1000, 1)
    np.testing.assert_allclose(mantissa(r.trace(vm, "V_m"), u.mV)[:990, 0], mm.events["V_m"], atol=1e-9, rtol=0)


def test_record_from_missing_variable_is_a_clear_error():
    nest = fresh_nest(DT)
    n = nest.Create("iaf_psc_exp")
    mm = nest.Create("multimeter", params={"record_from": ["g_ex"]})
    with pytest.raises(Exception):
        nest.Connect(mm, n)
    sim = nx.Simulator(dt=DT)
    n = sim.create(nx.iaf_psc_exp)
    mm = sim.create(nx.multimeter, record_from=["g_ex"])
    with pytest.raises(nx.BadParameterError, match="g_ex.*iaf_psc_exp|iaf_psc_exp.*g_ex"):
        sim.connect(mm, n)
    mm2 = sim.create(nx.multimeter, record_from=["V_n"])
    with pytest.raises(nx.BadParameterError, match="V_m"):   # did-you-mean / list of recordables
        sim.connect(mm2, n)
