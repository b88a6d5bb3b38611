"""The kernel behind ``nestax.nest``: one Simulator and NEST's kernel settings. The Simulator keeps a
recorder's events across ``Simulate`` calls until ``n_events = 0``, as NEST does; this module shows
them NEST's way (plain numbers; a multimeter's last min_delay of samples after the next call)."""
from __future__ import annotations

import numpy as np

from ..errors import BadParameterError, did_you_mean

#: NEST 3.10's default kernel seed and resolution
DEFAULT_SEED = 143202461
DEFAULT_RESOLUTION = 0.1


def has_delay(conn) -> bool:
    """Whether a connection's delay counts for NEST's min_delay / max_delay: not for gap junctions
    (NEST 3.10 leaves min_delay at 1 ms with only gap_junction and voltmeter connections; its
    instantaneous rate connections count as one step, as nestax stores them)."""
    return not getattr(conn.synapse, "gap", False)


def plain(v):
    """A value in NEST's plain units: quantities lose their unit (they are in NEST's unit already),
    numpy scalars become Python numbers, arrays stay arrays."""
    if hasattr(v, "mantissa"):
        v = np.asarray(v.mantissa)
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return v.item()
    if isinstance(v, np.generic):
        return v.item()
    return v


class Kernel:
    """NEST's kernel state for the PyNEST-compatible module."""

    def __init__(self):
        self.reset()

    def reset(self, resolution=DEFAULT_RESOLUTION, seed=DEFAULT_SEED):
        from ..simulator import Simulator
        old = getattr(self, "sim", None)
        self.sim = Simulator(dt=resolution, seed=seed)
        if old is not None:
            # a script that resets the kernel and builds the same network again (a parameter scan)
            # reuses the compiled program: it depends on the lowered plan only, which the new
            # network's lowering is compared with before any reuse
            self.sim._session.compiled = old._session.compiled
        self.detectors = {}    # recorder gid -> outputs of a correlation detector (cumulative)
        self.filenames = {}    # recorder gid -> files written (record_to 'ascii')
        self.settings = {"local_num_threads": 1, "print_time": False, "verbosity": "M_WARNING",
                         "dict_miss_is_error": True, "keep_source_table": True,
                         "time_collocate_spike_data": 0.0}  # a NEST timer (s); nestax has no such phase

    # ------------------------------------------------------------------ settings
    def empty(self) -> bool:
        """No node, connection or model change exists yet (resolution and seed may still change)."""
        net = self.sim._net
        return not net.blocks and not net.conns and not net.local_models

    def set_resolution(self, value):
        value = float(value)
        if value == self.sim.dt:
            return
        if not self.empty():
            raise BadParameterError(
                f"nestax.nest: resolution = {value} ms cannot be set after nodes, connections or model changes "
                f"exist (resolution is {self.sim.dt} ms); set it first or call nest.ResetKernel() "
                "(NEST: 'Cannot change resolution after nodes have been created').")
        self.reset(value, self.sim.seed)

    def set_seed(self, value):
        if not (isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 1 <= value <= 2**32 - 1):
            raise BadParameterError(f"nestax.nest: rng_seed = {value!r} is invalid; expected an integer in "
                                    "1 .. 2**32 - 1 (NEST's kernel seeds).")
        if int(value) == self.sim.seed:
            return
        if not self.empty():
            raise BadParameterError(
                f"nestax.nest: rng_seed = {value} cannot be set after nodes, connections or model changes exist "
                "(nestax draws connections and initial values when they are made); set it first or call "
                "nest.ResetKernel().")
        self.reset(self.sim.dt, int(value))

    # ------------------------------------------------------------------ recordings
    def record(self, res):
        """After a simulate window: the correlation detectors' outputs (cumulative) and the files of
        ascii recorders. Events themselves are kept by the Simulator (``sim.get(rec, "events")``)."""
        for g in res.recorders():
            if res.recorder_kind(g) == "detector":
                rec = res._get(g)
                self.detectors[g] = {k: plain(v) for k, v in (rec.get("outputs") or {}).items()}
            elif res.writes_file(g) and res.filename(g) not in self.filenames.get(g, []):
                self.filenames.setdefault(g, []).append(res.filename(g))

    def min_delay_steps(self) -> int:
        """NEST's min_delay in steps: the smallest delay of any connection with a delay, the links to
        and from recorders included (their synapse model's delay unless given); static_synapse's
        default delay when there is none."""
        sim = self.sim
        net = sim._net
        d = [int(np.min(c.delay)) for c in net.conns if len(c.src) and has_delay(c)]
        if (net.sr_links or net.mm_links) and getattr(net, "rec_min_delay", 1 << 62) < (1 << 62):
            d.append(int(net.rec_min_delay))
        if not d:
            dflt = plain(sim.get_defaults("static_synapse")["delay"])
            d.append(max(1, int(round(dflt / sim.dt))))
        return max(1, min(d))

    def _held(self, nodes, stamps):
        """NEST hands a multimeter the samples of the last min_delay slice of a run only during the
        next Simulate call: those samples (stamp > the slice start) are not shown yet."""
        if getattr(self.sim._net.block_of(int(nodes._gids[0])).model, "direction", "") != "out":
            return np.zeros(len(stamps), bool)
        m, K = self.min_delay_steps(), self.sim.k
        return stamps > (((K - 1) // m) * m if K > 0 else 0)

    def events_of(self, nodes) -> dict:
        """NEST's events dict of one recorder (plain numbers), since its last ``n_events = 0``."""
        sim = self.sim
        if sim.get(nodes, "record_to") != "memory":
            return {"senders": np.zeros(0, np.int64), "times": np.zeros(0)}
        ev = {k: np.asarray(plain(v)) for k, v in sim.get(nodes, "events").items()}
        in_steps = bool(sim.get(nodes, "time_in_steps"))
        stamps = ev["times"] if in_steps else np.rint(np.asarray(ev["times"], float) / sim.dt).astype(np.int64)
        late = self._held(nodes, stamps)
        if late.any():
            ev = {k: v[~late] for k, v in ev.items()}
            stamps = stamps[~late]
        if getattr(sim._net.block_of(int(nodes._gids[0])).model, "direction", "") == "out" and len(stamps):
            # NEST's order: min_delay slice by slice, within a slice target by target (connection order),
            # each target's samples in time order (nestax's result is time by time)
            snd = np.asarray(ev["senders"])
            _, first = np.unique(snd, return_index=True)
            rank = np.empty(int(snd.max()) + 1, np.int64)
            rank[snd[np.sort(first)]] = np.arange(len(first))
            order = np.lexsort((stamps, rank[snd], (stamps - 1) // self.min_delay_steps()))
            ev = {k: v[order] for k, v in ev.items()}
        if in_steps:
            ev["offsets"] = np.zeros(len(ev["times"]))
        return ev

    def n_events(self, nodes) -> int:
        g = int(nodes._gids[0])
        if g in self.detectors and "n_events" in self.detectors[g]:
            return self.detectors[g]["n_events"]
        n = int(self.sim.get(nodes, "n_events"))
        if getattr(self.sim._net.block_of(g).model, "direction", "") == "out" and \
                self.sim.get(nodes, "record_to") == "memory":
            n = len(self.events_of(nodes)["times"])
        return n

    def clear(self, nodes, value):
        """``n_events = 0``: the recorder's events are deleted (any other value is an error)."""
        self.sim.set(nodes, n_events=value)
        self.detectors.pop(int(nodes._gids[0]), None)

    def setting(self, name):
        if name not in self.settings:
            raise KeyError(f"nestax.nest: unknown kernel setting {name!r}.{did_you_mean(name, self.settings)}")
        return self.settings[name]


KERNEL = Kernel()
