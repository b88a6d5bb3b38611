"""Units across the whole model catalog, generated from the parameter tables.

For every registered model and every float parameter: giving the default as a brainunit quantity of the
parameter's documented NEST unit, or the same value in another unit of the same dimension (seconds for
ms, volts for mV, ...), stores the same number as the bare default (read back with
``sim.get(pop, name, unit=False)``, or from the connection record for synapses); a quantity of a wrong
dimension is refused with UnitError naming the model, the parameter and the expected unit. Neurons and
devices are created with ``sim.create``; synapse parameters go through ``sim.connect``.

Plus explicit regressions for parameters whose unit used to be missing from nestax's closed unit table
(amat2_psc_exp beta in 1/ms, iaf_psc_exp rho in 1/s, pp_psc_delta c_1 / c_3 in Hz/mV and 1/mV, the
glif threshold parameters in mV and 1/ms).
"""
from __future__ import annotations

import math
import re

import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import UnitError
from nestax.models.registry import _MODELS
from nestax.units import DIMENSIONLESS, MARKERS, UNITS, parse, to_nest, with_unit

# another unit of the same dimension for each unit symbol NEST uses: a quantity in it must be converted
ALT_SYMBOL = {"ms": "second", "s": "ms", "mV": "volt", "pA": "nA", "nA": "pA", "pF": "nF", "nS": "uS",
              "Hz": "kHz", "mM": "uM"}
WRONG = u.meter  # no NEST parameter is a length


def alt_unit(unit: str) -> str:
    """``unit`` with every symbol replaced by another of the same dimension ("1/ms" -> "1/second")."""
    return re.sub(r"[A-Za-z]+", lambda m: ALT_SYMBOL.get(m.group(), m.group()), unit)


def skip_reason(spec) -> str | None:
    """Why a parameter is not part of the catalog test (None: it is)."""
    if spec.kind == "bool":
        return "bool parameter: a flag, no unit"
    if spec.kind == "int":
        return "int parameter: a count, seed or receptor port, no unit"
    if spec.kind == "str":
        return "str parameter: a label, no unit"
    if spec.kind == "list":
        return "list parameter: names (record_from), no unit"
    if spec.kind == "array":
        return "array parameter: per-element lists (covered by the explicit glif test below)"
    if not isinstance(spec.default, (int, float)) or isinstance(spec.default, bool):
        return f"default {spec.default!r} is not a number"
    if not math.isfinite(spec.default):
        return f"default {spec.default} is not finite: an infinite or NaN quantity carries no checkable value"
    return None


# synapse models: the pre and post neurons a connection needs (rate connections join rate neurons)
SYN_ENDS = {"rate_connection_delayed": "lin_rate_ipn", "rate_connection_instantaneous": "lin_rate_ipn",
            "sic_connection": ("astrocyte_lr_1994", "aeif_cond_alpha_astro"),
            "clopath_synapse": "aeif_psc_delta_clopath", "diffusion_connection": "siegert_neuron",
            "stdp_dopamine_synapse": "iaf_psc_alpha", "gap_junction": "hh_psc_alpha_gap",
            "urbanczik_synapse": ("parrot_neuron", "pp_cond_exp_mc_urbanczik"),   # (pre, post) where they differ
            "eprop_synapse": "eprop_iaf", "eprop_learning_signal_connection": ("eprop_readout", "eprop_iaf"),
            "eprop_synapse_bsshslm_2020": "eprop_iaf_bsshslm_2020",
            "eprop_learning_signal_connection_bsshslm_2020": ("eprop_readout_bsshslm_2020", "eprop_iaf_bsshslm_2020")}
SYN_DT = {"eprop_synapse": 1.0, "eprop_synapse_bsshslm_2020": 1.0}  # resolution (ms) of the test's simulator where 0.1 does not fit (one-step delay)
SYN_DEFAULT_END = "iaf_psc_alpha"


def _base(name):
    """The model a NEST _hpc / _lbl variant is of (it connects the same ends)."""
    return name[:-4] if name.endswith(("_hpc", "_lbl")) else name
SYN_KW = {"urbanczik_synapse": {"receptor_type": 3}}   # the dendrite's excitatory receptor


def _unit_of(cls, name):
    """The unit a value of ``cls.name`` is given in (a synapse's weight: its target model's)."""
    unit = cls.parameters[name].unit
    if cls.kind == "synapse" and (name == "weight" or unit == "weight") and unit in ("1", "weight"):
        if cls.rate_kind:  # rate connections' weights are plain factors
            return "1"
        ends = SYN_ENDS.get(_base(cls.name), SYN_DEFAULT_END)
        return getattr(_MODELS[ends if isinstance(ends, str) else ends[1]], "weight_unit", "pA")
    return unit


def _cases():
    out = []
    for mname in sorted(_MODELS):
        cls = _MODELS[mname]
        for pname, spec in cls.parameters.items():
            reason = skip_reason(spec)
            marks = [pytest.mark.skip(reason=reason)] if reason else []
            out.append(pytest.param(mname, pname, id=f"{mname}.{pname}", marks=marks))
    return out


CASES = _cases()


def _stored(mname, pname, value):
    """Create (or connect) ``mname`` with ``pname=value``; return the stored plain number(s)."""
    cls = _MODELS[mname]
    sim = nx.Simulator(dt=SYN_DT.get(_base(mname), 0.1) * u.ms)
    if cls.kind != "synapse":
        pop = sim.create(cls, 2, **{pname: value})
        return np.asarray(sim.get(pop, pname, unit=False), float)
    ends = SYN_ENDS.get(_base(mname), SYN_DEFAULT_END)
    pre, post = (ends, ends) if isinstance(ends, str) else ends
    a, b = sim.create(_MODELS[pre], 2), sim.create(_MODELS[post], 2)
    if cls.gap:  # NEST: gap junctions all_to_all only within one population
        b = a
    if cls.uses_modulator:  # stdp_dopamine_synapse reads a volume_transmitter
        sim.set_defaults(mname, volume_transmitter=sim.create(nx.volume_transmitter))
    sim.connect(a, b, synapse_model=mname, **{**SYN_KW.get(_base(mname), {}), pname: value})
    c = sim.connections(a, b)
    if pname == "weight":
        return np.asarray(c.weights, float)
    if pname == "delay":
        return np.asarray(u.get_mantissa(c.delays.in_unit(u.ms)) if isinstance(c.delays, u.Quantity)
                          else c.delays, float)
    # further synapse parameters (stdp: tau_plus, Wmax, ...) are not in sim.connections' record: read the
    # connect call's record (Simulator internals: sim._net.conns, formerly sim._conns)
    net = getattr(sim, "_net", None)
    record = (net.conns if net is not None else sim._conns)[-1]
    return np.broadcast_to(np.asarray(record.params[pname], float), (len(c),))


def _quantity(value, unit):
    target = parse(unit)
    return u.Quantity(value) if target is None else value * target


@pytest.mark.parametrize("mname,pname", CASES)
def test_default_as_quantity_of_documented_unit(mname, pname):
    cls = _MODELS[mname]
    d = float(cls.parameters[pname].default)
    unit = _unit_of(cls, pname)
    bare = _stored(mname, pname, d)
    q = _stored(mname, pname, _quantity(d, unit))
    assert np.array_equal(q, bare), (mname, pname, unit, q, bare)


@pytest.mark.parametrize("mname,pname", CASES)
def test_default_in_another_compatible_unit(mname, pname):
    cls = _MODELS[mname]
    unit = _unit_of(cls, pname)
    if parse(unit) is None:
        pytest.skip(f"{unit!r} is dimensionless: brainunit has no other unit of dimension 1 (mV/V is a float)")
    d = float(cls.parameters[pname].default)
    other = u.parse_unit(alt_unit(unit))
    assert other.dim == parse(unit).dim and alt_unit(unit) != unit
    q = _quantity(d, unit).in_unit(other)  # e.g. 10 ms given as 0.01 second
    assert u.get_unit(q) == other
    got = _stored(mname, pname, q)
    assert np.allclose(got, _stored(mname, pname, d), rtol=1e-12, atol=0.0), (mname, pname, unit, q, got)


@pytest.mark.parametrize("mname,pname", CASES)
def test_wrong_dimension_is_refused(mname, pname):
    cls = _MODELS[mname]
    d = float(cls.parameters[pname].default)
    unit = _unit_of(cls, pname)
    bad = d * (u.mV if parse(unit) is None else WRONG)
    with pytest.raises(UnitError) as e:
        _stored(mname, pname, bad)
    msg = str(e.value)
    assert mname in msg and repr(pname) in msg, msg
    assert ("dimensionless" in msg) if parse(unit) is None else (unit in msg), msg


def _state_cases():
    out = []
    for mname in sorted(_MODELS):
        cls = _MODELS[mname]
        if cls.kind != "neuron":
            continue
        settable = set(cls.settable())
        for sname, st in cls.state.items():
            init = cls.parameters[st.init].default if isinstance(st.init, str) else st.init
            reason = None
            if sname not in settable:
                reason = "not settable by users (NEST: read-only or internal; tests/test_input_checks.py)"
            elif isinstance(init, (bool, int, np.integer)):
                reason = "integer state: a step counter, no unit"
            marks = [pytest.mark.skip(reason=reason)] if reason else []
            out.append(pytest.param(mname, sname, id=f"{mname}.{sname}", marks=marks))
    return out


@pytest.mark.parametrize("mname,sname", _state_cases())
def test_state_initial_value_as_quantity(mname, sname):
    """A state variable given at create (V_m=-65. * u.mV) takes the same units as the tables say."""
    cls = _MODELS[mname]
    st = cls.state[sname]
    init = float(cls.parameters[st.init].default if isinstance(st.init, str) else st.init)
    sim = nx.Simulator()
    bare = sim.create(cls, 2, **{sname: init})
    q = sim.create(cls, 2, **{sname: _quantity(init, st.unit)})
    assert np.array_equal(np.asarray(sim.get(q, sname, unit=False), float),
                          np.asarray(sim.get(bare, sname, unit=False), float))
    with pytest.raises(UnitError, match=rf"{mname}.*'{sname}'"):
        sim.create(cls, 2, **{sname: init * (u.mV if parse(st.unit) is None else WRONG)})


def test_every_unit_string_parses():
    """Every unit string of the catalog is a marker, dimensionless or a unit brainunit parses."""
    seen = set()
    for cls in _MODELS.values():
        for spec in list(cls.parameters.values()) + list(cls.state.values()):
            seen.add(spec.unit)
    for unit in sorted(seen):
        if unit in MARKERS:
            continue
        target = parse(unit)
        assert (target is None) == (unit in DIMENSIONLESS), unit


# ---------------------------------------------------------------- regressions: compound units


def _get(sim, pop, name):
    return np.asarray(sim.get(pop, name, unit=False), float)


def test_amat2_beta_per_ms():
    sim = nx.Simulator()
    a = sim.create(nx.amat2_psc_exp, 1, beta=0.2 / u.ms)
    b = sim.create(nx.amat2_psc_exp, 1, beta=200. / u.second)
    c = sim.create(nx.amat2_psc_exp, 1, beta=0.2)
    assert _get(sim, a, "beta") == pytest.approx(0.2, rel=1e-15)
    assert _get(sim, b, "beta") == pytest.approx(0.2, rel=1e-12)
    assert _get(sim, c, "beta") == 0.2
    assert u.get_mantissa(sim.get(a, "beta").in_unit(u.parse_unit("1/ms"))) == pytest.approx(0.2)
    with pytest.raises(UnitError, match=r"amat2_psc_exp.*'beta'.*1/ms"):
        sim.create(nx.amat2_psc_exp, 1, beta=0.2 * u.mV)


def test_iaf_psc_exp_rho_per_second():
    sim = nx.Simulator()
    a = sim.create(nx.iaf_psc_exp, 1, rho=10. / u.second)
    b = sim.create(nx.iaf_psc_exp, 1, rho=0.01 / u.ms)
    c = sim.create(nx.iaf_psc_exp, 1, rho=10. * u.Hz)
    for p in (a, b, c):
        assert _get(sim, p, "rho") == pytest.approx(10.0, rel=1e-12)
    with pytest.raises(UnitError, match=r"iaf_psc_exp.*'rho'.*1/s"):
        sim.create(nx.iaf_psc_exp, 1, rho=10. * u.ms)


def test_pp_psc_delta_c1_c3():
    """NEST 3.10 pp_psc_delta: c_1 in Hz/mV, c_2 in Hz, c_3 in 1/mV."""
    assert nx.pp_psc_delta.parameters["c_1"].unit == "Hz/mV"
    assert nx.pp_psc_delta.parameters["c_2"].unit == "Hz"
    assert nx.pp_psc_delta.parameters["c_3"].unit == "1/mV"
    sim = nx.Simulator()
    a = sim.create(nx.pp_psc_delta, 1, c_1=0.5 * u.Hz / u.mV, c_2=2. * u.Hz, c_3=0.25 / u.mV)
    b = sim.create(nx.pp_psc_delta, 1, c_1=500. * u.Hz / u.volt, c_2=0.002 * u.kHz, c_3=250. / u.volt)
    for p in (a, b):
        assert _get(sim, p, "c_1") == pytest.approx(0.5, rel=1e-12)
        assert _get(sim, p, "c_2") == pytest.approx(2.0, rel=1e-12)
        assert _get(sim, p, "c_3") == pytest.approx(0.25, rel=1e-12)
    with pytest.raises(UnitError, match=r"pp_psc_delta.*'c_1'.*Hz/mV"):
        sim.create(nx.pp_psc_delta, 1, c_1=0.5 * u.Hz)
    with pytest.raises(UnitError, match=r"pp_psc_delta.*'c_3'.*1/mV"):
        sim.create(nx.pp_psc_delta, 1, c_3=0.25 * u.mV)


GLIF_UNITS = {  # NEST 3.10 glif_psc / glif_cond / glif_psc_double_alpha documentation
    "th_spike_add": "mV", "th_spike_decay": "1/ms", "voltage_reset_fraction": "1", "voltage_reset_add": "mV",
    "th_voltage_index": "1/ms", "th_voltage_decay": "1/ms", "asc_init": "pA", "asc_decay": "1/ms",
    "asc_amps": "pA", "asc_r": "1",
}


@pytest.mark.parametrize("model", ["glif_psc", "glif_cond", "glif_psc_double_alpha"])
def test_glif_threshold_parameters(model):
    cls = getattr(nx, model)
    for name, unit in GLIF_UNITS.items():
        assert cls.parameters[name].unit == unit, (model, name)
    given = dict(th_spike_add=0.03 * u.mV, th_spike_decay=2. / u.second, voltage_reset_fraction=0.3,
                 voltage_reset_add=0.02 * u.volt, th_voltage_index=0.005 / u.ms, th_voltage_decay=90. * u.Hz,
                 asc_decay=[0.003, 0.1] / u.ms, asc_amps=[-0.009, -0.00018] * u.nA)
    want = dict(th_spike_add=0.03, th_spike_decay=0.002, voltage_reset_fraction=0.3, voltage_reset_add=20.,
                th_voltage_index=0.005, th_voltage_decay=0.09, asc_decay=[0.003, 0.1], asc_amps=[-9., -0.18])
    sim = nx.Simulator()
    pop = sim.create(cls, 1, spike_dependent_threshold=True, after_spike_currents=True, adapting_threshold=True,
                     asc_init=[0., 0.], asc_r=[1., 1.], **given)
    for name, w in want.items():
        got = np.asarray(sim.get(pop, name, unit=False), float).reshape(-1)
        assert np.allclose(got, w, rtol=1e-12, atol=0.0), (model, name, got, w)
    for name in ("th_spike_decay", "th_voltage_index", "th_voltage_decay"):
        with pytest.raises(UnitError, match=rf"{model}.*'{name}'.*1/ms"):
            sim.create(cls, 1, **{name: 0.1 * u.ms})
    with pytest.raises(UnitError, match=rf"{model}.*'th_spike_add'.*mV"):
        sim.create(cls, 1, th_spike_add=0.1 / u.ms)


# ---------------------------------------------------------------- the boundary functions themselves


@pytest.mark.parametrize("unit,q,want", [
    ("1/ms", 0.2 / u.ms, 0.2), ("1/ms", 200. * u.Hz, 0.2), ("1/s", 0.01 / u.ms, 10.), ("pA/ms", 2. * u.nA / u.second, 2.),
    ("Hz/mV", 1. * u.kHz / u.volt, 1.), ("nS*mV", 3. * u.pA, 3.), ("mV/ms", 1. * u.volt / u.second, 1.),
    ("pA*ms", 1. * u.nA * u.second, 1e6), ("nS/ms", 1. * u.uS / u.ms, 1e3), ("1/mV", 1. / u.volt, 1e-3),
    ("ms", 1. * u.second, 1e3), ("1", u.Quantity(0.5), 0.5), ("deg", u.Quantity(90.), 90.),
])
def test_to_nest_parses_any_unit(unit, q, want):
    assert float(to_nest(q, unit, "m", "p")) == pytest.approx(want, rel=1e-12)
    assert to_nest(0.7, unit, "m", "p") == 0.7  # bare numbers pass through


def test_to_nest_errors_and_markers():
    with pytest.raises(UnitError, match=r"m: parameter 'p' = .* has the wrong unit; expected a quantity "
                                         r"convertible to Hz/mV \(or a bare number in Hz/mV\)"):
        to_nest(1. * u.Hz, "Hz/mV", "m", "p")
    with pytest.raises(UnitError, match=r"m: parameter 'p' = .* must be dimensionless"):
        to_nest(1. * u.mV, "1", "m", "p")
    with pytest.raises(UnitError, match=r"stdp_synapse: parameter 'Wmax'"):
        to_nest(1. * u.pA, "weight", "stdp_synapse", "Wmax")
    assert to_nest(5., "weight", "stdp_synapse", "Wmax") == 5.
    assert float(to_nest(5. * u.pA, "any", "parrot_neuron", "weight")) == 5.
    with pytest.raises(UnitError, match="cannot interpret"):
        to_nest(1. * u.mV, "no_such_unit", "m", "p")
    parse.cache_clear()
    for _ in range(3):
        to_nest(1. / u.ms, "1/ms")
    assert parse.cache_info().hits >= 2  # each unit string is parsed once


def test_with_unit_and_table():
    assert u.get_mantissa(with_unit(0.2, "1/ms").in_unit(u.Hz)) == pytest.approx(200.)
    assert with_unit(np.array([1., 2.]), "Hz/mV").shape == (2,)
    assert with_unit(0.3, "1") == 0.3 and with_unit(0.3, "deg") == 0.3 and with_unit(0.3, "weight") == 0.3
    assert UNITS.get("pA") == u.pA and UNITS.get("1") is None and UNITS.get("weight") is None
    assert UNITS.get("nS/ms").dim == (u.nS / u.ms).dim and "Hz/mV" in UNITS
