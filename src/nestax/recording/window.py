"""The recording side of one ``simulate`` call: its collector, its file writers and its progress bar.

A :class:`Window` is opened before the run (memory check, file headers), takes every chunk the runner
produces, and ends in one of three ways: :meth:`finish` (the Result; files renamed to their final
names), :meth:`interrupted` (the recordings up to the last completed chunk; files keep their
``.incomplete`` name) or :meth:`fail` (an error after the run; files as interrupted).
"""
from __future__ import annotations

import numpy as np

from ..errors import BadParameterError, NestaxError
from ..units import to_nest
from .collector import Collector


class Window:
    """Recordings of steps ``k0 .. k0 + n_steps`` of ``net`` (lowered as ``lowered``)."""

    def __init__(self, net, lowered, k0: int, n_steps: int, pending_row0: dict, owner, writers: dict):
        self.k0, self.n_steps, self.writers = k0, n_steps, writers
        self.collector = Collector(net, lowered, k0, n_steps, pending_row0, owner=owner, writers=writers)
        self.bar = None

    def open(self, duration_ms: float, available: int | None, progress: bool = False):
        """Refuse a run whose multimeter samples would not fit in ``available`` bytes; write the files'
        headers; start the progress bar (tqdm, when installed and asked for)."""
        need = self.collector.sample_bytes()
        if available is not None and need > 0.8 * available:
            raise NestaxError(
                f"simulate: the multimeter samples of {duration_ms} ms would take {need / 2**30:.2f} GiB; about "
                f"{available / 2**30:.2f} GiB of memory are available. Record fewer targets or variables, a "
                "larger interval, or simulate in shorter pieces (each call returns its own window).")
        for w in self.writers.values():
            w.open()  # NEST's header; the rows go to <file>.incomplete until the window finishes
        if progress:
            try:
                from tqdm.auto import tqdm
                self.bar = tqdm(total=self.n_steps, unit="step", desc="simulate")
            except ImportError:  # pragma: no cover
                self.bar = None

    def add(self, out, k: int, n_valid: int):
        """One chunk's recordings (steps k .. k + n_valid)."""
        self.collector.add(out, k, n_valid)

    def close_bar(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _abort_files(self):
        for w in self.writers.values():
            w.abort()  # the file keeps its .incomplete name

    def interrupted(self, k_reached: int):
        """The Result of the steps completed before an interrupt or error inside the run."""
        self.collector.n = k_reached - self.k0
        try:
            return self.collector.result()
        finally:
            self._abort_files()

    def fail(self, error: BaseException):
        """An error found after the run (a history that ran short): files stay incomplete; raises it."""
        self._abort_files()
        raise error

    def finish(self):
        """The Result of the whole window; files flushed, closed and renamed to their final names."""
        try:
            res = self.collector.result()
        except BaseException:
            self._abort_files()
            raise
        for w in self.writers.values():
            w.close()
        return res


def duration_steps(duration, dt: float) -> tuple[float, int]:
    """(ms, steps) of a ``simulate(duration)`` call (a Quantity or ms): a finite duration >= 0 that
    is a multiple of the resolution ``dt`` (ms), else a clear error."""
    T = float(np.asarray(to_nest(duration, "ms", "simulate", "duration")))
    if T < 0 or not np.isfinite(T):
        raise BadParameterError(f"simulate: duration = {T} ms is invalid; expected a finite value >= 0 ms.")
    x = T / dt
    n_steps = int(round(x))
    if abs(x - n_steps) > 1e-9 * max(1.0, x):
        raise BadParameterError(f"simulate: duration = {T} ms is not a multiple of the resolution {dt} ms.")
    return T, n_steps
