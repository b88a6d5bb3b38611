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
    with ``hist``, a PSTH panel below: spikes per bin of ``hist_binwidth`` ms from the first spike on,
    as a rate per neuron that spiked (spks/s), NEST's bins (:func:`psth`), layout and normalisation.
    Returns (raster Axes, histogram Axes) with ``hist``, else the raster Axes."""
    ev = res.events(sr)
    t, s = _ms(ev["times"]), np.asarray(ev["senders"])
    if len(t) == 0:
        from .errors import RecorderError
        raise RecorderError("raster_plot: the spike_recorder recorded no spikes in this window (NEST: 'No events "
                            "recorded!').")
    return raster_plot_events(t, s, hist, hist_binwidth, grayscale,
                              title or f"Raster plot from device '{int(getattr(sr, '_gids', [sr])[0])}'", xlabel, fig)


def psth(t, s, hist_binwidth=5.0):
    """NEST's raster_plot PSTH: bins start at the first spike, every ``hist_binwidth`` ms, up to (not
    including) the last spike time; bin k counts the spikes with edge_k <= t < edge_k+1, and the last
    bin every spike from its edge on (the last spike included). Heights in spikes per second per
    neuron that spiked. Returns (left edges, heights)."""
    t = np.asarray(t, float)
    edges = np.arange(np.amin(t), np.amax(t), float(hist_binwidth))
    ts = np.sort(t)
    n = np.diff(np.append(ts.searchsorted(edges), len(ts)))
    return edges, 1000.0 * n / (hist_binwidth * len(np.unique(s)))


def raster_plot_events(t, s, hist=True, hist_binwidth=5.0, grayscale=False, title=None, xlabel=None, fig=None):
    """:func:`raster_plot` of spike times ``t`` (ms) and senders ``s`` (arrays of equal length)."""
    import matplotlib.pyplot as plt
    t, s = np.asarray(t, float), np.asarray(s)
    color = "k" if grayscale else "C0"  # NEST: '.k' / '.' (matplotlib's first colour)
    fig = fig or plt.figure()
    if hist:
        ax1 = fig.add_axes([0.1, 0.3, 0.85, 0.6])
        ax1.plot(t, s, ".", color=color)
        ax1.set_ylabel("Neuron ID")
        ax1.set_xticks([])
        ax2 = fig.add_axes([0.1, 0.1, 0.85, 0.17])
        edges, heights = psth(t, s, hist_binwidth)
        # NEST draws each bar centred on its left edge (matplotlib's default alignment)
        ax2.bar(edges, heights, width=hist_binwidth, color="gray" if grayscale else "blue", edgecolor="black")
        ax2.set_yticks([int(x) for x in np.linspace(0.0, int(max(heights, default=0) * 1.1) + 5, 4)])
        ax2.set_ylabel("Rate (spks/s)")
        ax2.set_xlabel(xlabel or "Time (ms)")
        ax2.set_xlim(ax1.get_xlim())
        axes = (ax1, ax2)
    else:
        ax1 = fig.add_subplot(111)
        ax1.plot(t, s, ".", color=color)
        ax1.set_ylabel("Neuron ID")
        ax1.set_xlabel(xlabel or "Time (ms)")
        axes = ax1
    ax1.set_title(title or "Raster plot")
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
    return _label_trace(ax, var, "Membrane potential (mV)" if var == "V_m" else f"{var} ({u.get_unit(y)})", title)


def _label_trace(ax, var, ylabel, title):
    ax.set_xlabel("Time (ms)")
    ax.set_ylabel(ylabel)
    ax.set_title(title or ("Membrane potential" if var == "V_m" else var))
    ax.legend(loc="best")
    return ax


def voltage_trace_events(times, senders, v_m, keep=None, title=None, grayscale=False, ax=None):
    """:func:`voltage_trace` of NEST-style events (times in ms, senders, V_m in mV, one row per sample)."""
    ax = _axes(ax)
    times, senders, v_m = np.asarray(times, float), np.asarray(senders), np.asarray(v_m, float)
    for g in np.unique(senders):
        if keep is None or g in keep:
            sel = senders == g
            ax.plot(times[sel], v_m[sel], color="k" if grayscale else None, label=f"Neuron {int(g)}")
    return _label_trace(ax, "V_m", "Membrane potential (mV)", title)


# ----------------------------------------------------------------------------- correlation detectors
def correlation(res, det, what=None, ax=None, fig=None, **kw):
    """Histogram of a correlation detector's output over the time lags, as a bar chart (one bar per
    bin, centred on its lag, width delta_tau). Named after the detectors' common NEST family
    (correlation_detector, correlomatrix_detector, correlospinmatrix_detector): NEST has no plot for
    them, and "correlation" says what is drawn for all three.

    * correlation_detector: ``histogram`` (or ``what="count_histogram"``) over lags -tau_max ..
      tau_max (lag = t(receptor 1) - t(receptor 0)); returns the Axes.
    * correlomatrix_detector: a grid of N_channels x N_channels Axes, panel [i][j] the
      ``covariance`` (or ``count_covariance``) of channels i, j over lags 0 .. tau_max.
    * correlospinmatrix_detector: the same grid of ``count_covariance`` over lags -tau_max ..
      tau_max.

    The values are the detector's accumulated outputs at the end of ``res``'s window (``res.get``).
    Returns the Axes, or a 2-D array of Axes for the matrix detectors."""
    r = res._get(det, "detector")
    model, bins = r["model"], r.get("bins", {})
    if "delta_tau" not in bins:
        from .errors import RecorderError
        raise RecorderError(f"nx.plot.correlation: {model} is not a correlation detector (expected "
                            "correlation_detector, correlomatrix_detector or correlospinmatrix_detector).")
    D, T = bins["delta_tau"], bins["tau_max"]
    default = {"correlation_detector": "histogram", "correlomatrix_detector": "covariance",
               "correlospinmatrix_detector": "count_covariance"}[model]
    name = what or default
    h = np.asarray(res.get(det, name), float)
    lags = correlation_lags(model, D, T)
    color = kw.pop("color", "C0")
    if h.ndim == 1:
        ax = _axes(ax)
        ax.bar(lags, h, width=D, color=color, edgecolor="black", **kw)
        ax.set_xlabel("time lag (ms)")
        ax.set_ylabel(name)
        ax.set_title(f"{model} {int(getattr(det, '_gids', [det])[0])}")
        return ax
    import matplotlib.pyplot as plt
    n = h.shape[0]
    fig = fig or plt.figure(figsize=(2.5 * n + 1, 2.0 * n + 1))
    axes = np.array(fig.subplots(n, n, squeeze=False, sharex=True))
    for i in range(n):
        for j in range(n):
            a = axes[i, j]
            a.bar(lags, h[i, j], width=D, color=color, edgecolor="black", **kw)
            a.set_title(f"[{i}][{j}]", fontsize="small")
            if i == n - 1:
                a.set_xlabel("time lag (ms)")
            if j == 0:
                a.set_ylabel(name)
    fig.suptitle(f"{model} {int(getattr(det, '_gids', [det])[0])}")
    return axes


def correlation_lags(model, delta_tau, tau_max):
    """The lag (ms) at the centre of each bin of a correlation detector's output."""
    k = int(round(tau_max / delta_tau))
    if model == "correlomatrix_detector":
        return np.arange(k + 1) * delta_tau
    return np.arange(-k, k + 1) * delta_tau
