"""Lowering: the network a user built -> a static plan and the arrays of the compiled run.

``lower(net, dtype, ...)`` is pure (it reads the network, changes nothing) and asks models only
through their declared protocols (:mod:`nestax.models.base`): ports and routing of neurons, what a
spike source emits, which synapses are plastic and what state they keep. No model is known by name.

Layout: one ring buffer of D slots for the whole network; a slot holds every neuron block's rows
side by side (``NeuronBlockPlan.offset``). Connections are grouped by source block into projections
(one projection may feed several target blocks); plastic connections by (source block, target
block, synapse model), rate connections by (source block, target block, kind).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import jax
import numpy as np

from . import archive
from . import step_history as sh
from . import delivery as dl
from . import precise as ps
from . import native
from ..network.records import gather
from ..network.kernel import values as kernel_values

UNROLL_MAX_NEURONS = 64  # networks up to this size run their scan unrolled 4x (measured crossover: 50-100)
UNROLL2_MIN_NEURONS = 10_000  # networks from this size run two steps per scan iteration


@dataclass
class NeuronBlockPlan:
    block: int          # index into the network's block list
    n: int
    n_ports: int
    rec_spikes: bool    # any spike recorder observes (part of) this block
    mm_vars: tuple = ()  # variables sampled by multimeters
    offset: int = 0     # start of this block's rows within a ring slot
    own_ports: int = 0  # ports of their own per connection (Neuron.own_port_receptors), the last rows

    @property
    def slot_size(self):
        """Values per ring slot: (ports + current) rows of n + 1 (one spare column for padding)."""
        return (self.n_ports + 1) * (self.n + 1)

    def flat(self, port, local):
        """Position within a ring slot of (port, neuron) pairs."""
        return self.offset + np.asarray(port) * (self.n + 1) + local

    def rows(self, slot):
        """This block's rows of a ring slot (or of ``cur``): (ports + 1, n), the ports, then the current
        row; one slice and a reshape (a slice per port costs an XLA operation each)."""
        w = self.n + 1
        return slot[self.offset:self.offset + self.slot_size].reshape(self.n_ports + 1, w)[:, :self.n]


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
    phi: bool = True    # the target's phi applies (False: the connection feeds factor x rate to a named port)
    source: bool = False  # from a rate source device (RateSource): its value is computed for the target's step
    late: bool = False  # rate_kind "after_update": the source's emit_after value reaches the target's absorb()


@dataclass
class GapPlan:
    """Gap junctions (synapses that declare ``gap``) between neuron blocks, and how NEST's waveform
    relaxation couples them (its kernel settings, Network.wfr)."""
    blocks: tuple        # neuron blocks with gap junctions (sources and targets)
    pairs: list          # (source block, target block) per gap projection, arrays in arrays['gap']['proj']
    m: int               # slice length in steps (NEST's min_delay)
    use_wfr: bool
    tol: float
    max_iter: int
    order: int           # interpolation order: 0, 1 or 3 (K = order + 1 coefficients per step)


@dataclass
class Plan:
    dt: float
    D: int
    S: int               # values per ring slot (all populations)
    neurons: list
    sources: list
    projections: list
    rec_dev: list        # (projection index, recorder gid, sender gid): device -> spike recorder
    post_blocks: list = field(default_factory=list)  # neuron blocks that keep a postsynaptic archive
    tics_per_step: int = 100
    rate_projections: list = field(default_factory=list)
    unroll: int = 1
    pad_index: int = 0   # a spare ring column nobody reads
    mod_blocks: list = field(default_factory=list)  # modulator nodes (volume_transmitter) with readers
    slice_steps: int = 1  # NEST's min_delay in steps: modulated synapses follow its slices
    gap: "GapPlan | None" = None  # gap junctions and NEST's waveform-relaxation settings (None: none)
    precise: "ps.PrecisePlan | None" = None  # targets of precise spikes (engine/precise.py; None: none)
    native: bool = False  # ring updates (clear, dense adds) by the native CPU kernels (engine/native)

    @property
    def n_neurons(self):
        return sum(nb.n for nb in self.neurons)


@dataclass
class Lowered:
    """What lowering produces: the static plan, the device arrays, and the host bookkeeping that maps
    run state and recordings back to the network."""
    plan: Plan
    arrays: dict
    models: dict          # block index -> model class
    plastic_parts: dict   # plastic projection index -> [(connection record index, mask)]
    rec_layout: dict      # 'spk' / 'mm': block -> recorded gids; 'I': block -> gids
    chunk: int            # steps per compiled chunk
    #: projection index -> one int64 key per connection (its connection record and place there; a
    #: recorder stream: its recorder and sender), for sources with per-connection run state
    conn_keys: dict = field(default_factory=dict)


def float_arrays(d: dict, dtype) -> dict:
    """Per-node parameter arrays for the run (floats in the run's precision; list-valued ones stay out).
    In float32 a bound beyond its range (NEST's V_min = -DBL_MAX) becomes an infinity, the same bound."""
    with np.errstate(over="ignore"):
        return {k: np.asarray(v, dtype if np.asarray(v).dtype.kind == "f" else None)
                for k, v in d.items() if not isinstance(v, list)}


def block_params(blk, dtype, kernel: dict | None = None) -> dict:
    """The run's parameter arrays of node block ``blk``: :func:`float_arrays` plus the numeric stand-ins
    its model derives for list / string parameters (``Model.run_params``), plus the values of the
    kernel settings its model declares (``Model.kernel_settings``; ``kernel``: the network's, shape (1,)).

    A neuron parameter with the same value for every neuron of the block is passed as one value
    (shape (1,), which broadcasts, and gathers the same value at any index) for models that declare
    ``Neuron.params_once``: the step then reads one
    number instead of a stream of n, which makes the update of a large homogeneous population
    cheaper (it is bound by memory traffic). ``set`` with per-neuron values gives (n,) again (and a
    new compile for that shape)."""
    per_node = float_arrays(blk.params, dtype)  # one entry per node (list-valued parameters stay out)
    if blk.model.kind == "neuron" and blk.model.params_once and blk.n > 1:
        per_node = {k: (v[:1] if v.ndim == 1 and v.shape[0] == blk.n and np.all(v == v[0]) else v)
                    for k, v in per_node.items()}
    ks = {} if kernel is None or not blk.model.kernel_settings else {
        n: np.asarray([v], dtype) for n, v in kernel_values(blk.model, kernel).items()}
    return {**per_node, **float_arrays(blk.model.run_params(blk.params), dtype), **ks}


def lower(net, dtype, seed: int, chunk_bytes: int, max_chunk: int, capacity: dict | None = None,
          precise_capacity: int = ps.CAPACITY) -> Lowered:
    """The plan and arrays of network ``net`` for a run in float type ``dtype``.

    ``precise_capacity``: events per precise target neuron and step (see :mod:`nestax.engine.precise`).

    ``capacity``: source block -> spikes per step of fixed-capacity event delivery (None: looping
    batches, the default; see :func:`nestax.engine.delivery.deliver`).
    """
    native.unroll_threefry()  # identical random bits, drawn ~3.7x faster on the CPU
    blocks = net.blocks
    dt = net.dt
    models = {i: b.model for i, b in enumerate(blocks)}
    groups, plastic_groups, rate_groups = {}, {}, {}
    D = 2
    gap_conns = []
    for ci, c in enumerate(net.conns):
        if len(c.src) == 0:
            continue
        sb, present = net.block_split(c.src)
        if c.synapse.gap:  # electrical couplings: their own part (_gap_projections)
            gap_conns.append(c)
            continue
        # current generators' input travels one step longer (see _source_projections: shift)
        D = max(D, int(c.delay.max()) + 1 + (blocks[present[0]].model.kind == "current_source"))
        syn = c.synapse
        # connections logged by a weight_recorder are visited one by one when their source spikes,
        # like plastic ones (a static synapse's transmit passes the weight through)
        if syn.rate_kind or syn.plastic or c.recorder is not None:
            tb, present_t = net.block_split(c.tgt)
            for ks in present:
                for kt in present_t:
                    m = np.ones(len(c.src), bool)
                    if len(present) > 1:
                        m &= sb == ks
                    if len(present_t) > 1:
                        m &= tb == kt
                    if m.any():
                        key = (ks, kt, syn.rate_kind) if syn.rate_kind else \
                            (ks, kt, syn.name, -1 if c.recorder is None else c.recorder,
                             -1 if c.modulator is None else c.modulator)
                        (rate_groups if syn.rate_kind else plastic_groups).setdefault(key, []).append((ci, m))
            continue
        for key in present:
            m = slice(None) if len(present) == 1 else sb == key
            groups.setdefault(key, []).append((c, m))
    # recorders
    rec_spk = {}
    for g in sorted({g for v in net.sr_links.values() for g in v}):
        b = int(net.block_index([g])[0])
        rec_spk.setdefault(b, []).append(g - blocks[b].gid0)
    mm_vars, mm_idx, rec_I = {}, {}, {}
    for mg, targets in net.mm_links.items():
        mb = net.block_of(mg)
        rf = mb.params["record_from"][mg - mb.gid0]
        for tg in targets:
            b = int(net.block_index([tg])[0])
            if blocks[b].model.samples_value():  # a device: its sampled_value at each stamp
                rec_I[b] = True
                continue
            mm_vars.setdefault(b, set()).update(rf)
            mm_idx.setdefault(b, set()).add(tg - blocks[b].gid0)
    own_ord, own_w = own_ports(net)
    neurons, nb_of, offset = [], {}, 0
    for b, blk in enumerate(blocks):
        if blk.model.kind != "neuron":
            continue
        K = own_w[b].shape[1] if b in own_w else 0
        nb = NeuronBlockPlan(b, blk.n, len(blk.model.port_names(blk.params)) + K, b in rec_spk,
                             tuple(sorted(mm_vars.get(b, ()))), offset, K)
        offset += nb.slot_size
        nb_of[b] = nb
        neurons.append(nb)
    S = max(offset, 1)
    pad_index = neurons[0].offset + neurons[0].n if neurons else 0
    projections, proj_arrays, sources, conn_keys = [], [], {}, {}
    precise_plan = ps.plan_for({b: (blk.model, blk.n) for b, blk in enumerate(blocks)}, precise_capacity)
    for sb, parts in sorted(groups.items()):
        _source_projections(net, sb, parts, nb_of, dtype, pad_index, capacity, projections, proj_arrays, sources,
                            conn_keys, own_ord, precise_plan)
    plastic_parts, rec_w = _plastic_projections(net, plastic_groups, nb_of, dtype, pad_index, projections,
                                                proj_arrays)
    # stochastic synapses: a key per projection, a function of the seed and the projection's place
    syn_keys = {j: jax.random.fold_in(jax.random.PRNGKey(seed), 2**30 + j) for j in plastic_parts
                if projections[j].synapse.stochastic}
    rate_plans, rate_arrays = _rate_projections(net, rate_groups, nb_of, dtype)
    # spike sources recorded directly by spike recorders: one stream per (generator, recorder)
    rec_dev = []
    for srg, senders in sorted(net.sr_links.items()):
        for g in senders:
            b = int(net.block_index([g])[0])
            if blocks[b].model.kind == "spike_source":
                pp = dl.ProjectionPlan(b, -1, "dense", blocks[b].n, 1, const_w=True, const_d=True, counts=True)
                arr = {"src": np.array([g - blocks[b].gid0], np.int32), "tgt": np.zeros(1, np.int32),
                       "w": np.ones(1, dtype), "d": np.ones(1, np.int32)}
                sources.setdefault(b, []).append(len(projections))
                if getattr(blocks[b].model, "conn_state", False):
                    conn_keys[len(projections)] = np.array([_stream_key(srg, g)], np.int64)
                rec_dev.append((len(projections), srg, g))
                projections.append(pp)
                proj_arrays.append(arr)
    for b in rec_I:
        sources.setdefault(b, [])
    itemsize = np.dtype(dtype).itemsize
    source_plans = [SourcePlan(b, blocks[b].model.kind, blocks[b].n, sources[b], rec_I.get(b, False),
                               blocks[b].model.static_args(blocks[b].params, dt, itemsize))
                    for b in sorted(sources)]
    post_blocks = sorted({pp.tgt_block for pp in projections if pp.synapse is not None and pp.synapse.uses_post_archive})
    # modulator nodes (volume_transmitter): the spike list each keeps between its periodic updates,
    # which come every `modulator_interval` slices of min_delay (the shortest delay of the network)
    mod_blocks = sorted({pp.modulator for pp in projections if pp.modulator >= 0})
    delays = [int(np.min(c.delay)) for c in net.conns if len(c) and "delay" in c.synapse.parameters]
    slice_steps = max(1, min(delays)) if delays else 1
    gap_plan, gap_arrays = _gap_projections(net, gap_conns, dtype, delays)
    if gap_plan is not None:  # NEST's min_delay includes wfr_comm_interval; a slice's input is in the ring
        slice_steps = gap_plan.m
        D = max(D, gap_plan.m + 1)
    n_total = sum(nb.n for nb in neurons)
    # unrolling amortises the per-iteration overhead of tiny networks (one neuron: 1.4 -> 0.4 us per
    # step). Large ones run two steps per iteration: XLA then copies the carried state (the neurons'
    # variables, which several fusions read before one writes them) once per two steps (Brunel 12,500:
    # 2.25 -> 1.85 s per simulated s; 4x is slower again). In between (CUBA, Brunel 2,500) two steps
    # gain 5-10 % but compile 0.1-0.5 s longer, more than a simulated second of them saves.
    plan = Plan(dt, D, S, neurons, source_plans, projections, rec_dev, post_blocks=post_blocks,
                tics_per_step=net.tics_per_step, rate_projections=rate_plans,
                unroll=4 if n_total <= UNROLL_MAX_NEURONS else 2 if n_total >= UNROLL2_MIN_NEURONS else 1, pad_index=pad_index,
                mod_blocks=mod_blocks, slice_steps=slice_steps, native=native.enabled())
    plan.gap = gap_plan
    plan.precise = precise_plan
    params, host, keys = {}, {}, {}
    for b, blk in enumerate(blocks):
        kind = blk.model.kind
        if kind in ("neuron", "spike_source", "current_source", "rate_source"):
            params[b] = block_params(blk, dtype, net.kernel)
        if b in own_w:
            params[b]["own_port_weights"] = np.asarray(own_w[b], dtype)
        if kind == "neuron" and blk.model.stochastic:
            keys[b] = jax.random.fold_in(jax.random.PRNGKey(seed), blk.gid0)
        if kind in ("spike_source", "current_source", "rate_source"):
            host[b] = {k: np.asarray(v, dtype if np.asarray(v).dtype.kind == "f" else None)
                       for k, v in blk.model.host_arrays(blk.params, dt, **_build_seeds(blk, seed)).items()}
            s = int(blk.params["rng_seed"][0]) if "rng_seed" in blk.params and int(blk.params["rng_seed"][0]) >= 0 \
                else seed
            keys[b] = jax.random.fold_in(jax.random.PRNGKey(s), blk.gid0)
    arrays = jax.device_put({
        "params": params, "host": host, "keys": keys, "proj": proj_arrays, "rate": rate_arrays, "syn_keys": syn_keys,
        "rec_idx": {b: np.array(sorted(v), np.int32) for b, v in rec_spk.items()},
        "mm_idx": {b: np.array(sorted(v), np.int32) for b, v in mm_idx.items()}})
    arrays["gap"] = jax.device_put(gap_arrays)
    rec_layout = {"spk": {b: blocks[b].gid0 + np.array(sorted(v)) for b, v in rec_spk.items()},
                  "mm": {b: blocks[b].gid0 + np.array(sorted(v)) for b, v in mm_idx.items()},
                  "I": {b: blocks[b].gids for b in rec_I}, "wr": rec_w}
    # chunk length from the recording budget
    per_step = 20 * sum(len(v["src"]) for v in rec_w.values()) + 4 * sum(len(v) for v in rec_spk.values()) + 8 * sum(
        len(mm_idx[b]) * len(mm_vars[b]) for b in mm_idx) + 8 * sum(blocks[b].n for b in rec_I) + 4 * len(rec_dev) + 16
    chunk = int(max(1, min(max_chunk, chunk_bytes // per_step)))
    return Lowered(plan, arrays, models, plastic_parts, rec_layout, chunk, conn_keys)


def _stream_key(recorder: int, sender: int) -> int:
    """The per-connection key of a spike source's stream to a spike recorder (negative: no record)."""
    return -1 - ((int(recorder) << 31) | int(sender))


def _record_keys(net, parts) -> np.ndarray:
    """One int64 key per connection of ``parts`` ((record, mask) pairs, in gather order): the record's
    index in ``net.conns`` and the connection's place within it (stable when connections are added)."""
    index = {id(c): i for i, c in enumerate(net.conns)}
    out = []
    for c, m in parts:
        pos = np.arange(len(c.src), dtype=np.int64)[m]
        out.append((np.int64(index[id(c)]) << 32) + pos)
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def _build_seeds(blk, seed: int) -> dict:
    """``seeds=`` for a source that draws when the network is built (SpikeSource.draws_when_built):
    its own ``rng_seed`` where >= 0, else a function of the Simulator's seed and its global id."""
    if not getattr(blk.model, "draws_when_built", False):
        return {}
    own = np.broadcast_to(np.asarray(blk.params.get("rng_seed", -1), np.int64), (blk.n,))
    derived = [int(np.random.SeedSequence([seed, int(g)]).generate_state(1)[0]) for g in blk.gids]
    return {"seeds": np.where(own >= 0, own, derived).astype(np.int64)}


def own_ports(net):
    """Ports of their own per connection (``Neuron.own_port_receptors``): (record id -> port ordinal of
    each connection within its target neuron, -1 for the others; target block -> weights (n, K)).
    Ordinals follow the order of connection (records in creation order, connections in order)."""
    blocks = net.blocks
    want = {b: blk.model.own_port_receptors for b, blk in enumerate(blocks)
            if blk.model.kind == "neuron" and blk.model.own_port_receptors}
    if not want:
        return {}, {}
    count = {b: np.zeros(blocks[b].n, np.int64) for b in want}
    entries = {b: [] for b in want}
    ords = {}
    for c in net.conns:
        if len(c.src) == 0 or c.synapse.gap or c.synapse.rate_kind:
            continue
        tb, present = net.block_split(c.tgt)
        o = None
        for b in present:
            if int(b) not in want:
                continue
            b = int(b)
            rec = np.broadcast_to(c.receptor, c.src.shape)
            idx = np.nonzero((tb == b) & np.isin(rec, want[b]))[0] if len(present) > 1 else \
                np.nonzero(np.isin(rec, want[b]))[0]
            if not len(idx):
                continue
            loc = np.asarray(c.tgt[idx], np.int64) - blocks[b].gid0
            order = np.argsort(loc, kind="stable")
            srt = loc[order]
            rank = np.empty(len(loc), np.int64)
            rank[order] = np.arange(len(loc)) - np.searchsorted(srt, srt, side="left")
            o = np.full(len(c.src), -1, np.int64) if o is None else o
            o[idx] = count[b][loc] + rank
            count[b] += np.bincount(loc, minlength=blocks[b].n)
            entries[b].append((loc, o[idx], np.broadcast_to(c.weight, c.src.shape)[idx]))
        if o is not None:
            ords[id(c)] = o
    weights = {}
    for b in want:
        w = np.zeros((blocks[b].n, int(count[b].max(initial=0))))
        for loc, o, wv in entries[b]:
            w[loc, o] = wv
        weights[b] = w
    return ords, weights


def _source_projections(net, sb, parts, nb_of, dtype, pad_index, capacity, projections, proj_arrays, sources,
                        conn_keys=None, own_ord=None, precise_plan=None):
    """The projections of source block ``sb`` (static synapses): neurons' event/dense projections,
    devices' dense ones. ``conn_keys`` (projection -> keys) gets the connection keys of a source with
    per-connection run state."""
    blocks = net.blocks
    src_blk = blocks[sb]
    smodel = src_blk.model
    src = (gather(parts, "src") - src_blk.gid0).astype(np.int32)
    tgt, w, d, rec = (gather(parts, f) for f in ("tgt", "weight", "delay", "receptor"))
    # connections from a sender of precise spikes to precise targets: projections of their own (mode
    # "precise", engine/precise.py); the rest as below
    kept_keys = None  # connection keys of the connections left after the precise projections
    sends_offsets = smodel.precise if smodel.kind == "neuron" else \
        (smodel.kind == "spike_source" and smodel.emits_offsets(src_blk.params))
    if precise_plan is not None and sends_offsets:
        tb_all = net.block_index(tgt)
        for b in np.unique(tb_all):
            b = int(b)
            if b not in precise_plan.offsets:
                continue
            m = tb_all == b
            rows = precise_plan.offsets[b] + (tgt[m] - blocks[b].gid0)
            pp, arr, order = ps.build_projection(sb, src_blk.n, src[m], rows, w[m], d[m],
                                                 blocks[b].model.counts_input, dtype)
            if smodel.kind != "neuron":
                if conn_keys is not None and getattr(smodel, "conn_state", False):
                    conn_keys[len(projections)] = _record_keys(net, parts)[m][order]
                sources.setdefault(sb, []).append(len(projections))
            projections.append(pp)
            proj_arrays.append(arr)
        keep = ~np.isin(tb_all, list(precise_plan.offsets))
        if not keep.any():
            return
        if not keep.all():  # (precise senders have no ports of their own)
            src, tgt, w, d, rec = src[keep], tgt[keep], w[keep], d[keep], np.broadcast_to(rec, keep.shape)[keep]
            if conn_keys is not None and getattr(smodel, "conn_state", False):
                kept_keys = _record_keys(net, parts)[keep]
    current = smodel.kind == "current_source"
    signed = smodel.kind == "spike_source" and smodel.signed_spikes(src_blk.params)
    tb, present = net.block_split(tgt)
    flat = np.empty(len(src), np.int32)  # position within a ring slot
    val_w = np.empty(len(src), dtype)
    neg = None
    only_counts = True
    payload = np.zeros(len(src), bool)  # spikes scaled by a value the sender sends with them
    own = None  # connections with a port of their own (Neuron.own_port_receptors): their ordinal
    if own_ord and any(id(c) in own_ord for c, _ in parts):
        own = np.concatenate([own_ord[id(c)][m] if id(c) in own_ord else np.full(len(c.src), -1)[m]
                              for c, m in parts])
    for b in present:
        m = tb == b if len(present) > 1 else slice(None)
        nb, tm = nb_of[int(b)], blocks[int(b)].model
        if not current and tm.payload_receptors:
            payload[m] = np.isin(np.asarray(rec[m]), tm.payload_receptors)
        local = tgt[m] - blocks[int(b)].gid0
        counts = tm.counts_input
        only_counts &= counts
        if current:
            port = np.full(local.shape, nb.n_ports)
            names = tm.port_names(blocks[int(b)].params)
            for r_cur, pname in tm.current_port_map(blocks[int(b)].params).items():
                port = np.where(np.asarray(rec[m]) == r_cur, names.index(pname), port)
            scale = np.ones(local.shape)
        else:
            port, scale = tm.route(w[m], rec[m])
        val_w[m] = 1.0 if counts else w[m] * scale
        if own is not None and nb.own_ports and not current:
            # a port of its own per connection, after the model's ports; it receives the multiplicity
            o = own[m]
            port = np.where(o >= 0, nb.n_ports - nb.own_ports + o, port)
            val_w[m] = np.where(o >= 0, 1.0, val_w[m])
        flat[m] = nb.flat(port, local)
        # targets that count spikes (parrots) get the multiplicity: their synapses carry weight 1
        if signed and not counts:
            # spikes whose weight factor is negative flip the sign of the connection weight: they go to
            # the port (and scale) that the target routes the negated weight to
            if neg is None:
                neg = (flat.copy(), np.zeros(len(src), dtype))
            port_n, scale_n = tm.route(-w[m], rec[m])
            neg[0][m] = nb.flat(port_n, local)
            neg[1][m] = w[m] * scale_n
    if smodel.kind == "neuron":
        # connections whose spikes carry the sender's payload (iaf_tum_2000's u x) go apart
        for sel, carried in ((~payload, ""), (payload, smodel.payload_state)):
            if not sel.any():
                continue
            sub = (lambda x: x) if sel.all() else (lambda x, sel=sel: x[sel])
            pp, arr = dl.build_projection(sb, 0, src_blk.n, sub(src), sub(flat), sub(val_w), sub(d), False, pad_index,
                                          dense=bool(smodel.thinned_by))
            pp.payload = carried
            pp.thin = bool(smodel.thinned_by)  # each connection passes each spike with that probability
            if pp.mode == "event" and capacity is not None:
                pp.capacity = capacity.setdefault(sb, int(min(src_blk.n, max(256, src_blk.n // 32))))
            projections.append(pp)
            proj_arrays.append(arr)
        return
    # A current generator computes the current of stamp s in step s - 1, as NEST does (so a parameter
    # changed with set at step K acts from stamp K + 1): in step k it emits stamp k + 1 (lead 1). Binary
    # neurons and models that declare current_same_step use a current in the step it arrives (NEST's
    # binary_neuron): ring slot k + d; every other
    # model one step later: slot k + 1 + d (shift 1).
    subsets = [(slice(None), 0, 0)]
    if current:
        binary = np.array([blocks[int(b)].model.signal == "binary" or blocks[int(b)].model.current_same_step
                           for b in net.block_index(tgt)])
        subsets = [(m, 1, shift) for m, shift in ((~binary, 1), (binary, 0)) if m.any()]
    for m, lead, shift in subsets:
        s_src, s_flat, s_w, s_d = src[m], flat[m], val_w[m], d[m]
        const_w = bool(np.all(s_w == s_w[0]))
        const_d = bool(np.all(s_d == s_d[0]))
        pp = dl.ProjectionPlan(sb, 0, "dense", src_blk.n, len(s_src), const_w=const_w, const_d=const_d,
                               counts=only_counts, lead=lead, shift=shift)
        arr = {"src": s_src.astype(np.int32), "tgt": s_flat.astype(np.int32),
               "w": np.asarray(s_w[:1] if const_w else s_w, dtype),
               "d": np.asarray(s_d[:1] if const_d else s_d, np.int32)}
        pp.contiguous = bool(const_d and neg is None and len(s_flat) > 1 and np.all(np.diff(s_flat) == 1))
        if neg is not None:
            arr["tgt_neg"] = neg[0][m].astype(np.int32)
            arr["w_neg"] = neg[1][m]
        if smodel.kind == "spike_source":
            table = smodel.shared_table(src_blk.params, np.unique(s_src), net.dt, dtype)
            if table is not None:
                pp.table = True
                arr["table"] = table
        if conn_keys is not None and getattr(smodel, "conn_state", False):
            conn_keys[len(projections)] = (_record_keys(net, parts) if kept_keys is None else kept_keys)[m]
        sources.setdefault(sb, []).append(len(projections))
        projections.append(pp)
        proj_arrays.append(arr)


def _rate_projections(net, rate_groups, nb_of, dtype):
    """Rate connections, one dense projection per (source block, target block, kind)."""
    blocks = net.blocks
    plans, arrays = [], []
    for (sb, tb, kind), all_parts in sorted(rate_groups.items()):
        # connections that feed named ports (RateConnection.feeds) apart from weight-routed ones
        by_feeds = {}
        for ci, m in all_parts:
            by_feeds.setdefault(net.conns[ci].synapse.feeds, []).append((ci, m))
        for feeds, parts in by_feeds.items():
            recs = [(net.conns[ci], m) for ci, m in parts]
            src = (gather(recs, "src") - blocks[sb].gid0).astype(np.int32)
            tgt = (gather(recs, "tgt") - blocks[tb].gid0).astype(np.int32)
            w, d, rec = gather(recs, "weight"), gather(recs, "delay"), gather(recs, "receptor")
            nb, tm = nb_of[tb], blocks[tb].model
            d = np.broadcast_to(np.asarray(d, np.int32), src.shape)
            if not feeds:
                port, scale = tm.route(w, rec)
                routed = [(nb.flat(port, tgt), w * scale)]
            else:
                names = list(tm.port_names(blocks[tb].params))
                routed = [(nb.flat(np.full(src.shape, names.index(pn)), tgt), gather(recs, fp)) for fp, pn in feeds]
            for flat, val in routed:
                # a spiking target (Neuron.rate_receptors) takes weight x value, with no phi
                plans.append(RateProjectionPlan(sb, tb, kind == "instantaneous",
                                                phi=not feeds and tm.signal == "rate",
                                                source=blocks[sb].model.kind == "rate_source",
                                                late=kind == "after_update"))
                arrays.append({"src": src, "tgt_local": tgt, "flat": np.asarray(flat, np.int32),
                               "w": np.asarray(val, dtype), "d": d})
    return plans, arrays


def _plastic_projections(net, plastic_groups, nb_of, dtype, pad_index, projections, proj_arrays):
    """Plastic projections (one per source block, target block and synapse model), with their
    per-connection state in the run state. Event-driven above dl.EVENT_MIN_SYNAPSES connections (the
    outgoing connections of each source as a padded row of connection indices), dense below.
    Returns, per projection index, the (record index, mask) parts, and the layout of the projections
    that a weight_recorder logs (:func:`_weight_layout`)."""
    blocks = net.blocks
    parts_of, rec_w = {}, {}
    for (sb, tb, _, wr, vt), parts in sorted(plastic_groups.items()):
        src_blk, tgt_blk = blocks[sb], blocks[tb]
        recs = [(net.conns[ci], m) for ci, m in parts]
        syn = recs[0][0].synapse
        src = (gather(recs, "src") - src_blk.gid0).astype(np.int32)
        tgt = (gather(recs, "tgt") - tgt_blk.gid0).astype(np.int32)
        d, rec = gather(recs, "delay"), gather(recs, "receptor")
        nb, tm = nb_of[tb], tgt_blk.model
        port, scale = tm.route(np.asarray(gather(recs, syn.route_by), float), rec)
        n_syn = len(src)
        arr = {"src": src, "tgt_local": tgt, "flat": nb.flat(port, tgt).astype(np.int32),
               "d": np.asarray(d, np.int32), "scale": np.broadcast_to(np.asarray(scale, dtype), (n_syn,)).copy()}
        for name in syn.parameters:
            if name not in ("weight", "delay", "receptor_type"):
                arr[name] = np.asarray(gather(recs, name), dtype)
        # synapses read by a modulator are transmitted at the end of each slice, all at once (dense)
        # (Synapse.event_min_synapses: a model whose transmit costs much per connection lowers the bar)
        event_min = dl.EVENT_MIN_SYNAPSES if syn.event_min_synapses is None else min(dl.EVENT_MIN_SYNAPSES,
                                                                                       syn.event_min_synapses)
        mode = "plastic_event" if n_syn >= event_min and not syn.uses_modulator else "plastic"
        pp = dl.ProjectionPlan(sb, tb, mode, src_blk.n, n_syn, counts=tm.counts_input, synapse=syn,
                               weight_recorder=wr >= 0)
        if vt >= 0:
            pp.modulator = int(net.block_index([vt])[0])
            arr["vt_local"] = np.full(n_syn, vt - blocks[pp.modulator].gid0, np.int32)
        if wr >= 0:
            rec_w[len(projections)] = _weight_layout(net, recs, wr, src + src_blk.gid0, tgt + tgt_blk.gid0, rec)
        if mode == "plastic_event":
            # one dummy connection (index n_syn) that padding entries point to: it never spikes and is
            # delivered to the spare ring column
            for k, v in arr.items():
                pad = {"flat": pad_index, "d": 1, "tgt_local": 0, "src": 0}.get(k, 1.0)
                arr[k] = np.concatenate([v, np.asarray([pad], v.dtype)])
            order = dl.argsort_ints(src, src_blk.n)
            deg = np.bincount(src, minlength=src_blk.n)
            M = max(1, int(deg.max()))
            start = (np.cumsum(deg) - deg).astype(np.int32)
            col = np.arange(n_syn, dtype=np.int32) - np.repeat(start, deg)
            rows = np.full((src_blk.n + 1, M), n_syn, np.int32)
            rows[src[order], col] = order
            arr["rows"] = rows
            pp.row_len, pp.batch = M, dl.batch_size(src_blk.n)
        parts_of[len(projections)] = parts
        projections.append(pp)
        proj_arrays.append(arr)
    return parts_of, rec_w


def _weight_layout(net, recs, wr, src, tgt, receptor):
    """What the collector needs to turn a recorded projection's per-step output into NEST's weight
    events: the recorder, every connection's sender, target, receptor and port (its index among the
    connections of its synapse model and recorder ordered by source: NEST numbers the connections of
    each synapse model with one thread so, and attaching a recorder takes a model of its own there,
    CopyModel), the weight unit and whether the weight can change within a step (plastic)."""
    syn = recs[0][0].synapse
    same = [c for c in net.conns if c.synapse is syn and c.recorder == wr]
    starts = np.cumsum([0] + [len(c) for c in same])
    order = np.argsort(np.concatenate([c.src for c in same]), kind="stable")
    port_all = np.empty(len(order), np.int64)
    port_all[order] = np.arange(len(order))
    port = np.concatenate([port_all[starts[next(i for i, x in enumerate(same) if x is c)]:][:len(c)][m]
                           for c, m in recs])
    return {"recorder": int(wr), "src": np.asarray(src, np.int64), "tgt": np.asarray(tgt, np.int64),
            "receptor": np.broadcast_to(np.asarray(receptor, np.int64), (len(src),)).copy(), "port": port,
            "unit": net.weight_unit_of(recs[0][0]), "plastic": bool(syn.plastic)}


def initial_run_state(net, low: Lowered, k: int, dtype, history: int, carried: dict, step_len: int = sh.HISTORY):
    """The run state at step ``k``: neuron states from the blocks, input still in flight
    (``carried['ring']``: block -> (D, slot) rows) re-slotted into the new ring, the sources' own run
    state, plastic connection state from the connection records, the postsynaptic archives."""
    plan = low.plan
    states = []
    ring = np.zeros((plan.D, plan.S))
    backup = carried.get("ring", {})
    for nb in plan.neurons:
        blk = net.blocks[nb.block]
        st = {n: np.asarray(v, dtype if np.asarray(v).dtype.kind == "f" else np.int32) for n, v in blk.state.items()}
        st = blk.model.fit_state(blk.params, net.dt, st)  # shapes that depend on dt (Neuron.fit_state)
        st = {n: np.asarray(v, dtype if np.asarray(v).dtype.kind == "f" else np.int32) for n, v in st.items()}
        for n in blk.model.own_port_state:  # (n, K): one column per own port, new ones at 0
            v = st[n] if st[n].ndim == 2 else np.zeros((blk.n, 0), dtype)
            st[n] = np.concatenate([v[:, :nb.own_ports], np.zeros((blk.n, max(0, nb.own_ports - v.shape[1])),
                                                                    dtype)], axis=1)
        states.append(st)
        old = backup.get(nb.block)
        if old is not None and old.shape[1] == nb.slot_size:
            # input still in flight when the network was rebuilt: re-slot it into the new ring
            oldD = old.shape[0]
            for j in range(oldD):
                kk = k + j
                ring[kk % plan.D, nb.offset:nb.offset + nb.slot_size] += old[kk % oldD]
    src_state, conn_state = {}, {}
    kept_src, kept_conn = carried.get("src_state", {}), carried.get("conn_state", {})
    for sp in plan.sources:
        if sp.kind == "spike_source":
            model, blk = low.models[sp.block], net.blocks[sp.block]
            h = jax.tree.map(np.asarray, low.arrays["host"][sp.block])
            src_state[sp.block] = model.init_run_state(h, k)
            old = kept_src.get((blk.gid0, blk.n))
            if model.run_state_kept and old is not None:
                src_state[sp.block] = _merge_kept(src_state[sp.block], old, slice(None), slice(None))
            if model.conn_state:
                p = jax.tree.map(np.asarray, low.arrays["params"][sp.block])
                old = kept_conn.get(blk.gid0)
                for j in sp.projections:
                    keys = low.conn_keys[j]
                    cs = model.init_conn_state(p, h, np.asarray(low.arrays["proj"][j]["src"]), k)
                    if old is not None and len(old["keys"]):
                        # connections that existed before the rebuild keep their state
                        order = np.argsort(old["keys"], kind="stable")
                        pos = np.clip(np.searchsorted(old["keys"][order], keys), 0, len(order) - 1)
                        hit = old["keys"][order][pos] == keys
                        cs = _merge_kept(cs, old["state"], hit, order[pos][hit])
                    conn_state[j] = cs
    cur = ring[k % plan.D].copy()  # the input of the next step waits outside the ring
    ring[k % plan.D] = 0.0
    max_active = {pp.src_block: np.zeros((), np.int32) for pp in plan.projections if pp.capacity}
    plastic = {}
    for j, parts in low.plastic_parts.items():
        pp = plan.projections[j]
        recs = [(net.conns[ci], m) for ci, m in parts]
        st = {"weight": np.concatenate([c.take("weight", m) for c, m in recs])}
        for name, spec in pp.synapse.connection_state.items():
            st[name] = np.concatenate([c.state(name, m) for c, m in recs])
        if pp.mode == "plastic_event":
            st = {n: np.concatenate([v, v[:1] * 0]) for n, v in st.items()}  # the dummy connection
        plastic[j] = {n: np.asarray(v, dtype if np.asarray(v).dtype.kind == "f" else np.int32) for n, v in st.items()}
    mod = {}
    for b in plan.mod_blocks:  # a list that starts with a pseudo spike at the last update (t = 0 at first)
        blk = net.blocks[b]
        H = int(np.max(blk.params[blk.model.modulator_interval])) * plan.slice_steps + 1
        h = carried.get("mod", {}).get(b)
        if h is None or h["t"].shape != (blk.n, H):
            h = {"t": np.zeros((blk.n, H), np.int32), "m": np.zeros((blk.n, H)), "count": np.ones(blk.n, np.int32)}
        mod[b] = {"t": np.asarray(h["t"], np.int32), "m": np.asarray(h["m"], dtype), "count": np.asarray(h["count"], np.int32)}
    defer = {}
    for j, pp in enumerate(plan.projections):  # presynaptic spikes waiting for the end of their slice
        if pp.modulator >= 0:
            old = carried.get("defer", {}).get(j)
            shape = (plan.slice_steps, pp.n_pre)
            defer[j] = np.asarray(old, np.int32) if old is not None and np.shape(old) == shape else np.zeros(shape, np.int32)
    post = {}
    for b in plan.post_blocks:
        n = net.blocks[b].n
        h = carried.get("post", {}).get(b)
        if h is None or h["t"].shape != (n, history):
            h = archive.empty(n, history)
        post[b] = {n: np.asarray(v, np.int32 if n in ("t", "t_drop") else dtype) for n, v in h.items()}
    steps = {}  # per-step histories (Neuron.step_history) of targets of synapses that read them
    for b, names in sh.blocks(plan.projections).items():
        n = net.blocks[b].n
        h = carried.get("steps", {}).get(b)
        if h is None or set(h) != set(names) or any(np.shape(v) != (n, step_len) for v in h.values()):
            h = sh.empty(n, names, step_len)
        steps[b] = {v: np.asarray(h[v], dtype) for v in names}
    pbuf = None  # the precise targets' input (engine/precise.py), input in flight re-slotted by block
    if plan.precise is not None:
        pbuf = ps.empty(plan.precise, plan.D, dtype)
        old = carried.get("pbuf")
        if old is not None:
            for b, start in plan.precise.offsets.items():
                if b in old["offsets"] and old["n_of"][b] == net.blocks[b].n:
                    ps.reslot(old, pbuf, k, old["offsets"][b], start, net.blocks[b].n)
    return jax.device_put({"pbuf": pbuf,
                           "states": states, "ring": np.asarray(ring.reshape(-1), dtype), "cur": np.asarray(cur, dtype),
                           "src_state": src_state, "conn_state": conn_state, "max_active": max_active,
                           "plastic": plastic, "post": post, "steps": steps, "mod": mod, "defer": defer,
                           "stdp_overflow": np.zeros((), np.int32), "gap": _gap_run_state(plan, dtype)})


def _merge_kept(new: dict, old: dict, at, frm) -> dict:
    """``new`` (a run state: name -> array) with rows ``at`` taken from rows ``frm`` of the kept state
    ``old``, for every array whose trailing shape and kind are unchanged."""
    out = {}
    for n, v in new.items():
        v = np.array(v)
        o = old.get(n)
        if o is not None:
            o = np.asarray(o)
            if isinstance(at, slice):
                if o.shape == v.shape and o.dtype.kind == v.dtype.kind:
                    v = o.astype(v.dtype)
            elif o.shape[1:] == v.shape[1:] and o.dtype.kind == v.dtype.kind:
                v[at] = o[frm]
        out[n] = v
    return out


# ---------------------------------------------------------------- gap junctions

def _gap_projections(net, conns, dtype, delays):
    """Gap junctions, one projection per (source block, target block), and the waveform-relaxation
    plan: slices of NEST's min_delay (the shortest delay, at most wfr_comm_interval; one step without
    waveform relaxation). Arrays: per projection the local source and target and g (nS); per target
    block the summed conductance ``g_sum``."""
    if not conns:
        return None, {}
    blocks, w = net.blocks, net.wfr
    pairs, proj = {}, {}
    for c in conns:
        sb_of, _ = net.block_split(c.src)
        tb_of, _ = net.block_split(c.tgt)
        g = np.broadcast_to(np.asarray(c.weight, float), c.src.shape)
        for sb, tb in sorted(set(zip(sb_of.tolist(), tb_of.tolist()))):
            m = (sb_of == sb) & (tb_of == tb)
            e = proj.setdefault((sb, tb), {"src": [], "tgt": [], "g": []})
            e["src"].append(c.src[m] - blocks[sb].gid0)
            e["tgt"].append(c.tgt[m] - blocks[tb].gid0)
            e["g"].append(g[m])
    arrs = {"proj": [], "g_sum": {}}
    for (sb, tb), e in sorted(proj.items()):
        tgt = np.concatenate(e["tgt"]).astype(np.int32)
        g = np.concatenate(e["g"])
        arrs["proj"].append({"src": np.concatenate(e["src"]).astype(np.int32), "tgt": tgt, "g": g.astype(dtype)})
        gs = arrs["g_sum"].setdefault(tb, np.zeros(blocks[tb].n))
        gs += np.bincount(tgt, weights=g, minlength=blocks[tb].n)
        pairs[(sb, tb)] = True
    arrs["g_sum"] = {b: v.astype(dtype) for b, v in arrs["g_sum"].items()}
    gap_blocks = tuple(sorted({b for pr in pairs for b in pr}))
    for b in gap_blocks:
        arrs["g_sum"].setdefault(b, np.zeros(blocks[b].n, dtype))
    comm = max(1, int(round(w["wfr_comm_interval"] / net.dt))) if w["use_wfr"] else 1
    m = min([comm] + [max(1, d) for d in delays])
    plan = GapPlan(gap_blocks, list(sorted(pairs)), m, bool(w["use_wfr"]), float(w["wfr_tol"]),
                   int(w["wfr_max_iterations"]), int(w["wfr_interpolation_order"]))
    return plan, arrs


def _gap_run_state(plan, dtype):
    """The waveform relaxation's result for the current slice: per gap block the summed partner
    coefficients of each step (m, K, n); ``valid`` False makes the first step relax (again)."""
    gp = plan.gap
    if gp is None or not gp.use_wfr:
        return {"inp": {}, "valid": np.zeros((), bool)}
    K = gp.order + 1
    n_of = {nb.block: nb.n for nb in plan.neurons}
    return {"inp": {b: np.zeros((gp.m, K, n_of[b]), dtype) for b in gp.blocks}, "valid": np.zeros((), bool)}
