"""Neuron models as plain functions: use any nestax neuron without a Simulator.

    import brainunit as u
    import nestax as nx
    F = nx.functional
    p = F.params(nx.iaf_psc_alpha, I_e=376. * u.pA)       # the parameter record of the compiled step
    s = F.init(nx.iaf_psc_alpha, p)                          # the initial state record
    s, spikes = F.step(nx.iaf_psc_alpha, p, s, {"ex": 50.}, dt=0.1)   # one step
    out = F.run(nx.iaf_psc_alpha, p, s, {"I": np.full(1000, 10.)}, dt=0.1)  # lax.scan over 1000 steps

Every function reuses the model's own code (``prepare``, ``update``, ``observe``) and the engine's
conventions, so a trajectory computed here is the trajectory a Simulator records for the same inputs.

**Parameters and state.** :func:`params` builds the record exactly as ``sim.create`` does (NEST's
defaults, aliases and sub-dictionaries, units converted to NEST's, the model's checks with the same
errors) and lowers it as the engine does (floats in the run's precision, numeric stand-ins for string
parameters). It is a :class:`Params` (a read-only mapping and a JAX pytree: ``jit``, ``vmap`` and
``grad`` see its arrays, each of shape ``(n,)``); ``p.replace(I_e=x)`` gives a copy with new values
(traced values allowed: that is how to ``vmap`` or differentiate over a parameter). :func:`init` gives
the state record (a plain dict of arrays), as the first ``simulate`` would start from it: NEST's initial
values, or those given (``V_m=-60. * u.mV``, the state variables ``sim.create`` accepts).

**Inputs.** ``inputs`` is a dict: an input port name of the model (:func:`ports`; e.g. ``"ex"``,
``"in"``) -> the value the engine's ring buffer delivers on that port in the step, and ``"I"`` -> the
current of generators on receptor 0 (pA); a missing key is zero. For
one step a value is one number or an ``(n,)`` array; for :func:`run` it has a leading time axis,
``(T,)`` or ``(T, n)``; bare numbers in NEST's units (the model's weight unit, currents in pA) or
quantities. The value on a port in step k (covering ``(k dt, (k+1) dt]``) is the sum of
weight x multiplicity (times the model's routing factor, :func:`route`) of the spikes whose arrival
time, spike time + delay, is ``(k+1) dt``: a spike at time t through a connection of delay d lands in
step ``round((t + d) / dt) - 1``. A current generator's value at time ``s dt`` reaches ``"I"`` of step
``s + d / dt`` (NEST's one-step lag, e.g. a ``dc_generator`` from time 0 with delay 0.1 ms at dt = 0.1 ms:
steps 2, 3, ...). Current generators on receptor r > 0 (``current_ports``) feed the named port.
Models that count spikes (parrot_neuron) take the multiplicity on their port.

**Randomness.** Stochastic models need ``key=``: the key of the neuron block; step k draws with
``fold_in(key, k)``, the engine's stream. :func:`simulator_key` gives the key a Simulator uses for a
population, so that a run here repeats that population's draws exactly.

**Outputs.** :func:`step` returns the new state and the spike counts of the step (int32, ``(n,)``);
precise-timing models (``_ps``) return ``(counts, offsets)``. :func:`run` returns a :class:`Trajectory`:
the final state, the spikes ``(T, n)``, the recordables ``(T, n)`` observed after every step (what a
multimeter with interval dt records at times ``(k+1) dt``) and, with ``states=True``, every state
variable after every step.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .errors import BadParameterError
from .models.base import TICS_PER_MS, resolve_model
from .units import is_quantity, to_nest

__all__ = ["Params", "Trajectory", "params", "init", "ports", "route", "step", "run", "simulator_key"]

_CHUNK_BYTES = 1 << 20  # lowering needs a recording budget; nothing here records through the engine


def _dtype(dtype):
    """The run's float type: ``dtype`` if given, else float64 with jax's x64 mode, else float32 (the
    Simulator's rule)."""
    if dtype is not None:
        return np.dtype(dtype).type
    return np.float64 if jax.config.jax_enable_x64 else np.float32


def _ms(dt, what="dt"):
    x = to_nest(dt, "ms", "functional", what)
    x = float(np.asarray(x))
    if not (x > 0 and np.isfinite(x)):
        raise BadParameterError(f"functional: {what} = {dt!r} is invalid; expected a time > 0 ms.")
    return x


def _network(dt):
    from .network.store import Network
    return Network(dt, int(round(dt * TICS_PER_MS)), 0)


def _neuron_class(model):
    cls, overrides = resolve_model(model)
    if cls.kind != "neuron":
        raise BadParameterError(f"functional: {cls.name} is a {cls.kind.replace('_', ' ')}, not a neuron model; "
                                "only neuron models run as plain functions.")
    return cls, overrides


def _frozen(x):
    """A hashable copy of a host value (lists of arrays, strings, dicts of compartments)."""
    if isinstance(x, np.ndarray):
        return (x.shape, str(x.dtype), tuple(x.ravel().tolist()))
    if isinstance(x, (list, tuple)):
        return tuple(_frozen(v) for v in x)
    if isinstance(x, dict):
        return tuple(sorted((str(k), _frozen(v)) for k, v in x.items()))
    try:
        hash(x)
        return x
    except TypeError:
        return repr(x)


class _Host:
    """What a parameter record keeps on the host: the model, the number of neurons, the host record as
    ``sim.create`` builds it. Static for jit: two records are the same program when their model, size,
    resolution, float type and host-only parameters (lists, strings: what shapes the step) are equal;
    the numbers of the arrays are the pytree's leaves, so ``replace`` does not recompile."""

    __slots__ = ("model", "n", "host", "dt", "dtype", "key")

    def __init__(self, model, n, host, dt, dtype, leaves=()):
        self.model, self.n, self.host, self.dt, self.dtype = model, n, host, dt, dtype
        self.key = (model, n, dt, np.dtype(dtype).name,
                    tuple(sorted((k, _frozen(v)) for k, v in host.items() if k not in leaves)))

    def with_host(self, host):
        out = object.__new__(_Host)
        out.model, out.n, out.host, out.dt, out.dtype, out.key = self.model, self.n, host, self.dt, self.dtype, self.key
        return out

    def __eq__(self, other):
        return isinstance(other, _Host) and self.key == other.key

    def __hash__(self):
        return hash(self.key)


@jax.tree_util.register_pytree_node_class
class Params(Mapping):
    """A neuron model's parameter record as the compiled step sees it: name -> array of shape ``(n,)``
    in NEST's units (a read-only mapping; a JAX pytree whose leaves are those arrays). Build it with
    :func:`params`; ``replace`` gives a copy with new values."""

    def __init__(self, values: dict, host: _Host):
        self._values = dict(values)
        self._host = host

    # ---- pytree ----
    def tree_flatten(self):
        names = tuple(self._values)
        return tuple(self._values[k] for k in names), (names, self._host)

    @classmethod
    def tree_unflatten(cls, aux, leaves):
        names, host = aux
        return cls(dict(zip(names, leaves)), host)

    # ---- mapping ----
    def __getitem__(self, name):
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __repr__(self):
        return f"Params({self._host.model.name}, n={self._host.n}, {list(self._values)})"

    @property
    def model(self):
        """The neuron model (class) of the record."""
        return self._host.model

    @property
    def n(self) -> int:
        """The number of neurons the record describes."""
        return self._host.n

    def replace(self, **values) -> "Params":
        """A copy with new values: quantities are converted to NEST's unit; bare numbers and arrays
        (JAX tracers included) are taken in NEST's unit as they are; a scalar applies to every neuron.
        Concrete values get the model's checks (traced values cannot be checked)."""
        cls, n = self._host.model, self._host.n
        new = dict(self._values)
        host = dict(self._host.host)
        concrete = True
        for name, v in values.items():
            if name not in new or name not in cls.parameters:
                known = [k for k in self._values if k in cls.parameters]
                from .errors import unknown_parameter
                if name in cls.parameters:  # a list / string parameter: on the host only
                    raise BadParameterError(f"{cls.name}: parameter {name!r} shapes the model (it is not an array of "
                                            "the compiled step); build a new record with nx.functional.params.")
                raise unknown_parameter(cls.name, name, known)
            if is_quantity(v):
                v = to_nest(v, cls.parameters[name].unit, cls.name, name)
            if isinstance(v, jax.core.Tracer):
                concrete = False
            else:
                host[name] = np.broadcast_to(np.asarray(v, host[name].dtype), (n,)).copy()
            v = jnp.asarray(v, new[name].dtype)
            new[name] = jnp.broadcast_to(v, (n,)) if v.ndim == 0 else v
        if concrete:
            from .network.store import check
            check(cls, host)
            cls.check_grid(host, self._host.dt)
        return Params(new, self._host.with_host(host))


class Trajectory(NamedTuple):
    """What :func:`run` returns (a pytree)."""
    #: the state record after the last step
    state: dict
    #: (T, n) spike counts per step (int32); precise models: a tuple (counts, offsets), each (T, n, M)
    spikes: Any
    #: recordable name -> (T, n) values after every step (times (k0 + k + 1) dt)
    record: dict
    #: with ``states=True``: state variable -> (T, ...) values after every step; else None
    states: Any = None


def params(model, n: int = 1, dt=0.1, dtype=None, **values) -> Params:
    """The parameter record of ``n`` neurons of ``model`` (a model class, ``nx.<model>(...)`` spec or NEST
    name) as the compiled step sees it: NEST's defaults, ``values`` given as ``sim.create`` takes them
    (quantities or bare numbers in NEST's unit, one value or one per neuron), checked with the same
    errors. ``dt`` (ms) is the resolution the checks that need it use; ``dtype`` the float type (default:
    the Simulator's, float64 with jax's x64 mode)."""
    cls, overrides = _neuron_class(model)
    dt = _ms(dt)
    given = {**overrides, **values}
    state_given = sorted(k for k in given if k not in cls.parameters and cls.aliases.get(k, k) in cls.state)
    if state_given:
        raise BadParameterError(f"{cls.name}: {state_given[0]!r} is a state variable; give initial values to "
                                "nx.functional.init, parameters to nx.functional.params.")
    from .engine.lower import lower
    dtype = _dtype(dtype)
    net = _network(dt)
    blk = net.create(cls, n, given)  # sim.create's conversion, defaults and checks
    # the engine's lowering of a lone population: the arrays its compiled step is given
    values = {k: jnp.asarray(v) for k, v in lower(net, dtype, 0, _CHUNK_BYTES, 1).arrays["params"][0].items()}
    # one entry per neuron here, also where the engine passes a value shared by the block once
    values = {k: (jnp.broadcast_to(v, (n,) + v.shape[1:]) if k in blk.params and not isinstance(blk.params[k], list)
                  and v.ndim >= 1 and v.shape[0] == 1 and n > 1 else v) for k, v in values.items()}
    return Params(values, _Host(blk.model, blk.n, blk.params, dt, dtype, leaves=values))


def _as_params(model, p) -> tuple[type, Params]:
    cls, _ = _neuron_class(model)
    if not isinstance(p, Params):
        raise TypeError(f"functional: expected the parameter record of nx.functional.params({cls.name}, ...), got "
                        f"{type(p).__name__}.")
    if not issubclass(p.model, cls) and not issubclass(cls, p.model):
        raise BadParameterError(f"functional: the parameter record is one of {p.model.name}, not of {cls.name}.")
    return p.model, p


def init(model, p: Params | None = None, n: int | None = None, dt=None, **state) -> dict:
    """The initial state record of the neurons of parameter record ``p`` (None: NEST's defaults for
    ``n`` neurons): NEST's initial values, or those given in ``state`` (quantities or bare numbers in
    NEST's unit, one value or one per neuron; the state variables ``sim.create`` accepts), converted to
    the run's internal form exactly as the first ``simulate`` does. ``dt`` (ms; default that of ``p``)
    matters only to models whose state depends on the resolution (gif_pop_psc_exp)."""
    if p is None:
        p = params(model, n=1 if n is None else n, **({} if dt is None else {"dt": dt}))
    cls, p = _as_params(model, p)
    if n is not None and n != p.n:
        raise BadParameterError(f"{cls.name}: init(n={n}) but the parameter record describes {p.n} neurons; build it "
                                f"with nx.functional.params({cls.name}, n={n}, ...).")
    params_given = sorted(k for k in state if k in cls.parameters)
    if params_given:
        raise BadParameterError(f"{cls.name}: {params_given[0]!r} is a parameter; give it to nx.functional.params "
                                "(or Params.replace), initial state values to init.")
    from .engine.lower import initial_run_state, lower
    from .network.records import Block
    from .network.store import aliased, check_names, unkeyword
    dt = p._host.dt if dt is None else _ms(dt)
    net = _network(dt)
    host = dict(p._host.host)
    state = aliased(cls, unkeyword(state))
    check_names(cls, state)  # the state variables sim.create accepts
    blk = Block(cls, 1, p.n, host)
    blk.state = net.initial_state(cls, host, p.n, state)
    net.blocks.append(blk)
    net.starts = np.array([1])
    # the engine's own lowering: cast to the run's types, fit_state, ports of their own
    low = lower(net, p._host.dtype, 0, _CHUNK_BYTES, 1)
    st = initial_run_state(net, low, 0, p._host.dtype, 1, {})["states"][0]
    return {k: jnp.asarray(v) for k, v in st.items()}


def ports(model, p: Params | None = None) -> tuple:
    """The input port names of ``model`` (for parameter record ``p``: multi-receptor models have one per
    receptor), the keys ``inputs`` may use besides ``"I"``."""
    cls, _ = _neuron_class(model)
    if p is None:
        p = params(model)
    cls, p = _as_params(model, p)
    return tuple(cls.port_names(p._host.host))


def route(model, p: Params, weight, receptor_type=0) -> dict:
    """Where spikes through connections of ``weight`` (in the model's weight unit: pA, nS, mV, ...; a
    quantity or a bare number) and ``receptor_type`` go: port name -> the value they add to ``inputs``
    per spike (the model's routing: sign, magnitude, receptor), one entry per port they reach, with the
    checks ``sim.connect`` makes. With an array of weights (one per connection): port -> the summed
    value of a spike on every connection at once."""
    cls, p = _as_params(model, p)
    names = cls.port_names(p._host.host)
    w = np.asarray(to_nest(weight, cls.weight_unit, cls.name, "weight"), float).reshape(-1)
    r = np.broadcast_to(np.asarray(receptor_type), w.shape)
    if not cls.counts_input:
        lo, hi = cls.receptor_range(p._host.host)
        if np.any((r < lo) | (r > hi)):
            from .errors import ConnectionError_
            raise ConnectionError_(f"{cls.name}: receptor_type {int(r[(r < lo) | (r > hi)][0])} is invalid; expected "
                                   f"{lo}..{hi}.")
    port, scale = cls.route(w, r)
    val = np.ones_like(w) if cls.counts_input else w * np.asarray(scale, float)
    out = {}
    for pi, v in zip(np.broadcast_to(port, w.shape), val):
        out[names[int(pi)]] = out.get(names[int(pi)], 0.0) + float(v)
    return out


def simulator_key(seed: int, gid: int = 1):
    """The key a ``Simulator(seed=seed)`` gives the stochastic neuron population whose first global id
    is ``gid`` (1 for the first node created): pass it as ``key=`` to repeat that population's draws."""
    return jax.random.fold_in(jax.random.PRNGKey(seed), gid)


def _port_rows(cls, p: Params, inputs, lead: tuple, what: str):
    """(syn (lead..., n_ports, n), I (lead..., n), events or None) from an inputs dict."""
    names = cls.port_names(p._host.host)
    inputs = {} if inputs is None else inputs
    if not isinstance(inputs, Mapping):
        raise TypeError(f"{cls.name}: inputs must be a dict (port name or 'I' -> values); got {type(inputs).__name__}.")
    extra = "events" if cls.precise else None
    bad = [k for k in inputs if k not in names and k != "I" and k != extra]
    if bad:
        raise BadParameterError(f"{cls.name}: input {bad[0]!r} is not an input of this model; expected 'I' (the "
                                f"generator current) or one of its ports {list(names)}"
                                f"{' or events' if extra else ''}.")
    dtype = p._host.dtype
    shape = lead + (p.n,)

    currents = set(cls.current_port_map(p._host.host).values()) | {"I"}

    def col(x, name):
        if is_quantity(x):  # spikes in the model's weight unit; currents in pA
            x = to_nest(x, "pA" if name in currents else cls.weight_unit, cls.name, f"input {name!r}")
        x = jnp.asarray(x, dtype)
        if lead and x.ndim == 1:
            x = x[:, None]  # (T,) -> every neuron
        try:
            return jnp.broadcast_to(x, shape)
        except ValueError:
            raise BadParameterError(f"{cls.name}: input {name!r} has shape {x.shape}; expected {what}.") from None

    zero = jnp.zeros(shape, dtype)
    rows = [col(inputs[k], k) if k in inputs else zero for k in names]
    syn = jnp.stack(rows, axis=len(lead)) if rows else jnp.zeros(lead + (0, p.n), dtype)
    I = col(inputs["I"], "I") if "I" in inputs else zero
    events = None
    if cls.precise:
        if "events" in inputs:
            w, o, v = inputs["events"]
            events = (jnp.asarray(w, dtype), jnp.asarray(o, dtype), jnp.asarray(v, bool))
        else:  # no precise input: one empty place per neuron
            events = (jnp.zeros(shape + (1,), dtype), jnp.full(shape + (1,), -1.0, dtype),
                      jnp.zeros(shape + (1,), bool))
    return syn, I, events


def _one_step(cls, p, d, s, syn, I, events, key, k, threshold=None):
    """One engine step of one neuron block (engine/run.py, phases 1 and 2 for a block without
    connections): a rate neuron's emit, then update; the state keeps its types; spikes int32 (with a
    surrogate ``threshold``: floats that carry its derivative)."""
    step_key = None if key is None else jax.random.fold_in(key, k)
    if cls.signal == "rate" or cls.sends_rate_event:  # the value sent at the start of the step
        kw = {"key": jax.random.fold_in(step_key, 1)} if cls.stochastic else {}
        _, s1 = cls.emit(p, d, s, **kw)
        s = {name: v.astype(s[name].dtype) for name, v in s1.items()}
    kw = {"key": step_key} if cls.stochastic else {}
    if cls.device_window or cls.update_takes_step:
        kw["step"] = (k, 1)
    if cls.precise:
        kw["events"] = events
    if threshold is not None:
        kw["threshold"] = threshold
    s1, spk = cls.update(p, d, s, syn, I, **kw)
    s1 = {name: v.astype(s[name].dtype) for name, v in s1.items()}
    if threshold is not None and threshold.differentiable:
        return s1, jnp.asarray(spk, syn.dtype)
    if cls.precise:
        return s1, (spk[0].astype(jnp.int32), spk[1].astype(syn.dtype))
    return s1, spk.astype(jnp.int32)


def _key(cls, key):
    if cls.stochastic and key is None:
        raise BadParameterError(f"{cls.name} is stochastic: give key= (a jax PRNG key; "
                                "nx.functional.simulator_key(seed) repeats a Simulator's draws).")
    return key if cls.stochastic else None


def step(model, p: Params, state: dict, inputs: dict | None = None, dt=0.1, key=None, k=0, surrogate=None):
    """One step of ``dt`` (ms) from ``state`` with this step's ``inputs`` (see the module's docs):
    returns (new state, spikes). ``k`` is the step's index, which picks the random draws of stochastic
    models (``fold_in(key, k)``) and the window of device-like models. ``surrogate`` (a name such as
    "fast_sigmoid" or an ``nx.surrogate.Surrogate``): float spikes with a surrogate derivative
    (docs/gradients.md). Pure: jit, vmap and grad apply."""
    cls, p = _as_params(model, p)
    dt = _ms(dt)
    syn, I, events = _port_rows(cls, p, inputs, (), "one value or one per neuron")
    d = cls.prepare(p, dt)
    return _one_step(cls, p, d, state, syn, I, events, _key(cls, key), jnp.asarray(k, jnp.int32),
                     _threshold(cls, surrogate))


def _threshold(cls, surrogate):
    """The threshold object of a surrogate choice (None: the model's exact threshold)."""
    if surrogate is None:
        return None
    if not cls.differentiable:
        from .models.registry import lookup, models
        ok = [n for n in models() if lookup(n).kind == "neuron" and lookup(n).differentiable]
        raise BadParameterError(f"{cls.name} has no surrogate-gradient hook (Neuron.differentiable); models that "
                                f"have one: {', '.join(ok)}.")
    from .models.surrogate import resolve
    return resolve(surrogate)


def _recordables(cls, names):
    if names is None:  # (name patterns of per-population recordables, cm_default's v_comp<i>, are left out)
        return tuple(n for n in cls.recordables() if "<" not in n)
    if isinstance(names, str):
        names = (names,)
    bad = [n for n in names if n not in cls.recordables()]
    if bad:
        raise BadParameterError(f"{cls.name}: {bad[0]!r} is not a recordable of this model; expected one of "
                                f"{list(cls.recordables())}.")
    return tuple(names)


def run(model, p: Params, state: dict, inputs: dict | None = None, dt=0.1, steps: int | None = None, key=None,
        k0: int = 0, record=None, states: bool = False, surrogate=None) -> Trajectory:
    """``T`` steps of ``dt`` (ms) from ``state`` with ``lax.scan``: ``inputs`` maps ports and ``"I"`` to
    values with a leading time axis, ``(T,)`` or ``(T, n)`` (``steps=T`` when there are none; with
    ``steps=T``, inputs of T + 1 rows give the input of the step after the run in their last row).
    ``record``: the recordables to observe after every step (default: every recordable the model lists;
    per-population names such as cm_default's ``v_comp0`` or ``I_syn_2`` when asked for);
    ``states``: also return every state variable after every step. ``k0``: the index of the first step
    (the random draws of stochastic models). A recordable that shows the next step's input (glif's
    ``I``) reads row k + 1 of ``inputs`` (0 after the last row). ``surrogate``: as for :func:`step`
    (spikes then floats with a surrogate derivative). Pure: jit, vmap and grad apply."""
    cls, p = _as_params(model, p)
    threshold = _threshold(cls, surrogate)
    dt = _ms(dt)
    inputs = {} if inputs is None else inputs
    lens = {int(np.shape(v)[0]) for k, v in inputs.items() if k != "events"}
    if cls.precise and "events" in inputs:
        lens.add(int(np.shape(inputs["events"][0])[0]))
    T = int(steps) if steps is not None else (min(lens) if lens else None)
    if T is None or not lens <= {T, T + 1} or (steps is None and len(lens) != 1):
        raise BadParameterError(f"{cls.name}: run needs inputs with one length T of the time axis (or steps=T and "
                                f"inputs of T or T + 1 rows); got {sorted(lens) or 'no inputs'} and steps={steps}.")
    L = max(lens) if lens else T  # T + 1: the last row is the input of the step after the run (next-input recordables)
    syn_all, I_all, events = _port_rows(cls, p, inputs, (L,), "(T,) or (T, n) values")
    syn, I = syn_all[:T], I_all[:T]
    if events is not None:
        events = tuple(x[:T] for x in events)
    names = _recordables(cls, record)
    key = _key(cls, key)
    d = cls.prepare(p, dt)
    names_ports = list(cls.port_names(p._host.host))
    nxt = {}  # recordables of the next step's input
    for name in names:
        src = I_all if name == cls.next_current else (syn_all[:, names_ports.index(cls.next_inputs[name])]
                                                      if name in cls.next_inputs else None)
        if src is not None:
            nxt[name] = jnp.concatenate([src[1:], jnp.zeros_like(src[:1])])[:T]

    def body(s, x):
        k, syn_k, I_k, ev_k, nxt_k = x
        s, spk = _one_step(cls, p, d, s, syn_k, I_k, ev_k, key, k, threshold)
        rec = {name: (nxt_k[name] if name in nxt_k else jnp.broadcast_to(cls.observe(p, s, name), (p.n,)))
               for name in names}
        return s, (spk, rec, s if states else None)

    ks = jnp.asarray(k0, jnp.int32) + jnp.arange(T, dtype=jnp.int32)
    final, (spikes, rec, traj) = jax.lax.scan(body, state, (ks, syn, I, events, nxt))
    return Trajectory(final, spikes, rec, traj)
