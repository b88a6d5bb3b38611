"""PyNEST's ``nest.voltage_trace``: ``from_device(voltmeter)`` draws the membrane potential a voltmeter
or multimeter accumulated, one line per neuron (nestax.plot.voltage_trace)."""
from __future__ import annotations

import numpy as np

from ._kernel import KERNEL


def from_device(detec, neurons=None, title=None, grayscale=False, timeunit="ms"):
    from ..plot import voltage_trace_events
    if len(detec) != 1:
        raise ValueError("nest.voltage_trace.from_device: pass one voltmeter or multimeter.")
    ev = KERNEL.events_of(detec)
    if "V_m" not in ev:
        raise Exception("No V_m recorded!" if len(ev["times"]) == 0 else "The device records no V_m.")
    import matplotlib.pyplot as plt
    keep = None if neurons is None else np.asarray(getattr(neurons, "_gids", neurons))
    # NEST draws into the current axes, so consecutive calls overlay their traces
    return voltage_trace_events(np.asarray(ev["times"], float), np.asarray(ev["senders"]), np.asarray(ev["V_m"], float),
                                keep=keep, title=title, grayscale=grayscale, ax=plt.gca())


def show():
    import matplotlib.pyplot as plt
    plt.show()
