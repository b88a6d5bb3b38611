"""Differentiable runs: a network as a pure JAX function of chosen parameters (docs/gradients.md).

:func:`build` turns the network a user built into ``f(values, key=None) -> Outputs``: a run of T steps
from the network's initial state, written with dense per-projection scatter-adds and ``lax.scan`` so
that ``jax.grad`` (reverse mode) and ``jax.jacfwd`` go through it. Spikes are floats whose derivative
is a surrogate (:mod:`nestax.models.surrogate`); everything else follows the compiled engine's order
and conventions (engine/run.py), so the forward pass of a deterministic network gives the spikes and
traces ``simulate`` gives.

The step k (covering (k dt, (k+1) dt], spikes stamped k + 1), as in engine/run.py:

1. ``update``: each neuron block reads the input of this step (ring slot k) and advances through its
   model's ``update(..., threshold=...)``; the slot is cleared.
2. ``emit``: spike sources add their spikes of step k to slot k + d; current sources their current of
   stamp k + 1 to slot k + 1 + d (NEST's one-step lag of generator currents).
3. ``deliver``: the neurons' spikes x weight x routing factor go to slot k + d of their targets.
4. ``record``: spikes and observed variables of every step (multimeters sample them afterwards).

Supported: neurons whose model declares ``Neuron.differentiable``; static synapses (any connection
rule, per-connection weights and delays); current sources (through their own ``emit``: a parameter
such as ``amplitude`` is differentiable); spike sources with an expected count
(``SpikeSource.expected_counts``, poisson_generator's rate: see ``poisson=``) or any other spike source
without a per-connection state (its spikes carry no gradient); spike recorders and multimeters.
Anything else (plastic synapses, gap junctions, rate connections, precise models, stochastic neuron
dynamics) is refused with an error that names it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import BadParameterError, NestaxError

POISSON_MODES = ("straight_through", "gaussian", "expected")


class DifferentiableError(NestaxError, TypeError):
    """The network holds something a differentiable run cannot take."""


@jax.tree_util.register_pytree_node_class
class Outputs:
    """What a differentiable run returns (a pytree): spikes per spike recorder and step, multimeter
    samples, in NEST's units, as floats that carry gradients.

    ``spikes(sr)``: (T, n_senders) spikes per step (row k: stamp k + 1, the senders in global-id
    order, as ``Result.spikes``); ``count(sr)``: (n_senders,) spikes in the run; ``rate(sr)``: (n_senders,)
    mean rate in Hz; ``trace(mm, var)``: (n_samples, n_targets) the multimeter's samples
    (``trace_times(mm)``: their times in ms, a NumPy array)."""

    def __init__(self, spk: dict, mm: dict, meta):
        self._spk, self._mm, self._meta = spk, mm, meta

    def tree_flatten(self):
        ks, km = tuple(self._spk), tuple(self._mm)
        return (tuple(self._spk[k] for k in ks), tuple(self._mm[k] for k in km)), (ks, km, self._meta)

    @classmethod
    def tree_unflatten(cls, aux, leaves):
        ks, km, meta = aux
        return cls(dict(zip(ks, leaves[0])), dict(zip(km, leaves[1])), meta)

    @staticmethod
    def _gid(node, what):
        gids = np.asarray(getattr(node, "_gids", node)).reshape(-1)
        if len(gids) != 1:
            raise BadParameterError(f"Outputs.{what}: expected one recorder, got {len(gids)} nodes.")
        return int(gids[0])

    def spikes(self, sr):
        g = self._gid(sr, "spikes")
        if g not in self._spk:
            raise BadParameterError(f"Outputs.spikes: node {g} is not a spike recorder of this network (known: "
                                    f"{sorted(self._spk)}).")
        return self._spk[g]

    def count(self, sr):
        return self.spikes(sr).sum(axis=0)

    def rate(self, sr):
        """Mean rate per sender over the run, in Hz."""
        return self.count(sr) / (self._meta.T * self._meta.dt / 1000.0)

    def trace(self, mm, var):
        g = self._gid(mm, "trace")
        if (g, var) not in self._mm:
            known = sorted(v for gg, v in self._mm if gg == g)
            raise BadParameterError(f"Outputs.trace: multimeter {g} does not record {var!r} (it records "
                                    f"{known or 'nothing: not a multimeter of this network'}).")
        return self._mm[(g, var)]

    def trace_times(self, mm):
        g = self._gid(mm, "trace_times")
        return self._meta.mm_times[g]

    @property
    def times(self):
        """(T,) the stamps of the rows of ``spikes``, in ms."""
        return (np.arange(self._meta.T) + 1) * self._meta.dt


@dataclass(frozen=True, eq=False)
class _Meta:
    T: int
    dt: float
    mm_times: dict = field(default_factory=dict)


@dataclass
class _Proj:
    src_kind: str      # 'neuron' | 'spike_source' | 'current_source'
    src_block: int
    tgt_block: int
    src: np.ndarray    # local source index per connection
    tgt: np.ndarray    # local target index
    port: np.ndarray   # target port (current sources: the current row, n_ports)
    scale: np.ndarray  # routing factor (sign / receptor scale; 0 for counting targets: see counts)
    w: np.ndarray      # weight as connected
    d: np.ndarray      # delay, steps
    counts: bool       # the target counts spikes (weight ignored)
    conn: int          # connection record index
    pos: np.ndarray    # place of each connection in its record
    port_neg: np.ndarray = None   # spike sources: port and factor of the negated weight (negative spikes)
    scale_neg: np.ndarray = None


def _refuse(msg):
    raise DifferentiableError(f"differentiable run: {msg}")


def build(sim, duration, params, threshold, poisson="straight_through", connection_gradients=True,
          differentiable_models=()):
    """``(f, initial values, handles, projections)``: ``f(values, key=None) -> Outputs`` for the network
    ``sim._net`` (see :func:`nestax.gradients.as_function`; ``differentiable_models``: the names the
    error for an unsupported neuron lists)."""
    from .lower import initial_run_state, lower
    net = sim._net
    dt = net.dt
    T = int(round(float(duration) / dt))
    if T < 1 or abs(T * dt - float(duration)) > 1e-9 * max(1.0, float(duration)):
        raise BadParameterError(f"as_function: duration = {duration} ms is invalid; expected a positive multiple of "
                                f"the resolution {dt} ms.")
    if poisson not in POISSON_MODES:
        raise BadParameterError(f"as_function: poisson = {poisson!r} is invalid; expected one of "
                                f"{', '.join(POISSON_MODES)}.")
    if sim.k != 0:
        _refuse(f"the simulator is at t = {sim.t} ms; a differentiable run starts from t = 0 (call sim.reset()).")
    dtype = sim._float()
    blocks = net.blocks
    # ---- what the network holds ----
    for b, blk in enumerate(blocks):
        m = blk.model
        if m.kind == "neuron":
            if not m.differentiable:
                _refuse(f"{m.name} has no surrogate-gradient hook (Neuron.differentiable); models that have one: "
                        f"{', '.join(differentiable_models)}.")
            if m.signal != "spike" or m.precise or m.gap or m.own_port_receptors or m.sends_after_update:
                _refuse(f"{m.name} is not a plain spiking neuron (rate / precise / gap / e-prop).")
        elif m.kind == "spike_source":
            if m.conn_state or m.emits_offsets(blk.params):
                _refuse(f"{m.name} keeps per-connection state or precise offsets; not supported.")
        elif m.kind in ("current_source", "recorder"):
            pass
        else:
            _refuse(f"{m.name} ({m.kind.replace('_', ' ')}) is not supported.")
    low = lower(net, dtype, sim.seed, 1 << 20, 1)
    plan = low.plan
    if plan.rate_projections or plan.gap is not None or plan.mod_blocks:
        _refuse("rate connections, gap junctions and modulated synapses are not supported.")
    if any(g for g in net.sr_links if any(blocks[int(net.block_index([s])[0])].model.kind != "neuron"
                                          for s in net.sr_links[g])):
        _refuse("a spike recorder records a generator; record neurons only.")
    init_states = initial_run_state(net, low, 0, dtype, sim.stdp_history, {})["states"]
    states0 = {nb.block: {k: jnp.asarray(v) for k, v in s.items()} for nb, s in zip(plan.neurons, init_states)}
    for nb in plan.neurons:
        m = blocks[nb.block].model
        if m.stochastic and "delta" in blocks[nb.block].params and np.any(np.asarray(blocks[nb.block].params["delta"]) > 1e-10):
            _refuse(f"{m.name} with escape noise (delta > 0) is stochastic; its spikes carry no surrogate gradient.")
    n_ports = {nb.block: nb.n_ports for nb in plan.neurons}
    p0 = {b: {k: jnp.asarray(v) for k, v in low.arrays["params"][b].items()} for b in range(len(blocks))
          if b in low.arrays["params"]}
    host = {b: low.arrays["host"][b] for b in low.arrays.get("host", {})}
    statics = {sp.block: sp.static for sp in plan.sources}
    # ---- projections, from the connection records ----
    projs = []
    D = 2
    for ci, c in enumerate(net.conns):
        if len(c.src) == 0:
            continue
        sb_all, present = net.block_split(c.src)
        if c.synapse.plastic or c.synapse.rate_kind or c.synapse.gap or c.recorder is not None or c.modulator is not None:
            _refuse(f"connections of {c.synapse.name} are not supported (static synapses only).")
        tb_all = net.block_index(c.tgt)
        w_all = np.asarray(c.take("weight"), float)
        d_all = np.asarray(c.take("delay"), np.int64)
        r_all = np.asarray(c.take("receptor"), np.int64)
        for sb in present:
            for tb in np.unique(tb_all):
                m = (sb_all == sb) & (tb_all == tb)
                if not m.any():
                    continue
                smodel, tmodel = blocks[int(sb)].model, blocks[int(tb)].model
                if tmodel.kind != "neuron":
                    continue
                pos = np.nonzero(m)[0]
                src = c.src[m] - blocks[int(sb)].gid0
                tgt = c.tgt[m] - blocks[int(tb)].gid0
                w, d, rec = w_all[m], d_all[m], r_all[m]
                if smodel.kind == "current_source":
                    port = np.full(len(tgt), n_ports[int(tb)])
                    names = tmodel.port_names(blocks[int(tb)].params)
                    for r_cur, pname in tmodel.current_port_map(blocks[int(tb)].params).items():
                        port = np.where(rec == r_cur, names.index(pname), port)
                    scale = np.ones(len(tgt))
                    D = max(D, int(d.max()) + 2)
                else:
                    port, scale = tmodel.route(w, rec)
                    port = np.broadcast_to(np.asarray(port), w.shape).astype(np.int64)
                    scale = np.broadcast_to(np.asarray(scale, float), w.shape)
                    D = max(D, int(d.max()) + 1)
                pr = _Proj(smodel.kind, int(sb), int(tb), src.astype(np.int32), tgt.astype(np.int32),
                           port, scale, w, d, bool(tmodel.counts_input), ci, pos)
                if smodel.kind == "spike_source" and not tmodel.counts_input:
                    pn, sn = tmodel.route(-w, rec)
                    pr.port_neg = np.broadcast_to(np.asarray(pn), w.shape).astype(np.int64)
                    pr.scale_neg = np.broadcast_to(np.asarray(sn, float), w.shape)
                projs.append(pr)
    # ---- recorders ----
    sr = {}
    for g, senders in net.sr_links.items():
        senders = np.asarray(senders, np.int64)
        counts = np.asarray(net.sr_counts.get(g, np.ones(len(senders))), float)
        bi = net.block_index(senders)
        sr[int(g)] = [(int(b), senders[bi == b] - blocks[int(b)].gid0, counts[bi == b]) for b in np.unique(bi)]
    mm, mm_times, mm_vars = {}, {}, {}
    for g, targets in net.mm_links.items():
        mb = net.block_of(g)
        p = mb.params_of(int(g) - mb.gid0)
        interval, offset, lo, hi = mb.model.sample_grid(p, dt)
        first = max(1, offset, lo + 1)
        stamps = np.arange(-(-(first - offset) // interval) * interval + offset, min(T, hi) + 1, interval)
        stamps = stamps[stamps >= first]
        targets = np.asarray(targets, np.int64)
        bi = net.block_index(targets)
        if any(blocks[int(b)].model.kind != "neuron" for b in bi):
            _refuse("a multimeter records a device; record neurons only.")
        parts = [(int(b), targets[bi == b] - blocks[int(b)].gid0) for b in np.unique(bi)]
        order = np.argsort(np.concatenate([targets[bi == b] for b in np.unique(bi)]), kind="stable")
        mm[int(g)] = (stamps - 1, parts, order, list(p["record_from"]))
        mm_times[int(g)] = stamps * dt
        for b, _ in parts:
            mm_vars.setdefault(b, set()).update(p["record_from"])
    meta = _Meta(T, dt, mm_times)
    # ---- the parameters to differentiate ----
    handles = _handles(sim, params, projs, p0)
    values0 = {name: jnp.asarray(v, dtype) for name, (_, v) in handles.items()}

    def apply(values):
        """Parameter arrays and projection weights with the values given."""
        p = {b: dict(v) for b, v in p0.items()}
        ws = [jnp.asarray(pr.w, dtype) for pr in projs]
        for name, (spec, _) in handles.items():
            x = jnp.broadcast_to(jnp.asarray(values[name], dtype), values0[name].shape)
            if spec[0] == "param":
                _, b, local, pname, lo_ = spec
                n = blocks[b].n
                arr = jnp.broadcast_to(p[b][pname], (n,) + p[b][pname].shape[1:]).astype(dtype)
                p[b][pname] = arr.at[local].set(x[lo_:lo_ + len(local)])
            else:
                for j, where, sel in spec[1]:
                    ws[j] = ws[j].at[where].set(x[sel])
        return p, ws

    def run(values, key=None):
        missing = [k for k in handles if k not in values]
        extra = [k for k in values if k not in handles]
        if missing or extra:
            raise BadParameterError(f"differentiable run: values for {sorted(handles)} expected; "
                                    f"{'missing ' + str(missing) if missing else ''}"
                                    f"{' unknown ' + str(extra) if extra else ''}.")
        key = jax.random.PRNGKey(sim.seed) if key is None else key
        p, ws = apply(values)
        models = {b: blocks[b].model for b in range(len(blocks))}
        derived = {nb.block: models[nb.block].prepare(p[nb.block], dt) for nb in plan.neurons}
        ring0 = {nb.block: jnp.zeros((D, nb.n_ports + 1, nb.n), dtype) for nb in plan.neurons}
        src0 = {sp.block: jax.tree.map(jnp.asarray, models[sp.block].init_run_state(
            jax.tree.map(np.asarray, host[sp.block]), 0)) for sp in plan.sources if sp.kind == "spike_source"}
        # current source outputs need a key that does not depend on the step (engine: fold_in(block key, j))
        keys = {b: jax.random.fold_in(key, int(blocks[b].gid0)) for b in range(len(blocks))}

        def step(carry, k):
            states, ring, src_state = carry
            states, ring, src_state = dict(states), dict(ring), dict(src_state)
            spikes, rec = {}, {}
            slot = k % D
            for nb in plan.neurons:
                b, model = nb.block, models[nb.block]
                rows = ring[b][slot]
                kw = {"key": jax.random.fold_in(keys[b], k)} if model.stochastic else {}
                s, spk = model.update(p[b], derived[b], states[b], rows[:nb.n_ports], rows[nb.n_ports],
                                      threshold=threshold, **kw)
                states[b] = {n: (v.astype(states[b][n].dtype) if jnp.issubdtype(states[b][n].dtype, jnp.floating)
                                 else jnp.asarray(v).astype(states[b][n].dtype)) for n, v in s.items()}
                spikes[b] = jnp.broadcast_to(jnp.asarray(spk, dtype), (nb.n,))
                ring[b] = ring[b].at[slot].set(0.0)
                rec[b] = {var: jnp.broadcast_to(model.observe(p[b], states[b], var), (nb.n,))
                          for var in sorted(mm_vars.get(b, ()))}
            shared = {}
            for sp in plan.sources:
                if sp.kind == "spike_source":
                    src_state[sp.block], shared[sp.block] = models[sp.block].advance(
                        p[sp.block], host[sp.block], src_state[sp.block], k)
            for j, pr in enumerate(projs):
                b = pr.tgt_block
                if pr.src_kind == "neuron":
                    spk = spikes[pr.src_block][pr.src]
                    if not connection_gradients:  # the local (e-prop-like) approximation
                        spk = jax.lax.stop_gradient(spk)
                    val = spk * (1.0 if pr.counts else ws[j] * pr.scale)
                    at = (k + pr.d) % D
                elif pr.src_kind == "current_source":
                    model = models[pr.src_block]
                    val = model.emit(p[pr.src_block], host[pr.src_block], k + 1, dt,
                                     jax.random.fold_in(keys[pr.src_block], j), pr.src, **statics[pr.src_block]) * ws[j]
                    at = (k + 1 + pr.d) % D
                else:
                    model = models[pr.src_block]
                    kj = jax.random.fold_in(jax.random.fold_in(keys[pr.src_block], k), j)
                    if model.expected_counts is not None:
                        lam = model.expected_counts(p[pr.src_block], host[pr.src_block], k, dt, pr.src)
                        n = _poisson_input(poisson, lam, kj, dtype)
                    else:
                        em = model.emit(p[pr.src_block], host[pr.src_block], shared[pr.src_block], k, dt, kj,
                                        pr.src, **statics[pr.src_block])
                        n = jnp.asarray(em.counts if em.weighted is None else em.weighted, dtype)
                        if em.negative is not None and pr.port_neg is not None:  # negative spike weights
                            ring[b] = ring[b].at[(k + pr.d) % D, pr.port_neg, pr.tgt].add(
                                (em.negative * ws[j] * pr.scale_neg).astype(dtype))
                        if pr.counts:
                            n = jnp.asarray(em.counts, dtype)
                    val = n * (1.0 if pr.counts else ws[j] * pr.scale)
                    at = (k + pr.d) % D
                ring[b] = ring[b].at[at, pr.port, pr.tgt].add(val.astype(dtype))
            out_spk = {g: jnp.concatenate([spikes[b][loc] * cnt for b, loc, cnt in parts]) if parts
                       else jnp.zeros((0,), dtype) for g, parts in sr.items()}
            return (states, ring, src_state), (out_spk, rec)

        _, (spk, rec) = jax.lax.scan(step, (states0, ring0, src0), jnp.arange(T, dtype=jnp.int32))
        out_mm = {}
        for g, (rows, parts, order, rf) in mm.items():
            for var in rf:
                cols = jnp.concatenate([rec[b][var][:, loc] for b, loc in parts], axis=1)[:, order]
                out_mm[(g, var)] = cols[jnp.asarray(rows, jnp.int32)]
        return Outputs(spk, out_mm, meta)

    return run, values0, handles, projs


def _poisson_input(mode, lam, key, dtype):
    """Spike counts of Poisson sources with expectation ``lam`` per connection, differentiable in lam:
    straight_through: Poisson draws forward, d n / d lam = 1 backward; gaussian: lam + sqrt(lam) xi
    (the diffusion approximation, same mean and variance, pathwise differentiable); expected: lam."""
    lam = jnp.asarray(lam, dtype)
    if mode == "expected":
        return lam
    if mode == "gaussian":
        xi = jax.random.normal(key, lam.shape, dtype)
        return lam + jnp.sqrt(jnp.maximum(lam, 0.0)) * xi
    n = jax.random.poisson(key, jax.lax.stop_gradient(lam), lam.shape).astype(dtype)
    return n + lam - jax.lax.stop_gradient(lam)


def _handles(sim, params, projs, p0):
    """name -> (spec, initial value): ("param", block, local idx, name, start in the vector) for a
    parameter of nodes, ("weight", [(projection, places in it, places in the vector)]) for weights."""
    from ..errors import did_you_mean
    net = sim._net
    out = {}
    if params is None:
        return out
    if not isinstance(params, dict):
        raise BadParameterError("as_function: params must be a dict: name -> (nodes, 'parameter') or "
                                "(pre, post) for the weights of the connections pre -> post.")
    for name, spec in params.items():
        if not (isinstance(spec, tuple) and len(spec) == 2):
            raise BadParameterError(f"as_function: params[{name!r}] = {spec!r}; expected (nodes, 'parameter') or "
                                    "(pre, post).")
        a, bb = spec
        if isinstance(bb, str):
            gids = np.asarray(a._gids)
            bi = net.block_index(gids)
            if len(np.unique(bi)) != 1:
                raise BadParameterError(f"as_function: params[{name!r}]: the nodes must belong to one create() call.")
            b = int(bi[0])
            blk = net.blocks[b]
            m = blk.model
            if bb not in p0.get(b, {}):
                known = sorted(k for k in p0.get(b, {}) if k in m.parameters)
                raise BadParameterError(f"as_function: {m.name} has no numeric parameter {bb!r}."
                                        f"{did_you_mean(bb, known)} Known: {', '.join(known)}.")
            local = gids - blk.gid0
            v0 = np.broadcast_to(np.asarray(p0[b][bb]), (blk.n,))[local]
            out[name] = (("param", b, local, bb, 0), np.asarray(v0, float))
        else:
            pre, post = set(np.asarray(a._gids).tolist()), set(np.asarray(bb._gids).tolist())
            parts, vals = [], []
            for j, pr in enumerate(projs):
                sg = pr.src + net.blocks[pr.src_block].gid0
                tg = pr.tgt + net.blocks[pr.tgt_block].gid0
                sel = np.array([s in pre and t in post for s, t in zip(sg.tolist(), tg.tolist())], bool)
                if sel.any():
                    where = np.nonzero(sel)[0]
                    parts.append((j, where, (pr.conn, pr.pos[where])))
                    vals.append(pr.w[where])
            if not parts:
                raise BadParameterError(f"as_function: params[{name!r}]: no static connections from those sources to "
                                        "those targets.")
            # the order of the vector: connection records in creation order, in each the connect() order
            keys = np.concatenate([np.stack([np.full(len(pos), ci), pos], 1) for _, _, (ci, pos) in parts])
            order = np.lexsort((keys[:, 1], keys[:, 0]))
            rank = np.empty(len(order), np.int64)
            rank[order] = np.arange(len(order))
            spec_parts, start = [], 0
            for j, where, _ in parts:
                spec_parts.append((j, where, rank[start:start + len(where)]))
                start += len(where)
            out[name] = (("weight", spec_parts), np.concatenate(vals)[order])
    return out
