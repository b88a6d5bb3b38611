"""Fixtures shared by the PyNEST-module tests."""
import pytest


@pytest.fixture
def both():
    """NEST and nestax.nest, each with a fresh kernel (nestax's reset again afterwards)."""
    import nestax.nest as nx_nest
    from tests.parity.nest_helpers import import_nest
    nest = import_nest()
    nest.ResetKernel()
    nx_nest.ResetKernel()
    yield nest, nx_nest
    nx_nest.ResetKernel()
