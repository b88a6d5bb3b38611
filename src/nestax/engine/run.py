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
   of the previous step) and advances; values sent after the update (``after_update`` rate
   connections) reach their targets' ``absorb``; postsynaptic archives record the new spikes.
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
from . import native
from . import plastic as pl
from . import precise as ps
from . import step_history as sh
from ..errors import NestaxError


ADVANCE_KEY = 2**31 - 1  # folded into a spike source's step key for advance() (projections fold in their index)
SMALL_RING = 4096  # values in the ring buffer below which a step clears its slot with a dynamic-update-slice


def fit(new, old):
    """A state variable computed in the step, in the dtype and shape of its previous value: a model's
    arithmetic with Python/NumPy scalars may promote, and a value computed from parameters alone has
    the parameters' shape (a parameter shared by the whole block is passed as one value, see
    :func:`nestax.engine.lower.block_params`)."""
    return jnp.broadcast_to(new.astype(old.dtype), old.shape)


def _gap_sum(plan, arr, coef_src):
    """Per gap block, the sum over its partners j of g_ij x j's coefficients: (m, K, n) arrays from
    the sources' (m, K, n_src) coefficients."""
    out = {b: jnp.zeros(coef_src[b].shape[:2] + (arr["gap"]["g_sum"][b].shape[0],), coef_src[b].dtype)
           for b in plan.gap.blocks}
    for j, (sb, tb) in enumerate(plan.gap.pairs):
        a = arr["gap"]["proj"][j]
        out[tb] = out[tb].at[:, :, a["tgt"]].add(coef_src[sb][:, :, a["src"]] * a["g"])
    return out


def gap_step(plan, models, arr, states, ring, cur, k, gc):
    """The gap-junction input of step k for every gap block, NEST's scheme (see
    nestax.models.synapses.gap): returns (states, block -> (g_sum, coef (K, n)), new gap run state).

    With waveform relaxation, at the first step of a slice of m steps (or of a run whose stored
    result is not valid, from that step to the slice's end) every gap block integrates the rest of
    the slice repeatedly from its current state, its partners' V given per step as polynomials in
    the fraction of the step built from the previous iteration (the first: their V at the slice
    start, held; at t = 0: nothing), until no V at a step's end moves by more than wfr_tol or
    wfr_max_iterations is reached. The state is rewound after each iteration except the model's
    ``gap_kept`` variables (the integrator's step size). Without it: the partners' V at the start of
    the step, held (nothing in step 0)."""
    gp, D, S, dt = plan.gap, plan.D, plan.S, plan.dt
    by_block = {nb.block: i for i, nb in enumerate(plan.neurons)}
    nbs = {nb.block: nb for nb in plan.neurons}
    K = gp.order + 1
    started = (k > 0).astype(ring.dtype)  # NEST: no gap event has arrived before the first update
    g_sum = {b: arr["gap"]["g_sum"][b] for b in gp.blocks}

    def held(b):  # the block's V as coefficients (m, K, n): constant over each step
        v = states[by_block[b]][models[b].gap_state]
        c = jnp.zeros((gp.m if gp.use_wfr else 1, K) + v.shape, v.dtype)
        return c.at[:, 0].set(v)

    if not gp.use_wfr:
        inp = _gap_sum(plan, arr, {b: held(b) for b in gp.blocks})
        return states, {b: (g_sum[b] * started, inp[b][0] * started) for b in gp.blocks}, gc

    m = gp.m
    lag0 = k % m

    def rows_of(nb, j):
        """Input rows (ports + current) of block nb for step k + j - lag0 of the slice."""
        slot = jax.lax.dynamic_slice(ring, ((((k + j - lag0) % D) * S),), (S,))
        src = jnp.where(j == lag0, cur, slot)
        return nb.rows(src)

    def relax(gc):
        inp0 = _gap_sum(plan, arr, {b: held(b) for b in gp.blocks})
        kept0 = {b: {v: states[by_block[b]][v] for v in models[b].gap_kept} for b in gp.blocks}
        last0 = {b: jnp.zeros((m,) + states[by_block[b]][models[b].gap_state].shape, ring.dtype)
                 for b in gp.blocks}

        def body(c):
            it, _, inp, scale, last, kept = c
            coef_src, new_last, new_kept, exceeded = {}, {}, {}, jnp.zeros((), bool)
            for b in gp.blocks:
                i, nb, model = by_block[b], nbs[b], models[b]
                p, d, V = arr["params"][b], arr["derived"][b], model.gap_state
                I_held = rows_of(nb, lag0)[nb.n_ports]  # NEST holds the generator current of the first step
                s0 = {**states[i], **kept[b]}

                def lag(j, lc, b=b, nb=nb, model=model, p=p, d=d, V=V, I_held=I_held, i=i):
                    s, coefs, ly, exc = lc
                    active = j >= lag0
                    syn = rows_of(nb, j)[:nb.n_ports]
                    g = (g_sum[b] * scale, inp[b][j] * scale)
                    y0 = s[V]
                    s1, _ = model.update(p, d, s, syn, I_held, gap=g)
                    s1 = {n: v.astype(s[n].dtype) for n, v in s1.items()}
                    y1 = s1[V]
                    if K == 4:  # cubic Hermite from V and dt dV/dt at both ends of the step
                        f0 = dt * model.gap_slope(p, d, s, I_held, g, 0.0)
                        f1 = dt * model.gap_slope(p, d, s1, I_held, g, 1.0)
                        c = jnp.stack([y0, f0, -3 * y0 + 3 * y1 - 2 * f0 - f1, 2 * y0 - 2 * y1 + f0 + f1])
                    elif K == 2:
                        c = jnp.stack([y0, y1 - y0])
                    else:
                        c = y0[None]
                    exc = exc | jnp.any(active & (jnp.abs(y1 - ly[j]) > gp.tol))
                    ly = ly.at[j].set(jnp.where(active, y1, ly[j]))
                    coefs = coefs.at[j].set(jnp.where(active, c.astype(coefs.dtype), coefs[j]))
                    s = {n: jnp.where(active, s1[n], s[n]) for n in s}
                    return s, coefs, ly, exc

                coefs0 = jnp.zeros((m, K, nb.n), ring.dtype)
                s_end, coef_src[b], new_last[b], exc = jax.lax.fori_loop(0, m, lag, (s0, coefs0, last[b], exceeded))
                exceeded = exceeded | exc
                new_kept[b] = {v: s_end[v] for v in model.gap_kept}
            return it + 1, ~exceeded, _gap_sum(plan, arr, coef_src), jnp.ones((), ring.dtype), new_last, new_kept

        c = (jnp.zeros((), jnp.int32), jnp.zeros((), bool), inp0, started, last0, kept0)
        c = jax.lax.while_loop(lambda c: (c[0] < gp.max_iter) & ~c[1], body, c)
        return {"inp": c[2], "valid": jnp.ones((), bool)}, c[5]

    def keep(gc):
        return gc, {b: {v: states[by_block[b]][v] for v in models[b].gap_kept} for b in gp.blocks}

    gc, kept = jax.lax.cond((lag0 == 0) | ~gc["valid"], relax, keep, gc)
    states = list(states)
    for b in gp.blocks:
        i = by_block[b]
        states[i] = {**states[i], **{v: fit(x, states[i][v]) for v, x in kept[b].items()}}
    return states, {b: (g_sum[b], gc["inp"][b][lag0]) for b in gp.blocks}, gc


def make_chunk_fn(plan, models: dict, chunk: int, masked: bool = True, exchange=None):
    """Build the jitted function running ``chunk`` steps (the first n_valid of them for real).

    With ``masked=False`` every call runs all ``chunk`` steps (n_valid is ignored), which spares
    the per-step conditional. ``exchange`` (sharded runs, :mod:`nestax.engine.shard`): maps this
    step's spikes of the local neurons (block -> counts) to the spikes that projections deliver
    (block -> counts of the whole block); None: the local ones.
    """
    D, S, dt = plan.D, plan.S, plan.dt
    by_block = {nb.block: i for i, nb in enumerate(plan.neurons)}
    # the next step's input leaves the ring through one native kernel that also zeroes its slot
    take = bool(plan.native) and D * S > SMALL_RING

    def add_at(ring, k, d, flat_tgt, val):
        if plan.native:
            return native.dense_add(ring, k, d, flat_tgt, val, D, S)
        flat = ((k + d) % D) * S + flat_tgt
        return ring.at[flat].add(val.astype(ring.dtype), mode="promise_in_bounds")

    def rate_input(arr, rp, j, sent, x=None):
        """weight x value (or weight x phi(value), NEST's linear_summation=False) per rate connection
        (``x``: the values per connection, if not those the source blocks sent)."""
        a = arr["rate"][j]
        x = sent[rp.src_block][a["src"]] if x is None else x
        if not rp.phi:  # factor x value into a named port (RateConnection.feeds)
            return x * a["w"]
        tm = models[rp.tgt_block]
        # the target's nonlinearity parameters, per connection (only those phi reads)
        p = arr["params"][rp.tgt_block]
        pg = {n: (p[n][a["tgt_local"]] if p[n].ndim else p[n]) for n in ("linear_summation", *tm.phi_params)}
        x = jnp.where(pg["linear_summation"], x, tm.input_nl(pg, x))
        return x * a["w"]

    def key_of(arr, b, k):
        return jax.random.fold_in(arr["keys"][b], k)

    def modulate(arr, k, new_states, post, mod, plastic, defer, ring, overflow):
        """Modulator nodes (NEST's volume_transmitter) and the synapses that read them, on NEST's
        schedule: the spikes arriving at a modulator join its list; every `modulator_interval` slices
        of min_delay it updates all its synapses to this time and restarts its list; at the end of
        each slice the presynaptic spikes of the slice are transmitted, in time order."""
        m = plan.slice_steps
        mod = dict(mod)
        for b in plan.mod_blocks:
            model, h = models[b], mod[b]
            arrived = new_states[by_block[b]][model.modulator_state]
            hit = arrived > 0
            rows = jnp.arange(h["count"].shape[0])
            pos = jnp.minimum(h["count"], h["t"].shape[1] - 1)
            h = {"t": h["t"].at[rows, pos].set(jnp.where(hit, k + 1, h["t"][rows, pos])),
                 "m": h["m"].at[rows, pos].set(jnp.where(hit, arrived.astype(h["m"].dtype), h["m"][rows, pos])),
                 "count": h["count"] + hit.astype(h["count"].dtype)}
            due = (k + 1) % (arr["params"][b][model.modulator_interval].astype(jnp.int32) * m) == 0  # per node
            readers = [j for j, pp in enumerate(plan.projections) if pp.modulator == b]

            def update(args, b=b, due=due, readers=readers):
                plastic, h, ovf = args
                plastic = dict(plastic)
                for j in readers:
                    pp, a = plan.projections[j], arr["proj"][j]
                    ph = {**post[pp.tgt_block], **arr["derived_post"][pp.tgt_block]}
                    new, o = pp.synapse.trigger(a, plastic[j], ph, h, k + 1, plan.tics_per_step)
                    sel = due[a["vt_local"]]
                    plastic[j] = {n: jnp.where(sel, new[n].astype(v.dtype), v) for n, v in plastic[j].items()}
                    ovf = ovf | o.astype(jnp.int32)
                d2 = due[:, None]
                h = {"t": jnp.where(d2, jnp.where(jnp.arange(h["t"].shape[1]) == 0, k + 1, 0), h["t"]),
                     "m": jnp.where(d2, 0.0, h["m"]), "count": jnp.where(due, 1, h["count"])}
                return plastic, h, ovf

            plastic, h, overflow = jax.lax.cond(jnp.any(due), update, lambda args: args, (plastic, h, overflow))
            mod[b] = h

        def send(args):
            plastic, defer, ring, ovf = args
            plastic, defer = dict(plastic), dict(defer)
            for j, pp in enumerate(plan.projections):
                if pp.modulator < 0:
                    continue
                a = arr["proj"][j]
                h = {**post[pp.tgt_block], **arr["derived_post"][pp.tgt_block]} if pp.synapse.uses_post_archive else None
                for r in range(m):  # the slice's steps in order: stamp k + 2 - m + r
                    k_r = k + 1 - m + r
                    plastic[j], ring, o, _ = pl.deliver(pp, a, plastic[j], h, defer[j][r], k_r, plan.tics_per_step,
                                                        ring, lambda rg, d, f, v, k_r=k_r: add_at(rg, k_r, d, f, v),
                                                        mod=mod[pp.modulator])
                    ovf = ovf | o.astype(jnp.int32)
                defer[j] = jnp.zeros_like(defer[j])
            return plastic, defer, ring, ovf

        plastic, defer, ring, overflow = jax.lax.cond((k + 1) % m == 0, send, lambda args: args,
                                                      (plastic, defer, ring, overflow))
        return mod, plastic, defer, ring, overflow

    def one_step(arr, carry, k):
        states, ring, cur = list(carry["states"]), carry["ring"], carry["cur"]
        # 0. the slot of this step was moved into ``cur`` at the end of the previous step: clear it, so
        # it can take the input of step k + D (no delivery of this step targets it: 1 <= d < D)
        # (a scatter of zeros: XLA turns a dynamic-update-slice of a constant into a select over the
        # whole ring, whose cost grows with the longest delay)
        if take:  # already zeroed when it was taken out
            pass
        elif D * S <= SMALL_RING:  # a few cache lines: the select XLA makes of it costs less than a scatter
            ring = jax.lax.dynamic_update_slice(ring, jnp.zeros((S,), ring.dtype), ((k % D) * S,))
        elif plan.native:  # a memset
            ring = native.ring_clear(ring, k, D, S)
        else:
            ring = ring.at[(k % D) * S + jnp.arange(S)].set(0.0, mode="promise_in_bounds", indices_are_sorted=True,
                                                             unique_indices=True)
        # 1. rate input: rate neurons send the value they hold at the start of the step
        sent = {}
        for i, nb in enumerate(plan.neurons):
            model = models[nb.block]
            if model.signal == "rate" or model.sends_rate_event:  # rate neurons; spiking ones that also send values
                kw = {"key": jax.random.fold_in(key_of(arr, nb.block, k), 1)} if model.stochastic else {}
                sent[nb.block], s = model.emit(arr["params"][nb.block], arr["derived"][nb.block], states[i], **kw)
                states[i] = {name: fit(v, states[i][name]) for name, v in s.items()}
        for j, rp in enumerate(plan.rate_projections):
            if rp.source:  # rate source devices (RateSource): the value of stamp k + 1 + m - d, read now
                a, sm = arr["rate"][j], models[rp.src_block]
                pc = {n: (v[a["src"]] if v.ndim else v) for n, v in arr["params"][rp.src_block].items()}
                hc = {n: v[a["src"]] for n, v in arr["host"][rp.src_block].items()}
                m = plan.slice_steps
                s_c = k + 1 + m - a["d"]
                if models[rp.tgt_block].rate_on_arrival:  # (Neuron.rate_on_arrival) the value of stamp k
                    s_c = jnp.full_like(a["d"], k)
                x = jnp.where(sm.active(hc, s_c), sm.amplitude(pc, hc, s_c, dt), 0.0)
                # NEST sends a slice's values (zeros where inactive) only if the source is active at one
                # of its m stamps; a target with linear_summation=False adds phi(0) for those zeros
                first = (s_c - 1) // m * m + 1
                sent_c = jax.vmap(lambda i: sm.active(hc, first + i))(jnp.arange(m)).any(axis=0)
                val = jnp.where(sent_c, rate_input(arr, rp, j, sent, x), 0.0)
                cur = cur.at[a["flat"]].add(val.astype(cur.dtype))
            elif rp.instant and not rp.late:
                cur = cur.at[arr["rate"][j]["flat"]].add(rate_input(arr, rp, j, sent).astype(cur.dtype))
        # 2. update: this step's input was moved out of the ring into ``cur`` at the end of the previous step
        new_states, spikes = [], []
        # gap junctions: the partners' V of this step, from NEST's waveform relaxation (gap_step)
        gap_in, gap_carry = {}, carry["gap"]
        if plan.gap is not None:
            states, gap_in, gap_carry = gap_step(plan, models, arr, states, ring, cur, k, carry["gap"])
        pbuf, precise_out, flags = carry["pbuf"], {}, []  # precise spike times (engine/precise.py)
        for i, nb in enumerate(plan.neurons):
            rows = nb.rows(cur)
            syn = rows[:nb.n_ports]
            model = models[nb.block]
            kw = {"key": key_of(arr, nb.block, k)} if model.stochastic else {}
            if nb.block in gap_in:
                kw["gap"] = gap_in[nb.block]
            if model.device_window or model.update_takes_step:  # (a device's window: at each slice's origin)
                kw["step"] = (k, plan.slice_steps)
            if model.precise:  # this step's events of precise senders, in time order
                kw["events"] = ps.read(pbuf, k, D, plan.precise.offsets[nb.block], nb.n)
            s, spk = model.update(arr["params"][nb.block], arr["derived"][nb.block], states[i], syn,
                                  rows[nb.n_ports], **kw)
            if model.precise:  # (counts, offsets), (n, M) each; grid consumers see the summed counts
                precise_out[nb.block] = (spk[0].astype(jnp.int32), spk[1].astype(ring.dtype))
                spk = spk[0].sum(-1)
            # keep the run's precision: a model's arithmetic with Python/NumPy scalars may promote
            new_states.append({name: fit(v, states[i][name]) for name, v in s.items()})
            spikes.append(jnp.broadcast_to(spk.astype(jnp.int32), (nb.n,)))
            # a model that says spike or no spike (bool) is recorded as packed bits, 1/32 of its counts
            # (not in a sharded run: its shards' recordings are joined column-wise)
            flags.append(jnp.broadcast_to(spk, (nb.n,)) if spk.dtype == jnp.bool_ and exchange is None else None)
        if plan.precise is not None:
            pbuf = ps.clear(pbuf, k, D)
        # 2b. values sent after the update (Neuron.sends_after_update): what the sources computed in this
        # step reaches their targets' absorb() now, before spikes are transmitted and histories recorded
        late_rps = [(j, rp) for j, rp in enumerate(plan.rate_projections) if rp.late]
        if late_rps:
            late, vals = jnp.zeros((S,), ring.dtype), {}
            for j, rp in late_rps:
                if rp.src_block not in vals:
                    i = by_block[rp.src_block]
                    vals[rp.src_block] = models[rp.src_block].emit_after(
                        arr["params"][rp.src_block], arr["derived"][rp.src_block], new_states[i])
                late = late.at[arr["rate"][j]["flat"]].add(rate_input(arr, rp, j, vals).astype(late.dtype))
            for b in sorted({rp.tgt_block for _, rp in late_rps}):
                i = by_block[b]
                nb = plan.neurons[i]
                inp = nb.rows(late)[:nb.n_ports]
                s = models[b].absorb(arr["params"][b], arr["derived"][b], new_states[i], inp)
                new_states[i] = {name: fit(v, new_states[i][name]) for name, v in s.items()}
        post = {b: archive.record(carry["post"][b], spikes[by_block[b]], k, arr["derived_post"][b],
                                  plan.tics_per_step, ring.dtype)
                for b in plan.post_blocks}
        # per-step histories (Neuron.step_history) of the targets of synapses that read them
        steps = {b: sh.record(carry["steps"][b], new_states[by_block[b]], k) for b in carry["steps"]}
        # 3. emit: devices; their output is delivered to slot (k + d) mod D right away
        out_dev = {}
        src_state = dict(carry["src_state"])
        conn_state = dict(carry["conn_state"])
        for sp in plan.sources:
            model = models[sp.block]
            p, h = arr["params"][sp.block], arr["host"][sp.block]
            if sp.kind == "spike_source":
                # a key of the step and block that no projection's key equals (projections fold in j)
                kw = {"key": jax.random.fold_in(key_of(arr, sp.block, k), ADVANCE_KEY)} if model.advance_key else {}
                src_state[sp.block], shared = model.advance(p, h, carry["src_state"][sp.block], k, **kw)
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
                    if model.conn_state:  # the projection's per-connection run state goes in and out
                        kw["cs"] = carry["conn_state"][j]
                    em = model.emit(p, h, shared, k, dt, jax.random.fold_in(key_of(arr, sp.block, k), j),
                                    a["src"], **sp.static, **kw)
                    if model.conn_state:
                        em, cs = em
                        conn_state[j] = {n: v.astype(carry["conn_state"][j][n].dtype) for n, v in cs.items()}
                    if em.offsets is not None:  # spikes with offsets (SpikeSource.emits_offsets): (n_conn, M)
                        if pp.mode == "precise":  # to precise targets
                            pbuf = ps.deliver(pp, a, pbuf, em.counts, em.weighted, em.offsets, k, D)
                            continue
                        if pp.tgt_block < 0:  # recorder stream: the spikes and their offsets
                            out_dev[j] = (em.counts.astype(jnp.int32), em.offsets.astype(ring.dtype))
                            continue
                        em = ps.collapse(em)  # grid targets: the offsets dropped
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
            if not rp.instant and not rp.source and not rp.late:
                ring = add_at(ring, k, arr["rate"][j]["d"], arr["rate"][j]["flat"], rate_input(arr, rp, j, sent))
        spike_lists, w_log = {}, {}
        sent_spk = {nb.block: spikes[i] for i, nb in enumerate(plan.neurons)}
        if exchange is not None:  # sharded: every shard's spikes, gathered
            sent_spk = exchange(sent_spk)
        defer = dict(carry["defer"])
        max_active = dict(carry["max_active"])
        plastic = dict(carry["plastic"])
        overflow = carry["stdp_overflow"]
        for j, pp in enumerate(plan.projections):
            if pp.src_block not in by_block:
                continue
            cnt = sent_spk[pp.src_block]
            if pp.mode == "precise":  # a precise neuron's spikes with their offsets, to precise targets
                c_p, o_p = precise_out[pp.src_block]
                pbuf = ps.deliver(pp, arr["proj"][j], pbuf, c_p[arr["proj"][j]["src"]], None,
                                  o_p[arr["proj"][j]["src"]], k, D)
                continue
            sl = None
            if pp.mode == "plastic_event" or (pp.mode == "event" and not (pp.native and not pp.capacity)):
                if pp.src_block not in spike_lists:
                    spike_lists[pp.src_block] = dl.spike_list(cnt)
                sl = spike_lists[pp.src_block]
                if pp.capacity:  # remember the most sources that spiked in one step
                    max_active[pp.src_block] = jnp.maximum(max_active[pp.src_block], sl[1])
            if pp.modulator >= 0:  # transmitted at the end of its slice (see modulate below)
                defer[j] = defer[j].at[k % plan.slice_steps].set(cnt.astype(defer[j].dtype))
                continue
            if pp.synapse is not None:
                # the connection state changes when a presynaptic spike is transmitted; the spike is
                # delivered with the updated weight
                h = None
                if pp.synapse.uses_post_archive:
                    h = {**post[pp.tgt_block], **arr["derived_post"][pp.tgt_block]}
                if pp.synapse.uses_step_history:
                    h = {**(h or {}), **steps[pp.tgt_block]}
                if pp.synapse.reads_target_params:  # the target neurons' parameters it declares, (n,) each
                    tp = {**arr["derived"][pp.tgt_block], **arr["params"][pp.tgt_block]}  # (Neuron.offers_derived)
                    h = {**(h or {}), "target": {n: tp[n] for n in pp.synapse.reads_target_params}}
                key = jax.random.fold_in(arr["syn_keys"][j], k) if pp.synapse.stochastic else None
                plastic[j], ring, ovf, log = pl.deliver(pp, arr["proj"][j], carry["plastic"][j], h, cnt, k,
                                                        plan.tics_per_step, ring,
                                                        lambda r, d, f, v: add_at(r, k, d, f, v), sl, key)
                # overflow bits: 1 the spike archive (stdp_history), 2 the step history (step_history)
                code = (1 if pp.synapse.uses_post_archive else 0) | (2 if pp.synapse.uses_step_history else 0)
                overflow = overflow | (ovf.astype(jnp.int32) * max(code, 1))
                if log is not None:
                    w_log[j] = log
                continue
            if pp.payload:  # each spike scaled by the value its sender sends with it
                cnt = cnt * new_states[by_block[pp.src_block]][pp.payload]
            if pp.thin:  # Neuron.thinned_by: each connection passes each spike with the source's probability
                a = arr["proj"][j]
                prob = arr["params"][pp.src_block][models[pp.src_block].thinned_by]
                prob = prob[a["src"]] if prob.ndim else prob
                c = jax.random.binomial(jax.random.fold_in(key_of(arr, pp.src_block, k), j + 1),
                                        cnt[a["src"]].astype(ring.dtype), prob).astype(ring.dtype)
                val = c if pp.counts else c * (a["w"][0] if pp.const_w else a["w"])
                ring = add_at(ring, k, a["d"][0] if pp.const_d else a["d"], a["tgt"], val)
                continue
            ring = dl.deliver(pp, arr["proj"][j], ring, cnt, k, D, S, sl)
        if plan.mod_blocks:
            mod, plastic, defer, ring, overflow = modulate(arr, k, new_states, post, carry["mod"], plastic, defer,
                                                           ring, overflow)
        else:
            mod = carry["mod"]
        # 5. advance ring: the input of step k + 1 is read out of the ring
        if take:  # moved out and zeroed by one native kernel
            # after every reader of this step's input (the updates), so that XLA needs no copy of it
            ring, cur = native.ring_take(ring, k + 1, D, S, after=jax.tree.leaves(new_states))
        else:
            # (its slot is cleared at the start of step k + 1: a slot read and then cleared in the same
            # step makes XLA copy the whole ring every step, a cost that grows with the longest delay)
            cur = jax.lax.dynamic_slice(ring, (((k + 1) % D) * S,), (S,))
        # 6. record (state after this step = values stamped k + 1)
        out = {"spk": {}, "mm": {}, "I": {}, "dev": out_dev, "wr": w_log}
        for i, nb in enumerate(plan.neurons):
            model = models[nb.block]
            if nb.rec_spikes and nb.block in precise_out:  # (counts, offsets), each (n_rec, M)
                out["spk"][nb.block] = tuple(x[arr["rec_idx"][nb.block]] for x in precise_out[nb.block])
            elif nb.rec_spikes and flags[i] is not None and not model.thinned_by and \
                    model.recorded_counts(flags[i]).dtype == jnp.bool_:
                # (collector.spike_entries unpacks them)
                out["spk"][nb.block] = jnp.packbits(model.recorded_counts(flags[i])[arr["rec_idx"][nb.block]])
            elif nb.rec_spikes:
                rc = model.recorded_counts(spikes[i])
                if model.thinned_by:  # a spike recorder sees a thinned copy too (NEST: it is one more target)
                    rc = jax.random.binomial(jax.random.fold_in(key_of(arr, nb.block, k), 0), rc.astype(ring.dtype),
                                             arr["params"][nb.block][model.thinned_by]).astype(rc.dtype)
                out["spk"][nb.block] = rc[arr["rec_idx"][nb.block]]
            for var in nb.mm_vars:
                if var == model.next_current:
                    # NEST records the generator current read for the next step (glif's I): the
                    # current row of the next step's input
                    row = nb.offset + nb.n_ports * (nb.n + 1)
                    out["mm"][(nb.block, var)] = cur[row:row + nb.n][arr["mm_idx"][nb.block]]
                    continue
                if var in model.next_inputs:  # the next step's input on a port (Neuron.next_inputs)
                    row = nb.offset + list(model.ports).index(model.next_inputs[var]) * (nb.n + 1)
                    out["mm"][(nb.block, var)] = cur[row:row + nb.n][arr["mm_idx"][nb.block]]
                    continue
                val = model.observe(arr["params"][nb.block], new_states[i], var)
                out["mm"][(nb.block, var)] = jnp.broadcast_to(val, (nb.n,))[arr["mm_idx"][nb.block]]
        for sp in plan.sources:
            if sp.rec_I:
                model = models[sp.block]
                h = arr["host"][sp.block]
                a_next = model.sampled_value(arr["params"][sp.block], h, k + 1, dt)
                out["I"][sp.block] = jnp.broadcast_to(a_next, (sp.n,))
        return {"states": new_states, "ring": ring, "cur": cur, "src_state": src_state, "conn_state": conn_state,
                "max_active": max_active,
                "plastic": plastic, "post": post, "steps": steps, "mod": mod, "defer": defer, "stdp_overflow": overflow,
                "gap": gap_carry, "pbuf": pbuf}, out

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


def recorded_bytes_per_step(plan, models, arrays, state, axes=None) -> int:
    """Host bytes one step's recordings take, from the traced step (nothing runs): exact where the
    lowering's estimate is not (spike flags recorded as packed bits). ``axes``: the variant axes of
    ``arrays`` under ``jax.vmap`` (a batch), whose leading axis ``state`` then has too."""
    fn = make_chunk_fn(plan, models, 1, masked=False)
    inner = getattr(fn, "__wrapped__", fn)
    if axes is not None:
        inner = jax.vmap(inner, in_axes=(axes, 0, None, None))
    out = jax.eval_shape(inner, arrays, state, jnp.int32(0), jnp.int32(1))[1]
    return sum(int(np.prod(x.shape)) * np.dtype(x.dtype).itemsize for x in jax.tree.leaves(out))


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


def run_chunk(fn, arrays, state, k, n_valid):
    """One compiled chunk from step ``k``: (its final carry, its recordings on the host, seconds taken)."""
    t0 = _time.perf_counter()
    carry, out = fn(arrays, state, np.int32(k), np.int32(n_valid))
    out = jax.device_get(out)
    carry = jax.block_until_ready(carry)
    return carry, out, _time.perf_counter() - t0


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
        interrupt inside a chunk leaves the state of the last completed chunk.

        The next chunk is started before this one's recordings are read, so the host's work between
        chunks (reading the recordings, dispatching) overlaps the computation. Not with fixed-capacity
        delivery, whose capacity check after a chunk decides how the next one runs."""
        if any(pp.capacity for pp in self.low.plan.projections):
            return self._run_serial(k, n_steps, on_chunk, bar)
        end, timing = k + n_steps, [0.0, 0.0]
        chunk = self.low.chunk

        def start(k0, state):
            n_valid = min(chunk, end - k0)
            fn, warm = self._fn(n_valid)
            t0 = _time.perf_counter()
            carry, out = fn(self.low.arrays, state, np.int32(k0), np.int32(n_valid))
            return k0, n_valid, carry, out, warm, t0

        nxt = start(k, self.state)
        t_prev = nxt[5]
        while nxt is not None:
            k0, n_valid, carry, out, warm, t0 = nxt
            # an interrupt or error while the next chunk starts: this one is still kept, then it is raised
            # (later, while this chunk is awaited: the state of the last kept chunk; a started one is dropped)
            nxt, raised = None, None
            if k0 + n_valid < end:
                try:
                    nxt = start(k0 + n_valid, carry)
                except BaseException as e:  # noqa: B036 (KeyboardInterrupt included, raised below)
                    raised = e
            out = jax.device_get(out)
            carry = jax.block_until_ready(carry)
            t_done = _time.perf_counter()
            timing[1 if warm else 0] += t_done - max(t0, t_prev)
            t_prev = t_done
            self._commit(carry, out, k0, n_valid, on_chunk, bar, timing)
            if raised is not None:
                raise raised
        return end

    def _commit(self, carry, out, k, n_valid, on_chunk, bar, timing):
        """Keep a finished chunk: its state, time and recordings together (an interrupt waits)."""
        error = ps.check_capacity(self.low.plan, carry)  # precise input beyond its capacity: refused
        if error is not None:
            raise error
        with _interrupts_deferred():  # the state, the time and the recordings move together
            self.state = carry
            on_chunk(out, k, n_valid)
        if bar is not None:
            bar.update(n_valid)
        self.timings.update(first_chunk_s=timing[0], run_s=timing[1])

    def _run_serial(self, k, n_steps, on_chunk, bar=None):
        """:meth:`run` one chunk after the other (fixed-capacity delivery)."""
        done = 0
        timing = [0.0, 0.0]
        while done < n_steps:
            n_valid = min(self.low.chunk, n_steps - done)
            carry, out = self._run_fitting(lambda: (*self._fn(n_valid), self.low.arrays, self.state), k, n_valid,
                                           timing)
            self._commit(carry, out, k, n_valid, on_chunk, bar, timing)
            k += n_valid
            done += n_valid
        return k

    def _run_fitting(self, make, k, n_valid, timing):
        """One chunk from step ``k`` (``make() -> (fn, warm, arrays, state)``), run again from its start
        with a larger capacity while a step had more spiking sources than the fixed-capacity delivery
        handles (random streams depend on the step only, so the rerun reproduces the same activity;
        nothing is dropped). ``timing``: [first-call seconds, warm seconds], added to. Returns
        (carry, recordings on the host)."""
        while True:
            fn, warm, arrays, state = make()
            carry, out, dt = run_chunk(fn, arrays, state, k, n_valid)
            timing[1 if warm else 0] += dt
            if not self._grow_capacity(carry):
                return carry, out

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

    def overflow_error(self, stdp_history: int, step_history: int):
        """The error to raise after a run in which a plastic synapse needed more history than its
        target kept (bit 1: spike archive, bit 2: per-step history), else None."""
        flags = int(self.state["stdp_overflow"])
        if not flags:
            return None
        projections = self.low.plan.projections
        if flags & 2:
            names = sorted({pp.synapse.name for pp in projections
                            if pp.synapse is not None and pp.synapse.uses_step_history})
            return NestaxError(
                f"{', '.join(names)}: two spikes of a presynaptic neuron were more than sim.step_history = "
                f"{step_history} steps apart (plus the delay), longer than the per-step history its "
                "target keeps, so the weight update would have missed part of it; the weights of this run are "
                "wrong. Set sim.step_history to a larger value before connecting (or call sim.reset()) and "
                "simulate again.")
        names = sorted({pp.synapse.name for pp in projections
                        if pp.synapse is not None and pp.synapse.uses_post_archive})
        return NestaxError(
            f"{', '.join(names)}: a postsynaptic neuron fired more than sim.stdp_history = {stdp_history} "
            "spikes between two spikes of one of its presynaptic neurons, so the weight update would have "
            "missed spikes; the weights of this run are wrong. Set sim.stdp_history to a larger value "
            "before connecting (or call sim.reset()) and simulate again.")

    def sync_to(self, net, k):
        """Copy the device state back into the network (neuron states, plastic connection state) and
        return what a rebuilt run must carry on: input in flight per block, postsynaptic archives."""
        plan, rs = self.low.plan, self.state
        for i, nb in enumerate(plan.neurons):
            net.blocks[nb.block].state = {n: np.asarray(v) for n, v in rs["states"][i].items()}
        ring = np.asarray(rs["ring"]).reshape(plan.D, plan.S).copy()
        ring[k % plan.D] = np.asarray(rs["cur"])  # the next step's input (its slot is cleared in that step)
        carried = {"ring": {nb.block: ring[:, nb.offset:nb.offset + nb.slot_size].copy() for nb in plan.neurons},
                   "post": {b: {n: np.asarray(v) for n, v in h.items()} for b, h in rs["post"].items()},
                   "steps": {b: {n: np.asarray(v) for n, v in h.items()} for b, h in rs["steps"].items()},
                   "mod": {b: {n: np.asarray(v) for n, v in h.items()} for b, h in rs["mod"].items()},
                   "defer": {j: np.asarray(v) for j, v in rs["defer"].items()}}
        if plan.precise is not None:  # precise input in flight, by block
            carried["pbuf"] = {**{n: np.asarray(v) for n, v in rs["pbuf"].items()},
                               "offsets": dict(plan.precise.offsets),
                               "n_of": {b: net.blocks[b].n for b in plan.precise.offsets}}
        # sources' own run state (kept where the model says so) and per-connection run state, by the
        # block's first gid and the connections' keys: a rebuilt run finds them again
        for sp in plan.sources:
            if sp.kind != "spike_source":
                continue
            blk, model = net.blocks[sp.block], self.low.models[sp.block]
            if model.run_state_kept:
                carried.setdefault("src_state", {})[(blk.gid0, blk.n)] = jax.tree.map(np.asarray,
                                                                                   rs["src_state"][sp.block])
            js = [j for j in sp.projections if j in rs["conn_state"]]
            if js:
                st = [jax.tree.map(np.asarray, rs["conn_state"][j]) for j in js]
                carried.setdefault("conn_state", {})[blk.gid0] = {
                    "keys": np.concatenate([self.low.conn_keys[j] for j in js]),
                    "state": {n: np.concatenate([s[n] for s in st]) for n in st[0]}}
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
