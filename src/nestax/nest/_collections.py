"""PyNEST's NodeCollection and SynapseCollection over nestax's node collections and connections.

Values go in and come out in NEST's plain units (numbers, not quantities). ``get`` follows PyNEST 3.10:
one node and one name give the value; several nodes give a tuple with one value per node; a list of
names gives a dict; no name gives every parameter and state variable.
"""
from __future__ import annotations

import numpy as np

from ..errors import BadParameterError, did_you_mean
from ..nodes import NodeCollection as _Nodes
from ._kernel import KERNEL, plain


def _per_node(v, n):
    """A value from nestax's get (scalar for one node, array for several) as PyNEST returns it."""
    v = plain(v)
    if n == 1:
        return v.tolist() if isinstance(v, np.ndarray) and v.ndim and v.dtype == object else v
    if isinstance(v, np.ndarray):
        return tuple(x.item() if isinstance(x, np.generic) else x for x in v)
    if isinstance(v, list):
        return tuple(v)
    return v


class NodeCollection(_Nodes):
    """PyNEST's NodeCollection: ``len``, indexing, slicing, ``+``, iteration, ``get``/``set`` and the
    parameters as attributes (``pop.V_m``, ``pop.V_m = -70.0``)."""

    __slots__ = ()

    def __init__(self, sim=None, gids=None):
        if gids is None:  # PyNEST: nest.NodeCollection([3, 5, 7]), node IDs of the current kernel
            ids = np.asarray([] if sim is None else list(sim), dtype=np.int64).reshape(-1)
            n = int(sum(b.n for b in KERNEL.sim._net.blocks))
            bad = ids[(ids < 1) | (ids > n)]
            if len(bad):
                raise BadParameterError(f"nest.NodeCollection: node ID {int(bad[0])} does not exist; the network has "
                                        f"node IDs 1 .. {n}.")
            sim, gids = KERNEL.sim, ids
        super().__init__(sim, gids)

    # ------------------------------------------------------------------ status
    def _model_cls(self, g):
        return self._sim._net.block_of(int(g)).model

    def _is_recorder(self, g):
        return self._model_cls(g).kind == "recorder"

    def _one(self, g, name):
        """``name`` of the single node ``g`` (recorder events, model, global_id included)."""
        if name == "events" and self._is_recorder(g):
            return KERNEL.events_of(type(self)(self._sim, [g]))
        if name == "n_events" and self._is_recorder(g):
            return KERNEL.n_events(type(self)(self._sim, [g]))
        if name == "global_id":
            return int(g)
        if name == "model":
            return self._sim._net.block_of(int(g)).model.name
        if name == "recordables":
            return tuple(self._model_cls(g).recordables())
        if name == "receptor_types" and hasattr(self._model_cls(g), "receptor_types"):
            return dict(self._model_cls(g).receptor_types)
        if name == "filenames" and self._is_recorder(g):
            return list(KERNEL.filenames.get(int(g), []))
        if self._is_recorder(g) and g in KERNEL.detectors and name in KERNEL.detectors[g]:
            return KERNEL.detectors[g][name]
        return plain(self._sim.get(type(self)(self._sim, [g]), name, unit=False))

    def _all_names(self, g):
        names = list(self._sim.get(type(self)(self._sim, [g]), unit=False))
        extra = ["model", "global_id"] + (["events", "n_events"] if self._is_recorder(g) else ["recordables"])
        if hasattr(self._model_cls(g), "receptor_types"):
            extra.append("receptor_types")
        return names + [e for e in extra if e not in names]

    def _value(self, name):
        vals = [self._one(g, name) for g in self._gids]
        return vals[0] if len(vals) == 1 else tuple(vals)

    def get(self, *keys, output=""):
        """PyNEST's ``get``: ``get()``, ``get("V_m")``, ``get(["V_m", "C_m"])``, ``get("events", "times")``."""
        if output not in ("", "pandas"):
            raise BadParameterError(f"NodeCollection.get: output = {output!r} is invalid; expected '' or 'pandas'.")
        if not len(self):
            raise BadParameterError("NodeCollection.get: the collection is empty.")
        if not keys:
            names = self._all_names(self._gids[0])
            out = {k: self._value(k) for k in names}
        elif len(keys) == 1 and isinstance(keys[0], (list, tuple)):
            out = {k: self._value(k) for k in keys[0]}
        elif len(keys) == 2 and isinstance(keys[0], str) and keys[0] == "events":
            sub = keys[1]
            vals = [KERNEL.events_of(node) for node in self]
            pick = (lambda ev: {k: ev[k] for k in sub}) if isinstance(sub, (list, tuple)) else (lambda ev: ev[sub])
            for ev in vals:
                for k in (sub if isinstance(sub, (list, tuple)) else [sub]):
                    if k not in ev:
                        raise KeyError(f"NodeCollection.get: the events have no {k!r}.{did_you_mean(k, ev)}")
            res = [pick(ev) for ev in vals]
            return res[0] if len(res) == 1 else tuple(res)
        elif len(keys) == 1:
            out = self._value(keys[0])
            if output == "pandas":
                import pandas as pd
                return pd.DataFrame({keys[0]: out if len(self) > 1 else [out]}, index=self.tolist())
            return out
        else:
            out = {k: self._value(k) for k in keys}
        if output == "pandas":
            import pandas as pd
            return pd.DataFrame({k: (v if len(self) > 1 else [v]) for k, v in out.items()}, index=self.tolist())
        return out

    def set(self, params=None, **kwargs):
        """PyNEST's ``set``: a dict, a list of dicts (one per node) or keywords; a list value gives one
        value per node."""
        if isinstance(params, (list, tuple)):
            if len(params) != len(self):
                raise BadParameterError(f"NodeCollection.set: {len(params)} dicts for {len(self)} nodes; give one "
                                        "dict per node or one dict for all.")
            if kwargs:
                raise BadParameterError("NodeCollection.set: give either a list of dicts or keywords, not both.")
            for node, p in zip(self, params):
                node.set(p)
            return
        given = {**(params or {}), **kwargs}
        if "n_events" in given:
            value = given.pop("n_events")
            for g in self._gids:
                if not self._is_recorder(g):
                    raise BadParameterError(f"{self._model_cls(g).name}: n_events is a recorder setting.")
            for node in self:
                KERNEL.clear(node, value)
        if given:
            given = {k: (np.asarray(v) if isinstance(v, (list, tuple)) and k not in _LIST_PARAMS else v)
                     for k, v in given.items()}
            self._sim.set(_Nodes(self._sim, self._gids), given)

    # ------------------------------------------------------------------ attributes
    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name == "spatial":
            raise NotImplementedError("nestax.nest: spatial node collections (positions=...) are not supported "
                                      "yet; create nodes without positions.")
        return self.get(name)

    def __setattr__(self, name, value):
        if name in type(self).__slots__ or name in _Nodes.__slots__:
            object.__setattr__(self, name, value)
        else:
            self.set({name: value})

    def __repr__(self):
        return super().__repr__()


#: parameters whose value is itself a list (not one value per node)
_LIST_PARAMS = {"record_from", "spike_times", "spike_weights", "spike_multiplicities", "amplitude_times",
                "amplitude_values", "rate_times", "rate_values", "senders", "targets", "receptor_types",
                "tau_syn", "E_rev", "tau_rise", "tau_decay", "weights", "delays", "compartments", "receptors"}


def _nodes(x, call, what="nodes"):
    """``x`` as this module's NodeCollection (nestax's own collections are wrapped); anything else is refused."""
    if isinstance(x, NodeCollection):
        return x
    if isinstance(x, _Nodes):
        return NodeCollection(x._sim, x._gids)
    raise TypeError(f"nest.{call}: {what} must be a NodeCollection (what nest.Create returned), got {x!r}.")


class SynapseCollection:
    """PyNEST's SynapseCollection (``nest.GetConnections``): ``len``, ``get``, ``set`` and attributes."""

    __slots__ = ("_conns",)

    def __init__(self, conns):
        object.__setattr__(self, "_conns", conns)

    def __len__(self):
        return len(self._conns)

    def _column(self, name):
        v = plain(self._conns.get(name))
        v = np.asarray(v)
        return v.item() if len(self) == 1 else tuple(x.item() if isinstance(x, np.generic) else x for x in v)

    def get(self, keys=None, output=""):
        names = ["source", "target", "weight", "delay", "synapse_model", "receptor"] if keys is None else keys
        if isinstance(names, str):
            return self._column(names)
        out = {k: self._column(k) for k in names}
        if output == "pandas":
            import pandas as pd
            return pd.DataFrame({k: (v if len(self) > 1 else [v]) for k, v in out.items()})
        return out

    def set(self, params=None, **kwargs):
        """A dict (one value for all, or a list with one per connection), keywords, or a list of dicts
        with one dict per connection."""
        if isinstance(params, (list, tuple)):
            if kwargs or len(params) != len(self):
                raise BadParameterError(f"SynapseCollection.set: {len(params)} dicts for {len(self)} connections; "
                                        "give one dict per connection (and no keywords) or one dict for all.")
            names = {k for p in params for k in p}
            missing = [k for k in names if any(k not in p for p in params)]
            if missing:
                raise BadParameterError(f"SynapseCollection.set: {missing[0]!r} is missing from some of the dicts; "
                                        "every dict must set the same names.")
            params = {k: [p[k] for p in params] for k in names}
        given = {**(params or {}), **kwargs}
        given = {k: (np.asarray(v) if isinstance(v, (list, tuple)) else v) for k, v in given.items()}
        self._conns.set(given)

    def disconnect(self):
        """Remove these connections (NEST's SynapseCollection.disconnect; nest.Disconnect)."""
        self._conns.disconnect()

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self.get(name)

    def __setattr__(self, name, value):
        self.set({name: value})

    def __repr__(self):
        return f"SynapseCollection({len(self)} connections)"
