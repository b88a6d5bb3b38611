"""Quick plots of a Result (matplotlib, optional): raster and traces. Each returns the Axes."""
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
