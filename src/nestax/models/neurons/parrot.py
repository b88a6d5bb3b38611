"""parrot_neuron: repeats every spike it receives, with its multiplicity (NEST: parrot_neuron).

A spike arriving at t_a is re-emitted stamped t_a; weights are ignored, multiplicity is kept.
No parameters. Connections into a parrot must use port 0 (receptor_type 0); NEST's port 1 (spikes
ignored for STDP) behaves the same here, as nestax has no STDP on parrots yet.
"""
from __future__ import annotations

import jax.numpy as jnp

from ..base import Model
from ..registry import register


@register
class parrot_neuron(Model):
    """Re-emits each incoming spike at its arrival time, keeping multiplicity, ignoring weight."""

    name = "parrot_neuron"
    kind = "neuron"
    ports = ("spikes",)
    parameters = {}
    state = {}
    counts_input = True
    weight_unit = "any"  # the engine delivers spike counts (multiplicity), not weights

    @classmethod
    def recordables(cls):
        return ()

    @classmethod
    def prepare(cls, p, dt):
        return {}

    @classmethod
    def update(cls, p, d, s, syn, I):
        return s, jnp.round(syn[0]).astype(jnp.int32)
