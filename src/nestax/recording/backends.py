"""NEST's recording backends "ascii" and "screen": file names, header, columns and number format of
NEST 3.10, streamed chunk by chunk during ``simulate`` (docs/recording_backends.md).

- File name: ``data_path/data_prefix + (label or model name) + "-" + global id + "-" + vp + "." +
  file_extension`` (vp is always 0: one process, one thread).
- Layout: two comment lines, a tab-separated column header, then one row per event:
  ``sender  time_ms  values...`` or, with ``time_in_steps``, ``sender  time_step  time_offset  values...``;
  numbers in fixed notation with ``precision`` decimals (NEST's default 3).
- One file per recorder and ``simulate`` call, as NEST's Simulate (Prepare/Run/Cleanup): a second call
  replaces the file when ``overwrite_files`` is set and is an error otherwise. The rows are written to
  ``<file>.incomplete`` while the run goes and renamed to ``<file>`` when simulate returns; an interrupted
  run leaves only the ``.incomplete`` file.
"""
from __future__ import annotations

import os
import sys

import numpy as np

from ..errors import BadParameterError, NestaxError

#: NEST's header lines (kept byte for byte so NEST's readers and ours read both)
HEADER = "# NEST version: 3.10.0\n# RecordingBackendASCII version: 2\n"
PART = ".incomplete"

_KERNEL_DEFAULTS = {"data_path": "", "data_prefix": "", "overwrite_files": False}


def check_kernel_option(name, value):
    """NEST's checks of the kernel's file options; returns the value to keep."""
    if name == "overwrite_files":
        if not isinstance(value, (bool, np.bool_)):
            raise BadParameterError(f"Simulator: kernel option 'overwrite_files' = {value!r} is invalid; expected "
                                    "True or False.")
        return bool(value)
    if not isinstance(value, (str, os.PathLike)):
        raise BadParameterError(f"Simulator: kernel option {name!r} = {value!r} is invalid; expected a string.")
    value = os.fspath(value)
    if name == "data_prefix":
        if "/" in value:
            raise BadParameterError(f"Simulator: kernel option 'data_prefix' = {value!r} is invalid; expected a "
                                    "prefix without '/' (NEST: 'Data prefix must not contain path separators'); "
                                    "put directories in data_path.")
        return value
    if value and not os.path.isdir(value):
        raise BadParameterError(f"Simulator: kernel option 'data_path' = {value!r} is invalid: the directory does "
                                "not exist (NEST: 'Directory ... does not exist'); expected an existing, writable "
                                "directory ('' = the working directory).")
    if not os.access(value or ".", os.W_OK | os.X_OK):
        raise BadParameterError(f"Simulator: kernel option 'data_path' = {value!r} is invalid: the directory is not "
                                "writable; expected an existing, writable directory.")
    return value


class KernelOption:
    """A Simulator attribute for one of NEST's kernel file options (data_path, data_prefix,
    overwrite_files), checked when set."""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        return obj.__dict__.get("_kernel_files", {}).get(self.name, _KERNEL_DEFAULTS[self.name])

    def __set__(self, obj, value):
        obj.__dict__.setdefault("_kernel_files", {})[self.name] = check_kernel_option(self.name, value)


def file_name(sim, model, gid, p):
    label = p.get("label", "") or model
    return os.path.join(sim.data_path, f"{sim.data_prefix}{label}-{gid}-0.{p['file_extension']}")


def _fmt_time(stamps, tps, prec, in_steps, offsets=None):
    """Time columns as strings: time_ms, or time_step and time_offset (``offsets``: precise spike times'
    offsets within the step in ms, NEST's time = stamp - offset; None: all 0)."""
    if offsets is None:
        if in_steps:
            return [f"{int(s)}\t{0.0:.{prec}f}" for s in stamps]
        return [f"{(int(s) * tps) / 1000.0:.{prec}f}" for s in stamps]
    if in_steps:
        return [f"{int(s)}\t{float(o):.{prec}f}" for s, o in zip(stamps, offsets)]
    return [f"{(int(s) * tps) / 1000.0 - float(o):.{prec}f}" for s, o in zip(stamps, offsets)]


class Writer:
    """The rows of one recorder in one simulate call, to a file (ascii) or stdout (screen)."""

    def __init__(self, gid, model, kind, p, path, columns, tps):
        self.gid, self.model, self.kind, self.path = gid, model, kind, path
        self.record_to = p["record_to"]
        self.prec = int(p["precision"])
        self.in_steps = bool(p.get("time_in_steps", False))
        self.tps = tps
        self.n_events = 0
        self.columns = columns
        self._fh = None

    def open(self):
        if self.record_to == "ascii":
            self._fh = open(self.path + PART, "w", buffering=1 << 20)
            t = "time_step\ttime_offset" if self.in_steps else "time_ms"
            self._fh.write(HEADER + "\t".join(["sender", t, *self.columns]) + "\n")

    def write(self, senders, stamps, values=(), offsets=None):
        """One row per event; ``values``: columns of numbers (float: fixed with precision; int as is);
        ``offsets``: precise spike times' offsets within the step (ms), None: on the grid."""
        n = len(stamps)
        if n == 0:
            return
        self.n_events += n
        if offsets is not None and not np.any(np.asarray(offsets)):
            offsets = None
        cols = [[str(int(g)) for g in senders], _fmt_time(stamps, self.tps, self.prec, self.in_steps, offsets)]
        for v in values:
            v = np.asarray(v)
            cols.append([str(int(x)) for x in v] if v.dtype.kind in "iub" else [f"{x:.{self.prec}f}" for x in v])
        text = "".join("\t".join(r) + "\n" for r in zip(*cols))
        if self.record_to == "ascii":
            self._fh.write(text)
        else:
            sys.stdout.write(text)

    def close(self):
        """Flush, close and give the file its final name."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            os.replace(self.path + PART, self.path)
        elif self.record_to == "screen":
            sys.stdout.flush()

    def abort(self):
        """An interrupted run: close the file and leave it under its .incomplete name."""
        if self._fh is not None:
            try:
                self._fh.close()
            finally:
                self._fh = None


def _columns(model, p):
    if model.stream == "samples":
        return list(p["record_from"])
    if model.stream == "weights":
        return ["weights", "targets", "receptors", "ports"]
    return []


def make_writers(sim, net) -> dict:
    """Writer per recorder with record_to 'ascii' or 'screen', after every check a run could fail
    (existing files without overwrite_files, a data_path gone or not writable); nothing is opened."""
    out = {}
    for b in net.blocks:
        if b.model.kind != "recorder":
            continue
        for g in b.gids:
            g = int(g)
            p = b.params_of(g - b.gid0)
            if p.get("record_to", "memory") == "memory":
                continue
            path = file_name(sim, b.model.name, g, p) if p["record_to"] == "ascii" else None
            out[g] = Writer(g, b.model.name, b.model.stream, p, path, _columns(b.model, p), net.tics_per_step)
    files = [w for w in out.values() if w.path is not None]
    if files:
        where = sim.data_path or "."
        if not os.path.isdir(where) or not os.access(where, os.W_OK | os.X_OK):
            w = files[0]
            raise NestaxError(f"simulate: {w.model} {w.gid} records to 'ascii' but data_path = {sim.data_path!r} is "
                              "not an existing, writable directory; set sim.data_path to one.")
        for w in files:
            if os.path.exists(w.path) and not sim.overwrite_files:
                raise NestaxError(
                    f"simulate: {w.model} {w.gid} (record_to='ascii') would write {w.path!r}, which already "
                    "exists, and the kernel option overwrite_files is False (NEST: 'The file ... already exists "
                    "and overwriting files is disabled'); set sim.overwrite_files = True, or change "
                    "sim.data_path, sim.data_prefix or the recorder's label.")
        names = [w.path for w in files]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise NestaxError(f"simulate: two recorders would write the same file {dup!r}; give them other labels.")
    return out


def min_delay_steps(net) -> int:
    """NEST's min_delay in steps: the shortest delay of any connection, recorders' included (the delay
    given to a connection to a spike recorder or detector; 1 ms by default, as NEST's)."""
    d = [int(np.min(c.delay)) for c in net.conns if np.size(c.delay)]
    if net.sr_links or net.mm_links:  # connections to spike recorders: their delay, 1 ms by default
        d.append(min(max(1, int(round(1.0 / net.dt))) if net.mm_links else 1 << 62,
                     getattr(net, "rec_min_delay", max(1, int(round(1.0 / net.dt))))))
    return max(1, min(d)) if d else 1


def read_ascii(path):
    """A file of the ascii backend (NEST's or nestax's) as a pandas DataFrame."""
    import pandas as pd
    return pd.read_csv(path, sep="\t", comment="#")
