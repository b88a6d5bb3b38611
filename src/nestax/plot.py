"""Quick plots of a Result (matplotlib, optional): raster and traces, and NEST's raster_plot (with its
PSTH panel) and voltage_trace. Each returns its Axes."""
from __future__ import annotations

import numpy as np


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots()
    return ax


def raster(res, sr, ax=None, **kw):
    """Raster plot of the spikes recorded by ``sr``: time (ms) against sender id."""
    ax = _axes(ax)
    ev = res.events(sr)
    t = np.asarray(ev["times"].to_decimal(__import__("brainunit").ms)) if hasattr(ev["times"], "to_decimal") \
        else np.asarray(ev["times"])
    ax.plot(t, ev["senders"], "|", color=kw.pop("color", "k"), **kw)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("sender id")
    return ax


def trace(res, mm, var="V_m", ax=None, **kw):
    """Plot the samples of ``var`` recorded by ``mm`` against time, one line per target."""
    import brainunit as u
    ax = _axes(ax)
    t = np.asarray(res.trace_times(mm).to_decimal(u.ms))
    y = res.trace(mm, var)
    unit = u.get_unit(y)
    vals = np.asarray(u.get_mantissa(y))
    ax.plot(t, vals, **kw)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(f"{var} ({unit})" if str(unit) not in ("", "1") else var)
    return ax


def _ms(q):
    import brainunit as u
    return np.asarray(q.to_decimal(u.ms)) if hasattr(q, "to_decimal") else np.asarray(q, float)


def raster_plot(res, sr, hist=True, hist_binwidth=5.0, grayscale=False, title=None, xlabel=None, fig=None):
    """NEST's ``raster_plot.from_device(sr, hist=True)`` from a Result: dots (time, sender id) and,
    with ``hist``, a PSTH panel below: spikes per bin of ``hist_binwidth`` ms from the first to the
    last spike, as a rate per neuron that spiked (Hz), NEST's layout and normalisation. Returns
    (raster Axes, histogram Axes) with ``hist``, else the raster Axes."""
    import matplotlib.pyplot as plt
    ev = res.events(sr)
    t, s = _ms(ev["times"]), np.asarray(ev["senders"])
    if len(t) == 0:
        from .errors import RecorderError
        raise RecorderError("raster_plot: the spike_recorder recorded no spikes in this window (NEST: 'No events "
                            "recorded!').")
    color = "k" if grayscale else "b"
    fig = fig or plt.figure()
    if hist:
        ax1 = fig.add_axes([0.1, 0.3, 0.85, 0.6])
        ax1.plot(t, s, ".", color=color)
        ax1.set_ylabel("Neuron ID")
        ax1.set_xticks([])
        ax2 = fig.add_axes([0.1, 0.1, 0.85, 0.17])
        bins = np.arange(np.amin(t), np.amax(t), float(hist_binwidth))
        if len(bins) < 2:
            bins = np.array([np.amin(t), np.amin(t) + float(hist_binwidth)])
        n, edges = np.histogram(t, bins=bins)
        heights = 1000.0 * n / (hist_binwidth * len(np.unique(s)))
        ax2.bar(edges[:-1], heights, width=hist_binwidth, align="edge", color="0.5" if grayscale else "b",
                edgecolor="black")
        ax2.set_yticks([int(x) for x in np.linspace(0.0, int(max(heights) * 1.1) + 5, 4)])
        ax2.set_ylabel("Rate (Hz)")
        ax2.set_xlabel(xlabel or "Time (ms)")
        ax2.set_xlim(ax1.get_xlim())
        axes = (ax1, ax2)
    else:
        ax1 = fig.add_subplot(111)
        ax1.plot(t, s, ".", color=color)
        ax1.set_ylabel("Neuron ID")
        ax1.set_xlabel(xlabel or "Time (ms)")
        axes = ax1
    ax1.set_title(title or f"Raster plot from device '{int(getattr(sr, '_gids', [sr])[0])}'")
    return axes


def voltage_trace(res, mm, var="V_m", nodes=None, title=None, grayscale=False, ax=None):
    """NEST's ``voltage_trace.from_device(voltmeter)`` from a Result: one line per recorded node
    (label 'Neuron <id>'), 'Membrane potential (mV)' against 'Time (ms)'. Returns the Axes."""
    import brainunit as u
    ax = _axes(ax)
    t = _ms(res.trace_times(mm))
    y = res.trace(mm, var)
    vals = np.asarray(y.to_decimal(u.mV)) if var == "V_m" else np.asarray(u.get_mantissa(y))
    targets = res.targets(mm)
    keep = targets if nodes is None else np.asarray(getattr(nodes, "_gids", nodes))
    for j, g in enumerate(targets):
        if g in keep:
            ax.plot(t, vals[:, j], color="k" if grayscale else None, label=f"Neuron {int(g)}")
    ax.set_xlabel("Time (ms)")
    ax.set_ylabel("Membrane potential (mV)" if var == "V_m" else f"{var} ({u.get_unit(y)})")
    ax.set_title(title or ("Membrane potential" if var == "V_m" else var))
    ax.legend(loc="best")
    return ax
