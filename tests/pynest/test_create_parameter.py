"""nest.CreateParameter for the random and constant parameter types, against NEST 3.10: the same
weight distributions when a Connect draws them (statistics of 20,000 connections), the constant
type as a plain value, and NEST's unknown-type / unknown-key cases refused with the nestax message."""
import numpy as np
import pytest

import nestax.nest as nxn

nest = pytest.importorskip("nest")


def _weights(mod, ptype, specs):
    mod.ResetKernel()
    a = mod.Create("iaf_psc_alpha", 200)
    b = mod.Create("iaf_psc_alpha", 100)
    mod.Connect(a, b, "all_to_all", {"weight": mod.CreateParameter(ptype, specs), "delay": 1.0})
    return np.asarray(mod.GetConnections(a, b).get("weight"), float)


@pytest.mark.parametrize("ptype,specs,moments", [
    ("uniform", {"min": 1.0, "max": 3.0}, (2.0, np.sqrt(4 / 12))),
    ("normal", {"mean": -2.0, "std": 0.5}, (-2.0, 0.5)),
    ("lognormal", {"mean": 0.5, "std": 0.25}, (np.exp(0.5 + 0.25 ** 2 / 2), None)),
    ("exponential", {"beta": 2.0}, (2.0, 2.0)),
    ("uniform_int", {"max": 5}, (2.0, np.sqrt(2.0))),
    ("constant", {"value": 4.5}, (4.5, 0.0)),
])
def test_connect_draws_nests_distribution(ptype, specs, moments):
    wa, wb = _weights(nest, ptype, specs), _weights(nxn, ptype, specs)
    assert wa.shape == wb.shape == (20000,)
    n = len(wa)
    sd = max(wa.std(), 1e-12)
    # means within 5 standard errors of each other and of the analytic mean; same spread within 5 %
    assert abs(wb.mean() - wa.mean()) <= 5 * sd * np.sqrt(2 / n) + 1e-12, (wa.mean(), wb.mean())
    assert abs(wb.mean() - moments[0]) <= 5 * sd / np.sqrt(n) + 1e-12
    assert abs(wb.std() - wa.std()) <= 0.05 * sd + 1e-12
    if moments[1] is not None:
        assert abs(wb.std() - moments[1]) <= 0.05 * moments[1] + 1e-12
    if ptype == "uniform_int":
        assert set(np.unique(wb)) == set(np.unique(wa)) == {0.0, 1.0, 2.0, 3.0, 4.0}


def test_bad_parameter_types_and_keys():
    with pytest.raises(nxn.BadParameterError if hasattr(nxn, "BadParameterError") else Exception,
                       match=r"parameter type 'unifrom' is unknown.*Did you mean.*uniform"):
        nxn.CreateParameter("unifrom", {})
    with pytest.raises(Exception, match=r"key 'sd' is unknown; expected mean, std.*std"):
        nxn.CreateParameter("normal", {"mean": 1.0, "sd": 2.0})
    with pytest.raises(NotImplementedError, match="nest.spatial"):
        nxn.CreateParameter("distance", {})
    for bad in (("foo", {}), ("normal", {"mean": 1.0, "sd": 2.0})):  # NEST refuses both as well
        with pytest.raises(Exception):
            nest.CreateParameter(*bad)
