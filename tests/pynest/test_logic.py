"""nest.logic.conditional and parameter comparisons against NEST 3.10: deterministic spatial cases
identical, random conditions by their frequencies (binomial, 5 sigma)."""
import numpy as np
import pytest


def _grid_net(nest):
    pop = nest.Create("iaf_psc_alpha", positions=nest.spatial.grid(shape=[5, 4], extent=[2.0, 2.0]),
                      params={"V_m": nest.logic.conditional(nest.spatial.pos.x < 0.0, -60.0, -70.0),
                              "E_L": nest.logic.conditional(nest.spatial.pos.y >= 0.2, -65.0,
                                                            -75.0 + nest.spatial.pos.x)})
    nest.Connect(pop, pop, {"rule": "pairwise_bernoulli", "p": 1.0, "mask": {"circular": {"radius": 0.9}}},
                 {"weight": nest.logic.conditional(nest.spatial.distance <= 0.5, 2.0, 3.0 * nest.spatial.distance),
                  "delay": 1.0 + (nest.spatial.distance > 0.6) * 1.0 + 0.5 * (nest.spatial.distance >= 0.8)})
    c = nest.GetConnections()
    rows = sorted(zip(c.source, c.target, c.weight, c.delay))
    return np.array(pop.V_m), np.array(pop.E_L), np.array(rows, float)


def test_spatial_conditional_nodes_and_connections_equal_nest(both):
    nest, nx_nest = both
    v_ref, el_ref, c_ref = _grid_net(nest)
    v, el, c = _grid_net(nx_nest)
    np.testing.assert_array_equal(v, v_ref)
    assert set(v) == {-60.0, -70.0}
    np.testing.assert_allclose(el, el_ref, rtol=0, atol=1e-12)
    assert c.shape == c_ref.shape and len(c) > 50
    np.testing.assert_array_equal(c[:, :2], c_ref[:, :2])
    np.testing.assert_allclose(c[:, 2:], c_ref[:, 2:], rtol=0, atol=1e-12)
    assert len(set(c[:, 3])) == 3  # the three delay levels occur


def _random_net(nest, n):
    a = nest.Create("iaf_psc_alpha", n, params={"V_m": nest.logic.conditional(nest.random.uniform() < 0.3, -60.0,
                                                                                -70.0)})
    b = nest.Create("iaf_psc_alpha", n, params={"V_m": nest.logic.conditional(
        nest.random.uniform() < 0.3, nest.random.normal(-60.0, 1.0), -70.0)})
    nest.Connect(a, b, "one_to_one", {"weight": nest.logic.conditional(0.7 <= nest.random.uniform(), 5.0, 1.0)})
    return np.array(a.V_m), np.array(b.V_m), np.array(nest.GetConnections().weight)


def test_random_conditional_frequencies_agree_with_nest(both):
    nest, nx_nest = both
    n = 4000
    sd = 5 * np.sqrt(0.3 * 0.7 / n)
    for sim in (nest, nx_nest):
        va, vb, w = _random_net(sim, n)
        assert set(va) == {-60.0, -70.0} and set(w) == {1.0, 5.0}
        assert abs((va == -60.0).mean() - 0.3) < sd
        assert abs((w == 5.0).mean() - 0.3) < sd
        hi = vb[vb != -70.0]
        assert abs(len(hi) / n - 0.3) < sd
        assert abs(hi.mean() + 60.0) < 5 / np.sqrt(len(hi)) and abs(hi.std() - 1.0) < 0.1


def test_comparisons_draw_zero_or_one(both):
    _, nx_nest = both
    p = nx_nest.Create("iaf_psc_alpha", 3000, params={"V_m": nx_nest.random.uniform() > 0.75})
    v = np.array(p.V_m)
    assert set(v) == {0.0, 1.0} and abs(v.mean() - 0.25) < 5 * np.sqrt(0.25 * 0.75 / 3000)


def test_bad_conditions_are_refused(both):
    _, nx_nest = both
    with pytest.raises(ValueError, match="condition"):
        nx_nest.logic.conditional(True, 1.0, 2.0)
    with pytest.raises(ValueError, match="if_true"):
        nx_nest.logic.conditional(nx_nest.random.uniform() < 0.5, "a", 2.0)
    with pytest.raises(ValueError, match="condition"):
        nx_nest.logic.conditional(0.5, nx_nest.spatial.distance, 2.0)
    with pytest.raises(TypeError, match="truth value"):
        bool(nx_nest.spatial.distance < 0.5)
