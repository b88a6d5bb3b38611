"""The postsynaptic spike archive (NEST's archiving node) of neurons targeted by plastic synapses.

Every neuron population that receives a plastic synapse whose model reads the archive
(``Synapse.uses_post_archive``) keeps, per neuron, its last ``history`` spike stamps (steps) and the
value of its trace K_minus just after each of them, the current K_minus and the time of the last
spike, and the stamp of the newest spike that has left the history (to detect a history too short).
The trace decays with the neuron's own parameter ``tau_minus`` (NEST: a neuron parameter, not a
synapse parameter) and jumps by the spike's multiplicity.

Arrays (per population of n neurons, history P): ``t`` (n, P) int stamps, oldest first (NEVER: no
spike); ``K`` (n, P) K_minus after each; ``Kminus`` (n,); ``t_last`` (n,) ms of the last spike (-1:
none); ``t_drop`` (n,) newest dropped stamp (NEVER: none).
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

HISTORY = 64        # default of Simulator.stdp_history
NEVER = -(2 ** 30)  # "no spike" stamp, in steps


def ms(steps, tics_per_step, dtype):
    """Time in ms of a step count, as NEST's Time::get_ms computes it (tics * 0.001)."""
    return jnp.asarray(steps).astype(dtype) * tics_per_step * 0.001


def empty(n: int, history: int) -> dict:
    """A host-side archive with no spikes."""
    return {"t": np.full((n, history), NEVER, np.int64), "K": np.zeros((n, history)), "Kminus": np.zeros(n),
            "t_last": np.full(n, -1.0), "t_drop": np.full(n, NEVER, np.int64)}


def record(h, spk, k, tau_minus_inv, tics_per_step, dtype):
    """Add this step's spikes (stamp k + 1, multiplicity ``spk``) to the archive ``h``."""
    fired = spk > 0
    t_sp = k + 1
    t_ms = ms(jnp.asarray(t_sp), tics_per_step, dtype)
    km = h["Kminus"] * jnp.exp((h["t_last"] - t_ms) * tau_minus_inv) + 1.0 + (spk - 1).astype(dtype)
    km = jnp.where(fired, km, h["Kminus"])
    f2 = fired[:, None]
    ht = jnp.where(f2, jnp.concatenate([h["t"][:, 1:], jnp.full_like(h["t"][:, :1], t_sp)], axis=1), h["t"])
    hk = jnp.where(f2, jnp.concatenate([h["K"][:, 1:], km[:, None]], axis=1), h["K"])
    return {"t": ht, "K": hk, "Kminus": km, "t_last": jnp.where(fired, t_ms, h["t_last"]),
            "t_drop": jnp.where(fired, jnp.maximum(h["t_drop"], h["t"][:, 0]), h["t_drop"])}
