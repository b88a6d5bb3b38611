"""Bad input at the user-facing API: every error names what is wrong and what was expected.

Messages name the model, the parameter, the offending value and the expected unit or range, and
offer "Did you mean ...?" for misspelled names.
"""
import re

import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import (BadParameterError, ConnectionError_, NestaxError, NodeCollectionError, NodeIndexError,
                           RecorderError, UnitError, UnknownModelError, UnknownParameterError)


@pytest.fixture
def sim():
    return nx.Simulator(dt=0.1 * u.ms, seed=1)


def msg_of(excinfo):
    return str(excinfo.value)


# ---------------------------------------------------------------------------------------------
# names
# ---------------------------------------------------------------------------------------------
def test_unknown_model_name(sim):
    with pytest.raises(UnknownModelError) as e:
        sim.create('iaf_psc_alfa', 2)
    m = msg_of(e)
    assert "'iaf_psc_alfa'" in m and "Did you mean 'iaf_psc_alpha'" in m and "Available models:" in m
    assert isinstance(e.value, KeyError) and isinstance(e.value, NestaxError)
    with pytest.raises(UnknownModelError, match="Did you mean 'static_synapse'"):
        sim.connect(sim.create(nx.iaf_psc_alpha), sim.create(nx.iaf_psc_alpha), synapse_model='static_synaps')


def test_not_a_model(sim):
    with pytest.raises(TypeError, match="expected a nestax model"):
        sim.create(42, 2)


@pytest.mark.parametrize("where", ["create", "create_params", "set", "get"])
def test_unknown_parameter_of_a_neuron(sim, where):
    pop = sim.create(nx.iaf_psc_alpha, 2)
    with pytest.raises(UnknownParameterError) as e:
        if where == "create":
            sim.create(nx.iaf_psc_alpha, 2, V_thr=-50. * u.mV)
        elif where == "create_params":
            sim.create(nx.iaf_psc_alpha(V_thr=-50.), 2)
        elif where == "set":
            sim.set(pop, V_thr=-50.)
        else:
            sim.get(pop, 'V_thr')
    m = msg_of(e)
    assert m.startswith("iaf_psc_alpha: unknown parameter 'V_thr'.")
    assert "Did you mean 'V_th'" in m
    assert "Known parameters: C_m, E_L, I_e," in m and "State variables: V_m" in m
    # internal state is neither suggested nor listed
    assert "refractory_steps" not in m and "dI_syn" not in m


def test_internal_state_is_not_suggested(sim):
    with pytest.raises(UnknownParameterError) as e:
        sim.create(nx.iaf_psc_exp, 1, refractory=2.)
    assert "refractory_steps" not in msg_of(e) and "refr_spikes_buffer" not in msg_of(e)
    with pytest.raises(UnknownParameterError) as e:
        sim.create(nx.iaf_cond_exp, 1, refractory=2.)
    assert "refractory_steps" not in msg_of(e) and "Did you mean" not in msg_of(e)


def test_unknown_parameter_of_a_model_with_only_archiving_parameters(sim):
    # parrot_neuron's only parameters are those of NEST's archiving node (tau_minus, tau_minus_triplet)
    with pytest.raises(UnknownParameterError) as e:
        sim.create(nx.parrot_neuron, 2, V_th=-50.)
    m = msg_of(e)
    assert m == "parrot_neuron: unknown parameter 'V_th'. Known parameters: tau_minus, tau_minus_triplet."


def test_unknown_parameter_of_a_device(sim):
    with pytest.raises(UnknownParameterError, match=r"poisson_generator: unknown parameter 'rates'\. "
                                                   r"Did you mean 'rate'"):
        sim.create(nx.poisson_generator, rates=10.)


@pytest.mark.parametrize("how", ["keyword", "syn_spec", "spec"])
def test_unknown_synapse_parameter_at_connect(sim, how):
    a = sim.create(nx.iaf_psc_alpha, 2)
    with pytest.raises(NestaxError) as e:
        if how == "keyword":
            sim.connect(a, a, wieght=1.)
        elif how == "syn_spec":
            sim.connect(a, a, syn_spec={'wieght': 1.})
        else:
            sim.connect(a, a, synapse=nx.static_synapse(wieght=1.))
    m = msg_of(e)
    assert "'wieght'" in m and "static_synapse" in m and "Did you mean 'weight'?" in m
    assert "'weight' or 'weight'" not in m


def test_unknown_rule_and_rule_argument(sim):
    a = sim.create(nx.iaf_psc_alpha, 2)
    with pytest.raises(BadParameterError, match="unknown rule 'fixed_indegre'. Did you mean 'fixed_indegree'"):
        sim.connect(a, a, rule='fixed_indegre', indegree=1)
    with pytest.raises(BadParameterError, match="'indegre'.*Did you mean 'indegree'"):
        sim.connect(a, a, rule='fixed_indegree', indegre=1)


# ---------------------------------------------------------------------------------------------
# units and values
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, value, unit", [
    ("V_th", 5. * u.pA, "mV"), ("tau_m", 10. * u.mV, "ms"), ("C_m", 250. * u.nS, "pF"),
    ("I_e", 1. * u.nS, "pA"), ("V_m", -70. * u.ms, "mV"),
])
def test_wrong_unit_of_a_neuron_parameter(sim, name, value, unit):
    with pytest.raises(UnitError) as e:
        sim.create(nx.iaf_psc_alpha, 1, **{name: value})
    m = msg_of(e)
    assert m.startswith("iaf_psc_alpha:") and repr(name) in m and str(value) in m and unit in m


def test_wrong_unit_at_set_and_in_distributions(sim):
    pop = sim.create(nx.iaf_psc_exp, 3)
    with pytest.raises(UnitError, match=r"iaf_psc_exp: parameter 'E_L' = 1\.? ?s.*mV"):
        sim.set(pop, E_L=1. * u.second)
    with pytest.raises(UnitError, match=r"iaf_psc_exp.*I_e.*uniform\.min.*pA"):
        sim.create(nx.iaf_psc_exp, 3, I_e=nx.random.uniform(0. * u.mV, 1. * u.mV))


def test_wrong_unit_of_weight_and_delay(sim):
    a = sim.create(nx.iaf_psc_alpha, 2)
    c = sim.create(nx.iaf_cond_alpha, 2)
    with pytest.raises(UnitError) as e:
        sim.connect(a, a, weight=5 * u.ms)
    assert "static_synapse" in msg_of(e) and "'weight'" in msg_of(e) and "5" in msg_of(e) and "pA" in msg_of(e)
    with pytest.raises(UnitError, match="static_synapse: parameter 'weight'.*nS"):
        sim.connect(a, c, weight=5 * u.pA)          # conductance-based targets take nS
    with pytest.raises(UnitError) as e:
        sim.connect(a, a, delay=1.5 * u.mV)
    assert "'delay'" in msg_of(e) and "1.5 mV" in msg_of(e) and "ms" in msg_of(e)
    with pytest.raises(UnitError, match="delay.*ms"):
        sim.connect(a, a, syn_spec={'delay': nx.random.uniform(1. * u.mV, 2. * u.mV)})


def test_not_a_number(sim):
    with pytest.raises(BadParameterError, match=r"iaf_psc_alpha: parameter 'V_th' = 'high' is invalid; "
                                                r"expected a number in mV"):
        sim.create(nx.iaf_psc_alpha, 1, V_th='high')
    with pytest.raises(BadParameterError, match="per node|one value"):
        sim.create(nx.iaf_psc_alpha, 3, V_th=[-50., -51.])


@pytest.mark.parametrize("value", [-5. * u.Hz, -5., nx.random.normal(-100. * u.Hz, 1. * u.Hz)])
def test_negative_rate(sim, value):
    with pytest.raises(BadParameterError) as e:
        sim.create(nx.poisson_generator, 2, rate=value)
    m = msg_of(e)
    assert m.startswith("poisson_generator: parameter 'rate' = -") and ">= 0 Hz" in m
    pg = sim.create(nx.poisson_generator, rate=10.)
    with pytest.raises(BadParameterError, match=r"'rate' = -5.0 Hz.*>= 0 Hz"):
        sim.set(pg, rate=-5. * u.Hz)
    assert float(sim.get(pg, 'rate').to_decimal(u.Hz)) == 10.   # a failed set changes nothing


def test_bad_neuron_parameter_range(sim):
    with pytest.raises(BadParameterError, match=r"iaf_psc_alpha: parameter 'C_m' = -1.0 pF is invalid; "
                                                r"expected a value > 0"):
        sim.create(nx.iaf_psc_alpha, 1, C_m=-1.)


def test_delay_below_resolution(sim):
    a = sim.create(nx.iaf_psc_alpha, 2)
    with pytest.raises(BadParameterError) as e:
        sim.connect(a, a, delay=0.01 * u.ms)
    m = msg_of(e)
    assert "static_synapse" in m and "delay = 0.01 ms" in m and "resolution 0.1 ms" in m
    with pytest.raises(BadParameterError, match="delay"):
        sim.connect(a, a, delay=-1.)


def test_simulator_arguments():
    with pytest.raises(UnitError, match="Simulator: parameter 'dt' = 0.1 mV.*ms"):
        nx.Simulator(dt=0.1 * u.mV)
    with pytest.raises(BadParameterError, match="'dt'.*> 0"):
        nx.Simulator(dt=0.)
    with pytest.raises(BadParameterError, match="'dt'.*0.001 ms"):
        nx.Simulator(dt=0.0001)
    with pytest.raises(BadParameterError, match="'seed'.*integer >= 0"):
        nx.Simulator(seed=-1)
    with pytest.raises(BadParameterError, match="n = 0.*integer >= 1"):
        nx.Simulator().create(nx.iaf_psc_alpha, 0)


def test_simulate_duration(sim):
    sim.create(nx.iaf_psc_alpha, 1)
    with pytest.raises(BadParameterError, match=r"simulate: duration = 10.05 ms is not a multiple of the "
                                                r"resolution 0.1 ms"):
        sim.simulate(10.05 * u.ms)
    with pytest.raises(BadParameterError, match="duration = -1.0 ms.*>= 0"):
        sim.simulate(-1.)
    with pytest.raises(UnitError, match="duration.*ms"):
        sim.simulate(10. * u.mV)
    assert sim.t == 0.


# ---------------------------------------------------------------------------------------------
# recorders
# ---------------------------------------------------------------------------------------------
def test_recording_a_variable_the_model_lacks(sim):
    pop = sim.create(nx.iaf_psc_alpha, 2)
    mm = sim.create(nx.multimeter, record_from=['g_ex'])
    with pytest.raises(BadParameterError) as e:
        sim.connect(mm, pop)
    m = msg_of(e)
    assert "multimeter" in m and "'g_ex'" in m and "iaf_psc_alpha" in m and "V_m" in m
    mm2 = sim.create(nx.multimeter, record_from=['V_n'])
    with pytest.raises(BadParameterError, match="Did you mean 'V_m'"):
        sim.connect(mm2, pop)


def test_recorders_connected_the_wrong_way_round(sim):
    pop = sim.create(nx.iaf_psc_alpha, 2)
    sr = sim.create(nx.spike_recorder)
    mm = sim.create(nx.multimeter, record_from=['V_m'])
    with pytest.raises(ConnectionError_) as e:
        sim.connect(sr, pop)
    assert "spike_recorder" in msg_of(e) and "sim.connect(neurons, spike_recorder)" in msg_of(e)
    with pytest.raises(ConnectionError_) as e:
        sim.connect(pop, mm)
    assert "multimeter" in msg_of(e) and "sim.connect(multimeter, neurons)" in msg_of(e)
    with pytest.raises(ConnectionError_):
        sim.connect(sr, mm)


def test_result_accessors_with_a_non_recorder(sim):
    pop = sim.create(nx.iaf_psc_alpha, 2, I_e=500.)
    sr = sim.create(nx.spike_recorder)
    mm = sim.create(nx.multimeter, record_from=['V_m'])
    sr_unused = sim.create(nx.spike_recorder)
    sim.connect(pop, sr)
    sim.connect(mm, pop)
    res = sim.simulate(5.)
    for f in (res.spikes, res.events, res.n_events, res.rate, res.spike_times, res.senders):
        with pytest.raises(RecorderError, match=r"node 1 \(iaf_psc_alpha\) is not a recorder of this result"):
            f(pop[0])
    with pytest.raises(RecorderError, match="got 2 nodes"):
        res.spikes(pop)
    with pytest.raises(RecorderError, match="multimeter or voltmeter, not a spike_recorder"):
        res.spikes(mm)
    with pytest.raises(RecorderError, match="spike_recorder, not a multimeter"):
        res.trace(sr, 'V_m')
    with pytest.raises(RecorderError, match="spike_recorder, not a multimeter"):
        res.trace_times(sr)
    with pytest.raises(RecorderError, match="not 'V_n'. Did you mean 'V_m'"):
        res.trace(mm, 'V_n')
    with pytest.raises(RecorderError, match="expected a recorder"):
        res.events("sr")
    # a recorder connected to nothing has no events (NEST: n_events 0), it is not an error
    assert res.n_events(sr_unused) == 0 and res.spikes(sr_unused).shape == (50, 0)
    assert isinstance(RecorderError("x"), ValueError)


# ---------------------------------------------------------------------------------------------
# node collections
# ---------------------------------------------------------------------------------------------
def test_node_collections_of_different_simulators(sim):
    a = sim.create(nx.iaf_psc_alpha, 2)
    other = nx.Simulator()
    b = other.create(nx.iaf_psc_alpha, 2)
    with pytest.raises(NodeCollectionError, match="two different Simulators"):
        a + b
    with pytest.raises(TypeError, match="NodeCollection of this Simulator"):
        sim.connect(a, b)
    with pytest.raises(NodeCollectionError, match="share nodes"):
        a + a[0]
    with pytest.raises(TypeError):
        a + 3


def test_index_out_of_range(sim):
    a = sim.create(nx.iaf_psc_alpha, 3)
    with pytest.raises(NodeIndexError, match=r"node index 3 is out of range for a collection of 3 nodes"):
        a[3]
    with pytest.raises(IndexError):
        a[-4]
    assert len(a[5:]) == 0           # slices clip, as Python's


def test_error_classes_are_catchable_by_builtin_kind():
    assert issubclass(UnitError, TypeError) and issubclass(BadParameterError, ValueError)
    assert issubclass(UnknownParameterError, KeyError) and issubclass(NodeIndexError, IndexError)
    for cls in (UnitError, BadParameterError, UnknownParameterError, UnknownModelError, ConnectionError_,
                NodeCollectionError, NodeIndexError, RecorderError):
        assert issubclass(cls, NestaxError)
    # KeyError subclasses print their message, not its repr
    assert str(UnknownParameterError("a 'b'")) == "a 'b'"
    assert re.match("x", str(UnknownModelError("x")))
