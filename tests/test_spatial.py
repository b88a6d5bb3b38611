"""nestax's own spatial API (nx.spatial, nx.spatial_distributions) and its errors; NEST parity of the
same features is in tests/parity/test_spatial.py."""
import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError, ConnectionError_


def _sim():
    return nx.Simulator(dt=0.1 * u.ms, seed=7)


def test_grid_positions_and_accessors():
    sim = _sim()
    lay = sim.create(nx.iaf_psc_alpha, positions=nx.spatial.grid(shape=[4, 3], extent=[2.0, 1.5], center=[1.0, 0.0]))
    assert len(lay) == 12
    pos = nx.spatial.get_position(lay)
    # node i at grid index (i // 3, i % 3): x grows with the first index, y falls with the second
    assert np.allclose(pos[0], [0.25, 0.5]) and np.allclose(pos[1], [0.25, 0.0]) and np.allclose(pos[3], [0.75, 0.5])
    st = lay.spatial
    assert st["shape"].tolist() == [4, 3] and st["extent"].tolist() == [2.0, 1.5]
    assert st["center"].tolist() == [1.0, 0.0]
    assert np.array_equal(nx.spatial.get_position(lay[5]), pos[5])
    # a slice keeps its positions; queries work on it
    d = nx.spatial.displacement(lay[0], lay[1:4])
    assert np.allclose(d, pos[1:4] - pos[0])
    assert np.allclose(nx.spatial.distance_between(lay[0], lay), np.linalg.norm(pos - pos[0], axis=1))
    assert nx.spatial.find_center(lay).tolist() in ([5], [8])
    assert nx.spatial.find_nearest(lay, [0.2, 0.45]).tolist() == [1]


def test_free_positions_from_distribution_and_periodic_displacement():
    sim = _sim()
    lay = sim.create(nx.iaf_psc_alpha, 200, positions=nx.spatial.free(nx.random.uniform(-0.5, 0.5),
                                                                         num_dimensions=3, edge_wrap=True))
    pos = nx.spatial.get_position(lay)
    assert pos.shape == (200, 3) and np.all(np.abs(pos) <= 0.5)
    assert lay.spatial["extent"].tolist() == [1.0, 1.0, 1.0]
    d = nx.spatial.displacement(lay[0], lay)
    assert np.all(np.abs(d) <= 0.5 + 1e-12)  # shortest periodic image


def test_connect_native_api_mask_objects_and_expressions():
    sim = _sim()
    src = sim.create(nx.parrot_neuron, positions=nx.spatial.grid(shape=[6, 6], edge_wrap=True))
    tgt = sim.create(nx.iaf_psc_alpha, positions=nx.spatial.grid(shape=[6, 6], edge_wrap=True))
    m = nx.spatial.circular(radius=0.2) - nx.spatial.rectangular([-0.01, -0.01], [0.01, 0.01])
    sim.connect(src, tgt, rule=nx.pairwise_bernoulli(p=1.0), mask=m,
                weight=10.0 * nx.spatial_distributions.exponential(nx.spatial.distance, beta=0.5),
                delay=1.0 + nx.spatial.distance)
    c = sim.connections()
    # each target: the 4 nearest neighbours at distance 1/6 (the center is cut out)
    assert len(c) == 36 * 4
    assert np.allclose(c.weights, 10.0 * np.exp(-(1 / 6) / 0.5))
    assert np.allclose(c.delay_values, 1.2)
    # fixed_indegree with a kernel through the keyword form
    sim.connect(src, tgt, rule="fixed_indegree", indegree=3, mask=nx.spatial.mask("circular", radius=0.3),
                p=nx.spatial_distributions.gaussian(nx.spatial.distance, std=0.1), allow_multapses=False)
    assert len(sim.connections()) == 36 * 4 + 36 * 3
    # a rule object holding a spatial p, and NEST's conn_spec dict with use_on_source
    sim.connect(src, tgt, rule=nx.pairwise_bernoulli(p=nx.spatial.min(2.0 - nx.spatial.distance, 1.0)),
                mask=nx.spatial.mask({"rectangular": {"lower_left": [0.01, -0.01], "upper_right": [0.2, 0.01]}}))
    sim.connect(src, tgt, {"rule": "pairwise_bernoulli", "p": 1.0, "use_on_source": True,
                           "mask": {"rectangular": {"lower_left": [0.01, -0.01], "upper_right": [0.2, 0.01]}}})
    c = sim.connections()
    s_pos, t_pos = nx.spatial.get_position(src), nx.spatial.get_position(tgt)
    new = slice(36 * 7, None)
    dx = t_pos[c.targets[new] - c.targets.min()] - s_pos[c.sources[new] - 1]
    dx = dx - np.round(dx)  # periodic (extent 1)
    assert len(dx) == 2 * 36
    # default: the target lies in the mask placed at the source; use_on_source: the other way round
    assert np.allclose(dx[:36], [1 / 6, 0]) and np.allclose(dx[36:], [-1 / 6, 0])
    sim.simulate(5.0 * u.ms)  # the network runs


def test_bad_input_errors():
    sim = _sim()
    with pytest.raises(BadParameterError, match="unknown mask type 'circlar'.*Did you mean 'circular'"):
        nx.spatial.mask("circlar", {"radius": 0.2})
    with pytest.raises(BadParameterError, match="rectangular mask: upper_right"):
        nx.spatial.rectangular([0, 0], [0, 1])
    with pytest.raises(BadParameterError, match="radius = -1.0 is invalid"):
        nx.spatial.circular(-1.0)
    with pytest.raises(BadParameterError, match="inner_radius = 0.5 must be smaller"):
        nx.spatial.doughnut(0.5, 0.4)
    with pytest.raises(BadParameterError, match="mask circular: unknown parameter 'radios'"):
        nx.spatial.mask({"circular": {"radios": 0.2}})
    with pytest.raises(BadParameterError, match="grid masks cannot be combined"):
        nx.spatial.mask("grid", {"shape": [2, 2]}) & nx.spatial.circular(0.1)
    with pytest.raises(BadParameterError, match="grid masks are 2-D"):
        nx.spatial.mask("grid", {"shape": [2, 2, 2]})
    with pytest.raises(BadParameterError, match="grid mask: anchor"):
        nx.spatial.mask("grid", {"shape": [2, 2]}, anchor=[0.5, 0.5])
    with pytest.raises(BadParameterError, match="outside the layer.*Give a larger extent"):
        sim.create(nx.iaf_psc_alpha, positions=nx.spatial.free([[0.0, 0.0], [2.0, 0.5]], extent=[1.0, 1.0]))
    with pytest.raises(BadParameterError, match="grid shape"):
        sim.create(nx.iaf_psc_alpha, positions=nx.spatial.grid(shape=[4]))
    with pytest.raises(BadParameterError, match="leave n out"):
        sim.create(nx.iaf_psc_alpha, 5, positions=nx.spatial.grid(shape=[2, 2]))
    with pytest.raises(BadParameterError, match="needs an extent"):
        sim.create(nx.iaf_psc_alpha, positions=nx.spatial.free([[0.0, 0.0]]))
    with pytest.raises(BadParameterError, match="num_dimensions = 2 or 3"):
        sim.create(nx.iaf_psc_alpha, 4, positions=nx.spatial.free(nx.random.uniform()))
    lay2 = sim.create(nx.iaf_psc_alpha, positions=nx.spatial.grid(shape=[3, 3], edge_wrap=True))
    lay3 = sim.create(nx.iaf_psc_alpha, positions=nx.spatial.grid(shape=[2, 2, 2]))
    plain = sim.create(nx.iaf_psc_alpha, 3)
    n_before = len(sim.connections())
    with pytest.raises(BadParameterError, match="spherical mask is 3-D but the layer it applies to is 2-D"):
        sim.connect(lay2, lay2, rule="pairwise_bernoulli", mask=nx.spatial.spherical(0.3))
    with pytest.raises(BadParameterError, match="source layer is 2-D and the target layer 3-D"):
        sim.connect(lay2, lay3, rule="pairwise_bernoulli", mask=nx.spatial.circular(0.3))
    with pytest.raises(BadParameterError, match="no positions"):
        sim.connect(plain, lay2, rule="pairwise_bernoulli", mask=nx.spatial.circular(0.3))
    free2 = sim.create(nx.iaf_psc_alpha, positions=nx.spatial.free([[0.0, 0.0], [0.3, 0.1]]))
    with pytest.raises(BadParameterError, match="grid mask applies to grid layers only"):
        sim.connect(lay2, free2, rule="pairwise_bernoulli", mask=nx.spatial.mask("grid", {"shape": [2, 2]}))
    with pytest.raises(BadParameterError, match="rule 'all_to_all' with a mask"):
        sim.connect(lay2, lay2, rule="all_to_all", mask=nx.spatial.circular(0.3))
    with pytest.raises(BadParameterError, match="allow_oversized_mask"):
        sim.connect(lay2, lay2, rule="pairwise_bernoulli", mask=nx.spatial.circular(0.8))
    with pytest.raises(BadParameterError, match="use_on_source is a setting of pairwise_bernoulli only"):
        sim.connect(lay2, lay2, rule="fixed_indegree", indegree=1, use_on_source=True, mask=nx.spatial.circular(0.3))
    with pytest.raises(BadParameterError, match="has 1 eligible sources inside the mask; it needs 3"):
        sim.connect(lay2, lay2, rule="fixed_indegree", indegree=3, allow_multapses=False,
                    mask=nx.spatial.circular(0.1))
    with pytest.raises(BadParameterError, match="dimension 3 .z. is not a dimension of a 2-D layer"):
        sim.connect(lay2, lay2, rule="pairwise_bernoulli", p=nx.spatial.distance.z, mask=nx.spatial.circular(0.3))
    sr = sim.create(nx.spike_recorder)
    with pytest.raises(ConnectionError_, match="recorders"):
        sim.connect(lay2, sr, rule="pairwise_bernoulli", mask=nx.spatial.circular(0.3))
    assert len(sim.connections()) == n_before  # failed connects leave nothing behind
    # oversized is accepted when asked for
    sim.connect(lay2, lay2, rule="pairwise_bernoulli", mask=nx.spatial.circular(0.8), allow_oversized_mask=True)
    assert len(sim.connections()) == 81


def test_large_layer_chunks():
    """10^4 x 10^4 candidate pairs go through in chunks."""
    sim = _sim()
    lay = sim.create(nx.iaf_psc_alpha, positions=nx.spatial.grid(shape=[100, 100], edge_wrap=True))
    sim.connect(lay, lay, rule="pairwise_bernoulli", mask=nx.spatial.circular(0.025),
                p=nx.spatial_distributions.gaussian(nx.spatial.distance, std=0.02))
    n = len(sim.connections())
    # neighbours within 2.5 spacings: distances 0, 1, sqrt2, 2, sqrt5 (counts 1, 4, 4, 4, 8) in units of 0.01
    d = np.array([0.0] + [0.01] * 4 + [0.01 * 2 ** 0.5] * 4 + [0.02] * 4 + [0.01 * 5 ** 0.5] * 8)
    p = np.exp(-d ** 2 / (2 * 0.02 ** 2))
    mean, sd = 1e4 * p.sum(), np.sqrt(1e4 * (p * (1 - p)).sum())
    assert abs(n - mean) < 5 * sd


def test_nest_module_spatial():
    import nestax.nest as nest
    nest.ResetKernel()
    lay = nest.Create("iaf_psc_alpha", positions=nest.spatial.grid(shape=[4, 4]))
    m = nest.CreateMask("rectangular", {"lower_left": [-0.3, -0.3], "upper_right": [0.3, 0.3]})
    nest.Connect(lay, lay, {"rule": "pairwise_bernoulli", "p": 1.0, "mask": m},
                 {"weight": nest.math.exp(-nest.spatial.distance)})
    assert nest.num_connections == 16 + 2 * 24 + 4 * 9  # self, edge neighbours, diagonal neighbours
    assert nest.GetPosition(lay[0]) == [-0.375, 0.375]
    with pytest.raises(TypeError, match="nest.spatial.free or a nest.spatial.grid"):
        nest.Create("iaf_psc_alpha", positions=[[0.0, 0.0]])
    with pytest.raises(NotImplementedError, match="TripartiteConnect"):
        nest.TripartiteConnect


def test_plots():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import nestax.nest as nest
    nest.ResetKernel()
    lay = nest.Create("iaf_psc_alpha", positions=nest.spatial.grid(shape=[5, 5]))
    nest.Connect(lay, lay, {"rule": "pairwise_bernoulli", "p": 1.0, "mask": {"circular": {"radius": 0.25}}})
    fig = nest.PlotLayer(lay)
    assert len(fig.gca().collections[0].get_offsets()) == 25
    fig = nest.PlotTargets(lay[12], lay, mask={"circular": {"radius": 0.25}})
    # the targets of the center node: itself and its 4 neighbours
    assert len(fig.gca().collections[1].get_offsets()) == 5
    lay3 = nest.Create("iaf_psc_alpha", positions=nest.spatial.grid(shape=[2, 2, 2]))
    nest.PlotLayer(lay3)
    plt.close("all")
