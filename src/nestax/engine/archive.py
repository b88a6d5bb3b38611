"""The postsynaptic spike archive (NEST's archiving node) of neurons targeted by plastic synapses.

Every neuron population that receives a plastic synapse whose model reads the archive
(``Synapse.uses_post_archive``) keeps, per neuron, its last ``history`` spike stamps (steps) and the
values of its traces K_minus and K_minus_triplet just after each of them, the current traces and
the time of the last spike, and the stamp of the newest spike that has left the history (to detect a
history too short). The traces decay with the neuron's own parameters ``tau_minus`` and
``tau_minus_triplet`` (NEST: neuron parameters, not synapse parameters) and jump by the spike's
multiplicity.

Arrays (per population of n neurons, history P): ``t`` (n, P) int stamps, oldest first (NEVER: no
spike); ``K`` (n, P) K_minus after each; ``Kt`` (n, P) K_minus_triplet after each; ``Kminus``,
``Kminus_triplet`` (n,); ``t_last`` (n,) ms of the last spike (-1: none); ``t_drop`` (n,) newest
dropped stamp (NEVER: none). A synapse's ``transmit`` also sees ``tau_minus_inv`` and
``tau_minus_triplet_inv`` (n,).
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
    return {"t": np.full((n, history), NEVER, np.int64), "K": np.zeros((n, history)), "Kt": np.zeros((n, history)),
            "Kminus": np.zeros(n), "Kminus_triplet": np.zeros(n), "t_last": np.full(n, -1.0),
            "t_drop": np.full(n, NEVER, np.int64)}


def rates(params) -> dict:
    """The inverse time constants of a population's traces, from its parameters."""
    return {"tau_minus_inv": 1.0 / params["tau_minus"], "tau_minus_triplet_inv": 1.0 / params["tau_minus_triplet"]}


def record(h, spk, k, inv, tics_per_step, dtype):
    """Add this step's spikes (stamp k + 1, multiplicity ``spk``) to the archive ``h``; ``inv``: the
    population's :func:`rates`."""
    fired = spk > 0
    f2 = fired[:, None]
    t_sp = k + 1
    t_ms = ms(jnp.asarray(t_sp), tics_per_step, dtype)

    def jump(trace, tau_inv):
        new = trace * jnp.exp((h["t_last"] - t_ms) * tau_inv) + 1.0 + (spk - 1).astype(dtype)
        return jnp.where(fired, new, trace)

    def push(hist, new):
        return jnp.where(f2, jnp.concatenate([hist[:, 1:], new[:, None].astype(hist.dtype)], axis=1), hist)

    km = jump(h["Kminus"], inv["tau_minus_inv"])
    kt = jump(h["Kminus_triplet"], inv["tau_minus_triplet_inv"])
    return {"t": push(h["t"], jnp.full_like(h["t"][:, 0], t_sp)), "K": push(h["K"], km), "Kt": push(h["Kt"], kt),
            "Kminus": km, "Kminus_triplet": kt, "t_last": jnp.where(fired, t_ms, h["t_last"]),
            "t_drop": jnp.where(fired, jnp.maximum(h["t_drop"], h["t"][:, 0]), h["t_drop"])}
