"""NEST parity of iaf_cond_alpha_mc (three compartments): every recordable at every sample, identical
spike stamps.

Driven by: NEST's pynest/examples/mc_neuron.py reproduced (a dc current into each compartment in turn,
two spikes into each of the six spike receptors, then I_e on the soma set between two Simulate calls);
spike_generator input on every receptor with positive and negative weights and multiplicity; I_e and
dc currents per compartment; V_m set per compartment; runs split into uneven Simulate calls; dt 0.1
and 0.05 ms; the refractory clamp (t_ref 1.7 and 2.25 ms) and a start above threshold (ticket 310).

Tolerance: nestax runs NEST's RKF45 loop (absolute error 1e-3, the internal steps and the error
control as GSL's) with NEST's order of operations, so the traces agree to rounding. Measured on CPU in
float64 (x86-64, NEST 3.10.0 wheel): max |dV_m| 1.4e-14 mV, |dg| 2.2e-16 nS in the mc_neuron example;
2.1e-14 mV and 2.8e-14 nS with 140 spikes under input on every receptor.
ATOL = 1e-9 (mV, nS, ms) leaves room for platform rounding and is six orders of magnitude below the
integrator's own error bound; spike stamps must be equal.
"""
import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError, ConnectionError_

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

ATOL = 1e-9
MODEL = nx.iaf_cond_alpha_mc
REC = list(MODEL.recordables())
COMPS = {"s": "soma", "p": "proximal", "d": "distal"}


def to_nest(flat):
    """nestax's flat names ('C_m.p') -> NEST's status dict with 'soma' / 'proximal' / 'distal' sub-dicts."""
    out = {}
    for k, v in flat.items():
        base, _, c = k.rpartition(".")
        if base and c in COMPS:
            out.setdefault(COMPS[c], {})[base] = v
        else:
            out[k] = v
    return out


def compare(dt, params, spikes, currents, splits, sets=(), label=""):
    """Run the same network in NEST and nestax and compare every recordable and the spike stamps.

    params: one flat dict per neuron; spikes: [(spike_times, receptor name, weight, delay)];
    currents: [(generator model, generator params, receptor name, delay)]; splits: Simulate lengths;
    sets: {split index: flat dict set on every neuron before that Simulate call}."""
    sets = dict(sets)
    nest = fresh_nest(dt)
    rt = nest.GetDefaults("iaf_cond_alpha_mc")["receptor_types"]
    n = nest.Create("iaf_cond_alpha_mc", len(params))
    for i, p in enumerate(params):
        n[i].set(to_nest(p))
    mm = nest.Create("multimeter", params={"record_from": REC, "interval": dt})
    sr = nest.Create("spike_recorder")
    nest.Connect(mm, n)
    nest.Connect(n, sr)
    for times, r, w, d in spikes:
        sg = nest.Create("spike_generator", params={"spike_times": times})
        nest.Connect(sg, n, syn_spec={"weight": w, "delay": d, "receptor_type": rt[r]})
    for gm, gp, r, d in currents:
        g = nest.Create(gm, params=gp)
        nest.Connect(g, n, syn_spec={"delay": d, "receptor_type": rt[r]})
    for j, piece in enumerate(splits):
        if j in sets:
            n.set(to_nest(sets[j]))
        nest.Simulate(piece)
    ev, nsr = mm.events, sr.events

    sim = nx.Simulator(dt=dt * u.ms)
    names = sorted({k for p in params for k in p})
    def default(k):
        init = MODEL.parameters[k].default if k in MODEL.parameters else MODEL.state[k].init
        return MODEL.parameters[init].default if isinstance(init, str) else init   # V_m.X starts at E_L.X
    dflt = {k: default(k) for k in names}
    nn = sim.create(MODEL, len(params), params={k: np.asarray([p.get(k, dflt[k]) for p in params]) for k in names})
    mm2 = sim.create(nx.multimeter, record_from=REC, interval=dt)
    sr2 = sim.create(nx.spike_recorder)
    sim.connect(mm2, nn)
    sim.connect(nn, sr2)
    for times, r, w, d in spikes:
        sim.connect(sim.create(nx.spike_generator, spike_times=times), nn, weight=w, delay=d,
                    receptor_type=MODEL.receptor_types[r])
    for gm, gp, r, d in currents:
        sim.connect(sim.create(getattr(nx, gm), **gp), nn, delay=d, receptor_type=MODEL.receptor_types[r])
    results = []
    for j, piece in enumerate(splits):
        if j in sets:
            sim.set(nn, params=sets[j])
        results.append(sim.simulate(piece))

    nb, T = len(params), sum(splits)
    g0 = ev["senders"].min()
    senders = ev["senders"] - g0
    t_nest = np.round(ev["times"] / dt).astype(int)
    got_t = np.concatenate([np.round(mantissa(r.trace_times(mm2), u.ms) / dt).astype(int) for r in results])
    worst = {}
    for var in REC:
        got = np.concatenate([np.asarray(mantissa(r.trace(mm2, var))).reshape(-1, nb) for r in results])
        worst[var] = 0.0
        for i in range(nb):
            sel = senders == i
            common, i_n, i_x = np.intersect1d(t_nest[sel], got_t, return_indices=True)
            assert len(common) == sel.sum() and len(common) > 0.9 * T / dt
            worst[var] = max(worst[var], float(np.abs(got[i_x, i] - ev[var][sel][i_n]).max()))
            np.testing.assert_allclose(got[i_x, i], ev[var][sel][i_n], atol=ATOL, rtol=0,
                                       err_msg=f"iaf_cond_alpha_mc {var} neuron {i} ({label})")
    nest_spk = sorted(zip(np.round(nsr["times"] / dt).astype(int).tolist(), (nsr["senders"] - g0).tolist()))
    nx_spk = []
    for r in results:
        e = r.events(sr2)
        nx_spk += list(zip(np.round(mantissa(e["times"], u.ms) / dt).astype(int).tolist(),
                           (np.asarray(e["senders"]) - 1).tolist()))   # the neurons are gids 1..nb
    assert sorted(nx_spk) == nest_spk, label
    for var, dev in worst.items():
        vrecord("iaf_cond_alpha_mc", f"{label} {var}", dev, ATOL, "integrator", f"{var} max abs dev")
    print(f"iaf_cond_alpha_mc {label}: max deviation", {k: float(f"{v:.3g}") for k, v in worst.items()},
          f"{len(nest_spk)} spikes identical")
    traces = {var: np.concatenate([np.asarray(mantissa(r.trace(mm2, var))).reshape(-1, nb) for r in results])
              for var in REC}
    return ev, nest_spk, (got_t, traces)


def test_mc_neuron_example():
    """NEST's pynest/examples/mc_neuron.py: currents into each compartment, spikes into each receptor,
    then I_e = 150 pA on the soma from t = 700 ms (the soma fires)."""
    params = [{"V_th": -60.0, "V_reset": -65.0, "t_ref": 10.0, "g_sp": 5.0, "g_L.s": 12.0,
               "tau_syn_ex.p": 1.0, "tau_syn_in.p": 5.0, "C_m.d": 90.0}]
    currents = [("dc_generator", {"start": 250.0, "stop": 300.0, "amplitude": 50.0}, "soma_curr", 1.0),
                ("dc_generator", {"start": 150.0, "stop": 200.0, "amplitude": -50.0}, "proximal_curr", 1.0),
                ("dc_generator", {"start": 50.0, "stop": 100.0, "amplitude": 100.0}, "distal_curr", 1.0)]
    spikes = [([600.0, 620.0], "soma_exc", 1.0, 1.0), ([610.0, 630.0], "soma_inh", 1.0, 1.0),
              ([500.0, 520.0], "proximal_exc", 1.0, 1.0), ([510.0, 530.0], "proximal_inh", 1.0, 1.0),
              ([400.0, 420.0], "distal_exc", 1.0, 1.0), ([410.0, 430.0], "distal_inh", 1.0, 1.0)]
    ev, spk, _ = compare(0.1, params, spikes, currents, [700.0, 300.0], sets={1: {"I_e.s": 150.0}}, label="mc_neuron")
    assert len(spk) >= 5 and min(t for t, _ in spk) > 7000      # the soma fires only with I_e
    # every compartment responds to its own current and spikes (the example's point)
    t = ev["times"]
    for var, lo, hi in [("V_m.d", 60, 100), ("V_m.p", 160, 200), ("V_m.s", 260, 300)]:
        sel = (t > lo) & (t < hi)
        assert np.abs(ev[var][sel] + 70.0).max() > 1.0, var
    for c, t0 in [("d", 400), ("p", 500), ("s", 600)]:
        sel = (t > t0) & (t < t0 + 40)
        assert ev[f"g_ex.{c}"][sel].max() > 0.9 and ev[f"g_in.{c}"][sel].max() > 0.9


SPIKE_TIMES = [2.0, 8.0, 8.0, 15.3, 30.0, 31.0, 45.0, 60.0, 60.1, 80.0]   # 8.0 twice: multiplicity 2


def test_all_receptors_ie_per_compartment_split_runs():
    """Spike input on all six receptors (one negative weight: NEST adds it as given), dc currents on the
    three current receptors, I_e per compartment, V_m set per compartment, a split run."""
    params = [{},
              {"I_e.s": 300.0, "V_m.p": -60.0},
              {"I_e.p": 500.0, "g_sp": 10.0, "t_ref": 3.0, "V_m.d": -75.0},
              {"I_e.d": 900.0, "g_pd": 5.0, "g_sp": 8.0, "tau_syn_ex.d": 1.5, "E_L.d": -65.0},
              {"t_ref": 0.0, "I_e.s": 400.0, "C_m.s": 100.0, "V_th": -58.0, "V_reset": -62.0}]
    spikes = [(SPIKE_TIMES, "soma_exc", 20.0, 1.0), (SPIKE_TIMES, "soma_inh", 5.0, 1.5),
              (SPIKE_TIMES, "proximal_exc", 30.0, 2.0), (SPIKE_TIMES, "proximal_inh", 8.0, 1.0),
              (SPIKE_TIMES, "distal_exc", 40.0, 0.5), (SPIKE_TIMES, "distal_inh", -3.0, 1.2)]
    currents = [("dc_generator", {"amplitude": 120.0, "start": 20.0, "stop": 70.0}, "soma_curr", 1.0),
                ("dc_generator", {"amplitude": -80.0, "start": 10.0, "stop": 50.0}, "proximal_curr", 0.5),
                ("step_current_generator", {"amplitude_times": [5.0, 40.0, 75.0],
                                            "amplitude_values": [200.0, -100.0, 0.0]}, "distal_curr", 2.0)]
    _, spk, _ = compare(0.1, params, spikes, currents, [23.4, 0.1, 40.0, 36.5], label="all receptors, split")
    assert {s for _, s in spk} >= {1, 2, 3, 4} and len(spk) >= 20
    # the same run in one piece, at another resolution
    _, spk2, _ = compare(0.05, params, spikes, currents, [100.0], label="all receptors, dt 0.05")
    assert len(spk2) >= 20


def test_refractory_clamp_and_start_above_threshold():
    """t_ref = 1.7 and 2.25 ms (17 and 23 steps, NEST's Time rounds up) under 1200 pA into the soma:
    V_m.s == V_reset at the spike stamp and the t_ref/dt samples after it, the dendrites frozen
    (dV/dt = 0 in every compartment while refractory, as NEST), spikes in NEST's steps (the soma then
    needs a few steps to climb back to V_th: the interval is not t_ref + 2 steps); and a neuron
    started at V_m.s = V_th + 15 mV without input fires at dt (NEST's ticket 310)."""
    params = [{"t_ref": 1.7}, {"t_ref": 2.25}]
    current = [("dc_generator", {"amplitude": 1200.0}, "soma_curr", 1.0)]
    _, spk, (steps, tr) = compare(0.1, params, [], current, [50.0], label="refractory")
    for i, n_ref in enumerate((17, 23)):
        mine = [k for k, s in spk if s == i]
        assert len(mine) >= 3 and min(np.diff(mine)) > n_ref + 1
        row = {int(k): j for j, k in enumerate(steps)}
        for a in mine[:-1]:
            v = tr["V_m.s"][:, i]
            held = [j for j in range(mine[1] - mine[0]) if v[row[a + j]] == -60.0]
            assert held == list(range(n_ref + 1)), held
            for c in "pd":                     # the dendrites do not move while the soma is refractory
                vc = tr[f"V_m.{c}"][:, i]
                assert np.all(vc[row[a]:row[a + n_ref]] == vc[row[a]]), c
    _, spk, _ = compare(0.1, [{"V_m.s": -40.0}, {}], [], [], [20.0], label="ticket 310")
    assert spk == [(1, 0)]


def test_split_equals_single_run_and_receptor_0_current():
    """Splitting a run changes nothing (exactly); a current on receptor_type 0 acts as soma_curr
    (nestax only: NEST refuses current on receptor 0)."""
    def run(splits, receptor):
        sim = nx.Simulator(dt=0.1)
        n = sim.create(MODEL, 2, params={"I_e.p": np.array([300.0, 600.0])})
        dc = sim.create(nx.dc_generator, amplitude=250.0, start=5.0, stop=60.0)
        sim.connect(dc, n, receptor_type=receptor)
        sg = sim.create(nx.spike_generator, spike_times=SPIKE_TIMES)
        for r in range(1, 7):
            sim.connect(sg, n, receptor_type=r, weight=10.0)
        mm = sim.create(nx.multimeter, record_from=REC, interval=0.1)
        sim.connect(mm, n)
        res = [sim.simulate(t) for t in splits]
        return {v: np.concatenate([np.asarray(mantissa(r.trace(mm, v))) for r in res]) for v in REC}
    one = run([80.0], 7)
    split = run([0.1, 13.3, 20.0, 0.2, 46.4], 7)
    zero = run([80.0], 0)
    for v in REC:
        assert np.array_equal(one[v], split[v]), v
        assert np.array_equal(one[v], zero[v]), v
    assert np.abs(one["V_m.s"] + 70.0).max() > 5.0


def test_defaults_receptors_recordables():
    nest = fresh_nest(0.1)
    nd = nest.GetDefaults("iaf_cond_alpha_mc")
    for name, spec in MODEL.parameters.items():
        base, _, c = name.rpartition(".")
        want = nd[COMPS[c]][base] if base and c in COMPS else nd[name]
        assert spec.default == want, name
    for c, comp in COMPS.items():
        assert MODEL.state[f"V_m.{c}"].init == f"E_L.{c}" and MODEL.parameters[f"E_L.{c}"].default == nd[comp]["V_m"]
    assert set(MODEL.recordables()) == set(nd["recordables"])
    assert dict(MODEL.receptor_types) == dict(nd["receptor_types"])
    for name, r in MODEL.receptor_types.items():           # port names follow NEST's receptor numbering
        assert MODEL.ports[r - 1] == name
    assert {r: MODEL.ports[r - 1] for r in (7, 8, 9)} == MODEL.current_ports
    sim = nx.Simulator(dt=0.1)
    n = sim.create(MODEL, 1, params={"V_m.p": -65.0})
    assert float(np.ravel(mantissa(sim.get(n, "V_m.p")))[0]) == -65.0
    assert float(np.ravel(mantissa(sim.get(n, "V_m.s")))[0]) == -70.0


BAD = [({"C_m.s": 0.0}, "C_m.s", "0.0 pF", "> 0"), ({"C_m.p": -1.0}, "C_m.p", "-1.0 pF", "> 0"),
       ({"t_ref": -0.5}, "t_ref", "-0.5 ms", ">= 0"), ({"tau_syn_ex.d": 0.0}, "tau_syn_ex.d", "0.0 ms", "> 0"),
       ({"tau_syn_in.p": -2.0}, "tau_syn_in.p", "-2.0 ms", "> 0"),
       ({"V_reset": -55.0}, "V_reset", "-55.0 mV", "V_reset < V_th"),
       ({"V_th": -70.0}, "V_reset", "-60.0 mV", "V_reset < V_th")]


@pytest.mark.parametrize("bad,param,value,expected", BAD)
def test_bad_parameters(bad, param, value, expected):
    sim = nx.Simulator(dt=0.1)
    with pytest.raises(BadParameterError) as e:
        sim.create(MODEL, 1, params=bad)
    msg = str(e.value)
    assert "iaf_cond_alpha_mc" in msg and repr(param) in msg and value in msg and expected in msg, msg
    n = sim.create(MODEL, 1)
    with pytest.raises(BadParameterError):
        sim.set(n, params=bad)
    nest = fresh_nest(0.1)
    with pytest.raises(Exception):
        nest.Create("iaf_cond_alpha_mc", params=to_nest(bad))


def test_receptor_errors():
    with pytest.raises(KeyError, match=r"unknown receptor type 'soma_ex'\. Did you mean 'soma_exc'"):
        MODEL.receptor_types["soma_ex"]
    with pytest.raises(ConnectionError_, match="Did you mean 'distal_curr'"):
        MODEL.receptor_types["distal_current"]
    with pytest.raises(nx.UnknownParameterError, match="Did you mean 'C_m.s'"):
        nx.Simulator(dt=0.1).create(MODEL, 1, params={"C_m.x": 1.0})
    sim = nx.Simulator(dt=0.1)
    n = sim.create(MODEL, 1)
    sg = sim.create(nx.spike_generator, spike_times=[1.0])
    dc = sim.create(nx.dc_generator, amplitude=1.0)
    nest = fresh_nest(0.1)
    nn = nest.Create("iaf_cond_alpha_mc")
    for bad in (0, 7, 10):   # spikes: receptor_type 1..6 only
        with pytest.raises(ConnectionError_, match=f"no receptor_type {bad}; expected 1..6"):
            sim.connect(sg, n, receptor_type=bad)
        with pytest.raises(Exception):
            nest.Connect(nest.Create("spike_generator"), nn, syn_spec={"receptor_type": bad})
    for bad in (1, 6, 10):   # currents: receptor_type 7..9 (and 0 in nestax)
        with pytest.raises(ConnectionError_, match=f"no receptor_type {bad} for current input"):
            sim.connect(dc, n, receptor_type=bad)
        with pytest.raises(Exception):
            nest.Connect(nest.Create("dc_generator"), nn, syn_spec={"receptor_type": bad})
