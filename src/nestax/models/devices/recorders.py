"""Recording devices: spike_recorder, multimeter, voltmeter (NEST's names, defaults and windows).

- spike_recorder records spikes stamped t with origin+start < t <= origin+stop. Connect the
  senders to it: ``sim.connect(pop, sr)``.
- multimeter samples the variables in ``record_from`` at t = offset + j*interval (t > 0, j >= 0) within
  origin+start < t <= origin+stop; it observes its targets: ``sim.connect(mm, pop)``. The value at t is
  the state at the end of the step that ends at t. nestax returns every sample up to the end of each
  simulate call (NEST holds back the last min_delay of samples until the next call).
- voltmeter is a multimeter with record_from = ['V_m'].

Every recorder has NEST's ``record_to`` ('memory': the Result, default; 'ascii': one file per recorder
and simulate call, NEST's name and layout; 'screen': NEST's rows printed), ``precision`` (3) and
``file_extension`` ('dat'); the files go to the Simulator's ``data_path``/``data_prefix`` with
``overwrite_files`` (NEST's kernel options). See docs/recording_backends.md.
"""
from __future__ import annotations

import numpy as np

from ..base import Param
from ..base import Recorder as _RecorderProtocol
from ..base import time_steps
from ..registry import register
from ...errors import BadParameterError

_WINDOW = {
    "start": Param(0.0, "ms", "Begin of recording, relative to origin"),
    "stop": Param(np.inf, "ms", "End of recording, relative to origin"),
    "origin": Param(0.0, "ms", "Time origin of start and stop"),
}

#: NEST's recording backends that nestax has (NEST 3.10 also has "mpi" and "sionlib")
RECORD_TO = ("memory", "ascii", "screen")
# where the events go (NEST's record_to, precision, file_extension): docs/recording_backends.md
_BACKEND = {
    "record_to": Param("memory", "1", "Recording backend: 'memory' (the Result), 'ascii' (a file), 'screen'", "str"),
    "precision": Param(3, "1", "Decimals of the numbers written by the ascii and screen backends", "int"),
    "file_extension": Param("dat", "1", "File name extension of the ascii backend", "str"),
}


class Recorder(_RecorderProtocol):

    @classmethod
    def check(cls, p):
        cls._require(p, "stop", np.asarray(p["stop"]) >= np.asarray(p["start"]), "stop >= start")
        if "record_to" in p:
            from ...errors import did_you_mean
            for v in np.atleast_1d(np.asarray(p["record_to"], object)):
                if v not in RECORD_TO:
                    raise BadParameterError(
                        f"{cls.name}: parameter 'record_to' = {v!r} is invalid; expected one of "
                        f"{', '.join(map(repr, RECORD_TO))} (NEST: 'Unknown recording backend').{did_you_mean(v, RECORD_TO)}")
            cls._require(p, "precision", np.asarray(p["precision"]) >= 0, "an integer >= 0")
            for v in np.atleast_1d(np.asarray(p["file_extension"], object)):
                if not isinstance(v, str) or "/" in v:
                    raise BadParameterError(f"{cls.name}: parameter 'file_extension' = {v!r} is invalid; expected a "
                                            "string without '/' (NEST's default: 'dat').")

    @classmethod
    def check_grid(cls, p, dt):
        """start, stop and origin are multiples of the resolution (NEST refuses others at SetStatus)."""
        cls._on_grid(p, dt, "start", "stop", inf_ok=True)
        cls._on_grid(p, dt, "origin")


@register
class spike_recorder(Recorder):
    """Records the spikes of the nodes connected to it: ``sim.connect(senders, spike_recorder)``.

    Parameters: start (ms, 0), stop (ms, inf), origin (ms, 0), label (''), time_in_steps (False).
    Read the data from the Result: ``res.events(sr)``, ``res.spikes(sr)``, ``res.n_events(sr)``.
    """

    name = "spike_recorder"
    parameters = {**_WINDOW, "label": Param("", "1", "Label", "str"),
                  "time_in_steps": Param(False, "1", "Report event times in steps", "bool"), **_BACKEND}
    direction = "in"  # senders -> recorder
    stream = "spikes"
    keeps_events = True  # NEST's events / n_events across simulate calls (n_events = 0 clears)


@register
class multimeter(Recorder):
    """Samples state variables of the nodes it is connected to: ``sim.connect(multimeter, targets)``.

    Parameters: record_from (list of names, []), interval (ms, 1.0, a multiple of the resolution),
    offset (ms, 0, a multiple of the resolution), start (ms, 0), stop (ms, inf), origin (ms, 0), label ('').
    record_from, interval and offset cannot change once the multimeter is connected (as in NEST), and
    it connects to a node once.
    Read the data from the Result: ``res.trace(mm, 'V_m')``, ``res.trace_times(mm)``, ``res.events(mm)``.
    """

    name = "multimeter"
    keeps_events = True  # NEST's events / n_events across simulate calls (n_events = 0 clears)
    parameters = {
        "record_from": Param((), "1", "Names of the variables to record", "list"),
        "interval": Param(1.0, "ms", "Sampling interval"),
        "offset": Param(0.0, "ms", "Time of the first sample"),
        **_WINDOW,
        "label": Param("", "1", "Label", "str"),
        "time_in_steps": Param(False, "1", "Report sample times in steps", "bool"),
        **_BACKEND,
    }
    direction = "out"  # recorder -> observed nodes
    stream = "samples"
    fixed_when_connected = ("record_from", "interval", "offset")  # NEST: BadProperty once connected

    @classmethod
    def check(cls, p):
        super().check(p)
        cls._positive(p, "interval")
        cls._nonnegative(p, "offset")

    @classmethod
    def check_grid(cls, p, dt):
        """interval: a multiple of the resolution, at least one step (NEST); offset: a multiple of the
        resolution (NEST rounds an off-grid offset up to the grid; nestax refuses it)."""
        super().check_grid(p, dt)
        for name in ("interval", "offset"):
            x = np.asarray(p[name], float).reshape(-1)
            steps, ok = time_steps(x, dt)
            if name == "interval" and np.any(steps < 1):
                raise BadParameterError(
                    f"{cls.name}: parameter 'interval' = {x[steps < 1][0]} ms is invalid; expected at "
                    f"least the resolution {dt} ms (NEST: 'The sampling interval must be at least as long as "
                    "the simulation resolution').")
            if not np.all(ok):
                raise BadParameterError(
                    f"{cls.name}: parameter {name!r} = {x[~ok][0]} ms is invalid; expected a multiple of the "
                    f"resolution {dt} ms.")

    @classmethod
    def sample_grid(cls, p, dt):
        """(interval, offset, lo, hi) in steps; samples at offset + j*interval in (lo, hi]."""
        def to_steps(name, v):
            s, ok = time_steps(float(v), dt)  # checked at create / set (check_grid)
            if not ok:
                raise BadParameterError(
                    f"{cls.name}: parameter {name!r} = {v} ms must be a multiple of the resolution {dt} ms.")
            return int(s)
        interval = to_steps("interval", p["interval"])
        if interval < 1:
            raise BadParameterError(f"{cls.name}: parameter 'interval' = {p['interval']} ms must be at least the "
                                    f"resolution {dt} ms.")
        offset = to_steps("offset", p["offset"])
        origin = to_steps("origin", p["origin"])
        start = to_steps("start", p["start"])
        stop = np.inf if not np.isfinite(p["stop"]) else to_steps("stop", p["stop"])
        return interval, offset, origin + start, origin + stop


@register
class voltmeter(multimeter):
    """A multimeter preset to record V_m (NEST: voltmeter). Parameters as multimeter."""

    name = "voltmeter"
    parameters = {**multimeter.parameters, "record_from": Param(("V_m",), "1", "Names of the variables", "list")}


@register
class weight_recorder(Recorder):
    """Records the spikes transmitted through the connections it is attached to, with the weight each
    one delivers (NEST: weight_recorder).

    Attach it through the synapse spec: ``sim.connect(pre, post, synapse_model="stdp_synapse",
    weight_recorder=wr)`` (NEST sets it with SetDefaults or CopyModel; both spellings work in
    nestax's PyNEST module). Every transmitted spike is one event (a spike of multiplicity m is m
    events, as NEST unrolls it) with ``senders``, ``targets``, ``times`` (the spike's stamp, not its
    arrival), ``weights`` (the weight delivered: the updated weight of an STDP synapse, weight * u * x
    of a Tsodyks synapse), ``receptors`` and ``ports`` (the connection's index among the connections
    of its synapse model, ordered by source, as NEST numbers them with one thread).

    Parameters: start (ms, 0), stop (ms, inf), origin (ms, 0): events stamped t with
    origin+start < t <= origin+stop; senders and targets (lists of global ids; empty: all);
    label (''); time_in_steps (False).
    """

    name = "weight_recorder"
    parameters = {**_WINDOW, "label": Param("", "1", "Label", "str"),
                  "time_in_steps": Param(False, "1", "Report event times in steps", "bool"),
                  "senders": Param((), "1", "Record only connections from these global ids (empty: all)", "list"),
                  "targets": Param((), "1", "Record only connections onto these global ids (empty: all)", "list"),
                  **_BACKEND}
    direction = "synapse"  # attached to connections through the synapse spec
    attach_as = "weight_recorder"
    stream = "weights"
    keeps_events = True  # NEST's events / n_events across simulate calls (n_events = 0 clears)
