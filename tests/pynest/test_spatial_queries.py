"""nestax.nest's spatial queries (GetTargetNodes, GetSourceNodes, GetTargetPositions,
GetSourcePositions, SelectNodesByMask, DumpLayerNodes, DumpLayerConnections) and GetNodes against NEST
3.10 on the same networks: connectivity drawn with p = 1 inside masks, so both simulators build the
same connections, and every answer must be identical (positions to 1e-12, dump lines character for
character)."""
import numpy as np
import pytest

from nestax.errors import BadParameterError

FREE = [[0.41, -0.42], [0.42, 0.22], [0.10, -0.32], [-0.02, 0.02], [-0.46, -0.32], [0.3, 0.45], [-0.3, 0.1]]


def _build(nest):
    grid = nest.Create("iaf_psc_alpha", positions=nest.spatial.grid(shape=[4, 3], extent=[1.2, 0.9], edge_wrap=True))
    free = nest.Create("iaf_psc_exp", positions=nest.spatial.free(FREE, extent=[1.2, 1.2]))
    cube = nest.Create("iaf_psc_alpha", positions=nest.spatial.grid(shape=[3, 3, 2], extent=[1.0, 1.0, 0.5]))
    nest.Connect(grid, free, {"rule": "pairwise_bernoulli", "p": 1.0, "mask": {"circular": {"radius": 0.45}}},
                 {"weight": 2.5, "delay": 1.0 + 2.0 * nest.spatial.distance})
    nest.Connect(free, grid, {"rule": "pairwise_bernoulli", "p": 1.0,
                              "mask": {"rectangular": {"lower_left": [-0.3, -0.2], "upper_right": [0.35, 0.25]}}},
                 {"weight": -1.5, "delay": 1.5})
    nest.Connect(grid, grid, {"rule": "pairwise_bernoulli", "p": 1.0, "mask": {"circular": {"radius": 0.35}},
                              "allow_autapses": False}, {"weight": 0.5, "delay": 0.5 + nest.spatial.distance})
    return grid, free, cube


def _ids(colls):
    return [c.tolist() for c in colls]


def test_target_and_source_nodes_and_positions_equal_nests(both):
    nest, nxn = both
    g0, f0, _ = _build(nest)
    g1, f1, _ = _build(nxn)
    for a, b in ((g0, g1), (f0, f1)):
        for tl0, tl1 in ((g0, g1), (f0, f1)):
            assert _ids(nxn.GetTargetNodes(b, tl1)) == _ids(nest.GetTargetNodes(a, tl0))
            assert _ids(nxn.GetSourceNodes(tl1, b)) == _ids(nest.GetSourceNodes(tl0, a))
            want = nest.GetTargetPositions(a, tl0)
            got = nxn.GetTargetPositions(b, tl1)
            assert len(got) == len(want)
            for w, h in zip(want, got):  # one position per connection; the order within a source may differ
                assert len(h) == len(w)
                np.testing.assert_allclose(sorted(map(tuple, h)), sorted(map(tuple, w)), rtol=0, atol=1e-12)
            want = nest.GetSourcePositions(tl0, a)
            got = nxn.GetSourcePositions(tl1, b)
            for w, h in zip(want, got):
                assert len(h) == len(w)
                np.testing.assert_allclose(sorted(map(tuple, h)), sorted(map(tuple, w)), rtol=0, atol=1e-12)
    # a slice of sources, and a node with no targets in the layer: an empty collection, as in NEST
    assert _ids(nxn.GetTargetNodes(g1[2:5], f1)) == _ids(nest.GetTargetNodes(g0[2:5], f0))
    assert sum(len(c) for c in nxn.GetTargetNodes(g1, f1)) > 10


def test_dump_files_equal_nests(both, tmp_path):
    nest, nxn = both
    g0, f0, c0 = _build(nest)
    g1, f1, c1 = _build(nxn)
    for name, (a, b) in {"grid": (g0, g1), "free": (f0, f1), "cube": (c0, c1)}.items():
        nest.DumpLayerNodes(a, str(tmp_path / f"nest_{name}.txt"))
        nxn.DumpLayerNodes(b, tmp_path / f"nx_{name}.txt")
        assert (tmp_path / f"nx_{name}.txt").read_text() == (tmp_path / f"nest_{name}.txt").read_text()
    for name, (s0, t0, s1, t1) in {"gf": (g0, f0, g1, f1), "fg": (f0, g0, f1, g1), "gg": (g0, g0, g1, g1)}.items():
        nest.DumpLayerConnections(s0, t0, "static_synapse", str(tmp_path / f"nest_{name}.txt"))
        nxn.DumpLayerConnections(s1, t1, "static_synapse", str(tmp_path / f"nx_{name}.txt"))
        want = (tmp_path / f"nest_{name}.txt").read_text()
        assert want.count("\n") > 5
        got = (tmp_path / f"nx_{name}.txt").read_text()
        # the same lines, character for character; NEST orders a source's connections by its internal
        # storage (the order it drew them in), nestax by target
        assert sorted(got.splitlines()) == sorted(want.splitlines())
        assert [line.split()[0] for line in got.splitlines()] == [line.split()[0] for line in want.splitlines()]


@pytest.mark.parametrize("anchor,mask", [
    ([0.0, 0.0], {"circular": {"radius": 0.35}}),
    ([0.55, 0.4], {"circular": {"radius": 0.4}}),  # wraps around both edges of the periodic layer
    ([-0.1, 0.1], {"rectangular": {"lower_left": [-0.3, -0.3], "upper_right": [0.2, 0.1]}}),
    ([0.3, -0.3], {"doughnut": {"inner_radius": 0.2, "outer_radius": 0.4}}),
    ([0.0, 0.0], {"elliptical": {"major_axis": 0.8, "minor_axis": 0.4, "azimuth_angle": 30.0}}),
])
def test_select_nodes_by_mask_equals_nests(both, anchor, mask):
    nest, nxn = both
    g0, f0, _ = _build(nest)
    g1, f1, _ = _build(nxn)
    (kind, spec), = mask.items()
    for a, b in ((g0, g1), (f0, f1)):
        want = nest.SelectNodesByMask(a, anchor, nest.CreateMask(kind, spec)).tolist()
        got = nxn.SelectNodesByMask(b, anchor, nxn.CreateMask(kind, spec)).tolist()
        assert got == want


def test_select_nodes_by_mask_3d_equals_nests(both):
    nest, nxn = both
    _, _, c0 = _build(nest)
    _, _, c1 = _build(nxn)
    for kind, spec in (("box", {"lower_left": [-0.4, -0.4, -0.3], "upper_right": [0.1, 0.4, 0.0]}),
                       ("spherical", {"radius": 0.45})):
        want = nest.SelectNodesByMask(c0, [0.0, 0.1, 0.0], nest.CreateMask(kind, spec)).tolist()
        got = nxn.SelectNodesByMask(c1, [0.0, 0.1, 0.0], nxn.CreateMask(kind, spec)).tolist()
        assert got == want and len(got) > 2


def test_get_nodes_equals_nests(both):
    nest, nxn = both
    out = []
    for sim in (nest, nxn):
        g, f, _ = _build(sim)
        sim.Create("spike_recorder")
        f[1:3].V_m = -60.0
        out.append([sim.GetNodes().tolist(), sim.GetNodes({"model": "iaf_psc_exp"}).tolist(),
                    sim.GetNodes({"V_m": -60.0}).tolist(), sim.GetNodes({"model": "iaf_psc_alpha", "V_m": -70.0}).tolist(),
                    sim.GetNodes({"model": "spike_recorder"}).tolist()])
    assert out[1] == out[0]
    assert out[1][2] == [14, 15]


def test_oversized_mask_on_a_periodic_layer_is_refused_as_in_nest(both):
    nest, nxn = both
    g0, _, _ = _build(nest)
    g1, _, _ = _build(nxn)
    with pytest.raises(Exception, match="Mask size must not exceed layer size"):
        nest.SelectNodesByMask(g0, [0.0, 0.0], nest.CreateMask("circular", {"radius": 0.5}))
    with pytest.raises(BadParameterError, match="periodic layer's extent 0.9"):
        nxn.SelectNodesByMask(g1, [0.0, 0.0], nxn.CreateMask("circular", {"radius": 0.5}))


def test_queries_refuse_bad_input():
    import nestax.nest as nxn
    nxn.ResetKernel()
    g, f, _ = _build(nxn)
    with pytest.raises(BadParameterError, match="anchor"):
        nxn.SelectNodesByMask(g, [0.0, 0.0, 0.0], nxn.CreateMask("circular", {"radius": 0.3}))
    with pytest.raises(TypeError, match="mask"):
        nxn.SelectNodesByMask(g, [0.0, 0.0], {"circular": {"radius": 0.3}})
    with pytest.raises(TypeError, match="sources"):
        nxn.GetTargetNodes([1, 2], f)
    with pytest.raises(BadParameterError, match="Did you mean 'V_m'"):
        nxn.GetNodes({"V_mm": -70.0})
    plain_nodes = nxn.Create("iaf_psc_alpha", 3)
    with pytest.raises(BadParameterError):
        nxn.SelectNodesByMask(plain_nodes, [0.0, 0.0], nxn.CreateMask("circular", {"radius": 0.3}))
    nxn.ResetKernel()


def _offsets(fig, color):
    """The points matplotlib drew in ``color`` on the figure's axes, sorted."""
    import matplotlib.colors as mcolors
    want = mcolors.to_rgba(color)
    pts = []
    for coll in fig.gca().collections:
        fc = coll.get_facecolors()
        if len(fc) and np.allclose(fc[0], want) and len(coll.get_offsets()):
            pts += [tuple(p) for p in np.asarray(coll.get_offsets())]
    return sorted(pts)


def test_plot_sources_and_targets_draw_nests_points(both):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    nest, nxn = both
    g0, f0, _ = _build(nest)
    g1, f1, _ = _build(nxn)
    for k in (0, 3, 6):
        a = nest.PlotSources(g0, f0[k], src_color="blue", tgt_color="red")
        b = nxn.PlotSources(g1, f1[k], src_color="blue", tgt_color="red",
                            mask={"circular": {"radius": 0.45}}, probability_parameter=0.5)
        assert len(_offsets(b, "blue")) == len(nest.GetSourceNodes(g0, f0[k])[0])
        np.testing.assert_allclose(_offsets(b, "blue"), _offsets(a, "blue"), rtol=0, atol=1e-12)
        assert _offsets(b, "red") == [tuple(nxn.GetPosition(f1[k]))]  # NEST draws the node as a line marker
        a = nest.PlotTargets(g0[k], f0, tgt_color="blue", src_color="red")
        b = nxn.PlotTargets(g1[k], f1, tgt_color="blue", src_color="red")
        np.testing.assert_allclose(_offsets(b, "blue"), _offsets(a, "blue"), rtol=0, atol=1e-12)
        plt.close("all")


def test_plot_probability_parameter_image_equals_nests(both):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    nest, nxn = both
    g0, _, _ = _build(nest)
    g1, _, _ = _build(nxn)
    for sim, g, out in ((nest, g0, []), (nxn, g1, [])):
        p = sim.spatial_distributions.gaussian(sim.spatial.distance, std=0.25) * 1.2
        fig, ax = plt.subplots()
        sim.PlotProbabilityParameter(g[5], p, mask={"circular": {"radius": 0.4}}, edges=[-0.6, 0.6, -0.45, 0.45],
                                     shape=[30, 20], ax=ax)
        out.append(np.asarray(ax.images[0].get_array(), float))
        if sim is nest:
            want = out[0]
        else:
            got = out[0]
        plt.close("all")
    assert got.shape == want.shape == (20, 30)
    assert want.max() == 1.0 and want.min() < 0.05  # clipped at 1 near the source, as NEST clips
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    with pytest.raises(BadParameterError, match="parameter, a mask or both"):
        nxn.PlotProbabilityParameter(g1[0])
