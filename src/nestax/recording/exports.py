"""Exports of a :class:`Result`: pandas (NEST's events as a DataFrame), Neo (a Segment) and NWB
(spikes as units, traces as TimeSeries). Each library is imported when it is needed; a missing one
is an ImportError naming the pip extra that installs it (docs/recording_backends.md)."""
from __future__ import annotations

import importlib

import numpy as np

from ..errors import RecorderError

_EXTRA = {"pandas": "pandas", "neo": "neo", "quantities": "neo", "pynwb": "nwb"}


def need(module, what):
    """Import ``module`` for ``what`` or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        extra = _EXTRA.get(module, module)
        raise ImportError(f"{what} needs the package {module!r}, which is not installed: pip install "
                          f"'nestax[{extra}]' (or pip install {module}).") from e


def _plain(x):
    """Numbers of a Quantity in its (NEST) unit, or the array itself."""
    import brainunit as u
    return np.asarray(u.get_mantissa(x)) if isinstance(x, u.Quantity) else np.asarray(x)


def to_pandas(res, rec):
    pd = need("pandas", "res.to_pandas")
    r = res._get(rec, data=False)
    if r.get("record_to") == "ascii":
        from .backends import read_ascii
        return read_ascii(r["filename"])
    ev = res.events(rec)
    return pd.DataFrame({k: _plain(v) for k, v in ev.items()})


def _qunit(pq, unit: str):
    """A quantities unit for a nestax unit name (dimensionless when quantities does not know it)."""
    if unit in ("", "1", None):
        return pq.dimensionless
    try:
        return pq.Quantity(1.0, unit).units
    except Exception:  # pragma: no cover - an unusual unit name
        return pq.dimensionless


def to_neo(res, rec):
    neo = need("neo", "res.to_neo")
    pq = need("quantities", "res.to_neo")
    r = res._get(rec)
    g = int(getattr(rec, "_gids", [rec])[0])
    t0 = float(res.k0 * res.dt)
    t1 = float((res.k0 + res.n_steps) * res.dt)
    if r["kind"] == "spikes":
        seg = neo.Segment(name=f"spike_recorder {g}", description="nestax spike_recorder events")
        seg.annotate(recorder=g, dt_ms=res.dt)
        times = res.spike_times(rec)
        for s in r["senders"]:
            t = _plain(times[int(s)])
            st = neo.SpikeTrain(t, units="ms", t_start=t0 * pq.ms, t_stop=t1 * pq.ms, name=f"sender {int(s)}")
            st.annotate(sender=int(s), recorder=g)
            seg.spiketrains.append(st)
        return seg
    if r["kind"] == "samples":
        seg = neo.Segment(name=f"multimeter {g}", description="nestax multimeter samples")
        seg.annotate(recorder=g, dt_ms=res.dt)
        t = r["stamps"] * res.dt
        for var, vals in r["values"].items():
            unit = _qunit(pq, r["units"][var])
            ann = dict(name=var, array_annotations={"senders": np.asarray(r["targets"], np.int64)})
            d = np.diff(t)
            if len(t) >= 2 and np.allclose(d, d[0]):
                sig = neo.AnalogSignal(np.asarray(vals, float), units=unit, t_start=t[0] * pq.ms,
                                       sampling_period=d[0] * pq.ms, **ann)
            else:
                sig = neo.IrregularlySampledSignal(t * pq.ms, np.asarray(vals, float), units=unit, time_units="ms",
                                                   **ann)
            sig.annotate(recorder=g, variable=var, nest_unit=r["units"][var])
            seg.analogsignals.append(sig) if isinstance(sig, neo.AnalogSignal) \
                else seg.irregularlysampledsignals.append(sig)
        return seg
    raise RecorderError(f"res.to_neo: node {g} is a weight_recorder; Neo has no type for its events: use "
                        "res.to_pandas(wr).")


def to_nwb(res, path, recorders=None, *, session_description="nestax simulation", identifier=None,
           session_start_time=None):
    pynwb = need("pynwb", "res.to_nwb")
    import datetime
    import uuid
    nwb = pynwb.NWBFile(session_description=session_description, identifier=identifier or str(uuid.uuid4()),
                        session_start_time=session_start_time or datetime.datetime.now(datetime.timezone.utc))
    gids = res.recorders() if recorders is None else [int(getattr(x, "_gids", [x])[0]) for x in recorders]
    units_cols = False
    for g in gids:
        r = res._get(g, data=False)
        if r.get("record_to", "memory") != "memory" or r["kind"] == "weights":
            continue
        if r["kind"] == "spikes":
            if not units_cols:
                nwb.add_unit_column("sender", "global id of the sending node")
                nwb.add_unit_column("recorder", "global id of the spike_recorder")
                units_cols = True
            times = res.spike_times(g)
            for s in r["senders"]:
                nwb.add_unit(spike_times=_plain(times[int(s)]) / 1000.0, sender=int(s), recorder=int(g))
        else:
            t = r["stamps"] * res.dt / 1000.0
            for var, vals in r["values"].items():
                unit = r["units"][var]
                nwb.add_acquisition(pynwb.TimeSeries(
                    name=f"multimeter_{g}_{var}", data=np.asarray(vals, float), timestamps=t,
                    unit=unit if unit not in ("", "1") else "n.a.",
                    description=f"{var} of nodes {np.asarray(r['targets']).tolist()} (columns), sampled by "
                                f"multimeter {g}", comments=f"senders={np.asarray(r['targets']).tolist()}"))
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path
