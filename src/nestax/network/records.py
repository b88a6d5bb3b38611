"""What one ``create`` and one ``connect`` call leave behind: a node block and a connection record."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Block:
    """One ``create`` call: n nodes of one model with contiguous global ids."""
    model: type
    gid0: int
    n: int
    params: dict
    state: dict = field(default_factory=dict)
    spatial: object = None  # positions and geometry of a spatial layer (network/spatial.Layer)

    @property
    def gids(self):
        return np.arange(self.gid0, self.gid0 + self.n)

    def params_of(self, i: int) -> dict:
        """The parameters of node ``i`` (local index) as scalars / per-node entries."""
        return {k: (v[i] if isinstance(v, list) else np.asarray(v)[i]) for k, v in self.params.items()}


@dataclass
class ConnRecord:
    """The connections of one ``connect`` call, stored compactly on the host.

    Ids are int32 when they fit; weight, delay and receptor collapse to a single value (a 0-d array)
    when they are the same for every connection, which keeps a 12.5-million-synapse network's
    build memory to about 8 bytes per synapse.
    """
    src: np.ndarray      # global ids
    tgt: np.ndarray
    weight: np.ndarray
    delay: np.ndarray    # steps
    receptor: np.ndarray
    synapse: type = None  # the synapse model class
    params: dict = field(default_factory=dict)  # further synapse parameters (stdp: tau_plus, ...), compact
    plastic: dict | None = None  # per-connection state of a plastic synapse after a run (stdp: kplus, t_last)
    recorder: int | None = None  # global id of the weight_recorder that logs these connections
    modulator: int | None = None  # global id of the volume_transmitter the synapses read
    delay_ms: np.ndarray | None = None  # delays between grid points as set (cont_delay_synapse), ms

    def __post_init__(self):
        def ids(x):
            x = np.asarray(x)
            return x.astype(np.int32) if len(x) and x.max() < 2**31 else x.astype(np.int64)

        self.src, self.tgt = ids(self.src), ids(self.tgt)
        self.weight = compact(self.weight, np.float64)
        self.delay = compact(self.delay, np.int32 if np.max(self.delay, initial=0) < 2**31 else np.int64)
        self.receptor = compact(self.receptor, np.int64)
        self.params = {k: compact(v, np.float64) for k, v in self.params.items()}

    def __len__(self):
        return len(self.src)

    def take(self, name, m=slice(None)):
        """Field ``name`` (or a synapse parameter) as a full per-connection array, restricted to ``m``."""
        x = self.params[name] if name in self.params else getattr(self, name)
        if x.ndim == 0:  # a read-only broadcast view: no per-connection memory
            m = np.asarray(m) if not isinstance(m, slice) else m
            n = len(self.src) if isinstance(m, slice) else (int(np.count_nonzero(m)) if m.dtype == bool else len(m))
            return np.broadcast_to(x, (n,))
        return x[m]


    def state(self, name, m=slice(None)):
        """Per-connection state variable ``name`` of a plastic synapse, restricted to ``m``: its value
        after the last run, else the connect-time value of the parameter of that name (tsodyks' x, u;
        ht_synapse's P), else the model's initial value."""
        if self.plastic is not None:
            return self.plastic[name][m]
        if name in self.params:
            integer = self.synapse.parameters[name].kind == "int"
            return np.array(self.take(name, m), np.int64 if integer else float)
        init = self.synapse.connection_state[name].init
        n = len(self.src) if isinstance(m, slice) else (int(np.count_nonzero(m)) if np.asarray(m).dtype == bool
                                                         else len(m))
        return np.full(n, init, np.asarray(init).dtype)


class NodeRef(int):
    """The global id of a node given as a connection setting (the weight_recorder a synapse spec
    attaches), as opposed to a number."""


def compact(x, dtype):
    """``x`` as an array of ``dtype``; a single 0-d value when every entry is the same."""
    x = np.asarray(x, dtype)
    # a copy: a 0-d view would keep the whole per-connection array alive
    return x.reshape(-1)[:1].reshape(()).copy() if x.size and np.all(x == x.flat[0]) else x


def gather(parts, field):
    """Field ``field`` of the connections selected by ``parts`` ([(ConnRecord, mask)]), concatenated."""
    xs = [c.take(field, m) for c, m in parts]
    return xs[0] if len(xs) == 1 else np.concatenate(xs)
