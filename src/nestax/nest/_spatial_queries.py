"""PyNEST 3.10's queries on spatial networks and nodes: who connects to whom within layers, where they
sit, which nodes a mask covers, text dumps of layers and their connections, and GetNodes.

Semantics as NEST 3.10 defines them (tests/pynest/test_spatial_queries.py compares each with NEST):

- ``GetTargetNodes(sources, tgt_layer)``: per source, the distinct targets in ``tgt_layer`` as a
  NodeCollection (ascending IDs); ``GetSourceNodes(src_layer, targets)`` the same per target.
- ``GetTargetPositions`` / ``GetSourcePositions``: per source (target), the position of the other end
  of every connection (one entry per connection, multapses repeated).
- ``SelectNodesByMask(layer, anchor, mask)``: the nodes of ``layer`` whose displacement from ``anchor``
  lies in the mask (periodic where the layer wraps), ascending IDs.
- ``DumpLayerNodes(layer, outname)``: one line ``id x y [z]`` per node; ``DumpLayerConnections(source_layer,
  target_layer, synapse_model, outname)``: one line ``source target weight delay dx dy [dz]`` per
  connection, sorted by source and target (NEST orders a source's connections as it stores them), the displacement target - source taken in the target layer
  (periodic where it wraps). Numbers are written as C++ streams write them (6 significant digits).
- ``GetNodes(properties={})``: every node whose status has exactly these values.
"""
from __future__ import annotations

import os

import numpy as np

from ..errors import BadParameterError, did_you_mean
from ._collections import NodeCollection, _nodes
from ._kernel import KERNEL, plain


def _conns(src, tgt, syn_model):
    from . import GetConnections
    c = GetConnections(src, tgt, synapse_model=syn_model)
    if len(c) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), c
    return np.asarray(plain(c._conns.get("source")), np.int64), np.asarray(plain(c._conns.get("target")),
                                                                            np.int64), c


def _layer(nodes, call, what):
    from .. import spatial as _sp
    return _sp.layer_of(_nodes(nodes, call, what), f"nest.{call} ({what})")


def _grouped(keys, values, order_ids):
    """For each ID of ``order_ids``: the ``values`` whose ``keys`` equal it, in connection order."""
    out = {int(g): [] for g in order_ids}
    for k, v in zip(keys.tolist(), values):
        out[k].append(v)
    return out


def _other_ends(call, nodes, layer, nodes_are_sources, syn_model, positions):
    """Per node of ``nodes``: the other ends of its connections to (from) ``layer``, as a NodeCollection
    of distinct IDs, or (``positions``) the other end's position, one per connection."""
    names = ("sources", "tgt_layer") if nodes_are_sources else ("targets", "src_layer")
    nodes, layer = _nodes(nodes, call, names[0]), _nodes(layer, call, names[1])
    s, t, _ = _conns(nodes, layer, syn_model) if nodes_are_sources else _conns(layer, nodes, syn_model)
    own, other = (s, t) if nodes_are_sources else (t, s)
    m = _grouped(own, _positions_of(layer, other, call, names[1]) if positions else other.tolist(), nodes._gids)
    if positions:
        return [m[int(g)] for g in nodes._gids]
    return tuple(NodeCollection(nodes._sim, np.unique(np.asarray(m[int(g)], np.int64))) for g in nodes._gids)


def GetTargetNodes(sources, tgt_layer, syn_model=None):
    """Per node of ``sources``, a NodeCollection of its targets in ``tgt_layer`` (NEST's GetTargetNodes)."""
    return _other_ends("GetTargetNodes", sources, tgt_layer, True, syn_model, False)


def GetSourceNodes(src_layer, targets, syn_model=None):
    """Per node of ``targets``, a NodeCollection of its sources in ``src_layer`` (NEST's GetSourceNodes)."""
    return _other_ends("GetSourceNodes", targets, src_layer, False, syn_model, False)


def _positions_of(layer_nodes, ids, call, what):
    lay, idx = _layer(layer_nodes, call, what)
    pos = lay.positions[idx]
    where = {int(g): i for i, g in enumerate(np.asarray(layer_nodes._gids))}
    return [pos[where[int(g)]].tolist() for g in ids]


def GetTargetPositions(sources, tgt_layer, syn_model=None):
    """Per node of ``sources``, the positions of its targets in ``tgt_layer``, one per connection (NEST's
    GetTargetPositions)."""
    return _other_ends("GetTargetPositions", sources, tgt_layer, True, syn_model, True)


def GetSourcePositions(src_layer, targets, syn_model=None):
    """Per node of ``targets``, the positions of its sources in ``src_layer``, one per connection (NEST's
    GetSourcePositions)."""
    return _other_ends("GetSourcePositions", targets, src_layer, False, syn_model, True)


def SelectNodesByMask(layer, anchor, mask_obj):
    """The nodes of ``layer`` inside ``mask_obj`` placed at the position ``anchor`` (NEST's
    SelectNodesByMask): a NodeCollection, ascending IDs."""
    from .. import spatial as _sp
    from ..network.spatial import _candidates, _check_mask
    layer = _nodes(layer, "SelectNodesByMask", "layer")
    lay, idx = _layer(layer, "SelectNodesByMask", "layer")
    a = np.asarray(anchor, float)
    if a.shape != (lay.ndim,) or not np.all(np.isfinite(a)):
        raise BadParameterError(f"nest.SelectNodesByMask: anchor = {anchor!r} is invalid; expected {lay.ndim} finite "
                                f"coordinates (the layer is {lay.ndim}-D).")
    if not isinstance(mask_obj, _sp.Mask):
        raise TypeError(f"nest.SelectNodesByMask: mask_obj must be a mask (nest.CreateMask), got {mask_obj!r}.")
    m = _check_mask(mask_obj, lay, False, "nest.SelectNodesByMask")
    pool = lay.positions[idx]
    hit = np.concatenate([ip for _, _, _, ip in _candidates(lay, m, a[None, :], pool)] or [np.zeros(0, np.int64)])
    gids = np.asarray(layer._gids)[np.unique(hit)]
    return NodeCollection(layer._sim, np.sort(gids))


def _fmt(x) -> str:
    """A number as a C++ ostream writes it by default (like %g: 6 significant digits)."""
    x = float(x)
    return "0" if x == 0 else f"{x:g}"


def DumpLayerNodes(layer, outname):
    """Write ``id x y [z]`` for each node of the spatial ``layer`` to the file ``outname``."""
    layer = _nodes(layer, "DumpLayerNodes", "layer")
    lay, idx = _layer(layer, "DumpLayerNodes", "layer")
    pos = lay.positions[idx]
    lines = [" ".join([str(int(g))] + [_fmt(v) for v in p]) for g, p in zip(np.asarray(layer._gids), pos)]
    with open(os.fspath(outname), "w") as f:
        f.write("".join(line + "\n" for line in lines))


def DumpLayerConnections(source_layer, target_layer, synapse_model, outname):
    """Write ``source target weight delay dx dy [dz]`` for each ``synapse_model`` connection from
    ``source_layer`` to ``target_layer`` to the file ``outname`` (displacement target - source in the
    target layer, periodic where it wraps)."""
    source_layer = _nodes(source_layer, "DumpLayerConnections", "source_layer")
    target_layer = _nodes(target_layer, "DumpLayerConnections", "target_layer")
    _layer(source_layer, "DumpLayerConnections", "source_layer")  # refused without positions, connected or not
    tlay, _ = _layer(target_layer, "DumpLayerConnections", "target_layer")
    s, t, c = _conns(source_layer, target_layer, synapse_model)
    lines = []
    if len(s):
        order = np.lexsort((t, s))
        s, t = s[order], t[order]
        w = np.asarray(plain(c._conns.get("weight")), float).reshape(-1)
        d = np.asarray(plain(c._conns.get("delay")), float).reshape(-1)
        w = np.broadcast_to(w, order.shape)[order]
        d = np.broadcast_to(d, order.shape)[order]
        a = np.array(_positions_of(source_layer, s, "DumpLayerConnections", "source_layer"))
        b = np.array(_positions_of(target_layer, t, "DumpLayerConnections", "target_layer"))
        disp = tlay.query_displacement(a, b)
        for i in range(len(s)):
            lines.append(" ".join([str(int(s[i])), str(int(t[i])), _fmt(w[i]), _fmt(d[i])]
                                  + [_fmt(v) for v in disp[i]]))
    with open(os.fspath(outname), "w") as f:
        f.write("".join(line + "\n" for line in lines))


def GetNodes(properties=None, local_only=False):
    """Every node whose status has exactly the values in ``properties`` (all nodes without it), as one
    NodeCollection in ascending IDs (NEST's GetNodes; ``local_only`` changes nothing: one process)."""
    properties = {} if properties is None else properties
    if not isinstance(properties, dict):
        raise BadParameterError(f"nest.GetNodes: properties = {properties!r} is invalid; expected a dict of "
                                "status names and values.")
    sim = KERNEL.sim
    n = int(sum(b.n for b in sim._net.blocks))
    nodes = NodeCollection(sim, np.arange(1, n + 1, dtype=np.int64))
    if not properties or n == 0:
        return nodes
    keep = np.ones(n, bool)
    for name, want in properties.items():
        for i, g in enumerate(nodes._gids):
            if not keep[i]:
                continue
            one = NodeCollection(sim, [int(g)])
            try:
                have = one.get(name)
            except (BadParameterError, KeyError, AttributeError):
                keep[i] = False
                continue
            keep[i] = _equal(have, want)
    if not keep.any():
        known, first = set(), 1
        for b in sim._net.blocks:
            known |= set(NodeCollection(sim, [first]).get())
            first += b.n
        for name in properties:
            if name not in known:
                raise BadParameterError(f"nest.GetNodes: no node has a status entry {name!r}."
                                        f"{did_you_mean(name, sorted(known))}")
    return NodeCollection(sim, nodes._gids[keep])


def _equal(have, want):
    try:
        return bool(np.all(np.asarray(have) == np.asarray(want))) and np.shape(have) == np.shape(want)
    except (TypeError, ValueError):
        return have == want


__all__ = ["GetTargetNodes", "GetSourceNodes", "GetTargetPositions", "GetSourcePositions", "SelectNodesByMask",
           "DumpLayerNodes", "DumpLayerConnections", "GetNodes"]
