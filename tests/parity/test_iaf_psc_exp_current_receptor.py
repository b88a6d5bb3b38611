"""iaf_psc_exp's receptor_type 1 current input (NEST: a current filtered by the excitatory synapse).

dc and step currents on receptor 1, a dc on receptor 0 and excitatory/inhibitory spikes on the same
neurons (one of them with tau_syn_ex == tau_m, the singular propagator case), 7 uneven simulate calls in
nestax, against one NEST Simulate. V_m and I_syn_ex (which includes the filtered current, in NEST as
here) within 1e-9 at every common sample, spike stamps identical. Spikes on receptor 1 and currents on
receptor 2 are refused, as in NEST.
"""
from __future__ import annotations

import numpy as np
import pytest

import nestax as nx
from nestax.errors import ConnectionError_

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

DT, T = 0.1, 120.0
PARAMS = [dict(), dict(tau_syn_ex=10.0, tau_m=10.0), dict(tau_syn_ex=0.5, t_ref=1.3, V_th=-60.0)]
STEP = dict(amplitude_times=[10.0, 30.0, 31.1, 70.0], amplitude_values=[300.0, -150.0, 600.0, 0.0])


def build(make, connect, multimeter, spike_recorder):
    pops = [make("iaf_psc_exp", p) for p in PARAMS]
    dc1 = make("dc_generator", dict(amplitude=250.0, start=5.0, stop=90.0))
    dc0 = make("dc_generator", dict(amplitude=120.0, start=40.0))
    sc1 = make("step_current_generator", STEP)
    sg = make("spike_generator", dict(spike_times=[3.0, 12.5, 44.4, 45.0, 80.2]))
    for n in pops:
        connect(dc1, n, dict(receptor_type=1, delay=1.0))
        connect(sc1, n, dict(receptor_type=1, delay=0.3))
        connect(dc0, n, dict(delay=2.0))
        connect(sg, n, dict(weight=400.0, delay=1.5))
        connect(sg, n, dict(weight=-300.0, delay=4.2))
    return pops, multimeter(pops), spike_recorder(pops)


def run_nest():
    nest = fresh_nest(DT)

    def make(model, p):
        return nest.Create(model, params=p)

    def connect(a, b, syn):
        nest.Connect(a, b, syn_spec=syn)

    def multimeter(pops):
        mm = nest.Create("multimeter", params={"record_from": ["V_m", "I_syn_ex"], "interval": DT})
        for n in pops:
            nest.Connect(mm, n)
        return mm

    def spike_recorder(pops):
        sr = nest.Create("spike_recorder")
        for n in pops:
            nest.Connect(n, sr)
        return sr
    pops, mm, sr = build(make, connect, multimeter, spike_recorder)
    nest.Simulate(T)
    e = mm.events
    gids = [n.global_id for n in pops]
    out = {var: np.array([e[var][e["senders"] == g] for g in gids]).T for var in ("V_m", "I_syn_ex")}
    ev = sr.events
    spikes = sorted((gids.index(s), int(round(t / DT))) for s, t in zip(ev["senders"], ev["times"]))
    return out, spikes


def run_nestax():
    sim = nx.Simulator(dt=DT)

    def make(model, p):
        return sim.create(model, 1, **p)

    def connect(a, b, syn):
        sim.connect(a, b, **syn)

    def multimeter(pops):
        mm = sim.create(nx.multimeter, record_from=["V_m", "I_syn_ex"], interval=DT)
        for n in pops:
            sim.connect(mm, n)
        return mm

    def spike_recorder(pops):
        sr = sim.create(nx.spike_recorder)
        for n in pops:
            sim.connect(n, sr)
        return sr
    pops, mm, sr = build(make, connect, multimeter, spike_recorder)
    parts, ev, out = [7.3, 0.1, 22.5, 30.0, 0.4, 39.7, 20.0], [], {"V_m": [], "I_syn_ex": []}
    assert abs(sum(parts) - T) < 1e-9
    for d in parts:
        res = sim.simulate(d)
        for var in out:
            out[var].append(mantissa(res.trace(mm, var)))
        e = res.events(sr)
        ev += list(zip(np.asarray(e["senders"]), np.round(mantissa(e["times"]) / DT).astype(int)))
    gids = [n.tolist()[0] for n in pops]
    spikes = sorted((gids.index(s), int(t)) for s, t in ev)
    return {var: np.concatenate(v) for var, v in out.items()}, spikes


def test_receptor_1_current_matches_nest():
    ref, ref_spk = run_nest()
    got, spk = run_nestax()
    assert len(ref_spk) >= 10  # the filtered current makes them fire
    assert spk == ref_spk
    k = len(ref["V_m"])
    for var in ("V_m", "I_syn_ex"):
        np.testing.assert_allclose(got[var][:k], ref[var], rtol=0, atol=1e-9, err_msg=var)
        vrecord("iaf_psc_exp", f"receptor 1 {var}", float(np.max(np.abs(got[var][:k] - ref[var]))), 1e-9, "exact",
                f"{var} max abs dev")
    # the receptor-1 current really reaches I_syn_ex (it is not a step current on V_m)
    assert np.max(ref["I_syn_ex"][:, 0]) > 200.0


def test_receptor_errors_as_nest():
    nest = fresh_nest(DT)
    sim = nx.Simulator(dt=DT)
    n = sim.create(nx.iaf_psc_exp)
    with pytest.raises(ConnectionError_, match="no receptor_type 1; expected 0"):
        sim.connect(sim.create(nx.spike_generator, spike_times=[1.0]), n, receptor_type=1)
    with pytest.raises(Exception):
        nest.Connect(nest.Create("spike_generator"), nest.Create("iaf_psc_exp"), syn_spec={"receptor_type": 1})
    with pytest.raises(ConnectionError_, match="no receptor_type 2 for current input; expected 0 or 1"):
        sim.connect(sim.create(nx.dc_generator), n, receptor_type=2)
    with pytest.raises(Exception):
        nest.Connect(nest.Create("dc_generator"), nest.Create("iaf_psc_exp"), syn_spec={"receptor_type": 2})
    # other models keep receptor 0 only for currents
    m = sim.create(nx.iaf_psc_alpha)
    with pytest.raises(ConnectionError_, match="no receptor_type 1 for current input; expected 0"):
        sim.connect(sim.create(nx.dc_generator), m, receptor_type=1)
