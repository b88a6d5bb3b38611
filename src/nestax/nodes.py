"""NodeCollection: an ordered selection of nodes by 1-based global id, as NEST's NodeCollection."""
from __future__ import annotations

import numpy as np

from .errors import NodeCollectionError, NodeIndexError


class NodeCollection:
    """Global ids of nodes of one Simulator; supports ``len``, indexing, slicing, ``+`` and iteration."""

    __slots__ = ("_sim", "_gids")

    def __init__(self, sim, gids):
        self._sim = sim
        self._gids = np.asarray(gids, dtype=np.int64).reshape(-1)

    @property
    def global_ids(self) -> np.ndarray:
        return self._gids.copy()

    # NEST spells it tolist() / .global_id
    def tolist(self):
        return self._gids.tolist()

    @property
    def global_id(self):
        return int(self._gids[0]) if len(self._gids) == 1 else self._gids.tolist()

    @property
    def model(self):
        names = [self._sim._net.block_of(g).model.name for g in self._gids[:1]] if len(self) else []
        return names[0] if names else None

    @property
    def spatial(self) -> dict:
        """NEST's ``nodes.spatial``: the layer's center, extent, edge_wrap, network_size and shape (grid)
        or positions (free); an error for nodes created without positions."""
        from .network.spatial import layer_and_index
        lay, _ = layer_and_index(self._sim._net, self._gids, "spatial")
        return lay.status(len(self._gids))  # NEST: network_size is the collection's size

    def __len__(self):
        return len(self._gids)

    @property
    def size(self) -> int:
        """The number of nodes (``len(nodes)``; brainpy.state's spelling)."""
        return len(self._gids)

    @property
    def segments(self) -> list:
        """brainpy.state's view of the collection: one segment per run of nodes from one ``create``
        call, with ``.population`` (all nodes of that call) and ``.indices`` (positions in it)."""
        from .compat_brainpy import segments
        return segments(self)

    def __iter__(self):
        for g in self._gids:
            yield type(self)(self._sim, [g])

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            if not -len(self) <= key < len(self):
                raise NodeIndexError(f"node index {key} is out of range for a collection of {len(self)} nodes "
                                     f"(valid: {-len(self)} .. {len(self) - 1}).")
            return type(self)(self._sim, [self._gids[key]])
        if isinstance(key, slice):
            return type(self)(self._sim, self._gids[key])
        idx = np.asarray(key)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise NodeIndexError(f"a boolean node mask must have one entry per node ({len(self)}), got shape "
                                     f"{idx.shape}.")
            return type(self)(self._sim, self._gids[idx])
        if idx.size == 0:
            return type(self)(self._sim, [])
        if idx.dtype.kind not in "iu" or idx.ndim != 1:
            raise NodeIndexError(f"nodes are selected by an integer, a slice, a 1-D list of integers or a boolean "
                                 f"mask; got {key!r}.")
        bad = (idx < -len(self)) | (idx >= len(self))
        if np.any(bad):
            raise NodeIndexError(f"node index {int(idx[bad][0])} is out of range for a collection of {len(self)} "
                                 f"nodes (valid: {-len(self)} .. {len(self) - 1}).")
        pos = np.where(idx < 0, idx + len(self), idx)
        if len(np.unique(pos)) != len(pos):
            u, c = np.unique(pos, return_counts=True)
            raise NodeCollectionError(f"node index {int(u[c > 1][0])} is selected more than once in {key!r}; the "
                                      "nodes of a collection are distinct (NEST: 'All node IDs in a NodeCollection "
                                      "have to be unique').")
        return type(self)(self._sim, self._gids[pos])

    def __add__(self, other):
        if not isinstance(other, NodeCollection):
            return NotImplemented
        if other._sim is not self._sim:
            raise NodeCollectionError("cannot join node collections of two different Simulators "
                                      f"({self!r} and {other!r}); create both in the same Simulator.")
        joined = np.concatenate([self._gids, other._gids])
        if len(np.unique(joined)) != len(joined):
            shared = np.intersect1d(self._gids, other._gids)
            raise NodeCollectionError(f"cannot join node collections that share nodes (ids {shared.tolist()[:5]}).")
        return type(self)(self._sim, joined)

    def __eq__(self, other):
        return isinstance(other, NodeCollection) and other._sim is self._sim and np.array_equal(self._gids, other._gids)

    def __hash__(self):
        return hash((id(self._sim), self._gids.tobytes()))

    def __contains__(self, item):
        g = item._gids if isinstance(item, NodeCollection) else np.atleast_1d(item)
        return bool(np.isin(g, self._gids).all())

    def index(self, gid):
        return int(np.nonzero(self._gids == gid)[0][0])

    def get(self, *names):
        return self._sim.get(self, *names)

    def set(self, **params):
        return self._sim.set(self, **params)

    def __repr__(self):
        g = self._gids
        if len(g) == 0:
            return "NodeCollection(<empty>)"
        if len(g) > 1 and np.all(np.diff(g) == 1):
            return f"NodeCollection(model={self.model}, size={len(g)}, first={g[0]}, last={g[-1]})"
        return f"NodeCollection(model={self.model}, size={len(g)}, ids={g.tolist() if len(g) < 10 else '...'})"
