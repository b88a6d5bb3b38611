"""bernoulli_synapse against NEST 3.10: statistical parity of the transmission (each spike with
probability p_transmit), exact delivery of what is transmitted, errors.

A parrot sends 1,000 spikes (some of multiplicity 2) through bernoulli synapses to 20 non-leaky,
never-firing iaf_psc_delta neurons; each transmitted spike raises V_m by exactly the weight, so
V_m counts the transmitted spikes.
"""
import brainunit as u
import numpy as np
import pytest

import nestax as nx

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

DT = 0.1
N_TGT = 20
W = 0.5
TARGET = dict(tau_m=1e12, V_th=1e12, E_L=0.0, V_m=0.0, V_reset=-1.0, t_ref=0.1, C_m=250.0)
TIMES = np.round(np.arange(1.0, 1001.0, 1.0), 1)
DOUBLE = TIMES[::10]  # every tenth spike twice: multiplicity 2


def _counts_nest(p):
    nest = fresh_nest(DT, 7)
    sg = nest.Create("spike_generator", params={"spike_times": np.sort(np.concatenate([TIMES, DOUBLE]))})
    pre = nest.Create("parrot_neuron")
    tgt = nest.Create("iaf_psc_delta", N_TGT, params=TARGET)
    nest.Connect(sg, pre)
    nest.Connect(pre, tgt, syn_spec={"synapse_model": "bernoulli_synapse", "weight": W, "p_transmit": p})
    nest.Simulate(1010.0)
    return np.asarray(tgt.get("V_m"), float) / W


def _counts_nx(p, event=False, monkeypatch=None):
    if event:
        from nestax.engine import delivery
        monkeypatch.setattr(delivery, "EVENT_MIN_SYNAPSES", 1)
    sim = nx.Simulator(dt=DT, seed=7)
    sg = sim.create(nx.spike_generator, spike_times=np.sort(np.concatenate([TIMES, DOUBLE])))
    pre = sim.create(nx.parrot_neuron)
    tgt = sim.create(nx.iaf_psc_delta, N_TGT, **TARGET)
    sim.connect(sg, pre)
    sim.connect(pre, tgt, synapse_model="bernoulli_synapse", weight=W, p_transmit=p)
    sim.simulate(505.0)
    sim.simulate(505.0)
    return mantissa(sim.get(tgt, "V_m"), u.mV) / W


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("event", [False, True])
def test_transmission_statistics_match_nest(p, event, monkeypatch):
    n_spikes = len(TIMES) + len(DOUBLE)  # 1,100 trials per target
    c_n = _counts_nest(p)
    c_x = _counts_nx(p, event, monkeypatch)
    # every transmitted spike moved V_m by exactly the weight: whole counts in both
    np.testing.assert_allclose(c_x, np.round(c_x), atol=1e-6)
    np.testing.assert_allclose(c_n, np.round(c_n), atol=1e-6)
    if p in (0.0, 1.0):
        assert np.all(np.round(c_x) == p * n_spikes) and np.all(np.round(c_n) == p * n_spikes)
        return
    # each target: Binomial(1100, p); the two ensembles of 20 targets agree in mean (5 SE) and spread
    se = np.sqrt(n_spikes * p * (1 - p))
    for c in (c_n, c_x):
        assert abs(c.mean() - n_spikes * p) < 5 * se / np.sqrt(N_TGT)
        assert 0.5 * se < c.std(ddof=1) < 1.6 * se
    assert len(np.unique(np.round(c_x))) > 5  # the targets draw independently
    vrecord("bernoulli_synapse", f"p={p}", abs(c_x.mean() - n_spikes * p) / (se / np.sqrt(N_TGT)), 5.0,
            "statistical", "transmitted count per target |mean - 1100 p| / SE")


def test_errors_as_nest():
    nest = fresh_nest(DT)
    a = nest.Create("parrot_neuron")
    b = nest.Create("iaf_psc_delta")
    with pytest.raises(Exception):
        nest.Connect(a, b, syn_spec={"synapse_model": "bernoulli_synapse", "p_transmit": 1.5})
    sim = nx.Simulator(dt=DT)
    a = sim.create(nx.parrot_neuron)
    b = sim.create(nx.iaf_psc_delta)
    with pytest.raises(nx.BadParameterError, match="p_transmit' = 1.5 is invalid; expected a value in"):
        sim.connect(a, b, synapse_model="bernoulli_synapse", p_transmit=1.5)
    with pytest.raises(nx.ConnectionError_, match="not supported yet"):
        sim.connect(a, sim.create(nx.parrot_neuron), synapse_model="bernoulli_synapse", p_transmit=0.5)
    assert nx.bernoulli_synapse.parameters["p_transmit"].default == nest.GetDefaults("bernoulli_synapse")["p_transmit"]
