"""Parity of the stimulation devices with NEST 3.10: current generators and spike_generator.

Every case runs the same network in NEST and in nestax and compares on the common sample times:
V_m of an iaf_psc_exp / iaf_psc_alpha target (atol 1e-9) and the generator's own recordable I.
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


def _sorted_events(ev, var):
    """NEST's multimeter events ordered by (time, sender): (steps, values (n_t, n_senders))."""
    o = np.lexsort((ev["senders"], ev["times"]))
    n = len(np.unique(ev["senders"]))
    return _steps(ev["times"][o][::n]), np.asarray(ev[var])[o].reshape(-1, n)


def _compare(t_a, a, t_b, b, what, atol=1e-9, model=None):
    common, ia, ib = np.intersect1d(t_a, t_b, return_indices=True)
    assert len(common) == len(t_a), f"{what}: NEST sample times missing in nestax"
    np.testing.assert_allclose(b[ib], a[ia], atol=atol, rtol=0, err_msg=what)
    if model is not None:
        dev = float(np.max(np.abs(np.asarray(b[ib]) - np.asarray(a[ia])))) if len(common) else 0.0
        var = what.split()[0]
        vrecord(model, what, dev, atol, "exact", f"{var} max abs dev ({_UNITS.get(var, '')})")
    return common


_UNITS = {"V_m": "mV", "I": "pA", "I_syn_ex": "pA", "I_syn_in": "pA"}


# ---------------------------------------------------------------------------------- current generators
CURRENT_CASES = [
    ("dc_generator", dict(amplitude=300.0, start=5.0, stop=20.0), 1.0, "iaf_psc_exp"),
    ("dc_generator", dict(amplitude=300.0, start=0.0, stop=20.0), 0.1, "iaf_psc_alpha"),
    ("dc_generator", dict(amplitude=-200.0, start=2.0, stop=7.0, origin=3.0), 5.0, "iaf_psc_exp"),
    ("dc_generator", dict(amplitude=450.0), 0.1, "iaf_psc_exp"),
    ("ac_generator", dict(amplitude=100.0, offset=20.0, frequency=50.0, phase=30.0, start=5.0, stop=20.0), 1.0,
     "iaf_psc_exp"),
    ("ac_generator", dict(amplitude=300.0, offset=200.0, frequency=50.0, phase=30.0), 0.3, "iaf_psc_alpha"),
    ("ac_generator", dict(amplitude=100.0, offset=-20.0, frequency=123.0, phase=-90.0, start=1.5, stop=22.0,
                          origin=2.0), 2.5, "iaf_psc_exp"),
    ("ac_generator", dict(amplitude=80.0, frequency=7.0, phase=400.0, start=0.0, stop=12.3), 0.2, "iaf_psc_alpha"),
    ("step_current_generator", dict(amplitude_times=[1.0, 5.0, 7.5, 20.0], amplitude_values=[500.0, -50.0, 300.0, 0.0]),
     1.0, "iaf_psc_exp"),
    ("step_current_generator", dict(amplitude_times=[0.1, 5.0, 7.5, 20.0], amplitude_values=[100.0, -50.0, 300.0, 10.0],
                                    start=3.0, stop=15.0, origin=1.0), 0.1, "iaf_psc_alpha"),
    ("step_current_generator", dict(amplitude_times=[0.15, 5.01, 7.55], amplitude_values=[100.0, -50.0, 600.0],
                                    allow_offgrid_times=True), 0.7, "iaf_psc_exp"),
    ("step_current_generator", dict(amplitude_times=[2.0, 4.0], amplitude_values=[800.0, 100.0], start=0.0, stop=4.0),
     3.0, "iaf_psc_exp"),
]


def _run_current(model, gp, delay, neuron, T, nest_side):
    if nest_side:
        nest = fresh_nest(DT)
        n = nest.Create(neuron)
        g = nest.Create(model, params=gp)
        mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT})
        mg = nest.Create("multimeter", params={"record_from": ["I"], "interval": DT})
        sr = nest.Create("spike_recorder")
        nest.Connect(g, n, syn_spec={"delay": delay})
        nest.Connect(mm, n)
        nest.Connect(mg, g)
        nest.Connect(n, sr)
        nest.Simulate(T)
        return (_steps(mm.events["times"]), mm.events["V_m"], _steps(mg.events["times"]), mg.events["I"],
                _steps(sr.events["times"]))
    sim = nx.Simulator(dt=DT * u.ms)
    n = sim.create(neuron)
    g = sim.create(model, **gp)
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=DT)
    mg = sim.create(nx.multimeter, record_from=["I"], interval=DT)
    sr = sim.create(nx.spike_recorder)
    sim.connect(g, n, delay=delay * u.ms)
    sim.connect(mm, n)
    sim.connect(mg, g)
    sim.connect(n, sr)
    r = sim.simulate(T * u.ms)
    return (_steps(mantissa(r.trace_times(mm), u.ms)), mantissa(r.trace(mm, "V_m"), u.mV)[:, 0],
            _steps(mantissa(r.trace_times(mg), u.ms)), mantissa(r.trace(mg, "I"), u.pA)[:, 0],
            _steps(mantissa(r.events(sr)["times"], u.ms)))


def _nominal_window(gp):
    o = gp.get("origin", 0.0)
    lo = _steps(o + gp.get("start", 0.0))
    hi = _steps(o + gp["stop"]) if "stop" in gp else 10**9
    return max(lo, 1), hi


@pytest.mark.parametrize("model,gp,delay,neuron", CURRENT_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CURRENT_CASES)])
def test_current_generator_parity(model, gp, delay, neuron):
    T = 30.0
    tv_n, v_n, ti_n, i_n, sp_n = _run_current(model, gp, delay, neuron, T, True)
    tv_x, v_x, ti_x, i_x, sp_x = _run_current(model, gp, delay, neuron, T, False)
    common = _compare(tv_n, v_n, tv_x, v_x, "V_m", model=model)
    assert len(common) >= 290
    _compare(ti_n, i_n, ti_x, i_x, "I", model=model)
    np.testing.assert_array_equal(sp_x, sp_n)
    # the generator's I is nonzero exactly on stamps [start, stop) (and from stamp 1 when start = 0)
    lo, hi = _nominal_window(gp)
    nz = ti_x[i_x != 0]
    assert nz.min() >= lo and nz.max() < hi
    # current flows during [start + d, stop + d): V_m first moves at start + d + dt
    d = _steps(delay)
    v0 = v_x[0]
    moved = tv_x[np.abs(v_x - v0) > 1e-12]
    first_nonzero_I = ti_x[np.nonzero(i_x)[0][0]]
    assert moved.min() == first_nonzero_I + d + 1


def test_ac_generator_value_at_each_stamp():
    """I(s) = offset + amplitude * sin(2 pi f s dt + phase_deg) at every stamp s of the window."""
    gp = dict(amplitude=100.0, offset=20.0, frequency=50.0, phase=30.0, start=5.0, stop=20.0)
    ti, i_x = _run_current("ac_generator", gp, 1.0, "iaf_psc_exp", 30.0, False)[2:4]
    t = ti * DT
    on = (ti >= 50) & (ti < 200)
    expect = 20.0 + 100.0 * np.sin(2 * np.pi * 50.0 / 1000.0 * t + np.deg2rad(30.0))
    np.testing.assert_allclose(i_x[on], expect[on], atol=1e-9)
    assert np.all(i_x[~on] == 0.0)


def test_current_generator_two_simulate_calls_continue():
    """Splitting the run into two simulate calls gives the same trace as NEST's single run."""
    gp = dict(amplitude=100.0, offset=250.0, frequency=40.0, phase=90.0, start=3.0, stop=25.0)
    tv_n, v_n, ti_n, i_n, _ = _run_current("ac_generator", gp, 1.5, "iaf_psc_exp", 30.0, True)
    sim = nx.Simulator(dt=DT)
    n = sim.create(nx.iaf_psc_exp)
    g = sim.create(nx.ac_generator, **gp)
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=DT)
    sim.connect(g, n, delay=1.5)
    sim.connect(mm, n)
    parts = [sim.simulate(13.7), sim.simulate(16.3)]
    t = np.concatenate([_steps(mantissa(r.trace_times(mm), u.ms)) for r in parts])
    v = np.concatenate([mantissa(r.trace(mm, "V_m"), u.mV)[:, 0] for r in parts])
    assert np.array_equal(t, np.arange(1, 301))
    _compare(tv_n, v_n, t, v, "V_m (two calls)", model="ac_generator")


def test_step_current_offgrid_times_need_allow_offgrid():
    nest = fresh_nest(DT)
    with pytest.raises(Exception):
        nest.Create("step_current_generator", params={"amplitude_times": [1.05], "amplitude_values": [1.0]})
    sim = nx.Simulator(dt=DT)
    with pytest.raises(nx.BadParameterError, match="allow_offgrid_times"):  # at create, as NEST
        sim.create(nx.step_current_generator, amplitude_times=[1.05], amplitude_values=[1.0])


# ---------------------------------------------------------------------------------- spike_generator
SG_CASES = [
    dict(spike_times=[1.0, 2.0, 2.0, 5.0]),                                   # repeated times
    dict(spike_times=[1.0, 2.0, 5.0], spike_weights=[3.0, -1.0, 0.5]),
    dict(spike_times=[1.0, 2.0, 5.0], spike_multiplicities=[2, 3, 1]),
    dict(spike_times=[1.0, 2.0, 5.0], spike_multiplicities=[2, 3, 1], spike_weights=[3.0, -1.0, 0.5]),
    dict(spike_times=[1.0, 2.0, 2.0, 5.0], spike_weights=[3.0, -1.0, 4.0, 0.5]),  # mixed signs in one step
    dict(spike_times=[1.01, 2.05, 5.09], allow_offgrid_times=True),
    dict(spike_times=[0.1, 2.0, 5.0, 8.0, 10.0], start=2.0, stop=8.0),      # spikes at start and stop
    dict(spike_times=[0.1, 2.0, 5.0, 8.0, 10.0, 12.0], start=2.0, stop=8.0, origin=2.0),
    dict(spike_times=[0.1, 2.0, 5.0, 8.0, 10.0, 20.0], start=0.0),         # spike at T
]


def _run_sg(gp, weight, delay, neuron, T, nest_side):
    recs = ["V_m", "I_syn_ex", "I_syn_in"] if neuron == "iaf_psc_exp" else ["V_m"]
    if nest_side:
        nest = fresh_nest(DT)
        n = nest.Create(neuron)
        g = nest.Create("spike_generator", params=gp)
        mm = nest.Create("multimeter", params={"record_from": recs, "interval": DT})
        sr = nest.Create("spike_recorder")
        nest.Connect(g, n, syn_spec={"delay": delay, "weight": weight})
        nest.Connect(mm, n)
        nest.Connect(g, sr)
        nest.Simulate(T)
        e = mm.events
        return _steps(e["times"]), {v: e[v] for v in recs}, _steps(sr.events["times"])
    sim = nx.Simulator(dt=DT)
    n = sim.create(neuron)
    g = sim.create(nx.spike_generator, **gp)
    mm = sim.create(nx.multimeter, record_from=recs, interval=DT)
    sr = sim.create(nx.spike_recorder)
    sim.connect(g, n, delay=delay, weight=weight)
    sim.connect(mm, n)
    sim.connect(g, sr)
    r = sim.simulate(T)
    return (_steps(mantissa(r.trace_times(mm), u.ms)), {v: mantissa(r.trace(mm, v))[:, 0] for v in recs},
            _steps(mantissa(r.events(sr)["times"], u.ms)))


@pytest.mark.parametrize("gp", SG_CASES, ids=[f"sg{i}" for i in range(len(SG_CASES))])
@pytest.mark.parametrize("weight,delay,neuron", [(200.0, 1.0, "iaf_psc_exp"), (-150.0, 0.1, "iaf_psc_alpha")])
def test_spike_generator_parity(gp, weight, delay, neuron):
    T = 20.0
    t_n, v_n, s_n = _run_sg(gp, weight, delay, neuron, T, True)
    t_x, v_x, s_x = _run_sg(gp, weight, delay, neuron, T, False)
    for var in v_n:
        _compare(t_n, v_n[var], t_x, v_x[var], var, model="spike_generator")
    # spike_generator -> spike_recorder directly: same stamps, multiplicity kept
    np.testing.assert_array_equal(s_x, s_n)


def test_spike_weights_scale_the_connection_weight():
    """NEST multiplies the connection weight by the spike weight; a negative product is inhibitory."""
    t, v, _ = _run_sg(dict(spike_times=[1.0, 3.0], spike_weights=[3.0, -0.5]), 2.0, 1.0, "iaf_psc_exp", 6.0, False)
    i20 = np.searchsorted(t, 20)
    i40 = np.searchsorted(t, 40)
    assert v["I_syn_ex"][i20] == pytest.approx(6.0)
    assert v["I_syn_in"][i40] == pytest.approx(-1.0)


def test_spike_generator_errors():
    sim = nx.Simulator(dt=DT)
    with pytest.raises(nx.BadParameterError, match="allow_offgrid_times"):  # at create, as NEST
        sim.create(nx.spike_generator, spike_times=[1.05])
    # precise_times is supported (tests/parity/test_precise.py); it excludes allow_offgrid_times, as in NEST
    with pytest.raises(nx.BadParameterError, match="precise_times"):
        sim.create(nx.spike_generator, spike_times=[1.05], precise_times=True, allow_offgrid_times=True)
    with pytest.raises(nx.BadParameterError, match="sorted"):
        sim.create(nx.spike_generator, spike_times=[2.0, 1.0])
    with pytest.raises(nx.BadParameterError, match="spike_weights"):
        sim.create(nx.spike_generator, spike_times=[1.0, 2.0], spike_weights=[1.0])
    nest = fresh_nest(DT)
    with pytest.raises(Exception):
        nest.Create("spike_generator", params={"spike_times": [1.05]})
