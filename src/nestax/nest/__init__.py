"""PyNEST 3.10's interface over nestax: ``import nestax.nest as nest``.

A PyNEST script runs with its import lines changed (``import nest`` -> ``import nestax.nest as nest``,
``import nest.raster_plot`` -> ``import nestax.nest.raster_plot``). Values are plain numbers in NEST's
units, as in PyNEST. One kernel (a :class:`nestax.Simulator`) lives in this module; ``ResetKernel``
replaces it. Recorders keep their events across ``Simulate`` calls until ``n_events = 0``, as in NEST.

Supported: Create, Connect (conn_spec / syn_spec dicts or strings, ``nest.random`` parameters,
``nest.CollocatedSynapses``), Disconnect (one_to_one / all_to_all, or a SynapseCollection),
Simulate / Run / Prepare / Cleanup / RunManager, ResetKernel, SetKernelStatus / GetKernelStatus and
the kernel attributes (``nest.resolution``, ``nest.rng_seed``, ``nest.biological_time``, thread
settings accepted and reported), GetDefaults / SetDefaults / CopyModel, node_models / synapse_models,
GetStatus / SetStatus, GetConnections (a SynapseCollection with get / set), NodeCollection get / set
and attributes, ``nest.raster_plot`` and ``nest.voltage_trace``, and the spatial layer (Create with
positions=nest.spatial.grid / free, masks and spatial parameters in Connect, nest.spatial,
nest.spatial_distributions, nest.math, nest.logic.conditional, CreateMask, GetPosition, Displacement, Distance,
FindNearestElement, FindCenterElement, PlotLayer, PlotTargets, PlotSources, PlotProbabilityParameter,
GetTargetNodes, GetSourceNodes, GetTargetPositions, GetSourcePositions, SelectNodesByMask, DumpLayerNodes,
DumpLayerConnections), GetNodes. Any other PyNEST name raises
NotImplementedError naming the nearest supported call.
"""
from __future__ import annotations

import contextlib
import enum
import sys
import types

import numpy as np

from ..errors import BadParameterError, did_you_mean
from ..models.registry import models as _models
from ..network import connections as netconns
from . import random  # noqa: F401  (nest.random.uniform, ...)
from . import logic, math, spatial, spatial_distributions  # noqa: F401  (NEST's spatial layer)
from ._collections import NodeCollection, SynapseCollection, _nodes
from ._parameters import CreateParameter
from ._kernel import KERNEL, has_delay, plain
from ._spatial_queries import (DumpLayerConnections, DumpLayerNodes, GetNodes, GetSourceNodes,  # noqa: F401
                               GetSourcePositions, GetTargetNodes, GetTargetPositions, SelectNodesByMask)

__version__ = "3.10 (nestax)"


class VerbosityLevel(enum.IntEnum):
    """NEST's verbosity levels (accepted; nestax prints no kernel messages)."""
    ALL = 0
    DEBUG = 5
    STATUS = 7
    INFO = 10
    DEPRECATED = 18
    WARNING = 20
    ERROR = 30
    FATAL = 40
    QUIET = 100


def _sim():
    return KERNEL.sim


# ---------------------------------------------------------------------- kernel
def ResetKernel():
    """A fresh kernel: no nodes, no connections, default resolution (0.1 ms) and seed, time 0."""
    KERNEL.reset()


_KERNEL_READ = ("resolution", "rng_seed", "biological_time", "local_num_threads", "total_num_virtual_procs",
                "num_processes", "network_size", "num_connections", "min_delay", "max_delay", "ms_per_tic",
                "tics_per_ms", "tics_per_step", "data_path", "data_prefix", "overwrite_files", "print_time",
                "time_collocate_spike_data", "dict_miss_is_error", "keep_source_table", "rng_type", "rng_types",
                "memory_size")


def _kernel_value(name):
    sim = KERNEL.sim
    net = sim._net
    if name == "resolution":
        return sim.dt
    if name == "rng_seed":
        return sim.seed
    if name == "biological_time":
        return sim.k * sim.dt
    if name in ("local_num_threads", "total_num_virtual_procs"):
        return KERNEL.settings["local_num_threads"]
    if name == "num_processes":
        return 1
    if name == "memory_size":  # NEST: the process's virtual memory in kB, -1 if unavailable
        return _memory_size_kb()
    if name == "network_size":
        return int(sum(b.n for b in net.blocks))
    if name == "num_connections":  # NEST counts the links to and from recorders too
        rec = sum(int(np.sum(c)) for c in net.sr_counts.values()) + sum(len(v) for v in net.mm_links.values())
        return int(sum(len(c.src) for c in net.conns)) + rec
    if name in ("min_delay", "max_delay"):
        if name == "min_delay":
            return KERNEL.min_delay_steps() * sim.dt
        d = [int(np.max(c.delay)) for c in net.conns if len(c.src) and has_delay(c)]
        return max(d + [KERNEL.min_delay_steps()]) * sim.dt
    if name == "ms_per_tic":
        return 1.0 / 1000.0
    if name == "tics_per_ms":
        return 1000.0
    if name == "tics_per_step":
        return int(round(sim.dt * 1000))
    if name in ("data_path", "data_prefix", "overwrite_files"):
        return getattr(sim, name)
    if name in _model_kernel_settings():  # settings models declare (Model.kernel_settings): NEST's units
        import brainunit as u
        v = sim.get_kernel_status(name)
        return float(v.to_decimal(u.ms)) if isinstance(v, u.Quantity) else v
    if name == "rng_type":
        return "mt19937_64"
    if name == "rng_types":
        return ("mt19937_64",)
    return KERNEL.setting(name)


def _memory_size_kb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def GetKernelStatus(keys=None):
    """NEST's kernel status: a dict, one value (``keys`` a name) or a list of values."""
    if keys is None:
        return {k: _kernel_value(k) for k in _KERNEL_READ + tuple(_model_kernel_settings())}
    if isinstance(keys, str):
        _check_kernel_name(keys)
        return _kernel_value(keys)
    return [GetKernelStatus(k) for k in keys]


def _model_kernel_settings():
    from ..network.kernel import declared
    return declared()


def _check_kernel_name(name):
    if name not in _KERNEL_READ and name not in KERNEL.settings and name not in _model_kernel_settings():
        raise KeyError(f"nest: unknown kernel setting {name!r}.{did_you_mean(name, _KERNEL_READ)}")


_KERNEL_READONLY = ("biological_time", "network_size", "num_connections", "min_delay", "max_delay", "ms_per_tic",
                    "tics_per_ms", "tics_per_step", "num_processes", "rng_types", "memory_size")


def SetKernelStatus(params):
    """Set kernel settings: resolution and rng_seed (before any node exists), data_path, data_prefix,
    overwrite_files, print_time, local_num_threads / total_num_virtual_procs (accepted: nestax runs
    one process and lets XLA use the cores)."""
    for name in params:
        _check_kernel_name(name)
        if name in _KERNEL_READONLY:
            raise BadParameterError(f"nest: kernel setting {name!r} is read-only.")
    order = sorted(params, key=lambda k: k not in ("resolution", "rng_seed"))
    for name in order:
        value = params[name]
        if name == "resolution":
            KERNEL.set_resolution(plain(value))
        elif name == "rng_seed":
            KERNEL.set_seed(value)
        elif name in ("data_path", "data_prefix", "overwrite_files"):
            setattr(KERNEL.sim, name, value)
        elif name in _model_kernel_settings():
            KERNEL.sim.set_kernel_status({name: value})
        elif name in ("local_num_threads", "total_num_virtual_procs"):
            if not (isinstance(value, (int, np.integer)) and value >= 1):
                raise BadParameterError(f"nest: {name} = {value!r} is invalid; expected an integer >= 1.")
            KERNEL.settings["local_num_threads"] = int(value)
        elif name == "rng_type":
            if value != "mt19937_64":
                raise BadParameterError(f"nest: rng_type = {value!r}: nestax has one random generator family "
                                        "(reported as 'mt19937_64'; its streams are JAX's threefry).")
        else:
            KERNEL.settings[name] = value


def set_verbosity(level):
    """Accepted for compatibility (nestax prints no kernel messages)."""
    KERNEL.settings["verbosity"] = level


def get_verbosity():
    return KERNEL.settings["verbosity"]


def set(**params):  # noqa: A001  (PyNEST's nest.set)
    SetKernelStatus(params)


def get(*names):
    return GetKernelStatus(list(names)) if len(names) > 1 else GetKernelStatus(names[0] if names else None)


# ---------------------------------------------------------------------- models
def _model_names(kind=None):
    names = list(_models()) + list(KERNEL.sim._net.local_models)
    if kind is None:
        return tuple(sorted(names))
    out = []
    for n in names:
        cls = KERNEL.sim._net.resolve(n)[0]
        if (cls.kind == "synapse") == (kind == "synapses"):
            out.append(n)
    return tuple(sorted(out))


def Models(mtype="all", sel=None):
    """Model names: 'all', 'nodes' or 'synapses', optionally those containing ``sel``."""
    if mtype not in ("all", "nodes", "synapses"):
        raise BadParameterError(f"nest.Models: mtype = {mtype!r} is invalid; expected 'all', 'nodes' or 'synapses'.")
    names = _model_names(None if mtype == "all" else mtype)
    return tuple(n for n in names if sel is None or sel in n)


def GetDefaults(model, keys=None, output=""):
    """Default parameters of ``model`` (plain numbers); synapse models also report num_connections."""
    d = {k: plain(v) for k, v in KERNEL.sim.get_defaults(model).items()}
    cls = KERNEL.sim._net.resolve(model)[0]
    d["model"] = model if isinstance(model, str) else cls.name
    if cls.kind == "synapse":
        # a count, as NEST keeps it (building the connections' columns would copy every connection)
        net = KERNEL.sim._net
        d["num_connections"] = int(sum(len(pos) for _, pos in netconns.select(net, net.resolve(d["model"])[0],
                                                                               None, None, None)))
    else:
        d["recordables"] = tuple(cls.recordables())
        if hasattr(cls, "receptor_types"):
            d["receptor_types"] = dict(cls.receptor_types)
    if keys is None:
        return d
    if isinstance(keys, str):
        if keys not in d:
            raise KeyError(f"nest.GetDefaults: {d['model']} has no {keys!r}.{did_you_mean(keys, d)}")
        return d[keys]
    return {k: d[k] for k in keys}


def SetDefaults(model, params, val=None):
    if val is not None:
        params = {params: val}
    KERNEL.sim.set_defaults(model, params)


def CopyModel(existing, new, params=None):
    KERNEL.sim.copy_model(existing, new, params or {})


# ---------------------------------------------------------------------- nodes
def Create(model, n=1, params=None, positions=None):
    """``n`` nodes of ``model`` with ``params`` (a dict, or a list of dicts, one per node);
    ``positions``: nest.spatial.grid(...) or nest.spatial.free(...) (the nodes' positions).
    ``Create(model, params_dict)`` (two arguments) makes one node, as in PyNEST."""
    if isinstance(n, dict):
        if params is not None or positions is not None:
            raise ValueError("nest.Create: a parameter dict can be the second argument only when Create is "
                             "called with two arguments (model, params).")
        params, n = n, 1
    if positions is not None:
        from ..spatial import free as _free, grid as _grid
        if not isinstance(positions, (_free, _grid)):
            raise TypeError("nest.Create: `positions` must be either a nest.spatial.free or a nest.spatial.grid "
                            f"object, got {positions!r}.")
        if isinstance(params, (list, tuple)):
            raise NotImplementedError("nest.Create: a list of parameter dicts with positions= is not supported; "
                                      "give one dict, then set nodes individually.")
        nodes = KERNEL.sim.create(model, int(n), _arrays(params), positions=positions)
        return NodeCollection(nodes._sim, nodes._gids)
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise BadParameterError(f"nest.Create: n = {n!r} is invalid; expected an integer >= 1.")
    per_node = isinstance(params, (list, tuple))
    if per_node and len(params) != n:
        raise BadParameterError(f"nest.Create: {len(params)} parameter dicts for {n} nodes of {model}.")
    nodes = KERNEL.sim.create(model, int(n), None if per_node else _arrays(params))
    nodes = NodeCollection(nodes._sim, nodes._gids)
    if per_node:
        for node, p in zip(nodes, params):
            node.set(p)
    return nodes


def _arrays(params):
    if params is None:
        return None
    from ._collections import _LIST_PARAMS
    return {k: (np.asarray(v) if isinstance(v, (list, tuple)) and k not in _LIST_PARAMS else v)
            for k, v in params.items()}


def _syn_spec(syn_spec):
    if syn_spec is None or isinstance(syn_spec, str):
        return syn_spec
    if isinstance(syn_spec, dict):
        return {k: (np.asarray(v) if isinstance(v, (list, tuple)) else v) for k, v in syn_spec.items()}
    return syn_spec


class CollocatedSynapses:
    """PyNEST's collocated synapse specifications: ``nest.Connect(pre, post, conn_spec,
    nest.CollocatedSynapses({"weight": 2.0}, {"synapse_model": "stdp_synapse"}))`` draws the rule's
    pairs once and makes one connection per pair and per spec (same sources and targets)."""

    def __init__(self, *args):
        for i, spec in enumerate(args):
            if not isinstance(spec, (dict, str)):
                raise TypeError(f"nest.CollocatedSynapses: spec {i} is {spec!r}; each must be a syn_spec dict "
                                "(or a synapse model name).")
        self.syn_specs = args

    def __len__(self):
        return len(self.syn_specs)

    def __repr__(self):
        return f"CollocatedSynapses{self.syn_specs!r}"


def Connect(pre, post, conn_spec=None, syn_spec=None, return_synapsecollection=False):
    """NEST's Connect: ``conn_spec`` a rule name or dict, ``syn_spec`` a synapse model name, a dict or
    a :class:`CollocatedSynapses` (nestax also takes a list of dicts for it). With
    ``return_synapsecollection``: every connection from ``pre`` to ``post``, as NEST's
    ``GetConnections(pre, post)``."""
    pre, post = _nodes(pre, "Connect", "pre"), _nodes(post, "Connect", "post")
    if isinstance(syn_spec, (list, tuple)):
        syn_spec = CollocatedSynapses(*syn_spec)
    if isinstance(syn_spec, CollocatedSynapses):
        syn_spec = [_syn_spec({"synapse_model": s} if isinstance(s, str) else s) for s in syn_spec.syn_specs]
    elif isinstance(syn_spec, str):
        syn_spec = {"synapse_model": syn_spec}
    KERNEL.sim.connect(pre, post, conn_spec, syn_spec if isinstance(syn_spec, list) else _syn_spec(syn_spec))
    if return_synapsecollection:
        return SynapseCollection(KERNEL.sim.connections(source=pre, target=post))
    return None


def Disconnect(*args, conn_spec=None, syn_spec=None):
    """NEST's Disconnect: ``Disconnect(conns)`` removes the connections of a SynapseCollection;
    ``Disconnect(pre, post, conn_spec=, syn_spec=)`` removes, for each pair of the rule ('one_to_one',
    the default, or 'all_to_all'), the earliest connection of the synapse model (default
    static_synapse; other syn_spec keys are ignored, as in NEST). Between neurons only, as in NEST;
    a pair without such a connection is an error and, unlike NEST, nothing is removed then."""
    if len(args) == 1:
        if not isinstance(args[0], SynapseCollection):
            raise TypeError("nest.Disconnect: arguments must be either a SynapseCollection or two NodeCollections.")
        if conn_spec is not None or syn_spec is not None:
            raise ValueError("nest.Disconnect: when disconnecting with a SynapseCollection, conn_spec and syn_spec "
                             "cannot be specified.")
        args[0].disconnect()
        return None
    if len(args) != 2:
        raise TypeError("nest.Disconnect: arguments must be either a SynapseCollection or two NodeCollections "
                        "(conn_spec= and syn_spec= are keywords).")
    pre, post = _nodes(args[0], "Disconnect", "pre"), _nodes(args[1], "Disconnect", "post")
    if isinstance(syn_spec, str):
        syn_spec = {"synapse_model": syn_spec}
    KERNEL.sim.disconnect(pre, post, "one_to_one" if conn_spec is None else conn_spec, syn_spec)
    return None


def GetConnections(source=None, target=None, synapse_model=None, synapse_label=None):
    src = None if source is None else _nodes(source, "GetConnections", "source")
    tgt = None if target is None else _nodes(target, "GetConnections", "target")
    return SynapseCollection(KERNEL.sim.connections(src, tgt, synapse_model, synapse_label))


def GetStatus(nodes, keys=None, output=""):
    """PyNEST's GetStatus: a tuple with one dict (or value) per node or connection."""
    if isinstance(nodes, SynapseCollection):
        return nodes.get(keys)
    nodes = _nodes(nodes, "GetStatus")
    out = []
    for node in nodes:
        if keys is None:
            out.append(node.get())
        elif isinstance(keys, str):
            out.append(node.get(keys))
        else:
            out.append(tuple(node.get(k) for k in keys))
    return tuple(out)


def SetStatus(nodes, params, val=None):
    if val is not None:
        params = {params: val}
    if isinstance(nodes, SynapseCollection):
        return nodes.set(params)
    _nodes(nodes, "SetStatus").set(params)


def Rank():
    """This process's MPI rank: always 0 (nestax runs one process; it shards over JAX devices instead)."""
    return 0


def NumProcesses():
    """Number of MPI processes: always 1 in nestax."""
    return 1


def GetLocalNodeCollection(nodes):
    """The nodes of ``nodes`` on this process: all of them (one process)."""
    return _nodes(nodes, "GetLocalNodeCollection")


def message(*args, function=None, filename=None, lineno=None):
    """NEST 3.10's ``message(text, severity=nest.VerbosityLevel.INFO, *, function=, filename=, lineno=)``:
    printed as ``function: text`` (function: the caller's name) unless the verbosity is above the
    severity. The older form ``message(level, sender, text)`` is understood too."""
    if len(args) == 3:
        level, function, text = args
    elif len(args) in (1, 2):
        text, level = args[0], (args[1] if len(args) == 2 else VerbosityLevel.INFO)
    else:
        raise TypeError(f"nest.message(text, severity=INFO): got {len(args)} positional arguments.")
    if function is None:
        function = sys._getframe(1).f_code.co_name
    lvl = getattr(VerbosityLevel, str(level).replace("M_", ""), None) if not isinstance(level, int) else level
    cur = KERNEL.settings["verbosity"]
    cur = getattr(VerbosityLevel, str(cur).replace("M_", ""), VerbosityLevel.WARNING) if not isinstance(cur, int) else cur
    if lvl is None or int(lvl) >= int(cur):
        print(f"{function}: {text}")


# ---------------------------------------------------------------------- spatial
def CreateMask(masktype, specs, anchor=None):
    """A mask for spatial connections: 'rectangular', 'circular', 'doughnut', 'elliptical' (2-D),
    'box', 'spherical', 'ellipsoidal' (3-D), 'grid' (cells of a 2-D grid layer), with NEST's specification
    dict and optional anchor."""
    from .. import spatial as _sp
    return _sp.mask(masktype, specs, anchor)


def GetPosition(nodes):
    """Positions of spatial nodes: a list [x, y(, z)] for one node, a list of them for several."""
    from .. import spatial as _sp
    return _sp.get_position(_nodes(nodes, "GetPosition")).tolist()


def _from_arg(x, call):
    if isinstance(x, np.ndarray) or not hasattr(x, "_gids"):
        return np.atleast_2d(np.asarray(x, float))
    return _nodes(x, call, "from_arg")


def Displacement(from_arg, to_arg):
    """As NEST 3.10 computes it: for positions ``from_arg``, pos(to) - position (periodic in to_arg's
    layer); for nodes ``from_arg``, pos(from) - pos(to) (periodic in from_arg's layer; NEST 3.10 swaps
    the order for two NodeCollections, and nestax.nest follows it). One of either pairs with all."""
    from .. import spatial as _sp
    to = _nodes(to_arg, "Displacement", "to_arg")
    frm = _from_arg(from_arg, "Displacement")
    if isinstance(frm, NodeCollection):
        return _sp.displacement(to, frm).tolist()
    return _sp.displacement(frm, to).tolist()


def Distance(from_arg, to_arg):
    """|Displacement(from_arg, to_arg)| for each pair (periodic in from_arg's layer for nodes, in
    to_arg's for positions, as NEST 3.10)."""
    return np.sqrt(np.sum(np.asarray(Displacement(from_arg, to_arg), float).reshape(-1, 0 + _ndim(to_arg)) ** 2,
                          axis=1)).tolist()


def _ndim(nodes):
    from .. import spatial as _sp
    return _sp.layer_of(_nodes(nodes, "Distance", "to_arg"), "Distance")[0].ndim


def FindNearestElement(layer, locations, find_all=False):
    """The node of ``layer`` nearest to each location (with find_all, every node at that distance)."""
    from .. import spatial as _sp
    return _sp.find_nearest(_nodes(layer, "FindNearestElement", "layer"), locations, find_all)


def FindCenterElement(layer):
    """The node of ``layer`` nearest to its center."""
    from .. import spatial as _sp
    return _sp.find_center(_nodes(layer, "FindCenterElement", "layer"))


def PlotLayer(layer, fig=None, nodecolor="b", nodesize=20):
    """Scatter plot of the nodes of a 2-D or 3-D spatial layer; returns the matplotlib figure."""
    from .. import spatial_plot
    return spatial_plot.plot_layer(_nodes(layer, "PlotLayer", "layer"), fig, nodecolor, nodesize)


def PlotTargets(src_nrn, tgt_layer, syn_type=None, fig=None, mask=None, probability_parameter=None,
                src_color="red", src_size=50, tgt_color="blue", tgt_size=20, mask_color="yellow",
                probability_cmap="Greens"):
    """Plot the targets of the single node ``src_nrn`` in ``tgt_layer`` (2-D), with the mask outline."""
    from .. import spatial_plot
    return spatial_plot.plot_targets(_nodes(src_nrn, "PlotTargets", "src_nrn"),
                                     _nodes(tgt_layer, "PlotTargets", "tgt_layer"), syn_type, fig, mask,
                                     src_color, src_size, tgt_color, tgt_size, mask_color, probability_parameter,
                                     probability_cmap)


def PlotSources(src_layer, tgt_nrn, syn_type=None, fig=None, mask=None, probability_parameter=None,
                tgt_color="red", tgt_size=50, src_color="blue", src_size=20, mask_color="yellow",
                probability_cmap="Greens"):
    """Plot the sources in ``src_layer`` (2-D) of the single node ``tgt_nrn``, with the mask outline."""
    from .. import spatial_plot
    return spatial_plot.plot_sources(_nodes(tgt_nrn, "PlotSources", "tgt_nrn"),
                                     _nodes(src_layer, "PlotSources", "src_layer"), syn_type, fig, mask,
                                     tgt_color, tgt_size, src_color, src_size, mask_color, probability_parameter,
                                     probability_cmap)


def PlotProbabilityParameter(source, parameter=None, mask=None, edges=(-0.5, 0.5, -0.5, 0.5), shape=(100, 100),
                             ax=None, prob_cmap="Greens", mask_color="yellow"):
    """Image of ``parameter`` (clipped to [0, 1]) for connections from the single node ``source`` to
    the points of a ``shape`` grid over ``edges`` = [x_min, x_max, y_min, y_max], and/or ``mask``."""
    from .. import spatial_plot
    return spatial_plot.plot_probability_parameter(_nodes(source, "PlotProbabilityParameter", "source"), parameter,
                                                   mask, edges, shape, ax, prob_cmap, mask_color)


# ---------------------------------------------------------------------- simulation
def Simulate(t):
    """Advance the network by ``t`` ms; recorders accumulate the events."""
    res = KERNEL.sim.simulate(plain(t))
    KERNEL.record(res)
    return None


def Run(t):
    """Run ``t`` ms between Prepare and Cleanup (nestax needs no preparation: same as Simulate)."""
    Simulate(t)


def Prepare():
    """Accepted (nestax prepares a network when it runs it)."""


def Cleanup():
    """Accepted (nestax holds no files open between runs)."""


@contextlib.contextmanager
def RunManager():
    """``with nest.RunManager(): nest.Run(t) ...``"""
    Prepare()
    try:
        yield
    finally:
        Cleanup()


# ---------------------------------------------------------------------- module attributes
_ATTRS = ("resolution", "rng_seed", "biological_time", "local_num_threads", "total_num_virtual_procs",
          "network_size", "num_connections", "min_delay", "max_delay", "data_path", "data_prefix",
          "overwrite_files", "print_time", "ms_per_tic", "tics_per_ms", "tics_per_step", "num_processes",
          "rng_type", "rng_types", "dict_miss_is_error", "keep_source_table", "memory_size")

#: PyNEST 3.10 names nestax does not provide yet, with the supported call closest to each
_NOT_YET = {
    "Install": "the models nestax ships",
    "SetStructuralPlasticityStatus": "plastic synapses (nestax.synapse models)",
    "EnableStructuralPlasticity": "plastic synapses (nestax.synapse models)",
    "DisableStructuralPlasticity": "plastic synapses (nestax.synapse models)",
    "TripartiteConnect": "nestax.Simulator.tripartite_connect",
    "SyncProcesses": "nest.Simulate", "SetAcceptableLatency": "nest.Simulate",
    "SetMaxBuffered": "nest.Simulate", "GetLocalVPs": "nest.GetKernelStatus",
    "load_library": "the models nestax ships", "ll_api": "nest.Create / nest.Connect", "sli_func": "Python",
    "sr": "Python", "PrintNodes": "print(nodes)", "help": "help(nestax.nest)", "helpdesk": "help(nestax.nest)",
    "synapsecollection": "nest.GetConnections", "Connectome": "nest.GetConnections",
}

_PUBLIC = ("CreateParameter", "ResetKernel", "SetKernelStatus", "GetKernelStatus", "set_verbosity", "get_verbosity", "Models",
           "GetDefaults", "SetDefaults", "CopyModel", "Create", "Connect", "GetConnections", "GetStatus",
           "SetStatus", "Simulate", "Run", "Prepare", "Cleanup", "RunManager", "NodeCollection",
           "SynapseCollection", "VerbosityLevel", "random", "Rank", "NumProcesses", "GetLocalNodeCollection",
           "message", "raster_plot", "voltage_trace", "node_models",
           "synapse_models", "verbosity", "spatial", "spatial_distributions", "math", "logic", "CreateMask", "GetPosition",
           "Displacement", "Distance", "FindNearestElement", "FindCenterElement", "PlotLayer",
           "PlotTargets", "kernel_status", "CollocatedSynapses", "Disconnect", "GetTargetNodes", "GetSourceNodes",
           "GetTargetPositions", "GetSourcePositions", "SelectNodesByMask", "DumpLayerNodes", "DumpLayerConnections",
           "GetNodes", "PlotSources", "PlotProbabilityParameter") + _ATTRS


class _NestModule(types.ModuleType):
    """``nest.resolution = 0.1``, ``nest.biological_time``, ... as PyNEST's module attributes."""

    def __getattr__(self, name):
        if name in _ATTRS:
            return _kernel_value(name)
        if name == "node_models":
            return _model_names("nodes")
        if name == "synapse_models":
            return _model_names("synapses")
        if name == "verbosity":
            return KERNEL.settings["verbosity"]
        if name == "kernel_status":
            return GetKernelStatus()
        if name in ("raster_plot", "voltage_trace"):
            import importlib
            return importlib.import_module(f"{__name__}.{name}")
        if name in _NOT_YET:
            raise NotImplementedError(f"nestax.nest.{name} is not supported yet; the nearest supported: "
                                      f"{_NOT_YET[name]}.")
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"module 'nestax.nest' has no attribute {name!r}.{did_you_mean(name, _PUBLIC)}")

    def __setattr__(self, name, value):
        if name in _ATTRS:
            SetKernelStatus({name: value})
        elif name == "verbosity":
            KERNEL.settings["verbosity"] = value
        else:
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _NestModule