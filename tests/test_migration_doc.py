"""docs/migration.md's "Differences that remain" table: the refusals it lists are still refusals
(when nestax starts accepting one, the page must move it to the side-by-side table)."""
from __future__ import annotations

import jax
import pytest

jax.config.update("jax_enable_x64", True)
import brainunit as u  # noqa: E402

import nestax as nx  # noqa: E402


@pytest.fixture
def sim():
    return nx.Simulator(dt=0.1 * u.ms, seed=1)


def test_refused_spellings_raise_and_name_the_nestax_spelling(sim):
    a = sim.create(nx.iaf_psc_alpha, 3)
    with pytest.raises(nx.BadParameterError, match=r"nx\.Simulator\(seed=\.\.\.\)"):
        sim.connect(a, a, seed=3)
    with pytest.raises(nx.BadParameterError, match="no seed of its own"):
        sim.create(nx.noise_generator, 1, seed=4)
    with pytest.raises(nx.BadParameterError, match="no seed of its own"):
        sim.create(nx.sinusoidal_poisson_generator, 1, rng_seed=123)
    with pytest.raises(nx.BadParameterError, match="rng_seed"):
        sim.create(nx.poisson_generator, 1, rng_key=jax.random.PRNGKey(0))
    with pytest.raises(nx.BadParameterError, match="comm"):
        sim.connect(a, a, comm="csr")
    with pytest.raises(nx.BadParameterError, match="spk_reset"):
        sim.create(nx.iaf_psc_alpha, 1, spk_reset="soft")
    with pytest.raises(nx.BadParameterError, match="explicit_edges"):
        sim.connect(a, a, rule="explicit_edges")
    with pytest.raises(nx.ReadOnlyError, match="I_syn_ex"):
        sim.create(nx.iaf_psc_exp, 1, I_ex_initializer=1. * u.pA)
    assert not hasattr(nx.dist, "Exponential") and not hasattr(nx.random, "Normal")
    assert not hasattr(sim, "record_weight")


def test_accepted_spellings_mean_the_nestax_spelling(sim):
    pg = sim.create(nx.poisson_generator, 1, rate=10. * u.Hz, seed=5)
    assert int(sim.get(pg, "rng_seed")) == 5
    ng = sim.create(nx.noise_generator, 1, noise_dt=0.5 * u.ms)
    assert float(sim.get(ng, "dt").to_decimal(u.ms)) == 0.5
    a = sim.create(nx.iaf_psc_alpha, 3, V_initializer=-60. * u.mV)
    assert a.size == 3 and (a + pg).segments[0].population == a
    sim.connect(pg, a, weight=[7.] * u.pA, comm="sparse", seed=None)
    w = sim.get_connections(source=pg, target=a).get("weight").to_decimal(u.pA)
    assert list(w) == [7., 7., 7.]
