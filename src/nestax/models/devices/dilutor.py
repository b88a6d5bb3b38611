"""spike_dilutor: repeats the spikes of a mother process to each target with probability p_copy
(NEST 3.10: spike_dilutor, deprecated there in favour of bernoulli_synapse).

NEST runs it as a node that receives spikes and sends them on, so nestax declares it as a
:class:`~nestax.models.base.Neuron` with ``thinned_by = "p_copy"`` (the engine thins each outgoing
connection's spikes independently) and ``device_window`` (its start / stop / origin window).
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..base import Neuron, Param
from ..registry import register


@register
class spike_dilutor(Neuron):
    """Repeats each spike of its mother process to each target with probability p_copy (NEST: spike_dilutor).

    The mother process is whatever is connected TO the dilutor (a poisson_generator, a
    spike_generator, neurons: ``sim.connect(gen, dil)``; weights are ignored, multiplicity is kept). A
    spike arriving at t_a (stamp + delay) is repeated stamped t_a; each of the dilutor's outgoing
    connections (a spike_recorder included) passes each repeated spike independently with
    probability p_copy, so the targets receive different trains (NEST 3.10 has no
    ``individual_spike_trains`` switch for this model: the trains are always independent). Spikes
    are repeated only in min_delay slices whose first step k0 satisfies origin+start < k0 <=
    origin+stop (NEST checks the window at each slice's origin), 0 <= p_copy <= 1.

    ============ ==== ======= ================================================
    p_copy       1    1.0     Probability that a target gets a copy of a spike
    start        ms   0       Activation time, relative to origin
    stop         ms   inf     Deactivation time, relative to origin
    origin       ms   0       Time origin of start and stop
    ============ ==== ======= ================================================

    No recordables. Several spike_recorders of one dilutor see the same thinned copy (NEST: each
    its own).
    """

    name = "spike_dilutor"
    ports = ("spikes",)
    parameters = {
        "p_copy": Param(1.0, "1", "Copy probability"),
        "start": Param(0.0, "ms", "Activation time, relative to origin"),
        "stop": Param(np.inf, "ms", "Deactivation time, relative to origin"),
        "origin": Param(0.0, "ms", "Time origin of start and stop"),
    }
    state = {}
    counts_input = True
    weight_unit = "any"  # the dilutor counts the spikes it receives
    archiving = False    # NEST: a stimulation device, not an archiving node
    stochastic = True
    thinned_by = "p_copy"
    device_window = True

    @classmethod
    def recordables(cls):
        return ()

    @classmethod
    def check(cls, p):
        cls._require(p, "p_copy", (np.asarray(p["p_copy"]) >= 0) & (np.asarray(p["p_copy"]) <= 1),
                     "a probability in [0, 1]")
        cls._require(p, "stop", np.asarray(p["stop"]) >= np.asarray(p["start"]), "stop >= start")

    @classmethod
    def check_grid(cls, p, dt):
        cls._on_grid(p, dt, "start", "stop", inf_ok=True)
        cls._on_grid(p, dt, "origin")

    @classmethod
    def prepare(cls, p, dt):
        return {"t_lo": jnp.round((p["origin"] + p["start"]) / dt),
                "t_hi": jnp.where(jnp.isfinite(p["stop"]), jnp.round((p["origin"] + p["stop"]) / dt), jnp.inf)}

    @classmethod
    def update(cls, p, d, s, syn, I, key, step):
        k, m = step
        k0 = (k // m) * m  # the origin of this min_delay slice
        on = (k0 > d["t_lo"]) & (k0 <= d["t_hi"])
        return s, jnp.where(on, jnp.round(syn[0]), 0.0).astype(jnp.int32)
