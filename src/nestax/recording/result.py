"""Result of one ``simulate`` call: the recordings of that window and ways to read them.

Time grid: ``times[k] = t0 + k*dt`` for k = 0 .. n_steps-1, where t0 is the time the call started.
Row k of ``spikes(sr)`` holds the spikes NEST stamps at ``times[k]``; in the first window the row
index therefore equals NEST's ``time_in_steps``. A spike stamped exactly at the window's end
t0 + n_steps*dt belongs to this window's ``events``/``n_events``/``rate`` (NEST's spike_recorder is
complete up to and including T), but it has no row in this window's matrix: it appears in row 0 of
the next window's ``spikes`` matrix. Row 0 of the first window is always empty (no spike is stamped
at t = 0).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import brainunit as u
import numpy as np

from ..errors import RecorderError

_KIND_WORDS = {"spikes": "a spike_recorder", "samples": "a multimeter or voltmeter", "weights": "a weight_recorder",
               "detector": "a correlation detector or spin_detector"}


def _gid(node, what="recorder"):
    from ..nodes import NodeCollection
    if isinstance(node, NodeCollection):
        if len(node) != 1:
            raise RecorderError(f"pass a single {what} (a NodeCollection of one node); got {len(node)} nodes.")
        return int(node._gids[0])
    if isinstance(node, (int, np.integer)):
        return int(node)
    raise RecorderError(f"expected a {what} (the NodeCollection returned by sim.create) or its global id, "
                        f"got {node!r}.")


class Result:
    def __init__(self, dt: float, k0: int, n_steps: int, records: dict, owner=None):
        self.dt = dt
        self.k0 = k0
        self.n_steps = n_steps
        self._rec = records
        self._owner = owner  # the Simulator whose recorders these are

    # -------------------------------------------------------------- time
    @property
    def times(self):
        """(n_steps,) Quantity: t0 + k*dt, the step grid of ``spikes``. Not the time of a multimeter's
        samples: those are ``trace_times(mm)`` (every ``interval``, from t0 + interval), also
        returned with the values by :meth:`sampled`."""
        return (self.k0 + np.arange(self.n_steps)) * self.dt * u.ms

    @property
    def t_start(self):
        return self.k0 * self.dt * u.ms

    @property
    def duration(self):
        return self.n_steps * self.dt * u.ms

    def _get(self, rec, kind=None, data=True):
        """The record of ``rec``; ``data``: its events are needed (an error for a recorder whose events
        went to a file or the screen)."""
        want = _KIND_WORDS.get(kind, "a recorder")
        if self._owner is not None and getattr(rec, "_sim", self._owner) is not self._owner:
            from ..errors import ForeignNodesError
            raise ForeignNodesError(f"{rec!r} belongs to another Simulator than this Result; read each "
                                    "simulator's recorders from its own Result.")
        g = _gid(rec, want.split(" ", 1)[1])
        if g not in self._rec:
            what = f" ({rec.model})" if hasattr(rec, "model") and rec.model else ""
            raise RecorderError(
                f"node {g}{what} is not a recorder of this result: expected {want} that was connected before "
                f"this simulate call (spike_recorder: sim.connect(neurons, sr); multimeter: sim.connect(mm, "
                f"neurons)). Recorders in this result: {sorted(self._rec) or 'none'}.")
        r = self._rec[g]
        if kind is not None and r["kind"] != kind:
            have = _KIND_WORDS[r["kind"]]
            hint = "use res.trace(mm, var) / res.trace_times(mm)" if r["kind"] == "samples" else \
                "use res.spikes / res.events / res.n_events / res.rate"
            raise RecorderError(f"node {g} is {have}, not {want}; {hint}.")
        if data and r.get("record_to", "memory") != "memory":
            where = f"the file {r['filename']!r}: read it with res.to_pandas(rec)" if r["record_to"] == "ascii" \
                else "the screen"
            raise RecorderError(f"{r['model']} {g} has record_to = {r['record_to']!r}: its {r['n_events']} events went "
                                f"to {where}, not to this Result; create it with record_to='memory' (the default) "
                                "to read them here.")
        return r

    def filename(self, rec):
        """The file a recorder with record_to='ascii' wrote in this window (NEST's ``filenames``)."""
        r = self._get(rec, data=False)
        if r.get("record_to") != "ascii":
            raise RecorderError(f"node {_gid(rec)} has record_to = {r.get('record_to', 'memory')!r}; only "
                                "record_to='ascii' writes a file.")
        return r["filename"]

    # -------------------------------------------------------------- exports
    def to_pandas(self, rec):
        """NEST's events of ``rec`` as a pandas DataFrame (columns senders, times in ms or steps, and the
        recorded values; weight_recorder: targets, weights, receptors, ports). A recorder with
        record_to='ascii': its file, read with NEST's header conventions (columns sender, time_ms, ...)."""
        from .exports import to_pandas
        return to_pandas(self, rec)

    def to_neo(self, rec):
        """The recordings of ``rec`` as a neo.Segment: one SpikeTrain per sender (spike_recorder) or one
        AnalogSignal per variable (multimeter), with units, sender ids as annotations."""
        from .exports import to_neo
        return to_neo(self, rec)

    def to_nwb(self, path, recorders=None, **nwb_kw):
        """Write the spikes (as NWB units) and traces (as TimeSeries) of this window to an NWB file."""
        from .exports import to_nwb
        return to_nwb(self, path, recorders, **nwb_kw)

    def recorders(self):
        """Global ids of the recorders in this result."""
        return sorted(self._rec)

    def recorder_kind(self, rec) -> str:
        """What ``rec`` recorded: 'spikes', 'samples' (multimeter), 'weights' or 'detector'."""
        return self._get(rec, data=False)["kind"]

    def records_in_memory(self, rec) -> bool:
        """True if the events of ``rec`` are in this Result (record_to 'memory'), not in a file or on screen."""
        return self._get(rec, data=False).get("record_to", "memory") == "memory"

    def writes_file(self, rec) -> bool:
        """True if ``rec`` wrote its events to a file (record_to 'ascii')."""
        return self._get(rec, data=False).get("record_to") == "ascii"

    def time_in_steps(self, rec) -> bool:
        """True if ``rec`` reports its times as steps (NEST's ``time_in_steps``)."""
        return bool(self._get(rec, data=False).get("time_in_steps", False))

    # -------------------------------------------------------------- spikes
    def senders(self, sr) -> np.ndarray:
        """Global ids of the nodes connected to ``sr``, the columns of ``spikes(sr)``."""
        return self._get(sr, "spikes")["senders"].copy()

    def spikes(self, sr) -> np.ndarray:
        """(n_steps, n_senders) spike counts per step (multiplicity kept); row k <-> times[k]."""
        r = self._get(sr, "spikes")
        senders = r["senders"]
        m = np.zeros((self.n_steps, len(senders)), np.int64)
        rows = r["stamps"] - self.k0
        keep = rows < self.n_steps
        cols = np.searchsorted(senders, r["gids"][keep])
        np.add.at(m, (rows[keep], cols), r["counts"][keep])
        if r["row0"] is not None and self.n_steps > 0:
            g, c = r["row0"]
            np.add.at(m, (np.zeros(len(g), int), np.searchsorted(senders, g)), c)
        return m

    def events(self, rec) -> dict:
        """NEST's event dict. spike_recorder: {'senders', 'times'} with one entry per spike (a spike of
        multiplicity m appears m times), sorted by time. multimeter: {'senders', 'times', var: ...}."""
        r = self._get(rec)
        if r["kind"] == "detector":
            if "events" in r:  # spin_detector: one event per decoded transition
                ev = r["events"]
                st = ev["stamps"]
                return {"senders": ev["senders"].copy(), "times": st.copy() if r["time_in_steps"] else st * self.dt * u.ms,
                        "state": ev["state"].copy()}
            return {k: np.copy(v) for k, v in r["outputs"].items()}
        if r["kind"] == "weights":
            times = r["stamps"].copy() if r["time_in_steps"] else r["stamps"] * self.dt * u.ms
            return {"senders": r["senders"].copy(), "targets": r["targets"].copy(), "times": times,
                    "weights": _q(r["weights"], r["unit"]), "receptors": r["receptors"].copy(),
                    "ports": r["ports"].copy()}
        if r["kind"] == "spikes":
            st = np.repeat(r["stamps"], r["counts"])
            snd = np.repeat(r["gids"], r["counts"])
            off = r.get("offsets")
            if off is not None and np.any(off):  # precise spike times: stamp - offset (NEST)
                off = np.repeat(off, r["counts"])
                if r["time_in_steps"]:  # NEST: 'times' in steps and 'offsets' in ms
                    return {"senders": snd, "times": st, "offsets": off * u.ms}
                return {"senders": snd, "times": (st * self.dt - off) * u.ms}
            times = st if r["time_in_steps"] else st * self.dt * u.ms
            return {"senders": snd, "times": times}
        n_t = len(r["stamps"])
        targets = r["targets"]
        st = np.repeat(r["stamps"], len(targets))
        out = {"senders": np.tile(targets, n_t), "times": st if r.get("time_in_steps") else st * self.dt * u.ms}
        for var, vals in r["values"].items():
            out[var] = _q(vals.reshape(-1), r["units"][var])
        return out

    def get(self, rec, name):
        """An output of a correlation detector accumulated up to the end of this window, by NEST's name
        (NEST: ``nest.GetStatus(cd, name)``): correlation_detector: histogram, histogram_correction,
        count_histogram, n_events; correlomatrix_detector: covariance, count_covariance, n_events."""
        r = self._get(rec, "detector")
        if name not in r["outputs"]:
            from ..errors import did_you_mean
            raise RecorderError(f"{r['model']} has outputs {list(r['outputs'])}, not {name!r}."
                                f"{did_you_mean(name, r['outputs'])}")
        return np.copy(r["outputs"][name])

    def n_events(self, sr) -> int:
        """Number of events recorded in this window: spikes of a spike_recorder (multiplicity
        counted), transmissions of a weight_recorder (and rows written, for record_to 'ascii'/'screen')."""
        r = self._get(sr, data=False)
        if r.get("record_to", "memory") != "memory":
            return int(r["n_events"])
        if r["kind"] == "weights":
            return len(r["stamps"])
        if r["kind"] == "detector":  # spin_detector: transitions; correlation detectors: NEST's n_events array
            return len(r["events"]["stamps"]) if "events" in r else np.copy(r["outputs"]["n_events"])
        return int(self._get(sr, "spikes")["counts"].sum())

    def rate(self, sr) -> float:
        """Mean firing rate per sender in Hz over this window."""
        r = self._get(sr, "spikes")
        T = self.n_steps * self.dt / 1000.0
        n = max(len(r["senders"]), 1)
        return float(r["counts"].sum() / (n * T)) if T > 0 else float("nan")

    def spike_times(self, sr, sender=None):
        """Spike times (Quantity, ms) of one sender (a node or gid), or a dict gid -> times."""
        r = self._get(sr, "spikes")
        st = np.repeat(r["stamps"], r["counts"])
        snd = np.repeat(r["gids"], r["counts"])
        if sender is not None:
            g = _gid(sender)
            return st[snd == g] * self.dt * u.ms
        return {int(g): st[snd == g] * self.dt * u.ms for g in r["senders"]}

    # -------------------------------------------------------------- samples
    def trace(self, mm, var) -> "u.Quantity":
        """(n_samples, n_targets) samples of ``var``; columns follow the order of the connected targets."""
        r = self._get(mm, "samples")
        if var not in r["values"]:
            from ..errors import did_you_mean
            raise RecorderError(f"the multimeter records {list(r['values'])}, not {var!r}."
                              f"{did_you_mean(var, r['values'])}")
        return _q(r["values"][var], r["units"][var])

    def trace_times(self, mm):
        """(n_samples,) sample times (Quantity, ms)."""
        return self._get(mm, "samples")["stamps"] * self.dt * u.ms

    def sampled(self, mm, var):
        """``(times, values)`` of ``var``: the samples (n_samples, n_targets) with their own times
        (n_samples,), for plotting (``t, v = res.sampled(mm, 'V_m')``). A multimeter samples every
        ``interval`` from t0 + interval, so its rows are not those of :attr:`times` (the step grid),
        even with interval = dt (one step later)."""
        return Sampled(self.trace_times(mm), self.trace(mm, var))

    def targets(self, mm) -> np.ndarray:
        return self._get(mm, "samples")["targets"].copy()

    def __repr__(self):
        return (f"Result(t0={self.k0 * self.dt} ms, duration={self.n_steps * self.dt} ms, "
                f"recorders={sorted(self._rec)})")


class Sampled(NamedTuple):
    """A multimeter's samples and their times (:meth:`Result.sampled`)."""
    times: object   # (n_samples,) Quantity, ms
    values: object  # (n_samples, n_targets) Quantity


def _q(vals, unit):
    from ..units import with_unit
    return with_unit(np.asarray(vals), unit)


@dataclass
class Connections:
    """Connections selected by ``sim.connections``: arrays of equal length."""
    sources: np.ndarray
    targets: np.ndarray
    weight_values: np.ndarray
    delay_values: np.ndarray
    receptors: np.ndarray
    synapse_models: list
    dt: float
    extra: dict = None  # further synapse parameters and per-connection state: name -> (values, unit)
    _owner: object = field(default=None, repr=False, compare=False)  # the Simulator
    _sel: list = field(default=None, repr=False, compare=False)      # [(connection record, positions)]
    weight_unit: str = "1"  # the targets' weight unit ("1": mixed or dimensionless; plain numbers)
    _epoch: int = field(default=0, repr=False, compare=False)  # the owner's disconnect count when read

    @property
    def weights(self):
        """Weights as plain numbers in the targets' unit (``get("weight")`` gives a quantity)."""
        return self.weight_values

    @property
    def delays(self):
        return self.delay_values * u.ms

    def __len__(self):
        return len(self.sources)

    def get(self, name):
        """A column by NEST's name: source, target, weight, delay, receptor, synapse_model, or any
        parameter or state variable of the synapse models (NaN where a connection's model lacks it)."""
        from ..units import with_unit
        base = {"source": self.sources, "target": self.targets, "weight": with_unit(self.weight_values, self.weight_unit),
                "delay": self.delays,
                "receptor": self.receptors, "synapse_model": self.synapse_models}
        if name in base:
            return base[name]
        extra = self.extra or {}
        if name not in extra:
            from ..errors import UnknownParameterError, did_you_mean
            raise UnknownParameterError(f"connections: unknown column {name!r}.{did_you_mean(name, [*base, *extra])} "
                                        f"Columns: {', '.join([*base, *extra])}.")
        vals, unit = extra[name]
        return with_unit(vals, unit)

    def disconnect(self):
        """Remove these connections (NEST's SynapseCollection.disconnect; see Simulator.disconnect)."""
        if self._owner is None:
            raise TypeError("connections.disconnect: this collection is not attached to a Simulator.")
        self._owner.disconnect(self)

    def set(self, params: dict | None = None, **kwargs):
        """Change these connections between ``simulate`` calls (NEST's SynapseCollection.set): the
        weight, the delay, any parameter of their synapse model or its state (e.g. stdp_synapse's
        ``Kplus``, tsodyks2_synapse's ``u`` and ``x``). Each value is one number for all the
        connections or one per connection (in this collection's order), as a plain number in NEST's
        unit or a quantity. Everything is checked before anything changes. Source, target, receptor
        and synapse model cannot change, nor the shared parameters of a _hom model. This collection
        shows the new values afterwards; ``reset()`` keeps set static weights and returns plastic
        weights and state to their values at the first ``simulate``."""
        if self._owner is None:
            raise TypeError("connections.set: this collection is not attached to a Simulator.")
        fresh = self._owner._set_connections(self, {**(params or {}), **kwargs})
        for f in ("sources", "targets", "weight_values", "delay_values", "receptors", "synapse_models", "extra",
                  "weight_unit"):
            setattr(self, f, getattr(fresh, f))
