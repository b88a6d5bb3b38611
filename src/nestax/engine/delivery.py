"""Spike delivery into the network's ring buffer.

One flat ring buffer of D slots serves the whole network: a slot holds every neuron block's input
side by side, each block as (ports + 1) rows of n + 1 values: one row per receptor port plus a row
of generator current, and one spare column per row that padded synapses write into and nobody
reads. A spike emitted in step k with delay d steps is added to slot (k + d) mod D, which the target
reads (and clears) in step k + d.

Two kernels, chosen per projection by the lowering:

- ``dense``: one gather-multiply-scatter over all synapses of the projection; cost ~ n_synapses per
  step. Used for small projections and for device input, where every connection carries a value.
- ``event``: the outgoing synapses of every source are stored as padded rows (CSR, padding aimed
  at the spare column); per step the spiking sources are listed (a blocked prefix sum) and their
  rows are scattered in batches of K rows, looping only as many batches as needed.
  Cost ~ spikes x fan-out, independent of the number of synapses.

Plastic synapses use the same two layouts (``plastic`` dense, ``plastic_event`` by rows of
connection indices): see :mod:`nestax.engine.plastic`.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from . import native

EVENT_MIN_SYNAPSES = 20_000


@dataclass
class ProjectionPlan:
    """Static description of one projection (everything the compiled step needs besides arrays)."""
    src_block: int
    tgt_block: int
    mode: str               # 'dense' | 'event' | 'plastic' | 'plastic_event'
    n_pre: int
    n_syn: int
    row_len: int = 0        # padded row length (event mode)
    batch: int = 0          # rows per scatter batch (event mode)
    const_w: bool = False
    const_d: bool = False
    counts: bool = False    # deliver multiplicity instead of weight (parrot targets)
    table: bool = False     # spike sources: a table the source precomputed (SpikeSource.shared_table)
    contiguous: bool = False  # dense, constant delay, targets are consecutive ring positions
    payload: str = ""       # neuron sources: state variable of the sender that scales each spike
                            # (iaf_tum_2000's u x on its targets' receptor 1)
    lead: int = 0           # current sources: emit the amplitude of stamp k + lead in step k
    shift: int = 0          # current sources: extra steps of delay (1, except into binary neurons)
    synapse: type = None    # plastic projections: the synapse model (its transmit() updates the state)
    weight_recorder: bool = False  # plastic projections: a weight_recorder logs every transmission
    modulator: int = -1     # plastic projections reading a modulator node: its block (else -1)
    thin: bool = False      # neuron sources with ``thinned_by``: each connection passes each spike with the
                            # source's probability (dense mode, a key per step)
    capacity: int = 0       # event mode on accelerators: spikes handled per step in one scatter
                            # (0: loop over batches). The engine checks after each chunk that no
                            # step had more spiking sources and reruns the chunk with more if one did.
    native: bool = False    # on the CPU: the additions are made by the native kernels
                            # (nestax.engine.native, same order and sums as the pure-JAX scatters)
    t_range: tuple = (0, 0)  # event mode: the targets' ring offsets lie in [lo, hi) (native threads split it)


def argsort_ints(x: np.ndarray, n: int) -> np.ndarray:
    """Stable argsort of integers in [0, n) using NumPy's 16-bit radix sort (O(len) passes)."""
    if n <= 2**15:
        return np.argsort(x.astype(np.int16), kind="stable")
    small = len(x) < 2**31  # positions fit int32: keep the permutations at half the memory
    o1 = np.argsort((x & 0x7FFF).astype(np.int16), kind="stable")
    hi = (x[o1] >> 15).astype(np.int16 if n <= 2**30 else np.int64)
    if small:
        o1 = o1.astype(np.int32)
    o2 = np.argsort(hi, kind="stable")
    del hi
    return o1[o2]


def batch_size(n_pre: int) -> int:
    """Rows per scatter batch: small on CPU (little padding waste), large on accelerators."""
    if jax.default_backend() == "cpu":
        return int(min(n_pre, 8))
    return int(min(n_pre, max(128, n_pre // 100)))


def build_projection(src_block, tgt_block, n_pre, src, flat_tgt, w, d, counts, pad_index, dense=False):
    """Host side: choose the kernel and lay out the arrays. Returns (plan, arrays).

    ``flat_tgt``: port * (n + 1) + target index within a slot; ``pad_index``: a spare-column index
    for padding entries; ``dense``: dense whatever the size.
    """
    n_syn = len(src)
    const_w = n_syn > 0 and bool(np.all(w == w[0]))
    const_d = n_syn > 0 and bool(np.all(d == d[0]))
    mode = "event" if n_syn >= EVENT_MIN_SYNAPSES and not dense else "dense"
    arrays = {}
    if mode == "dense":
        arrays["src"] = src.astype(np.int32)
        arrays["tgt"] = flat_tgt.astype(np.int32)
        arrays["w"] = np.asarray(w[:1] if const_w else w)
        arrays["d"] = np.asarray(d[:1] if const_d else d, np.int32)
        return ProjectionPlan(src_block, tgt_block, mode, n_pre, n_syn, const_w=const_w, const_d=const_d,
                              counts=counts, native=native.enabled()), arrays
    order = argsort_ints(src, n_pre)
    deg = np.bincount(src, minlength=n_pre)
    M = max(1, int(deg.max()))
    rows = n_pre + 1  # last row: all padding, the target of unused batch entries
    # row i holds source i's connections in their stable order, then padding: in row-major order the
    # filled cells are the connections sorted by source (no per-connection row/column indices needed)
    filled = np.arange(M, dtype=np.int32) < np.append(deg, 0)[:, None]
    T = np.full((rows, M), pad_index, np.int32)
    T[filled] = flat_tgt[order]
    if const_w:
        W = np.asarray(w[:1])
    else:
        W = np.zeros((rows, M), dtype=w.dtype)
        W[filled] = w[order]
    if const_d:
        Dl = np.asarray([d[0]], np.int32)
    else:
        Dl = np.ones((rows, M), np.int32)
        Dl[filled] = d[order]
    del order, filled
    arrays.update(tgt=T, w=W, d=Dl)
    use_native = native.enabled()
    if use_native:  # the used length of each row: the native kernel skips the padding
        arrays["deg"] = np.append(deg, 0).astype(np.int32)
    t_range = (int(flat_tgt.min()), int(flat_tgt.max()) + 1) if n_syn else (0, 0)
    return ProjectionPlan(src_block, tgt_block, mode, n_pre, n_syn, row_len=M, batch=batch_size(n_pre),
                          const_w=const_w, const_d=const_d, counts=counts, native=use_native, t_range=t_range), arrays


def deliver(plan: ProjectionPlan, a, ring, cnt, k, D, slot_size, spike_list=None):
    """Add this step's output of the source (``cnt``: counts per source) into ``ring``."""
    cnt_f = cnt.astype(ring.dtype)
    if plan.mode == "dense":
        x = cnt_f[a["src"]]
        val = x if plan.counts else x * (a["w"][0] if plan.const_w else a["w"])
        dd = a["d"][0] if plan.const_d else a["d"]
        if plan.native:
            return native.dense_add(ring, k, dd, a["tgt"], val, D, slot_size)
        flat = ((k + dd) % D) * slot_size + a["tgt"]
        return ring.at[flat].add(val, mode="promise_in_bounds")
    if plan.native and not plan.capacity:
        return native.row_scatter(ring, cnt_f, a["tgt"], a["w"], a["d"], a["deg"], k, D, slot_size, plan.counts,
                                  plan.t_range)
    ranks, n_active = spike_list
    K = plan.capacity or plan.batch
    cnt_ext = jnp.concatenate([cnt_f, jnp.zeros((1,), cnt_f.dtype)])

    def body(j, r):
        rows = spiking_rows(ranks, j, K)
        c = cnt_ext[rows][:, None]
        if plan.counts:
            val = jnp.broadcast_to(c, (K, plan.row_len))
        elif plan.const_w:
            val = jnp.broadcast_to(c * a["w"][0], (K, plan.row_len))
        else:
            val = c * a["w"][rows]
        if plan.const_d:
            flat = ((k + a["d"][0]) % D) * slot_size + a["tgt"][rows]
        else:
            flat = ((k + a["d"][rows]) % D) * slot_size + a["tgt"][rows]
        return r.at[flat.reshape(-1)].add(val.reshape(-1), mode="promise_in_bounds")

    if plan.capacity:
        # one scatter of a fixed number of rows: no data-dependent loop, so no host synchronisation
        # per step on accelerators
        K = plan.capacity
        return body(0, ring)
    n_batches = (n_active + K - 1) // K
    return jax.lax.fori_loop(0, n_batches, body, ring)


def spiking_rows(ranks, j, K):
    """The (jK+1)-th .. ((j+1)K)-th spiking sources; past the last one: the row n_pre (all padding)."""
    return jnp.searchsorted(ranks, j * K + jnp.arange(1, K + 1, dtype=ranks.dtype), side="left",
                            method="scan").astype(jnp.int32)


def spike_list(cnt, block: int = 64):
    """Running count of sending sources (inclusive prefix sum of cnt != 0) and their number.

    The k-th spiking source is ``searchsorted(ranks, k)``. The prefix sum is computed per block of
    64 with one small matrix product plus a cumulative sum over block totals: about 4x cheaper on
    CPU than jnp.nonzero with a static size, which scatters every element.
    """
    n = cnt.shape[0]
    nb = -(-n // block)
    x = jnp.pad((cnt != 0).astype(jnp.float32), (0, nb * block - n)).reshape(nb, block)
    within = x @ jnp.triu(jnp.ones((block, block), jnp.float32))  # exact: at most 64 per block
    tot = within[:, -1].astype(jnp.int32)
    ranks = within.astype(jnp.int32) + (jnp.cumsum(tot) - tot)[:, None]
    ranks = ranks.reshape(-1)[:n]
    return ranks, ranks[-1]
