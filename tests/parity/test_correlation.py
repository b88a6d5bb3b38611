"""Parity of correlation_detector and correlomatrix_detector with NEST 3.10 (live NEST)."""
import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError

from .nest_helpers import fresh_nest
from .validation import record as vrecord

DT = 0.1
OUT = ("n_events", "histogram", "histogram_correction", "count_histogram")


def _both(sources, params, runs, parrot=False, md=1.0, model="correlation_detector", outs=OUT):
    """sources: [(spike_times, receptor, weight)]; the same network in NEST and nestax; outputs after
    every simulate call of ``runs``."""
    nest = fresh_nest(DT)
    cd = nest.Create(model, params=params)
    got_n = []
    for times, r, w in sources:
        g = nest.Create("spike_generator", params={"spike_times": times})
        src = g
        if parrot:
            src = nest.Create("parrot_neuron")
            nest.Connect(g, src, syn_spec={"delay": md})
        nest.Connect(src, cd, syn_spec={"receptor_type": r, "weight": w, "delay": md})
    for T in runs:
        nest.Simulate(T)
        got_n.append({k: np.asarray(cd.get(k)) for k in outs})
    sim = nx.Simulator(dt=DT)
    cdx = sim.create(model, **params)
    for times, r, w in sources:
        g = sim.create(nx.spike_generator, spike_times=times)
        src = g
        if parrot:
            src = sim.create(nx.parrot_neuron)
            sim.connect(g, src, delay=md)
        sim.connect(src, cdx, receptor_type=r, weight=w, delay=md)
    got_x = []
    for T in runs:
        res = sim.simulate(T * u.ms)
        got_x.append({k: res.get(cdx, k) for k in outs})
    for a, b in zip(got_n, got_x):
        for k in outs:
            assert a[k].shape == b[k].shape, (k, a[k].shape, b[k].shape)
            if np.issubdtype(a[k].dtype, np.integer):
                np.testing.assert_array_equal(b[k], a[k], err_msg=k)
                assert np.issubdtype(np.asarray(b[k]).dtype, np.integer), k
            else:
                np.testing.assert_allclose(b[k], a[k], rtol=0, atol=1e-12, err_msg=k)
    for k in outs:
        integer = np.issubdtype(got_n[0][k].dtype, np.integer)
        dev = max(float(np.sum(np.asarray(b[k]) != a[k])) if integer else
                  float(np.max(np.abs(np.asarray(b[k], float) - a[k]), initial=0.0)) for a, b in zip(got_n, got_x))
        vrecord(model, k, dev, 0 if integer else 1e-12, "exact",
                f"{k}: entries differing from NEST's" if integer else f"{k} max abs dev")
    return got_n, got_x


def test_negative_and_off_grid_Tstart():
    """NEST accepts a negative or off-grid Tstart / Tstop and compares them with the stamps in tics."""
    _both([(EDGE_A, 0, 1.0), (EDGE_B, 1, 1.0)], dict(delta_tau=0.5, tau_max=2.0, Tstart=-1.0, Tstop=7.55), [12.0])


EDGE_A = [1.0, 2.0, 2.0, 3.0, 5.5, 7.5, 10.0, 10.1]
EDGE_B = [1.5, 2.0, 4.0, 4.5, 4.7, 7.5, 9.9, 10.0]


@pytest.mark.parametrize("parrot", [False, True])
@pytest.mark.parametrize("params", [dict(delta_tau=0.5, tau_max=2.0), dict(delta_tau=0.2, tau_max=1.0),
                                    dict(delta_tau=0.5, tau_max=2.0, Tstart=2.0, Tstop=7.5),
                                    dict(delta_tau=0.3, tau_max=3.0, start=1.0, stop=9.9, origin=0.0)])
def test_edges(params, parrot):
    """Coincident spikes, multiplicity (duplicate times), spikes at Tstart/Tstop and at bin edges."""
    _both([(EDGE_A, 0, 1.0), (EDGE_B, 1, 1.0)], params, [12.0], parrot=parrot)


def test_weights_and_split_runs():
    """Weighted histogram (Kahan) with several senders per receptor; split runs accumulate, and the
    last slice's neuron spikes arrive with the next call (as in NEST)."""
    rng = np.random.default_rng(3)
    src = []
    for r in (0, 1, 0, 1):
        t = np.unique(np.round(rng.uniform(0.1, 60.0, 80), 1))
        src.append((t.tolist(), r, float(rng.uniform(0.3, 2.5))))
    for parrot in (False, True):
        _both(src, dict(delta_tau=0.5, tau_max=5.0), [20.0, 13.3, 0.1, 30.0], parrot=parrot)


def test_delivery_order_multiplicity():
    """Coincident spikes of several senders, min_delay 2 ms: NEST's order decides count_histogram."""
    a = [1.0, 1.0, 1.0, 3.2, 3.2, 4.0]
    b = [1.0, 3.2, 3.2, 3.2, 4.1]
    _both([(a, 0, 1.0), (b, 1, 2.0), (b, 0, 0.5)], dict(delta_tau=0.1, tau_max=1.0), [10.0], parrot=True, md=2.0)


def test_reset_by_n_events():
    nest = fresh_nest(DT)
    sim = nx.Simulator(dt=DT)
    g = sim.create(nx.spike_generator, spike_times=EDGE_A)
    h = sim.create(nx.spike_generator, spike_times=[t + 5.0 for t in EDGE_B])
    cd = sim.create(nx.correlation_detector, delta_tau=0.5, tau_max=2.0)
    sim.connect(g, cd); sim.connect(h, cd, receptor_type=1)
    gn = nest.Create("spike_generator", params={"spike_times": EDGE_A})
    hn = nest.Create("spike_generator", params={"spike_times": [t + 5.0 for t in EDGE_B]})
    cdn = nest.Create("correlation_detector", params=dict(delta_tau=0.5, tau_max=2.0))
    nest.Connect(gn, cdn); nest.Connect(hn, cdn, syn_spec={"receptor_type": 1})
    sim.simulate(6.0 * u.ms); nest.Simulate(6.0)
    sim.set(cd, n_events=[0, 0]); cdn.set(n_events=[0, 0])
    np.testing.assert_array_equal(sim.get(cd, "n_events"), cdn.get("n_events"))
    sim.simulate(10.0 * u.ms); nest.Simulate(10.0)
    for k in OUT:
        np.testing.assert_allclose(sim.get(cd, k), cdn.get(k), atol=1e-12, rtol=0)
    with pytest.raises(BadParameterError, match="n_events"):
        sim.set(cd, n_events=[1, 0])


@pytest.mark.parametrize("kw, word", [(dict(delta_tau=0.25), "delta_tau"), (dict(delta_tau=0.5, tau_max=1.2), "tau_max"),
                                      (dict(tau_max=-1.0), "tau_max")])
def test_bad_parameters(kw, word):
    nest = fresh_nest(DT)
    with pytest.raises(Exception):
        nest.Create("correlation_detector", params=kw)
    sim = nx.Simulator(dt=DT)
    with pytest.raises(BadParameterError, match=word):
        sim.create(nx.correlation_detector, **kw)


def test_bad_receptor():
    nest = fresh_nest(DT)
    g = nest.Create("spike_generator")
    cd = nest.Create("correlation_detector")
    with pytest.raises(Exception):
        nest.Connect(g, cd, syn_spec={"receptor_type": 2})
    sim = nx.Simulator(dt=DT)
    g = sim.create(nx.spike_generator)
    cd = sim.create(nx.correlation_detector)
    with pytest.raises(BadParameterError, match="receptor_type"):
        sim.connect(g, cd, receptor_type=2)


@pytest.mark.parametrize("parrot", [False, True])
def test_correlomatrix(parrot):
    rng = np.random.default_rng(5)
    src = [(EDGE_A, 0, 1.0), (EDGE_B, 1, 1.5), (EDGE_B, 2, 1.0)]
    for c in (0, 2):
        src.append((np.unique(np.round(rng.uniform(0.1, 30.0, 40), 1)).tolist(), c, 0.7))
    _both(src, dict(N_channels=3, delta_tau=0.3, tau_max=1.5, Tstart=1.0, Tstop=25.0), [12.0, 9.0, 15.0],
          parrot=parrot, model="correlomatrix_detector", outs=("n_events", "covariance", "count_covariance"))


def test_correlomatrix_bad():
    sim = nx.Simulator(dt=DT)
    with pytest.raises(BadParameterError, match="delta_tau"):
        sim.create(nx.correlomatrix_detector, delta_tau=0.2, tau_max=1.0)
    with pytest.raises(BadParameterError, match="N_channels"):
        sim.create(nx.correlomatrix_detector, N_channels=0)
    cd = sim.create(nx.correlomatrix_detector, N_channels=2)
    with pytest.raises(BadParameterError, match="receptor_type"):
        sim.connect(sim.create(nx.spike_generator), cd, receptor_type=2)
