"""The network a user builds: node blocks, connection records and recorder links, with every check
that ``create``, ``connect`` and ``set`` make. Host-side NumPy only; nothing here knows about JAX.

Connection rules generate index arrays deterministically from the kernel seed and a counter of
random draws (:meth:`Network.rng`), so a script builds the same network in every process.
"""
from __future__ import annotations

import contextlib
import dataclasses
import keyword
import os
import zlib

import brainunit as u
import numpy as np

from . import checks
from .. import connect as cr
from ..errors import (BadParameterError, ConnectionError_, MemoryLimitError, NestaxError, did_you_mean, read_only,
                      unknown_parameter)
from ..models.base import ModelSpec, resolve_model
from ..random import Distribution
from ..units import to_nest
from .records import Block, ConnRecord, NodeRef, compact
from .spatial import extract as spatial_extract, generate as spatial_generate

TICS_PER_MS = 1000


class Network:
    """Blocks of nodes (one per ``create``), connection records (one per ``connect``) and the links
    of recorders: spike recorder gid -> sender gids, multimeter gid -> observed gids."""

    def __init__(self, dt: float, tics_per_step: int, seed: int):
        self.dt, self.tics_per_step, self.seed = dt, tics_per_step, seed
        self.blocks: list[Block] = []
        self.starts = np.zeros(0, np.int64)
        self.conns: list[ConnRecord] = []
        self.sr_links: dict[int, list] = {}
        self.sr_counts: dict[int, np.ndarray] = {}  # connections per sender, aligned with sr_links (NEST records
        #                                             a spike once per connection to the recorder)
        self.mm_links: dict[int, list] = {}
        # recorders that compute on their senders' spikes (Recorder.digest): gid -> [(sender, receptor,
        # weight)] per connection in creation order, and their state accumulated across simulate calls
        self.sr_ports: dict[int, list] = {}
        self.rec_state: dict[int, dict] = {}
        # for the ring-buffer estimate (check_ring), one entry per block / connection record (an entry past
        # the end of blocks / conns is stale: a failed call was undone)
        self._ring_rows: list[int] = []    # input rows of a neuron block in a ring slot (0: not a neuron)
        self._max_delays: list[int] = []   # longest delay of a connection record, in steps
        self.n_random = 0
        self.version = 0  # bumped by every structural change (create / connect)
        self.hom_values = {}  # (synapse model, parameter) -> the one value of a _hom synapse model
        self.local_models = {}  # name -> model derived in this network (copy_model, set_defaults)
        self.wfr = dict(checks.WFR_DEFAULTS)  # NEST's waveform-relaxation kernel settings (gap junctions)
        self.kernel = {}  # kernel settings that models declare (Model.kernel_settings), as set (network/kernel.py)

    def set_wfr(self, **settings):
        """NEST's waveform-relaxation kernel settings for gap junctions (use_wfr, wfr_comm_interval,
        wfr_tol, wfr_max_iterations, wfr_interpolation_order); checked, NEST's defaults otherwise."""
        self.wfr = checks.wfr({**self.wfr, **settings}, self.dt)
        self.version += 1

    def set_kernel(self, **settings):
        """Kernel settings that models declare (Model.kernel_settings); checked (network/kernel.py)."""
        from . import kernel
        self.kernel = kernel.settings(settings, self.kernel, self.dt)
        self.version += 1

    # ------------------------------------------------------------------ lookup
    def block_index(self, gids):
        gids = np.asarray(gids)
        if len(self.blocks) == 0 or np.any(gids < 1) or np.any(gids >= self.next_gid()):
            raise NestaxError(f"unknown node id(s) {gids.tolist()[:5]}")
        return np.searchsorted(self.starts, gids, side="right") - 1

    def block_split(self, gids):
        """Block index per gid, and the distinct blocks present (sorted); fast when all share one block."""
        gids = np.asarray(gids)
        if len(gids) == 0:
            return np.zeros(0, np.int32), []
        lo, hi = self.block_index([gids.min(), gids.max()])
        if lo == hi:  # (a read-only view: no memory per connection)
            return np.broadcast_to(np.int32(lo), gids.shape), [int(lo)]
        b = self.block_index(gids).astype(np.int32)
        return b, [int(x) for x in np.nonzero(np.bincount(b - lo))[0] + lo]

    def block_of(self, gid) -> Block:
        return self.blocks[int(self.block_index([gid])[0])]

    def models_of(self, gids) -> list:
        """The distinct model classes of the nodes ``gids``, in block order."""
        return [self.blocks[int(i)].model for i in np.unique(self.block_index(gids))]

    def groups(self, gids):
        """Yield (block, local indices) for the nodes, grouped by block."""
        bi = self.block_index(gids)
        for b in np.unique(bi):
            blk = self.blocks[int(b)]
            yield blk, gids[bi == b] - blk.gid0

    @contextlib.contextmanager
    def unchanged_on_error(self):
        """A call that fails changes nothing, its random draws included (a failed connect must not
        shift the connections of the next one)."""
        n_random, n_blocks, n_conns, version = self.n_random, len(self.blocks), len(self.conns), self.version
        links = ({g: list(v) for g, v in self.sr_links.items()}, {g: list(v) for g, v in self.mm_links.items()})
        sr_counts, hom = dict(self.sr_counts), dict(self.hom_values)
        sr_ports = {g: list(v) for g, v in self.sr_ports.items()}
        try:
            yield
        except BaseException:
            self.n_random, self.version = n_random, version
            del self.blocks[n_blocks:], self.conns[n_conns:]
            self.starts = self.starts[:n_blocks]
            self.sr_links, self.mm_links = links
            self.hom_values = hom
            self.sr_counts = sr_counts
            self.sr_ports = sr_ports
            raise

    # ------------------------------------------------------------------ models of this network
    def resolve(self, model):
        """(model class, overrides) of a model given by class, spec or name, with this network's own
        models first: a copy by its name, and a model whose defaults were set by its name or class."""
        if isinstance(model, str) and model in self.local_models:
            return self.local_models[model], {}
        cls, overrides = resolve_model(model)
        local = self.local_models.get(cls.name)
        return (local if local is not None and issubclass(local, cls) else cls), overrides

    def derive_model(self, model, name: str, given: dict, same_model: bool = False):
        """A model like ``model`` with new defaults ``given`` (node-valued ones, NodeRef: the recorder or
        volume transmitter its connections get by default), called ``name``: NEST's CopyModel, and SetDefaults with
        ``same_model`` (the result stands for the model itself). Every value is checked as create /
        connect would check it."""
        base = self.resolve(model)[0]
        attached = {k: given.pop(k) for k in [k for k, v in given.items() if isinstance(v, NodeRef)]}
        for k, g in attached.items():  # nodes attached by default (weight_recorder, volume_transmitter)
            m = self.block_of(int(g)).model
            if getattr(m, "attach_as", None) != k:
                raise BadParameterError(f"{name}: {k} = node {int(g)} ({m.name}) is not a {k}.")
        given = aliased(base, unkeyword(given))
        names = list(base.parameters)
        for k in given:
            if k not in base.parameters:
                if base.kind != "synapse" and k in base.state:
                    raise BadParameterError(f"{base.name}: {k!r} is a state variable; defaults hold parameters only "
                                            "(give initial values to create or set).")
                raise unknown_parameter(base.name, k, names)
        params = dict(base.parameters)
        for k, v in given.items():
            spec = base.parameters[k]
            if base.kind == "synapse":
                if k in ("weight", "receptor_type") or spec.unit == "weight":
                    v = v if isinstance(v, u.Quantity) else float(as_floats(v, "1", base.name, k))  # unit at connect
                    if k == "receptor_type":
                        receptor_values(base, v, 1)
                else:
                    v = float(as_floats(v, spec.unit, base.name, k))
                    finite(base, k, v, spec.unit, inf_ok=True)
                    if k == "delay":
                        self.delay_steps(v, base.name)
            params[k] = dataclasses.replace(spec, default=v)
        if base.kind != "synapse":  # the model's own checks on one node with the new defaults
            p1 = {k: self.param_values(base, k, spec, spec.default, 1) for k, spec in params.items()}
            check(base, p1)
            base.check_grid(p1, self.dt)
        attrs = {"name": name, "parameters": params, "__module__": base.__module__, "__doc__": base.__doc__}
        if attached:
            attrs["default_attached"] = {**getattr(base, "default_attached", {}), **attached}
        if same_model:
            attrs["_defaults_of"] = base
        cls = type(base.__name__, (base,), attrs)
        cls.finalize()
        return cls

    # ------------------------------------------------------------------ reset
    def snapshot(self):
        """The neuron states and connection values a first simulate call starts from (for reset)."""
        return ([{k: np.array(v) for k, v in b.state.items()} if b.model.kind == "neuron" else None
                 for b in self.blocks],
                [(c.weight.copy(), None if c.plastic is None else {k: v.copy() for k, v in c.plastic.items()})
                 for c in self.conns])

    def keep_set_weights(self, snap, changes):
        """A static weight set between runs is a parameter: the snapshot takes the new value."""
        for ci, key, _ in changes:
            c = self.conns[ci]
            if key == "weight" and not c.synapse.plastic and ci < len(snap[1]):
                snap[1][ci] = (c.weight.copy(), snap[1][ci][1])

    def restore(self, snap):
        """Back to ``snap`` (None: nothing ran yet): plastic values of the connections it knows, and every
        neuron block's state (blocks created after it start from their model's initial state)."""
        states, plastic = snap or ([], [])
        for c, (w0, p0) in zip(self.conns, plastic):
            c.weight, c.plastic = w0, p0
        for i, blk in enumerate(self.blocks):
            if blk.model.kind == "neuron":
                blk.state = ({k: v.copy() for k, v in states[i].items()} if i < len(states) and states[i] is not None
                             else self.initial_state(blk.model, blk.params, blk.n, {}))
        self.rec_state.clear()  # correlation detectors start empty

    def set_shared(self, base, cls, shared):
        """SetDefaults of the shared parameters ``shared`` of _hom model ``base`` (new defaults in
        ``cls``): every existing connection of the model takes the new values, as in NEST."""
        root = model_root(base)
        for c in self.conns:
            if model_root(c.synapse) is root:
                for k in shared:
                    v = cls.parameters[k].default
                    if k == "weight":  # static_synapse_hom_w: the weight, in its targets' unit
                        c.weight = np.asarray(to_nest(v, self.weight_unit_of(c), base.name, k), float)
                    else:
                        c.params[k] = np.asarray(float(v))
        for (m, k) in list(self.hom_values):
            if model_root(m) is root and k in shared:
                self.hom_values[(m, k)] = float(cls.parameters[k].default)

    def next_gid(self):
        return 1 if not self.blocks else self.blocks[-1].gid0 + self.blocks[-1].n

    def rng(self, purpose: str):
        self.n_random += 1
        # a stable digest of the purpose: Python's str hash changes from process to process
        return np.random.default_rng([self.seed, self.n_random, zlib.crc32(purpose.encode())])

    # ------------------------------------------------------------------ create
    def create(self, model, n, given, positions=None) -> Block:
        """``given``: a dict of parameters / state for every node, or NEST's list form, one dict per node
        (see :func:`create_params`); ``positions``: nx.spatial.grid / free (they may set n)."""
        if isinstance(model, str) and isinstance(given, dict) and "nonlinearity" in given:
            # a NEST model template by name with its argument (models.registry.register_template)
            from ..models.registry import template
            factory = template(model)
            if factory is not None:
                given = dict(given)
                model = factory(given.pop("nonlinearity"))
        cls, overrides = self.resolve(model)
        if not (isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1):
            raise BadParameterError(f"create({cls.name}): n = {n!r} is invalid; expected an integer >= 1.")
        if cls.kind == "synapse":
            raise BadParameterError(f"create: {cls.name} is a synapse model; give it to connect "
                                    f"(synapse_model={cls.name!r}).")
        n = int(n)
        layer = None
        if positions is not None:  # NEST's spatial layer (network/spatial.py): grid positions set n
            from .spatial import make_layer, node_values
            n, layer = make_layer(positions, n, lambda: self.rng("positions"), f"create({cls.name})")
            given = node_values(layer, given, lambda: self.rng("position parameters"))
        self.check_memory(f"create({cls.name}): {n:,} nodes", n * 8 * (len(cls.parameters) + len(cls.state) + 2))
        if isinstance(given, (list, tuple)):
            p, state = self.per_node(cls, overrides, n, given)
        else:
            given = aliased(cls, unkeyword({**overrides, **given}))
            check_names(cls, given)
            p = {name: self.param_values(cls, name, spec, given.get(name, spec.default), n)
                 for name, spec in cls.parameters.items()}
            state = None
        check(cls, p)
        cls.check_grid(p, self.dt)
        if cls.kind == "neuron":
            self.check_ring(f"create({cls.name}): {n:,} more neurons",
                            extra_rows=(len(cls.port_names(p)) + 1) * (n + 1))
        block = Block(cls, self.next_gid(), n, p)
        block.spatial = layer
        self._ring_rows = self._ring_rows[:len(self.blocks)] + [
            (len(cls.port_names(p)) + 1) * (n + 1) if cls.kind == "neuron" else 0]
        if cls.kind == "neuron":
            block.state = state if state is not None else self.initial_state(cls, p, n, given)
        elif cls.kind == "recorder" and p.get("record_from") is not None:
            p["record_from"] = [tuple(x) for x in p["record_from"]]
        self.blocks.append(block)
        self.starts = np.array([b.gid0 for b in self.blocks])
        self.version += 1
        return block

    def per_node(self, cls, overrides, n, dicts):
        """NEST's ``params=[{...}, {...}]``: one dict per node (a name missing from a dict takes the
        default there). Returns the parameter record and the initial state of the n nodes."""
        if len(dicts) != n:
            raise BadParameterError(f"create({cls.name}): params is a list of {len(dicts)} dictionaries; expected one "
                                    f"per node ({n}) (NEST: 'list of params must have one dictionary per node').")
        ps, ss = [], []
        for d in dicts:
            if not isinstance(d, dict):
                raise BadParameterError(f"create({cls.name}): params is a list whose entries must be dictionaries "
                                        f"(one per node), got {d!r}.")
            g = aliased(cls, unkeyword({**overrides, **d}))
            check_names(cls, g)
            p1 = {name: self.param_values(cls, name, spec, g.get(name, spec.default), 1)
                  for name, spec in cls.parameters.items()}
            ps.append(p1)
            ss.append(self.initial_state(cls, p1, 1, g) if cls.kind == "neuron" else {})
        p = {name: (sum((q[name] for q in ps), []) if isinstance(ps[0][name], list)
                    else np.concatenate([q[name] for q in ps])) for name in ps[0]}
        state = {}
        for name in ss[0]:
            parts = [x[name] for x in ss]
            if len({np.shape(a)[1:] for a in parts}) > 1:
                raise BadParameterError(f"create({cls.name}): the nodes of one create call must have the same "
                                        f"number of receptors; create nodes with different ones separately.")
            state[name] = np.concatenate(parts)
        return p, state

    def param_values(self, cls, name, spec, value, n):
        where = cls.name
        if spec.kind == "array":
            arr = as_floats(value, spec.unit, where, name)
            if arr.ndim > 1:
                raise BadParameterError(
                    f"{where}: parameter {name!r} must be a 1-D list of values in {spec.unit} (got shape "
                    f"{arr.shape}); to give each node its own list, create them with params=[{{...}}, {{...}}] "
                    "(one dictionary per node) or set them one by one.")
            arr = arr.reshape(-1)
            return [arr.copy() for _ in range(n)]
        if spec.kind == "list":
            if isinstance(value, (str, dict)):  # one name, or one dict (NEST takes it for a list of one)
                value = [value]
            try:
                value = tuple(value)
            except TypeError:
                raise BadParameterError(f"{where}: parameter {name!r} = {value!r} is invalid; expected a list.") from None
            return [value for _ in range(n)]
        if spec.kind == "str":
            if not isinstance(value, str) and np.ndim(value) == 1 and len(value) == n:
                return [str(v) for v in value]  # one string per node
            return [value] * n
        if isinstance(value, Distribution):
            vals = value.sample(self.rng(f"param {name}"), n, spec.unit, f"{where}.{name}")
        else:
            vals = np.asarray(to_nest(value, spec.unit, where, name), float if spec.kind == "float" else None)
            if vals.ndim > 1:
                raise BadParameterError(f"{where}: parameter {name!r} must be one value or a 1-D array of {n} "
                                        f"values (one per node); got an array of shape {vals.shape}.")
            if vals.ndim == 1 and len(vals) != n:
                raise BadParameterError(f"{where}: parameter {name!r} has {vals.size} values; expected one value "
                                        f"or {n} (one per node).")
            if vals.dtype.kind not in "biuf":
                raise BadParameterError(f"{where}: parameter {name!r} = {value!r} is invalid; expected a number "
                                        f"in {spec.unit}.")
        if spec.kind == "bool":
            return np.broadcast_to(np.asarray(vals).astype(bool), (n,)).copy()
        if spec.kind == "int":
            vals = np.asarray(vals, float)
            if np.any(vals != np.round(vals)) or np.any(np.abs(vals) >= 2.0**63):
                raise BadParameterError(f"{where}: parameter {name!r} = {value!r} must be an integer "
                                        "(|value| < 2**63).")
            return np.broadcast_to(vals.astype(np.int64), (n,)).copy()
        vals = np.asarray(vals, float)
        if np.any(np.isnan(vals)):
            raise BadParameterError(f"{where}: parameter {name!r} is NaN; expected a number in {spec.unit}.")
        return np.broadcast_to(vals, (n,)).copy()

    def initial_state(self, cls, p, n, given):
        """NEST: state starts at the model's default, whatever parameters create() was given; only a
        state variable given explicitly changes it."""
        s = {}
        for name, st in cls.state.items():
            if name in given:
                absval = self.state_values(cls, name, given[name], n)
            elif isinstance(st.init, str):
                absval = np.full(n, float(cls.parameters[st.init].default))
            else:
                absval = np.full(n, st.init, dtype=int if isinstance(st.init, (int, np.integer)) and
                                 not isinstance(st.init, bool) else float)
            s[name] = np.asarray(cls.assign(p, s, name, absval))
        return cls.on_given(p, s, set(given) & set(cls.state))

    def state_values(self, cls, name, value, n):
        """The values of state variable ``name`` given for n nodes (absolute, NEST's unit): one value,
        one per node, or a distribution."""
        st = cls.state[name]
        if isinstance(value, Distribution):
            value = value.sample(self.rng(f"state {name}"), n, st.unit, f"{cls.name}.{name}")
        v = as_floats(value, st.unit, cls.name, name)
        if v.ndim > 1 or (v.ndim == 1 and len(v) != n):
            raise BadParameterError(f"{cls.name}: state variable {name!r} must be one value or a 1-D array of {n} "
                                    f"values (one per node); got an array of shape {v.shape}.")
        return np.broadcast_to(v, (n,)).copy()

    # ------------------------------------------------------------------ memory
    def check_memory(self, what, need):
        """Refuse a request of ``need`` bytes that cannot fit in the memory available now."""
        have = available_memory()
        if have is not None and need > have:
            raise MemoryLimitError(f"{what}: this needs about {gib(need)} of memory; about {gib(have)} are "
                                   "available. Make the network smaller, or split it over several runs.")

    def check_ring(self, what, max_delay=0, extra_rows=0):
        """The ring buffer of the run: (longest delay + 2) slots x every neuron's input rows (ports + 1
        rows of n + 1 values per neuron block), float64. Refused before anything is allocated if it
        cannot fit in the memory available."""
        D = max([max_delay] + self._max_delays[:len(self.conns)]) + 2
        S = extra_rows + sum(self._ring_rows[:len(self.blocks)])
        need, have = 8 * D * S, available_memory()
        if have is not None and need > have:
            raise MemoryLimitError(
                f"{what}: the input ring buffer of the run would hold {D:,} slots (the longest delay, "
                f"{(D - 2) * self.dt:g} ms at resolution {self.dt} ms, in steps) x {S:,} values (the input rows of "
                f"every neuron) = {gib(need)}; about {gib(have)} of memory are available. Use shorter delays, "
                "fewer neurons or a coarser resolution.")

    # ------------------------------------------------------------------ connect
    def connect(self, pre_g, post_g, rule, syn: dict, synapse_model, kwargs: dict, pairs: dict | None = None):
        """Generate and store the connections of one ``connect`` call (or a recorder link).

        ``pairs``: a dict shared by the collocated synapse specs of one connect (NEST's
        CollocatedSynapses): the first spec stores the pairs it draws under "ids", the others reuse
        them; "spatial": True sends every spec through the spatial path (one spec has a spatial value)."""
        scls = self.resolve(synapse_model)[0]
        if scls.kind != "synapse":
            raise BadParameterError(f"connect: {scls.name} is not a synapse model (it is a {scls.kind}).")
        for name in list(kwargs):
            if name in scls.parameters:
                syn[name] = kwargs.pop(name)
        # nodes attached to the connections (a recorder of their transmissions), by the recorder's name
        attached = {n: where.pop(n) for where in (syn, kwargs) for n in
                    [n for n, v in where.items() if isinstance(v, NodeRef)]}
        attached = {**getattr(scls, "default_attached", {}), **attached}  # set by copy_model / set_defaults
        drawn = None if pairs is None else pairs.get("ids")
        sp_spec = spatial_extract(rule, kwargs, syn, force=bool(pairs and pairs.get("spatial")))
        if sp_spec is not None:  # positions decide the pairs (network/spatial.py); stored as given pairs
            i_pre, i_post, syn = spatial_generate(self, pre_g, post_g, sp_spec, syn, self.rng("spatial connect"),
                                                  given=None if drawn is None else drawn[2:])
            rule = cr.given_pairs(i_pre=i_pre, i_post=i_post, allow_autapses=sp_spec.allow_autapses,
                                  allow_multapses=sp_spec.allow_multapses)
        r = cr.make_rule(rule, kwargs)
        if kwargs:
            name = next(iter(kwargs))
            if name in ("tau_minus", "tau_minus_triplet"):
                raise BadParameterError(
                    f"connect: {name} is a parameter of the postsynaptic neuron in NEST, not of {scls.name}; set "
                    f"it with sim.create(model, n, {name}=...) or sim.set(neurons, {name}=...).")
            options = list(r.__dataclass_fields__) + list(scls.parameters) + ["weight", "delay", "receptor_type"]
            raise BadParameterError(f"connect: unknown argument {name!r} for rule {r.name} and synapse "
                                    f"{scls.name}.{did_you_mean(name, options)}")
        if scls.gap:
            checks.gap_no_delay(scls, syn)
        for name in syn:
            if name == "delay" and scls.rate_kind == "instantaneous":
                raise BadParameterError(f"connect: rate_connection_instantaneous has no delay (got delay = "
                                        f"{syn[name]!r}); use rate_connection_delayed for a delayed coupling.")
            if name in ("tau_minus", "tau_minus_triplet") and name not in scls.parameters:
                raise BadParameterError(
                    f"{scls.name}: {name} is a parameter of the postsynaptic neuron in NEST; set it with "
                    f"sim.create(model, n, {name}=...) or sim.set(neurons, {name}=...).")
            if name not in scls.parameters:
                raise unknown_parameter(scls.name, name, scls.parameters)

        pre_models, post_models = self.models_of(pre_g), self.models_of(post_g)
        pre_kinds = {m.kind for m in pre_models}
        post_kinds = {m.kind for m in post_models}
        if "recorder" in pre_kinds or "recorder" in post_kinds:
            if "delay" in scls.parameters and "delay" not in (syn or {}):  # the model's (SetDefaults, CopyModel)
                syn = {**(syn or {}), "delay": scls.parameters["delay"].default}
            rname = (rule.get("rule") if isinstance(rule, dict) else rule if isinstance(rule, str)
                     else getattr(rule, "name", None))
            if rname == "one_to_one":  # recorder i observes node i (NEST), not all of them
                if len(pre_g) != len(post_g):
                    raise ConnectionError_(f"connect: one_to_one needs as many sources as targets "
                                           f"(got {len(pre_g)} and {len(post_g)}).")
                for a, b in zip(pre_g, post_g):
                    a, b = np.asarray([a]), np.asarray([b])
                    self.connect_recorder(a, b, {m.kind for m in self.models_of(a)},
                                          {m.kind for m in self.models_of(b)}, dict(syn) if syn else syn)
                return None
            return self.connect_recorder(pre_g, post_g, pre_kinds, post_kinds, syn)
        if "current_source" in pre_kinds and not pre_kinds <= {"current_source"}:
            raise ConnectionError_("connect: mix current generators and spiking nodes in separate connect calls")
        tgt_all = np.concatenate([pre_g, post_g]) if r.make_symmetric else post_g
        tgt_models = self.models_of(tgt_all)
        for m in tgt_models:
            if m.kind != "neuron":
                raise ConnectionError_(f"connect: {m.name} cannot receive connections; only neurons (and "
                                       "recorders, as sim.connect(neurons, spike_recorder)) can be targets.")
        checks.signals(scls, pre_models, tgt_models)
        if scls.gap:
            checks.gap(scls, r, pre_g, post_g, pre_models, tgt_models, syn)
        current = pre_kinds == {"current_source"}
        # the weight's unit is the target's; one connect onto models of different weight units is refused
        # rather than checked against whichever model comes first
        # (rate connections' weights are plain factors, also onto spiking neurons that accept rate events)
        wunits = {"pA"} if current else {"1"} if scls.rate_kind else {m.weight_unit for m in tgt_models} - {"any"}
        wunits = {"nS"} if scls.gap else wunits  # a gap junction's weight is a conductance
        wunit = next(iter(wunits)) if len(wunits) == 1 else "any"
        if len(wunits) > 1:
            with_units = [k for k, spec in scls.parameters.items()
                          if (k == "weight" or spec.unit == "weight") and isinstance(syn.get(k), u.Quantity)]
            if with_units:
                raise ConnectionError_(
                    f"connect: {with_units[0]} = {syn[with_units[0]]} has a unit, but the targets take weights in "
                    f"different units ({', '.join(sorted(wunits))}: {', '.join(m.name for m in tgt_models)}); "
                    "connect each model in its own connect call, or give plain numbers in each model's unit.")

        n_exp = cr.expected_connections(r, len(pre_g), len(post_g))
        varying = sum(isinstance(v, Distribution) or np.ndim(v) > 0 for v in syn.values())
        per_conn = 48 + 16 * varying  # measured peak of generating and storing, bytes per connection
        have = available_memory()
        if have is not None and n_exp * per_conn > have:
            raise MemoryLimitError(
                f"connect: rule {r.name} from {len(pre_g):,} to {len(post_g):,} nodes makes {n_exp:,.0f} connections"
                f"{' (on average)' if r.name.startswith(('pairwise', 'symmetric')) else ''}, which need about "
                f"{gib(n_exp * per_conn)} of memory to build ({per_conn} bytes each); about {gib(have)} are "
                "available. Use a sparser rule (fixed_indegree, pairwise_bernoulli) or fewer nodes.")
        if drawn is not None:  # a collocated synapse spec: the pairs the first spec drew (NEST: one draw)
            src, tgt, i_pre, i_post = drawn
        else:
            src, tgt, i_pre, i_post = cr.generate_gids(r, pre_g, post_g, self.rng("connect"))
            if pairs is not None:
                pairs["ids"] = (src, tgt, i_pre, i_post)
        n_conn = len(src)

        def values(name, default, unit):
            return self.conn_values(scls, name, syn.get(name, default), unit, n_conn, r, len(pre_g), len(post_g),
                                    i_pre, i_post)
        w = values("weight", scls.parameters["weight"].default, wunit)
        finite(scls, "weight", w, "1" if wunit == "any" else wunit)
        if "delay" in scls.parameters:
            d = self.delay_steps(values("delay", scls.parameters["delay"].default, "ms"), scls.name)
            if scls.required_delay_steps is not None and np.any(d != scls.required_delay_steps):
                raise BadParameterError(
                    f"{scls.name}: delay = {float(np.ravel(d)[np.ravel(d) != scls.required_delay_steps][0]) * self.dt:g}"
                    f" ms is invalid; expected {scls.required_delay_steps * self.dt:g} ms "
                    f"({scls.required_delay_steps} simulation step(s); NEST: 'eprop synapses currently require a "
                    "delay of one simulation step').")
            if np.size(d):
                self.check_ring(f"connect: delay {float(np.max(d)) * self.dt:g} ms", max_delay=int(np.max(d)))
        else:  # rate_connection_instantaneous: used in the step it is sent
            d = np.zeros((), np.int64)
        rec = receptor_values(scls, syn.get("receptor_type", 0), n_conn, lambda: self.rng("conn receptor_type"))
        tb_of_conn, present = self.block_split(tgt)
        for b in present:
            blk = self.blocks[b]
            r_b = rec if len(present) == 1 else rec[tb_of_conn == b]
            checks.receptors(blk, r_b, current)
            checks.rate_receptors(scls, blk.model, r_b)
            if not current:
                checks.payload(scls, blk.model, pre_models, r_b)
                checks.own_ports(scls, blk, r_b, bool(attached))
        extra = {name: values(name, spec.default, wunit if spec.unit == "weight" else spec.unit)
                 for name, spec in scls.parameters.items() if name not in ("weight", "delay", "receptor_type")}
        for name, v in extra.items():  # NaN refused; an infinite bound (Wmax = inf) is a valid choice
            finite(scls, name, v, scls.parameters[name].unit, inf_ok=True)
        del i_pre, i_post
        if scls.plastic:
            # the engine updates plastic state when a NEURON's spike is transmitted (NEST: a device is
            # put behind a parrot_neuron); a synapse that reads the target's archive needs archiving targets
            if pre_kinds != {"neuron"}:
                raise ConnectionError_(f"connect: {scls.name} needs neurons as sources; put a parrot_neuron "
                                       "between a generator and the plastic synapses.")
            if scls.stochastic and any(m.counts_input for m in tgt_models):
                raise ConnectionError_(f"connect: {scls.name} onto "
                                       f"{next(m.name for m in tgt_models if m.counts_input)} is not supported yet "
                                       "(a target that counts spikes would repeat the ones the synapse drops).")
            if scls.uses_post_archive:
                for m in tgt_models:
                    if not m.archiving:
                        raise ConnectionError_(f"connect: {scls.name} reads the postsynaptic spike archive, which "
                                               f"{m.name} does not keep.")
            for m in tgt_models:  # a synapse that reads a per-step history (NEST: Clopath archiving)
                if scls.uses_step_history and not set(scls.uses_step_history) <= set(m.step_history):
                    raise ConnectionError_(f"connect: {scls.name} onto {m.name} is not supported (NEST: 'This "
                                           "synapse model is not supported by the neuron model'): the target must "
                                           f"keep the per-step history {', '.join(scls.uses_step_history)}.")
            for m in tgt_models:  # a synapse that reads parameters of its target
                missing = [n for n in scls.reads_target_params if n not in m.parameters and n not in m.offers_derived]
                if missing:
                    raise ConnectionError_(f"connect: {scls.name} onto {m.name} is not supported (NEST: 'This "
                                           "synapse model is not supported by the neuron model'): it reads the "
                                           f"target's parameters {', '.join(missing)}, which {m.name} does not have.")
            scls.check_connections(w, extra, True)
        wr = vt = None
        for name, g in attached.items():
            if self.block_of(int(g)).model.kind == "recorder":
                wr = self.check_attached_recorder(scls, name, g, pre_kinds)
            else:
                vt = self.check_attached_modulator(scls, name, g)
        if scls.uses_modulator and vt is None:
            raise ConnectionError_(f"connect: {scls.name} needs a volume_transmitter (NEST: 'No volume transmitter "
                                   f"has been assigned'): sim.set_defaults({scls.name!r}, volume_transmitter=vt) "
                                   "or a copy of the model with one.")
        hom = {}
        for name in scls.homogeneous:  # NEST's _hom synapses: one value per model, for every connection
            v = np.asarray(w if name == "weight" else extra[name], float).reshape(-1)
            if len(v) and not np.all(v == v[0]):
                raise BadParameterError(f"{scls.name}: {name} is one value for all connections of the model "
                                        f"(NEST's _hom synapses); got {len(np.unique(v))} different values.")
            prev = self.hom_values.get((scls, name))
            if len(v) and prev is not None and v[0] != prev:
                raise BadParameterError(
                    f"{scls.name}: {name} = {v[0]} differs from {prev}, the value its earlier connections use; "
                    f"a _hom synapse has one {name} for all its connections (NEST sets it with SetDefaults).")
            if len(v):
                hom[(scls, name)] = float(v[0])
        self.hom_values.update(hom)
        thinned = [m for m in pre_models if m.kind == "neuron" and m.thinned_by]
        if wr is not None and thinned:  # logged connections are delivered one by one, without thinning
            raise ConnectionError_(f"connect: {thinned[0].name} passes each spike to each target with probability "
                                   f"{thinned[0].thinned_by}; nestax does not log such connections with a "
                                   "weight_recorder (put a parrot_neuron between them).")
        self.conns.append(ConnRecord(src, tgt, w, d, rec, scls, extra, recorder=wr, modulator=vt))
        self._max_delays = self._max_delays[:len(self.conns) - 1] + [int(np.max(d, initial=0))]
        self.version += 1

    def check_attached_recorder(self, scls, name, wr, pre_kinds) -> int:
        """Node ``wr``, given as the synapse setting ``name``, is a recorder of that name that is
        attached to connections and can log connections of ``scls`` from sources of ``pre_kinds``."""
        m = self.block_of(int(wr)).model
        if m.kind != "recorder" or m.direction != "synapse" or m.attach_as != name:
            raise ConnectionError_(f"connect: {name} = node {int(wr)} ({m.name}) is not a {name} of this "
                                   f"simulator; create one with sim.create(nx.{name}) and pass it.")
        if scls.rate_kind:
            raise ConnectionError_(f"connect: {scls.name} carries rates, not spikes; a {name} logs spike "
                                   "transmissions.")
        if scls.stochastic or scls.uses_modulator:
            raise ConnectionError_(f"connect: a {name} on {scls.name} is not supported yet.")
        if pre_kinds != {"neuron"}:
            raise ConnectionError_(f"connect: a {name} logs connections from neurons; put a parrot_neuron "
                                   "between a generator and the recorded connections.")
        return int(wr)

    def check_attached_modulator(self, scls, name, g) -> int:
        """Node ``g``, given as the synapse setting ``name``, is a node of that kind (a
        volume_transmitter) and ``scls`` reads one."""
        m = self.block_of(int(g)).model
        if getattr(m, "attach_as", None) != name:
            raise ConnectionError_(f"connect: {name} = node {int(g)} ({m.name}) is not a {name}; create one with "
                                   f"sim.create(nx.{name}) and pass it.")
        if not scls.uses_modulator:
            raise ConnectionError_(f"connect: {scls.name} does not read a {name}.")
        return int(g)

    def conn_values(self, scls, name, value, unit, n_conn, r, n_pre, n_post, i_pre, i_post):
        where = f"{scls.name}"
        if isinstance(value, Distribution):
            if r.make_symmetric:
                raise BadParameterError(f"{where}: {name} must be a scalar for rule {r.name} with symmetric "
                                        "connections (NEST: 'Symmetric connections require parameters that "
                                        "can be reset').")
            return value.sample(self.rng(f"conn {name}"), n_conn, "1" if unit == "any" else unit,
                                f"{where}.{name}")
        if unit == "any":  # targets that ignore the weight's unit (parrot_neuron)
            value = value.mantissa if hasattr(value, "mantissa") else value
            unit = "1"
        v = np.asarray(to_nest(value, unit, where, name), float)
        if v.ndim == 0:  # one value for every connection: kept as a scalar (ConnRecord stores it once)
            return v
        # NEST's accepted array shapes per rule; symmetric rules repeat values for the reverse direction
        return cr.connection_values(r, name, v, n_pre, n_post, i_pre, i_post, where)

    def delay_steps(self, dms, model="static_synapse"):
        if np.any(np.isnan(dms)):
            raise BadParameterError(f"{model}: delay is NaN; expected a value >= the resolution {self.dt} ms.")
        if np.any(np.isinf(dms)):
            raise BadParameterError(f"{model}: delay = inf ms is invalid; expected a finite value >= the resolution "
                                    f"{self.dt} ms.")
        # NEST: Time::delay_ms_to_steps = ld_round(ms * STEPS_PER_MS), half rounds up (0.85 -> 9 steps,
        # 0.05 -> 1 step, 0.04999 -> 0 steps: an error)
        steps = np.floor(np.asarray(dms, float) * (TICS_PER_MS / self.tics_per_step) + 0.5).astype(np.int64)
        bad = steps < 1
        if np.any(bad):
            raise BadParameterError(f"{model}: delay = {np.broadcast_to(dms, bad.shape)[bad][0]} ms is invalid; "
                                    f"expected a value >= the resolution {self.dt} ms.")
        return steps

    def weight_unit_of(self, c: ConnRecord) -> str:
        """The unit of the weights of connection record ``c``: its targets' (pA from current sources)."""
        if self.block_of(int(c.src[0])).model.kind == "current_source":
            return "pA"
        units = {m.weight_unit for m in self.models_of(np.unique(c.tgt))} - {"any"}
        return next(iter(units)) if len(units) == 1 else "1"

    def prepare_conn_set(self, sel, given: dict) -> list:
        """New values for the connections ``sel`` ([(record index, positions in the record)], in the
        order of a :class:`Connections` selection), NEST's SynapseCollection.set. Each value is one
        number for all of them or one per connection (plain numbers in NEST's units, or quantities).
        Every value is converted and checked (the synapse model's own connect-time checks included)
        before anything changes; returns [(record index, field, full new array)], where field is
        ``weight``, ``delay`` (steps), a parameter name or ``("state", name)``."""
        n_sel = sum(len(pos) for _, pos in sel)
        fixed = {"source", "target", "synapse_model", "receptor", "receptor_type", "port", "rport", "target_thread",
                 "sizeof", "synapse_id"}
        changes, offset = [], 0
        for ci, pos in sel:
            c = self.conns[ci]
            scls = c.synapse
            wunit = self.weight_unit_of(c)
            new = {}
            for name, value in given.items():
                where = scls.name
                if name in fixed:
                    raise BadParameterError(f"{where}: cannot set {name!r} of existing connections (NEST refuses it "
                                            "too); connect again with the value you want.")
                if name in scls.homogeneous:
                    raise BadParameterError(f"{where}: {name} is one value for all connections of this _hom model; "
                                            "it cannot be set per connection (NEST: SetDefaults).")
                state = scls.connection_state.get(name) if not name.startswith("_") else None
                if name not in scls.parameters and state is None:
                    public = [*scls.parameters, *(k for k in scls.connection_state if not k.startswith("_"))]
                    raise unknown_parameter(scls.name, name, public)
                if name == "delay" and scls.rate_kind == "instantaneous":
                    raise BadParameterError(f"{where}: rate_connection_instantaneous has no delay.")
                unit = state.unit if state is not None else scls.parameters[name].unit
                unit = wunit if name == "weight" or unit == "weight" else unit
                v = as_floats(value.mantissa if wunit == "any" and hasattr(value, "mantissa") else value,
                              unit, where, name)
                if v.ndim > 1 or (v.ndim == 1 and len(v) != n_sel):
                    raise BadParameterError(f"{where}: {name} takes one value or one per connection ({n_sel}); got "
                                            f"an array of shape {v.shape}.")
                v = v if v.ndim == 0 else v[offset:offset + len(pos)]
                finite(scls, name, v, unit, inf_ok=name not in ("weight", "delay"))
                if name == "delay":
                    if scls.continuous_delay is not None:  # steps and the exact value it reads back as
                        exact = np.array(c.delay_ms if c.delay_ms is not None else c.take("delay") * self.dt, float)
                        exact[pos] = v
                        new["delay_ms"] = exact
                        if np.any(v < self.dt * (1 - 1e-12)):
                            raise BadParameterError(f"{where}: delay = {np.min(v)} ms is invalid; expected a value >= "
                                                    f"the resolution {self.dt} ms.")
                        v = scls.continuous_delay(v, self.dt)[0]
                    else:
                        v = self.delay_steps(v, scls.name)
                    self.check_ring(f"{where}: delay {float(np.max(v)) * self.dt:g} ms", max_delay=int(np.max(v)))
                if state is not None:
                    cur, key = c.state(name), ("state", name)
                else:
                    cur, key = c.take(name), name
                full = np.array(cur, dtype=np.int64 if name == "delay" else float)
                full[pos] = v
                new[key] = full
            if scls.plastic and any(isinstance(k, str) for k in new):
                w = new.get("weight", c.take("weight"))
                params = {n: new.get(n, c.take(n)) for n in c.params}
                scls.check_connections(w, params, True)
            changes += [(ci, k, v) for k, v in new.items()]
            offset += len(pos)
        return changes

    def apply_conn_set(self, changes):
        """Apply what :meth:`prepare_conn_set` returned."""
        for ci, key, full in changes:
            c = self.conns[ci]
            if isinstance(key, tuple):
                if c.plastic is None:
                    c.plastic = {n: np.array(c.state(n)) for n in c.synapse.connection_state}
                c.plastic[key[1]] = full.astype(c.plastic[key[1]].dtype)
            elif key in c.params:
                c.params[key] = compact(full, np.float64)
            elif key == "delay":
                c.delay = compact(full, c.delay.dtype)
                self._max_delays[ci] = int(np.max(full, initial=0))
            elif key == "delay_ms":
                c.delay_ms = compact(full, np.float64)
            else:
                setattr(c, key, compact(full, np.float64 if key == "weight" else getattr(c, key).dtype))
        self.version += 1

    def connect_recorder(self, pre_g, post_g, pre_kinds, post_kinds, syn=None):
        for g in np.concatenate([pre_g, post_g]):
            m = self.block_of(g).model
            if m.kind == "recorder" and m.direction == "synapse":
                raise ConnectionError_(f"connect: a {m.name} is attached to connections through the synapse spec: "
                                       f"sim.connect(pre, post, synapse_model=..., {m.name}=wr).")
        if post_kinds == {"recorder"}:
            for g in post_g:
                m = self.block_of(g).model
                if m.direction == "out":
                    raise ConnectionError_(
                        f"connect: a {m.name} observes its targets; connect it the other way round: "
                        f"sim.connect({m.name}, neurons).")
            if not pre_kinds <= {"neuron", "spike_source"}:
                raise ConnectionError_("connect: a spike_recorder records neurons and spike generators only.")
            for m in self.models_of(pre_g):
                if m.kind == "neuron" and m.signal == "rate":
                    raise ConnectionError_(f"connect: {m.name} is a rate neuron and sends no spikes; record its "
                                           "'rate' with a multimeter.")
                if m.kind == "neuron" and not m.sends_spikes:  # NEST: IllegalConnection
                    raise ConnectionError_(f"connect: {m.name} sends no spikes (NEST: 'Source node does not send "
                                           "output'); record its state with a multimeter.")
            self._recorder_ports(pre_g, post_g, syn or {})
            self._note_recorder_delay(syn)
            for g in post_g:
                # NEST records a spike once per connection: a sender connected twice is counted twice
                old = np.asarray(self.sr_links.get(int(g), []), np.int64)
                old_c = self.sr_counts.get(int(g), np.ones(len(old), np.int64))
                senders, inv = np.unique(np.concatenate([old, np.asarray(pre_g, np.int64)]), return_inverse=True)
                counts = np.bincount(inv, np.concatenate([old_c, np.ones(len(pre_g), np.int64)]), len(senders))
                self.sr_links[int(g)] = senders.tolist()
                self.sr_counts[int(g)] = counts.astype(np.int64)
        elif pre_kinds == {"recorder"}:
            for g in pre_g:
                blk = self.block_of(g)
                m = blk.model
                if m.direction == "in":
                    raise ConnectionError_(
                        f"connect: a {m.name} receives spikes; connect the senders to it: "
                        f"sim.connect(neurons, {m.name}).")
                rf = blk.params["record_from"][g - blk.gid0]
                for tm in self.models_of(post_g):
                    rec = tm.recordables()
                    for var in rf:
                        if var not in rec:
                            raise BadParameterError(
                                f"{m.name}: cannot record {var!r} from {tm.name}.{did_you_mean(var, rec)} "
                                f"{tm.name} records: {', '.join(rec) or 'nothing'}.")
            for g in pre_g:
                old = self.mm_links.get(int(g), [])
                again = np.intersect1d(old, post_g)
                if len(again):
                    m = self.block_of(g).model.name
                    raise ConnectionError_(f"connect: {m} {int(g)} is already connected to node {int(again[0])} "
                                           f"(NEST: 'Each multimeter can only be connected once to a given node').")
            for g in pre_g:
                self.mm_links[int(g)] = self.mm_links.get(int(g), []) + list(dict.fromkeys(post_g.tolist()))
            self._note_recorder_delay(syn)
        else:
            raise ConnectionError_("connect: recorders connect to neurons or generators, not to each other.")
        self.version += 1

    def _note_recorder_delay(self, syn):
        """The delay of a connection to or from a recorder (NEST's default 1 ms) counts for min_delay."""
        d = (syn or {}).get("delay", 1.0)
        d = np.asarray(1.0 if isinstance(d, Distribution) else to_nest(d, "ms", "connect", "delay"), float)
        self.rec_min_delay = min(getattr(self, "rec_min_delay", 1 << 62),
                                 max(1, int(round(float(np.min(d)) / self.dt))) if d.size else 1 << 62)

    def _recorder_ports(self, pre_g, post_g, syn):
        """receptor_type and weight of each link to a recorder that computes on its senders' spikes
        (correlation detectors: the receptor is the input channel, checked against the model's)."""
        n = len(pre_g)
        for j, g in enumerate(post_g):
            blk = self.block_of(g)
            m = blk.model
            if m.digest is None:
                continue
            p = blk.params_of(int(g) - blk.gid0)
            rec = np.asarray(syn.get("receptor_type", 0))
            w = np.asarray(to_nest(syn.get("weight", 1.0), "1", m.name, "weight"), float) if "weight" in syn \
                else np.asarray(1.0)
            rec = np.broadcast_to(rec.reshape(-1)[j * n:(j + 1) * n] if rec.size == n * len(post_g) and rec.size > 1
                                  else rec, (n,))
            w = np.broadcast_to(w.reshape(-1)[j * n:(j + 1) * n] if w.size == n * len(post_g) and w.size > 1
                                else w, (n,))
            nr = m.n_receptors(p)
            bad = (rec < 0) | (rec >= nr) | (rec != np.floor(rec))
            if np.any(bad):
                raise BadParameterError(
                    f"{m.name}: receptor_type = {rec[bad][0]!r} is invalid; expected an integer in 0 .. {nr - 1} "
                    f"(NEST: 'Ports must be 0 .. {nr - 1}' / UnknownReceptorType).")
            self.sr_ports[int(g)] = self.sr_ports.get(int(g), []) + [
                (int(a), int(r), float(x)) for a, r, x in zip(pre_g, rec, w)]

    def reset_recorder_state(self, gids, given):
        """Clear the accumulated state of recorders whose setting NEST resets (correlation detectors:
        delta_tau, tau_max, Tstart, Tstop, N_channels, n_events)."""
        for blk, idx in self.groups(np.asarray(gids)):
            m = blk.model
            if m.kind == "recorder" and m.digest is not None and \
                    set(given) & (set(m.resets_state) | {"n_events"}):
                for i in idx:
                    self.rec_state.pop(int(blk.gid0 + i), None)

    # ------------------------------------------------------------------ set / get
    def prepare_set(self, gids, given_all: dict, k: int = 0) -> list:
        """Validate a ``set`` completely and return the changes [(block, new params, new state)]
        WITHOUT applying any of them (NEST's SetStatus is transactional: on an error nothing changes).
        ``k``: the current step (current sources carry their past over, CurrentSource.carry_over)."""
        changes = []
        for blk, idx in self.groups(gids):
            cls = blk.model
            given = aliased(cls, given_all)
            check_names(cls, given)
            if cls.kind == "recorder":
                fixed = [k for k in given if k in cls.fixed_when_connected]
                links = self.mm_links if cls.direction == "out" else self.sr_links
                on = [int(blk.gid0 + i) for i in idx if links.get(int(blk.gid0 + i))]
                if fixed and on:
                    raise BadParameterError(
                        f"{cls.name}: parameter {fixed[0]!r} = {given[fixed[0]]!r} cannot be set: {cls.name} "
                        f"{on[0]} is already connected (NEST: 'The recording interval, the interval offset and the "
                        "list of properties to record cannot be changed after the multimeter has been connected "
                        f"to nodes'); create another {cls.name} for other settings.")
            # absolute values of state variables before the change (V_m relative to E_L internally)
            absolute = {n: np.array(cls.observe(blk.params, blk.state, n)) for n in blk.state}
            newp = {k: (v.copy() if isinstance(v, np.ndarray) else list(v)) for k, v in blk.params.items()}
            for name, value in given.items():
                if name in cls.parameters:
                    vals = self.param_values(cls, name, cls.parameters[name], value, len(idx))
                    if isinstance(newp[name], list):
                        for j, i in enumerate(idx):
                            newp[name][i] = vals[j]
                    else:
                        newp[name][idx] = vals
            check(cls, newp)
            cls.check_grid(newp, self.dt)
            if cls.kind in ("current_source", "rate_source"):
                newp = cls.carry_over(blk.params, newp, k, self.dt)
            news = {}
            # in the model's declared order (a run returns the state sorted by name): assign() may read
            # the old values of variables declared after ``name`` (a structure rebuilt from the parameters)
            order = {n: i for i, n in enumerate(cls.state)}
            for name in sorted(blk.state, key=lambda n: order.get(n, len(order))):
                if name in given:
                    absolute[name][idx] = self.state_values(cls, name, given[name], len(idx))
                news[name] = np.asarray(cls.assign(newp, {**blk.state, **news}, name, absolute[name])
                                     ).astype(blk.state[name].dtype)
            if set(given) & set(cls.state):
                done = cls.on_given(newp, {**blk.state, **news}, set(given) & set(cls.state))
                news = {k: np.asarray(v).astype(blk.state[k].dtype) for k, v in done.items() if k in blk.state}
            changes.append((blk, newp, news))
        return changes

    def get(self, gids, names, unit_of):
        """Parameters / state of the nodes ``gids``: name -> list of (values, unit) per block."""
        out = {}
        for blk, idx in self.groups(gids):
            cls = blk.model
            names_ = names or tuple(cls.parameters) + tuple(n for n in cls.recordables() if n in cls.state)
            for name in names_:
                if name in cls.parameters:
                    v = blk.params[name]
                    v = [v[i] for i in idx] if isinstance(v, list) else np.asarray(v)[idx]
                    u_ = cls.parameters[name].unit
                elif name in cls.state:
                    v = np.asarray(cls.observe(blk.params, blk.state, name))[idx]
                    u_ = cls.state[name].unit
                elif cls.kind == "recorder" and name in cls.accumulated:
                    v = [cls.output(blk.params_of(int(i)), self.rec_state.get(int(blk.gid0 + i)), name, self.dt)
                         for i in idx]
                    u_ = "1"
                else:
                    raise unknown_parameter(cls.name, name, list(cls.parameters) + list(cls.state) +
                                            list(getattr(cls, "accumulated", ())))
                out.setdefault(name, []).append((v, u_))
        return out


def check_names(cls, given: dict):
    """Every name given to create / set is a parameter or a state variable the model lets users set."""
    known = list(cls.parameters) + list(cls.state)
    settable = cls.settable()
    for name, value in given.items():
        if cls.kind == "recorder" and name in cls.accumulated:
            cls.check_accumulated(name, value)  # correlation detectors: n_events = 0 clears them
            continue
        if name not in known:
            raise unknown_parameter(cls.name, name, known)
        if name not in cls.parameters and name not in settable:
            raise read_only(cls, name, value)


def create_params(params, kwargs: dict):
    """The parameters of a ``create`` call: a dict (``params`` and keywords together), or NEST's list
    form ``params=[{...}, {...}]`` (one dict per node; keywords then apply to every node)."""
    if isinstance(params, (list, tuple)):
        out = []
        for d in params:
            if isinstance(d, dict):
                both = sorted(set(d) & set(kwargs))
                if both:
                    raise BadParameterError(f"create: {both[0]!r} is given both in params and as a keyword; "
                                            "give it once.")
                d = {**d, **kwargs}
            out.append(d)
        return out
    if params is not None and not isinstance(params, dict):
        raise BadParameterError(f"create: params must be a dict, or a list of dicts (one per node); got {params!r}.")
    return {**(params or {}), **kwargs}


def as_floats(value, unit, where, name):
    """``value`` (number, list, array or quantity) as a float array in NEST's ``unit``."""
    try:
        return np.asarray(to_nest(value, unit, where, name), float)
    except (TypeError, ValueError) as e:
        if isinstance(e, NestaxError):
            raise
        raise BadParameterError(f"{where}: parameter {name!r} = {value!r} is invalid; expected a number or a 1-D "
                                f"list of numbers in {unit}.") from None


def finite(scls, name, v, unit, inf_ok=False):
    """Synapse values ``v`` are numbers (NEST 3.10 silently replaces a NaN weight or delay by the
    default and keeps an infinite weight; nestax refuses both)."""
    v = np.asarray(v, float)
    bad = np.isnan(v) if inf_ok else ~np.isfinite(v)
    if np.any(bad):
        raise BadParameterError(f"{scls.name}: {name} = {v[bad].flat[0] if v.ndim else float(v)} is invalid; expected "
                                f"a finite number{'' if unit in ('1', '') else ' in ' + unit}.")


def receptor_values(scls, value, n_conn, rng=None):
    """receptor_type of every connection: one integer, one per connection, or drawn per connection
    from an integer-valued nx.random distribution (``1 + nx.random.uniform_int(4)``; ``rng()`` gives
    the generator, asked for only then)."""
    from ..random import Distribution
    if isinstance(value, Distribution) and rng is not None:
        value = value.sample(rng(), n_conn, "1", f"connect({scls.name})")
    r = np.asarray(value)
    if r.dtype.kind not in "biuf" or r.ndim > 1 or (r.ndim == 1 and len(r) != n_conn) or \
            not np.all(np.isfinite(r)) or np.any(r != np.round(r)):
        raise BadParameterError(f"{scls.name}: receptor_type = {value!r} is invalid; expected an integer (or one "
                                f"per connection, {n_conn}).")
    # one value: a read-only broadcast view (no n_conn x 8 bytes at connect)
    return np.broadcast_to(r.astype(np.int64), (n_conn,))


def available_memory():
    """Bytes of memory available to new allocations (Linux: MemAvailable, which counts the page cache
    the kernel can drop; else the free physical pages), or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return None


def gib(nbytes) -> str:
    """A memory size for a message: 43.66 TiB, 1.00 GiB, 18.75 KiB."""
    nbytes = float(nbytes)
    for unit, k in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if nbytes >= 2**k:
            return f"{nbytes / 2**k:,.2f} {unit}"
    return f"{nbytes:,.0f} bytes"


def model_root(cls):
    """The model that ``cls`` stands for: the model whose defaults set_defaults changed, else itself
    (a copy_model copy is a model of its own)."""
    while "_defaults_of" in cls.__dict__:
        cls = cls._defaults_of
    return cls


def check(cls, p):
    """The model's own checks, and the archiving parameters every neuron shares (NEST's archiving node)."""
    cls.check(p)
    if cls.kind == "neuron" and cls.archiving:
        cls._positive(p, "tau_minus", "tau_minus_triplet")


def aliased(cls, given: dict) -> dict:
    """NEST's alternative parameter names of a model (``cls.aliases``: old name -> name), and NEST's
    sub-dictionaries (``cls.nest_groups``: ``{"soma": {"g_L": 12.0}}`` -> ``{"g_L.s": 12.0}``; a
    model's own NEST forms: ``cls.translate``)."""
    given = cls.translate(given)
    out = {}
    groups = getattr(cls, "nest_groups", {})
    flat = {}
    for k, v in given.items():
        if k in groups and isinstance(v, dict):
            for sub, x in v.items():
                name = f"{sub}.{groups[k]}"
                if name in given or name in flat:
                    raise BadParameterError(f"{cls.name}: {k}[{sub!r}] and {name!r} are the same parameter; give "
                                            "only one of them.")
                flat[name] = x
        else:
            flat[k] = v
    for k, v in flat.items():
        name = cls.aliases.get(k, k)
        if name in out:
            raise BadParameterError(f"{cls.name}: {k!r} is another name of {name!r}; give only one of them.")
        out[name] = v
    return out


def unkeyword(given: dict) -> dict:
    """Parameter names that are Python keywords (NEST's ``lambda``) may be written with a trailing
    underscore as keyword arguments: ``sim.create(nx.lin_rate_ipn, 1, lambda_=0.5)``."""
    return {(k[:-1] if k.endswith("_") and keyword.iskeyword(k[:-1]) else k): v for k, v in given.items()}


def split_syn_spec(syn_spec, synapse, synapse_model, weight, delay, receptor_type):
    """NEST's syn_spec dict / a synapse spec object / keywords -> (synapse parameters, synapse model)."""
    syn = {}
    if isinstance(syn_spec, dict):
        syn.update(syn_spec)
    elif syn_spec is not None:
        synapse = syn_spec
    if isinstance(synapse, ModelSpec):
        syn = {**synapse.params, **syn}
        synapse_model = synapse.model
    elif synapse is not None:
        synapse_model = synapse
    model = syn.pop("synapse_model", synapse_model) or "static_synapse"
    for name, v in (("weight", weight), ("delay", delay), ("receptor_type", receptor_type)):
        if v is not None:
            syn[name] = v
    return syn, model
