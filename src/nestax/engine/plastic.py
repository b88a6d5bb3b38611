"""Delivery through plastic synapses: each transmitted spike first updates its connection's state
with the synapse model's ``transmit`` (:class:`nestax.models.base.Synapse`), then is delivered with
the new weight.

- ``plastic`` (dense): every connection of the projection is passed to ``transmit`` each step
  (those whose source did not spike keep their state); cost ~ connections per step. Used below
  :data:`nestax.engine.delivery.EVENT_MIN_SYNAPSES` connections.
- ``plastic_event``: the connections of each source are a padded row of connection indices; per step
  only the rows of sources that spiked are gathered, updated and scattered back, in batches of K
  rows (cost ~ spikes x fan-out). Padding points to a dummy connection (the last index) that never
  spikes and delivers to the spare ring column.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from . import delivery as dl


def deliver(pp, a, s, post, cnt, k, tics_per_step, ring, add, spike_list=None):
    """Update the connections of projection ``pp`` whose source spiked in step k and deliver them.

    ``a``: the projection's arrays; ``s``: its connection state; ``post``: the target's archive (with
    ``tau_minus_inv``) or None; ``cnt``: spike counts of the source block; ``add(ring, d, flat, val)``
    adds into the ring; ``spike_list``: (ranks, number) of the spiking sources (event mode).
    Returns (state, ring, overflow flag).
    """
    syn = pp.synapse
    if pp.mode == "plastic":
        c = cnt[a["src"]]
        s, w, ovf = syn.transmit(a, s, post, c, k, tics_per_step)
        cf = c.astype(w.dtype)
        return s, add(ring, a["d"], a["flat"], cf if pp.counts else cf * w * a["scale"]), ovf
    ranks, n_active = spike_list
    K = pp.batch
    cnt_ext = jnp.concatenate([cnt, jnp.zeros((1,), cnt.dtype)])

    def body(j, carry):
        s, ring, ovf = carry
        rows = dl.spiking_rows(ranks, j, K)
        idx = a["rows"][rows].reshape(-1)                               # connection indices, (K * M,)
        c = jnp.where(idx == pp.n_syn, 0, jnp.repeat(cnt_ext[rows], pp.row_len))
        a_sub = {n: v[idx] for n, v in a.items() if n != "rows"}
        s_new, w, o = syn.transmit(a_sub, {n: v[idx] for n, v in s.items()}, post, c, k, tics_per_step)
        s = {n: s[n].at[idx].set(s_new[n].astype(s[n].dtype), mode="promise_in_bounds") for n in s}
        cf = c.astype(w.dtype)
        val = cf if pp.counts else cf * w * a_sub["scale"]
        return s, add(ring, a_sub["d"], a_sub["flat"], val), ovf | o

    return jax.lax.fori_loop(0, (n_active + K - 1) // K, body, (s, ring, jnp.zeros((), bool)))
