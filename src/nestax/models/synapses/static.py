"""static_synapse: fixed weight and delay (NEST: static_synapse).

Parameters: weight (1, in the target's unit: pA for current-based, nS for conductance-based,
mV for iaf_psc_delta), delay (ms, 1.0, >= the resolution; rounded to the nearest step as NEST does),
receptor_type (0; the target's port for multi-receptor models).
"""
from __future__ import annotations

from ..base import Synapse, connection_params
from ..registry import register


@register
class static_synapse(Synapse):
    """A connection with a fixed weight and delay."""

    name = "static_synapse"
    parameters = {
        **connection_params(),
    }


@register
class static_synapse_hom_w(static_synapse):
    """A static synapse whose weight is one value for all its connections (NEST: static_synapse_hom_w).

    Set that weight as NEST does, ``sim.set_defaults("static_synapse_hom_w", weight=...)`` (it then
    changes for existing connections too), or give it at the first connect call; a later connect with
    another weight, or a per-connection weight (an array, a distribution), is an error. Delays and
    receptors are per connection, as in NEST.
    """

    name = "static_synapse_hom_w"
    homogeneous = ("weight",)
