"""Plots of spatial layers (NEST's PlotLayer / PlotTargets), with matplotlib."""
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
                 tgt_color="blue", tgt_size=20, mask_color="yellow"):
    """The targets in ``tgt_layer`` of the one node ``src``: the layer in grey, the targets, the
    source, and the outline of ``mask`` (a nx.spatial mask or NEST's mask dict) placed at the source."""
    if len(src) != 1:
        raise BadParameterError(f"plot_targets: src must be one node, got {len(src)}.")
    lay, idx = layer_of(tgt_layer, "plot_targets")
    if lay.ndim != 2:
        raise NotImplementedError("plot_targets: 3-D layers are not supported; plot 2-D layers.")
    sim = src._sim
    conns = sim.connections(source=src, target=tgt_layer, synapse_model=syn_type)
    tg = np.asarray(conns.targets)
    fig = plot_layer(tgt_layer, fig, nodecolor="0.8", nodesize=tgt_size)
    ax = fig.gca()
    if len(tg):
        tpos = lay.positions[tg - sim._net.block_of(int(tg[0])).gid0]
        ax.scatter(tpos[:, 0], tpos[:, 1], c=tgt_color, s=tgt_size, zorder=3)
    sp = np.asarray(get_position(src), float)
    ax.scatter([sp[0]], [sp[1]], c=src_color, s=src_size, zorder=4, marker="o")
    if mask is not None:
        from .spatial import mask as make_mask
        m = make_mask(mask) if not isinstance(mask, Mask) else mask
        lo, ext = lay.lower_left, lay.extent
        xs, ys = np.meshgrid(np.linspace(lo[0], lo[0] + ext[0], 200), np.linspace(lo[1], lo[1] + ext[1], 200))
        pts = np.stack([xs.ravel(), ys.ravel()], axis=1)
        d = lay.conn_displacement(np.broadcast_to(sp, pts.shape), pts)
        inside = m.inside(d).reshape(xs.shape).astype(float)
        ax.contourf(xs, ys, inside, levels=[0.5, 1.5], colors=[mask_color], alpha=0.3, zorder=1)
    return fig
