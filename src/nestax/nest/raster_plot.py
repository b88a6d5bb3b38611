"""PyNEST's ``nest.raster_plot``: ``from_device(spike_recorder, hist=False, ...)`` draws the events a
spike recorder accumulated (NEST's raster with its PSTH panel: nestax.plot.raster_plot)."""
from __future__ import annotations

import numpy as np

from ._kernel import KERNEL


def _events(detec):
    if len(detec) != 1:
        raise ValueError("nest.raster_plot.from_device: pass one spike_recorder.")
    if detec._sim._net.block_of(int(detec._gids[0])).model.name != "spike_recorder":
        raise ValueError("nest.raster_plot.from_device: the device must be a spike_recorder, got "
                         f"{detec._sim._net.block_of(int(detec._gids[0])).model.name}.")
    g = int(detec._gids[0])
    if KERNEL.filenames.get(g):  # record_to 'ascii': NEST's raster_plot reads the files
        ev = _read_files(KERNEL.filenames[g])
    else:
        ev = KERNEL.events_of(detec)
    if not len(ev["times"]):
        raise Exception("No events recorded!")  # NEST's message
    return ev


def _read_files(names):
    """senders and times (ms) from NEST-layout ascii files: '#' comment lines, a column header, rows."""
    rows = []
    for name in names:
        with open(name) as fh:
            lines = [ln for ln in fh if ln.strip() and not ln.startswith("#")]
        if lines:
            rows.append(np.loadtxt(lines[1:], ndmin=2) if len(lines) > 1 else np.zeros((0, 2)))
    data = np.concatenate(rows) if rows else np.zeros((0, 2))
    return {"senders": data[:, 0].astype(np.int64), "times": data[:, 1]}


def from_device(detec, **kwargs):
    """Raster plot (and PSTH with ``hist=True``) of a spike recorder's events since its last clear.
    Keywords as NEST: hist, hist_binwidth, grayscale, title, xlabel."""
    from ..plot import raster_plot_events
    ev = _events(detec)
    return raster_plot_events(np.asarray(ev["times"], float), np.asarray(ev["senders"]), **kwargs)


def from_data(data, sel=None, **kwargs):
    """Raster plot of a (n, 2) array of (sender, time) rows, as NEST's raster_plot.from_data."""
    from ..plot import raster_plot_events
    data = np.asarray(data)
    return raster_plot_events(data[:, 1].astype(float), data[:, 0], **kwargs)


def show():
    import matplotlib.pyplot as plt
    plt.show()
