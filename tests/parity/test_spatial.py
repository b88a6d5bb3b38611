"""NEST's spatial layer against NEST 3.10: positions, masks, spatial parameters, connection rules.

Every network is built twice by the same function, once with NEST and once with ``nestax.nest``
(PyNEST's interface over nestax.Simulator), so both read the same script.

- positions: grid (2-D, 3-D, default and given extent / center) and free (from lists) identical to
  the last bit, and the ``spatial`` dicts (center, extent, shape, edge_wrap) equal;
- deterministic connections (p = 1; fixed degrees equal to the number of candidates without
  multapses): identical sets of (source, target) pairs for every mask type, anchors, rotations,
  use_on_source, periodic and not, 2-D and 3-D, different source and target layers;
- distance-dependent weights and delays: equal per connection (weights to 1e-12 relative, delays exact);
- random connections: counts per distance bin within 5 sigma of the exact expectation (computed here
  from the positions), for NEST and nestax alike, for pairwise_bernoulli with a gaussian kernel,
  fixed_indegree with a mask (uniform and exponential-weighted) and fixed_outdegree;
- GetPosition, Displacement, Distance, FindNearestElement, FindCenterElement equal.
"""
import numpy as np
import pytest

import nestax.nest as nxnest

from .nest_helpers import import_nest


def _modules():
    nest = import_nest()
    return nest, nxnest


def _conns(nest, src, tgt):
    c = nest.GetConnections(src, tgt)
    if len(c) == 0:
        return np.zeros((0, 4))
    s0, t0 = min(src.tolist()), min(tgt.tolist())
    cols = [np.atleast_1d(np.asarray(c.get(k), float)) for k in ("source", "target", "weight", "delay")]
    cols[0] -= s0
    cols[1] -= t0
    a = np.stack(cols, axis=1)
    return a[np.lexsort((a[:, 1], a[:, 0]))]


def _both(build):
    """Run ``build(nest)`` with NEST and with nestax.nest; returns the two results."""
    nest, nx_ = _modules()
    out = []
    for m in (nest, nx_):
        m.ResetKernel()
        out.append(build(m))
    return out


RNG = np.random.default_rng(12345)
FREE2 = (RNG.uniform(-0.5, 0.5, (30, 2))).round(6).tolist()
FREE3 = (RNG.uniform(-0.5, 0.5, (27, 3))).round(6).tolist()


def _grid(nest, shape, **kw):
    return nest.Create("iaf_psc_alpha", positions=nest.spatial.grid(shape=shape, **kw))


def _free(nest, pos, **kw):
    return nest.Create("iaf_psc_alpha", positions=nest.spatial.free(pos, **kw))


# ---------------------------------------------------------------------------------------------- positions
@pytest.mark.parametrize("make", [
    lambda n: _grid(n, [5, 4]),
    lambda n: _grid(n, [3, 7], extent=[2.0, 1.5], center=[0.3, -1.1]),
    lambda n: _grid(n, [3, 2, 4]),
    lambda n: _grid(n, [2, 3, 4], extent=[1.0, 2.0, 3.0], center=[1.0, 0.5, -0.25], edge_wrap=True),
    lambda n: _free(n, FREE2),
    lambda n: _free(n, FREE2, extent=[1.5, 2.0], edge_wrap=True),
    lambda n: _free(n, FREE3),
], ids=["grid2d", "grid2d-ext-center", "grid3d", "grid3d-wrap", "free2d", "free2d-ext-wrap", "free3d"])
def test_positions_identical(make):
    ref, got = _both(lambda n: (np.asarray(n.GetPosition(make(n)), float), make(n).spatial, make(n)[2:5].spatial))
    assert ref[2]["network_size"] == got[2]["network_size"] == 3  # a slice reports its own size
    assert np.array_equal(ref[0], got[0])  # bit for bit
    for k in ("center", "extent", "shape", "edge_wrap", "network_size"):
        assert (k in ref[1]) == (k in got[1]), k
        if k in ref[1]:
            assert np.array_equal(np.asarray(ref[1][k]), np.asarray(got[1][k])), k


# ---------------------------------------------------------------------------------------------- deterministic
MASKS_2D = {
    "circular": {"circular": {"radius": 0.25}},
    "rect-asym": {"rectangular": {"lower_left": [-0.2, -0.3], "upper_right": [0.3, 0.1]}},
    "rect-rot": {"rectangular": {"lower_left": [-0.15, -0.35], "upper_right": [0.4, 0.1], "azimuth_angle": 30.0}},
    "doughnut": {"doughnut": {"inner_radius": 0.15, "outer_radius": 0.42}},
    "elliptical": {"elliptical": {"major_axis": 0.7, "minor_axis": 0.3, "azimuth_angle": 45.0, "anchor": [0.1, 0.0]}},
    "anchored": {"circular": {"radius": 0.3}, "anchor": [0.2, -0.1]},
}
MASKS_3D = {
    "box": {"box": {"lower_left": [-0.4, -0.3, -0.2], "upper_right": [0.2, 0.4, 0.1]}},
    "box-rot": {"box": {"lower_left": [-0.4, -0.3, -0.2], "upper_right": [0.2, 0.4, 0.1], "azimuth_angle": 20.0,
                        "polar_angle": 35.0}},
    "spherical": {"spherical": {"radius": 0.45}},
    "ellipsoidal": {"ellipsoidal": {"major_axis": 0.8, "minor_axis": 0.5, "polar_axis": 0.4, "azimuth_angle": 30.0,
                                    "polar_angle": 60.0}},
}


def _det_pairs(layers, mask, use_on_source=None, autapses=True, rule="pairwise_bernoulli"):
    def build(nest):
        src, tgt = layers(nest)
        spec = {"rule": rule, "p": 1.0, "mask": mask, "allow_autapses": autapses}
        if use_on_source is not None:
            spec["use_on_source"] = use_on_source
        nest.Connect(src, tgt, spec)
        return _conns(nest, src, tgt)
    return _both(build)


@pytest.mark.parametrize("wrap", [False, True], ids=["open", "periodic"])
@pytest.mark.parametrize("use_on_source", [None, True])
@pytest.mark.parametrize("mname", list(MASKS_2D))
def test_masks_2d_same_layer(mname, use_on_source, wrap):
    ref, got = _det_pairs(lambda n: (_grid(n, [7, 6], edge_wrap=wrap),) * 2, MASKS_2D[mname], use_on_source)
    assert len(ref) > 0
    assert np.array_equal(ref[:, :2], got[:, :2])


@pytest.mark.parametrize("wrap", [False, True], ids=["open", "periodic"])
@pytest.mark.parametrize("use_on_source", [False, True])
@pytest.mark.parametrize("mname", ["rect-asym", "elliptical", "anchored", "doughnut"])
def test_masks_2d_two_layers(mname, use_on_source, wrap):
    """Free source layer onto a shifted, stretched grid: which layer the mask and periodicity belong to."""
    def layers(n):
        return (_free(n, FREE2, extent=[1.2, 1.2], edge_wrap=wrap),
                _grid(n, [4, 6], extent=[1.0, 1.5], center=[0.1, -0.1], edge_wrap=wrap))
    ref, got = _det_pairs(layers, MASKS_2D[mname], use_on_source, autapses=True)
    assert len(ref) > 0
    assert np.array_equal(ref[:, :2], got[:, :2])


@pytest.mark.parametrize("wrap", [False, True], ids=["open", "periodic"])
@pytest.mark.parametrize("mname", list(MASKS_3D))
def test_masks_3d(mname, wrap):
    ref, got = _det_pairs(lambda n: (_grid(n, [4, 3, 5], edge_wrap=wrap), _free(n, FREE3, extent=[1.2, 1.2, 1.2],
                                                                              edge_wrap=wrap)), MASKS_3D[mname])
    assert len(ref) > 0
    assert np.array_equal(ref[:, :2], got[:, :2])


def test_no_autapses_and_no_mask():
    ref, got = _det_pairs(lambda n: (_grid(n, [4, 4]),) * 2, MASKS_2D["circular"], autapses=False)
    assert np.array_equal(ref[:, :2], got[:, :2]) and not np.any(ref[:, 0] == ref[:, 1])

    def build(nest):  # p = 1 through a spatial expression, no mask: all pairs
        s, t = _grid(nest, [3, 3]), _grid(nest, [2, 2])
        nest.Connect(s, t, {"rule": "pairwise_bernoulli", "p": nest.math.min(2.0 + nest.spatial.distance, 1.0)})
        return _conns(nest, s, t)
    ref, got = _both(build)
    assert len(ref) == 36 and np.array_equal(ref[:, :2], got[:, :2])


@pytest.mark.parametrize("rule,key", [("fixed_indegree", "indegree"), ("fixed_outdegree", "outdegree")])
@pytest.mark.parametrize("dim", [2, 3])
def test_fixed_degree_all_candidates(rule, key, dim):
    """On a periodic grid every node has the same number of candidates in the mask; drawing that many
    without multapses takes all of them: the set is deterministic."""
    def build(nest):
        shape = [5, 5] if dim == 2 else [4, 4, 4]
        lay = _grid(nest, shape, edge_wrap=True)
        mask = {"circular": {"radius": 0.25}} if dim == 2 else {"spherical": {"radius": 0.3}}
        k = 5 if dim == 2 else 7
        nest.Connect(lay, lay, {"rule": rule, key: k, "mask": mask, "allow_multapses": False},
                     {"weight": 2.0 - nest.spatial.distance, "delay": 1.0 + 4.0 * nest.spatial.distance})
        return _conns(nest, lay, lay)
    ref, got = _both(build)
    assert len(ref) == (25 * 5 if dim == 2 else 64 * 7)
    assert np.array_equal(ref[:, :2], got[:, :2])
    np.testing.assert_allclose(got[:, 2], ref[:, 2], rtol=1e-12, atol=0)
    assert np.array_equal(ref[:, 3], got[:, 3])


WEIGHTS = {
    "linear": lambda n: 1.0 + 2.0 * n.spatial.distance,
    "gaussian": lambda n: 3.0 * n.spatial_distributions.gaussian(n.spatial.distance, mean=0.1, std=0.2),
    "exponential": lambda n: n.spatial_distributions.exponential(n.spatial.distance, beta=0.3),
    "gaussian2D": lambda n: n.spatial_distributions.gaussian2D(n.spatial.distance.x, n.spatial.distance.y,
                                                               std_x=0.3, std_y=0.2, rho=0.4),
    "gamma": lambda n: n.spatial_distributions.gamma(n.spatial.distance, kappa=2.5, theta=0.2),
    "math": lambda n: n.math.exp(-n.spatial.distance * 2.0) + n.math.max(n.spatial.distance.y, 0.1) /
    (1.0 + n.spatial.distance.x),
    "positions": lambda n: 1.0 + n.spatial.target_pos.x - 0.5 * n.spatial.source_pos.y,
}


@pytest.mark.parametrize("wrap", [False, True], ids=["open", "periodic"])
@pytest.mark.parametrize("wname", list(WEIGHTS))
def test_distance_dependent_weights_delays(wname, wrap):
    def build(nest):
        s = _free(nest, FREE2, extent=[1.2, 1.2], edge_wrap=wrap)
        t = _grid(nest, [6, 5], extent=[1.2, 1.2], edge_wrap=wrap)
        nest.Connect(s, t, {"rule": "pairwise_bernoulli", "p": 1.0, "mask": {"circular": {"radius": 0.4}}},
                     {"weight": WEIGHTS[wname](nest), "delay": 0.5 + 3.0 * nest.spatial.distance})
        return _conns(nest, s, t)
    ref, got = _both(build)
    assert len(ref) > 50
    assert np.array_equal(ref[:, :2], got[:, :2])
    np.testing.assert_allclose(got[:, 2], ref[:, 2], rtol=1e-12, atol=1e-300)
    assert np.array_equal(ref[:, 3], got[:, 3])


# ---------------------------------------------------------------------------------------------- random
def _min_image(d, ext, wrap):
    if wrap:
        t = np.trunc(d / ext)
        d = d - ext * (t + np.where(np.abs(d / ext - t) >= 0.5, np.sign(d), 0.0))
    return d


def _bins_check(ref, got, dists_of, expect, var, edges):
    """Counts per distance bin of NEST (ref) and nestax (got) each within 5 sigma of the expectation."""
    for conns, who in ((ref, "NEST"), (got, "nestax")):
        c = np.histogram(dists_of(conns), edges)[0]
        z = (c - expect) / np.sqrt(np.maximum(var, 1e-12))
        assert np.all(np.abs(z) < 5), (who, c, expect, z)


def _pair_dists(pos_s, pos_t, ext, wrap):
    d = _min_image(pos_t[None, :, :] - pos_s[:, None, :], ext, wrap)
    return np.sqrt((d ** 2).sum(-1))  # (n_src, n_tgt)


@pytest.mark.parametrize("use_on_source", [False, True])
def test_pairwise_bernoulli_gaussian_kernel_statistics(use_on_source):
    shape, ext, r, std = [20, 20], 1.0, 0.45, 0.2

    def build(nest):
        lay = _grid(nest, shape, edge_wrap=True)
        nest.Connect(lay, lay, {"rule": "pairwise_bernoulli", "use_on_source": use_on_source,
                                "p": nest.spatial_distributions.gaussian(nest.spatial.distance, std=std),
                                "mask": {"circular": {"radius": r}}})
        return _conns(nest, lay, lay), np.asarray(nest.GetPosition(lay))
    (ref, pos), (got, _) = _both(build)
    D = _pair_dists(pos, pos, ext, True)
    inside = D <= r
    p = np.exp(-D ** 2 / (2 * std ** 2)) * inside
    edges = np.linspace(0, r + 1e-9, 10)
    b = np.digitize(D, edges) - 1
    expect = np.array([p[(b == i) & inside].sum() for i in range(len(edges) - 1)])
    var = np.array([(p * (1 - p))[(b == i) & inside].sum() for i in range(len(edges) - 1)])
    _bins_check(ref, got, lambda c: D[c[:, 0].astype(int), c[:, 1].astype(int)], expect, var, edges)
    assert abs(len(got) - p.sum()) < 5 * np.sqrt((p * (1 - p)).sum())


@pytest.mark.parametrize("kernel", [None, "exponential"])
@pytest.mark.parametrize("rule,key", [("fixed_indegree", "indegree"), ("fixed_outdegree", "outdegree")])
def test_fixed_degree_mask_statistics(rule, key, kernel):
    shape, ext, r, k = [20, 20], 1.0, 0.3, 20

    def build(nest):
        lay = _grid(nest, shape, edge_wrap=True)
        spec = {"rule": rule, key: k, "mask": {"circular": {"radius": r}}}
        if kernel:
            spec["p"] = nest.spatial_distributions.exponential(nest.spatial.distance, beta=0.15)
        nest.Connect(lay, lay, spec)
        return _conns(nest, lay, lay), np.asarray(nest.GetPosition(lay))
    (ref, pos), (got, _) = _both(build)
    n = len(pos)
    assert len(ref) == len(got) == n * k
    D = _pair_dists(pos, pos, ext, True)
    # periodic grid: every driver node sees the same candidate distances
    d0 = D[0][D[0] <= r]
    w = np.exp(-d0 / 0.15) if kernel else np.ones(len(d0))
    q = w / w.sum()
    edges = np.linspace(0, r + 1e-9, 7)
    b = np.digitize(d0, edges) - 1
    qb = np.array([q[b == i].sum() for i in range(len(edges) - 1)])
    _bins_check(ref, got, lambda c: D[c[:, 0].astype(int), c[:, 1].astype(int)], n * k * qb, n * k * qb * (1 - qb),
                edges)


# ---------------------------------------------------------------------------------------------- queries
@pytest.mark.parametrize("wrap", [False, True], ids=["open", "periodic"])
def test_queries(wrap):
    def build(nest):
        g = _grid(nest, [5, 4], extent=[2.0, 1.0], center=[0.5, 0.0], edge_wrap=wrap)
        f = _free(nest, FREE2, edge_wrap=wrap)
        out = [nest.GetPosition(g[3]), nest.GetPosition(f[2:7]),
               nest.Displacement(g[0], g), nest.Displacement(g[:6], f[4:10]), nest.Displacement([[0.9, -0.4]], g),
               nest.Distance(g[1], f), nest.Distance(f[:5], g[5:10]), nest.Distance([[0.7, 0.45]], f)]
        near = [nest.FindNearestElement(g, [0.93, 0.31]).tolist(),
                [x.tolist() for x in nest.FindNearestElement(f, [[0.1, 0.2], [-0.3, 0.45]])],
                [x.tolist() for x in nest.FindNearestElement(g, [0.5, 0.0], find_all=True)],
                nest.FindCenterElement(g).tolist(), nest.FindCenterElement(f).tolist()]
        return out, near
    (ref, rnear), (got, gnear) = _both(build)
    for a, b in zip(ref, got):
        np.testing.assert_allclose(np.asarray(b, float), np.asarray(a, float), rtol=1e-14, atol=1e-15)
    assert rnear == gnear


def test_pairwise_poisson_kernel_statistics():
    shape, ext, r, std = [15, 15], 1.0, 0.3, 0.15

    def build(nest):
        lay = _grid(nest, shape, edge_wrap=True)
        nest.Connect(lay, lay, {"rule": "pairwise_poisson", "mask": {"circular": {"radius": r}},
                                "pairwise_avg_num_conns": 0.8 * nest.spatial_distributions.gaussian(
                                    nest.spatial.distance, std=std)})
        return _conns(nest, lay, lay), np.asarray(nest.GetPosition(lay))
    (ref, pos), (got, _) = _both(build)
    D = _pair_dists(pos, pos, ext, True)
    inside = D <= r
    lam = 0.8 * np.exp(-D ** 2 / (2 * std ** 2)) * inside
    edges = np.linspace(0, r + 1e-9, 7)
    b = np.digitize(D, edges) - 1
    expect = np.array([lam[(b == i) & inside].sum() for i in range(len(edges) - 1)])
    _bins_check(ref, got, lambda c: D[c[:, 0].astype(int), c[:, 1].astype(int)], expect, expect, edges)
    # multapses happen (a Poisson count per pair)
    assert len(np.unique(got[:, :2], axis=0)) < len(got)


def test_node_parameters_from_positions():
    def build(nest):
        lay = nest.Create("iaf_psc_alpha", positions=nest.spatial.grid(shape=[4, 3], extent=[2.0, 3.0]),
                          params={"V_m": -70.0 + 4.0 * nest.spatial.pos.x - nest.spatial.pos.y,
                                  "I_e": 10.0 * nest.math.exp(nest.spatial.pos.y)})
        return np.asarray(lay.get("V_m")), np.asarray(lay.get("I_e"))
    ref, got = _both(build)
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-15)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-15)


@pytest.mark.parametrize("wrap", [False, True], ids=["open", "periodic"])
@pytest.mark.parametrize("use_on_source", [False, True])
@pytest.mark.parametrize("gm", [({"grid": {"shape": [3, 3]}, "anchor": [1, 1]}, 2),
                                ({"grid": {"shape": [2, 3]}}, 2),
                                ({"grid": {"shape": [4, 1]}, "anchor": [2, 0]}, 2)],
                         ids=["3x3-centered", "2x3", "4x1-anchored"])
def test_grid_masks(gm, use_on_source, wrap):
    mask, dim = gm

    def layers(n):
        return _grid(n, [6, 5], edge_wrap=wrap), _grid(n, [5, 7], extent=[1.0, 1.4], edge_wrap=wrap)
    ref, got = _det_pairs(layers, mask, use_on_source)
    assert len(ref) > 0
    assert np.array_equal(ref[:, :2], got[:, :2])
