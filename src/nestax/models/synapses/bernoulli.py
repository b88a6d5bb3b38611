"""bernoulli_synapse: a static connection whose spikes are transmitted at random (NEST: bernoulli_synapse).

Each presynaptic spike is transmitted with probability ``p_transmit``, independently of every other
spike and connection (a spike of multiplicity m is m independent trials, as NEST unrolls it); a
transmitted spike delivers ``weight`` to the target, a failed one nothing. The weight never changes.

Parameters (NEST's defaults): weight (1, in the target's unit), delay (1 ms), receptor_type (0),
p_transmit (1, in [0, 1]).

Engine representation: a synapse with per-spike work (``plastic`` in the protocol's sense, so its
connections are visited when their source spikes, event-driven for large projections) and
``stochastic``: ``transmit`` draws one uniform number per connection from the key of the step.
The numbers differ from NEST's (another generator); the statistics are the same.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..base import Param, Synapse, connection_params
from ..registry import register
from ...errors import BadParameterError


@register
class bernoulli_synapse(Synapse):
    """Static synapse with stochastic transmission (each spike with probability p_transmit)."""

    name = "bernoulli_synapse"
    plastic = True
    stochastic = True
    parameters = {**connection_params(), "p_transmit": Param(1.0, "1", "Transmission probability, in [0, 1]")}

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        p = np.asarray(params["p_transmit"], float).reshape(-1)
        bad = (p < 0) | (p > 1)
        if np.any(bad):
            raise BadParameterError(f"{cls.name}: parameter 'p_transmit' = {p[bad][0]} is invalid; expected a "
                                    "value in [0, 1].")

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step, key):
        u = jax.random.uniform(key, cnt.shape, dtype=s["weight"].dtype)
        sent = (cnt > 0) & (u < a["p_transmit"])
        return s, jnp.where(sent, s["weight"], 0.0), jnp.zeros((), bool)
