"""brainpy.state's spellings of the NEST-like layer, translated to nestax's (or refused).

Scripts written for ``from brainpy import state as bp`` run with ``import nestax as nx`` where the
meaning of a spelling is unambiguous; a spelling whose meaning nestax cannot reproduce is an error
that names the nestax spelling. The Simulator, NodeCollection and Result call the few functions
here; nothing else in nestax knows brainpy.state's names. docs/migration.md lists every spelling.

Accepted (each gives exactly what the nestax spelling gives):

- ``create``: ``<state>_initializer=`` / ``<state>_init=`` (``V_initializer`` -> ``V_m``; brainpy's
  state names ``V``, ``U``, ``I_ex``, ``m``, ... -> NEST's) with a value, a
  ``braintools.init.Constant`` (-> its value), ``Normal`` / ``Uniform`` / ``Exponential`` (->
  ``nx.random.normal`` / ``uniform`` / ``exponential``) or a brainpy ``dist`` object;
  ``seed=`` on a generator that has ``rng_seed`` (-> ``rng_seed``); ``noise_dt=`` (-> ``dt``);
  ``name=``, ``spk_reset='hard'``, ``ref_var=False`` (NEST's behaviour: nothing to do).
- ``connect``: ``comm='dense' | 'sparse'`` (a delivery hint; nestax picks the kernel itself),
  ``seed=None``; an all_to_all ``weight`` list with one value per source (or per segment of a
  joined collection) -> the (n_post, n_pre) array NEST takes.
- ``nx.dist.Normal / Uniform / LogNormal`` -> ``nx.random.normal / uniform / lognormal``.
- ``sim.get_connections(source, target, synapse=)`` -> ``sim.connections(source, target,
  synapse_model=)``, whose ``get('source')`` / ``get('target')`` give brainpy's population-local
  indices; ``get([names])`` and ``set(name, values)``.
- ``nodes.size`` (= ``len(nodes)``) and ``nodes.segments[i].population`` / ``.indices``.

Refused with the nestax spelling: ``seed=<int>`` on connect, per-device seeds on generators that
draw from the kernel seed, ``rng_key=``, initializers with no nestax equivalent, unknown ``comm``,
``spk_fun=``, ``spk_reset='soft'``, ``ref_var=True``.

Multimeter samples keep NEST's times, which are not the rows of ``Result.times``:
``Result.sampled(mm, var)`` returns each trace with its own times.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import random as nxr
from .errors import BadParameterError, UnknownParameterError, did_you_mean
from .recording.result import Connections

# brainpy.state's names of state variables -> NEST's (the recordable aliases of its Simulator)
STATE_ALIASES = {"V": "V_m", "U": "U_m", "I_ex": "I_syn_ex", "I_in": "I_syn_in", "i_syn_ex": "I_syn_ex",
                 "i_syn_in": "I_syn_in", "m": "Act_m", "h": "Inact_h", "n": "Act_n", "I_sic": "I_SIC"}
_SUFFIXES = ("_initializer", "_init")
_COMM = ("dense", "sparse")
_SEED_WORDS = ("seed", "rng_key")


# ---------------------------------------------------------------------- values
def _qty(x, unit=None):
    """``x`` times braintools' deprecated ``unit`` argument, when one is given."""
    if unit is None:
        return x
    try:
        import brainunit as u
        if unit == u.UNITLESS:
            return x
    except (ImportError, TypeError):
        pass
    return x * unit


def _origin(v) -> str:
    mod = getattr(type(v), "__module__", "") or ""
    if mod.startswith("braintools"):
        return "braintools.init"
    if mod.startswith("brainpy"):
        return "dist"
    return ""


def value(v, where: str):
    """A value given in brainpy.state's terms as nestax's: a braintools.init initializer or a brainpy
    ``dist`` object becomes the value or nx.random distribution it stands for; anything else is
    returned unchanged."""
    origin = _origin(v)
    if not origin:
        return v
    name, unit = type(v).__name__, getattr(v, "unit", None)
    if origin == "braintools.init":
        if name in ("Constant", "ZeroInit"):
            return _qty(v.value, unit)
        if name == "Normal":
            return nxr.normal(_qty(v.mean, unit), _qty(v.std, unit))
        if name == "Uniform":
            return nxr.uniform(_qty(v.low, unit), _qty(v.high, unit))
        if name == "Exponential":
            return nxr.exponential(_qty(v.scale, unit))
    else:
        if name == "Normal":
            return nxr.normal(v.mean, v.std)
        if name == "Uniform":
            return nxr.uniform(v.low, v.high)
        if name == "LogNormal":
            return nxr.lognormal(v.mean, v.std)
    raise BadParameterError(
        f"{where} = {v!r} ({origin}.{name}) has no nestax equivalent; give a value, an array with one value "
        "per node, or an nx.random distribution (nx.random.normal(mean, std), nx.random.uniform(min, max), "
        "nx.random.lognormal(mean, std), nx.random.exponential(beta), nx.random.uniform_int(max)).")


class dist:
    """brainpy.state's ``dist`` module: capitalised names for nestax's distributions
    (``nx.dist.Normal(mean, std)`` is ``nx.random.normal(mean, std)``; ``Uniform(low, high)`` is
    ``nx.random.uniform(low, high)``; ``LogNormal(mean, std)`` is ``nx.random.lognormal(mean,
    std)``, exp of a normal with that mean and std, as in both libraries)."""

    @staticmethod
    def Normal(mean, std):
        return nxr.normal(mean, std)

    @staticmethod
    def Uniform(low, high):
        return nxr.uniform(low, high)

    @staticmethod
    def LogNormal(mean, std):
        return nxr.lognormal(mean, std)

    Distribution = nxr.Distribution


# ---------------------------------------------------------------------- create
def create_params(net, model, given):
    """The parameters of ``sim.create(model, ...)`` with brainpy.state's spellings translated (a dict,
    or NEST's list of dicts, one per node)."""
    if isinstance(given, (list, tuple)):
        return [create_params(net, model, d) if isinstance(d, dict) else d for d in given]
    if not isinstance(given, dict) or not given:
        return given
    try:
        cls = net.resolve(model)[0]
    except Exception:  # an unknown model (or a template): nestax's own error follows
        return given
    known = set(cls.parameters) | set(cls.state) | set(getattr(cls, "aliases", {}) or {})
    out = {}
    for k, v in given.items():
        if k in known:
            out[k] = value(v, f"create({cls.name}): {k}")
            continue
        target = _initializer_target(cls, k)
        if target is not None:
            if target in given:
                raise BadParameterError(f"create({cls.name}): {k} and {target} both set the initial {target}; "
                                        f"give it once, as {target}=...")
            out[target] = value(v, f"create({cls.name}): {k}")
        elif k in _SEED_WORDS or k == "rng_seed":
            _device_seed(cls, k, v, given, out)
        elif k == "noise_dt" and "dt" in cls.parameters:
            if "dt" in given:
                raise BadParameterError(f"create({cls.name}): noise_dt and dt are the same parameter (the interval "
                                        "between new draws); give it once, as dt=...")
            out["dt"] = v
        elif k in _NODE_OPTIONS:
            _node_option(cls, k, v, out)
        else:
            out[k] = v  # nestax reports it (unknown parameter, with did-you-mean)
    return out


# brainpy.state's options of a model object that are not NEST parameters
_NODE_OPTIONS = ("name", "spk_reset", "ref_var", "spk_fun")


def _node_option(cls, key, v, out):
    """``name=`` (a label: dropped), ``spk_reset='hard'`` and ``ref_var=False`` (NEST's behaviour,
    which nestax has: dropped); other values and ``spk_fun=`` are refused."""
    if (key == "name" and isinstance(v, str)) or (key == "spk_reset" and v == "hard") or \
            (key == "ref_var" and v is False):
        return
    why = {
        "name": "nodes are named by their NodeCollection (and global ids); drop name=...",
        "spk_reset": "nestax's neurons reset as NEST's (V_m = V_reset after a spike: brainpy's 'hard'); "
                     "drop spk_reset=...",
        "ref_var": "the refractory count is a state variable of the model (sim.get(nodes) lists the state); "
                   "drop ref_var=...",
        "spk_fun": "nestax emits NEST's spikes (threshold crossings) and has no surrogate gradient in the "
                   "Simulator; drop spk_fun=...",
    }[key]
    raise BadParameterError(f"create({cls.name}): {key} = {v!r} (a brainpy.state option) is not accepted: {why}")


def _initializer_target(cls, key):
    """The state variable that brainpy.state's ``<state>_initializer`` / ``<state>_init`` keyword
    sets, None if ``key`` is not such a keyword; an error naming the state variables if it is one
    for a state this model does not have."""
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            base = key[:-len(suffix)]
            break
    else:
        return None
    states = [s for s in cls.state if not s.startswith("_")]
    for name in (base, STATE_ALIASES.get(base)):
        if name is not None and name in cls.state:
            return name
    raise UnknownParameterError(
        f"create({cls.name}): {key!r} (brainpy.state's initializer of state {base!r}) names no state variable of "
        f"{cls.name}; nestax sets initial state by the state's NEST name, e.g. {states[0] if states else 'V_m'}=... "
        f"(state variables: {', '.join(states) or 'none'}).{did_you_mean(base, states)}")


def _device_seed(cls, key, v, given, out):
    """``seed=`` / ``rng_key=`` / ``rng_seed=`` on a device: its own ``rng_seed`` where the model has
    one, else an error (its draws come from the Simulator's seed)."""
    if v is None:
        return
    if "rng_seed" in cls.parameters:
        if key == "rng_key":
            raise BadParameterError(f"create({cls.name}): rng_key = {v!r} (a JAX key) is not accepted; nestax "
                                    "seeds a generator with an integer: rng_seed=<int> (or leave it out: the "
                                    "stream then derives from nx.Simulator(seed=...)).")
        if "rng_seed" in given and key != "rng_seed":
            raise BadParameterError(f"create({cls.name}): {key} and rng_seed are the same setting; give it once, "
                                    "as rng_seed=...")
        out["rng_seed"] = v
        return
    if cls.kind not in ("spike_source", "current_source", "rate_source"):
        out[key] = v  # not a generator: nestax's unknown-parameter error
        return
    raise BadParameterError(
        f"create({cls.name}): {key} = {v!r} is not accepted: nestax's {cls.name} has no seed of its own; its "
        "draws derive from the Simulator's seed and the node's global id (independent per node and per target). "
        f"Drop {key}=... and set the seed with nx.Simulator(seed=...).")


# ---------------------------------------------------------------------- connect
def connect_args(net, pre_gids, post_gids, rule, kwargs: dict, syn: dict):
    """brainpy.state's connect keywords (``comm``, ``seed``) removed from ``kwargs`` (or refused), and
    the weight and delay in ``syn`` translated (distributions; all_to_all weight lists per source)."""
    comm = kwargs.pop("comm", None)
    if comm is not None and comm not in _COMM:
        raise BadParameterError(f"connect: comm = {comm!r} is invalid; brainpy.state's comm is 'dense' or 'sparse' "
                                "(a delivery hint, which nestax does not need: it picks the delivery kernel "
                                "itself). Drop comm=...")
    if "seed" in kwargs:
        seed = kwargs.pop("seed")
        if seed is not None:
            raise BadParameterError(
                f"connect: seed = {seed!r} (brainpy.state's per-connect seed) is not accepted: nestax draws every "
                "connection from the Simulator's kernel seed, so a script builds the same network each time it "
                "runs and separate connect calls draw independently. Drop seed=... and set the seed with "
                "nx.Simulator(seed=...).")
    for name in ("weight", "delay"):
        if name in syn:
            syn[name] = value(syn[name], f"connect: {name}")
    if "weight" in syn and _rule_name(rule, kwargs) == "all_to_all":
        syn["weight"] = _per_source(net, pre_gids, post_gids, syn["weight"])


def _rule_name(rule, kwargs):
    if rule is None:
        return "all_to_all"
    if isinstance(rule, dict):
        return rule.get("rule", "all_to_all")
    if isinstance(rule, str):
        return rule
    return getattr(rule, "name", None)


def _per_source(net, pre_gids, post_gids, w):
    """An all_to_all weight with one value per source (or per segment of a joined collection, as
    brainpy.state's per-segment weights) as NEST's (n_post, n_pre) array; other values unchanged."""
    if hasattr(w, "mantissa"):
        import brainunit as u
        mant, unit = u.split_mantissa_unit(w)
        if np.ndim(mant) != 1:
            return w
        out = _per_source(net, pre_gids, post_gids, np.asarray(mant))
        return out if out is w else out * unit
    if isinstance(w, nxr.Distribution) or np.ndim(w) != 1 or isinstance(w, (str, bytes)):
        return w
    try:
        arr = np.asarray(w, dtype=float)
    except (TypeError, ValueError):
        return w
    n_pre, n_post = len(pre_gids), len(post_gids)
    if len(arr) == n_pre:
        per_src = arr
    else:
        segs = _runs(net, pre_gids)
        if len(segs) < 2 or len(arr) != len(segs):
            return w
        per_src = np.concatenate([np.full(len(idx), arr[i]) for i, (_, idx) in enumerate(segs)])
    return np.broadcast_to(per_src, (n_post, n_pre)).copy()


# ---------------------------------------------------------------------- node collections
class Segment(NamedTuple):
    """brainpy.state's NodeView segment: the whole population (every node of one ``create`` call) and
    the population-local indices of the selected nodes."""
    population: object
    indices: np.ndarray


def _runs(net, gids):
    """[(block, local indices)] of the maximal runs of consecutive nodes of one block, in order."""
    gids = np.asarray(gids)
    if len(gids) == 0:
        return []
    bi = np.asarray(net.block_index(gids))
    cut = np.flatnonzero(np.diff(bi)) + 1
    out = []
    for part_g, part_b in zip(np.split(gids, cut), np.split(bi, cut)):
        blk = net.blocks[int(part_b[0])]
        out.append((blk, part_g - blk.gid0))
    return out


def segments(nodes) -> list:
    """``nodes.segments``: one :class:`Segment` per run of nodes from one ``create`` call."""
    from .nodes import NodeCollection
    return [Segment(NodeCollection(nodes._sim, blk.gids), np.asarray(idx, np.int64))
            for blk, idx in _runs(nodes._sim._net, nodes._gids)]


# ---------------------------------------------------------------------- connections
def local_indices(net, gids) -> np.ndarray:
    """Population-local index (position within its ``create`` call) of each global id."""
    gids = np.asarray(gids, np.int64)
    if len(gids) == 0:
        return gids.copy()
    gid0 = np.array([b.gid0 for b in net.blocks], np.int64)
    return gids - gid0[np.asarray(net.block_index(gids), np.int64)]


def get_connections(sim, source=None, target=None, synapse=None):
    """brainpy.state's ``sim.get_connections(source, target, synapse)``: ``sim.connections(source,
    target, synapse_model=synapse)`` read as brainpy.state's SynapseCollection."""
    c = sim.connections(source, target, synapse_model=synapse)
    out = BrainpyConnections.__new__(BrainpyConnections)
    out.__dict__.update(c.__dict__)
    return out


class BrainpyConnections(Connections):
    """:class:`Connections` as brainpy.state's SynapseCollection reads them: ``get('source')`` and
    ``get('target')`` are population-local indices (the node's position in its ``create`` call;
    ``.sources`` / ``.targets`` stay NEST's global ids), ``get([names])`` gives a dict and
    ``set(name, values)`` sets one column."""

    def get(self, name):
        if isinstance(name, (list, tuple)):
            return {n: self.get(n) for n in name}
        ends = {"source": "sources", "target": "targets"}  # brainpy.state's column -> the global ids
        if name in ends:
            return local_indices(self._owner._net, getattr(self, ends[name]))
        return Connections.get(self, name)

    def set(self, params=None, value=None, **kwargs):
        if isinstance(params, str):
            params = {params: value}
        elif value is not None:
            raise TypeError("set: give set(name, values), set({name: values}) or set(name=values).")
        return Connections.set(self, params, **kwargs)
