"""The compiled run: one pure step function over the run state, ``lax.scan`` over chunks of steps,
and the host loop that runs the chunks (:class:`Runner`).

The compiled function takes every array (parameters, connectivity, state) as an argument, so that
``set`` between runs and repeated ``simulate`` calls reuse the compiled code; it is rebuilt only when
the network's structure changes (create / connect). Each chunk returns the recorded spikes of the
chunk's steps (dense per chunk, turned into events on the host) and the multimeter samples.

The phases of one step k (covering (k dt, (k+1) dt], spikes stamped k + 1), in NEST's order:

1. ``rate input``: rate neurons send the value they hold; instantaneous rate connections add it
   to this step's input.
2. ``update``: every neuron block reads its input of this step (moved out of the ring at the end
   of the previous step) and advances; postsynaptic archives record the new spikes.
3. ``emit``: devices emit (current and spike sources, through their protocols).
4. ``deliver``: neurons' spikes go through static (dense / event) and plastic projections into slot
   (k + d) mod D; delayed rate connections likewise.
5. ``advance ring``: the input of step k + 1 leaves the ring; its slot is cleared.
6. ``record``: spikes of recorded neurons, multimeter variables, generator currents.

No phase knows a model by name: the models are asked through :mod:`nestax.models.base`.
"""
from __future__ import annotations

import contextlib
import signal
import threading
import time as _time

import jax
import jax.numpy as jnp
import numpy as np

from . import archive
from . import delivery as dl
from . import plastic as pl


SMALL_RING = 4096  # values in the ring buffer below which a step clears its slot with a dynamic-update-slice


def make_chunk_fn(plan, models: dict, chunk: int, masked: bool = True):
    """Build the jitted function running ``chunk`` steps (the first n_valid of them for real).

    With ``masked=False`` every call runs all ``chunk`` steps (n_valid is ignored), which spares
    the per-step conditional.
    """
    D, S, dt = plan.D, plan.S, plan.dt
    by_block = {nb.block: i for i, nb in enumerate(plan.neurons)}

    def add_at(ring, k, d, flat_tgt, val):
        flat = ((k + d) % D) * S + flat_tgt
        return ring.at[flat].add(val.astype(ring.dtype), mode="promise_in_bounds")

    def rate_input(arr, rp, j, sent):
        """weight x value (or weight x phi(value), NEST's linear_summation=False) per rate connection."""
        a = arr["rate"][j]
        x = sent[rp.src_block][a["src"]]
        tm = models[rp.tgt_block]
        # the target's nonlinearity parameters, per connection (only those phi reads)
        p = arr["params"][rp.tgt_block]
        pg = {n: (p[n][a["tgt_local"]] if p[n].ndim else p[n]) for n in ("linear_summation", *tm.phi_params)}
        x = jnp.where(pg["linear_summation"], x, tm.input_nl(pg, x))
        return x * a["w"]

    def key_of(arr, b, k):
        return jax.random.fold_in(arr["keys"][b], k)

    def one_step(arr, carry, k):
        states, ring, cur = list(carry["states"]), carry["ring"], carry["cur"]
        # 0. the slot of this step was moved into ``cur`` at the end of the previous step: clear it, so
        # it can take the input of step k + D (no delivery of this step targets it: 1 <= d < D)
        # (a scatter of zeros: XLA turns a dynamic-update-slice of a constant into a select over the
        # whole ring, whose cost grows with the longest delay)
        if D * S <= SMALL_RING:  # a few cache lines: the select XLA makes of it costs less than a scatter
            ring = jax.lax.dynamic_update_slice(ring, jnp.zeros((S,), ring.dtype), ((k % D) * S,))
        else:
            ring = ring.at[(k % D) * S + jnp.arange(S)].set(0.0, mode="promise_in_bounds", indices_are_sorted=True,
                                                             unique_indices=True)
        # 1. rate input: rate neurons send the value they hold at the start of the step
        sent = {}
        for i, nb in enumerate(plan.neurons):
            model = models[nb.block]
            if model.signal == "rate":
                kw = {"key": jax.random.fold_in(key_of(arr, nb.block, k), 1)} if model.stochastic else {}
                sent[nb.block], s = model.emit(arr["params"][nb.block], arr["derived"][nb.block], states[i], **kw)
                states[i] = {name: v.astype(states[i][name].dtype) for name, v in s.items()}
        for j, rp in enumerate(plan.rate_projections):
            if rp.instant:
                cur = cur.at[arr["rate"][j]["flat"]].add(rate_input(arr, rp, j, sent).astype(cur.dtype))
        # 2. update: this step's input was moved out of the ring into ``cur`` at the end of the previous step
        new_states, spikes = [], []
        for i, nb in enumerate(plan.neurons):
            rows = [cur[nb.offset + r * (nb.n + 1):nb.offset + r * (nb.n + 1) + nb.n] for r in range(nb.n_ports + 1)]
            syn = jnp.stack(rows[:nb.n_ports]) if nb.n_ports else jnp.zeros((0, nb.n), ring.dtype)
            model = models[nb.block]
            kw = {"key": key_of(arr, nb.block, k)} if model.stochastic else {}
            s, spk = model.update(arr["params"][nb.block], arr["derived"][nb.block], states[i], syn,
                                  rows[nb.n_ports], **kw)
            # keep the run's precision: a model's arithmetic with Python/NumPy scalars may promote
            new_states.append({name: v.astype(states[i][name].dtype) for name, v in s.items()})
            spikes.append(spk.astype(jnp.int32))
        post = {b: archive.record(carry["post"][b], spikes[by_block[b]], k, arr["derived_post"][b],
                                  plan.tics_per_step, ring.dtype)
                for b in plan.post_blocks}
        # 3. emit: devices; their output is delivered to slot (k + d) mod D right away
        out_dev = {}
        src_state = dict(carry["src_state"])
        for sp in plan.sources:
            model = models[sp.block]
            p, h = arr["params"][sp.block], arr["host"][sp.block]
            if sp.kind == "spike_source":
                src_state[sp.block], shared = model.advance(p, h, carry["src_state"][sp.block], k)
            for j in sp.projections:
                pp, a = plan.projections[j], arr["proj"][j]
                w = a["w"][0] if pp.const_w else a["w"]
                dd = (a["d"][0] if pp.const_d else a["d"]) + pp.shift
                if sp.kind == "current_source":
                    # step-independent key: noise_generator holds each draw for its own interval dt, so
                    # its stream is a function of (seed, generator, projection, draw index) only
                    val = model.emit(p, h, k + pp.lead, dt, jax.random.fold_in(arr["keys"][sp.block], j),
                                     a["src"], **sp.static) * w
                else:
                    kw = {"table": a["table"]} if pp.table else {}
                    em = model.emit(p, h, shared, k, dt, jax.random.fold_in(key_of(arr, sp.block, k), j),
                                    a["src"], **sp.static, **kw)
                    if pp.tgt_block < 0:  # recorder stream
                        out_dev[j] = em.counts.astype(jnp.int32)
                        continue
                    if pp.counts:
                        val = em.counts
                    else:
                        val = (em.counts if em.weighted is None else em.weighted) * w
                        if "tgt_neg" in a:  # negative weight factors: port and scale of the negated weight
                            ring = add_at(ring, k, dd, a["tgt_neg"], em.negative * a["w_neg"])
                if pp.contiguous:  # one connection per target, in order: add a slice, no scatter
                    start = ((k + dd) % D) * S + a["tgt"][0]
                    seg = jax.lax.dynamic_slice(ring, (start,), (pp.n_syn,))
                    ring = jax.lax.dynamic_update_slice(ring, seg + val.astype(ring.dtype), (start,))
                else:
                    ring = add_at(ring, k, dd, a["tgt"], val)
        # 4. deliver: neurons' spikes and delayed rates
        for j, rp in enumerate(plan.rate_projections):
            if not rp.instant:
                ring = add_at(ring, k, arr["rate"][j]["d"], arr["rate"][j]["flat"], rate_input(arr, rp, j, sent))
        spike_lists, w_log = {}, {}
        max_active = dict(carry["max_active"])
        plastic = dict(carry["plastic"])
        overflow = carry["stdp_overflow"]
        for j, pp in enumerate(plan.projections):
            if pp.src_block not in by_block:
                continue
            cnt = spikes[by_block[pp.src_block]]
            sl = None
            if pp.mode in ("event", "plastic_event"):
                if pp.src_block not in spike_lists:
                    spike_lists[pp.src_block] = dl.spike_list(cnt)
                sl = spike_lists[pp.src_block]
                if pp.capacity:  # remember the most sources that spiked in one step
                    max_active[pp.src_block] = jnp.maximum(max_active[pp.src_block], sl[1])
            if pp.synapse is not None:
                # the connection state changes when a presynaptic spike is transmitted; the spike is
                # delivered with the updated weight
                h = None
                if pp.synapse.uses_post_archive:
                    h = {**post[pp.tgt_block], **arr["derived_post"][pp.tgt_block]}
                key = jax.random.fold_in(arr["syn_keys"][j], k) if pp.synapse.stochastic else None
                plastic[j], ring, ovf, log = pl.deliver(pp, arr["proj"][j], carry["plastic"][j], h, cnt, k,
                                                        plan.tics_per_step, ring,
                                                        lambda r, d, f, v: add_at(r, k, d, f, v), sl, key)
                overflow = overflow | ovf.astype(jnp.int32)
                if log is not None:
                    w_log[j] = log
                continue
            if pp.payload:  # each spike scaled by the value its sender sends with it
                cnt = cnt * new_states[by_block[pp.src_block]][pp.payload]
            ring = dl.deliver(pp, arr["proj"][j], ring, cnt, k, D, S, sl)
        # 5. advance ring: the input of step k + 1 is read out of the ring
        nxt = ((k + 1) % D) * S
        # (its slot is cleared at the start of step k + 1: a slot read and then cleared in the same
        # step makes XLA copy the whole ring every step, a cost that grows with the longest delay)
        cur = jax.lax.dynamic_slice(ring, (nxt,), (S,))
        # 6. record (state after this step = values stamped k + 1)
        out = {"spk": {}, "mm": {}, "I": {}, "dev": out_dev, "wr": w_log}
        for i, nb in enumerate(plan.neurons):
            model = models[nb.block]
            if nb.rec_spikes:
                out["spk"][nb.block] = model.recorded_counts(spikes[i])[arr["rec_idx"][nb.block]]
            for var in nb.mm_vars:
                if var == model.next_current:
                    # NEST records the generator current read for the next step (glif's I): the
                    # current row of the next step's input
                    row = nb.offset + nb.n_ports * (nb.n + 1)
                    out["mm"][(nb.block, var)] = cur[row:row + nb.n][arr["mm_idx"][nb.block]]
                    continue
                val = model.observe(arr["params"][nb.block], new_states[i], var)
                out["mm"][(nb.block, var)] = jnp.broadcast_to(val, (nb.n,))[arr["mm_idx"][nb.block]]
        for sp in plan.sources:
            if sp.rec_I:
                model = models[sp.block]
                h = arr["host"][sp.block]
                a_next = jnp.where(model.active(h, k + 1), model.amplitude(arr["params"][sp.block], h, k + 1, dt), 0.0)
                out["I"][sp.block] = jnp.broadcast_to(a_next, (sp.n,))
        return {"states": new_states, "ring": ring, "cur": cur, "src_state": src_state, "max_active": max_active,
                "plastic": plastic, "post": post, "stdp_overflow": overflow}, out

    def chunk_fn(arr, carry, k0, n_valid):
        arr = dict(arr)
        arr["derived"] = {nb.block: models[nb.block].prepare(arr["params"][nb.block], dt) for nb in plan.neurons}
        # the archive's traces decay with the neuron's own tau_minus and tau_minus_triplet (set with
        # sim.set like any parameter)
        arr["derived_post"] = {b: archive.rates(arr["params"][b]) for b in plan.post_blocks}

        if not masked:
            return jax.lax.scan(lambda c, i: one_step(arr, c, k0 + i), carry, jnp.arange(chunk, dtype=jnp.int32),
                                unroll=plan.unroll)
        # a partial chunk: a loop of n_valid steps writing into output buffers of the chunk's length
        # (a per-step conditional inside a scan would copy the whole state, ring buffer included, each step)
        out_shape = jax.eval_shape(lambda: one_step(arr, carry, k0)[1])
        outs0 = jax.tree.map(lambda s: jnp.zeros((chunk,) + s.shape, s.dtype), out_shape)

        def body(i, c_outs):
            c, outs = c_outs
            c, out = one_step(arr, c, k0 + i)
            return c, jax.tree.map(lambda buf, x: jax.lax.dynamic_update_index_in_dim(buf, x, i, 0), outs, out)

        return jax.lax.fori_loop(0, n_valid, body, (carry, outs0))

    # the state is not donated: an interrupt (or an error) during a chunk leaves the state before the
    # chunk intact, so the run can continue from the last completed chunk
    return jax.jit(chunk_fn)


@contextlib.contextmanager
def _interrupts_deferred():
    """Hold back Ctrl-C (SIGINT) while a completed chunk is committed; raise it right after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    try:
        previous = signal.signal(signal.SIGINT, lambda sig, frame: caught.append(sig))
    except ValueError:  # pragma: no cover - no signal support here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt


class Runner:
    """Runs a lowered network chunk by chunk and holds its device state between ``simulate`` calls.

    ``capacity`` (source block -> spikes per step) selects fixed-capacity event delivery (the
    accelerator path, NESTAX_DELIVERY=capacity); None loops over batches.
    """

    def __init__(self, lowered, state, capacity=None):
        self.low = lowered
        self.state = state
        self.capacity = capacity
        self._fns = {}   # (chunk, masked) -> [compiled fn, has run]
        self.timings = {}

    def _fn(self, n_valid):
        """The compiled chunk and whether it has run before (its first call includes compiling)."""
        chunk = self.low.chunk
        key = (chunk, n_valid < chunk)  # full chunks run unmasked; a final partial chunk masked
        if key not in self._fns:
            self._fns[key] = [make_chunk_fn(self.low.plan, self.low.models, chunk, masked=n_valid < chunk), False]
        entry = self._fns[key]
        warm, entry[1] = entry[1], True
        return entry[0], warm

    def run(self, k, n_steps, on_chunk, bar=None):
        """Run ``n_steps`` from step ``k``; ``on_chunk(out, k, n_valid)`` receives each chunk's
        recordings (host arrays) right after the chunk's state has been kept. An exception or an
        interrupt inside a chunk leaves the state of the last completed chunk."""
        done = 0
        t_compile = t_run = 0.0
        while done < n_steps:
            n_valid = min(self.low.chunk, n_steps - done)
            while True:
                fn, warm = self._fn(n_valid)
                t0 = _time.perf_counter()
                carry, out = fn(self.low.arrays, self.state, jnp.asarray(k, jnp.int32), jnp.asarray(n_valid, jnp.int32))
                out = jax.device_get(out)
                carry = jax.block_until_ready(carry)
                if warm:
                    t_run += _time.perf_counter() - t0
                else:
                    t_compile += _time.perf_counter() - t0
                if not self._grow_capacity(carry):
                    break
                # a step had more spiking sources than the fixed-capacity delivery handles: rerun the
                # chunk from its start with a larger capacity (random streams depend on the step
                # only, so the rerun reproduces the same network activity; nothing is dropped)
            with _interrupts_deferred():  # the state, the time and the recordings move together
                self.state = carry
                on_chunk(out, k, n_valid)
            k += n_valid
            done += n_valid
            if bar is not None:
                bar.update(n_valid)
            self.timings.update(first_chunk_s=t_compile, run_s=t_run)
        return k

    def _grow_capacity(self, carry) -> bool:
        """After a chunk: True (and larger capacities, fresh compiled code) if a capacity overflowed."""
        grown = False
        for pp in self.low.plan.projections:
            if pp.capacity and pp.src_block in carry["max_active"]:
                seen = int(carry["max_active"][pp.src_block])
                if seen > pp.capacity:
                    new = int(min(pp.n_pre, 1 << int(np.ceil(np.log2(seen * 1.25)))))
                    self.capacity[pp.src_block] = new
                    pp.capacity = new
                    grown = True
        if grown:
            self._fns.clear()
        return grown

    def overflowed(self) -> bool:
        return bool(int(self.state["stdp_overflow"]))

    def sync_to(self, net, k):
        """Copy the device state back into the network (neuron states, plastic connection state) and
        return what a rebuilt run must carry on: input in flight per block, postsynaptic archives."""
        plan, rs = self.low.plan, self.state
        for i, nb in enumerate(plan.neurons):
            net.blocks[nb.block].state = {n: np.asarray(v) for n, v in rs["states"][i].items()}
        ring = np.asarray(rs["ring"]).reshape(plan.D, plan.S).copy()
        ring[k % plan.D] = np.asarray(rs["cur"])  # the next step's input (its slot is cleared in that step)
        carried = {"ring": {nb.block: ring[:, nb.offset:nb.offset + nb.slot_size].copy() for nb in plan.neurons},
                   "post": {b: {n: np.asarray(v) for n, v in h.items()} for b, h in rs["post"].items()}}
        for j, parts in self.low.plastic_parts.items():
            st = {n: np.asarray(v)[:plan.projections[j].n_syn] for n, v in rs["plastic"][j].items()}
            off = 0
            for ci, m in parts:
                c = net.conns[ci]
                n_m = int(m.sum())
                if c.plastic is None:
                    c.plastic = {n: np.asarray(c.state(n), np.asarray(st[n]).dtype).copy()
                                 for n in c.synapse.connection_state}
                if c.weight.ndim == 0:
                    c.weight = np.full(len(c.src), float(c.weight))
                c.weight[m] = st["weight"][off:off + n_m]
                for n in c.plastic:
                    c.plastic[n][m] = st[n][off:off + n_m]
                off += n_m
        return carried
