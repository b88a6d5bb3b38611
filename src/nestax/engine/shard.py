"""Sharded runs: one network split over several JAX devices (``sim.simulate(T, devices=...)``).

The neurons of every neuron block are split into P contiguous, equal shards (the last ones padded
with copies of the block's last neuron, whose spikes nobody receives): shard s holds neurons
[s m, (s + 1) m) of each block, m = ceil(n / P), with their parameters, state and ring-buffer
columns, and the connections from neurons whose target is one of its neurons. Each step every
shard updates its neurons, the shards exchange the step's spikes (``jax.lax.all_gather`` of every
block's spike counts inside ``jax.shard_map`` over a 1-D mesh of the devices; NEST exchanges
between MPI ranks likewise, once per min_delay) and each shard delivers the spikes that target its
own neurons, in the same order as the single-device run. Recordings of the shards are put back
together on the host. Spikes and traces equal those of the single-device run bit for bit.

Devices (spike and current generators) are not split: every shard runs each device's whole output,
draws included, with the keys of the single-device run, and keeps the part that targets its
neurons. A draw of a device is therefore the same numbers as in the single-device run (a
poisson_generator draws one count per connection at once: restricted to a shard's connections its
numbers would depend on the split); the cost is that device input is computed P times.

The lowering is the single-device one (:func:`nestax.engine.lower.lower`); this module restricts
its plan and arrays to each shard: neuron arrays sliced, ring positions renumbered, neuron
projections compacted to the connections of the shard (padded to the same length in every shard,
so all shards run one compiled program, as :mod:`nestax.engine.batch` does for variants).

A neuron block whose update draws random numbers (``Neuron.draws``; e.g. iaf_psc_exp with escape
noise) draws over all its neurons at once, so its numbers would depend on the split: such a block,
and one that thins its spikes per connection or sends a value with them, is not split but run whole
by every shard (the single-device keys and numbers; its spikes need no exchange). Its cost is not
divided by the number of devices.

Not supported (refused with an error naming the feature): plastic synapses, gap junctions, rate
neurons and rate connections, precise spike times, ports of their own per connection.
"""
from __future__ import annotations

import copy
import dataclasses

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from .run import Runner, _interrupts_deferred, make_chunk_fn
from ..errors import NestaxError

AXIS = "shards"


def unsupported(low) -> list:
    """What a sharded run cannot do in the lowered network ``low`` (empty: it can run sharded)."""
    plan, models, why = low.plan, low.models, []
    for nb in plan.neurons:
        m = models[nb.block]
        name = getattr(m, "name", m.__name__)
        if m.signal == "rate" or m.sends_rate_event:
            why.append(f"{name} sends rate values")
        if nb.own_ports:
            why.append(f"{name} has ports of its own per connection")
    if plan.gap is not None:
        why.append("gap junctions")
    if plan.precise is not None:
        why.append("precise spike times")
    if plan.rate_projections:
        why.append("rate connections")
    if plan.post_blocks or plan.mod_blocks or low.plastic_parts:
        why.append("plastic synapses")
    for pp in plan.projections:
        if pp.synapse is not None:
            why.append(f"synapse {pp.synapse.name} (plastic or weight-recorded)")
        elif pp.mode not in ("dense", "event"):
            why.append(f"projections of kind {pp.mode}")
    return sorted(set(why))


def replicated(low) -> frozenset:
    """Neuron blocks that every shard runs whole (not split): those whose update draws random numbers
    (Neuron.draws: a draw over the block at once depends on the split; whole, every shard draws the
    single-device numbers), thin their spikes per connection (Neuron.thinned_by) or send a value with
    their spikes (its sender's state is read per connection)."""
    host = low.arrays["params"]
    out = set()
    for nb in low.plan.neurons:
        m = low.models[nb.block]
        if m.thinned_by or (m.stochastic and m.draws(jax.tree.map(np.asarray, host[nb.block]))):
            out.add(nb.block)
    out |= {pp.src_block for pp in low.plan.projections if pp.payload or pp.thin}
    return frozenset(out)


class ShardLayout:
    """Where each neuron of the single-device layout lives in the shards."""

    def __init__(self, plan, P_: int, whole=frozenset()):
        self.P = P_
        self.full = plan
        self.whole = whole  # blocks every shard holds whole
        self.neurons = []  # per block: (full NeuronBlockPlan, shard NeuronBlockPlan, m)
        offset = 0
        for nb in plan.neurons:
            m = nb.n if nb.block in whole else -(-nb.n // P_)
            nb2 = dataclasses.replace(nb, n=m, offset=offset)
            offset += nb2.slot_size
            self.neurons.append((nb, nb2, m))
        self.S = max(offset, 1)
        self.pad_index = self.neurons[0][1].offset + self.neurons[0][2] if self.neurons else 0

    def lo(self, nb, m, s):
        """The block's first neuron held by shard s."""
        return 0 if nb.block in self.whole else s * m

    def remap(self, flat, s: int):
        """Ring positions of the single-device layout -> those of shard s, and whether each one is a
        neuron of shard s (else: its block's spare column of the same port, which nobody reads)."""
        flat = np.asarray(flat)
        new = np.full(flat.shape, self.pad_index, np.int64)
        inside = np.zeros(flat.shape, bool)
        for nb, nb2, m in self.neurons:
            sel = (flat >= nb.offset) & (flat < nb.offset + nb.slot_size)
            rel = flat[sel] - nb.offset
            port, loc = rel // (nb.n + 1), rel % (nb.n + 1)
            lo = self.lo(nb, m, s)
            here = (loc < nb.n) & (loc >= lo) & (loc < lo + m)
            new[sel] = np.where(here, nb2.offset + port * (m + 1) + (loc - lo), nb2.offset + port * (m + 1) + m)
            inside[sel] = here
        return new.astype(np.int32), inside

    def ring_index(self, s: int):
        """For each position of shard s's ring slot: its position in the single-device slot (-1: a
        padding neuron or spare column)."""
        idx = np.full(self.S, -1, np.int64)
        for nb, nb2, m in self.neurons:
            lo = self.lo(nb, m, s)
            real = max(0, min(m, nb.n - lo))
            for r in range(nb.n_ports + 1):
                idx[nb2.offset + r * (m + 1) + np.arange(real)] = nb.offset + r * (nb.n + 1) + lo + np.arange(real)
        return idx

    def rows(self, nb, m, s):
        """The neurons of the block held by shard s (padding: copies of the block's last neuron)."""
        lo = self.lo(nb, m, s)
        return np.minimum(np.arange(lo, lo + m), nb.n - 1)


def _slice_block(tree, n, rows):
    """Per-neuron arrays (leading axis n) restricted to ``rows``; others unchanged."""
    return {k: (np.asarray(v)[rows] if np.ndim(v) >= 1 and np.shape(v)[0] == n else np.asarray(v))
            for k, v in tree.items()}


def _shard_plan_and_arrays(low, lay: ShardLayout):
    """The plan common to every shard and each shard's arrays (host)."""
    plan = copy.copy(low.plan)
    plan.neurons = [nb2 for _, nb2, _ in lay.neurons]
    plan.S, plan.pad_index = lay.S, lay.pad_index
    neuron_blocks = {nb.block for nb in low.plan.neurons}
    host = jax.tree.map(np.asarray, low.arrays)
    per = [{**host, "proj": [dict(a) for a in host["proj"]], "params": dict(host["params"])} for _ in range(lay.P)]
    projections = []
    for j, pp in enumerate(low.plan.projections):
        pp2 = dataclasses.replace(pp, contiguous=False)
        projections.append(pp2)
        a = host["proj"][j]
        if pp.tgt_block < 0:  # recorder stream of a device: nothing to place
            continue
        if pp.src_block not in neuron_blocks or pp.thin:
            # a device (or thinned spikes): the whole output, draws included, in every shard, kept where it lands
            for s in range(lay.P):
                per[s]["proj"][j]["tgt"] = lay.remap(a["tgt"], s)[0]
                if "tgt_neg" in a:
                    per[s]["proj"][j]["tgt_neg"] = lay.remap(a["tgt_neg"], s)[0]
            continue
        if pp.mode == "dense":  # the connections into the shard, in order, padded to the longest shard
            kept = []
            for s in range(lay.P):
                t, inside = lay.remap(a["tgt"], s)
                kept.append((t, np.nonzero(inside)[0]))
            L = max(1, max(len(i) for _, i in kept))
            pp2.n_syn = L
            for s, (t, i) in enumerate(kept):
                b = per[s]["proj"][j]
                pad = L - len(i)
                b["src"] = np.concatenate([a["src"][i], np.zeros(pad, a["src"].dtype)])
                b["tgt"] = np.concatenate([t[i], np.full(pad, lay.pad_index, np.int32)])
                if not pp.const_w:
                    b["w"] = np.concatenate([a["w"][i], np.zeros(pad, a["w"].dtype)])
                if not pp.const_d:
                    b["d"] = np.concatenate([a["d"][i], np.ones(pad, a["d"].dtype)])
            continue
        # event: each source's row keeps the entries into the shard, in order, padded to the longest row
        out = []
        for s in range(lay.P):
            t, inside = lay.remap(a["tgt"], s)
            order = np.argsort(~inside, axis=1, kind="stable")
            out.append((t, inside, order, inside.sum(axis=1)))
        M = max(1, max(int(c.max(initial=0)) for *_, c in out))
        pp2.row_len = M
        pp2.n_syn = max(int(c.sum()) for *_, c in out)
        for s, (t, inside, order, c) in enumerate(out):
            b = per[s]["proj"][j]
            used = np.arange(M)[None, :] < c[:, None]

            def take(x, fill, order=order, used=used):  # (M <= the single-device row length)
                return np.where(used, np.take_along_axis(x, order, axis=1)[:, :M], np.asarray(fill, x.dtype))

            b["tgt"] = take(t, lay.pad_index)
            if not pp.const_w:
                b["w"] = take(a["w"], 0)
            if not pp.const_d:
                b["d"] = take(a["d"], 1)
            if "deg" in a:
                b["deg"] = c.astype(a["deg"].dtype)
    plan.projections = projections
    for nb, nb2, m in lay.neurons:
        for s in range(lay.P):
            rows = lay.rows(nb, m, s)
            per[s]["params"][nb.block] = _slice_block(host["params"][nb.block], nb.n, rows)
    for s in range(lay.P):
        per[s]["rec_idx"] = {b: np.arange(lay.neurons[_pos(lay, b)][2], dtype=np.int32) for b in host["rec_idx"]}
        per[s]["mm_idx"] = {b: np.arange(lay.neurons[_pos(lay, b)][2], dtype=np.int32) for b in host["mm_idx"]}
    return plan, per


def _pos(lay, block):
    return next(i for i, (nb, _, _) in enumerate(lay.neurons) if nb.block == block)


def _shard_map(f, mesh, in_specs, out_specs):
    """``jax.shard_map`` (jax.experimental's before JAX 0.6), without the replication check (the
    outputs given as replicated are the same on every device: device outputs and gathered values)."""
    if hasattr(jax, "shard_map"):
        return jax.shard_map(f, mesh=mesh, in_specs=in_specs, out_specs=out_specs, check_vma=False)
    from jax.experimental.shard_map import shard_map
    return shard_map(f, mesh=mesh, in_specs=in_specs, out_specs=out_specs, check_rep=False)


def _put(x, sharding):
    """A host array (the same in every process) as a global array of ``sharding``."""
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda idx: x[idx])


def _fetch(x):
    """A global array on the host (all of it, also where other processes hold parts)."""
    if x.is_fully_addressable:
        return np.asarray(x)
    from jax.experimental import multihost_utils
    return np.asarray(multihost_utils.process_allgather(x, tiled=True))


def _stack(trees):
    """Leaves equal in every shard stay one array (replicated); the others get a leading shard axis."""
    flat = [jax.tree.flatten(t) for t in trees]
    tdef = flat[0][1]
    for _, d in flat[1:]:
        if d != tdef:
            raise NestaxError("sharded run: the shards' arrays differ in structure (internal error)")
    leaves, batched = [], []
    for xs in zip(*[f[0] for f in flat]):
        xs = [np.asarray(x) for x in xs]
        if all(x.shape == xs[0].shape and np.array_equal(x, xs[0], equal_nan=True) for x in xs[1:]):
            leaves.append(xs[0])
            batched.append(False)
        else:
            leaves.append(np.stack(xs))
            batched.append(True)
    return leaves, batched, tdef


class ShardRunner:
    """Runs a lowered network split over ``devices`` (see the module's docstring). It stands in for
    the Simulator's :class:`~nestax.engine.run.Runner`: same ``run``, ``sync_to`` and
    ``overflow_error``; ``low`` is the single-device lowering and ``base`` its Runner."""

    def __init__(self, base: Runner, devices):
        self.base = base
        self.low = base.low
        self.devices = tuple(devices)
        why = unsupported(self.low)
        if why:
            raise NestaxError(
                "simulate(devices=...): this network cannot run split over devices: it has "
                + "; ".join(why) + ". Sharded runs support spiking neurons, static synapses (any delays) "
                "and devices (spike and current generators, Poisson included). Simulate it on one device "
                "(devices=None).")
        if not self.devices:
            raise NestaxError("simulate(devices=...): expected a non-empty list of JAX devices, got none.")
        self.P = len(self.devices)
        self.mesh = Mesh(np.array(self.devices), (AXIS,))
        self.lay = None
        self._arrays_of = None
        self._fns = {}
        self.timings = {}
        self.capacity = base.capacity
        self.load(base.state)

    # ------------------------------------------------------------------ arrays and state
    def _arrays(self):
        if self._arrays_of is not self.low.arrays:  # lowered again or parameters set: restrict again
            if replicated(self.low) != self.lay.whole:  # (parameters that switch a block's draws on or off)
                self.load(self.full_state())
            self.plan, per = _shard_plan_and_arrays(self.low, self.lay)
            leaves, self.a_batched, self.a_def = _stack(per)
            self.a_leaves = [_put(x, NamedSharding(self.mesh, P(AXIS) if b else P()))
                             for x, b in zip(leaves, self.a_batched)]
            self._arrays_of = self.low.arrays
        return jax.tree.unflatten(self.a_def, self.a_leaves)

    def load(self, full_state):
        """Split a single-device run state into the shards' states."""
        st = jax.tree.map(np.asarray, full_state)
        whole = replicated(self.low)
        if self.lay is None or whole != self.lay.whole:
            self.lay = ShardLayout(self.low.plan, self.P, whole)
            self._arrays_of, self._fns = None, {}
        plan, lay = self.low.plan, self.lay
        shards = []
        # per block: the state variables with one value per neuron (split; the others are copied)
        self._split = [{k for k, v in st["states"][i].items() if np.ndim(v) >= 1 and np.shape(v)[0] == nb.n}
                       for i, (nb, _, _) in enumerate(lay.neurons)]
        for s in range(self.P):
            x = dict(st)
            x["states"] = [_slice_block(st["states"][i], nb.n, lay.rows(nb, m, s))
                           for i, (nb, _, m) in enumerate(lay.neurons)]
            idx = lay.ring_index(s)
            ring = st["ring"].reshape(plan.D, plan.S)
            x["ring"] = np.where(idx >= 0, ring[:, np.maximum(idx, 0)], 0).astype(ring.dtype).reshape(-1)
            x["cur"] = np.where(idx >= 0, st["cur"][np.maximum(idx, 0)], 0).astype(st["cur"].dtype)
            shards.append(x)
        leaves = [np.stack(xs) for xs in zip(*[jax.tree.leaves(t) for t in shards])]
        self.s_def = jax.tree.structure(shards[0])
        sh = NamedSharding(self.mesh, P(AXIS))
        self.state_leaves = [_put(x, sh) for x in leaves]

    def full_state(self):
        """The shards' states put back together in the single-device layout (host arrays)."""
        leaves = [_fetch(x) for x in self.state_leaves]
        shards = [jax.tree.unflatten(self.s_def, [x[s] for x in leaves])
                  for s in range(self.P)]
        plan, lay = self.low.plan, self.lay
        st = dict(shards[0])
        st["states"] = []
        for i, (nb, _, m) in enumerate(lay.neurons):
            st["states"].append({k: (np.concatenate([sh["states"][i][k] for sh in shards])[:nb.n]
                                     if k in self._split[i] else v)
                                 for k, v in shards[0]["states"][i].items()})
        ring = np.zeros((plan.D, plan.S), shards[0]["ring"].dtype)
        cur = np.zeros(plan.S, shards[0]["cur"].dtype)
        for s, sh in enumerate(shards):
            idx = lay.ring_index(s)
            ok = idx >= 0
            ring[:, idx[ok]] = sh["ring"].reshape(plan.D, lay.S)[:, ok]
            cur[idx[ok]] = sh["cur"][ok]
        st["ring"], st["cur"] = ring.reshape(-1), cur
        st["max_active"] = {b: np.max(np.stack([sh["max_active"][b] for sh in shards]))
                            for b in shards[0]["max_active"]}
        return st

    @property
    def state(self):
        return self.full_state()

    # ------------------------------------------------------------------ the compiled run
    def _fn(self, n_valid, state):
        chunk = self.low.chunk
        key = (chunk, n_valid < chunk, tuple(self.a_batched))
        if key not in self._fns:
            n_of = {nb.block: nb.n for nb in self.low.plan.neurons}
            senders = {pp.src_block for pp in self.plan.projections if pp.src_block in n_of} - self.lay.whole

            def exchange(spk):  # every shard's spikes of the step, in the single-device order
                return {b: (jax.lax.all_gather(x, AXIS, tiled=True)[:n_of[b]] if b in senders else x)
                        for b, x in spk.items()}

            fn = make_chunk_fn(self.plan, self.low.models, chunk, masked=n_valid < chunk, exchange=exchange)
            inner = getattr(fn, "__wrapped__", fn)
            batched = jax.tree.unflatten(self.a_def, self.a_batched)
            a_specs = jax.tree.map(lambda b: P(AXIS) if b else P(), batched)

            def local(arr, st, k0, nv):
                arr = jax.tree.map(lambda x, b: x[0] if b else x, arr, batched)
                st = jax.tree.map(lambda x: x[0], st)
                carry, out = inner(arr, st, k0, nv)
                # recordings: every shard's columns, on every device (so every process can read them)
                out = {**out, **{g: jax.tree.map(lambda x: jax.lax.all_gather(x, AXIS, axis=1, tiled=True), out[g])
                                 for g in ("spk", "mm")}}
                return jax.tree.map(lambda x: x[None], carry), out

            s_specs = jax.tree.map(lambda x: P(AXIS), state)
            sm = _shard_map(local, self.mesh, (a_specs, s_specs, P(), P()), (s_specs, P()))  # (recordings: replicated)
            self._fns[key] = [jax.jit(sm), False]
        entry = self._fns[key]
        warm, entry[1] = entry[1], True
        return entry[0], warm

    def _host_out(self, out):
        """A chunk's recordings in the single-device layout (the recorded neurons' columns)."""
        arr = self.low.arrays
        out = dict(out)
        out["spk"] = {b: np.asarray(x)[:, np.asarray(arr["rec_idx"][b])] for b, x in out["spk"].items()}
        out["mm"] = {bv: np.asarray(x)[:, np.asarray(arr["mm_idx"][bv[0]])] for bv, x in out["mm"].items()}
        return out

    def run(self, k, n_steps, on_chunk, bar=None):
        """Like :meth:`nestax.engine.run.Runner.run`, split over the devices."""
        done, timing = 0, [0.0, 0.0]
        while done < n_steps:
            n_valid = min(self.low.chunk, n_steps - done)

            def make():
                arrays = self._arrays()  # (first: it sets the layout _fn compiles for)
                state = jax.tree.unflatten(self.s_def, self.state_leaves)
                return (*self._fn(n_valid, state), arrays, state)
            carry, out = self._run_fitting(make, k, n_valid, timing)
            with _interrupts_deferred():
                self.state_leaves = jax.tree.leaves(carry)
                on_chunk(self._host_out(out), k, n_valid)
            k += n_valid
            done += n_valid
            if bar is not None:
                bar.update(n_valid)
            self.timings.update(first_chunk_s=timing[0], run_s=timing[1], devices=self.P)
        return k

    _run_fitting = Runner._run_fitting  # one chunk, rerun while its fixed capacity overflowed

    def _grow_capacity(self, carry) -> bool:
        """The fixed-capacity delivery's check (NESTAX_DELIVERY=capacity), on the largest burst of any shard."""
        if not any(pp.capacity for pp in self.low.plan.projections):
            return False
        shim = Runner(self.low, None, self.capacity)
        grown = shim._grow_capacity({"max_active": {b: np.max(np.asarray(v)) for b, v in carry["max_active"].items()}})
        if grown:
            self._fns.clear()
            self.base._fns.clear()  # (compiled for the old capacities)
            self._arrays_of = None  # the shard plan takes the new capacities
        return grown

    def sync_to(self, net, k):
        return Runner(self.low, self.full_state(), self.capacity).sync_to(net, k)

    def overflow_error(self, stdp_history: int, step_history: int):
        return None  # (no plastic synapses in a sharded run)


def prepare(sim, devices) -> ShardRunner:
    """The Simulator's runner for a run split over ``devices``: the single-device lowering (kept, or
    made now) restricted to the shards, with the run state at step ``sim.k``."""
    devices = tuple(devices)
    session = sim._session
    r = session.runner
    if isinstance(r, ShardRunner):
        if r.devices == devices:
            if session.fresh:  # the host changed the state: split it again
                session.runner = r.base
                r.load(session.prepare().state)
                session.runner = r
            return r
        session.pull()
        session.runner, session.fresh = r.base, True
    base = session.prepare()
    session.runner = ShardRunner(base, devices)
    return session.runner
