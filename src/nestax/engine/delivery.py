"""Spike delivery into per-population ring buffers.

Each neuron population owns one flat ring buffer of D slots x (ports + 1) rows x n values; row
``ports`` carries generator current. A spike emitted in step k with delay d steps is added to slot
(k + d) mod D, which the target reads (and clears) in step k + d.

Two kernels, chosen per projection by the engine:

- ``dense``: one gather-multiply-scatter over all synapses of the projection; cost ~ n_synapses per
  step. Best for small projections and for device input, where every connection carries a value.
- ``event``: the outgoing synapses of every source are stored as padded rows (CSR); per step the
  spiking sources are listed (jnp.nonzero with a static size) and their rows are scattered in
  batches of K rows, looping only as many batches as there are spikes. Cost ~ spikes x fan-out.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

EVENT_MIN_SYNAPSES = 20_000


@dataclass
class ProjectionPlan:
    """Static description of one projection (everything the compiled step needs besides arrays)."""
    src_block: int
    tgt_block: int
    mode: str               # 'dense' | 'event'
    n_pre: int
    n_syn: int
    row_len: int = 0        # padded row length (event mode)
    batch: int = 0          # rows per scatter batch (event mode)
    const_w: bool = False
    const_d: bool = False
    counts: bool = False    # deliver multiplicity instead of weight (parrot targets)


def build_projection(src_block, tgt_block, n_pre, src, flat_tgt, w, d, counts):
    """Host side: choose the kernel and lay out the arrays. Returns (plan, arrays)."""
    n_syn = len(src)
    const_w = n_syn > 0 and bool(np.all(w == w[0]))
    const_d = n_syn > 0 and bool(np.all(d == d[0]))
    mode = "event" if n_syn >= EVENT_MIN_SYNAPSES else "dense"
    arrays = {}
    if mode == "dense":
        arrays["src"] = src.astype(np.int32)
        arrays["tgt"] = flat_tgt.astype(np.int32)
        arrays["w"] = np.asarray(w[:1] if const_w else w, float)
        arrays["d"] = np.asarray(d[:1] if const_d else d, np.int32)
        return ProjectionPlan(src_block, tgt_block, mode, n_pre, n_syn, const_w=const_w, const_d=const_d,
                              counts=counts), arrays
    order = np.argsort(src, kind="stable")
    s_sorted = src[order]
    deg = np.bincount(s_sorted, minlength=n_pre)
    M = max(1, int(deg.max()))
    start = np.concatenate([[0], np.cumsum(deg)[:-1]])
    col = np.arange(n_syn) - np.repeat(start, deg)
    rows = n_pre + 1  # last row: a zero row for padding
    T = np.zeros((rows, M), np.int32)
    T[s_sorted, col] = flat_tgt[order]
    if const_w:
        W = np.asarray([w[0]], float)
        valid = np.zeros((rows, M), bool)
        valid[s_sorted, col] = True
        arrays["valid"] = valid
    else:
        W = np.zeros((rows, M))
        W[s_sorted, col] = w[order]
    if const_d:
        Dl = np.asarray([d[0]], np.int32)
    else:
        Dl = np.ones((rows, M), np.int32)
        Dl[s_sorted, col] = d[order]
    arrays.update(tgt=T, w=W, d=Dl)
    K = int(min(n_pre, max(16, n_pre // 200)))
    return ProjectionPlan(src_block, tgt_block, mode, n_pre, n_syn, row_len=M, batch=K, const_w=const_w,
                          const_d=const_d, counts=counts), arrays


def deliver(plan: ProjectionPlan, a, ring, cnt, k, D, slot_size, spike_list=None):
    """Add this step's output of the source (``cnt``: counts per source) into ``ring``."""
    cnt_f = cnt.astype(ring.dtype)
    if plan.mode == "dense":
        x = cnt_f[a["src"]]
        val = x if plan.counts else x * (a["w"][0] if plan.const_w else a["w"])
        dd = a["d"][0] if plan.const_d else a["d"]
        flat = ((k + dd) % D) * slot_size + a["tgt"]
        return ring.at[flat].add(val, mode="promise_in_bounds")
    # event-driven
    idx, n_active = spike_list
    K = plan.batch
    cnt_ext = jnp.concatenate([cnt_f, jnp.zeros((1,), cnt_f.dtype)])

    def body(j, r):
        rows = jax.lax.dynamic_slice(idx, (j * K,), (K,))
        c = cnt_ext[rows][:, None]
        if plan.const_w:
            val = jnp.where(a["valid"][rows], c if plan.counts else c * a["w"][0], 0.0)
        else:
            val = c * a["w"][rows] if not plan.counts else jnp.where(a["w"][rows] != 0, c, 0.0)
        dd = a["d"][0] if plan.const_d else a["d"][rows]
        flat = ((k + dd) % D) * slot_size + a["tgt"][rows]
        return r.at[flat.reshape(-1)].add(val.reshape(-1), mode="promise_in_bounds")

    n_batches = (n_active + K - 1) // K
    return jax.lax.fori_loop(0, n_batches, body, ring)


def spike_list(cnt, batch):
    """Indices of the sources that spiked, padded with the zero row n, length a multiple of batch."""
    n = cnt.shape[0]
    size = ((n + batch - 1) // batch) * batch
    idx = jnp.nonzero(cnt > 0, size=size, fill_value=n)[0].astype(jnp.int32)
    return idx, jnp.sum(cnt > 0).astype(jnp.int32)
