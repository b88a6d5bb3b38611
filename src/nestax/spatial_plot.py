"""Plots of spatial layers (NEST's PlotLayer, PlotTargets, PlotSources, PlotProbabilityParameter), with
matplotlib."""
from __future__ import annotations

import numpy as np

from .errors import BadParameterError
from .spatial import Mask, get_position, layer_of


def _figure(fig, three_d=False):
    import matplotlib.pyplot as plt
    if fig is None:
        fig = plt.figure()
    if three_d:
        ax = fig.add_subplot(111, projection="3d")
    else:
        ax = fig.gca()
    return fig, ax


def plot_layer(layer, fig=None, nodecolor="b", nodesize=20):
    """Scatter the nodes of ``layer`` at their positions; 2-D layers also show the extent. Returns the figure."""
    lay, idx = layer_of(layer, "plot_layer")
    pos = lay.positions[idx]
    fig, ax = _figure(fig, lay.ndim == 3)
    if lay.ndim == 3:
        ax.scatter(pos[:, 0], pos[:, 1], pos[:, 2], c=nodecolor, s=nodesize)
        return fig
    ax.scatter(pos[:, 0], pos[:, 1], c=nodecolor, s=nodesize, zorder=2)
    lo, ext = lay.lower_left, lay.extent
    ax.set_xlim(lo[0], lo[0] + ext[0])
    ax.set_ylim(lo[1], lo[1] + ext[1])
    ax.set_aspect("equal", adjustable="box")
    return fig


def plot_targets(src, tgt_layer, syn_type=None, fig=None, mask=None, src_color="red", src_size=50,
                 tgt_color="blue", tgt_size=20, mask_color="yellow", probability_parameter=None,
                 probability_cmap="Greens"):
    """The targets in ``tgt_layer`` of the one node ``src``: the layer in grey, the targets, the
    source, the outline of ``mask`` (a nx.spatial mask or NEST's mask dict) placed at the source, and
    the image of ``probability_parameter`` over the layer (:func:`plot_probability_parameter`)."""
    return _plot_partners("plot_targets", src, tgt_layer, True, syn_type, fig, mask, src_color, src_size,
                          tgt_color, tgt_size, mask_color, probability_parameter, probability_cmap)


def plot_sources(tgt, src_layer, syn_type=None, fig=None, mask=None, tgt_color="red", tgt_size=50,
                 src_color="blue", src_size=20, mask_color="yellow", probability_parameter=None,
                 probability_cmap="Greens"):
    """The sources in ``src_layer`` of the one node ``tgt`` (NEST's PlotSources): the layer in grey, the
    sources, the target, the outline of ``mask`` and the image of ``probability_parameter``, both placed
    at the target (as NEST draws them)."""
    return _plot_partners("plot_sources", tgt, src_layer, False, syn_type, fig, mask, tgt_color, tgt_size,
                          src_color, src_size, mask_color, probability_parameter, probability_cmap)


def _mask_region(ax, m, lay, at, lo, hi, color):
    """Shade where ``m`` placed at the position ``at`` lies, over the box ``lo`` .. ``hi``."""
    xs, ys = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    pts = np.stack([xs.ravel(), ys.ravel()], axis=1)
    d = lay.conn_displacement(np.broadcast_to(at, pts.shape), pts)
    inside = m.inside(d).reshape(xs.shape).astype(float)
    ax.contourf(xs, ys, inside, levels=[0.5, 1.5], colors=[color], alpha=0.3, zorder=1)


def _as_mask(mask):
    from .spatial import mask as make_mask
    return mask if isinstance(mask, Mask) else make_mask(mask)


def _plot_partners(call, node, layer, node_is_source, syn_type, fig, mask, node_color, node_size,
                   other_color, other_size, mask_color, probability_parameter, probability_cmap):
    if len(node) != 1:
        raise BadParameterError(f"{call}: the node must be one node, got {len(node)}.")
    lay, idx = layer_of(layer, call)
    if lay.ndim != 2:
        raise NotImplementedError(f"{call}: 3-D layers are not supported; plot 2-D layers.")
    sim = node._sim
    if node_is_source:
        other = np.asarray(sim.connections(source=node, target=layer, synapse_model=syn_type).targets)
    else:
        other = np.asarray(sim.connections(source=layer, target=node, synapse_model=syn_type).sources)
    fig = plot_layer(layer, fig, nodecolor="0.8", nodesize=other_size)
    ax = fig.gca()
    if len(other):
        where = {int(g): i for i, g in enumerate(np.asarray(layer._gids))}
        opos = lay.positions[idx][[where[int(g)] for g in other]]
        ax.scatter(opos[:, 0], opos[:, 1], c=other_color, s=other_size, zorder=3)
    p = np.asarray(get_position(node), float)
    ax.scatter([p[0]], [p[1]], c=node_color, s=node_size, zorder=4, marker="o")
    lo, hi = lay.lower_left, lay.lower_left + lay.extent
    if mask is not None:
        _mask_region(ax, _as_mask(mask), lay, p, lo, hi, mask_color)
    if probability_parameter is not None:
        plot_probability_parameter(node, probability_parameter, None, [lo[0], hi[0], lo[1], hi[1]], ax=ax,
                                   prob_cmap=probability_cmap)
    return fig


def plot_probability_parameter(source, parameter=None, mask=None, edges=(-0.5, 0.5, -0.5, 0.5), shape=(100, 100),
                               ax=None, prob_cmap="Greens", mask_color="yellow"):
    """The value of the spatial ``parameter`` (a connection probability: shown clipped to [0, 1]) for
    a connection from the one node ``source`` to each point of a ``shape`` grid over ``edges`` = [x_min,
    x_max, y_min, y_max], and/or the region of ``mask`` placed at the source (NEST's
    PlotProbabilityParameter). Random terms are drawn from a fresh NumPy generator. Returns the axes."""
    import matplotlib.pyplot as plt
    from .spatial import _Ctx, _param
    if parameter is None and mask is None:
        raise BadParameterError("plot_probability_parameter: give a parameter, a mask or both.")
    if len(source) != 1:
        raise BadParameterError(f"plot_probability_parameter: source must be one node, got {len(source)}.")
    lay, _ = layer_of(source, "plot_probability_parameter")
    if lay.ndim != 2:
        raise NotImplementedError("plot_probability_parameter: 3-D layers are not supported.")
    edges = [float(e) for e in edges]
    if ax is None:
        _, ax = plt.subplots()
    ax.set_xlim(*edges[:2])
    ax.set_ylim(*edges[2:])
    p = np.asarray(get_position(source), float)
    if parameter is not None:
        xs = np.linspace(edges[0], edges[1], int(shape[0]))
        ys = np.linspace(edges[2], edges[3], int(shape[1]))
        gx, gy = np.meshgrid(xs, ys)  # rows: y, columns: x
        tgt = np.stack([gx.ravel(), gy.ravel()], axis=1)
        ctx = _Ctx(np.broadcast_to(p, tgt.shape), tgt, lay, np.random.default_rng())
        z = np.broadcast_to(np.asarray(_param(parameter, "plot_probability_parameter").value(ctx), float),
                            (len(tgt),)).reshape(gx.shape)
        img = ax.imshow(np.clip(z, 0.0, 1.0), extent=edges, origin="lower", cmap=prob_cmap, vmin=0.0, vmax=1.0)
        plt.colorbar(img, ax=ax, fraction=0.046, pad=0.04)
    if mask is not None:
        _mask_region(ax, _as_mask(mask), lay, p, edges[0::2], edges[1::2], mask_color)
    return ax
