"""Parity of iaf_psc_exp under DC and spike input (the pattern every parity test follows)."""
import brainunit as u
import numpy as np

import nestax as nx

from .nest_helpers import fresh_nest, mantissa


def run_nest(T, dt, nparams, spikes, dc):
    nest = fresh_nest(dt)
    n = nest.Create("iaf_psc_exp", params=nparams)
    sg = nest.Create("spike_generator", params={"spike_times": spikes})
    g = nest.Create("dc_generator", params=dc)
    mm = nest.Create("multimeter", params={"record_from": ["V_m", "I_syn_ex", "I_syn_in"], "interval": dt})
    sr = nest.Create("spike_recorder")
    nest.Connect(sg, n, syn_spec={"weight": 300.0, "delay": 1.0})
    nest.Connect(sg, n, syn_spec={"weight": -100.0, "delay": 2.0})
    nest.Connect(g, n, syn_spec={"delay": 0.5})
    nest.Connect(mm, n)
    nest.Connect(n, sr)
    nest.Simulate(T)
    return mm.events, sr.events["times"]


def run_nx(T, dt, nparams, spikes, dc):
    sim = nx.Simulator(dt=dt * u.ms)
    n = sim.create(nx.iaf_psc_exp, 1, **nparams)
    sg = sim.create(nx.spike_generator, spike_times=spikes)
    g = sim.create(nx.dc_generator, **dc)
    mm = sim.create(nx.multimeter, record_from=["V_m", "I_syn_ex", "I_syn_in"], interval=dt)
    sr = sim.create(nx.spike_recorder)
    sim.connect(sg, n, weight=300.0, delay=1.0)
    sim.connect(sg, n, weight=-100.0, delay=2.0)
    sim.connect(g, n, delay=0.5)
    sim.connect(mm, n)
    sim.connect(n, sr)
    return sim.simulate(T), mm, sr


def test_iaf_psc_exp_dc_and_spikes_exact():
    T, dt = 60.0, 0.1
    nparams = {"tau_syn_ex": 1.5, "tau_syn_in": 3.0, "I_e": 50.0}
    spikes = [2.0, 5.0, 5.5, 6.0, 20.0, 20.1, 20.2, 35.0]
    dc = {"amplitude": 450.0, "start": 10.0, "stop": 40.0}
    ev, nest_spikes = run_nest(T, dt, nparams, spikes, dc)
    res, mm, sr = run_nx(T, dt, nparams, spikes, dc)
    t_nest = np.round(ev["times"] / dt).astype(int)
    t_nx = np.round(mantissa(res.trace_times(mm), u.ms) / dt).astype(int)
    common, i_n, i_x = np.intersect1d(t_nest, t_nx, return_indices=True)
    assert len(common) == len(t_nest) and len(common) > 500
    for var, unit in (("V_m", u.mV), ("I_syn_ex", u.pA), ("I_syn_in", u.pA)):
        a = ev[var][i_n]
        b = mantissa(res.trace(mm, var), unit)[:, 0][i_x]
        np.testing.assert_allclose(b, a, atol=1e-9, rtol=0, err_msg=var)
    got = mantissa(res.events(sr)["times"], u.ms)
    assert len(nest_spikes) > 0
    np.testing.assert_allclose(got, nest_spikes, atol=1e-9)
