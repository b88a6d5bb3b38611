"""NEST parity of pp_cond_exp_mc_urbanczik and urbanczik_synapse (live NEST 3.10).

The neuron spikes stochastically (its own random stream, not NEST's), so:

1. Deterministic parts, exactly: with phi_max = 0 the neuron never spikes (rate 0, NEST draws no
   number either), and every recordable (V_m.s, g_ex.s, g_in.s, V_m.p, I_ex.p, I_in.p) is compared
   at every sample under spikes on all four receptors, currents on soma_curr and dendritic_curr
   (which has no effect in NEST), I_e per compartment, g_ps > 0, V_m set per compartment, split runs
   and dt 0.1 / 0.05 ms. nestax runs NEST's RKF45 loop (absolute error 1e-3) with NEST's order of
   operations, so the traces agree to rounding: ATOL = 1e-9 (mV, nS, pA), six orders below the
   integrator's own error bound.
   The synapse's weight trajectory is deterministic when its target cannot spike but its dendritic
   prediction phi(V_W*) is not 0: the soma is held near -3000 mV (V_m.s set, I_e.s = -2e6 pA), where
   exp(beta (theta - V)) overflows and phi(V_m.s) is exactly 0, while V_W* depends on the dendrite
   only. spike_generator -> parrot_neuron -> urbanczik_synapse -> dendritic_exc / dendritic_inh, other
   input onto the dendrite, several delays, split runs; the weights are read after every run and
   recorded by a weight_recorder: RTOL_W = 1e-9 (the history sum is evaluated in another order).
2. Statistics: the firing rate under a given drive against NEST's seed ensemble, and NEST's
   urbanczik_synapse_example reduced to a short T for the weight drift.
"""
import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError, ConnectionError_

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

ATOL = 1e-9
MODEL = nx.pp_cond_exp_mc_urbanczik
REC = list(MODEL.recordables())
COMPS = {"s": "soma", "p": "dendritic"}


def to_nest(flat):
    """nestax's flat names ('C_m.p') -> NEST's status dict with 'soma' / 'dendritic' sub-dicts."""
    out = {}
    for k, v in flat.items():
        base, _, c = k.rpartition(".")
        if base and c in COMPS:
            out.setdefault(COMPS[c], {})[base] = v
        else:
            out[k] = v
    return out


def default(k):
    init = MODEL.parameters[k].default if k in MODEL.parameters else MODEL.state[k].init
    return MODEL.parameters[init].default if isinstance(init, str) else init   # V_m.X starts at E_L.X


def compare_neuron(dt, params, spikes, currents, splits, sets=(), label=""):
    """Same network in NEST and nestax; every recordable at every sample. params: one flat dict per
    neuron; spikes: [(times, receptor name, weight, delay)]; currents: [(generator model, params,
    receptor name, delay)]; sets: {split index: flat dict set on every neuron before that run}."""
    sets = dict(sets)
    nest = fresh_nest(dt)
    rt = nest.GetDefaults(MODEL.name)["receptor_types"]
    n = nest.Create(MODEL.name, len(params))
    for i, p in enumerate(params):
        n[i].set(to_nest(p))
    mm = nest.Create("multimeter", params={"record_from": REC, "interval": dt})
    nest.Connect(mm, n)
    for times, r, w, d in spikes:
        sg = nest.Create("spike_generator", params={"spike_times": times})
        nest.Connect(sg, n, syn_spec={"weight": w, "delay": d, "receptor_type": rt[r]})
    for gm, gp, r, d in currents:
        nest.Connect(nest.Create(gm, params=gp), n, syn_spec={"delay": d, "receptor_type": rt[r]})
    for j, piece in enumerate(splits):
        if j in sets:
            n.set(to_nest(sets[j]))
        nest.Simulate(piece)
    ev = mm.events

    sim = nx.Simulator(dt=dt * u.ms, seed=3)
    names = sorted({k for p in params for k in p})
    nn = sim.create(MODEL, len(params), params={k: np.asarray([p.get(k, default(k)) for p in params]) for k in names})
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
    assert sum(r.n_events(sr2) for r in results) == 0, label

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
                                       err_msg=f"{MODEL.name} {var} neuron {i} ({label})")
    for var, dev in worst.items():
        vrecord(MODEL.name, f"{label} {var}", dev, ATOL, "integrator", f"{var} max abs dev")
    print(f"{MODEL.name} {label}: max deviation", {k: float(f"{v:.3g}") for k, v in worst.items()})
    return {var: np.concatenate([np.asarray(mantissa(r.trace(mm2, var))).reshape(-1, nb) for r in results])
            for var in REC}


SILENT = {"phi_max": 0.0}
ALL_SPIKES = [([2.0, 7.3, 7.3, 15.0], "soma_exc", 20.0, 1.0), ([4.0, 12.1], "soma_inh", 35.0, 1.5),
              ([3.0, 9.9, 20.0], "dendritic_exc", 800.0, 0.7), ([6.0, 6.0, 18.2], "dendritic_inh", 500.0, 2.0)]


@pytest.mark.parametrize("dt", [0.1, 0.05])
def test_subthreshold_all_receptors_currents_split(dt):
    params = [dict(SILENT),
              {**SILENT, "I_e.s": 250.0, "I_e.p": 300.0, "g_ps": 40.0, "E_in.s": -80.0, "tau_syn_in.p": 5.0},
              {**SILENT, "g_sp": 100.0, "g_L.p": 15.0, "C_m.p": 150.0, "tau_syn_ex.s": 1.5, "E_L.p": -65.0}]
    currents = [("dc_generator", {"amplitude": 400.0, "start": 5.0, "stop": 17.0}, "soma_curr", 1.0),
                ("step_current_generator", {"amplitude_times": [3.0, 11.0], "amplitude_values": [900.0, -300.0]},
                 "dendritic_curr", 1.0)]
    tr = compare_neuron(dt, params, ALL_SPIKES, currents, [7.3, 0.6, 12.1, 9.95 if dt == 0.05 else 10.0],
                        sets={2: {"V_m.p": -60.0}}, label=f"all receptors, dt {dt}")
    assert np.ptp(tr["V_m.p"][:, 1]) > 5.0 and np.max(tr["g_in.s"]) > 30.0


def test_dendritic_current_has_no_effect_as_in_nest():
    """NEST's dynamics never read I_stim or I_e of the dendrite: the traces equal those without."""
    base = compare_neuron(0.1, [dict(SILENT)], ALL_SPIKES[2:], [], [30.0], label="no current")
    cur = compare_neuron(0.1, [{**SILENT, "I_e.p": 500.0}], ALL_SPIKES[2:],
                         [("dc_generator", {"amplitude": 1000.0}, "dendritic_curr", 1.0)], [30.0],
                         label="dendritic current")
    np.testing.assert_array_equal(base["V_m.p"], cur["V_m.p"])


# ---------------------------------------------------------------- urbanczik_synapse, deterministic

#: the soma held near -3000 mV: phi(V_m.s) is exactly 0 (exp overflows), so the neuron never spikes,
#: while the dendritic prediction phi(V_W*) follows the dendrite
HELD = {"V_m.s": -3000.0, "I_e.s": -1.9e6}


def weights_both(dt, pre_times, conns, drive, splits, target=None):
    """pre_times: spike times of each parrot; conns: [(parrot index, receptor name, weight, delay, syn
    params)]; drive: [(times, receptor name, weight)] static input onto the target (delay 1 ms).
    Returns the weights after every run, NEST and nestax, (n_runs, n_conns) each."""
    target = {**HELD, **(target or {})}
    nest = fresh_nest(dt)
    rt = nest.GetDefaults(MODEL.name)["receptor_types"]
    n = nest.Create(MODEL.name, params=to_nest(target))
    sr = nest.Create("spike_recorder")
    nest.Connect(n, sr)
    par = nest.Create("parrot_neuron", len(pre_times))
    for i, t in enumerate(pre_times):
        nest.Connect(nest.Create("spike_generator", params={"spike_times": t}), par[i])
    for i, r, w, d, kw in conns:
        nest.Connect(par[i], n, syn_spec={"synapse_model": "urbanczik_synapse", "weight": w, "delay": d,
                                          "receptor_type": rt[r], **kw})
    for t, r, w in drive:
        nest.Connect(nest.Create("spike_generator", params={"spike_times": t}), n,
                     syn_spec={"weight": w, "receptor_type": rt[r]})
    ref = []
    for piece in splits:
        nest.Simulate(piece)
        ref.append([nest.GetConnections(par[i], n, synapse_model="urbanczik_synapse").get("weight")
                    for i in sorted({c[0] for c in conns})])
    assert sr.n_events == 0

    sim = nx.Simulator(dt=dt * u.ms, seed=5)
    nn = sim.create(MODEL, params=target)
    sr2 = sim.create(nx.spike_recorder)
    sim.connect(nn, sr2)
    par2 = sim.create(nx.parrot_neuron, len(pre_times))
    for i, t in enumerate(pre_times):
        sim.connect(sim.create(nx.spike_generator, spike_times=t), par2[i])
    for i, r, w, d, kw in conns:
        sim.connect(par2[i], nn, synapse_model=nx.urbanczik_synapse, weight=w, delay=d,
                    receptor_type=MODEL.receptor_types[r], **kw)
    for t, r, w in drive:
        sim.connect(sim.create(nx.spike_generator, spike_times=t), nn, weight=w, receptor_type=MODEL.receptor_types[r])
    got = []
    for piece in splits:
        res = sim.simulate(piece)
        assert res.n_events(sr2) == 0
        got.append([np.asarray(sim.connections(par2[i], nn).weights, float)
                    for i in sorted({c[0] for c in conns})])
    flat = lambda x: np.array([np.concatenate([np.ravel(v) for v in row]) for row in x])
    return flat(ref), flat(got)


def test_synapse_weights_follow_nest_without_target_spikes():
    rng = np.random.default_rng(7)
    dt = 0.1
    pre = [np.unique(np.round(np.sort(rng.uniform(1.0, 120.0, m)), 1)).tolist() for m in (40, 25, 60)]
    drive = [(np.unique(np.round(np.sort(rng.uniform(1.0, 120.0, 150)), 1)).tolist(), "dendritic_exc", 150.0),
             (np.unique(np.round(np.sort(rng.uniform(1.0, 120.0, 60)), 1)).tolist(), "dendritic_inh", 200.0)]
    # Wmin far below 0: the weights (which only fall without target spikes) cross 0, where tau_s
    # switches from tau_syn_ex.p to tau_syn_in.p; one connection is clipped at Wmin
    lo = {"Wmin": -1e4}
    conns = [(0, "dendritic_exc", 100.0, 1.0, lo),
             (0, "dendritic_exc", 50.0, 2.5, {**lo, "eta": 0.02, "tau_Delta": 20.0}),
             (1, "dendritic_inh", 80.0, 0.3, {**lo, "eta": 0.03}),
             (2, "dendritic_exc", 20.0, 1.7, {"eta": 2.0, "Wmax": 60.0, "Wmin": 5.0}),
             (2, "soma_exc", 1.0, 1.0, {**lo, "eta": 0.001})]
    splits = [23.4, 41.6, 0.5, 64.5]
    # NEST changes a weight when it delivers the spike, at the end of the min_delay slice (0.3 ms
    # here) it was sent in: no parrot spike may fall into the last 0.3 ms before a read-out
    stamps, ends = np.concatenate(pre) + 1.0, np.cumsum(splits)
    assert not any(np.any((stamps > T - 0.3 - 1e-9) & (stamps <= T + 1e-9)) for T in ends)
    ref, got = weights_both(dt, pre, conns, drive, splits, target={"tau_syn_in.p": 5.0, "g_L.p": 20.0})
    drift = np.abs(ref[-1] - np.array([c[2] for c in conns]))
    print("urbanczik_synapse weights (NEST):", ref[-1], "max |diff|", np.abs(got - ref).max(), "drift", drift)
    assert np.all(drift > 1e-3)   # every weight moved
    assert ref[-1][3] == 5.0 and np.all(ref[-1][[0, 1, 2, 4]] > -1e4) and np.sum(ref[-1] < 0) >= 1
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- statistics (own random streams)

def test_firing_rate_in_nest_seed_ensemble():
    """50 neurons, soma driven by I_e.s = 10700 pA (V_m.s ~ -53 mV: the soma is tied to the dendrite by
    g_sp = 600 nS; phi ~ 0.1/ms, t_ref 3 ms), 1 s: the mean rate
    of nestax (two seeds) lies within NEST's ensemble (seeds 1..4) widened by 4 standard deviations
    of a mean rate (Poisson count statistics, or NEST's own spread if larger)."""
    N, T, prm = 50, 1000.0, {"I_e.s": 10700.0}
    nest_rates = []
    for seed in (1, 2, 3, 4):
        nest = fresh_nest(0.1, seed=seed)
        n = nest.Create(MODEL.name, N, params=to_nest(prm))
        sr = nest.Create("spike_recorder")
        nest.Connect(n, sr)
        nest.Simulate(T)
        nest_rates.append(sr.n_events / N / T * 1e3)
    ours = []
    for seed in (1, 2):
        sim = nx.Simulator(dt=0.1 * u.ms, seed=seed)
        nn = sim.create(MODEL, N, params=prm)
        sr2 = sim.create(nx.spike_recorder)
        sim.connect(nn, sr2)
        ours.append(sim.simulate(T * u.ms).n_events(sr2) / N / T * 1e3)
    m = np.mean(nest_rates)
    sd = max(np.std(nest_rates, ddof=1), np.sqrt(m * N * T * 1e-3) / (N * T * 1e-3))
    print(f"{MODEL.name} rate: NEST {np.round(nest_rates, 2)} Hz, nestax {np.round(ours, 2)} Hz, sd {sd:.2f}")
    assert 40.0 < m < 100.0
    for r in ours:
        assert min(nest_rates) - 4 * sd <= r <= max(nest_rates) + 4 * sd


def drift_nest(seed, n_pre, T, rate, w0):
    nest = fresh_nest(0.1, seed=seed)
    rt = nest.GetDefaults(MODEL.name)["receptor_types"]
    n = nest.Create(MODEL.name)
    pg = nest.Create("poisson_generator", params={"rate": rate})
    par = nest.Create("parrot_neuron", n_pre)
    nest.Connect(pg, par)
    nest.Connect(par, n, syn_spec={"synapse_model": "urbanczik_synapse", "weight": w0, "eta": 0.03,
                                   "Wmin": -500.0, "receptor_type": rt["dendritic_exc"]})
    teach = nest.Create("poisson_generator", params={"rate": 4000.0})   # somatic teacher
    nest.Connect(teach, n, syn_spec={"weight": 30.0, "receptor_type": rt["soma_exc"]})
    sr = nest.Create("spike_recorder")
    nest.Connect(n, sr)
    nest.Simulate(T + 1.0)   # + one min_delay: every weight change up to T delivered
    return np.mean(nest.GetConnections(par, n).get("weight")) - w0, sr.n_events


def test_weight_drift_reduced_example_in_nest_ensemble():
    """NEST's urbanczik_synapse_example reduced: Poisson input (parrots) onto the dendrite through
    urbanczik_synapse, a Poisson teacher on the soma (the neuron fires), 300 ms: the mean weight
    change of nestax (two seeds) has NEST's sign and lies within NEST's seed ensemble (seeds 1..5)
    widened by 4 of its standard deviations."""
    n_pre, T, rate, w0 = 30, 300.0, 40.0, 20.0
    ref = [drift_nest(s, n_pre, T, rate, w0) for s in range(1, 6)]
    dw_nest = np.array([r[0] for r in ref])
    ours = []
    for seed in (1, 2):
        sim = nx.Simulator(dt=0.1 * u.ms, seed=seed)
        nn = sim.create(MODEL)
        pg = sim.create(nx.poisson_generator, rate=rate * u.Hz)
        par = sim.create(nx.parrot_neuron, n_pre)
        sim.connect(pg, par)
        sim.connect(par, nn, synapse_model=nx.urbanczik_synapse, weight=w0, eta=0.03, Wmin=-500.0,
                    receptor_type=MODEL.receptor_types["dendritic_exc"])
        teach = sim.create(nx.poisson_generator, rate=4000.0 * u.Hz)
        sim.connect(teach, nn, weight=30.0, receptor_type=MODEL.receptor_types["soma_exc"])
        sr = sim.create(nx.spike_recorder)
        sim.connect(nn, sr)
        res = sim.simulate((T + 1.0) * u.ms)
        ours.append((np.mean(np.asarray(sim.connections(par, nn).weights, float)) - w0, res.n_events(sr)))
    sd = np.std(dw_nest, ddof=1)
    print(f"urbanczik_synapse drift: NEST {np.round(dw_nest, 3)} (target spikes {[r[1] for r in ref]}), "
          f"nestax {[(round(a, 3), b) for a, b in ours]}")
    assert np.all(np.sign(dw_nest) == np.sign(dw_nest[0])) and np.all(np.abs(dw_nest) > 1e-3)
    for dw, _ in ours:
        assert np.sign(dw) == np.sign(dw_nest[0])
        assert dw_nest.min() - 4 * sd <= dw <= dw_nest.max() + 4 * sd


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("kw, param", [({"tau_Delta": 0.0}, "tau_Delta"), ({"tau_Delta": -5.0}, "tau_Delta"),
                                       ({"Wmin": 50.0, "Wmax": 10.0, "weight": 20.0}, "Wmin"),
                                       ({"weight": -1.0}, "weight"), ({"weight": 0.0, "Wmax": 0.0}, "weight")])
def test_synapse_bad_parameters(kw, param):
    sim = nx.Simulator(dt=0.1 * u.ms)
    par, n = sim.create(nx.parrot_neuron), sim.create(MODEL)
    with pytest.raises(BadParameterError) as e:
        sim.connect(par, n, synapse_model=nx.urbanczik_synapse, receptor_type=3, **kw)
    msg = str(e.value)
    assert "urbanczik_synapse" in msg and f"'{param}'" in msg and "expected" in msg, msg


def test_synapse_bad_targets_and_receptors():
    sim = nx.Simulator(dt=0.1 * u.ms)
    par = sim.create(nx.parrot_neuron)
    with pytest.raises(ConnectionError_, match="not supported"):      # NEST: NotImplemented
        sim.connect(par, sim.create(nx.iaf_cond_exp), synapse_model=nx.urbanczik_synapse)
    n = sim.create(MODEL)
    with pytest.raises(ConnectionError_, match="receptor_type 0"):    # NEST: IncompatibleReceptorType
        sim.connect(par, n, synapse_model=nx.urbanczik_synapse, receptor_type=0)
    with pytest.raises(KeyError, match="dendritic_exc"):
        MODEL.receptor_types["dendrite_exc"]
    sim.connect(par, n, synapse_model=nx.urbanczik_synapse, receptor_type=1)   # soma_exc: NEST accepts it too


@pytest.mark.parametrize("param, value", [("C_m.p", 0.0), ("tau_syn_ex.s", -1.0), ("t_ref", -1.0),
                                          ("phi_max", -0.1), ("rate_slope", -1.0)])
def test_neuron_bad_parameters(param, value):
    sim = nx.Simulator(dt=0.1 * u.ms)
    with pytest.raises(BadParameterError) as e:
        sim.create(MODEL, params={param: value})
    assert MODEL.name in str(e.value) and param in str(e.value)


def test_defaults_receptors_recordables():
    nest = fresh_nest(0.1)
    d = nest.GetDefaults(MODEL.name)
    assert dict(d["receptor_types"]) == dict(MODEL.receptor_types)
    assert sorted(d["recordables"]) == sorted(REC)
    for k, spec in MODEL.parameters.items():
        base, _, c = k.rpartition(".")
        ref = d[COMPS[c]][base] if base and c in COMPS else d[k]
        assert np.isclose(ref, spec.default), k
    sd = nest.GetDefaults("urbanczik_synapse")
    for k, spec in nx.urbanczik_synapse.parameters.items():
        assert np.isclose(sd[k], spec.default), k
