"""The events a recorder keeps across ``simulate`` calls, as NEST's memory backend does.

NEST's spike_recorder, multimeter / voltmeter and weight_recorder keep every event since they were
created, until ``n_events`` is set to 0 (the only value NEST accepts), which clears them. nestax's
Result of a simulate call holds that call's events; the Simulator also keeps each call's Result
(:class:`KeptEvents`) for recorders that declare ``Recorder.keeps_events``, so that
``sim.get(rec, "events")`` / ``sim.get(rec, "n_events")`` give NEST's accumulated view and
``sim.set(rec, n_events=0)`` clears it. Windows that every such recorder has cleared are dropped.

Difference from NEST: a multimeter's samples of the last min_delay before a simulate call ends are
in that call's events here (NEST writes them during the next call, so a clear between the two calls
keeps them in NEST and drops them here).
"""
from __future__ import annotations

import brainunit as u
import numpy as np

from ..errors import BadParameterError

#: the names a keeping recorder answers in get (and n_events in set)
NAMES = ("events", "n_events")


def check_clear(model, value):
    """n_events may only be set to 0 (NEST: 'Property n_events can only be set to 0 (which clears all
    stored events)')."""
    v = np.asarray(u.get_mantissa(value) if isinstance(value, u.Quantity) else value)
    if v.dtype.kind not in "biuf" or not np.all(v == 0):
        raise BadParameterError(f"{model.name}: n_events = {value!r} is invalid; it can only be set to 0, which clears "
                                "the recorder's stored events (NEST: 'Property n_events can only be set to 0').")


def _concat(parts):
    if isinstance(parts[0], u.Quantity):
        unit = parts[0].unit
        return u.math.concatenate([p.to(unit) for p in parts])
    return np.concatenate(parts)


class KeptEvents:
    """The Results of the simulate calls since the oldest uncleared recorder's last clear."""

    def __init__(self):
        self.windows = []   # (k0, Result) in time order
        self.cleared = {}   # recorder gid -> step at its last clear

    def add(self, k0, result):
        self.windows.append((k0, result))

    @staticmethod
    def keeping(net):
        """Global ids of the recorders that keep their events across calls (Recorder.keeps_events)."""
        return [int(g) for b in net.blocks if b.model.kind == "recorder" and b.model.keeps_events for g in b.gids]

    @staticmethod
    def answers(net, gids, keys) -> bool:
        """True if ``keys`` are all kept-event names (events, n_events) and ``gids`` all keeping recorders."""
        keys = list(keys)
        if not keys or not all(n in NAMES for n in keys):
            return False
        return all(m.kind == "recorder" and m.keeps_events for m in net.models_of(gids))

    def read(self, gids, names):
        """sim.get of kept-event names: one name -> its value (a list for several recorders); several
        names -> a dict."""
        res = {n: [getattr(self, n)(g) for g in gids] for n in names}
        res = {n: v[0] if len(v) == 1 else v for n, v in res.items()}
        return res[names[0]] if len(names) == 1 else res

    def set_given(self, net, gids, given, k):
        """sim.set of kept-event names: ``n_events = 0`` clears (NEST); anything else is an error."""
        models = net.models_of(gids)
        if "events" in given:
            from ..errors import ReadOnlyError
            raise ReadOnlyError(f"{models[0].name}: 'events' is read-only; set n_events = 0 to clear the stored "
                                "events (as in NEST).")
        for m in models:
            check_clear(m, given["n_events"])
        self.clear(gids, k, self.keeping(net))

    def clear(self, gids, k, keeping):
        """Recorders ``gids`` cleared at step ``k``; ``keeping``: every gid that keeps events."""
        for g in gids:
            self.cleared[int(g)] = k
        oldest = min((self.cleared.get(int(g), 0) for g in keeping), default=k)
        self.windows = [(k0, r) for k0, r in self.windows if k0 >= oldest]

    def events(self, gid):
        since = self.cleared.get(int(gid), 0)
        evs = [r.events(gid) for k0, r in self.windows if k0 >= since and int(gid) in r._rec]
        if not evs:
            return {"senders": np.zeros(0, np.int64), "times": np.zeros(0) * u.ms}
        return {name: _concat([e[name] for e in evs]) for name in evs[0]}

    def n_events(self, gid):
        since = self.cleared.get(int(gid), 0)
        return sum(_count(r, int(gid)) for k0, r in self.windows if k0 >= since and int(gid) in r._rec)


def _count(r, gid):
    """Events of recorder ``gid`` in Result ``r`` (a multimeter's: one per sample and target)."""
    rec = r._rec[gid]
    if rec.get("record_to", "memory") != "memory" or rec["kind"] != "samples":
        return int(r.n_events(gid))
    return len(rec["stamps"]) * len(rec["targets"])
