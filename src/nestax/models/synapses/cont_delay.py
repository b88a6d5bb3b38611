"""cont_delay_synapse: a static connection whose delay need not be a multiple of the resolution
(NEST: cont_delay_synapse).

NEST splits a delay d that is not a whole number of steps h into ceil(d / h) steps and an offset
ceil(d / h) h - d that precise-timing neurons subtract from the spike's arrival; neurons on the grid
(every neuron model nestax has so far) ignore the offset, so for them the spike arrives ceil(d / h)
steps after it was sent. What NEST 3.10 does, measured:

- ``connect(..., delay=d)``: the delay is rounded to the nearest step as for static_synapse (NEST's
  connection builder converts it before the synapse sees it), and reads back rounded;
- ``connections(...).set(delay=d)``: the continuous rule above; the delay reads back as d.

Parameters: weight (1, in the target's unit), delay (ms, 1.0), receptor_type (0). The weight never
changes. The offset for precise-timing targets comes with those models (NEST's ``_ps`` neurons).
"""
from __future__ import annotations

import numpy as np

from ..registry import register
from .static import static_synapse


@register
class cont_delay_synapse(static_synapse):
    """A static synapse whose delay, set between runs, may lie between grid points."""

    name = "cont_delay_synapse"

    @classmethod
    def continuous_delay(cls, dms, dt):
        """Steps of a delay set on existing connections: whole steps stay, others round up (the
        remainder is the offset a precise-timing target would use). Returns (steps, delay in ms)."""
        x = np.asarray(dms, float) / dt
        whole = np.abs(x - np.round(x)) < 1e-9 * np.maximum(1.0, np.abs(x))
        return np.where(whole, np.round(x), np.floor(x) + 1).astype(np.int64), np.asarray(dms, float)
