"""parrot_neuron: repeats every spike it receives, with its multiplicity (NEST: parrot_neuron).

A spike arriving at t_a is re-emitted stamped t_a; weights are ignored, multiplicity is kept.
No parameters of its own. Two receptors, as in NEST: spikes on receptor_type 0 are repeated;
spikes on receptor_type 1 are accepted and dropped (NEST's port for driving STDP between parrots
without the parrot re-emitting the driving spikes). Any other receptor_type is refused at connect.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..base import Neuron
from ..common import route_one_port
from ..registry import register


@register
class parrot_neuron(Neuron):
    """Re-emits each incoming spike at its arrival time, keeping multiplicity, ignoring weight."""

    name = "parrot_neuron"
    kind = "neuron"
    ports = ("spikes", "ignored")  # receptor 0: repeated; receptor 1: dropped
    parameters = {}
    state = {}
    counts_input = True
    weight_unit = "any"  # the engine delivers spike counts (multiplicity), not weights

    @classmethod
    def recordables(cls):
        return ()

    @classmethod
    def receptor_range(cls, p):
        return (0, 1)

    @classmethod
    def route(cls, weights, receptor_type):
        # receptor_type r -> port r (0: repeated, 1: ignored); multiplicity only, the weight is unused
        port, scale = route_one_port(weights)
        return np.broadcast_to(np.asarray(receptor_type, int), port.shape).copy(), scale

    @classmethod
    def prepare(cls, p, dt):
        return {}

    @classmethod
    def update(cls, p, d, s, syn, I):
        return s, jnp.round(syn[0]).astype(jnp.int32)
