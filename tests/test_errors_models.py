"""Bad parameters of iaf_psc_delta / iaf_psc_exp / iaf_psc_alpha / parrot_neuron are rejected with a
message naming the model, the parameter, the offending value and what was expected (NEST's checks:
C_m > 0, tau_m > 0, tau_syn > 0, t_ref >= 0, V_reset < V_th), at create and at set."""
from __future__ import annotations

import re

import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError, NestaxError, UnitError, UnknownParameterError

PSC = ["iaf_psc_delta", "iaf_psc_exp", "iaf_psc_alpha"]
SYN = ["iaf_psc_exp", "iaf_psc_alpha"]

BAD = [
    # (parameter, value, expected-phrase, unit)
    ("C_m", 0.0, "> 0", "pF"),
    ("C_m", -250.0, "> 0", "pF"),
    ("tau_m", 0.0, "> 0", "ms"),
    ("tau_m", -10.0, "> 0", "ms"),
    ("t_ref", -0.1, ">= 0", "ms"),
]


def _check_message(msg, model, name, value, expected):
    assert model in msg, msg
    assert repr(name) in msg or name in msg, msg
    assert re.search(re.escape(str(float(value))), msg), msg
    assert expected in msg, msg


@pytest.mark.parametrize("model", PSC)
@pytest.mark.parametrize("name,value,expected,unit", BAD)
def test_bad_parameter_at_create(model, name, value, expected, unit):
    sim = nx.Simulator()
    with pytest.raises(BadParameterError) as e:
        sim.create(getattr(nx, model), 2, **{name: value})
    _check_message(str(e.value), model, name, value, expected)
    assert unit in str(e.value)
    assert isinstance(e.value, NestaxError) and isinstance(e.value, ValueError)


@pytest.mark.parametrize("model", SYN)
@pytest.mark.parametrize("name", ["tau_syn_ex", "tau_syn_in"])
@pytest.mark.parametrize("value", [0.0, -2.0])
def test_bad_tau_syn(model, name, value):
    sim = nx.Simulator()
    with pytest.raises(BadParameterError) as e:
        sim.create(getattr(nx, model), **{name: value})
    _check_message(str(e.value), model, name, value, "> 0")


@pytest.mark.parametrize("model", PSC)
@pytest.mark.parametrize("v_reset,v_th", [(-55.0, -55.0), (-50.0, -55.0), (-40.0, -41.0)])
def test_v_reset_not_below_threshold(model, v_reset, v_th):
    sim = nx.Simulator()
    with pytest.raises(BadParameterError) as e:
        sim.create(getattr(nx, model), V_reset=v_reset, V_th=v_th)
    msg = str(e.value)
    _check_message(msg, model, "V_reset", v_reset, "V_reset < V_th")
    assert str(v_th) in msg


def test_v_reset_message_names_the_offending_neurons_threshold():
    """With per-neuron arrays the message quotes the V_th of the neuron that fails, not of neuron 0."""
    sim = nx.Simulator()
    with pytest.raises(BadParameterError) as e:
        sim.create(nx.iaf_psc_exp, 3, V_th=[-55.0, -40.0, -45.0], V_reset=[-70.0, -60.0, -44.0])
    assert "-44.0" in str(e.value) and "-45.0" in str(e.value)


@pytest.mark.parametrize("model", PSC)
def test_bad_parameter_at_set_leaves_the_neuron_unchanged(model):
    sim = nx.Simulator()
    n = sim.create(getattr(nx, model), 2, tau_m=12.0)
    with pytest.raises(BadParameterError) as e:
        sim.set(n, tau_m=-1.0)
    _check_message(str(e.value), model, "tau_m", -1.0, "> 0")
    with pytest.raises(BadParameterError):
        sim.set(n[1], V_th=-80.0)  # below V_reset = -70
    with pytest.raises(BadParameterError):
        sim.set(n, C_m=0.0 * u.pF)
    np.testing.assert_array_equal(np.asarray(sim.get(n, "tau_m").to_decimal(u.ms)), [12.0, 12.0])
    np.testing.assert_array_equal(np.asarray(sim.get(n, "V_th").to_decimal(u.mV)), [-55.0, -55.0])
    sim.simulate(1.0)  # still runs


@pytest.mark.parametrize("model", PSC)
@pytest.mark.parametrize("name,value,unit", [("tau_m", 5 * u.mV, "ms"), ("C_m", 250 * u.pA, "pF"),
                                             ("V_th", -55 * u.ms, "mV"), ("I_e", 1 * u.nS, "pA")])
def test_wrong_unit(model, name, value, unit):
    sim = nx.Simulator()
    with pytest.raises(UnitError) as e:
        sim.create(getattr(nx, model), **{name: value})
    msg = str(e.value)
    assert model in msg and name in msg and unit in msg and str(value.mantissa) in msg, msg


@pytest.mark.parametrize("model", PSC)
def test_wrong_unit_of_initial_state(model):
    sim = nx.Simulator()
    with pytest.raises(UnitError) as e:
        sim.create(getattr(nx, model), V_m=-70.0 * u.ms)
    assert model in str(e.value) and "V_m" in str(e.value) and "mV" in str(e.value)


def test_quantities_in_other_units_are_converted():
    sim = nx.Simulator()
    n = sim.create(nx.iaf_psc_alpha, tau_m=0.02 * u.second, C_m=0.5 * u.nF, I_e=0.1 * u.nA, V_th=-0.05 * u.volt)
    assert float(sim.get(n, "tau_m").to_decimal(u.ms)) == pytest.approx(20.0)
    assert float(sim.get(n, "C_m").to_decimal(u.pF)) == pytest.approx(500.0)
    assert float(sim.get(n, "I_e").to_decimal(u.pA)) == pytest.approx(100.0)
    assert float(sim.get(n, "V_th").to_decimal(u.mV)) == pytest.approx(-50.0)


@pytest.mark.parametrize("model,typo,suggestion", [
    ("iaf_psc_delta", "tau_mem", "tau_m"),
    ("iaf_psc_delta", "V_thresh", "V_th"),
    ("iaf_psc_exp", "tau_syn_exc", "tau_syn_ex"),
    ("iaf_psc_exp", "I_E", "I_e"),
    ("iaf_psc_alpha", "C_M", "C_m"),
    ("iaf_psc_alpha", "t_refr", "t_ref"),
    ("iaf_psc_alpha", "Vreset", "V_reset"),
])
def test_unknown_parameter_did_you_mean(model, typo, suggestion):
    sim = nx.Simulator()
    with pytest.raises(UnknownParameterError) as e:
        sim.create(getattr(nx, model), **{typo: 1.0})
    msg = str(e.value)
    assert model in msg and repr(typo) in msg and "Did you mean" in msg and repr(suggestion) in msg, msg
    assert isinstance(e.value, KeyError)
    n = sim.create(getattr(nx, model))
    with pytest.raises(UnknownParameterError, match="Did you mean"):
        sim.set(n, **{typo: 1.0})


def test_delta_has_no_synaptic_time_constant():
    sim = nx.Simulator()
    with pytest.raises(UnknownParameterError) as e:
        sim.create(nx.iaf_psc_delta, tau_syn_ex=2.0)
    assert "iaf_psc_delta" in str(e.value) and "tau_syn_ex" in str(e.value)


def test_parrot_has_no_parameters():
    sim = nx.Simulator()
    with pytest.raises(UnknownParameterError) as e:
        sim.create(nx.parrot_neuron, V_th=-50.0)
    assert "parrot_neuron" in str(e.value) and "V_th" in str(e.value)
    with pytest.raises(UnknownParameterError):
        sim.create("parrot_neuron", tau_m=10.0)


def test_bad_value_types():
    sim = nx.Simulator()
    with pytest.raises(BadParameterError, match="NaN"):
        sim.create(nx.iaf_psc_exp, tau_m=float("nan"))
    with pytest.raises(BadParameterError, match="tau_m"):
        sim.create(nx.iaf_psc_exp, 2, tau_m=[10.0, 20.0, 30.0])  # 3 values for 2 neurons
    with pytest.raises(BadParameterError, match="C_m"):
        sim.create(nx.iaf_psc_alpha, 3, C_m=np.array([250.0, -1.0, 250.0]))


def test_valid_edge_values_are_accepted():
    """NEST accepts t_ref = 0, V_reset just below V_th, tau_syn == tau_m and a V_min (delta, alpha)."""
    sim = nx.Simulator()
    sim.create(nx.iaf_psc_delta, t_ref=0.0, V_reset=-55.0 - 1e-9, V_min=-80.0, refractory_input=True)
    sim.create(nx.iaf_psc_exp, tau_syn_ex=10.0, tau_syn_in=10.0, tau_m=10.0)
    sim.create(nx.iaf_psc_alpha, tau_syn_ex=10.0, V_min=-90.0)
    sim.create(nx.parrot_neuron, 3)
    sim.simulate(1.0)
