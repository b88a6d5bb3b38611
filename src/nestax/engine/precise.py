"""Precise (off-grid) spike times: NEST's slice ring buffer for the ``_ps`` models, in fixed shapes.

A spike stamped s with offset o happened at s*h - o (0 <= o < h), as in NEST. Grid models send
offset 0. Only networks with precise models pay for any of this (``Plan.precise`` is None otherwise).

Who carries offsets:

- senders: neurons that declare ``Neuron.precise`` (their ``update`` returns ``(counts, offsets)``,
  each ``(n, M)``: up to M spikes per step) and spike sources whose ``emits_offsets(p)`` is true
  (their ``SpikeEmission.offsets`` is ``(n_conn, M)``);
- targets: neurons that declare ``Neuron.precise``. Their input from precise senders goes through a
  second ring buffer of D slots, one row per target neuron, each row a fixed number ``C``
  (``Simulator.precise_capacity``) of (weight, offset) events, plus a count per row. Their input from
  grid senders keeps using the grid ring buffer (summed per port: it all arrives at offset 0).
  Grid targets of precise senders see the spikes through the grid ring buffer (the offset dropped).

A target reads its row of slot k % D at the start of step k: the events sorted by decreasing offset
(time order; the unused places last, marked by ``valid``), then the slot is cleared. A step in
which a target would receive more than C events sets ``max`` above C: the runner refuses the chunk
with an error naming the setting (nothing is dropped silently).

Delivery (dense: every connection of the projection each step): the connections are sorted by
(target, delay) when the network is built, so that the events one step adds to one (slot, target)
come from consecutive connections; an exclusive prefix sum of the active events then gives each
its place behind the events already in that row.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import NestaxError
from . import delivery as dl

#: events per target neuron per step kept by default (Simulator.precise_capacity)
CAPACITY = 32


@dataclass
class PrecisePlan:
    C: int                                      # events per target neuron per step
    P: int                                      # rows: precise target neurons + 1 spare row
    offsets: dict = field(default_factory=dict)  # neuron block -> its first row

    def __eq__(self, other):
        return isinstance(other, PrecisePlan) and (self.C, self.P, self.offsets) == (other.C, other.P, other.offsets)


def plan_for(blocks, capacity: int) -> PrecisePlan | None:
    """The rows of the precise targets among ``blocks`` (block index -> (model, n)); None: none."""
    offsets, P = {}, 0
    for b, (model, n) in blocks.items():
        if model.kind == "neuron" and getattr(model, "precise", False):
            offsets[b] = P
            P += n
    if not offsets:
        return None
    return PrecisePlan(int(capacity), P + 1, offsets)


def build_projection(src_block: int, n_pre: int, src, rows, w, d, counts: bool, dtype):
    """Host side: a precise projection (connections from a precise sender to precise targets).
    ``rows``: the targets' rows in the precise buffer. Returns (plan, arrays, order): the connections
    are stored in ``order`` (sorted by target row and delay)."""
    order = np.lexsort((d, rows))
    src, rows, w, d = src[order], rows[order], np.asarray(w)[order], d[order]
    n = len(src)
    key = rows.astype(np.int64) * (int(d.max(initial=0)) + 1) + d
    new = np.r_[True, key[1:] != key[:-1]] if n else np.zeros(0, bool)
    gs = np.maximum.accumulate(np.where(new, np.arange(n), 0)).astype(np.int32)
    pp = dl.ProjectionPlan(src_block, 0, "precise", n_pre, n, counts=counts)
    arrays = {"src": src.astype(np.int32), "tgt": rows.astype(np.int32), "w": np.asarray(w, dtype),
              "d": d.astype(np.int32), "gs": gs}
    return pp, arrays, order


def empty(plan: PrecisePlan, D: int, dtype) -> dict:
    return {"w": np.zeros((D, plan.P, plan.C), dtype), "o": np.zeros((D, plan.P, plan.C), dtype),
            "n": np.zeros((D, plan.P), np.int32), "max": np.zeros((), np.int32)}


def deliver(pp, a, buf, c, f, o, k, D):
    """Add the events of this step: ``c`` multiplicities, ``f`` weight factors (None: ``c``) and ``o``
    offsets, each (n_conn, M), into slot (k + d) mod D of each connection's target row. Column by
    column, up to the last column any connection uses in this step."""
    M = c.shape[1]
    if M == 1:
        return _deliver_column(pp, a, buf, c[:, 0], None if f is None else f[:, 0], o[:, 0], k, D)
    n_cols = jnp.max(jnp.where(jnp.any(c != 0, axis=0), jnp.arange(1, M + 1), 0))

    def body(m, buf):
        col = lambda x: jax.lax.dynamic_index_in_dim(x, m, axis=1, keepdims=False)
        return _deliver_column(pp, a, buf, col(c), None if f is None else col(f), col(o), k, D)

    return jax.lax.fori_loop(0, n_cols, body, buf)


def _deliver_column(pp, a, buf, c, f, o, k, D):
    """One event (or none: c == 0) per connection."""
    act = c != 0
    ai = act.astype(jnp.int32)
    excl = jnp.cumsum(ai) - ai
    rank = excl - excl[a["gs"]]
    slot = (k + a["d"]) % D
    tgt = a["tgt"]
    pos = buf["n"][slot, tgt] + rank
    C, P = buf["w"].shape[2], buf["w"].shape[1]
    ok = act & (pos < C)
    row = jnp.where(ok, tgt, P - 1)
    col = jnp.where(ok, pos, 0)
    if pp.counts:
        val = c.astype(buf["w"].dtype)
    else:
        val = (c if f is None else f).astype(buf["w"].dtype) * a["w"]
    need = jnp.max(jnp.where(act, pos + 1, 0), initial=0)
    return {"w": buf["w"].at[slot, row, col].set(val),
            "o": buf["o"].at[slot, row, col].set(o.astype(buf["o"].dtype)),
            "n": buf["n"].at[slot, tgt].add(ai),
            "max": jnp.maximum(buf["max"], need.astype(jnp.int32))}


def read(buf, k, D, start: int, n: int):
    """The events of step k of the targets in rows start .. start + n - 1: (weights, offsets, valid),
    each (n, C), in time order (decreasing offset; unused places last, weight 0, offset -1)."""
    slot = (k % D).astype(jnp.int32)
    start = jnp.int32(start)
    zero = jnp.int32(0)
    C = buf["w"].shape[2]
    w = jax.lax.dynamic_slice(buf["w"], (slot, start, zero), (1, n, C))[0]
    o = jax.lax.dynamic_slice(buf["o"], (slot, start, zero), (1, n, C))[0]
    cnt = jax.lax.dynamic_slice(buf["n"], (slot, start), (1, n))[0]
    valid = jnp.arange(C)[None, :] < jnp.minimum(cnt, C)[:, None]
    key = jnp.where(valid, o, -1.0)
    order = jnp.argsort(-key, axis=1, stable=True)
    take = lambda x: jnp.take_along_axis(x, order, axis=1)
    return take(jnp.where(valid, w, 0.0)), take(key), take(valid)


def clear(buf, k, D):
    """Empty slot k % D (read in step k)."""
    return {**buf, "n": buf["n"].at[k % D].set(0)}


def collapse(em):
    """A precise emission (fields (n_conn, M)) as the grid paths see it: per connection, the summed
    multiplicity, positive weight factors and negative ones (the offsets dropped)."""
    c = em.counts.sum(-1)
    if em.weighted is None:
        return em._replace(counts=c, negative=None, offsets=None)
    f = em.weighted
    return em._replace(counts=c, weighted=jnp.where(f >= 0, f, 0.0).sum(-1),
                       negative=jnp.where(f < 0, f, 0.0).sum(-1), offsets=None)


def check_capacity(plan, carry):
    """After a chunk: the error to raise if some target got more events in one step than the buffer holds."""
    if plan.precise is None:
        return None
    seen = int(carry["pbuf"]["max"])
    if seen <= plan.precise.C:
        return None
    return NestaxError(
        f"precise spike input: a neuron with precise spike timing received {seen} spikes from precise senders "
        f"in one step, more than Simulator.precise_capacity = {plan.precise.C} events per neuron and step; "
        f"set sim.precise_capacity to at least {seen} (e.g. {1 << int(np.ceil(np.log2(seen)))}) and simulate "
        "again (the state is that of the last completed chunk).")


def reslot(old: dict, new: dict, k: int, start_old: int, start_new: int, n: int):
    """Input in flight of one block kept across a rebuild: rows of ``old`` (D_old slots) into ``new``."""
    D_old, D_new = old["n"].shape[0], new["n"].shape[0]
    C = min(old["w"].shape[2], new["w"].shape[2])
    for j in range(D_old):
        so, sn = (k + j) % D_old, (k + j) % D_new
        new["w"][sn, start_new:start_new + n, :C] = old["w"][so, start_old:start_old + n, :C]
        new["o"][sn, start_new:start_new + n, :C] = old["o"][so, start_old:start_old + n, :C]
        new["n"][sn, start_new:start_new + n] = old["n"][so, start_old:start_old + n]
