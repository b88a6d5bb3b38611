"""Turn a Simulator's network into one pure step function and run it with lax.scan in chunks.

The compiled function takes every array (parameters, connectivity, state) as an argument, so that
``set`` between runs and repeated ``simulate`` calls reuse the compiled code; it is rebuilt only when
the network's structure changes (create / connect). Each chunk returns the recorded spikes of the
chunk's steps (dense per chunk, then turned into events on the host) and the multimeter samples.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from . import delivery as dl


@dataclass
class NeuronBlockPlan:
    block: int          # index into the simulator's block list
    n: int
    n_ports: int
    rec_spikes: bool    # any spike recorder observes (part of) this block
    mm_vars: tuple = ()  # variables sampled by multimeters


@dataclass
class SourcePlan:
    block: int
    kind: str           # 'spike_source' | 'current_source'
    n: int
    projections: list = field(default_factory=list)  # indices into the projection list
    rec_I: bool = False


@dataclass
class Plan:
    dt: float
    D: int
    neurons: list
    sources: list
    projections: list
    rec_dev: list        # (projection index) device -> spike recorder streams


def make_chunk_fn(plan: Plan, models: dict, chunk: int):
    """Build the jitted function running ``chunk`` steps (the first n_valid of them for real)."""
    D = plan.D
    dt = plan.dt
    by_block = {nb.block: i for i, nb in enumerate(plan.neurons)}

    def one_step(arr, carry, k):
        states, rings, sg_ptr = carry["states"], list(carry["rings"]), dict(carry["sg_ptr"])
        new_states, spikes = [], []
        # 1. neurons: read and clear this step's ring slot, update
        for i, nb in enumerate(plan.neurons):
            model = models[nb.block]
            slot_size = (nb.n_ports + 1) * nb.n
            slot = (k % D) * slot_size
            inp = jax.lax.dynamic_slice(rings[i], (slot,), (slot_size,)).reshape(nb.n_ports + 1, nb.n)
            rings[i] = jax.lax.dynamic_update_slice(rings[i], jnp.zeros((slot_size,), rings[i].dtype), (slot,))
            p = arr["params"][nb.block]
            d = arr["derived"][nb.block]
            s, spk = model.update(p, d, states[i], inp[:nb.n_ports], inp[nb.n_ports])
            new_states.append(s)
            spikes.append(spk.astype(jnp.int32))
        # 2. sources and 3. delivery
        out_dev = {}
        spike_lists = {}
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
                if sp.kind == "current_source":
                    # step-independent key: noise_generator holds each draw for its own interval dt, so
                    # its stream is a function of (seed, generator, projection, draw index) only
                    val = model.emit(p, h, k, dt, jax.random.fold_in(arr["keys"][sp.block], j), a["src"])
                    val = val * (a["w"][0] if pp.const_w else a["w"])
                elif model.name == "spike_generator":
                    if pp.counts or pp.tgt_block < 0:
                        val = c[a["src"]]
                    else:
                        w = a["w"][0] if pp.const_w else a["w"]
                        val = jnp.where(has_w[a["src"]], wsum[a["src"]], c[a["src"]]) * w
                        if "tgt_neg" in a:  # negative spike weights: port and scale of the negated weight
                            t_ = by_block[pp.tgt_block]
                            nb_ = plan.neurons[t_]
                            dd_ = a["d"][0] if pp.const_d else a["d"]
                            flat_n = ((k + dd_) % D) * ((nb_.n_ports + 1) * nb_.n) + a["tgt_neg"]
                            rings[t_] = rings[t_].at[flat_n].add((wneg[a["src"]] * a["w_neg"]).astype(rings[t_].dtype),
                                                                 mode="promise_in_bounds")
                else:
                    cnt = model.emit(p, h, k, dt, jax.random.fold_in(key, j), a["src"]).astype(jnp.float64
                                                                                                 if jax.config.jax_enable_x64 else jnp.float32)
                    val = cnt if (pp.counts or pp.tgt_block < 0) else cnt * (a["w"][0] if pp.const_w else a["w"])
                if pp.tgt_block < 0:  # recorder stream
                    out_dev[j] = val.astype(jnp.int32)
                    continue
                t = by_block[pp.tgt_block]
                nb = plan.neurons[t]
                dd = a["d"][0] if pp.const_d else a["d"]
                flat = ((k + dd) % D) * ((nb.n_ports + 1) * nb.n) + a["tgt"]
                rings[t] = rings[t].at[flat].add(val.astype(rings[t].dtype), mode="promise_in_bounds")
        for j, pp in enumerate(plan.projections):
            if pp.src_block not in by_block:
                continue
            t = by_block[pp.tgt_block]
            nb = plan.neurons[t]
            cnt = spikes[by_block[pp.src_block]]
            sl = None
            if pp.mode == "event":
                key_ = (pp.src_block, pp.batch)
                if key_ not in spike_lists:
                    spike_lists[key_] = dl.spike_list(cnt, pp.batch)
                sl = spike_lists[key_]
            rings[t] = dl.deliver(pp, arr["proj"][j], rings[t], cnt, k, D, (nb.n_ports + 1) * nb.n, sl)
        # 4. recording (state after this step = values stamped k + 1)
        out = {"spk": {}, "mm": {}, "I": {}, "dev": out_dev}
        for i, nb in enumerate(plan.neurons):
            if nb.rec_spikes:
                out["spk"][nb.block] = spikes[i][arr["rec_idx"][nb.block]]
            for var in nb.mm_vars:
                model = models[nb.block]
                val = model.observe(arr["params"][nb.block], new_states[i], var)
                out["mm"][(nb.block, var)] = jnp.broadcast_to(val, (nb.n,))[arr["mm_idx"][nb.block]]
        for sp in plan.sources:
            if sp.rec_I:
                model = models[sp.block]
                h = arr["host"][sp.block]
                a_next = jnp.where(model.active(h, k + 1), model.amplitude(arr["params"][sp.block], h, k + 1, dt), 0.0)
                out["I"][sp.block] = jnp.broadcast_to(a_next, (sp.n,))
        return {"states": new_states, "rings": rings, "sg_ptr": sg_ptr}, out

    def chunk_fn(arr, carry, k0, n_valid):
        arr = dict(arr)
        arr["derived"] = {nb.block: models[nb.block].prepare(arr["params"][nb.block], dt) for nb in plan.neurons}

        def body(c, i):
            k = k0 + i
            out_shape = jax.eval_shape(lambda: one_step(arr, c, k)[1])

            def skip():
                return c, jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), out_shape)

            return jax.lax.cond(i < n_valid, lambda: one_step(arr, c, k), skip)

        return jax.lax.scan(body, carry, jnp.arange(chunk, dtype=jnp.int32))

    return jax.jit(chunk_fn, donate_argnums=(1,))
