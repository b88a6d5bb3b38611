"""Simulator: NEST's workflow (create / connect / set / get / simulate) as a thin facade.

Data flows one way: the facade records what the user builds in a :class:`~nestax.network.Network`
(with every connect-time check), :func:`~nestax.engine.lower.lower` turns it into a plan and arrays,
a :class:`~nestax.engine.run.Runner` runs the compiled step in chunks, and a
:class:`~nestax.recording.Collector` turns the chunks' recordings into a :class:`Result`.
"""
from __future__ import annotations

import jax
import numpy as np

from . import compat_brainpy
from .engine import archive
from .engine import step_history
from .engine import precise as _precise
from .engine.session import Session, enable_compile_cache
from .errors import BadParameterError, ForeignNodesError
from .network import Network
from .network import connections as netconns
from .network.records import NodeRef
from .network.store import TICS_PER_MS, create_params, split_syn_spec, unkeyword
from .nodes import NodeCollection
from .recording import Connections, Result
from .recording.backends import KernelOption
from .recording.kept import KeptEvents
from .units import to_nest, with_unit

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
    differentiable : bool
        Allow :meth:`as_function`: the network as a differentiable JAX function of chosen parameters,
        spikes with surrogate derivatives (docs/gradients.md). Off by default; ``simulate`` is the
        same either way.
    surrogate : str or nestax.surrogate.Surrogate
        The surrogate derivative of the spike threshold in differentiable mode: "fast_sigmoid"
        (default), "sigmoid", "triangle", "exponential", "gaussian" with scale 1 mV, or
        ``nx.surrogate.Surrogate(name, scale=..., reset="detach" | "through")``.
    """

    # NEST's kernel options of the ascii recording backend (nest.data_path = ... in NEST 3), checked
    # when set: docs/recording_backends.md
    data_path = KernelOption()        # directory of the files ('' = the working directory)
    data_prefix = KernelOption()      # prefix of every file name
    overwrite_files = KernelOption()  # replace existing files (False: an existing file is an error)

    def __init__(self, dt=0.1, seed: int = 1, *, precision: int | None = None, chunk_bytes: int = 64 * 2**20,
                 max_chunk: int = 10_000, differentiable: bool = False, surrogate="fast_sigmoid"):
        dt = float(np.asarray(to_nest(dt, "ms", "Simulator", "dt")))
        if not dt > 0:
            raise BadParameterError(f"Simulator: parameter 'dt' = {dt} ms is invalid; expected a value > 0 ms.")
        tics = dt * TICS_PER_MS
        if abs(tics - round(tics)) > 1e-9 or round(tics) < 1:
            raise BadParameterError(f"Simulator: parameter 'dt' = {dt} ms must be a multiple of 0.001 ms "
                                    "(NEST's time base).")
        if not (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and 0 <= seed <= 2**32 - 1):
            raise BadParameterError(f"Simulator: parameter 'seed' = {seed!r} is invalid; expected an integer >= 0 "
                                    "and <= 2**32 - 1 (NEST's kernel seeds: 1 .. 2**32 - 1).")
        if precision not in (None, 32, 64):
            raise BadParameterError(f"Simulator: parameter 'precision' = {precision!r} is invalid; expected 32, 64 "
                                    "or None (follow jax's x64 flag).")
        if precision == 64 and not jax.config.jax_enable_x64:
            raise BadParameterError("Simulator: precision=64 needs jax's x64 mode: call "
                                    "jax.config.update('jax_enable_x64', True) before creating arrays.")
        enable_compile_cache()
        self.precision, self._dt, self._seed = precision, dt, int(seed)
        self.chunk_bytes, self.max_chunk = chunk_bytes, max_chunk
        self._net = Network(dt, int(round(tics)), self.seed)
        self.k = 0                 # current step
        self.stdp_history = archive.HISTORY  # post spikes kept per neuron for plastic synapses
        # steps of per-step history (Neuron.step_history: Clopath's LTP / LTD values) kept per neuron
        self.step_history = step_history.HISTORY
        # events per neuron and step that precise-timing neurons (the _ps models) accept from precise senders
        self._precise_capacity = _precise.CAPACITY
        self._session = Session(self)  # the lowered, compiled network and its device state
        self._t0 = None            # the state the first simulate call started from (for reset)
        self._n_disconnects = 0    # connections read before a disconnect point at shifted positions
        self.timings = {}
        self.partial_result = None  # the recordings of an interrupted simulate, up to its last chunk
        self._kept = KeptEvents()  # each call's Result, for recorders that keep events (n_events = 0 clears)
        from .models.surrogate import resolve as _surrogate
        self.differentiable = bool(differentiable)  # as_function allowed (docs/gradients.md)
        self.surrogate = _surrogate(surrogate)

    def as_function(self, duration, params=None, poisson: str = "straight_through", connection_gradients: bool = True):
        """The network as a differentiable function of ``params`` over a run of ``duration`` from t = 0:
        ``f(values, key=None) -> Outputs`` (``f.init``: the current values), for ``jax.grad``. Needs
        ``Simulator(differentiable=True)``; see :func:`nestax.gradients.as_function` and docs/gradients.md."""
        from .gradients import as_function
        return as_function(self, duration, params, poisson, connection_gradients)

    @property
    def t(self):
        """Current time in ms."""
        return self.k * self.dt

    @property
    def dt(self):
        """The resolution in ms (fixed when the Simulator is made, as NEST's kernel resolution once
        nodes exist)."""
        return self._dt

    @property
    def precise_capacity(self) -> int:
        """Spikes of precise senders (the _ps models, spike_generator with precise_times,
        poisson_generator_ps) that one precise-timing neuron may receive in one step (default 32); a
        run that needs more stops with an error naming this setting."""
        return self._precise_capacity

    @precise_capacity.setter
    def precise_capacity(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise BadParameterError(f"Simulator: precise_capacity = {value!r} is invalid; expected an integer >= 1 "
                                    "(spikes per neuron and step).")
        if int(value) != self._precise_capacity:
            self._invalidate()
            self._session.runner = None  # lowered again, with the new buffer, at the next simulate
            self._precise_capacity = int(value)

    @dt.setter
    def dt(self, value):
        raise BadParameterError(f"Simulator: dt = {self._dt} ms is fixed when the Simulator is made (got {value!r}); "
                                "make a new Simulator(dt=...) for another resolution.")

    @property
    def seed(self):
        """The kernel seed (fixed when the Simulator is made: the network's draws depend on it)."""
        return self._seed

    @seed.setter
    def seed(self, value):
        raise BadParameterError(f"Simulator: seed = {self._seed} is fixed when the Simulator is made (got {value!r}); "
                                "make a new Simulator(seed=...) for another seed.")

    # ------------------------------------------------------------------ build
    def create(self, model, n: int = 1, params: dict | None = None, *, positions=None, **kwargs) -> NodeCollection:
        """Create ``n`` nodes of ``model`` (class, spec or NEST name) with parameters ``params``/kwargs.
        ``positions``: ``nx.spatial.grid(...)`` or ``nx.spatial.free(...)`` places the nodes in space
        (a grid's shape or a list of positions sets the number of nodes; see :mod:`nestax.spatial`)."""
        self._invalidate()
        with self._net.unchanged_on_error():
            given = compat_brainpy.create_params(self._net, model, create_params(params, kwargs))
            block = self._net.create(model, n, given, positions=positions)
        self._structure_changed()
        return NodeCollection(self, block.gids)

    def connect(self, pre, post, conn_spec=None, syn_spec=None, *, rule=None, synapse_model=None, synapse=None,
                weight=None, delay=None, receptor_type=None, **kwargs):
        """Connect ``pre`` to ``post`` (NEST's Connect), or attach a recorder.

        ``conn_spec``/``rule`` pick the rule (string, rule object or NEST dict; default all_to_all) and
        its keywords (``indegree=10``, ``p=0.1``, ``allow_autapses=False``, ...). ``syn_spec`` (dict or
        synapse spec) or ``synapse_model``/``synapse`` with ``weight``, ``delay`` (scalar, per-connection
        array or nx.random distribution) and ``receptor_type`` set the synapses.

        ``syn_spec`` a list of them (NEST's CollocatedSynapses): the rule draws its pairs once and every
        pair gets one connection per spec, in the order given.
        """
        self._check_nodes(pre, "connect", "pre")
        self._check_nodes(post, "connect", "post")
        rule = conn_spec if rule is None else rule
        kwargs = unkeyword(kwargs)  # lambda_=... for NEST's parameter 'lambda'
        collocated = isinstance(syn_spec, (list, tuple))
        if collocated:
            netconns.check_collocated(syn_spec, synapse_model=synapse_model, synapse=synapse, weight=weight,
                                      delay=delay, receptor_type=receptor_type)
        calls = []
        for spec in (syn_spec if collocated else [syn_spec]):
            syn, model = split_syn_spec(spec, synapse, synapse_model, weight, delay, receptor_type)
            kw = dict(kwargs)
            compat_brainpy.connect_args(self._net, pre._gids, post._gids, rule, kw, syn)
            self._node_refs(syn, "connect")
            self._node_refs(kw, "connect")
            calls.append((syn, model, kw))
        self._invalidate()
        with self._net.unchanged_on_error():
            if collocated:
                netconns.collocated(self._net, pre._gids, post._gids, rule, calls)
            else:
                self._net.connect(pre._gids, post._gids, rule, *calls[0])
        self._structure_changed()

    def tripartite_connect(self, pre, post, third, conn_spec, third_factor_conn_spec=None, syn_specs=None):
        """NEST's TripartiteConnect: ``pre`` -> ``post`` by ``conn_spec`` (any one-directional rule), and
        for each connection made, by ``third_factor_conn_spec`` (``{"rule":
        "third_factor_bernoulli_with_pool", "p", "pool_size", "pool_type"}``; defaults p = 1, the whole
        third population as pool, pool_type "random"), a third-factor node from the post node's pool
        with one connection pre -> third ("third_in") and one third -> post ("third_out").

        ``syn_specs`` = ``{"primary": ..., "third_in": ..., "third_out": ...}``, each a syn_spec dict, a
        model name or a synapse spec (missing ones: static_synapse; an astrocyte's output needs
        ``"sic_connection"``); no per-connection lists (NEST refuses them). NEST 3.6's single
        ``conn_spec={"rule": "tripartite_bernoulli_with_pool", "p_primary", "p_third_if_primary",
        "pool_size", "pool_type"}`` is accepted as well (primary: pairwise_bernoulli). Each projection is
        stored as one connection record; a call that fails stores nothing.
        """
        for nodes, what in ((pre, "pre"), (post, "post"), (third, "third")):
            self._check_nodes(nodes, "tripartite_connect", what)
        if isinstance(syn_specs, dict):  # copies: the caller's dicts stay as given
            syn_specs = {k: dict(v) if isinstance(v, dict) else v for k, v in syn_specs.items()}
            for spec in syn_specs.values():
                if isinstance(spec, dict):
                    self._node_refs(spec, "tripartite_connect")
        self._invalidate()
        with self._net.unchanged_on_error():
            netconns.tripartite(self._net, pre._gids, post._gids, third._gids, conn_spec, third_factor_conn_spec,
                                syn_specs)
        self._structure_changed()

    # ------------------------------------------------------------------ kernel settings
    def set_wfr(self, **settings):
        """NEST's waveform-relaxation settings for gap junctions (nest.SetKernelStatus): use_wfr
        (True), wfr_comm_interval (1 ms), wfr_tol (1e-4 mV), wfr_max_iterations (15),
        wfr_interpolation_order (3). Checked; the next simulate uses them."""
        self._invalidate()
        self._net.set_wfr(**settings)
        self._structure_changed()

    @property
    def wfr(self) -> dict:
        """The waveform-relaxation settings in force (see :meth:`set_wfr`)."""
        return dict(self._net.wfr)

    def set_kernel_status(self, params: dict | None = None, **settings):
        """NEST kernel settings that models declare (``Model.kernel_settings``, e.g. the e-prop
        bsshslm_2020 models' eprop_update_interval, eprop_learning_window,
        eprop_reset_neurons_on_update), as ``nest.SetKernelStatus``: quantities or numbers in NEST's
        units; checked; the next simulate uses them."""
        self._invalidate()
        self._net.set_kernel(**{**(params or {}), **settings})
        self._structure_changed()

    def get_kernel_status(self, name: str | None = None):
        """The declared kernel settings in force (all as a dict, or the one called ``name``), with units."""
        from .network import kernel
        return kernel.status(self._net.kernel, name)

    # ------------------------------------------------------------------ model defaults
    def copy_model(self, existing, new_name: str, params: dict | None = None, **kwargs):
        """A copy of model ``existing`` (class, spec or name) called ``new_name`` with new defaults
        (NEST's CopyModel), known to this simulator: ``sim.create(new_name, ...)`` or
        ``sim.connect(..., synapse_model=new_name)``. A synapse copy may carry a ``weight_recorder``.
        Returns the new model class."""
        if not isinstance(new_name, str) or not new_name.isidentifier():
            raise BadParameterError(f"copy_model: new_name = {new_name!r} is invalid; expected a name (letters, "
                                    "digits and underscores).")
        from .models.registry import _MODELS
        if new_name in _MODELS or new_name in self._net.local_models:
            raise BadParameterError(f"copy_model: a model called {new_name!r} exists already (NEST: "
                                    "NewModelNameExists); pick another name.")
        cls = self._derive(existing, new_name, {**(params or {}), **kwargs})
        self._net.local_models[new_name] = cls
        return cls

    def set_defaults(self, model, params: dict | None = None, **kwargs):
        """New default parameters of ``model`` for the nodes and connections made after this call
        (NEST's SetDefaults), in this simulator only. Shared parameters of a _hom synapse model change
        for its existing connections too, as in NEST; a synapse model may get a ``weight_recorder``."""
        given = {**(params or {}), **kwargs}
        base = self._net.resolve(model)[0]
        cls = self._derive(base, base.name, given, same_model=True)
        shared = [k for k in base.translate(unkeyword(given)) if k in getattr(base, "homogeneous", ())]
        if shared:  # NEST's common properties: every connection of the model takes the new value
            self._invalidate()
            self._net.set_shared(base, cls, shared)
            self._structure_changed()
        self._net.local_models[base.name] = cls
        return cls

    def get_defaults(self, model) -> dict:
        """The default parameters of ``model`` in this simulator (NEST's GetDefaults), as quantities."""
        cls = self._net.resolve(model)[0]
        out = {k: with_unit(spec.default, spec.unit) if spec.kind == "float" and spec.unit not in ("weight",)
               else spec.default for k, spec in cls.parameters.items()}
        for k, g in getattr(cls, "default_attached", {}).items():
            out[k] = NodeCollection(self, [g])
        return out

    def _derive(self, model, name, given, same_model=False):
        self._node_refs(given, "copy_model")  # recorders / volume transmitters attached by default
        return self._net.derive_model(model, name, given, same_model)

    def _node_refs(self, where: dict, call: str):
        """Node-valued settings in ``where`` (a weight_recorder, a volume_transmitter: one node of this
        simulator) replaced by their global ids (NodeRef), in place."""
        for name, v in where.items():
            if isinstance(v, NodeCollection):
                self._check_nodes(v, call, name)
                if len(v) != 1:
                    raise BadParameterError(f"{call}: {name} must be one node; got {len(v)}.")
                where[name] = NodeRef(v._gids[0])

    def _structure_changed(self):
        self._session.structure_changed()

    def _check_nodes(self, nodes, call, what="nodes"):
        if not isinstance(nodes, NodeCollection):
            raise TypeError(f"{call}: {what} must be a NodeCollection of this Simulator, got {nodes!r}")
        if nodes._sim is not self:
            raise ForeignNodesError(f"{call}: {what} must be a NodeCollection of this Simulator; {nodes!r} belongs "
                                    "to another Simulator (node collections cannot be used across simulators).")
        if call == "connect" and len(nodes) == 0:
            from .errors import ConnectionError_
            raise ConnectionError_(f"connect: {what} is empty")

    # ------------------------------------------------------------------ set / get
    def set(self, nodes, params: dict | None = None, **kwargs):
        """Set parameters or state variables of ``nodes`` (NEST's SetStatus). Every value is checked
        first; on any error nothing changes."""
        self._check_nodes(nodes, "set")
        given = unkeyword({**(params or {}), **kwargs})
        if self._kept.answers(self._net, nodes._gids, given):  # NEST: n_events = 0 clears the stored events
            return self._kept.set_given(self._net, nodes._gids, given, self.k)
        self._pull()
        with self._net.unchanged_on_error():
            changes = self._net.prepare_set(nodes._gids, unkeyword({**(params or {}), **kwargs}), self.k)
            self._net.reset_recorder_state(nodes._gids, unkeyword({**(params or {}), **kwargs}))
        for blk, newp, news in changes:
            blk.params = newp
            blk.state.update(news)
            if blk.model.kind != "neuron":
                self._session.runner = None  # devices' host tables depend on their parameters: lower again
        # neuron parameters are arguments of the compiled run: refresh them (no recompilation)
        self._session.refresh_params([c[0] for c in changes])
        self._session.fresh = bool(changes) or self._session.fresh

    def get(self, nodes, *names, unit=True):
        """Parameters / state of ``nodes``: one name -> array (Quantity); several -> dict; none -> all."""
        self._check_nodes(nodes, "get")
        if self._kept.answers(self._net, nodes._gids, names):  # NEST's events kept since the last n_events = 0
            return self._kept.read(nodes._gids, names)
        self._pull()
        out = self._net.get(nodes._gids, names, None)
        res = {}
        for name, parts in out.items():
            if isinstance(parts[0][0], list):
                vals = sum((p[0] for p in parts), [])
                res[name] = vals[0] if len(vals) == 1 else vals
                continue
            v = np.concatenate([p[0] for p in parts])
            v = v[0] if len(v) == 1 else v
            res[name] = with_unit(v, parts[0][1]) if unit else v
        return res[names[0]] if len(names) == 1 else res

    def connections(self, source=None, target=None, synapse_model=None, synapse_label=None):
        """The connections from ``source`` to ``target`` (node collections; None: any) of
        ``synapse_model`` (None: any) with ``synapse_label`` (an integer: connections of the ``_lbl``
        models with that label; None: any), NEST's GetConnections: a :class:`Connections` with
        ``.get(name)`` for every synapse parameter and state variable and ``.set(...)`` to change them."""
        for nodes, what in ((source, "source"), (target, "target")):
            if nodes is not None:
                self._check_nodes(nodes, "connections", what)
        self._pull()  # plastic weights change during a run
        want = self._net.resolve(synapse_model)[0] if synapse_model is not None else None
        sel = netconns.select(self._net, want, None if source is None else source._gids,
                           None if target is None else target._gids, synapse_label)
        return self._connections_of(sel)

    def get_connections(self, source=None, target=None, synapse=None):
        """brainpy.state's spelling of :meth:`connections` (``synapse``: the synapse model). Its
        ``get('source')`` / ``get('target')`` are population-local indices, as in brainpy.state
        (``.sources`` / ``.targets`` are global ids); ``get([names])`` gives a dict and
        ``set(name, values)`` sets one column. See docs/migration.md."""
        return compat_brainpy.get_connections(self, source, target, synapse)

    def _connections_of(self, sel):
        """The :class:`Connections` of ``sel`` ([(record index, positions)])."""
        return Connections(**netconns.columns(self._net, sel), dt=self.dt, _owner=self, _sel=sel,
                           _epoch=self._n_disconnects)

    def _check_current(self, conns, call):
        if conns._owner is not self:
            raise ForeignNodesError(f"{call}: these connections belong to another Simulator.")
        if conns._epoch != self._n_disconnects:
            raise BadParameterError(f"{call}: these connections were read before a disconnect, which removed "
                                    "connections; read them again with sim.connections(...) (nest.GetConnections).")

    def disconnect(self, pre, post=None, conn_spec="one_to_one", syn_spec=None):
        """NEST's Disconnect: for each (source, target) pair of ``conn_spec`` ('one_to_one', the
        default, or 'all_to_all'), remove the earliest made connection of the synapse model of
        ``syn_spec`` (a model name or a dict with 'synapse_model'; default static_synapse; its other
        keys are ignored, as in NEST). ``pre`` a :class:`Connections` (from ``sim.connections``, no
        ``post``): remove exactly those. A pair without such a connection is an error and nothing is
        removed. Connections between neurons only (NEST cannot delete those of devices). Between
        ``simulate`` calls the next run is rebuilt without them; spikes already on their way arrive."""
        if isinstance(pre, Connections):
            if post is not None or conn_spec != "one_to_one" or syn_spec is not None:
                raise BadParameterError("disconnect: with a collection of connections give no post, conn_spec or "
                                        "syn_spec (NEST: 'When disconnecting with a SynapseCollection, conn_spec "
                                        "and syn_spec cannot be specified').")
            self._check_current(pre, "disconnect")
            sel = [(ci, np.asarray(pos)) for ci, pos in pre._sel]
        else:
            self._check_nodes(pre, "disconnect", "pre")
            if post is None:
                raise BadParameterError("disconnect: give pre and post node collections, or one collection of "
                                        "connections (sim.connections(...)).")
            self._check_nodes(post, "disconnect", "post")
            syn, model = split_syn_spec(syn_spec, None, None, None, None, None)
            model = self._net.resolve(model)[0]
            if model.kind != "synapse":
                raise BadParameterError(f"disconnect: {model.name} is not a synapse model (it is a {model.kind}).")
            sel = netconns.disconnect_pairs(self._net, pre._gids, post._gids, conn_spec, model)
        netconns.check_removable(self._net, sel)
        self._invalidate()  # the records take the run's plastic state first
        netconns.remove(self._net, sel, self._t0)  # (reset() returns to the connections left)
        self._n_disconnects += 1
        self._structure_changed()

    def _set_connections(self, conns, given: dict):
        """Connections.set: check every value, then change the records; the next simulate lowers the
        network again (weights and delays are arrays of the compiled run)."""
        self._check_current(conns, "connections.set")
        self._invalidate()  # the records hold the run's plastic state first
        changes = self._net.prepare_conn_set(conns._sel, unkeyword(given))
        self._net.apply_conn_set(changes)
        if self._t0 is not None:  # a static weight is a parameter: reset() keeps the value set here
            self._net.keep_set_weights(self._t0, changes)
        self._structure_changed()
        return self._connections_of(conns._sel)

    # ------------------------------------------------------------------ run
    def reset(self):
        """Back to t = 0 with the same network and the initial state."""
        self._invalidate()
        self.k = 0
        self._session.restart()
        self._kept = KeptEvents()
        self._net.restore(self._t0)  # states and plastic weights of the first simulate (create's, sets before)

    def cont(self, duration, **kw):
        """Same as :meth:`simulate` (brainpy.state spelling)."""
        return self.simulate(duration, **kw)

    def run(self, duration, **kw):
        return self.simulate(duration, **kw)

    def simulate(self, duration, progress: bool = False, devices=None) -> Result:
        """Advance the network by ``duration`` and return the recordings of this window.

        ``devices`` (a list of JAX devices, e.g. ``jax.devices()``): run the network split over them,
        its neurons in equal shards that exchange their spikes every step (docs/multidevice.md); the
        spikes are those of the run on one device. None: one device."""
        return self._session.simulate(duration, progress, devices)

    def _prepare(self):
        """The runner of the current network, lowered and with a run state at step k."""
        return self._session.prepare()

    def _pull(self):
        """Copy the device state back into the network (for reading it) if the run has moved on."""
        self._session.pull()

    def _invalidate(self):
        """Before the host changes the network: pull the device state; rebuild it at the next run."""
        self._session.invalidate()

    def _float(self):
        """The float type of the run: ``precision`` if given, else float64 when jax's x64 mode is on."""
        if self.precision is not None:
            return np.float32 if self.precision == 32 else np.float64
        return np.float64 if jax.config.jax_enable_x64 else np.float32

