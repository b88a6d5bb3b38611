"""nestax.nest, PyNEST's interface: kernel attributes, get/set conventions, recorders that accumulate
until n_events = 0, models, connections, and clear errors for what is not supported."""
from __future__ import annotations

import numpy as np
import pytest

import nestax.nest as nest


@pytest.fixture(autouse=True)
def fresh():
    nest.ResetKernel()
    yield
    nest.ResetKernel()


def test_kernel_attributes_and_status():
    assert nest.resolution == 0.1 and nest.rng_seed == 143202461 and nest.biological_time == 0.0
    nest.resolution = 0.05
    nest.rng_seed = 7
    nest.local_num_threads = 2
    assert nest.GetKernelStatus(["resolution", "rng_seed", "local_num_threads"]) == [0.05, 7, 2]
    n = nest.Create("iaf_psc_alpha", 3)
    assert nest.network_size == 3
    with pytest.raises(Exception, match="resolution"):
        nest.resolution = 0.1        # nodes exist: refused, as NEST
    assert nest.resolution == 0.05
    nest.Simulate(2.0)
    assert nest.biological_time == pytest.approx(2.0)
    with pytest.raises(Exception, match="read-only"):
        nest.SetKernelStatus({"biological_time": 5.0})
    with pytest.raises(KeyError, match="Did you mean 'resolution'"):
        nest.GetKernelStatus("resolutoin")
    assert len(n) == 3


def test_get_and_set_follow_pynest():
    n = nest.Create("iaf_psc_alpha", 3, params={"I_e": 100.0})
    assert n.get("I_e") == (100.0, 100.0, 100.0)
    assert n[0].get("I_e") == 100.0 and n[0].I_e == 100.0
    n.V_m = [-70.0, -65.0, -60.0]
    assert n.V_m == (-70.0, -65.0, -60.0)
    n.set({"C_m": 200.0})
    n.set([{"tau_m": 5.0}, {"tau_m": 6.0}, {"tau_m": 7.0}])
    d = n.get(["C_m", "tau_m"])
    assert d == {"C_m": (200.0, 200.0, 200.0), "tau_m": (5.0, 6.0, 7.0)}
    one = n[1].get()
    assert one["model"] == "iaf_psc_alpha" and one["global_id"] == 2 and "V_m" in one["recordables"]
    with pytest.raises(Exception, match="tau_m"):
        n.set(tau_m=-1.0)            # a bad value: clear error ...
    assert n.get("tau_m") == (5.0, 6.0, 7.0)  # ... and nothing changed
    with pytest.raises(Exception, match="[Dd]id you mean"):
        n.get("V_mm")


def test_recorders_accumulate_until_n_events_is_set_to_zero():
    n = nest.Create("iaf_psc_alpha", params={"I_e": 376.0})
    sr = nest.Create("spike_recorder")
    vm = nest.Create("voltmeter")
    nest.Connect(n, sr)
    nest.Connect(vm, n)
    nest.Simulate(500.0)
    first = sr.n_events
    assert first > 0 and len(sr.get("events", "times")) == first
    nest.Simulate(500.0)
    assert sr.n_events > first
    t = sr.events["times"]
    assert np.all(np.diff(t) > 0) and t[-1] <= 1000.0
    # the voltmeter reports up to 999 ms: NEST holds the last min_delay (1 ms) until the next call
    assert vm.events["times"][-1] == pytest.approx(999.0) and vm.n_events == 999
    sr.n_events = 0
    assert sr.n_events == 0 and len(sr.events["times"]) == 0
    with pytest.raises(Exception, match="only be set to 0"):
        sr.n_events = 3
    nest.Simulate(100.0)
    assert 0 < sr.n_events < first
    assert vm.events["times"][999] == pytest.approx(1000.0)  # the held-back sample arrives


def test_connect_getconnections_and_synapse_collection():
    a = nest.Create("iaf_psc_alpha", 2)
    b = nest.Create("iaf_psc_alpha", 2)
    nest.Connect(a, b, "one_to_one", {"synapse_model": "static_synapse", "weight": 5.0, "delay": 2.0})
    conns = nest.GetConnections(a, b)
    assert len(conns) == 2 and conns.weight == (5.0, 5.0) and conns.delay == (2.0, 2.0)
    conns.set([{"weight": 1.0}, {"weight": 2.0}])
    assert conns.get("weight") == (1.0, 2.0)
    assert nest.GetDefaults("static_synapse")["num_connections"] == 2
    nest.CopyModel("static_synapse", "exc", {"weight": 3.0})
    nest.Connect(b, a, "all_to_all", "exc")
    assert nest.GetDefaults("exc", "num_connections") == 4
    assert set(nest.GetConnections(synapse_model="exc").weight) == {3.0}


def test_random_parameters_combine_as_nest_parameters():
    a = nest.Create("iaf_psc_exp_multisynapse", 20, params={"tau_syn": [1.0, 2.0, 3.0]})
    nest.Connect(a, a, {"rule": "fixed_indegree", "indegree": 10},
                 {"weight": 2.0 * nest.random.normal(0.0, 1.0) + 5.0, "receptor_type": 1 + nest.random.uniform_int(3)})
    c = nest.GetConnections()
    r = np.asarray(c.get("receptor"))
    assert set(r) == {1, 2, 3}
    w = np.asarray(c.weight)
    assert abs(w.mean() - 5.0) < 0.5 and 1.5 < w.std() < 2.5


def test_nested_compartment_parameters():
    n = nest.Create("iaf_cond_alpha_mc", params={"soma": {"g_L": 12.0}, "V_th": -50.0})
    assert n.get("g_L.s") == 12.0
    with pytest.raises(Exception, match="same parameter"):
        nest.Create("iaf_cond_alpha_mc", params={"soma": {"g_L": 12.0}, "g_L.s": 10.0})
    assert nest.GetDefaults("iaf_cond_alpha_mc")["receptor_types"]["soma_curr"] == 7


def test_unsupported_calls_say_so_and_name_the_nearest():
    with pytest.raises(NotImplementedError, match="nearest supported"):
        nest.TripartiteConnect
    with pytest.raises(AttributeError, match="Did you mean 'Simulate'"):
        nest.Simulat(10.0)
    with pytest.raises(Exception, match="did you mean|Did you mean"):
        nest.Create("iaf_psc_alfa")


def test_models_lists():
    assert "iaf_psc_alpha" in nest.node_models and "stdp_synapse" in nest.synapse_models
    assert "stdp_synapse" not in nest.node_models
    assert all("iaf" in m for m in nest.Models("nodes", "iaf"))


def test_get_kernel_status_without_keys_lists_every_setting():
    """Regression: GetKernelStatus() raised KeyError on 'time_collocate_spike_data'."""
    nest.ResetKernel()
    st = nest.GetKernelStatus()
    assert st["resolution"] == 0.1 and st["time_collocate_spike_data"] == 0.0
    assert {"rng_seed", "biological_time", "num_connections", "eprop_update_interval"} <= set(st)
