"""Delivery through plastic synapses: each transmitted spike first updates its connection's state
with the synapse model's ``transmit`` (:class:`nestax.models.base.Synapse`), then is delivered with
the new weight. A spike of multiplicity m passes through the synapse m times in a row (NEST unrolls
multiplicity for plastic synapses), each delivered with the weight it leaves.

- ``plastic`` (dense): in a step with spikes every connection of the projection is passed to
  ``transmit`` (those whose source did not spike keep their state); cost ~ connections. Used below
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


def transmit_each(syn, a, s, post, c, k, tics_per_step, key=None, mod=None):
    """Pass every spike of connection counts ``c`` through the synapse on its own, as NEST does (it
    unrolls a spike's multiplicity for plastic synapses; the repeats see no time between them).
    Returns (state, summed delivered weight per connection, overflow flag, (weight delivered by the
    first spike, by the last spike) per connection)."""
    w0 = s["weight"]

    def body(j, carry):
        s, total, ovf, first, last = carry
        one = (c > j).astype(c.dtype)
        kw = {} if key is None else {"key": jax.random.fold_in(key, j)}
        if mod is not None:  # the modulator's spike list (stdp_dopamine_synapse)
            kw["mod"] = mod
        s, w, o = syn.transmit(a, s, post, one, k, tics_per_step, **kw)
        w = w.astype(w0.dtype)
        sent = one > 0
        return (s, total + one.astype(w0.dtype) * w, ovf | o, jnp.where(sent & (j == 0), w, first),
                jnp.where(sent, w, last))

    zero = jnp.zeros_like(w0)
    s, total, ovf, first, last = jax.lax.fori_loop(0, jnp.max(c, initial=0), body,
                                                   (s, zero, jnp.zeros((), bool), zero, zero))
    return s, total, ovf, (first, last)


def deliver(pp, a, s, post, cnt, k, tics_per_step, ring, add, spike_list=None, key=None, mod=None):
    """Update the connections of projection ``pp`` whose source spiked in step k and deliver them.

    ``a``: the projection's arrays; ``s``: its connection state; ``post``: the target's archive (with
    ``tau_minus_inv``) or None; ``cnt``: spike counts of the source block; ``add(ring, d, flat, val)``
    adds into the ring; ``spike_list``: (ranks, number) of the spiking sources (event mode).
    Returns (state, ring, overflow flag, log), where log is None, or for a projection that a
    weight_recorder logs (spikes transmitted, weight delivered by the first, by the last) per connection.
    """
    syn = pp.synapse
    if pp.mode == "plastic":
        c = cnt[a["src"]]
        s, wsum, ovf, (first, last) = transmit_each(syn, a, s, post, c, k, tics_per_step, key, mod)
        log = (c, first, last) if pp.weight_recorder else None
        return s, add(ring, a["d"], a["flat"], c.astype(wsum.dtype) if pp.counts else wsum * a["scale"]), ovf, log
    ranks, n_active = spike_list
    K = pp.batch
    cnt_ext = jnp.concatenate([cnt, jnp.zeros((1,), cnt.dtype)])
    w0 = s["weight"]
    log0 = (jnp.zeros(w0.shape, cnt.dtype), jnp.zeros_like(w0), jnp.zeros_like(w0)) if pp.weight_recorder else None

    def body(j, carry):
        s, ring, ovf, log = carry
        rows = dl.spiking_rows(ranks, j, K)
        idx = a["rows"][rows].reshape(-1)                               # connection indices, (K * M,)
        c = jnp.where(idx == pp.n_syn, 0, jnp.repeat(cnt_ext[rows], pp.row_len))
        a_sub = {n: v[idx] for n, v in a.items() if n != "rows"}
        kj = None if key is None else jax.random.fold_in(key, j)  # its own key for every batch
        s_new, wsum, o, fl = transmit_each(syn, a_sub, {n: v[idx] for n, v in s.items()}, post, c, k, tics_per_step,
                                           kj)
        s = {n: s[n].at[idx].set(s_new[n].astype(s[n].dtype), mode="promise_in_bounds") for n in s}
        if log is not None:
            log = tuple(x.at[idx].set(v.astype(x.dtype), mode="promise_in_bounds") for x, v in zip(log, (c, *fl)))
        val = c.astype(wsum.dtype) if pp.counts else wsum * a_sub["scale"]
        return s, add(ring, a_sub["d"], a_sub["flat"], val), ovf | o, log

    s, ring, ovf, log = jax.lax.fori_loop(0, (n_active + K - 1) // K, body, (s, ring, jnp.zeros((), bool), log0))
    if log is not None:  # drop the dummy connection that padding points to
        log = tuple(x[:pp.n_syn] for x in log)
    return s, ring, ovf, log
