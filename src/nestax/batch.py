"""Batched runs: K variants of one network in one compiled program (``nx.Batch``).

    batch = nx.Batch(sim, {(pop, "I_e"): [0., 100., 200.] * u.pA}, seeds=[1, 2, 3])
    res = batch.simulate(1000. * u.ms)       # a BatchResult
    res.rate(sr)                             # (3,) mean rates, one per variant
    res[1].events(sr)                        # variant 1's Result, as sim.simulate would return it

A variant is ``sim``'s network (its nodes, connections and state at the time the Batch is made)
with other values: node parameters and state (what ``sim.set`` takes, devices included), synapse
values of a ``sim.connections(...)`` selection (what ``Connections.set`` takes: weights, synapse
parameters), and the seed of the run's random streams. Variant i gives exactly what ``sim`` would
give after those ``set`` calls, run with kernel seed ``seeds[i]``: the same spikes, the same traces.

``nx.Batch.build(build, seeds)`` instead builds one network per seed with the user's ``build(seed)``
(connections drawn with that seed) and runs them together:

    batch, sr = nx.Batch.build(network, seeds=[1, 2, 3])   # network(seed) -> (sim, sr)
See docs/batched.md.
"""
from __future__ import annotations

import contextlib
import os

import numpy as np

from .engine import batch as eb
from .errors import BadParameterError, ForeignNodesError, NestaxError
from .network.store import available_memory, unkeyword
from .nodes import NodeCollection
from .recording import Connections
from .recording.backends import make_writers
from .recording.window import Window, duration_steps


class Batch:
    """K variants of ``sim``'s network, run together as one compiled program (``jax.vmap`` over the
    variants).

    Parameters
    ----------
    sim : Simulator
        The network. Its nodes, connections and state at this moment are every variant's starting
        point; the Batch keeps its own state afterwards (``sim`` itself does not move on).
    params : dict or list
        What varies, as a dict ``{(nodes, name): values, (source, target, name): values}`` or a list of
        ``(target, name, values)`` / ``(source, target, name, values)``. ``(nodes, name)``: a parameter
        or state variable of a NodeCollection of ``sim`` (devices included), as ``sim.set`` takes it.
        ``(source, target, name)``: ``"weight"`` or a synapse parameter of the connections
        ``sim.connections(source, target)``, as ``Connections.set`` takes it; in the list form a
        ``sim.connections(...)`` selection may stand in for ``source, target``. ``values`` holds one
        value per variant (each a number, a quantity, or one value per node / connection): a list, or
        an array / quantity with the variant axis first.
    seeds : sequence of int or None
        The kernel seed of each variant's run (its random streams: poisson_generator, noise,
        stochastic neurons and synapses). None: ``sim.seed`` for all. The network's connections and
        values drawn at build time are ``sim``'s in every variant; for networks drawn with each seed
        (as ``nx.Simulator(seed=s)`` in a script would draw them), use :meth:`Batch.build`.
    grid : bool
        False (default): the i-th values of every entry (and seed) make variant i; all lengths must
        agree. True: every combination (the cartesian product, first entry slowest, seeds last);
        ``BatchResult.shape`` gives the grid's shape.
    group : int or None
        Variants per compiled call. None: as many as fit in half the free (device) memory; the
        groups run one after the other through the same compiled program.
    """

    def __init__(self, sim, params=None, seeds=None, *, grid: bool = False, group: int | None = None):
        from .simulator import Simulator
        if not isinstance(sim, Simulator):
            raise TypeError(f"Batch: sim must be a nestax Simulator, got {sim!r}")
        self.sim = sim
        net = sim._net
        entries = self._entries(params)
        if seeds is not None:
            seeds = list(seeds)
            for s in seeds:
                if not (isinstance(s, (int, np.integer)) and not isinstance(s, bool) and 0 <= s <= 2**32 - 1):
                    raise BadParameterError(f"Batch: seed {s!r} is invalid; expected an integer >= 0 and <= 2**32 - 1.")
        axes = [len(v) for _, _, v in entries]
        if grid:
            if seeds is not None:
                axes.append(len(seeds))
            self.shape = tuple(axes) if axes else (1,)
            K = int(np.prod(self.shape))
            index = [np.unravel_index(i, self.shape) for i in range(K)]
        else:
            lens = axes + ([len(seeds)] if seeds is not None else [])
            if not lens:
                raise BadParameterError("Batch: nothing varies; give params and/or seeds.")
            if len(set(lens)) != 1:
                names = [n for _, n, _ in entries] + (["seeds"] if seeds is not None else [])
                raise BadParameterError(
                    f"Batch: the numbers of values differ ({', '.join(f'{n}: {m}' for n, m in zip(names, lens))}); "
                    "give every entry one value per variant, or grid=True for every combination.")
            K = lens[0]
            self.shape = (K,)
            index = [(i,) * (len(entries) + 1) for i in range(K)]
        if K < 1:
            raise BadParameterError("Batch: no variants (an entry has no values).")
        self.K = K
        self.seeds = [int(seeds[ix[-1] if grid else i]) if seeds is not None else sim.seed
                      for i, ix in enumerate(index)]
        labels = _labels([n for _, n, _ in entries])
        self.variants = [{**{lab: e[2][ix[j]] for j, (lab, e) in enumerate(zip(labels, entries))},
                          "seed": self.seeds[i]} for i, ix in enumerate(index)]
        _check_recorders(sim)
        sim._pull()  # the device state of sim's last run, into the network
        self.k = sim.k
        dtype = sim._float()

        @contextlib.contextmanager
        def apply(i):
            blocks, conns, version = [], {}, net.version
            try:
                for j, (target, name, values) in enumerate(entries):
                    value = values[index[i][j]]
                    if isinstance(target, NodeCollection):
                        for blk, newp, news in net.prepare_set(target._gids, unkeyword({name: value}), sim.k):
                            blocks.append((blk, blk.params, blk.state))
                            blk.params, blk.state = newp, {**blk.state, **news}
                    else:
                        changes = net.prepare_conn_set(target._sel, unkeyword({name: value}))
                        for ci, _, _ in changes:
                            conns.setdefault(ci, _conn_values(net, ci))
                        net.apply_conn_set(changes)
                yield
            finally:
                for blk, p, s in reversed(blocks):
                    blk.params, blk.state = p, s
                for ci, kept in conns.items():
                    _restore_conn(net, ci, kept)
                net.version = version

        capacity = sim._session.capacity if os.environ.get("NESTAX_DELIVERY", "loop") == "capacity" else None
        self._variants = eb.lower_variants(
            net, K, apply, self.seeds, dtype, sim.k,
            dict(chunk_bytes=sim.chunk_bytes, max_chunk=sim.max_chunk, capacity=capacity,
                 precise_capacity=sim._precise_capacity),
            dict(history=sim.stdp_history, carried=sim._session.carried, step_len=int(sim.step_history)))
        self._start(group, capacity)

    def _start(self, group, capacity):
        """The runner of the lowered variants, in groups of ``group`` (None: as many as fit)."""
        sim, net, K = self.sim, self.sim._net, self.K
        if group is None:
            budget = eb.memory_budget()
            per = 3 * max(self._variants.variant_bytes(), 1)
            group = K if budget is None else int(max(1, min(K, 0.5 * budget // per)))
        elif isinstance(group, bool) or not isinstance(group, (int, np.integer)) or group < 1:
            raise BadParameterError(f"Batch: group = {group!r} is invalid; expected an integer >= 1 (variants per "
                                    "compiled call).")
        low = self._variants.low
        low.chunk = max(1, low.chunk // min(int(group), K))  # the recording budget is shared by the group
        self._runner = eb.BatchRunner(self._variants, int(group), capacity)
        if low.chunk < sim.max_chunk:  # the estimate limits the chunk: measure (packed spike flags are 1/32)
            low.chunk = int(max(1, min(sim.max_chunk, sim.chunk_bytes // max(1, self._runner.step_bytes()))))
        self._pending = [dict(sim._session.pending_row0) for _ in range(K)]
        self._built = (net.version, len(net.blocks), len(net.conns))
        self._broken = None
        self.timings = {}

    @classmethod
    def build(cls, build, seeds, *, group: int | None = None):
        """K networks, each built by ``build(seed)`` with its own seed, run together: variant i is exactly
        what ``build(seeds[i])`` would give run on its own, its connectivity and the values drawn when it
        was built included (random rules and ``nx.random`` parameters draw again for each seed).

        Parameters
        ----------
        build : callable
            ``build(seed)`` makes a fresh ``nx.Simulator(seed=seed, ...)``, creates and connects the
            network, and returns the Simulator, or a tuple whose first element is it (and whose other
            elements are whatever the caller wants back: populations, recorders).
        seeds : sequence of int
            One variant per seed. The variants must have the same nodes (the same create calls: models,
            sizes, recorders and their settings) and the same Simulator settings; their connections may
            differ (NestaxError naming what differs otherwise).
        group : int or None
            Variants per compiled call, as in :class:`Batch`.

        Returns
        -------
        The Batch; when ``build`` returns a tuple, ``(batch, *rest)`` with ``rest`` the other elements of
        variant 0's tuple. Its recorders (and populations) stand for every variant's: ``res[i].events(sr)``.

        Every variant's network is built and lowered on the host (K networks in memory while the
        Batch is made); only variant 0's Simulator is kept (``batch.sim``). Static connections are
        padded to the largest variant; a projection whose size differs between variants and that
        cannot be padded (plastic synapses, devices with a state per connection) is refused.
        """
        from .simulator import Simulator
        if not callable(build):
            raise TypeError(f"Batch.build: build must be a function build(seed) returning a Simulator, got {build!r}")
        if isinstance(seeds, (int, np.integer)) or not hasattr(seeds, "__iter__"):
            raise BadParameterError(f"Batch.build: seeds must be a sequence of integers (one per variant), got {seeds!r}.")
        seeds = list(seeds)
        if not seeds:
            raise BadParameterError("Batch.build: no seeds (no variants).")
        for s in seeds:
            if not (isinstance(s, (int, np.integer)) and not isinstance(s, bool) and 0 <= s <= 2**32 - 1):
                raise BadParameterError(f"Batch.build: seed {s!r} is invalid; expected an integer >= 0 and <= 2**32 - 1.")
        sims, rest = [], None
        for i, seed in enumerate(seeds):
            out = build(int(seed))
            extra = None
            if isinstance(out, tuple) and out and isinstance(out[0], Simulator):
                sim, extra = out[0], tuple(out[1:])
            elif isinstance(out, Simulator):
                sim = out
            else:
                raise TypeError(f"Batch.build: build({seed}) returned {type(out).__name__}; expected a nestax "
                                "Simulator or a tuple whose first element is one.")
            if i == 0:
                rest = extra
            elif (extra is None) != (rest is None):
                raise NestaxError(f"Batch.build: build({seed}) returned {'a tuple' if extra is not None else 'a Simulator'}"
                                  f" but build({seeds[0]}) {'a tuple' if rest is not None else 'a Simulator'}.")
            if any(sim is o for o in sims):
                raise NestaxError(f"Batch.build: build({seed}) returned a Simulator an earlier call returned; build "
                                  "must make a new Simulator each time.")
            if i > 0:
                what = _structure_difference(sims[0], sim)
                if what is not None:
                    raise NestaxError(f"Batch.build: the network of seed {seed} (variant {i}) differs from that of "
                                      f"seed {seeds[0]} (variant 0): {what}. Every variant must create the same "
                                      "nodes with the same settings; only its connections may differ.")
            sims.append(sim)
        sim0 = sims[0]
        _check_recorders(sim0)
        self = cls.__new__(cls)
        self.sim = sim0
        self.K = K = len(sims)
        self.shape = (K,)
        for sim in sims:
            sim._pull()
        self.seeds = [int(sim.seed) for sim in sims]
        self.variants = [{"seed": s} for s in self.seeds]
        self.k = sim0.k
        capacity = sim0._session.capacity if os.environ.get("NESTAX_DELIVERY", "loop") == "capacity" else None
        self._variants = eb.lower_networks(
            [sim._net for sim in sims], self.seeds, sim0._float(), sim0.k,
            dict(chunk_bytes=sim0.chunk_bytes, max_chunk=sim0.max_chunk, capacity=capacity,
                 precise_capacity=sim0._precise_capacity),
            [dict(history=sim.stdp_history, carried=sim._session.carried, step_len=int(sim.step_history))
             for sim in sims])
        self._start(group, capacity)
        self._pending = [dict(sim._session.pending_row0) for sim in sims]
        self.extra = rest
        return self if rest is None else (self, *rest)

    def _entries(self, params):
        if params is None:
            return []
        if isinstance(params, dict):
            bad = [k for k in params if not (isinstance(k, tuple) and len(k) in (2, 3))]
            if bad:
                raise BadParameterError(f"Batch: params keys are (nodes, name) or (source, target, name); got "
                                        f"{bad[0]!r}.")
            items = [(*k, v) for k, v in params.items()]
        else:
            items = list(params)
        out = []
        for item in items:
            if not (isinstance(item, tuple) and len(item) in (3, 4)):
                raise BadParameterError(f"Batch: params entries are (target, name, values) or (source, target, "
                                        f"name, values); got {item!r}.")
            if len(item) == 4:  # the connections from source to target (sim.connections(source, target))
                for nodes, what in ((item[0], "source"), (item[1], "target")):
                    if not isinstance(nodes, NodeCollection):
                        raise TypeError(f"Batch: the {what} of a connection entry must be a NodeCollection of this "
                                        f"Simulator, got {nodes!r}")
                conns = self.sim.connections(item[0], item[1])
                if len(conns) == 0:
                    raise BadParameterError(f"Batch: there are no connections from {item[0]!r} to {item[1]!r} "
                                            f"(to vary {item[2]!r}).")
                item = (conns, *item[2:])
            target, name, values = item
            if isinstance(target, NodeCollection):
                self.sim._check_nodes(target, "Batch", "target")
            elif isinstance(target, Connections):
                if target._owner is not self.sim:
                    raise ForeignNodesError("Batch: these connections belong to another Simulator.")
            else:
                raise TypeError(f"Batch: a target must be a NodeCollection or a sim.connections(...) selection of "
                                f"this Simulator, got {target!r}")
            if not isinstance(name, str):
                raise BadParameterError(f"Batch: a parameter name must be a string, got {name!r}.")
            if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or not hasattr(values, "__getitem__"):
                raise BadParameterError(f"Batch: the values of {name!r} must be a sequence with one value per "
                                        f"variant (a list, or an array with the variant axis first); got {values!r}.")
            out.append((target, name, values))
        return out

    @property
    def t(self):
        """The batch's current time in ms (every variant is at the same time)."""
        return self.k * self.sim.dt

    def simulate(self, duration) -> BatchResult:
        """Advance every variant by ``duration``; returns their recordings of this window."""
        sim, net = self.sim, self.sim._net
        if self._broken is not None:
            raise NestaxError(f"Batch: a previous simulate was interrupted ({self._broken}); the variants' states "
                              "are no longer at one time. Make a new Batch.")
        if (net.version, len(net.blocks), len(net.conns)) != self._built:
            raise NestaxError("Batch: sim's network changed (create / connect / connections.set) after the Batch "
                              "was made; make a new Batch.")
        T, n_steps = duration_steps(duration, sim.dt)
        low = self._variants.low
        windows = [Window(net, low, self.k, n_steps, self._pending[i], sim, {}) for i in range(self.K)]
        need = sum(w.collector.sample_bytes() for w in windows)
        avail = available_memory()
        if avail is not None and need > 0.8 * avail:
            raise NestaxError(
                f"Batch.simulate: the multimeter samples of {T} ms in {self.K} variants would take "
                f"{need / 2**30:.2f} GiB; about {avail / 2**30:.2f} GiB of memory are available. Record fewer "
                "targets or variables, a larger interval, or simulate in shorter pieces.")
        try:
            self._runner.run(self.k, n_steps, lambda i, out, k, n: windows[i].add(out, k, n))
        except BaseException as e:
            self._broken = type(e).__name__
            raise
        finally:
            self.timings = dict(self._runner.timings)
        self.k += n_steps
        error = self._runner.overflow_error(sim.stdp_history, sim.step_history)
        if error is not None:
            raise error
        return BatchResult([w.finish() for w in windows], self.variants, self.shape)

    def __repr__(self):
        return f"Batch({self.K} variants, shape={self.shape}, t={self.t} ms)"


class BatchResult:
    """The recordings of K variants over one window: ``res[i]`` is variant i's :class:`Result`; the
    accessors below return one entry per variant (the variant axis first)."""

    def __init__(self, results: list, variants: list, shape: tuple):
        self.results = results
        self.variants = variants   # per variant: {label: value, ..., "seed": seed}
        self.shape = shape         # the grid's shape (grid=True), else (K,)

    def __len__(self):
        return len(self.results)

    def __getitem__(self, i):
        return self.results[i]

    def __iter__(self):
        return iter(self.results)

    @property
    def times(self):
        """(n_steps,) Quantity: t0 + k*dt (the same for every variant)."""
        return self.results[0].times

    def values(self, label):
        """The value of ``label`` (a varied parameter's name, or "seed") in each variant."""
        if label not in self.variants[0]:
            from .errors import did_you_mean
            raise BadParameterError(f"BatchResult: no varied value {label!r}; have {list(self.variants[0])}."
                                    f"{did_you_mean(label, list(self.variants[0]))}")
        vals = [v[label] for v in self.variants]
        try:
            import brainunit as u
            if isinstance(vals[0], u.Quantity):
                return u.math.stack(vals)
        except ImportError:  # pragma: no cover
            pass
        return np.asarray(vals)

    def rate(self, sr) -> np.ndarray:
        """(K,) mean firing rate per sender in Hz, per variant."""
        return np.array([r.rate(sr) for r in self.results])

    def n_events(self, rec) -> np.ndarray:
        """(K,) number of events per variant."""
        return np.array([r.n_events(rec) for r in self.results])

    def spikes(self, sr) -> np.ndarray:
        """(K, n_steps, n_senders) spike counts per variant and step."""
        return np.stack([r.spikes(sr) for r in self.results])

    def events(self, rec) -> list:
        """NEST's event dict of each variant (a list of K dicts)."""
        return [r.events(rec) for r in self.results]

    def trace(self, mm, var):
        """(K, n_samples, n_targets) Quantity: the samples of ``var`` in each variant."""
        import brainunit as u
        return u.math.stack([r.trace(mm, var) for r in self.results])

    def trace_times(self, mm):
        """(n_samples,) sample times (the same for every variant)."""
        return self.results[0].trace_times(mm)

    def __repr__(self):
        return f"BatchResult({len(self)} variants, shape={self.shape}, {self.results[0]!r})"


def _check_recorders(sim):
    net = sim._net
    if make_writers(sim, net):
        raise NestaxError("Batch: recorders with record_to 'ascii' or 'screen' are not supported in a batch; "
                          "record to memory and write each variant's Result yourself.")
    digests = [b.model.name for b in net.blocks if b.model.kind == "recorder" and b.model.digest is not None]
    if digests:
        raise NestaxError(f"Batch: {digests[0]} keeps its own state across windows, which a batch does not "
                          "carry per variant; use spike recorders and compute it from each variant's events.")


def _same_value(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b) and \
            not all(isinstance(x, (int, float, np.number)) for x in (*a, *b)):
        return all(_same_value(x, y) for x, y in zip(a, b))
    try:
        x, y = np.asarray(a), np.asarray(b)
        return x.shape == y.shape and (x.dtype == y.dtype or (x.dtype.kind in "biuf" and y.dtype.kind in "biuf")) \
            and bool(np.array_equal(x, y, equal_nan=x.dtype.kind == "f" and y.dtype.kind == "f"))
    except Exception:  # noqa: BLE001 - values numpy cannot compare
        return a == b


def _structure_difference(a, b):
    """What differs between the node structure of Simulators ``a`` and ``b`` (None: nothing): the
    Simulator's settings, the created nodes (model, size, place), the recorders, their settings and
    what they record."""
    for name in ("dt", "k", "stdp_history", "step_history", "_precise_capacity", "chunk_bytes", "max_chunk"):
        if not _same_value(getattr(a, name), getattr(b, name)):
            return f"the Simulator's {name.lstrip('_')} is {getattr(b, name)!r}, not {getattr(a, name)!r}"
    if a._float() != b._float():
        return f"the Simulator's float type is {np.dtype(b._float()).name}, not {np.dtype(a._float()).name}"
    na, nb = a._net, b._net
    if len(na.blocks) != len(nb.blocks):
        return f"{len(nb.blocks)} create calls instead of {len(na.blocks)}"
    for j, (x, y) in enumerate(zip(na.blocks, nb.blocks)):
        if x.model is not y.model or x.n != y.n or x.gid0 != y.gid0:
            return (f"create call {j} makes {y.n} {y.model.name} (node ids from {y.gid0}) instead of {x.n} "
                    f"{x.model.name} (from {x.gid0})")
        if x.model.kind == "recorder" and not _same_value(x.params, y.params):
            bad = sorted(k for k in set(x.params) | set(y.params)
                         if k not in x.params or k not in y.params or not _same_value(x.params[k], y.params[k]))
            return f"the {x.model.name} of create call {j} has other settings ({', '.join(bad)})"
    for name, what in (("sr_links", "what the spike recorders record"), ("mm_links", "what the multimeters record"),
                       ("kernel", "the kernel settings"), ("wfr", "the waveform-relaxation settings"),
                       ("rec_min_delay", "the delay of the connections to recorders")):
        if not _same_value(getattr(na, name, None), getattr(nb, name, None)):
            return what
    return None


def _labels(names):
    """One label per entry: its name, numbered where a name occurs more than once."""
    out = []
    for j, n in enumerate(names):
        out.append(n if names.count(n) == 1 else f"{n}[{names[:j].count(n)}]")
    return out


def _conn_values(net, ci):
    c = net.conns[ci]
    return {"weight": c.weight, "delay": c.delay, "delay_ms": c.delay_ms, "params": dict(c.params),
            "plastic": None if c.plastic is None else dict(c.plastic), "max_delay": net._max_delays[ci]}


def _restore_conn(net, ci, kept):
    c = net.conns[ci]
    c.weight, c.delay, c.delay_ms, c.params, c.plastic = (kept["weight"], kept["delay"], kept["delay_ms"],
                                                          kept["params"], kept["plastic"])
    net._max_delays[ci] = kept["max_delay"]
