"""stdp_dopamine_synapse with a volume_transmitter against NEST 3.10: weights, eligibility c,
dopamine trace n, K_plus and the target's V_m, driven by spike_generator -> parrot pre, post and
dopaminergic trains; NEST's slice schedule (min_delay, deliver_interval), clipping at Wmin / Wmax,
dopamine spikes of multiplicity 2, split runs."""
import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError, ConnectionError_

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

DT = 0.1
PRE = [[5.0, 21.0, 38.3, 52.0, 77.7, 90.0, 121.0, 140.5], [11.0, 30.0, 44.4, 61.0, 99.9, 133.0]]
POST = [8.0, 24.5, 40.0, 56.1, 80.0, 112.0, 150.0]
DOPA = [15.0, 15.0, 33.3, 47.0, 70.0, 71.2, 105.0, 128.8, 160.0]
SHARED = {"A_plus": 1.0, "A_minus": 1.5, "tau_plus": 20.0, "tau_c": 80.0, "tau_n": 40.0, "b": 0.02,
          "Wmin": 0.0, "Wmax": 200.0}
T = 180.0


def _build(api, shared, di, delays, dopa_delay, w0=40.0, windows=(T,)):
    is_nest = not isinstance(api, nx.Simulator)
    def create(model, n=1, **p):
        return api.Create(model, n, params=p or None) if is_nest else api.create(getattr(nx, model), n, **p)
    def connect(a, b, rule="all_to_all", **syn):
        return api.Connect(a, b, rule, syn) if is_nest else api.connect(a, b, rule, **syn)
    vt = create("volume_transmitter", deliver_interval=di)
    if is_nest:
        api.SetDefaults("stdp_dopamine_synapse", {**shared, "volume_transmitter": vt})
    else:
        api.set_defaults("stdp_dopamine_synapse", shared, volume_transmitter=vt)
    gpre = api.Create("spike_generator", 2, params=[{"spike_times": t} for t in PRE]) if is_nest else \
        api.create(nx.spike_generator, 2, params=[{"spike_times": t} for t in PRE])
    pre = create("parrot_neuron", 2)
    gpost = create("spike_generator", spike_times=POST)
    post = create("iaf_psc_alpha", 2, I_e=200.0)
    gd = create("spike_generator", spike_times=DOPA)
    dopa = create("parrot_neuron")
    vm = create("voltmeter", interval=DT)
    connect(gpre, pre, "one_to_one")
    connect(gpost, post, weight=1200.0, delay=1.0)
    connect(gd, dopa)
    connect(dopa, vt, delay=dopa_delay)
    for i, d in enumerate(delays):
        connect(pre[i], post, synapse_model="stdp_dopamine_synapse", weight=w0, delay=d)
    connect(vm, post)
    if is_nest:
        for t in windows:
            api.Simulate(t)
        c = api.GetConnections(pre, post)
        cols = {k: np.asarray(c.get(k), float) for k in ("weight", "c", "n", "Kplus")}
        order = np.lexsort((np.asarray(c.target), np.asarray(c.source)))
        ev = vm.events
        v = np.stack([ev["V_m"][ev["senders"] == s] for s in post.tolist()], axis=1)
        return {k: x[order] for k, x in cols.items()}, v
    res = [api.simulate(t) for t in windows]
    c = api.connections(pre, post)
    order = np.lexsort((c.targets, c.sources))
    cols = {k: np.asarray(mantissa(c.get(k)), float)[order] for k in ("weight", "c", "n", "Kplus")}
    v = np.concatenate([mantissa(r.trace(vm, "V_m"), u.mV) for r in res])
    return cols, v


CASES = {
    "min_delay 1 ms, deliver_interval 1": (SHARED, 1, (1.0, 2.0), 1.0),
    "deliver_interval 3": (SHARED, 3, (1.0, 1.5), 1.0),
    "min_delay 0.5 ms from the dopamine connection": (SHARED, 1, (1.2, 2.5), 0.5),
    "clipping at Wmax and Wmin": ({**SHARED, "Wmax": 41.0, "Wmin": 39.5, "b": -0.05}, 2, (1.0, 2.0), 1.0),
    "clipping, dopamine dominated": ({**SHARED, "Wmax": 40.6, "Wmin": 38.0, "b": 0.0, "A_minus": 0.2}, 1,
                                     (1.0, 2.0), 1.0),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("windows", [(T,), (63.0, 57.0, 60.0)])
def test_matches_nest(case, windows):
    shared, di, delays, dd = CASES[case]
    cols_nest, v_nest = _build(fresh_nest(DT), shared, di, delays, dd, windows=windows)
    cols_nx, v_nx = _build(nx.Simulator(dt=DT), shared, di, delays, dd, windows=windows)
    for k in cols_nest:
        np.testing.assert_allclose(cols_nx[k], cols_nest[k], rtol=1e-10, atol=1e-10, err_msg=k)
    n = min(len(v_nest), len(v_nx))
    assert n >= len(v_nx) - 20
    np.testing.assert_allclose(v_nx[:n], v_nest[:n], rtol=0, atol=1e-9)
    vrecord("stdp_dopamine_synapse", "V_m", float(np.max(np.abs(v_nx[:n] - v_nest[:n]))), 1e-9, "exact",
            "postsynaptic V_m max abs dev (mV)")
    vrecord("stdp_dopamine_synapse", "weight", float(np.max(np.abs(cols_nx["weight"] - cols_nest["weight"]))),
            1e-10 + 1e-10 * float(np.max(np.abs(cols_nest["weight"]))), "exact", "final weights max abs dev")
    assert np.max(np.abs(cols_nx["weight"] - 40.0)) > 1e-3  # the weights did move
    if shared["Wmax"] < 100:  # and were clipped
        assert np.any(np.isclose(cols_nx["weight"], shared["Wmin"]) | np.isclose(cols_nx["weight"], shared["Wmax"]))


def test_missing_volume_transmitter_and_bad_values_refused():
    sim = nx.Simulator(dt=DT)
    a, b = sim.create(nx.parrot_neuron), sim.create(nx.iaf_psc_alpha)
    with pytest.raises(ConnectionError_, match="needs a volume_transmitter"):
        sim.connect(a, b, synapse_model="stdp_dopamine_synapse")
    vt = sim.create(nx.volume_transmitter)
    with pytest.raises(BadParameterError, match="tau_c"):
        sim.set_defaults("stdp_dopamine_synapse", tau_c=-1.0, volume_transmitter=vt)
        sim.connect(a, b, synapse_model="stdp_dopamine_synapse")
    with pytest.raises(BadParameterError, match="deliver_interval"):
        sim.create(nx.volume_transmitter, deliver_interval=0)
    with pytest.raises(ConnectionError_, match="does not read a volume_transmitter"):
        sim.connect(a, b, synapse_model="stdp_synapse", volume_transmitter=vt)
    assert len(sim.connections()) == 0
