"""Simulator: create / connect / set / get / simulate, NEST's workflow in one object.

Build phase (host, NumPy): ``create`` records populations ("blocks") and their parameters,
``connect`` generates connections with the rules of :mod:`nestax.connect`. Run phase (JAX):
``simulate`` compiles one step function for the network's structure (cached until the structure
changes) and runs it in chunks with :mod:`nestax.engine.run`.
"""
from __future__ import annotations

import keyword
import math
import zlib
import time as _time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from . import connect as cr
from .engine import delivery as dl
from .engine import run as er
from .errors import BadParameterError, ConnectionError_, NestaxError, did_you_mean, unknown_parameter
from .models.base import Model, ModelSpec, resolve_model
from .models.registry import lookup
from .nodes import NodeCollection
from .random import Distribution
from .result import Result
from .units import to_nest, with_unit

_TICS_PER_MS = 1000


def _enable_compile_cache():
    import os
    path = os.environ.get("NESTAX_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "nestax", "jax"))
    try:
        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    except Exception:  # pragma: no cover - older jax
        pass


_enable_compile_cache()


@dataclass
class Block:
    """One ``create`` call: n nodes of one model with contiguous global ids."""
    model: type
    gid0: int
    n: int
    params: dict
    state: dict = field(default_factory=dict)

    @property
    def gids(self):
        return np.arange(self.gid0, self.gid0 + self.n)


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
    synapse: str = "static_synapse"
    params: dict = field(default_factory=dict)  # further synapse parameters (stdp: tau_plus, ...), compact
    plastic: dict | None = None  # plastic state after a run (stdp: kplus, t_last in steps)

    def __post_init__(self):
        def ids(x):
            x = np.asarray(x)
            return x.astype(np.int32) if len(x) and x.max() < 2**31 else x.astype(np.int64)

        def compact(x, dtype):
            x = np.asarray(x, dtype)
            return x.reshape(-1)[:1].reshape(()) if x.size and np.all(x == x.flat[0]) else x
        self.src, self.tgt = ids(self.src), ids(self.tgt)
        self.weight = compact(self.weight, np.float64)
        self.delay = compact(self.delay, np.int32 if np.max(self.delay, initial=0) < 2**31 else np.int64)
        self.receptor = compact(self.receptor, np.int64)
        self.params = {k: compact(v, np.float64) for k, v in self.params.items()}

    def __len__(self):
        return len(self.src)

    def take(self, name, m=slice(None)):
        """Field ``name`` as a full per-connection array, restricted to ``m`` (slice or mask)."""
        x = getattr(self, name)
        if x.ndim == 0:  # a read-only broadcast view: no per-connection memory
            n = len(self.src) if isinstance(m, slice) else int(np.count_nonzero(m))
            return np.broadcast_to(x, (n,))
        return x[m]


class Simulator:
    """A NEST-like network simulator.

    Parameters
    ----------
    dt : Quantity or float
        Resolution (ms). Every time in the network is a multiple of it.
    seed : int
        Kernel seed: connection sampling, random parameters and all random streams derive from it.
    precision : 32, 64 or None
        Float width of the run. None (default) follows jax's x64 flag (float64 when it is on, as
        NEST parity needs). 32 is a speed option: see docs/performance.md for its measured accuracy.
    chunk_bytes : int
        Memory budget of the recordings held on the device per chunk of steps.
    """

    def __init__(self, dt=0.1, seed: int = 1, *, precision: int | None = None, chunk_bytes: int = 64 * 2**20,
                 max_chunk: int = 10_000):
        dt = float(np.asarray(to_nest(dt, "ms", "Simulator", "dt")))
        if not dt > 0:
            raise BadParameterError(f"Simulator: parameter 'dt' = {dt} ms is invalid; expected a value > 0 ms.")
        tics = dt * _TICS_PER_MS
        if abs(tics - round(tics)) > 1e-9 or round(tics) < 1:
            raise BadParameterError(f"Simulator: parameter 'dt' = {dt} ms must be a multiple of 0.001 ms "
                                    "(NEST's time base).")
        if not (isinstance(seed, (int, np.integer)) and seed >= 0):
            raise BadParameterError(f"Simulator: parameter 'seed' = {seed!r} is invalid; expected an integer >= 0.")
        if precision not in (None, 32, 64):
            raise BadParameterError(f"Simulator: parameter 'precision' = {precision!r} is invalid; expected 32, 64 "
                                    "or None (follow jax's x64 flag).")
        if precision == 64 and not jax.config.jax_enable_x64:
            raise BadParameterError("Simulator: precision=64 needs jax's x64 mode: call "
                                    "jax.config.update('jax_enable_x64', True) before creating arrays.")
        self.precision = precision
        self.dt = dt
        self._tics_per_step = int(round(tics))
        self.seed = int(seed)
        self.chunk_bytes = chunk_bytes
        self.max_chunk = max_chunk
        self._blocks: list[Block] = []
        self._starts = np.zeros(0, np.int64)
        self._conns: list[ConnRecord] = []
        self._sr_links: dict[int, list] = {}
        self._mm_links: dict[int, list] = {}
        self._n_connect = 0
        self._n_random = 0
        self.k = 0                 # current step
        self._structure_version = 0
        self._compiled = None
        self._run_state = None     # device state pytree (None: rebuild from blocks)
        self._pending_row0 = {}    # spike recorder gid -> (gids, counts) stamped exactly at self.k
        self._capacity = {}        # source block -> spikes per step delivered in one scatter (accelerators)
        from .models.synapses.stdp import HISTORY
        self.stdp_history = HISTORY  # postsynaptic spikes kept per neuron for plastic synapses (see stdp.py)
        self._plastic_parts = {}   # plastic projection index -> [(connection record index, mask)]
        self._post_hist = {}       # block -> postsynaptic spike history (host copy)
        self.timings = {}

    # ------------------------------------------------------------------ nodes
    @property
    def t(self):
        """Current time in ms."""
        return self.k * self.dt

    def _block_index(self, gids):
        gids = np.asarray(gids)
        if len(self._blocks) == 0 or np.any(gids < 1) or np.any(gids >= self._blocks[-1].gid0 + self._blocks[-1].n):
            raise NestaxError(f"unknown node id(s) {gids.tolist()[:5]}")
        return np.searchsorted(self._starts, gids, side="right") - 1

    def _block_split(self, gids):
        """Block index per gid, and the distinct blocks present (sorted); fast when all share one block."""
        gids = np.asarray(gids)
        if len(gids) == 0:
            return np.zeros(0, np.int64), []
        lo, hi = self._block_index([gids.min(), gids.max()])
        if lo == hi:
            return np.full(len(gids), lo, np.int64), [int(lo)]
        b = self._block_index(gids)
        return b, [int(x) for x in np.nonzero(np.bincount(b - lo))[0] + lo]

    def _block_of(self, gid):
        return self._blocks[int(self._block_index([gid])[0])]

    def _rng(self, purpose: str):
        self._n_random += 1
        # a stable digest of the purpose: Python's str hash changes from process to process
        return np.random.default_rng([self.seed, self._n_random, zlib.crc32(purpose.encode())])

    def create(self, model, n: int = 1, params: dict | None = None, **kwargs) -> NodeCollection:
        """Create ``n`` nodes of ``model`` (class, spec or NEST name) with parameters ``params``/kwargs."""
        cls, overrides = resolve_model(model)
        if not (isinstance(n, (int, np.integer)) and n >= 1):
            raise BadParameterError(f"create({cls.name}): n = {n!r} is invalid; expected an integer >= 1.")
        n = int(n)
        given = _aliased(cls, _unkeyword({**overrides, **(params or {}), **kwargs}))
        known = list(cls.parameters) + list(cls.state)
        for name in given:
            if name not in known:
                raise unknown_parameter(cls.name, name, known)
        p = {}
        for name, spec in cls.parameters.items():
            p[name] = self._param_values(cls, name, spec, given.get(name, spec.default), n)
        cls.check(p)
        block = Block(cls, self._next_gid(), n, p)
        if cls.kind == "neuron":
            block.state = self._initial_state(cls, p, n, given)
        elif cls.kind == "recorder":
            rf = p.get("record_from")
            if rf is not None:
                p["record_from"] = [tuple(x) for x in rf]
        self._blocks.append(block)
        self._starts = np.array([b.gid0 for b in self._blocks])
        self._structure_changed()
        return NodeCollection(self, block.gids)

    def _next_gid(self):
        return 1 if not self._blocks else self._blocks[-1].gid0 + self._blocks[-1].n

    def _param_values(self, cls, name, spec, value, n):
        where = cls.name
        if spec.kind == "array":
            v = to_nest(value, spec.unit, where, name)
            arr = np.asarray(v, float).reshape(-1)
            return [arr.copy() for _ in range(n)]
        if spec.kind == "list":
            if isinstance(value, str):
                value = [value]
            return [tuple(value) for _ in range(n)]
        if spec.kind == "str":
            return [value] * n
        if isinstance(value, Distribution):
            vals = value.sample(self._rng(f"param {name}"), n, spec.unit, f"{where}.{name}")
        else:
            v = to_nest(value, spec.unit, where, name)
            vals = np.asarray(v, float if spec.kind == "float" else None)
            if vals.ndim > 1 or (vals.ndim == 1 and len(vals) != n):
                raise BadParameterError(f"{where}: parameter {name!r} has {vals.size} values; expected one value "
                                        f"or {n} (one per node).")
            if vals.dtype.kind not in "biuf":
                raise BadParameterError(f"{where}: parameter {name!r} = {value!r} is invalid; expected a number "
                                        f"in {spec.unit}.")
        if spec.kind == "bool":
            return np.broadcast_to(np.asarray(vals).astype(bool), (n,)).copy()
        if spec.kind == "int":
            vals = np.asarray(vals, float)
            if np.any(vals != np.round(vals)):
                raise BadParameterError(f"{where}: parameter {name!r} = {value!r} must be an integer.")
            return np.broadcast_to(vals.astype(np.int64), (n,)).copy()
        vals = np.asarray(vals, float)
        if np.any(np.isnan(vals)):
            raise BadParameterError(f"{where}: parameter {name!r} is NaN; expected a number in {spec.unit}.")
        return np.broadcast_to(vals, (n,)).copy()

    def _initial_state(self, cls, p, n, given):
        s = {}
        for name, st in cls.state.items():
            if name in given:
                v = given[name]
                if isinstance(v, Distribution):
                    v = v.sample(self._rng(f"state {name}"), n, st.unit, f"{cls.name}.{name}")
                absval = np.broadcast_to(np.asarray(to_nest(v, st.unit, cls.name, name), float), (n,)).copy()
            elif isinstance(st.init, str):
                absval = np.asarray(p[st.init], float).copy()
            else:
                absval = np.full(n, st.init, dtype=int if isinstance(st.init, (int, np.integer)) and
                                 not isinstance(st.init, bool) else float)
            s[name] = np.asarray(cls.assign(p, s, name, absval)) if hasattr(cls, "assign") else absval
        return s

    # ------------------------------------------------------------------ connect
    def connect(self, pre, post, conn_spec=None, syn_spec=None, *, rule=None, synapse_model=None, synapse=None,
                weight=None, delay=None, receptor_type=None, **kwargs):
        """Connect ``pre`` to ``post`` (NEST's Connect), or attach a recorder.

        ``conn_spec``/``rule`` pick the rule (string, rule object or NEST dict; default all_to_all) and
        its keywords (``indegree=10``, ``p=0.1``, ``allow_autapses=False``, ...). ``syn_spec`` (dict or
        synapse spec) or ``synapse_model``/``synapse`` with ``weight``, ``delay`` (scalar, per-connection
        array or nx.random distribution) and ``receptor_type`` set the synapses.
        """
        self._check_nodes(pre, "pre")
        self._check_nodes(post, "post")
        if rule is None and conn_spec is not None:
            rule = conn_spec
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
        syn_model = syn.pop("synapse_model", synapse_model) or "static_synapse"
        scls = resolve_model(syn_model)[0]
        if weight is not None:
            syn["weight"] = weight
        if delay is not None:
            syn["delay"] = delay
        if receptor_type is not None:
            syn["receptor_type"] = receptor_type
        for name in list(kwargs):
            if name in scls.parameters:
                syn[name] = kwargs.pop(name)
        r = cr.make_rule(rule, kwargs)
        if kwargs:
            name = next(iter(kwargs))
            options = list(r.__dataclass_fields__) + list(scls.parameters) + ["weight", "delay", "receptor_type"]
            raise BadParameterError(f"connect: unknown argument {name!r} for rule {r.name} and synapse "
                                    f"{scls.name}.{did_you_mean(name, options)}")
        for name in syn:
            if name == "delay" and getattr(scls, "rate_kind", None) == "instantaneous":
                raise BadParameterError(f"connect: rate_connection_instantaneous has no delay (got delay = "
                                        f"{syn[name]!r}); use rate_connection_delayed for a delayed coupling.")
            if name not in scls.parameters:
                raise unknown_parameter(scls.name, name, scls.parameters)

        pre_g, post_g = pre._gids, post._gids
        pre_kinds = {self._blocks[i].model.kind for i in np.unique(self._block_index(pre_g))}
        post_kinds = {self._blocks[i].model.kind for i in np.unique(self._block_index(post_g))}
        if "recorder" in pre_kinds or "recorder" in post_kinds:
            return self._connect_recorder(pre, post, pre_kinds, post_kinds)
        if pre_kinds & {"current_source"} and not pre_kinds <= {"current_source"}:
            raise ConnectionError_("connect: mix current generators and spiking nodes in separate connect calls")

        self._check_signals(scls, pre_g, np.concatenate([pre_g, post_g]) if r.make_symmetric else post_g)
        src, tgt, i_pre, i_post = cr.generate_gids(r, pre_g, post_g, self._rng("connect"))
        n_conn = len(src)
        # weight: unit of the target model (symmetric rules also target the pre nodes)
        tgt_blocks = np.unique(self._block_index(np.concatenate([pre_g, post_g]) if r.make_symmetric else post_g))
        tgt_models = {self._blocks[i].model for i in tgt_blocks}
        for m in tgt_models:
            if m.kind != "neuron":
                raise ConnectionError_(f"connect: {m.name} cannot receive connections; only neurons (and "
                                       "recorders, as sim.connect(neurons, spike_recorder)) can be targets.")
        wunit = "pA" if pre_kinds == {"current_source"} else getattr(next(iter(tgt_models)), "weight_unit", "pA")
        w = self._conn_values(scls, "weight", syn.get("weight", scls.parameters["weight"].default), wunit,
                              n_conn, r, len(pre_g), len(post_g), i_pre, i_post)
        if "delay" in scls.parameters:
            dms = self._conn_values(scls, "delay", syn.get("delay", scls.parameters["delay"].default), "ms",
                                    n_conn, r, len(pre_g), len(post_g), i_pre, i_post)
            d = self._delay_steps(dms, scls.name)
        else:  # rate_connection_instantaneous: used in the step it is sent
            d = np.zeros((), np.int64)
        rec = np.broadcast_to(np.asarray(syn.get("receptor_type", 0)), (n_conn,)).astype(np.int64)
        tb_of_conn, present = self._block_split(tgt)
        for b in present:
            blk = self._blocks[b]
            # current generators feed receptor 0 (NEST's CurrentEvent port) or one of the model's current
            # receptors, spikes the model's range
            r_b = rec if len(present) == 1 else rec[tb_of_conn == b]
            if pre_kinds == {"current_source"}:
                allowed = sorted({0, *blk.model.current_ports})
                bad = ~np.isin(r_b, allowed)
                ok = " or ".join(map(str, allowed))
                what = " for current input"
            else:
                lo, hi = blk.model.receptor_range(blk.params)
                bad = (r_b < lo) | (r_b > hi)
                ok = f"{lo}" if lo == hi else f"{lo}..{hi}"
                what = ""
            if np.any(bad):
                raise ConnectionError_(f"connect: {blk.model.name} has no receptor_type {int(r_b[bad][0])}{what}; "
                                       f"expected {ok}.")
        if pre_kinds != {"current_source"}:
            self._check_payload(scls, pre_g, rec, tb_of_conn, present)
        extra = {}
        for name, spec in scls.parameters.items():
            if name in ("weight", "delay", "receptor_type"):
                continue
            extra[name] = self._conn_values(scls, name, syn.get(name, spec.default),
                                            wunit if spec.unit == "weight" else spec.unit,
                                            n_conn, r, len(pre_g), len(post_g), i_pre, i_post)
        del i_pre, i_post
        if getattr(scls, "plastic", False):
            self._check_plastic(scls, pre_kinds, w, extra)
        self._conns.append(ConnRecord(src, tgt, w, d, rec, scls.name, extra))
        self._structure_changed()

    def _check_payload(self, scls, pre_g, rec, tb_of_conn, present):
        """Receptors that scale a spike by a value its sender computes (iaf_tum_2000's receptor 1: u x)
        take spikes only from senders that compute it."""
        for b in present:
            tm = self._blocks[b].model
            pr = getattr(tm, "payload_receptors", ())
            r_b = rec if len(present) == 1 else rec[tb_of_conn == b]
            if pr and not np.isin(r_b, pr).all():
                for i in np.unique(self._block_index(pre_g)):
                    if self._blocks[int(i)].model is tm:  # NEST: IllegalConnection
                        raise ConnectionError_(f"connect: {tm.name} neurons must be connected to each other via "
                                               f"receptor_type {pr[0]} (got {int(r_b[~np.isin(r_b, pr)][0])}), "
                                               "as in NEST.")
            if not pr or not np.isin(r_b, pr).any():
                continue
            r = int(r_b[np.isin(r_b, pr)][0])
            for i in np.unique(self._block_index(pre_g)):
                m = self._blocks[int(i)].model
                if not getattr(m, "payload_state", ""):
                    raise ConnectionError_(
                        f"connect: receptor_type {r} of {tm.name} scales each spike by the sender's u x, which "
                        f"{m.name} does not send (NEST multiplies its spikes by 0 there); connect it to "
                        "receptor_type 0, or send from an iaf_tum_2000.")
            if getattr(scls, "plastic", False):
                raise ConnectionError_(f"connect: {scls.name} onto receptor_type {r} of {tm.name} is not supported.")

    def _check_signals(self, scls, pre_g, post_g):
        """NEST's compatibility of senders and receivers: spiking, binary and rate neurons only talk to
        their own kind (rate neurons only through rate connections)."""
        pre = [self._blocks[i].model for i in np.unique(self._block_index(pre_g))]
        post = [self._blocks[i].model for i in np.unique(self._block_index(post_g))]
        rate_syn = getattr(scls, "rate_kind", None)
        if rate_syn:
            for m in pre + post:
                if m.signal != "rate":
                    what = {"spike": "a spiking neuron", "binary": "a binary neuron"}[m.signal] \
                        if m.kind == "neuron" else "a " + m.kind.replace("_", " ")
                    raise ConnectionError_(f"connect: {scls.name} connects rate neurons; {m.name} is not a rate "
                                           f"neuron (it is {what}).")
            return
        for m in post:
            if m.signal == "rate" and any(x.kind == "current_source" for x in pre):
                raise ConnectionError_(f"connect: {m.name} is a rate neuron and takes no current input; drive it "
                                       "with its parameter mu or with other rate neurons.")
        for m in pre + post:
            if m.signal == "rate":
                raise ConnectionError_(
                    f"connect: {m.name} is a rate neuron; connect rate neurons with synapse_model="
                    f"'rate_connection_delayed' or 'rate_connection_instantaneous' (not {scls.name}), and "
                    "only to other rate neurons.")
        binary_post = [m for m in post if m.signal == "binary"]
        binary_pre = [m for m in pre if m.signal == "binary"]
        if binary_post:
            for m in pre:
                if not (m.signal == "binary" or m.name == "noise_generator"):
                    raise ConnectionError_(
                        f"connect: {binary_post[0].name} is a binary neuron; it takes input from binary "
                        f"neurons and from a noise_generator only, not from {m.name} (NEST refuses "
                        "spiking sources and other current generators too; nestax also refuses "
                        "spike_generator and parrot_neuron, whose multiplicity NEST reads as transitions).")
        if binary_pre:
            for m in post:
                if m.signal != "binary":
                    raise ConnectionError_(
                        f"connect: {binary_pre[0].name} is a binary neuron; its state transitions go to binary "
                        f"neurons and spike recorders only, not to {m.name}.")
        if getattr(scls, "plastic", False) and (binary_pre or binary_post):
            raise ConnectionError_(f"connect: {scls.name} between binary neurons is not supported.")

    @staticmethod
    def _check_plastic(scls, pre_kinds, w, extra):
        if pre_kinds != {"neuron"}:
            raise ConnectionError_(f"connect: {scls.name} needs neurons as sources; put a parrot_neuron "
                                   "between a generator and the plastic synapses.")
        wmax = np.asarray(extra["Wmax"])
        if np.any(np.sign(np.asarray(w)) * np.sign(wmax) < 0):
            raise BadParameterError(f"{scls.name}: weight and Wmax must have the same sign.")
        for name in ("tau_plus", "tau_minus"):
            if np.any(np.asarray(extra[name]) <= 0):
                raise BadParameterError(f"{scls.name}: parameter {name!r} must be > 0 ms.")

    def _conn_values(self, scls, name, value, unit, n_conn, r, n_pre, n_post, i_pre, i_post):
        where = f"{scls.name}"
        if isinstance(value, Distribution):
            if r.make_symmetric:
                raise BadParameterError(f"{where}: {name} must be a scalar for rule {r.name} with symmetric "
                                        "connections (NEST: 'Symmetric connections require parameters that "
                                        "can be reset').")
            return value.sample(self._rng(f"conn {name}"), n_conn, "1" if unit == "any" else unit,
                                f"{where}.{name}")
        if unit == "any":  # targets that ignore the weight's unit (parrot_neuron)
            value = value.mantissa if hasattr(value, "mantissa") else value
            unit = "1"
        v = np.asarray(to_nest(value, unit, where, name), float)
        if v.ndim == 0:  # one value for every connection: kept as a scalar (ConnRecord stores it once)
            return v
        # NEST's accepted array shapes per rule; symmetric rules repeat values for the reverse direction
        return cr.connection_values(r, name, v, n_pre, n_post, i_pre, i_post, where)

    def _delay_steps(self, dms, model="static_synapse"):
        if np.any(np.isnan(dms)):
            raise BadParameterError(f"{model}: delay is NaN; expected a value >= the resolution {self.dt} ms.")
        # NEST: Time::delay_ms_to_steps = ld_round(ms * STEPS_PER_MS), half rounds up (0.85 -> 9 steps,
        # 0.05 -> 1 step, 0.04999 -> 0 steps: an error)
        steps = np.floor(np.asarray(dms, float) * (_TICS_PER_MS / self._tics_per_step) + 0.5).astype(np.int64)
        bad = steps < 1
        if np.any(bad):
            raise BadParameterError(f"{model}: delay = {dms[bad][0]} ms is invalid; expected a value >= the "
                                    f"resolution {self.dt} ms.")
        return steps

    def _check_nodes(self, nodes, what):
        if not isinstance(nodes, NodeCollection) or nodes._sim is not self:
            raise TypeError(f"connect: {what} must be a NodeCollection of this Simulator, got {nodes!r}")
        if len(nodes) == 0:
            raise ConnectionError_(f"connect: {what} is empty")

    def _connect_recorder(self, pre, post, pre_kinds, post_kinds):
        if post_kinds == {"recorder"}:
            for g in post._gids:
                m = self._block_of(g).model
                if getattr(m, "direction", "in") == "out":
                    raise ConnectionError_(
                        f"connect: a {m.name} observes its targets; connect it the other way round: "
                        f"sim.connect({m.name}, neurons).")
            if not pre_kinds <= {"neuron", "spike_source"}:
                raise ConnectionError_("connect: a spike_recorder records neurons and spike generators only.")
            for i in np.unique(self._block_index(pre._gids)):
                m = self._blocks[int(i)].model
                if m.signal == "rate":
                    raise ConnectionError_(f"connect: {m.name} is a rate neuron and sends no spikes; record its "
                                           "'rate' with a multimeter.")
            for g in post._gids:
                self._sr_links.setdefault(int(g), [])
                self._sr_links[int(g)] = sorted(set(self._sr_links[int(g)]) | set(pre._gids.tolist()))
        elif pre_kinds == {"recorder"}:
            for g in pre._gids:
                m = self._block_of(g).model
                if getattr(m, "direction", "in") == "in":
                    raise ConnectionError_(
                        f"connect: a {m.name} receives spikes; connect the senders to it: "
                        f"sim.connect(neurons, {m.name}).")
                rf = self._blocks[int(self._block_index([g])[0])].params["record_from"][g - self._block_of(g).gid0]
                for tg in post._gids:
                    tm = self._block_of(tg).model
                    rec = tm.recordables()
                    for var in rf:
                        if var not in rec:
                            raise BadParameterError(
                                f"{m.name}: cannot record {var!r} from {tm.name}.{did_you_mean(var, rec)} "
                                f"{tm.name} records: {', '.join(rec) or 'nothing'}.")
                self._mm_links.setdefault(int(g), [])
                self._mm_links[int(g)] = self._mm_links[int(g)] + [x for x in post._gids.tolist()
                                                                   if x not in self._mm_links[int(g)]]
        else:
            raise ConnectionError_("connect: recorders connect to neurons or generators, not to each other.")
        self._structure_changed()

    def _structure_changed(self):
        self._sync_state_to_host()  # before dropping the compiled run: it is what the sync reads
        self._structure_version += 1
        self._compiled = None

    # ------------------------------------------------------------------ set / get
    def _groups(self, nodes):
        """Yield (block, local indices) for the nodes, grouped by block."""
        bi = self._block_index(nodes._gids)
        for b in np.unique(bi):
            blk = self._blocks[int(b)]
            yield blk, nodes._gids[bi == b] - blk.gid0

    def set(self, nodes, params: dict | None = None, **kwargs):
        """Set parameters or state variables of ``nodes`` (NEST's SetStatus)."""
        given_all = _unkeyword({**(params or {}), **kwargs})
        self._sync_state_to_host()
        for blk, idx in self._groups(nodes):
            cls = blk.model
            given = _aliased(cls, given_all)
            known = list(cls.parameters) + list(cls.state)
            for name in given:
                if name not in known:
                    raise unknown_parameter(cls.name, name, known)
            # absolute values of state variables before the change (V_m relative to E_L internally)
            absolute = {n: np.array(self._observe(blk, n)) for n in blk.state}  # copies: written below
            newp = {k: (v.copy() if isinstance(v, np.ndarray) else list(v)) for k, v in blk.params.items()}
            for name, value in given.items():
                if name in cls.parameters:
                    spec = cls.parameters[name]
                    vals = self._param_values(cls, name, spec, value, len(idx))
                    if isinstance(newp[name], list):
                        for j, i in enumerate(idx):
                            newp[name][i] = vals[j]
                    else:
                        newp[name][idx] = vals
            cls.check(newp)
            blk.params = newp
            if self._compiled is not None and cls.kind == "neuron":
                # the compiled run takes neuron parameters as arguments: refresh them (no recompilation)
                fdt = self._float()
                b = next(i for i, x in enumerate(self._blocks) if x is blk)
                self._compiled[1]["params"][b] = {k: np.asarray(v, fdt if np.asarray(v).dtype.kind == "f" else None)
                                                  for k, v in newp.items() if not isinstance(v, list)}
            for name in blk.state:
                if name in given:
                    v = given[name]
                    if isinstance(v, Distribution):
                        v = v.sample(self._rng(f"state {name}"), len(idx), cls.state[name].unit, cls.name)
                    absolute[name][idx] = np.asarray(to_nest(v, cls.state[name].unit, cls.name, name), float)
                blk.state[name] = np.asarray(cls.assign(blk.params, blk.state, name, absolute[name])
                                             ).astype(blk.state[name].dtype)
            if cls.kind in ("spike_source", "current_source", "recorder"):
                self._compiled = None  # host-side tables depend on these parameters
        self._run_state = None

    def _observe(self, blk, name):
        if hasattr(blk.model, "observe"):
            return blk.model.observe(blk.params, blk.state, name)
        return blk.state[name]

    def get(self, nodes, *names, unit=True):
        """Parameters / state of ``nodes``: one name -> array (Quantity); several -> dict; none -> all."""
        self._sync_state_to_host()
        single = len(names) == 1
        out = {}
        for blk, idx in self._groups(nodes):
            cls = blk.model
            names_ = names or tuple(cls.parameters) + tuple(n for n in cls.recordables() if n in cls.state)
            for name in names_:
                if name in cls.parameters:
                    v = blk.params[name]
                    v = [v[i] for i in idx] if isinstance(v, list) else np.asarray(v)[idx]
                    u_ = cls.parameters[name].unit
                elif name in cls.state:
                    v = np.asarray(self._observe(blk, name))[idx]
                    u_ = cls.state[name].unit
                else:
                    raise unknown_parameter(cls.name, name, list(cls.parameters) + list(cls.state))
                out.setdefault(name, []).append((v, u_))
        res = {}
        for name, parts in out.items():
            if isinstance(parts[0][0], list):
                vals = sum((p[0] for p in parts), [])
                res[name] = vals[0] if len(vals) == 1 else vals
                continue
            v = np.concatenate([p[0] for p in parts])
            v = v[0] if len(v) == 1 else v
            res[name] = with_unit(v, parts[0][1]) if unit else v
        return res[names[0]] if single else res

    # ------------------------------------------------------------------ connections
    def connections(self, source=None, target=None, synapse_model=None):
        """Connections as a record with .sources .targets (global ids) .weights .delays (Quantity)."""
        from .result import Connections
        self._sync_state_to_host()  # plastic weights change during a run
        parts = [c for c in self._conns if synapse_model is None or c.synapse == resolve_model(synapse_model)[0].name]
        if not parts:
            return Connections(np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(0), np.zeros(0, int),
                               [], self.dt)
        src = np.concatenate([c.src for c in parts]).astype(np.int64)
        tgt = np.concatenate([c.tgt for c in parts]).astype(np.int64)
        w = np.concatenate([c.take("weight") for c in parts])
        d = np.concatenate([c.take("delay") for c in parts]) * self.dt
        rec = np.concatenate([c.take("receptor") for c in parts])
        syn = np.repeat(np.array([c.synapse for c in parts]), [len(c) for c in parts])
        keep = np.ones(len(src), bool)
        if source is not None:
            keep &= np.isin(src, source._gids)
        if target is not None:
            keep &= np.isin(tgt, target._gids)
        return Connections(src[keep], tgt[keep], w[keep], d[keep], rec[keep], syn[keep].tolist(), self.dt)

    # ------------------------------------------------------------------ run
    def reset(self):
        """Back to t = 0 with the same network and the initial state."""
        self.k = 0
        self._run_state = None
        self._pending_row0 = {}
        self._ring_backup = {}  # no input in flight at t = 0
        self._post_hist = {}
        for c, w0 in zip(self._conns, getattr(self, "_t0_weights", [])):
            if c.plastic is not None:  # plastic weights back to their values at the first simulate
                c.weight, c.plastic = w0, None
        t0 = getattr(self, "_t0_states", None) or []
        for i, blk in enumerate(self._blocks):
            if blk.model.kind == "neuron":
                # the state the first simulate call started from (create's values, sets before it)
                blk.state = ({k: v.copy() for k, v in t0[i].items()} if i < len(t0) and t0[i] is not None
                             else self._initial_state(blk.model, blk.params, blk.n, {}))

    def cont(self, duration, **kw):
        """Same as :meth:`simulate` (brainpy.state spelling)."""
        return self.simulate(duration, **kw)

    def run(self, duration, **kw):
        return self.simulate(duration, **kw)

    def simulate(self, duration, progress: bool = False) -> Result:
        """Advance the network by ``duration`` and return the recordings of this window."""
        T = float(np.asarray(to_nest(duration, "ms", "simulate", "duration")))
        if T < 0 or not np.isfinite(T):
            raise BadParameterError(f"simulate: duration = {T} ms is invalid; expected a finite value >= 0 ms.")
        x = T / self.dt
        n_steps = int(round(x))
        if abs(x - n_steps) > 1e-9 * max(1.0, x):
            raise BadParameterError(f"simulate: duration = {T} ms is not a multiple of the resolution {self.dt} ms.")
        t_build = _time.perf_counter()
        if self.k == 0:  # remember the initial state for reset()
            self._sync_state_to_host()
            self._t0_states = [{k: np.array(v) for k, v in b.state.items()} if b.model.kind == "neuron" else None
                               for b in self._blocks]
            self._t0_weights = [c.weight.copy() if c.plastic is None else c.weight for c in self._conns]
        if self._compiled is None:
            self._compile_plan()
        if self._run_state is None:
            self._run_state = self._initial_run_state()
        self.timings["prepare_s"] = _time.perf_counter() - t_build
        k0 = self.k
        collector = _Collector(self, k0, n_steps)
        plan, arrays, fn_cache, chunk = self._compiled
        accel = self._fixed_capacity()

        def chunk_fn(n_valid):
            """The compiled chunk and whether it has run before (its first call includes compiling)."""
            # full chunks run unmasked; a final partial chunk uses the masked variant
            key = (chunk, n_valid < chunk)
            if key not in fn_cache:
                n_total = sum(nb.n for nb in plan.neurons)
                # unrolling amortises the per-iteration overhead of tiny networks (one neuron: 1.4 ->
                # 0.4 us per step) but slows larger ones (CUBA, 4,000 neurons: 77 -> 60 us per step
                # without recording, 153 -> 86 us recording every spike)
                unroll = 4 if n_total <= UNROLL_MAX_NEURONS else 1
                fn_cache[key] = [er.make_chunk_fn(plan, self._models, chunk, masked=n_valid < chunk, unroll=unroll,
                                                  donate=not accel), False]
            entry = fn_cache[key]
            warm, entry[1] = entry[1], True
            return entry[0], warm
        bar = None
        if progress:
            try:
                from tqdm.auto import tqdm
                bar = tqdm(total=n_steps, unit="step", desc="simulate")
            except ImportError:  # pragma: no cover
                bar = None
        done = 0
        t_compile = t_run = 0.0
        while done < n_steps:
            n_valid = min(chunk, n_steps - done)
            while True:
                fn, warm = chunk_fn(n_valid)
                t0 = _time.perf_counter()
                carry, out = fn(arrays, self._run_state, jnp.asarray(self.k, jnp.int32),
                                jnp.asarray(n_valid, jnp.int32))
                out = jax.device_get(out)
                carry = jax.block_until_ready(carry)
                if warm:
                    t_run += _time.perf_counter() - t0
                else:
                    t_compile += _time.perf_counter() - t0
                if not self._grow_capacity(plan, carry, fn_cache):
                    break
                # a step had more spiking sources than the fixed-capacity delivery handles: rerun the
                # chunk from its start with a larger capacity (random streams depend on the step
                # only, so the rerun reproduces the same network activity; nothing is dropped)
            self._run_state = carry
            collector.add(out, self.k, n_valid)
            self.k += n_valid
            done += n_valid
            if bar is not None:
                bar.update(n_valid)
        if bar is not None:
            bar.close()
        self.timings.update(first_chunk_s=t_compile, run_s=t_run)
        if int(self._run_state["stdp_overflow"]):
            raise NestaxError(
                f"stdp_synapse: a postsynaptic neuron fired more than sim.stdp_history = {self.stdp_history} "
                "spikes between two spikes of one of its presynaptic neurons, so the weight update would have "
                "missed spikes; the weights of this run are wrong. Set sim.stdp_history to a larger value "
                "before connecting (or call sim.reset()) and simulate again.")
        return collector.result()

    @staticmethod
    def _fixed_capacity() -> bool:
        """Event delivery with a fixed number of spikes per step, or looping batches (the default).

        NESTAX_DELIVERY=capacity selects the fixed-capacity kernel (experimental; tested on CPU).
        """
        import os
        # Measured on an H200 (Brunel 12,500): the looping kernel ran 1536 steps/s, the fixed-capacity
        # kernel 323 steps/s, because the capacity grows to the largest burst (the synchronous first
        # wave) and every later step pays for it. So 'auto' loops everywhere for now.
        return os.environ.get("NESTAX_DELIVERY", "loop") == "capacity"

    def _grow_capacity(self, plan, carry, fn_cache) -> bool:
        """After a chunk: True (and larger capacities, fresh compiled code) if a capacity overflowed."""
        grown = False
        for pp in plan.projections:
            if pp.capacity and pp.src_block in carry["max_active"]:
                seen = int(carry["max_active"][pp.src_block])
                if seen > pp.capacity:
                    new = int(min(pp.n_pre, 1 << int(np.ceil(np.log2(seen * 1.25)))))
                    self._capacity[pp.src_block] = new
                    pp.capacity = new
                    grown = True
        if grown:
            fn_cache.clear()
        return grown

    # -------------------------------------------------------------- engine glue
    def _sync_state_to_host(self):
        """Copy the device state back into the blocks (before a structure change, set or get)."""
        rs = self._run_state
        if rs is None or self._compiled is None:
            return
        plan = self._compiled[0]
        for i, nb in enumerate(plan.neurons):
            blk = self._blocks[nb.block]
            blk.state = {k: np.asarray(v) for k, v in rs["states"][i].items()}
        ring = np.asarray(rs["ring"]).reshape(plan.D, plan.S).copy()
        ring[self.k % plan.D] += np.asarray(rs["cur"])
        self._ring_backup = {nb.block: ring[:, nb.offset:nb.offset + nb.slot_size].copy() for nb in plan.neurons}
        self._ptr_backup = {b: np.asarray(v) for b, v in rs["sg_ptr"].items()}
        # plastic synapses: current weights and traces back into the connection records
        for j, parts in getattr(self, "_plastic_parts", {}).items():
            st = {k: np.asarray(v) for k, v in rs["plastic"][j].items()}
            off = 0
            for ci, m in parts:
                c = self._conns[ci]
                n_m = int(m.sum())
                if c.plastic is None:
                    c.plastic = {"kplus": np.zeros(len(c.src)), "t_last": np.zeros(len(c.src), np.int64)}
                if c.weight.ndim == 0:
                    c.weight = np.full(len(c.src), float(c.weight))
                c.weight[m] = st["w"][off:off + n_m]
                c.plastic["kplus"][m] = st["kplus"][off:off + n_m]
                c.plastic["t_last"][m] = st["t_last"][off:off + n_m]
                off += n_m
        self._post_hist = {b: {k: np.asarray(v) for k, v in h.items()} for b, h in rs["post"].items()}

    def _float(self):
        """The float type of the run: ``precision`` if given, else float64 when jax's x64 mode is on."""
        if self.precision is not None:
            return np.float32 if self.precision == 32 else np.float64
        return np.float64 if jax.config.jax_enable_x64 else np.float32

    def _compile_plan(self):
        self._sync_state_to_host()
        blocks = self._blocks
        self._models = {i: b.model for i, b in enumerate(blocks)}
        fdt = self._float()
        # connections grouped by source block; one projection may feed several target blocks
        groups = {}
        plastic_groups = {}  # (source block, target block, synapse) -> [(connection record index, mask)]
        rate_groups = {}     # (source block, target block, 'delayed' | 'instantaneous') -> same
        D = 2
        for ci, c in enumerate(self._conns):
            if len(c.src) == 0:
                continue
            D = max(D, int(c.delay.max()) + 1)
            sb, present = self._block_split(c.src)
            if getattr(lookup(c.synapse), "rate_kind", None):
                tb, present_t = self._block_split(c.tgt)
                for ks in present:
                    for kt in present_t:
                        m = (sb == ks) & (tb == kt)
                        if m.any():
                            rate_groups.setdefault((ks, kt, lookup(c.synapse).rate_kind), []).append((ci, m))
                continue
            if lookup(c.synapse).__dict__.get("plastic", False):
                tb, present_t = self._block_split(c.tgt)
                for ks in present:
                    for kt in present_t:
                        m = np.ones(len(c.src), bool)
                        if len(present) > 1:
                            m &= sb == ks
                        if len(present_t) > 1:
                            m &= tb == kt
                        if m.any():
                            plastic_groups.setdefault((ks, kt, c.synapse), []).append((ci, m))
                continue
            for key in present:
                m = slice(None) if len(present) == 1 else sb == key
                groups.setdefault(key, []).append((c, m))
        neuron_blocks = [i for i, b in enumerate(blocks) if b.model.kind == "neuron"]
        # recorders
        rec_spk_gids = sorted({g for v in self._sr_links.values() for g in v})
        rec_spk = {}
        for g in rec_spk_gids:
            b = int(self._block_index([g])[0])
            rec_spk.setdefault(b, []).append(g - blocks[b].gid0)
        mm_vars, mm_idx = {}, {}
        rec_I = {}
        for mg, targets in self._mm_links.items():
            mb = self._block_of(mg)
            rf = mb.params["record_from"][mg - mb.gid0]
            for tg in targets:
                b = int(self._block_index([tg])[0])
                if blocks[b].model.kind == "current_source":
                    rec_I[b] = True
                    continue
                mm_vars.setdefault(b, set()).update(rf)
                mm_idx.setdefault(b, set()).add(tg - blocks[b].gid0)
        neurons, offset = [], 0
        nb_of = {}
        for b in neuron_blocks:
            blk = blocks[b]
            nb = er.NeuronBlockPlan(b, blk.n, len(blk.model.port_names(blk.params)), b in rec_spk,
                                    tuple(sorted(mm_vars.get(b, ()))), offset)
            offset += nb.slot_size
            nb_of[b] = nb
            neurons.append(nb)
        S = max(offset, 1)
        pad_index = neurons[0].offset + neurons[0].n if neurons else 0  # a spare column nobody reads
        projections, proj_arrays = [], []
        sources = {}
        for sb, parts in sorted(groups.items()):
            src_blk = blocks[sb]
            def gather(field, parts=parts):
                return _gather(parts, field)
            src = (gather("src") - src_blk.gid0).astype(np.int32)
            tgt, w, d, rec = gather("tgt"), gather("weight"), gather("delay"), gather("receptor")
            current = src_blk.model.kind == "current_source"
            # per target block: port, sign factor and the index of each synapse within a ring slot
            tb, present = self._block_split(tgt)
            flat = np.empty(len(src), np.int32)  # position within a ring slot
            val_w = np.empty(len(src), fdt)
            neg = None
            only_parrots = True
            payload = np.zeros(len(src), bool)  # spikes scaled by a value the sender sends with them
            for b in present:
                m = tb == b if len(present) > 1 else slice(None)
                nb, tm = nb_of[int(b)], blocks[int(b)].model
                if not current and getattr(tm, "payload_receptors", ()):
                    payload[m] = np.isin(np.asarray(rec[m]), tm.payload_receptors)
                local = tgt[m] - blocks[int(b)].gid0
                counts = bool(getattr(tm, "counts_input", False))
                only_parrots &= counts
                if current:
                    port, scale = np.full(local.shape, nb.n_ports), np.ones(local.shape)
                    names = tm.port_names(blocks[int(b)].params)
                    for r_cur, pname in tm.current_ports.items():
                        port = np.where(np.asarray(rec[m]) == r_cur, names.index(pname), port)
                else:
                    port, scale = tm.route(w[m], rec[m])
                flat[m] = nb.offset + port * (nb.n + 1) + local
                # parrots repeat the multiplicity: their synapses carry weight 1
                val_w[m] = 1.0 if counts else w[m] * scale
                if (src_blk.model.name == "spike_generator" and not counts
                        and src_blk.model.has_negative_weights(src_blk.params)):
                    # spikes with a negative spike_weight flip the sign of the connection weight: they go
                    # to the port (and scale) that the target routes the negated weight to
                    if neg is None:
                        neg = (flat.copy(), np.zeros(len(src), fdt))
                    port_n, scale_n = tm.route(-w[m], rec[m])
                    neg[0][m] = nb.offset + port_n * (nb.n + 1) + local
                    neg[1][m] = w[m] * scale_n
            if src_blk.model.kind == "neuron":
                # connections whose spikes carry the sender's payload (iaf_tum_2000's u x) go apart
                for sel, carried in ((~payload, ""), (payload, getattr(src_blk.model, "payload_state", ""))):
                    if not sel.any():
                        continue
                    sub = (lambda x: x) if sel.all() else (lambda x, sel=sel: x[sel])
                    pp, arr = dl.build_projection(sb, 0, src_blk.n, sub(src), sub(flat), sub(val_w), sub(d),
                                                  False, pad_index)
                    pp.payload = carried
                    if pp.mode == "event" and self._fixed_capacity():
                        pp.capacity = self._capacity.get(sb, int(min(src_blk.n, max(256, src_blk.n // 32))))
                    projections.append(pp)
                    proj_arrays.append(arr)
                continue
            # binary neurons use a current in the step it arrives (NEST's binary_neuron), every other
            # model one step later: their generators emit one step ahead (lead 1)
            subsets = [(slice(None), 0)]
            if current:
                binary = np.array([blocks[int(b)].model.signal == "binary" for b in self._block_index(tgt)])
                if binary.any():
                    subsets = [(m, lead) for m, lead in ((~binary, 0), (binary, 1)) if m.any()]
            for m, lead in subsets:
                s_src, s_flat, s_w, s_d = src[m], flat[m], val_w[m], d[m]
                const_w = bool(np.all(s_w == s_w[0]))
                const_d = bool(np.all(s_d == s_d[0]))
                pp = dl.ProjectionPlan(sb, 0, "dense", src_blk.n, len(s_src), const_w=const_w, const_d=const_d,
                                       counts=only_parrots, lead=lead)
                arr = {"src": s_src.astype(np.int32), "tgt": s_flat.astype(np.int32),
                       "w": np.asarray(s_w[:1] if const_w else s_w, fdt),
                       "d": np.asarray(s_d[:1] if const_d else s_d, np.int32)}
                pp.contiguous = bool(const_d and neg is None and len(s_flat) > 1 and np.all(np.diff(s_flat) == 1))
                if neg is not None:
                    arr["tgt_neg"] = neg[0].astype(np.int32)
                    arr["w_neg"] = neg[1]
                if hasattr(src_blk.model, "emit_table"):
                    rates = np.asarray(src_blk.params["rate"])[np.unique(s_src)]
                    if np.all(rates == rates[0]):
                        from .models.devices.generators import poisson_cdf_table
                        cdf = poisson_cdf_table(float(rates[0]) * self.dt / 1000.0, fdt)
                        if cdf is not None:
                            pp.poisson_table = len(cdf)
                            arr["cdf"] = cdf
                sources.setdefault(sb, []).append(len(projections))
                projections.append(pp)
                proj_arrays.append(arr)
        self._plastic_parts = self._plastic_projections(plastic_groups, nb_of, fdt, projections, proj_arrays)
        rate_plans, rate_arrays = self._rate_projections(rate_groups, nb_of, fdt)
        # spike sources recorded directly by spike recorders: one stream per (generator, recorder)
        rec_dev = []
        for srg, senders in sorted(self._sr_links.items()):
            for g in senders:
                b = int(self._block_index([g])[0])
                if blocks[b].model.kind == "spike_source":
                    pp = dl.ProjectionPlan(b, -1, "dense", blocks[b].n, 1, const_w=True, const_d=True, counts=True)
                    arr = {"src": np.array([g - blocks[b].gid0], np.int32), "tgt": np.zeros(1, np.int32),
                           "w": np.ones(1, fdt), "d": np.ones(1, np.int32)}
                    sources.setdefault(b, []).append(len(projections))
                    rec_dev.append((len(projections), srg, g))
                    projections.append(pp)
                    proj_arrays.append(arr)
        for b in rec_I:
            sources.setdefault(b, [])
        itemsize = np.dtype(fdt).itemsize
        source_plans = [er.SourcePlan(b, blocks[b].model.kind, blocks[b].n, sources[b], rec_I.get(b, False),
                                      blocks[b].model.static_args(blocks[b].params, self.dt, itemsize))
                        for b in sorted(sources)]
        plan = er.Plan(self.dt, D, S, neurons, source_plans, projections, rec_dev,
                       post_blocks=sorted(self._post_tau), tics_per_step=self._tics_per_step,
                       rate_projections=rate_plans)
        # arrays (arguments of the compiled function)
        params, host, keys = {}, {}, {}
        for b, blk in enumerate(blocks):
            if blk.model.kind in ("neuron", "spike_source", "current_source"):
                params[b] = {k: np.asarray(v, fdt if np.asarray(v).dtype.kind == "f" else None)
                             for k, v in blk.params.items() if not isinstance(v, list)}
            if blk.model.kind == "neuron" and blk.model.stochastic:
                keys[b] = jax.random.fold_in(jax.random.PRNGKey(self.seed), blk.gid0)
            if blk.model.kind in ("spike_source", "current_source"):
                host[b] = {k: np.asarray(v, fdt if np.asarray(v).dtype.kind == "f" else None)
                           for k, v in blk.model.host_arrays(blk.params, self.dt).items()}
                seed = self.seed
                if "rng_seed" in blk.params and int(blk.params["rng_seed"][0]) >= 0:
                    seed = int(blk.params["rng_seed"][0])
                keys[b] = jax.random.fold_in(jax.random.PRNGKey(seed), blk.gid0)
        rec_idx = {b: np.array(sorted(v), np.int32) for b, v in rec_spk.items()}
        mm_idx_arr = {b: np.array(sorted(v), np.int32) for b, v in mm_idx.items()}
        post_arr = {b: {"tau_minus_inv": np.asarray(1.0 / tm, fdt)} for b, tm in self._post_tau.items()}
        arrays = jax.device_put({"params": params, "host": host, "keys": keys, "proj": proj_arrays,
                                 "rate": rate_arrays,
                                 "rec_idx": rec_idx, "mm_idx": mm_idx_arr, "post": post_arr})
        self._rec_layout = {"spk": {b: blocks[b].gid0 + np.array(sorted(v)) for b, v in rec_spk.items()},
                            "mm": {b: blocks[b].gid0 + np.array(sorted(v)) for b, v in mm_idx.items()},
                            "I": {b: blocks[b].gids for b in rec_I}}
        # chunk length from the recording budget
        per_step = 4 * sum(len(v) for v in rec_spk.values()) + 8 * sum(
            len(mm_idx[b]) * len(mm_vars[b]) for b in mm_idx) + 8 * sum(blocks[b].n for b in rec_I) + 4 * len(rec_dev) + 16
        chunk = int(max(1, min(self.max_chunk, self.chunk_bytes // per_step)))
        self._compiled = (plan, arrays, {}, chunk)
        self._run_state = None

    def _rate_projections(self, rate_groups, nb_of, fdt):
        """Rate connections, one dense projection per (source block, target block, kind)."""
        blocks = self._blocks
        plans, arrays = [], []
        for (sb, tb, kind), parts in sorted(rate_groups.items()):
            recs = [(self._conns[ci], m) for ci, m in parts]

            def gather(field, recs=recs):
                return _gather(recs, field)
            src = (gather("src") - blocks[sb].gid0).astype(np.int32)
            tgt = (gather("tgt") - blocks[tb].gid0).astype(np.int32)
            w, d, rec = gather("weight"), gather("delay"), gather("receptor")
            nb, tm = nb_of[tb], blocks[tb].model
            port, scale = tm.route(w, rec)
            flat = nb.offset + np.asarray(port) * (nb.n + 1) + tgt
            plans.append(er.RateProjectionPlan(sb, tb, kind == "instantaneous"))
            arrays.append({"src": src, "tgt_local": tgt, "flat": flat.astype(np.int32),
                           "w": np.asarray(w * scale, fdt), "d": np.asarray(d, np.int32)})
        return plans, arrays

    def _plastic_projections(self, plastic_groups, nb_of, fdt, projections, proj_arrays):
        """Plastic projections (one per source block, target block and synapse model): dense, with the
        weights in the run state. Returns, per projection index, the (record index, mask) parts."""
        from .models.synapses import stdp as sd
        blocks = self._blocks
        parts_of = {}
        post_tau = {}
        for (sb, tb, syn), parts in sorted(plastic_groups.items()):
            src_blk, tgt_blk = blocks[sb], blocks[tb]
            recs = [(self._conns[ci], m) for ci, m in parts]

            def gather(field, recs=recs):
                return _gather(recs, field)

            def gather_p(name, recs=recs):
                xs = [np.broadcast_to(c.params[name], (len(c.src),))[m] for c, m in recs]
                return np.concatenate(xs)
            src = (gather("src") - src_blk.gid0).astype(np.int32)
            tgt = (gather("tgt") - tgt_blk.gid0).astype(np.int32)
            w, d, rec = gather("weight"), gather("delay"), gather("receptor")
            nb, tm = nb_of[tb], tgt_blk.model
            counts = bool(getattr(tm, "counts_input", False))
            # the port (and sign factor) follow Wmax, which has the weight's sign and is never 0: a weight
            # depressed to 0 stays on its receptor
            port, scale = tm.route(np.asarray(gather_p("Wmax"), float), rec)
            flat = nb.offset + np.asarray(port) * (nb.n + 1) + tgt
            arr = {"src": src, "tgt_local": tgt, "flat": flat.astype(np.int32), "d": np.asarray(d, np.int32),
                   "scale": np.broadcast_to(np.asarray(scale, fdt), (len(src),)).copy()}
            for name in sd.PLASTIC_PARAMS:
                if name != "tau_minus":
                    arr[name] = np.asarray(gather_p(name), fdt)
            post_tau.setdefault(tb, []).append((tgt, gather_p("tau_minus")))
            pp = dl.ProjectionPlan(sb, tb, "plastic", src_blk.n, len(src), counts=counts)
            parts_of[len(projections)] = parts
            projections.append(pp)
            proj_arrays.append(arr)
        for tb, lst in post_tau.items():
            # tau_minus belongs to the postsynaptic neuron (NEST): all plastic inputs of a neuron share it
            n = blocks[tb].n
            t = np.concatenate([x[0] for x in lst])
            v = np.concatenate([x[1] for x in lst])
            lo, hi = np.full(n, np.inf), np.full(n, -np.inf)
            np.minimum.at(lo, t, v)
            np.maximum.at(hi, t, v)
            bad = np.nonzero(np.isfinite(lo) & (lo != hi))[0]
            if len(bad):
                raise ConnectionError_(f"connect: the stdp connections onto neuron {blocks[tb].gid0 + int(bad[0])} "
                                       "have different tau_minus; in NEST it is one parameter of the "
                                       "postsynaptic neuron.")
            post_tau[tb] = np.where(np.isfinite(lo), lo, 20.0)
        self._post_tau = post_tau
        return parts_of

    def _initial_run_state(self):
        plan, arrays = self._compiled[0], self._compiled[1]
        fdt = self._float()
        states = []
        ring = np.zeros((plan.D, plan.S))
        backup = getattr(self, "_ring_backup", {})
        for nb in plan.neurons:
            blk = self._blocks[nb.block]
            states.append({k: jnp.asarray(v, fdt if np.asarray(v).dtype.kind == "f" else jnp.int32)
                           for k, v in blk.state.items()})
            old = backup.get(nb.block)
            if old is not None and old.shape[1] == nb.slot_size:
                # input still in flight when the network was rebuilt: re-slot it into the new ring
                oldD = old.shape[0]
                for j in range(oldD):
                    kk = self.k + j
                    ring[kk % plan.D, nb.offset:nb.offset + nb.slot_size] += old[kk % oldD]
        sg_ptr = {}
        for sp in plan.sources:
            m = self._models[sp.block]
            if m.name == "spike_generator":
                sg_ptr[sp.block] = jnp.asarray(m.init_pointer(
                    jax.tree.map(np.asarray, arrays["host"][sp.block]), self.k), jnp.int32)
        self._ring_backup = {}
        cur = ring[self.k % plan.D].copy()  # the input of the next step waits outside the ring
        ring[self.k % plan.D] = 0.0
        max_active = {pp.src_block: jnp.zeros((), jnp.int32) for pp in plan.projections if pp.capacity}
        # plastic synapses: weights, K_plus and the last presynaptic spike (steps) of every synapse, and
        # the postsynaptic spike history of their targets
        from .models.synapses.stdp import NEVER
        plastic = {}
        for j, parts in self._plastic_parts.items():
            recs = [(self._conns[ci], m) for ci, m in parts]
            w = np.concatenate([c.take("weight", m) for c, m in recs])
            kp = np.concatenate([c.plastic["kplus"][m] if c.plastic else np.zeros(int(m.sum())) for c, m in recs])
            tl = np.concatenate([c.plastic["t_last"][m] if c.plastic else np.zeros(int(m.sum()), np.int64)
                                 for c, m in recs])
            plastic[j] = {"w": jnp.asarray(w, fdt), "kplus": jnp.asarray(kp, fdt), "t_last": jnp.asarray(tl, jnp.int32)}
        post = {}
        P = self.stdp_history
        for b in plan.post_blocks:
            n = self._blocks[b].n
            h = getattr(self, "_post_hist", {}).get(b)
            if h is None or h["t"].shape != (n, P):
                h = {"t": np.full((n, P), NEVER, np.int64), "K": np.zeros((n, P)), "Kminus": np.zeros(n),
                     "t_last": np.full(n, -1.0), "t_drop": np.full(n, NEVER, np.int64)}
            post[b] = {"t": jnp.asarray(h["t"], jnp.int32), "K": jnp.asarray(h["K"], fdt),
                       "Kminus": jnp.asarray(h["Kminus"], fdt), "t_last": jnp.asarray(h["t_last"], fdt),
                       "t_drop": jnp.asarray(h["t_drop"], jnp.int32)}
        return {"states": states, "ring": jnp.asarray(ring.reshape(-1), fdt), "cur": jnp.asarray(cur, fdt),
                "sg_ptr": sg_ptr, "max_active": max_active, "plastic": plastic, "post": post,
                "stdp_overflow": jnp.zeros((), jnp.int32)}


class _Collector:
    """Turns the chunk outputs into recorder data on the host."""

    def __init__(self, sim: Simulator, k0: int, n_steps: int):
        self.sim, self.k0, self.n = sim, k0, n_steps
        self.spk = {b: [] for b in sim._rec_layout["spk"]}      # (stamps, cols, counts)
        self.dev = []                                           # (stamps, sr gid, sender gid, counts)
        self.mm = {}                                            # mm gid -> list of (stamps, {var: vals})
        self.I = {b: [] for b in sim._rec_layout["I"]}
        self._mm_plan = {}
        blocks = sim._blocks
        for mg, targets in sim._mm_links.items():
            mb = sim._block_of(mg)
            i = mg - mb.gid0
            p = {k: (v[i] if isinstance(v, list) else np.asarray(v)[i]) for k, v in mb.params.items()}
            interval, offset, lo, hi = mb.model.sample_grid(p, sim.dt)
            cols = []
            for tg in targets:
                b = int(sim._block_index([tg])[0])
                if blocks[b].model.kind == "current_source":
                    cols.append(("I", b, tg - blocks[b].gid0))
                else:
                    lay = sim._rec_layout["mm"][b]
                    cols.append(("mm", b, int(np.searchsorted(lay, tg))))
            self._mm_plan[mg] = (interval, offset, lo, hi, p["record_from"], cols, np.asarray(targets))
            self.mm[mg] = {"times": [], "vals": {v: [] for v in p["record_from"]}}

    def add(self, out, k, n_valid):
        stamps = k + 1 + np.arange(n_valid)
        for b, arr in out["spk"].items():
            a = np.asarray(arr[:n_valid])
            i, j = np.nonzero(a)
            self.spk[b].append((stamps[i], j, a[i, j]))
        for (j, srg, g) in self.sim._compiled[0].rec_dev:
            a = np.asarray(out["dev"][j][:n_valid]).reshape(n_valid, -1)[:, 0]
            i = np.nonzero(a)[0]
            self.dev.append((stamps[i], srg, g, a[i]))
        for mg, (interval, offset, lo, hi, rf, cols, targets) in self._mm_plan.items():
            sel = (stamps >= max(offset, 1)) & ((stamps - offset) % interval == 0) & (stamps > lo) & (stamps <= hi)
            if not sel.any():
                continue
            self.mm[mg]["times"].append(stamps[sel])
            for var in rf:
                cols_v = []
                for kind, b, c in cols:
                    if kind == "I":
                        cols_v.append(np.asarray(out["I"][b][:n_valid])[sel, c])
                    else:
                        cols_v.append(np.asarray(out["mm"][(b, var)][:n_valid])[sel, c])
                self.mm[mg]["vals"][var].append(np.stack(cols_v, axis=1))

    def result(self):
        sim = self.sim
        spikes = {}
        for b, parts in self.spk.items():
            lay = sim._rec_layout["spk"][b]
            if parts:
                st = np.concatenate([p[0] for p in parts])
                gid = lay[np.concatenate([p[1] for p in parts])]
                cnt = np.concatenate([p[2] for p in parts])
            else:
                st, gid, cnt = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
            spikes[b] = (st, gid, cnt)
        rec = {}
        for srg, senders in sim._sr_links.items():
            blk = sim._block_of(srg)
            i = srg - blk.gid0
            p = {k: (v[i] if isinstance(v, list) else np.asarray(v)[i]) for k, v in blk.params.items()}
            o, s0, s1 = (sim._delay_free_steps(p[x]) for x in ("origin", "start", "stop"))
            lo, hi = o + s0, o + s1
            st_all, g_all, c_all = [], [], []
            senders_arr = np.asarray(senders)
            for b, (st, gid, cnt) in spikes.items():
                m = np.isin(gid, senders_arr) & (st > lo) & (st <= hi)
                st_all.append(st[m]); g_all.append(gid[m]); c_all.append(cnt[m])
            for (st, s, g, cnt) in self.dev:
                if s == srg:
                    m = (st > lo) & (st <= hi)
                    st_all.append(st[m]); g_all.append(np.full(m.sum(), g)); c_all.append(cnt[m])
            st = np.concatenate(st_all) if st_all else np.zeros(0, np.int64)
            g = np.concatenate(g_all) if g_all else np.zeros(0, np.int64)
            c = np.concatenate(c_all) if c_all else np.zeros(0, np.int64)
            order = np.lexsort((g, st))
            rec[srg] = {"kind": "spikes", "senders": senders_arr, "stamps": st[order], "gids": g[order],
                        "counts": c[order].astype(np.int64), "row0": sim._pending_row0.get(srg),
                        "time_in_steps": bool(p.get("time_in_steps", False))}
            last = st[order] == self.k0 + self.n
            sim._pending_row0[srg] = (g[order][last], c[order][last].astype(np.int64))
        for mg, d in self.mm.items():
            interval, offset, lo, hi, rf, cols, targets = self._mm_plan[mg]
            times = np.concatenate(d["times"]) if d["times"] else np.zeros(0, np.int64)
            vals = {}
            for var in rf:
                vals[var] = (np.concatenate(d["vals"][var]) if d["vals"][var] else np.zeros((0, len(targets))))
            units = {}
            for var in rf:
                tm = sim._block_of(int(targets[0])).model
                units[var] = "pA" if var == "I" else tm.state[var].unit if var in tm.state else "1"
            rec[mg] = {"kind": "samples", "targets": targets, "stamps": times, "values": vals, "units": units}
        return Result(sim.dt, self.k0, self.n, rec)


UNROLL_MAX_NEURONS = 64  # networks up to this size run their scan unrolled 4x (measured crossover: 50-100)


def _gather(parts, field):
    """Field ``field`` of the connections selected by ``parts`` ([(ConnRecord, mask)]), concatenated."""
    xs = [c.take(field, m) for c, m in parts]
    return xs[0] if len(xs) == 1 else np.concatenate(xs)


def _aliased(cls, given: dict) -> dict:
    """NEST's alternative parameter names of a model (``cls.aliases``: old name -> name)."""
    aliases = getattr(cls, "aliases", {})
    out = {}
    for k, v in given.items():
        name = aliases.get(k, k)
        if name in out:
            raise BadParameterError(f"{cls.name}: {k!r} is another name of {name!r}; give only one of them.")
        out[name] = v
    return out


def _unkeyword(given: dict) -> dict:
    """Parameter names that are Python keywords (NEST's ``lambda``) may be written with a trailing
    underscore as keyword arguments: ``sim.create(nx.lin_rate_ipn, 1, lambda_=0.5)``."""
    return {(k[:-1] if k.endswith("_") and keyword.iskeyword(k[:-1]) else k): v for k, v in given.items()}


def _delay_free_steps(self, x):
    x = float(x)
    if not np.isfinite(x):
        return np.iinfo(np.int64).max // 4
    return int(np.floor(x / self.dt + 0.5))


Simulator._delay_free_steps = _delay_free_steps
