"""Astrocytes against NEST 3.10: astrocyte_lr_1994, aeif_cond_alpha_astro and sic_connection.

1. Defaults: every parameter, initial state and recordable of both models and sic_connection's
   weight / delay equal NEST's GetDefaults.
2. NEST's astrocyte_single example with a deterministic spike_generator (spikes with multiplicity
   1-3) instead of the Poisson input, plus a step_current_generator on the calcium (J_noise) and a
   second astrocyte with non-default parameters: IP3, Ca_astro and h_IP3R at every 0.1 ms sample.
   Both integrate with GSL's RKF45 step control, reproduced step for step, so the traces agree to
   rounding: tolerance 1e-12 (absolute, uM; measured ~4e-15).
3. NEST's astrocyte_interaction example with deterministic input: a spike_generator drives the
   presynaptic aeif_cond_alpha_astro, which drives the astrocyte and the postsynaptic neuron; the
   astrocyte (started at Ca_astro = 0.2 uM, so the SIC starts at once) sends its SIC to two
   postsynaptic neurons with delays 1 ms and 2.5 ms and weights 1 and -40. NEST runs one Simulate;
   nestax four uneven simulate() calls. Astrocyte traces 1e-12; I_SIC 1e-10 pA (it is ln of the
   calcium above threshold, exact up to rounding); spike steps identical; V_m, g_ex, w 1e-7
   (absolute, mV / nS / pA: the aeif integrator's accept/reject decisions while V_m runs up to
   V_peak depend on last-bit rounding, see nestax.models.neurons.aeif).
   The schedule of the SIC is checked directly too: I_SIC at t + d equals weight x SIC(Ca_astro(t)).
4. Errors: what NEST refuses is refused (parameters, connections, receptors, negative spike weights).
"""
from __future__ import annotations

import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError, ConnectionError_

from .nest_helpers import fresh_nest, import_nest
from .validation import record as vrecord

DT = 0.1
ASTRO_VARS = ("IP3", "Ca_astro", "h_IP3R")


def _trace(res, mm, var):
    return np.asarray(u.get_mantissa(res.trace(mm, var)))


def _sic(ca, th=0.19669, scale=1.0):
    y = (np.asarray(ca) - th) * 1000.0
    return np.where(y > 1.0, np.log(np.where(y > 1.0, y, 1.0)) * scale, 0.0)


# ------------------------------------------------------------------------------ 1. defaults
def test_defaults_match_nest():
    nest = fresh_nest()
    for model in ("astrocyte_lr_1994", "aeif_cond_alpha_astro"):
        ref = nest.GetDefaults(model)
        cls = getattr(nx, model)
        for name, spec in cls.parameters.items():
            assert ref[name] == pytest.approx(spec.default, rel=0, abs=0), (model, name)
        for name in cls.recordables():
            if name in cls.state:
                init = cls.state[name].init
                init = cls.parameters[init].default if isinstance(init, str) else init
                assert ref[name] == init, (model, name)
        assert sorted(ref["recordables"]) == sorted(cls.recordables())
    astro = nest.GetDefaults("astrocyte_lr_1994")
    assert "tau_minus" not in astro and "tau_minus" not in nx.astrocyte_lr_1994.parameters
    sic = nest.GetDefaults("sic_connection")
    assert (sic["weight"], sic["delay"], sic["receptor_type"]) == (1.0, 1.0, 0)
    for name in ("weight", "delay", "receptor_type"):
        assert nx.sic_connection.parameters[name].default == sic[name]


# ------------------------------------------------------------------------------ 2. astrocyte_single
T_SINGLE = 3000.0
SPIKES = [round(x, 1) for x in np.arange(50.0, T_SINGLE, 97.3)]
SPIKE_TIMES = sorted(t for i, t in enumerate(SPIKES) for _ in range(1 + i % 3))   # multiplicity 1-3
ASTROS = [{"delta_IP3": 0.2},
          {"delta_IP3": 0.05, "Ca_tot": 2.5, "k_IP3R": 0.0003, "rate_SERCA": 0.0012, "SIC_th": 0.15,
           "tau_IP3": 3000.0, "IP3_0": 0.3, "Ca_astro": 0.3, "h_IP3R": 0.6, "IP3": 0.5}]
STEP = {"amplitude_times": [400.0, 900.0], "amplitude_values": [0.002, -0.0005]}


def _single_nest():
    nest = fresh_nest(DT)
    a = nest.Create("astrocyte_lr_1994", 2, params=ASTROS)
    sg = nest.Create("spike_generator", params={"spike_times": SPIKE_TIMES})
    sc = nest.Create("step_current_generator", params=STEP)
    nest.Connect(sg, a, syn_spec={"weight": 1.0, "delay": 1.0})
    nest.Connect(sc, a[1], syn_spec={"delay": 1.0})
    mm = nest.Create("multimeter", params={"record_from": list(ASTRO_VARS), "interval": DT})
    nest.Connect(mm, a)
    nest.Simulate(T_SINGLE)
    ev = mm.events
    return {v: np.stack([ev[v][ev["senders"] == g] for g in a.tolist()], axis=1) for v in ASTRO_VARS}


def _single_nestax():
    sim = nx.Simulator(dt=DT * u.ms)
    a = sim.create(nx.astrocyte_lr_1994, 2, params=ASTROS)
    sg = sim.create(nx.spike_generator, spike_times=SPIKE_TIMES * u.ms)
    sc = sim.create(nx.step_current_generator, amplitude_times=STEP["amplitude_times"] * u.ms,
                    amplitude_values=STEP["amplitude_values"] * u.pA)
    sim.connect(sg, a, weight=1.0, delay=1.0 * u.ms)
    sim.connect(sc, a[1], delay=1.0 * u.ms)
    mm = sim.create(nx.multimeter, record_from=list(ASTRO_VARS), interval=DT * u.ms)
    sim.connect(mm, a)
    res = sim.simulate(T_SINGLE * u.ms)
    return {v: _trace(res, mm, v) for v in ASTRO_VARS}


def test_astrocyte_single():
    ref, got = _single_nest(), _single_nestax()
    n = len(ref["IP3"])
    assert n >= T_SINGLE / DT - 10
    assert ref["Ca_astro"][:, 0].max() > 0.5           # the input drives calcium over the SIC threshold
    for v in ASTRO_VARS:
        np.testing.assert_allclose(got[v][:n], ref[v], rtol=0, atol=1e-12, err_msg=v)
        vrecord("astrocyte_lr_1994", v, float(np.max(np.abs(got[v][:n] - ref[v]))), 1e-12, "integrator",
                f"{v} max abs dev")


# ------------------------------------------------------------------------------ 3. astrocyte_interaction
T_INT = 600.0
SPLITS = (137.3, 200.0, 62.7, 200.0)
PRE_TIMES = [round(x, 1) for x in np.arange(5.0, T_INT, 3.7)]
NEURO = {"tau_syn_ex": 2.0}
SIC_LINKS = [(1.0, 1.0), (-40.0, 2.5)]        # (weight, delay) to post neurons 0 and 1
REC_POST = ("V_m", "g_ex", "w", "I_SIC")


def _interaction_nest():
    nest = fresh_nest(DT)
    astro = nest.Create("astrocyte_lr_1994", params={"delta_IP3": 0.2, "Ca_astro": 0.2})
    pre = nest.Create("aeif_cond_alpha_astro", params=NEURO)
    post = nest.Create("aeif_cond_alpha_astro", 2, params=NEURO)
    sg = nest.Create("spike_generator", params={"spike_times": PRE_TIMES})
    nest.Connect(sg, pre, syn_spec={"weight": 40.0})
    nest.Connect(pre, post, syn_spec={"weight": 1.0})
    nest.Connect(pre, astro, syn_spec={"weight": 1.0})
    for i, (w, d) in enumerate(SIC_LINKS):
        nest.Connect(astro, post[i], syn_spec={"synapse_model": "sic_connection", "weight": w, "delay": d})
    mm_a = nest.Create("multimeter", params={"record_from": list(ASTRO_VARS), "interval": DT})
    mm_p = nest.Create("multimeter", params={"record_from": list(REC_POST), "interval": DT})
    sr = nest.Create("spike_recorder")
    nest.Connect(mm_a, astro)
    nest.Connect(mm_p, pre + post)
    nest.Connect(pre + post, sr)
    nest.Simulate(T_INT)
    ea, ep, es = mm_a.events, mm_p.events, sr.events
    out = {v: ea[v] for v in ASTRO_VARS}
    out.update({v: np.stack([ep[v][ep["senders"] == g] for g in (pre + post).tolist()], axis=1) for v in REC_POST})
    out["spikes"] = sorted(zip(es["senders"].tolist(), np.round(es["times"] / DT).astype(int).tolist()))
    return out


def _interaction_nestax():
    sim = nx.Simulator(dt=DT * u.ms)
    astro = sim.create(nx.astrocyte_lr_1994, delta_IP3=0.2, Ca_astro=0.2)
    pre = sim.create(nx.aeif_cond_alpha_astro, **NEURO)
    post = sim.create(nx.aeif_cond_alpha_astro, 2, **NEURO)
    sg = sim.create(nx.spike_generator, spike_times=PRE_TIMES * u.ms)
    sim.connect(sg, pre, weight=40.0 * u.nS)
    sim.connect(pre, post, weight=1.0 * u.nS)
    sim.connect(pre, astro, weight=1.0)
    for i, (w, d) in enumerate(SIC_LINKS):
        sim.connect(astro, post[i], synapse_model="sic_connection", weight=w, delay=d * u.ms)
    mm_a = sim.create(nx.multimeter, record_from=list(ASTRO_VARS), interval=DT * u.ms)
    mm_p = sim.create(nx.multimeter, record_from=list(REC_POST), interval=DT * u.ms)
    sr = sim.create(nx.spike_recorder)
    sim.connect(mm_a, astro)
    sim.connect(mm_p, pre + post)
    sim.connect(pre + post, sr)
    parts, spikes = {v: [] for v in ASTRO_VARS + REC_POST}, []
    for T in SPLITS:
        res = sim.simulate(T * u.ms)
        for v in ASTRO_VARS:
            parts[v].append(_trace(res, mm_a, v)[:, 0])
        for v in REC_POST:
            parts[v].append(_trace(res, mm_p, v))
        ev = res.events(sr)
        spikes += list(zip(np.asarray(ev["senders"]).tolist(),
                           np.round(np.asarray(ev["times"].to_decimal(u.ms)) / DT).astype(int).tolist()))
    out = {v: np.concatenate(x) for v, x in parts.items()}
    out["spikes"] = sorted(spikes)
    return out


@pytest.fixture(scope="module")
def interaction():
    return _interaction_nest(), _interaction_nestax()


def test_interaction_traces(interaction):
    ref, got = interaction
    n = len(ref["IP3"])
    assert n >= T_INT / DT - 10
    assert got["spikes"] == ref["spikes"] and len(ref["spikes"]) > 20
    for v in ASTRO_VARS:
        np.testing.assert_allclose(got[v][:n], ref[v], rtol=0, atol=1e-12, err_msg=v)
    assert np.abs(ref["I_SIC"][:, 1:]).max() > 1.0         # the SIC is on
    np.testing.assert_allclose(got["I_SIC"][:n], ref["I_SIC"], rtol=0, atol=1e-10, err_msg="I_SIC")
    for v in ("V_m", "g_ex", "w"):
        np.testing.assert_allclose(got[v][:n], ref[v], rtol=0, atol=1e-7, err_msg=v)
    for v, tol in [*((v, 1e-12) for v in ASTRO_VARS), ("I_SIC", 1e-10), ("V_m", 1e-7), ("g_ex", 1e-7), ("w", 1e-7)]:
        model = ("astrocyte_lr_1994" if v in ASTRO_VARS else "sic_connection" if v == "I_SIC"
                 else "aeif_cond_alpha_astro")
        vrecord(model, f"interaction {v}", float(np.max(np.abs(got[v][:n] - ref[v]))), tol, "integrator",
                f"{v} max abs dev")


def test_sic_schedule(interaction):
    """I_SIC of a neuron at t + d is weight x SIC(Ca_astro(t)); 0 before the first value arrives."""
    for side in interaction:
        sic = _sic(side["Ca_astro"])
        for i, (w, d) in enumerate(SIC_LINKS):
            nd = round(d / DT)
            got = side["I_SIC"][:, 1 + i]
            np.testing.assert_allclose(got[nd:], w * sic[:len(got) - nd], rtol=0, atol=1e-12)
            assert np.all(got[:nd] == 0.0)
        assert np.all(side["I_SIC"][:, 0] == 0.0)               # the presynaptic neuron gets no SIC


# ------------------------------------------------------------------------------ 4. errors
@pytest.mark.parametrize("name,value", [("Ca_tot", 0.0), ("IP3_0", -0.1), ("Kd_act", 0.0), ("Kd_inh", -1.0),
                                        ("Kd_IP3_1", 0.0), ("Kd_IP3_2", -1.0), ("Km_SERCA", 0.0),
                                        ("ratio_ER_cyt", 0.0), ("delta_IP3", -1.0), ("k_IP3R", -1.0),
                                        ("SIC_scale", 0.0), ("SIC_th", -0.1), ("rate_L", -1.0),
                                        ("rate_IP3R", -1.0), ("rate_SERCA", -1.0), ("tau_IP3", 0.0)])
def test_bad_parameters(name, value):
    nest = fresh_nest()
    with pytest.raises(nest.NESTError):
        nest.Create("astrocyte_lr_1994", params={name: value})
    sim = nx.Simulator(dt=DT * u.ms)
    with pytest.raises(BadParameterError) as e:
        sim.create(nx.astrocyte_lr_1994, **{name: value})
    msg = str(e.value)
    assert "astrocyte_lr_1994" in msg and repr(name) in msg and str(value) in msg and "expected" in msg


CONNECTIONS = [
    # (source, target, synapse spec): NEST refuses every one
    ("astrocyte_lr_1994", "iaf_psc_exp", {"synapse_model": "sic_connection"}),
    ("astrocyte_lr_1994", "aeif_cond_alpha", {"synapse_model": "sic_connection"}),
    ("aeif_cond_alpha_astro", "aeif_cond_alpha_astro", {"synapse_model": "sic_connection"}),
    ("astrocyte_lr_1994", "aeif_cond_alpha_astro", {"synapse_model": "sic_connection", "receptor_type": 1}),
    ("astrocyte_lr_1994", "aeif_cond_alpha_astro", {}),                         # sends no spikes
    ("astrocyte_lr_1994", "aeif_cond_alpha_astro", {"synapse_model": "rate_connection_delayed"}),
    ("iaf_psc_exp", "astrocyte_lr_1994", {"receptor_type": 1}),
    ("iaf_psc_exp", "astrocyte_lr_1994", {"synapse_model": "stdp_synapse"}),  # no spike archive
    ("lin_rate_ipn", "aeif_cond_alpha_astro", {"synapse_model": "sic_connection"}),
]


@pytest.mark.parametrize("src,tgt,spec", CONNECTIONS)
def test_refused_connections(src, tgt, spec):
    nest = fresh_nest()
    with pytest.raises(nest.NESTError):
        nest.Connect(nest.Create(src), nest.Create(tgt), syn_spec=dict(spec))
    sim = nx.Simulator(dt=DT * u.ms)
    with pytest.raises(ConnectionError_) as e:
        sim.connect(sim.create(src), sim.create(tgt), **spec)
    assert src in str(e.value) or tgt in str(e.value)


def test_astrocyte_to_spike_recorder_refused():
    nest = fresh_nest()
    with pytest.raises(nest.NESTError):
        nest.Connect(nest.Create("astrocyte_lr_1994"), nest.Create("spike_recorder"))
    sim = nx.Simulator(dt=DT * u.ms)
    with pytest.raises(ConnectionError_, match="astrocyte_lr_1994 sends no spikes"):
        sim.connect(sim.create(nx.astrocyte_lr_1994), sim.create(nx.spike_recorder))


def test_negative_spike_weight_refused():
    """NEST raises when such a spike reaches the astrocyte; nestax when simulate builds the network."""
    nest = fresh_nest()
    a = nest.Create("astrocyte_lr_1994")
    nest.Connect(nest.Create("spike_generator", params={"spike_times": [1.0]}), a, syn_spec={"weight": -1.0})
    with pytest.raises(nest.NESTError):
        nest.Simulate(5.0)
    sim = nx.Simulator(dt=DT * u.ms)
    a = sim.create(nx.astrocyte_lr_1994)
    sim.connect(sim.create(nx.spike_generator, spike_times=[1.0] * u.ms), a, weight=-1.0)
    with pytest.raises(BadParameterError, match=r"astrocyte_lr_1994: connection weight -1.0 .*expected weights >= 0"):
        sim.simulate(5.0 * u.ms)


def test_accepted_connections():
    """What NEST accepts: a current generator onto an astrocyte, a negative sic weight."""
    nest = import_nest()
    nest.ResetKernel()
    nest.Connect(nest.Create("dc_generator"), nest.Create("astrocyte_lr_1994"))
    nest.Connect(nest.Create("astrocyte_lr_1994"), nest.Create("aeif_cond_alpha_astro"),
                 syn_spec={"synapse_model": "sic_connection", "weight": -2.0})
    sim = nx.Simulator(dt=DT * u.ms)
    sim.connect(sim.create(nx.dc_generator), sim.create(nx.astrocyte_lr_1994))
    sim.connect(sim.create(nx.astrocyte_lr_1994), sim.create(nx.aeif_cond_alpha_astro),
                synapse_model="sic_connection", weight=-2.0)
    sim.simulate(1.0 * u.ms)
