"""NEST's _hpc and _lbl synapse variants: the same dynamics as their model, NEST's names and
parameters, and selection by synapse_label (NEST 3.10 in the same test)."""
import numpy as np
import pytest

import nestax as nx
from nestax.models.synapses.variants import BASES, HPC_ONLY

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

DT = 0.1


def test_every_variant_nest_has_exists_with_nests_parameters():
    nest = fresh_nest(DT)
    have = set(nx.models())
    ours = {n for n in nest.synapse_models if n.endswith(("_hpc", "_lbl")) and n.rsplit("_", 1)[0] in have}
    assert ours == {b + s for b in BASES for s in ("_hpc", "_lbl")} | {b + "_hpc" for b in HPC_ONLY}
    for name in sorted(ours):
        cls = getattr(nx, name)
        d = nest.GetDefaults(name)
        # eprop_synapse: NEST keeps the optimizer's values in a sub-dictionary; nestax has them flat
        # (adam's beta_1, beta_2, epsilon are in it only when its type is adam)
        nest_params = set(d) | set(d.get("optimizer", {})) | ({"beta_1", "beta_2", "epsilon"} if "optimizer" in d else set())
        assert set(cls.parameters) - {"weight_recorder"} <= nest_params, name
        assert ("synapse_label" in cls.parameters) == name.endswith("_lbl")


def _run(api_nest, model):
    """parrots -> iaf_psc_alpha with stdp-like plasticity; two connect calls with labels 1 and 2."""
    times = [[2.0, 9.0, 15.0, 22.0], [4.0, 9.5, 18.0, 25.0]]
    syn = {"weight": 50.0, "delay": 1.5}
    if api_nest:
        nest = fresh_nest(DT)
        g = nest.Create("spike_generator", 2, params=[{"spike_times": t} for t in times])
        p = nest.Create("parrot_neuron", 2)
        q = nest.Create("iaf_psc_alpha", 2, params={"I_e": 376.0})
        nest.Connect(g, p, "one_to_one")
        for i, lab in enumerate((1, 2)):
            spec = dict(synapse_model=model, **syn)
            if model.endswith("_lbl"):
                spec["synapse_label"] = lab
            nest.Connect(p[i], q, "all_to_all", spec)
        nest.Simulate(40.0)
        w = lambda **kw: np.sort(np.asarray(nest.GetConnections(source=p, synapse_model=model, **kw).weight, float))
        return w(), (w(synapse_label=1), w(synapse_label=2)) if model.endswith("_lbl") else None
    sim = nx.Simulator(dt=DT)
    g = sim.create(nx.spike_generator, 2, params=[{"spike_times": t} for t in times])
    p = sim.create(nx.parrot_neuron, 2)
    q = sim.create(nx.iaf_psc_alpha, 2, I_e=376.0)
    sim.connect(g, p, "one_to_one")
    for i, lab in enumerate((1, 2)):
        extra = {"synapse_label": lab} if model.endswith("_lbl") else {}
        sim.connect(p[i], q, "all_to_all", synapse_model=model, **syn, **extra)
    sim.simulate(40.0)
    w = lambda **kw: np.sort(np.asarray(sim.connections(p, synapse_model=model, **kw).weights, float))
    return w(), (w(synapse_label=1), w(synapse_label=2)) if model.endswith("_lbl") else None


@pytest.mark.parametrize("model", ["stdp_synapse_hpc", "stdp_synapse_lbl", "tsodyks2_synapse_lbl",
                                   "static_synapse_lbl", "vogels_sprekeler_synapse_hpc"])
def test_variant_matches_nest_and_labels_select(model):
    w_nest, by_label_nest = _run(True, model)
    w_nx, by_label_nx = _run(False, model)
    np.testing.assert_allclose(w_nx, w_nest, rtol=1e-12, atol=1e-9)
    vrecord(model, "weights", float(np.max(np.abs(np.asarray(w_nx) - np.asarray(w_nest)))),
            1e-9 + 1e-12 * float(np.max(np.abs(w_nest))), "exact", "final weights max abs dev")
    if by_label_nest is not None:
        for a, b in zip(by_label_nx, by_label_nest):
            assert len(a) == len(b) == 2
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9)
    # the variant behaves as its model
    base = model.rsplit("_", 1)[0]
    np.testing.assert_allclose(_run(False, base)[0], w_nx, rtol=0, atol=0)


def test_labels_are_per_connection_and_hom_values_per_variant():
    sim = nx.Simulator(dt=DT)
    a = sim.create(nx.parrot_neuron, 3)
    b = sim.create(nx.iaf_psc_alpha, 3)
    sim.connect(a, b, "one_to_one", synapse_model="static_synapse_lbl", synapse_label=[4, 5, 4])
    assert len(sim.connections(synapse_label=4)) == 2 and len(sim.connections(synapse_label=7)) == 0
    # a _hom model's shared values belong to each variant on its own (NEST: separate models)
    sim.connect(a, b, synapse_model="stdp_synapse_hom", lambda_=0.1)
    sim.connect(a, b, synapse_model="stdp_synapse_hom_hpc", lambda_=0.2)
    got = sim.connections(synapse_model="stdp_synapse_hom_hpc").get("lambda")
    np.testing.assert_allclose(mantissa(got), 0.2)
