"""More of NEST 3.10's device catalog against live NEST: step_rate_generator, spike_dilutor,
start / stop / origin of every device, and clearing a recorder's events (n_events = 0).

1. step_rate_generator (exact, float64): generators with non-default start / stop / origin, off-grid
   times (allow_offgrid_times) and negative rates drive lin_rate_ipn, tanh_rate_opn and
   rate_transformer_sigmoid (linear_summation False) targets through rate_connection_delayed with
   delays of 0.2 to 2.3 ms, in networks whose min_delay differs from those delays (NEST reads a rate
   generator's value of stamp s in the target's step s - 1 + d - min_delay). The generator's own
   recordable ``rate`` and every target's ``rate`` equal NEST's to 1e-12 at every sample NEST records;
   nestax runs the same time in uneven simulate() calls; a ``set`` between calls as well. Bad input
   (mismatched lengths, non-increasing or non-positive times, off-grid times, other synapses and
   targets) raises errors naming the model, parameter and value.
2. spike_dilutor (NEST 3.10: p_copy only, every target its own thinned train): p_copy = 1 repeats every
   spike exactly as NEST (window checked per min_delay slice, at 1 and 5 steps), p_copy = 0 nothing;
   p_copy = 0.3 onto 12 parrots over 4 seeds x 1500 mother spikes: copy fraction p and pairwise joint
   copies p^2 (independent trains) within 5 SE of theory and of NEST's ensemble.
3. start / stop / origin on every generator and recorder NEST has: first and last stamps (and all
   between) identical to NEST's, random generators at rates that fill every step.
4. n_events = 0 clears spike_recorder, multimeter and weight_recorder events as NEST does; other
   values are refused as NEST refuses them.
"""
from __future__ import annotations

import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError, ConnectionError_

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

DT = 0.1
ATOL = 1e-12


def _steps(t_ms):
    return np.round(np.asarray(t_ms) / DT).astype(np.int64)


def _nest_trace(ev, var, gids):
    """NEST multimeter events -> (steps, values (n_t, len(gids))) in the order of ``gids``."""
    t, s, v = _steps(ev["times"]), np.asarray(ev["senders"]), np.asarray(ev[var], float)
    steps = np.unique(t)
    out = np.full((len(steps), len(gids)), np.nan)
    for j, g in enumerate(gids):
        m = s == g
        out[np.searchsorted(steps, t[m]), j] = v[m]
    return steps, out


def _compare(nest_steps, nest_vals, got_times, got_vals, what):
    got_steps = _steps(got_times)
    common, ia, ib = np.intersect1d(nest_steps, got_steps, return_indices=True)
    assert len(common) == len(nest_steps), f"{what}: NEST sample times missing in nestax"
    dev = np.abs(got_vals[ib] - nest_vals[ia])
    assert np.all(dev <= ATOL + ATOL * np.abs(nest_vals[ia])), f"{what}: max |nestax - NEST| = {dev.max():.3e}"
    return float(dev.max())


# ------------------------------------------------------------------------- 1. step_rate_generator
# generators: parameters; targets: (model, parameters); connections: (generator, target, weight, delay);
# extra: a delay between two helper rate neurons that sets the network's min_delay (None: the smallest
# generator delay)
SRG_CASES = {
    "window_origin": dict(
        gens=[dict(amplitude_times=[1.0, 2.0, 3.5, 7.2], amplitude_values=[2.0, -1.0, 4.0, 0.5],
                   start=0.5, stop=6.0, origin=0.3),
              dict(amplitude_times=[0.1, 4.0], amplitude_values=[1.5, 3.0])],
        targets=[("lin_rate_ipn", dict(sigma=0.0, tau=5.0)),
                 ("tanh_rate_opn", dict(sigma=0.0, tau=3.0, g=0.7, mu=0.1)),
                 ("rate_transformer_sigmoid", dict(linear_summation=False, g=1.3, beta=0.8, theta=0.5))],
        conns=[(0, 0, 0.5, 0.2), (1, 0, -0.7, 0.5), (0, 1, 1.2, 0.4), (1, 2, 0.9, 0.2), (0, 2, -0.4, 0.7)],
        extra=None, splits=[2.3, 4.1, 3.6]),
    "min_delay_below": dict(
        gens=[dict(amplitude_times=[0.25, 1.04, 2.0, 5.55], amplitude_values=[1.0, 2.5, -3.0, 0.75],
                   allow_offgrid_times=True, start=0.8, stop=9.0),
              dict(amplitude_times=[3.0], amplitude_values=[2.0], start=1.0, stop=5.0, origin=2.0)],
        targets=[("lin_rate_ipn", dict(sigma=0.0, tau=4.0, **{"lambda": 0.5}, mu=0.2)),
                 ("lin_rate_ipn", dict(sigma=0.0, tau=6.0, linear_summation=False, g=1.4))],
        conns=[(0, 0, 0.8, 1.0), (1, 0, 0.6, 2.3), (0, 1, -1.1, 0.5), (1, 1, 0.3, 1.3)],
        extra=0.3, splits=[1.7, 5.0, 3.3]),
}


def _srg_nest(case, t_total, set_at=None, new=None):
    nest = fresh_nest(DT)
    nest.use_wfr = False
    gens = [nest.Create("step_rate_generator", params=p) for p in case["gens"]]
    tg = [nest.Create(m, params=p) for m, p in case["targets"]]
    for gi, ti, w, d in case["conns"]:
        nest.Connect(gens[gi], tg[ti], syn_spec={"synapse_model": "rate_connection_delayed", "weight": w, "delay": d})
    if case["extra"] is not None:
        h = nest.Create("lin_rate_ipn", 2, params={"sigma": 0.0})
        nest.Connect(h[0], h[1], syn_spec={"synapse_model": "rate_connection_delayed", "delay": case["extra"]})
    mg = nest.Create("multimeter", params={"record_from": ["rate"], "interval": DT})
    mt = nest.Create("multimeter", params={"record_from": ["rate"], "interval": DT})
    for g in gens:
        nest.Connect(mg, g)
    for t in tg:
        nest.Connect(mt, t)
    if set_at is None:
        nest.Simulate(t_total)
    else:
        nest.Simulate(set_at)
        gens[0].set(new)
        nest.Simulate(t_total - set_at)
    g_ids = [int(g.global_id) for g in gens]
    t_ids = [int(t.global_id) for t in tg]
    return _nest_trace(mg.events, "rate", g_ids), _nest_trace(mt.events, "rate", t_ids)


def _srg_nestax(case, splits, set_after=None, new=None):
    sim = nx.Simulator(dt=DT)
    gens = [sim.create(nx.step_rate_generator, **p) for p in case["gens"]]
    tg = [sim.create(m, **{("lambda_" if k == "lambda" else k): v for k, v in p.items()})
          for m, p in case["targets"]]
    for gi, ti, w, d in case["conns"]:
        sim.connect(gens[gi], tg[ti], synapse_model="rate_connection_delayed", weight=w, delay=d * u.ms)
    if case["extra"] is not None:
        h = sim.create("lin_rate_ipn", 2, sigma=0.0)
        sim.connect(h[0], h[1], synapse_model="rate_connection_delayed", delay=case["extra"])
    mg = sim.create(nx.multimeter, record_from=["rate"], interval=DT)
    mt = sim.create(nx.multimeter, record_from=["rate"], interval=DT)
    sim.connect(mg, gens[0] + gens[1] if len(gens) == 2 else gens[0])
    allt = tg[0]
    for t in tg[1:]:
        allt = allt + t
    sim.connect(mt, allt)
    gt, gv, tt, tv = [], [], [], []
    for i, T in enumerate(splits):
        res = sim.simulate(T * u.ms)
        gt.append(mantissa(res.trace_times(mg), u.ms))
        gv.append(mantissa(res.trace(mg, "rate"), u.Hz) if isinstance(res.trace(mg, "rate"), u.Quantity)
                  else np.asarray(res.trace(mg, "rate")))
        tt.append(mantissa(res.trace_times(mt), u.ms))
        tv.append(np.asarray(u.get_mantissa(res.trace(mt, "rate"))))
        if set_after == i:
            sim.set(gens[0], **new)
    return (np.concatenate(gt), np.concatenate(gv)), (np.concatenate(tt), np.concatenate(tv))


@pytest.mark.parametrize("name", sorted(SRG_CASES))
def test_step_rate_generator_drives_rate_neurons_as_nest(name):
    case = SRG_CASES[name]
    T = float(sum(case["splits"]))
    (ng_s, ng_v), (nt_s, nt_v) = _srg_nest(case, T)
    (xg_t, xg_v), (xt_t, xt_v) = _srg_nestax(case, case["splits"])
    assert np.any(nt_v != 0) and np.any(ng_v != 0)
    dg = _compare(ng_s, ng_v, xg_t, xg_v, f"{name}: generators' rate")
    dt_ = _compare(nt_s, nt_v, xt_t, xt_v, f"{name}: targets' rate")
    vrecord("step_rate_generator", "generator rate", dg, ATOL * (1 + float(np.max(np.abs(ng_v)))), "exact",
            "generator rate max abs dev")
    vrecord("step_rate_generator", "target rates", dt_, ATOL * (1 + float(np.max(np.abs(nt_v)))), "exact",
            "rate of the driven rate neurons max abs dev")
    print(f"{name}: max |dev| generator rate {dg:.2e}, target rate {dt_:.2e}")


def test_step_rate_generator_set_between_calls_as_nest():
    case = SRG_CASES["window_origin"]
    new = dict(amplitude_times=[5.0, 6.5], amplitude_values=[-2.0, 1.0])
    (ng_s, ng_v), (nt_s, nt_v) = _srg_nest(case, 10.0, set_at=4.0, new=new)
    (xg_t, xg_v), (xt_t, xt_v) = _srg_nestax(case, [4.0, 6.0], set_after=0, new=new)
    _compare(ng_s, ng_v, xg_t, xg_v, "set between calls: generators' rate")
    _compare(nt_s, nt_v, xt_t, xt_v, "set between calls: targets' rate")


def test_step_rate_generator_bad_input():
    sim = nx.Simulator(dt=DT)
    with pytest.raises(BadParameterError, match=r"step_rate_generator.*amplitude_times \(2 values\).*amplitude_values \(1"):
        sim.create(nx.step_rate_generator, amplitude_times=[1.0, 2.0], amplitude_values=[1.0])
    with pytest.raises(BadParameterError, match=r"step_rate_generator.*amplitude_times.*2\.0 ms follows 2\.0 ms.*increasing"):
        sim.create(nx.step_rate_generator, amplitude_times=[1.0, 2.0, 2.0], amplitude_values=[1.0, 2.0, 3.0])
    with pytest.raises(BadParameterError, match=r"step_rate_generator.*amplitude_times value 0\.0 ms.*> 0"):
        sim.create(nx.step_rate_generator, amplitude_times=[0.0], amplitude_values=[1.0])
    with pytest.raises(BadParameterError, match=r"step_rate_generator: amplitude_times value 1\.05 ms.*resolution.*"
                                                r"allow_offgrid_times"):
        sim.create(nx.step_rate_generator, amplitude_times=[1.05], amplitude_values=[1.0])
    with pytest.raises(BadParameterError, match=r"step_rate_generator.*same grid step"):
        sim.create(nx.step_rate_generator, amplitude_times=[1.01, 1.05], amplitude_values=[1.0, 2.0],
                   allow_offgrid_times=True)
    g = sim.create(nx.step_rate_generator, amplitude_times=[1.0], amplitude_values=[1.0])
    with pytest.raises(BadParameterError, match=r"step_rate_generator.*same length"):
        sim.set(g, amplitude_times=[1.0, 2.0])
    with pytest.raises(nx.UnitError):
        sim.set(g, amplitude_times=[1.0] * u.mV, amplitude_values=[1.0])
    r = sim.create("lin_rate_ipn")
    with pytest.raises(ConnectionError_, match=r"step_rate_generator.*delayed.*rate_connection_instantaneous"):
        sim.connect(g, r, synapse_model="rate_connection_instantaneous")
    with pytest.raises(ConnectionError_, match=r"step_rate_generator.*static_synapse"):
        sim.connect(g, sim.create(nx.iaf_psc_alpha), synapse_model="static_synapse")
    with pytest.raises(ConnectionError_, match=r"siegert_neuron"):
        sim.connect(g, sim.create("siegert_neuron"), synapse_model="rate_connection_delayed")
    with pytest.raises(ConnectionError_, match=r"step_rate_generator"):
        sim.connect(g, sim.create("siegert_neuron"), synapse_model="diffusion_connection")
    # NEST refuses the same (IllegalConnection), checked on the live kernel
    nest = fresh_nest(DT)
    ng = nest.Create("step_rate_generator")
    for syn, tgt in (("rate_connection_instantaneous", "lin_rate_ipn"), ("static_synapse", "iaf_psc_alpha"),
                     ("rate_connection_delayed", "siegert_neuron"), ("diffusion_connection", "siegert_neuron")):
        with pytest.raises(Exception, match="IllegalConnection|not possible"):
            nest.Connect(ng, nest.Create(tgt), syn_spec={"synapse_model": syn})


# ------------------------------------------------------------------------------ 2. spike_dilutor
# NEST 3.10's spike_dilutor has p_copy only (no individual_spike_trains): every target, a
# spike_recorder included, gets its own independently thinned copy. Known difference, not tested:
# NEST leaves the spikes that arrive while the dilutor is inactive in its ring buffer and repeats
# them a buffer length (min_delay + max_delay steps) later if it is active then; nestax drops them.
MOTHER = [0.1, 0.2, 0.5, 1.0, 1.5, 1.5, 2.0, 2.6, 3.0, 4.1, 5.0]  # 1.5 twice: multiplicity 2


def _dilutor_net(side, p_copy, window, times, d_in, d_out, extra=None, n_par=2, T=8.0, seed=1):
    """mother (spike_generator) -> dilutor -> n_par parrots -> recorder, and dilutor -> recorder 2."""
    if side == "nest":
        nest = fresh_nest(DT, seed=seed)
        sg = nest.Create("spike_generator", params={"spike_times": times})
        dl = nest.Create("spike_dilutor", params={"p_copy": p_copy, **window})
        pa = nest.Create("parrot_neuron", n_par)
        sr, sr2 = nest.Create("spike_recorder"), nest.Create("spike_recorder")
        nest.Connect(sg, dl, syn_spec={"delay": d_in})
        nest.Connect(dl, pa, syn_spec={"delay": d_out})
        nest.Connect(pa, sr)
        nest.Connect(dl, sr2)
        if extra is not None:
            a = nest.Create("iaf_psc_alpha", 2)
            nest.Connect(a[0], a[1], syn_spec={"delay": extra})
        nest.Simulate(T)
        ev = [(_steps(e["times"]), np.asarray(e["senders"]) - (int(pa[0].global_id) if i == 0 else 0))
              for i, e in enumerate((sr.events, sr2.events))]
        return ev
    sim = nx.Simulator(dt=DT, seed=seed)
    sg = sim.create(nx.spike_generator, spike_times=times)
    dl = sim.create(nx.spike_dilutor, p_copy=p_copy, **window)
    pa = sim.create(nx.parrot_neuron, n_par)
    sr, sr2 = sim.create(nx.spike_recorder), sim.create(nx.spike_recorder)
    sim.connect(sg, dl, delay=d_in)
    sim.connect(dl, pa, delay=d_out)
    sim.connect(pa, sr)
    sim.connect(dl, sr2)
    if extra is not None:
        a = sim.create(nx.iaf_psc_alpha, 2)
        sim.connect(a[0], a[1], delay=extra)
    res = sim.simulate(T * u.ms)
    out = []
    for i, r in enumerate((sr, sr2)):
        e = res.events(r)
        out.append((_steps(mantissa(e["times"], u.ms)), np.asarray(e["senders"]) - (int(pa[0].global_id) if i == 0 else 0)))
    return out


def _sorted(ev):
    t, s = ev
    o = np.lexsort((s, t))
    return t[o], s[o]


DILUTOR_EXACT = {
    "defaults": dict(window={}, times=MOTHER, d_in=0.1, d_out=0.2, extra=None),
    # slices of 1 step: the window is (origin+start, origin+stop] at the step computing the stamp
    "window_min_delay_1": dict(window=dict(start=0.2, stop=3.0, origin=0.5), times=[0.9, 1.0, 1.5, 2.0, 2.6, 3.2,
                                                                                   3.3, 3.4, 3.5, 4.0],
                               d_in=0.1, d_out=0.2, extra=None),
    # slices of 5 steps: NEST checks the window at each slice's origin only, so a slice that begins
    # active repeats to its end (past stop)
    "window_min_delay_5": dict(window=dict(start=1.0, stop=2.2, origin=0.0),
                               times=[round(0.1 * i, 1) for i in range(11, 40)], d_in=0.5, d_out=0.5, extra=None),
}


@pytest.mark.parametrize("name", sorted(DILUTOR_EXACT))
def test_spike_dilutor_p_copy_one_repeats_every_spike_as_nest(name):
    c = DILUTOR_EXACT[name]
    ref = _dilutor_net("nest", 1.0, **c)
    got = _dilutor_net("nestax", 1.0, **c)
    for r, g, what in zip(ref, got, ("parrots", "recorder of the dilutor")):
        rt, rs = _sorted(r)
        gt, gs = _sorted(g)
        assert len(rt) > 0
        np.testing.assert_array_equal(gt, rt, err_msg=f"{name}: {what} stamps")
        np.testing.assert_array_equal(gs, rs, err_msg=f"{name}: {what} senders")


def test_spike_dilutor_p_copy_zero_repeats_nothing():
    for side in ("nest", "nestax"):
        ev = _dilutor_net(side, 0.0, {}, MOTHER, 0.1, 0.2)
        assert len(ev[0][0]) == 0 and len(ev[1][0]) == 0, side


def _dilution_stats(side, seed, p, n_par=12, n_mother=1500):
    """Per mother spike (one a step, multiplicity 1): which parrots got a copy."""
    times = [round(0.1 * i, 1) for i in range(5, 5 + 2 * n_mother, 2)]
    T = times[-1] + 2.0
    ev = _dilutor_net(side, p, {}, times, 0.1, 0.1, n_par=n_par, T=T, seed=seed)
    t, s = ev[0]
    M = np.zeros((n_mother, n_par))
    idx = (t - (_steps(times[0]) + 2)) // 2  # mother spike i arrives at dilutor at times[i] + 0.1, parrot + 0.1
    np.add.at(M, (idx, s), 1)
    rec = np.zeros(n_mother)
    np.add.at(rec, (ev[1][0] - (_steps(times[0]) + 1)) // 2, 1)
    return M, rec


def test_spike_dilutor_statistics_against_nest_ensemble():
    """Copy fraction p per target (and for the recorder of the dilutor), pairwise joint copies p^2
    (independent thinning; one shared train would give p), within 5 standard errors of theory on each
    side and between NEST's 4-seed ensemble and nestax's."""
    p = 0.3
    stats = {}
    for side in ("nest", "nestax"):
        fr, joint, frec = [], [], []
        for seed in (1, 2, 3, 4):
            M, rec = _dilution_stats(side, seed, p)
            assert set(np.unique(M)) <= {0.0, 1.0}
            fr.append(M.mean(axis=0))
            iu = np.triu_indices(M.shape[1], 1)
            joint.append((M.T @ M / M.shape[0])[iu])
            frec.append(rec.mean())
        stats[side] = (np.concatenate(fr), np.concatenate(joint), np.array(frec))
        n = M.shape[0]
        se_f = np.sqrt(p * (1 - p) / n)
        f, j, fr_ = stats[side]
        assert abs(f.mean() - p) < 5 * se_f / np.sqrt(len(f)), (side, f.mean())
        assert np.all(np.abs(f - p) < 5 * se_f), (side, f)
        assert abs(fr_.mean() - p) < 5 * se_f / np.sqrt(len(fr_)), (side, fr_)
        se_j = np.sqrt(p * p * (1 - p * p) / n)
        assert abs(j.mean() - p * p) < 5 * se_j, (side, j.mean())  # pairs share a mother: not all independent
        assert j.mean() < (p * p + p) / 2, side  # far below the p of one shared train
    fa, ja, _ = stats["nest"]
    fb, jb, _ = stats["nestax"]
    se = np.sqrt(p * (1 - p) / 1500)
    assert abs(fa.mean() - fb.mean()) < 5 * se * np.sqrt(2 / len(fa))
    assert abs(ja.mean() - jb.mean()) < 5 * np.sqrt(p * p * (1 - p * p) / 1500) * np.sqrt(2)


def test_spike_dilutor_bad_input():
    sim = nx.Simulator(dt=DT)
    with pytest.raises(BadParameterError, match=r"spike_dilutor: parameter 'p_copy' = 1.5 is invalid; expected a "
                                                r"probability in \[0, 1\]"):
        sim.create(nx.spike_dilutor, p_copy=1.5)
    d = sim.create(nx.spike_dilutor)
    with pytest.raises(BadParameterError, match=r"spike_dilutor: parameter 'p_copy' = -0.1"):
        sim.set(d, p_copy=-0.1)
    with pytest.raises(BadParameterError, match=r"spike_dilutor: parameter 'start' = 0.05 ms"):
        sim.set(d, start=0.05)
    n = sim.create(nx.iaf_psc_alpha)
    with pytest.raises(ConnectionError_, match=r"spike_dilutor.*p_copy.*static connections only, not on stdp_synapse"):
        sim.connect(d, n, synapse_model="stdp_synapse")
    with pytest.raises(ConnectionError_, match=r"spike_dilutor.*weight_recorder"):
        sim.connect(d, n, weight_recorder=sim.create(nx.weight_recorder))
    nest = fresh_nest(DT)
    with pytest.raises(Exception, match=r"Copy probability must be in \[0, 1\]"):
        nest.Create("spike_dilutor", params={"p_copy": 1.5})


# ------------------------------------------------------------------ 4. clearing events: n_events = 0
PRE = [2.0, 7.5, 13.1, 22.0, 31.4, 44.4, 51.0, 63.3, 77.7, 88.8, 96.0, 104.4, 112.2, 121.0]


def _clear_run(side):
    """Deterministic drive: spike_generator -> 3 parrots -> (stdp_synapse with a weight_recorder) ->
    2 iaf_psc_alpha (also driven by a dc current); a spike_recorder and a multimeter on the neurons.
    Simulate 40 + 45 ms, clear the three recorders (n_events = 0), simulate 40 ms."""
    dc = dict(amplitude=420.0)
    if side == "nest":
        nest = fresh_nest(DT)
        sg = nest.Create("spike_generator", params={"spike_times": PRE})
        pa = nest.Create("parrot_neuron", 3)
        n = nest.Create("iaf_psc_alpha", 2)
        d = nest.Create("dc_generator", params=dc)
        wr = nest.Create("weight_recorder")
        sr = nest.Create("spike_recorder")
        mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": 0.5})
        nest.CopyModel("stdp_synapse", "stdp_wr", {"weight_recorder": wr})
        nest.Connect(sg, pa)
        nest.Connect(pa, n, syn_spec={"synapse_model": "stdp_wr", "weight": 300.0, "delay": 0.1})
        nest.Connect(d, n)
        nest.Connect(n, sr)
        nest.Connect(mm, n)
        nest.Simulate(40.0)
        nest.Simulate(45.0)
        before = {k: r.get("n_events") for k, r in (("sr", sr), ("wr", wr))}
        for r in (sr, wr, mm):
            r.set(n_events=0)
        assert sr.get("n_events") == 0
        nest.Simulate(40.0)
        out = {"sr": (_steps(sr.events["times"]), np.asarray(sr.events["senders"]) - int(n[0].global_id)),
               "wr": (_steps(wr.events["times"]), np.asarray(wr.events["weights"], float)),
               "mm": (_steps(mm.events["times"]), np.asarray(mm.events["V_m"], float),
                      np.asarray(mm.events["senders"]) - int(n[0].global_id))}
        return before, {k: r.get("n_events") for k, r in (("sr", sr), ("wr", wr), ("mm", mm))}, out
    sim = nx.Simulator(dt=DT)
    sg = sim.create(nx.spike_generator, spike_times=PRE)
    pa = sim.create(nx.parrot_neuron, 3)
    n = sim.create(nx.iaf_psc_alpha, 2)
    d = sim.create(nx.dc_generator, **dc)
    wr = sim.create(nx.weight_recorder)
    sr = sim.create(nx.spike_recorder)
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=0.5)
    sim.connect(sg, pa)
    sim.connect(pa, n, synapse_model="stdp_synapse", weight=300.0, delay=0.1, weight_recorder=wr)
    sim.connect(d, n)
    sim.connect(n, sr)
    sim.connect(mm, n)
    sim.simulate(40.0)
    sim.simulate(45.0)
    before = {k: sim.get(r, "n_events") for k, r in (("sr", sr), ("wr", wr))}
    for r in (sr, wr, mm):
        sim.set(r, n_events=0)
    assert sim.get(sr, "n_events") == 0 and len(sim.get(sr, "events")["senders"]) == 0
    sim.simulate(40.0)
    e_sr, e_wr, e_mm = (sim.get(r, "events") for r in (sr, wr, mm))
    out = {"sr": (_steps(mantissa(e_sr["times"], u.ms)), np.asarray(e_sr["senders"]) - int(n[0].global_id)),
           "wr": (_steps(mantissa(e_wr["times"], u.ms)), mantissa(e_wr["weights"], u.pA)),
           "mm": (_steps(mantissa(e_mm["times"], u.ms)), mantissa(e_mm["V_m"], u.mV),
                  np.asarray(e_mm["senders"]) - int(n[0].global_id))}
    return before, {k: sim.get(r, "n_events") for k, r in (("sr", sr), ("wr", wr), ("mm", mm))}, out


def test_n_events_zero_clears_recorders_as_nest():
    """spike_recorder, weight_recorder and multimeter: the events kept across simulate calls, their
    n_events before the clear and the events after it equal NEST's (spikes and weights exactly, V_m to
    1e-9 mV). NEST writes a multimeter's samples of the last min_delay (0.1 ms here) during the next
    call, so they survive its clear; nestax returned them with the earlier call: the multimeter is
    compared at the times after the clear, where both have every sample."""
    nb, na, ref = _clear_run("nest")
    xb, xa, got = _clear_run("nestax")
    assert nb["sr"] > 0 and nb["wr"] > 0
    assert xb == nb
    k_clear = _steps(85.0)
    for key in ("sr", "wr"):
        rt, rv = ref[key]
        gt, gv = got[key]
        assert len(rt) > 0, key
        o, p = np.lexsort((rv, rt)), np.lexsort((gv, gt))
        np.testing.assert_array_equal(gt[p], rt[o], err_msg=key)
        np.testing.assert_allclose(gv[p], rv[o], rtol=0, atol=1e-9, err_msg=key)
        assert xa[key] == na[key] == len(rt)
    rt, rv, rs = ref["mm"]
    gt, gv, gs = got["mm"]
    assert gt.min() > k_clear
    # NEST holds back the samples of the last min_delay of the run (nestax returns them)
    keep, mine = rt > k_clear, gt <= rt.max()
    assert np.all(gt[~mine] <= _steps(125.0))
    o, p = np.lexsort((rs[keep], rt[keep])), np.lexsort((gs[mine], gt[mine]))
    np.testing.assert_array_equal(gt[mine][p], rt[keep][o])
    np.testing.assert_array_equal(gs[mine][p], rs[keep][o])
    np.testing.assert_allclose(gv[mine][p], rv[keep][o], rtol=0, atol=1e-9)
    assert xa["mm"] == len(gt) and na["mm"] == len(rt)


def test_n_events_can_only_be_set_to_zero():
    sim = nx.Simulator(dt=DT)
    for model in (nx.spike_recorder, nx.multimeter, nx.voltmeter, nx.weight_recorder):
        r = sim.create(model)
        with pytest.raises(BadParameterError, match=rf"{model.name}: n_events = 3 is invalid; it can only be set to 0"):
            sim.set(r, n_events=3)
        with pytest.raises(BadParameterError, match=rf"{model.name}: 'events' is read-only"):
            sim.set(r, events=[])
        sim.set(r, n_events=0)
        assert sim.get(r, "n_events") == 0
    nest = fresh_nest(DT)
    for m in ("spike_recorder", "multimeter", "voltmeter", "weight_recorder"):
        with pytest.raises(Exception, match="n_events can only be set to 0"):
            nest.Create(m).set(n_events=3)


# ------------------------------------------------- 3. start / stop / origin on every device
# one window for all: origin 1.0, start 2.3, stop 6.1 ms (active for stamps in (3.3, 7.1] ms as NEST
# counts them). Random generators run at a rate that fills every step, so their first and last
# possible steps are hit; each is compared with NEST exactly.
WIN = dict(origin=1.0, start=2.3, stop=6.1)
T_WIN = 10.0
EVERY_STEP = [round(0.1 * i, 1) for i in range(1, 100)]
HIGH = 1e5  # Hz: 10 spikes per step on average

SPIKE_SOURCES = {
    "poisson_generator": dict(rate=HIGH),
    "gamma_sup_generator": dict(rate=HIGH),
    "inhomogeneous_poisson_generator": dict(rate_times=[0.1], rate_values=[HIGH]),
    "mip_generator": dict(rate=HIGH, p_copy=1.0),
    "ppd_sup_generator": dict(rate=HIGH),
    "pulsepacket_generator": dict(pulse_times=EVERY_STEP, activity=1, sdev=0.0),
    "sinusoidal_poisson_generator": dict(rate=HIGH, amplitude=0.0),
    "sinusoidal_gamma_generator": dict(rate=HIGH, amplitude=0.0),
    "spike_generator": dict(spike_times=EVERY_STEP),
    "spike_train_injector": dict(spike_times=EVERY_STEP),
}
CURRENT_SOURCES = {
    "dc_generator": dict(amplitude=100.0),
    "ac_generator": dict(amplitude=50.0, offset=100.0, frequency=10.0),
    "step_current_generator": dict(amplitude_times=[0.1, 5.0], amplitude_values=[100.0, 150.0]),
    "noise_generator": dict(mean=100.0, std=0.0, dt=0.1),
}


def _nx_params(params):
    return {k: (u.ms * v if k in ("origin", "start", "stop") else v) for k, v in params.items()}


def _spike_source_window(side, model, params):
    """Stamps (steps) at which a parrot fed by the generator (delay 0.1 ms) spikes, and those a spike
    recorder connected to the generator directly records."""
    params = {**params, **WIN}
    if side == "nest":
        nest = fresh_nest(DT, seed=3)
        g = nest.Create(model, params=params)
        pa = nest.Create("parrot_neuron")
        sr, sr_g = nest.Create("spike_recorder"), nest.Create("spike_recorder")
        nest.Connect(g, pa, syn_spec={"delay": DT})
        nest.Connect(pa, sr)
        nest.Connect(g, sr_g)
        nest.Simulate(T_WIN)
        return _steps(sr.events["times"]), _steps(sr_g.events["times"])
    sim = nx.Simulator(dt=DT, seed=3)
    g = sim.create(model, **_nx_params(params))
    pa = sim.create(nx.parrot_neuron)
    sr, sr_g = sim.create(nx.spike_recorder), sim.create(nx.spike_recorder)
    sim.connect(g, pa, delay=DT)
    sim.connect(pa, sr)
    sim.connect(g, sr_g)
    res = sim.simulate(T_WIN * u.ms)
    return (_steps(mantissa(res.events(sr)["times"], u.ms)), _steps(mantissa(res.events(sr_g)["times"], u.ms)))


@pytest.mark.parametrize("model", sorted(SPIKE_SOURCES))
def test_spike_source_window_onset_offset_as_nest(model):
    ref = _spike_source_window("nest", model, SPIKE_SOURCES[model])
    got = _spike_source_window("nestax", model, SPIKE_SOURCES[model])
    for r, g, what in zip(ref, got, ("through a parrot", "recorded directly")):
        assert len(r) > 0, (model, what)
        assert (g.min(), g.max()) == (r.min(), r.max()), (model, what, (g.min(), g.max()), (r.min(), r.max()))
        assert np.array_equal(np.unique(g), np.unique(r)), (model, what)  # every step in between too


def _current_source_window(side, model, params):
    """V_m of an iaf_psc_alpha with a leak so slow that V_m moves only while current flows: the first
    sample where it leaves E_L and the last sample where it still moves."""
    params = {**params, **WIN}
    neuron = dict(tau_m=1e9, C_m=250.0, V_th=1e9, E_L=0.0, V_reset=0.0, V_m=0.0)
    if side == "nest":
        nest = fresh_nest(DT)
        g = nest.Create(model, params=params)
        n = nest.Create("iaf_psc_alpha", params=neuron)
        mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT})
        nest.Connect(g, n, syn_spec={"delay": DT})
        nest.Connect(mm, n)
        nest.Simulate(T_WIN + 1.0)
        t, v = _steps(mm.events["times"]), np.asarray(mm.events["V_m"], float)
    else:
        sim = nx.Simulator(dt=DT)
        g = sim.create(model, **_nx_params(params))
        n = sim.create(nx.iaf_psc_alpha, **neuron)
        mm = sim.create(nx.multimeter, record_from=["V_m"], interval=DT)
        sim.connect(g, n, delay=DT)
        sim.connect(mm, n)
        res = sim.simulate((T_WIN + 1.0) * u.ms)
        t, v = _steps(mantissa(res.trace_times(mm), u.ms)), mantissa(res.trace(mm, "V_m"), u.mV).ravel()
    moving = np.nonzero(np.abs(np.diff(np.concatenate([[0.0], v]))) > 1e-9)[0]
    return t[moving.min()], t[moving.max()], v


@pytest.mark.parametrize("model", sorted(CURRENT_SOURCES))
def test_current_source_window_onset_offset_as_nest(model):
    r0, r1, rv = _current_source_window("nest", model, CURRENT_SOURCES[model])
    g0, g1, gv = _current_source_window("nestax", model, CURRENT_SOURCES[model])
    assert (g0, g1) == (r0, r1), (model, (g0, g1), (r0, r1))
    np.testing.assert_allclose(gv[:len(rv)], rv, rtol=0, atol=1e-9)


def test_step_rate_generator_window_onset_offset_as_nest():
    case = dict(gens=[dict(amplitude_times=[0.1], amplitude_values=[1.0], **WIN)],
                targets=[("lin_rate_ipn", dict(sigma=0.0))], conns=[(0, 0, 1.0, 0.1)], extra=None)
    (ng_s, ng_v), _ = _srg_nest(case, T_WIN)
    (xg_t, xg_v), _ = _srg_nestax(case, [T_WIN])
    on_r = ng_s[ng_v[:, 0] != 0]
    on_g = _steps(xg_t)[xg_v[:, 0] != 0]
    assert (on_g.min(), on_g.max()) == (on_r.min(), on_r.max())


def _recorder_window(side):
    """A parrot spiking at every step (spike_generator), recorded by a spike_recorder, a multimeter and
    a voltmeter on an iaf_psc_alpha it drives, and a weight_recorder on that connection, all with WIN."""
    rec = {}
    if side == "nest":
        nest = fresh_nest(DT)
        sg = nest.Create("spike_generator", params={"spike_times": EVERY_STEP})
        pa = nest.Create("parrot_neuron")
        n = nest.Create("iaf_psc_alpha")
        sr = nest.Create("spike_recorder", params=WIN)
        mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT, **WIN})
        vm = nest.Create("voltmeter", params={"interval": 0.2, **WIN})
        wr = nest.Create("weight_recorder", params=WIN)
        nest.CopyModel("static_synapse", "static_wr", {"weight_recorder": wr})
        nest.Connect(sg, pa)
        nest.Connect(pa, n, syn_spec={"synapse_model": "static_wr", "weight": 1.0})
        nest.Connect(pa, sr)
        nest.Connect(mm, n)
        nest.Connect(vm, n)
        nest.Simulate(T_WIN + 1.0)
        for k, r in (("spike_recorder", sr), ("multimeter", mm), ("voltmeter", vm), ("weight_recorder", wr)):
            rec[k] = _steps(r.events["times"])
        return rec
    sim = nx.Simulator(dt=DT)
    w = _nx_params(WIN)
    sg = sim.create(nx.spike_generator, spike_times=EVERY_STEP)
    pa = sim.create(nx.parrot_neuron)
    n = sim.create(nx.iaf_psc_alpha)
    sr = sim.create(nx.spike_recorder, **w)
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=DT, **w)
    vm = sim.create(nx.voltmeter, interval=0.2, **w)
    wr = sim.create(nx.weight_recorder, **w)
    sim.connect(sg, pa)
    sim.connect(pa, n, weight=1.0, weight_recorder=wr)
    sim.connect(pa, sr)
    sim.connect(mm, n)
    sim.connect(vm, n)
    res = sim.simulate((T_WIN + 1.0) * u.ms)
    for k, r in (("spike_recorder", sr), ("multimeter", mm), ("voltmeter", vm), ("weight_recorder", wr)):
        rec[k] = _steps(mantissa(res.events(r)["times"], u.ms))
    return rec


def test_recorder_window_onset_offset_as_nest():
    ref, got = _recorder_window("nest"), _recorder_window("nestax")
    for k in ref:
        assert len(ref[k]) > 0, k
        assert (got[k].min(), got[k].max()) == (ref[k].min(), ref[k].max()), (k, (got[k].min(), got[k].max()),
                                                                              (ref[k].min(), ref[k].max()))
        assert np.array_equal(np.unique(got[k]), np.unique(ref[k])), k


def _detector_window(side):
    """correlation_detector and correlomatrix_detector fed by two parrots spiking at every step, and a
    spin_detector on 16 binary neurons each switched on and off once by its own noise_generator window
    (deterministic, see test_spin_detector.py), all with WIN. Returns what they counted."""
    binary = dict(tau_m=1e-3, theta=0.5)
    cd_p = dict(delta_tau=0.5, tau_max=2.0, **WIN)
    cm_p = dict(N_channels=2, delta_tau=0.5, tau_max=2.0, **WIN)
    windows = [(round(0.6 * i, 1), round(0.6 * i + 0.3, 1)) for i in range(16)]
    if side == "nest":
        nest = fresh_nest(DT)
        mk = lambda m, k=1, **p: nest.Create(m, k, params=p)  # noqa: E731
        con = lambda a, b, **s: nest.Connect(a, b, syn_spec=s)  # noqa: E731
    else:
        sim = nx.Simulator(dt=DT)
        mk = lambda m, k=1, **p: sim.create(m, k, **p)  # noqa: E731
        con = lambda a, b, **s: sim.connect(a, b, **s)  # noqa: E731
    sg = mk("spike_generator", spike_times=EVERY_STEP)
    pa = mk("parrot_neuron", 2)
    cd, cm, sd = mk("correlation_detector", **cd_p), mk("correlomatrix_detector", **cm_p), mk("spin_detector", **WIN)
    con(sg, pa)
    for r in (0, 1):
        con(pa[r], cd, receptor_type=r)
        con(pa[r], cm, receptor_type=r)
    pop = mk("mcculloch_pitts_neuron", len(windows), **binary)
    for i, (t0, t1) in enumerate(windows):
        con(mk("noise_generator", mean=1.0, std=0.0, start=t0, stop=t1), pop[i])
    con(pop, sd)
    if side == "nest":
        nest.Simulate(T_WIN)
        return (np.asarray(cd.get("n_events")), np.asarray(cd.get("count_histogram")),
                np.asarray(cm.get("n_events")), np.asarray(cm.get("count_covariance")),
                _steps(sd.events["times"]), np.asarray(sd.events["state"]))
    res = sim.simulate(T_WIN * u.ms)
    e = res.events(sd)
    return (np.asarray(sim.get(cd, "n_events")), np.asarray(sim.get(cd, "count_histogram")),
            np.asarray(sim.get(cm, "n_events")), np.asarray(sim.get(cm, "count_covariance")),
            _steps(mantissa(e["times"], u.ms)), np.asarray(e["state"]))


def test_detector_window_as_nest():
    ref, got = _detector_window("nest"), _detector_window("nestax")
    assert np.all(ref[0] > 0) and len(ref[4]) > 0
    for r, g, what in zip(ref, got, ("correlation_detector n_events", "count_histogram",
                                     "correlomatrix_detector n_events", "count_covariance",
                                     "spin_detector times", "spin_detector state")):
        np.testing.assert_array_equal(g, r, err_msg=what)
