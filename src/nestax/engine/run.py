"""Turn a Simulator's network into one pure step function and run it with lax.scan in chunks.

The compiled function takes every array (parameters, connectivity, state) as an argument, so that
``set`` between runs and repeated ``simulate`` calls reuse the compiled code; it is rebuilt only when
the network's structure changes (create / connect). Each chunk returns the recorded spikes of the
chunk's steps (dense per chunk, turned into events on the host) and the multimeter samples.

One ring buffer serves the whole network: D slots, each holding every neuron population's input
rows side by side (see :mod:`nestax.engine.delivery`), so one projection can feed several
populations and a step clears one contiguous slot.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp

from . import delivery as dl
from ..models.synapses import stdp as sd


@dataclass
class NeuronBlockPlan:
    block: int          # index into the simulator's block list
    n: int
    n_ports: int
    rec_spikes: bool    # any spike recorder observes (part of) this block
    mm_vars: tuple = ()  # variables sampled by multimeters
    offset: int = 0     # start of this block's rows within a ring slot

    @property
    def slot_size(self):
        """Values per ring slot: (ports + current) rows of n + 1 (one spare column for padding)."""
        return (self.n_ports + 1) * (self.n + 1)


@dataclass
class SourcePlan:
    block: int
    kind: str           # 'spike_source' | 'current_source'
    n: int
    projections: list = field(default_factory=list)  # indices into the projection list
    rec_I: bool = False
    static: dict = field(default_factory=dict)  # compile-time constants for the source's emit()


@dataclass
class RateProjectionPlan:
    """Rate connections from one rate-neuron block to another (dense: every source sends every step)."""
    src_block: int
    tgt_block: int
    instant: bool       # rate_connection_instantaneous: used by the target in the step it is sent


@dataclass
class Plan:
    dt: float
    D: int
    S: int               # values per ring slot (all populations)
    neurons: list
    sources: list
    projections: list
    rec_dev: list        # (projection index, recorder gid, sender gid): device -> spike recorder
    post_blocks: list = field(default_factory=list)  # neuron blocks targeted by plastic synapses
    tics_per_step: int = 100
    rate_projections: list = field(default_factory=list)


def make_chunk_fn(plan: Plan, models: dict, chunk: int, masked: bool = True, unroll: int = 1,
                  donate: bool = True):
    """Build the jitted function running ``chunk`` steps (the first n_valid of them for real).

    With ``masked=False`` every call runs all ``chunk`` steps (n_valid is ignored), which spares
    the per-step conditional.
    """
    D, S, dt = plan.D, plan.S, plan.dt
    by_block = {nb.block: i for i, nb in enumerate(plan.neurons)}

    def add(ring, k, d, tgt, val):
        flat = ((k + d) % D) * S + tgt
        return ring.at[flat].add(val.astype(ring.dtype), mode="promise_in_bounds")

    def rate_input(arr, rp, j, sent):
        """weight x value (or weight x phi(value), NEST's linear_summation=False) per rate connection."""
        a = arr["rate"][j]
        x = sent[rp.src_block][a["src"]]
        tm = models[rp.tgt_block]
        if hasattr(tm, "input_nl"):
            # the target's nonlinearity parameters, per connection (only those phi reads)
            p = arr["params"][rp.tgt_block]
            pg = {n: (p[n][a["tgt_local"]] if p[n].ndim else p[n]) for n in ("linear_summation", *tm.phi_params)}
            x = jnp.where(pg["linear_summation"], x, tm.input_nl(pg, x))
        return x * a["w"]

    def key_of(arr, b, k):
        return jax.random.fold_in(arr["keys"][b], k)

    def one_step(arr, carry, k):
        states, ring, cur, sg_ptr = carry["states"], carry["ring"], carry["cur"], dict(carry["sg_ptr"])
        new_states, spikes = [], []
        # 0. rate neurons send the value they hold at the start of the step; instantaneous rate
        # connections add it to this step's input, before any neuron updates
        states = list(states)
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
        # 1. neurons: this step's input was moved out of the ring into ``cur`` at the end of the
        # previous step (a separate loop-carried buffer, so the ring is only ever updated in place)
        inputs = [[cur[nb.offset + r * (nb.n + 1):nb.offset + r * (nb.n + 1) + nb.n] for r in range(nb.n_ports + 1)]
                  for nb in plan.neurons]
        for i, nb in enumerate(plan.neurons):
            rows = inputs[i]
            syn = jnp.stack(rows[:nb.n_ports]) if nb.n_ports else jnp.zeros((0, nb.n), ring.dtype)
            p = arr["params"][nb.block]
            model = models[nb.block]
            kw = {"key": key_of(arr, nb.block, k)} if model.stochastic else {}
            s, spk = model.update(p, arr["derived"][nb.block], states[i], syn, rows[nb.n_ports], **kw)
            # keep the run's precision: a model's arithmetic with Python/NumPy scalars may promote
            s = {name: v.astype(states[i][name].dtype) for name, v in s.items()}
            new_states.append(s)
            spikes.append(spk.astype(jnp.int32))
        # postsynaptic spike history of the targets of plastic synapses (this step's spikes, stamp k + 1)
        post = {b: sd.post_update(carry["post"][b] | {"tau_minus_inv": arr["post"][b]["tau_minus_inv"]},
                                  spikes[by_block[b]], k, plan.tics_per_step, ring.dtype)
                for b in plan.post_blocks}
        post = {b: {n: v for n, v in h.items() if n != "tau_minus_inv"} for b, h in post.items()}
        plastic = dict(carry["plastic"])
        overflow = carry["stdp_overflow"]
        # 2. devices emit, 3. everything is delivered to slot (k + d) mod D
        out_dev = {}
        for sp in plan.sources:
            model = models[sp.block]
            p = arr["params"][sp.block]
            h = arr["host"][sp.block]
            key = jax.random.fold_in(arr["keys"][sp.block], k)
            if model.name == "spike_generator":
                c, wsum, has_w, wneg, sg_ptr[sp.block] = model.emit_sg(h, sg_ptr[sp.block], k)
            for j in sp.projections:
                pp = plan.projections[j]
                a = arr["proj"][j]
                w = a["w"][0] if pp.const_w else a["w"]
                dd = a["d"][0] if pp.const_d else a["d"]
                if sp.kind == "current_source":
                    # step-independent key: noise_generator holds each draw for its own interval dt, so
                    # its stream is a function of (seed, generator, projection, draw index) only
                    val = model.emit(p, h, k + pp.lead, dt, jax.random.fold_in(arr["keys"][sp.block], j),
                                     a["src"], **sp.static) * w
                elif model.name == "spike_generator":
                    if pp.counts:
                        val = c[a["src"]]
                    else:
                        val = jnp.where(has_w[a["src"]], wsum[a["src"]], c[a["src"]]) * w
                        if "tgt_neg" in a:  # negative spike weights: port and scale of the negated weight
                            ring = add(ring, k, dd, a["tgt_neg"], wneg[a["src"]] * a["w_neg"])
                else:
                    kj = jax.random.fold_in(key, j)
                    if pp.poisson_table:
                        cnt = model.emit_table(h, k, kj, a["src"], a["cdf"])
                    else:
                        cnt = model.emit(p, h, k, dt, kj, a["src"], **sp.static).astype(ring.dtype)
                    val = cnt if pp.counts else cnt * w
                if pp.tgt_block < 0:  # recorder stream
                    out_dev[j] = val.astype(jnp.int32)
                    continue
                if pp.contiguous:  # one connection per target, in order: add a slice, no scatter
                    start = ((k + dd) % D) * S + a["tgt"][0]
                    seg = jax.lax.dynamic_slice(ring, (start,), (pp.n_syn,))
                    ring = jax.lax.dynamic_update_slice(ring, seg + val.astype(ring.dtype), (start,))
                else:
                    ring = add(ring, k, dd, a["tgt"], val)
        for j, rp in enumerate(plan.rate_projections):
            if not rp.instant:
                ring = add(ring, k, arr["rate"][j]["d"], arr["rate"][j]["flat"], rate_input(arr, rp, j, sent))
        spike_lists = {}
        max_active = dict(carry["max_active"])
        for j, pp in enumerate(plan.projections):
            if pp.src_block not in by_block:
                continue
            cnt = spikes[by_block[pp.src_block]]
            if pp.mode == "plastic":
                # weights change when a presynaptic spike is transmitted and are delivered updated
                a = arr["proj"][j]
                h = {**post[pp.tgt_block], "tau_minus_inv": arr["post"][pp.tgt_block]["tau_minus_inv"]}
                plastic[j], w, ovf = sd.pre_update(a, carry["plastic"][j], h, cnt, k, plan.tics_per_step)
                overflow = overflow | ovf.astype(jnp.int32)
                c = cnt[a["src"]].astype(ring.dtype)
                val = c if pp.counts else c * w * a["scale"]
                ring = add(ring, k, a["d"], a["flat"], val)
                continue
            sl = None
            if pp.mode == "event":
                if pp.src_block not in spike_lists:
                    spike_lists[pp.src_block] = dl.spike_list(cnt)
                sl = spike_lists[pp.src_block]
                if pp.capacity:  # remember the most sources that spiked in one step
                    max_active[pp.src_block] = jnp.maximum(max_active[pp.src_block], sl[1])
            if pp.payload:  # each spike scaled by the value its sender sends with it
                cnt = cnt * new_states[by_block[pp.src_block]][pp.payload]
            ring = dl.deliver(pp, arr["proj"][j], ring, cnt, k, D, S, sl)
        # the input of step k + 1 leaves the ring; its slot is free for step k + 1 + D
        nxt = ((k + 1) % D) * S
        cur = jax.lax.dynamic_slice(ring, (nxt,), (S,))
        ring = jax.lax.dynamic_update_slice(ring, jnp.zeros((S,), ring.dtype), (nxt,))
        # 4. recording (state after this step = values stamped k + 1)
        out = {"spk": {}, "mm": {}, "I": {}, "dev": out_dev}
        for i, nb in enumerate(plan.neurons):
            if nb.rec_spikes:
                out["spk"][nb.block] = models[nb.block].recorded_counts(spikes[i])[arr["rec_idx"][nb.block]]
            for var in nb.mm_vars:
                if var == getattr(models[nb.block], "next_current", None):
                    # NEST records the generator current read for the next step (glif's I): the
                    # current row of the next step's input
                    row = nb.offset + nb.n_ports * (nb.n + 1)
                    out["mm"][(nb.block, var)] = cur[row:row + nb.n][arr["mm_idx"][nb.block]]
                    continue
                val = models[nb.block].observe(arr["params"][nb.block], new_states[i], var)
                out["mm"][(nb.block, var)] = jnp.broadcast_to(val, (nb.n,))[arr["mm_idx"][nb.block]]
        for sp in plan.sources:
            if sp.rec_I:
                model = models[sp.block]
                h = arr["host"][sp.block]
                a_next = jnp.where(model.active(h, k + 1), model.amplitude(arr["params"][sp.block], h, k + 1, dt), 0.0)
                out["I"][sp.block] = jnp.broadcast_to(a_next, (sp.n,))
        return {"states": new_states, "ring": ring, "cur": cur, "sg_ptr": sg_ptr, "max_active": max_active,
                "plastic": plastic, "post": post, "stdp_overflow": overflow}, out

    def chunk_fn(arr, carry, k0, n_valid):
        arr = dict(arr)
        arr["derived"] = {nb.block: models[nb.block].prepare(arr["params"][nb.block], dt) for nb in plan.neurons}

        def body(c, i):
            k = k0 + i
            if not masked:
                return one_step(arr, c, k)
            out_shape = jax.eval_shape(lambda: one_step(arr, c, k)[1])

            def skip():
                return c, jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), out_shape)

            return jax.lax.cond(i < n_valid, lambda: one_step(arr, c, k), skip)

        return jax.lax.scan(body, carry, jnp.arange(chunk, dtype=jnp.int32), unroll=unroll)

    return jax.jit(chunk_fn, donate_argnums=(1,) if donate else ())
