"""Per-step history of declared neuron state variables (NEST's Clopath archiving node keeps the LTP and
LTD values of every step; a synapse reads those between two of its presynaptic spikes).

A neuron model declares ``step_history`` (names of state variables it computes every step); a
synapse declares ``uses_step_history`` (the names it reads). For every neuron block targeted by such
a synapse the engine keeps, per declared variable, an (n, L) ring: after the update of step k the
values stamped k + 1 go to column (k + 1) % L. A reader at step k finds stamp s (k + 2 - L <= s <= k + 1)
in column s % L; a stamp older than that has been overwritten, and a synapse whose window reaches
that far back reports an overflow (``Simulator.step_history`` sets L).

Cost: 8 bytes x L x (declared variables) per neuron of such a block in the run state (L = 2048, two
variables: 32 KiB per neuron), one column written per step, and a synapse update reads the whole
row of its target (~L operations per transmitted spike and connection).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

HISTORY = 2048  # default of Simulator.step_history (steps)


def empty(n: int, names, length: int) -> dict:
    """A host-side history with no entries (0 everywhere)."""
    return {v: np.zeros((n, length)) for v in names}


def record(h: dict, state: dict, k):
    """Write the values after step k (stamp k + 1) of the block's ``state`` into its history ``h``."""
    out = {}
    for v, ring in h.items():
        col = ((k + 1) % ring.shape[1]).astype(jnp.int32)
        out[v] = jax.lax.dynamic_update_slice(ring, state[v].astype(ring.dtype)[:, None], (jnp.int32(0), col))
    return out


def in_time_order(rows, k):
    """``rows`` (m, L) of a history read at step k, reordered oldest first: column j then holds stamp
    k + 2 - L + j. Returns (rows, stamps)."""
    L = rows.shape[1]
    j = jnp.arange(L)
    return jnp.take(rows, (k + 2 + j) % L, axis=1), k + 2 - L + j


def blocks(plan_projections) -> list:
    """The target blocks whose history the run keeps, and for each the variables read."""
    need = {}
    for pp in plan_projections:
        if pp.synapse is not None and pp.synapse.uses_step_history:
            need.setdefault(pp.tgt_block, set()).update(pp.synapse.uses_step_history)
    return {b: tuple(sorted(v)) for b, v in sorted(need.items())}
