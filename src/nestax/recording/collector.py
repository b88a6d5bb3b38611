"""Recordings: the chunk outputs of a run -> each recorder's events -> a :class:`Result`.

Spikes arrive per chunk as dense (steps x recorded senders) counts and leave as events (stamp,
sender, multiplicity) right away, so memory grows with the number of events, not with steps x
neurons. Multimeters keep only the samples on their grid.
"""
from __future__ import annotations

import numpy as np

from ..errors import NestaxError
from .result import Result


def window_steps(x, dt):
    """A device time (ms) in whole steps; infinity stays a large number."""
    x = float(x)
    if not np.isfinite(x):
        return np.iinfo(np.int64).max // 4
    return int(np.floor(x / dt + 0.5))


def _gids_of(entries) -> np.ndarray:
    """Global ids from a recorder's senders/targets list (ids or node collections)."""
    ids = [np.atleast_1d(getattr(x, "_gids", x)) for x in (entries or ())]
    return np.concatenate(ids).astype(np.int64) if ids else np.zeros(0, np.int64)


class Collector:
    """Collects the recordings of one ``simulate`` call (steps k0 .. k0 + n) of network ``net``.

    ``pending_row0``: spike recorder gid -> (gids, counts) stamped exactly at k0 (the previous window's
    last stamp, row 0 of this window's matrix); updated for the next window by :meth:`result`.
    """

    def __init__(self, net, lowered, k0: int, n_steps: int, pending_row0: dict, owner=None):
        self.net, self.layout, self.rec_dev, self.owner = net, lowered.rec_layout, lowered.plan.rec_dev, owner
        self.k0, self.n = k0, n_steps
        self.pending_row0 = pending_row0
        self.spk = {b: [] for b in self.layout["spk"]}   # (stamps, cols, counts)
        self.dev = []                                    # (stamps, sr gid, sender gid, counts)
        self.mm = {}                                     # mm gid -> {'times': [...], 'vals': {var: [...]}}
        self.wr = {j: [] for j in self.layout.get("wr", {})}  # logged projection -> (stamps, conns, weights)
        self._mm_plan = {}
        for mg, targets in net.mm_links.items():
            mb = net.block_of(mg)
            p = mb.params_of(mg - mb.gid0)
            interval, offset, lo, hi = mb.model.sample_grid(p, net.dt)
            cols = []
            for tg in targets:
                b = int(net.block_index([tg])[0])
                if net.blocks[b].model.kind == "current_source":
                    cols.append(("I", b, tg - net.blocks[b].gid0))
                else:
                    cols.append(("mm", b, int(np.searchsorted(self.layout["mm"][b], tg))))
            self._mm_plan[mg] = (interval, offset, lo, hi, p["record_from"], cols, np.asarray(targets))
            self.mm[mg] = {"times": [], "vals": {v: [] for v in p["record_from"]}}

    def sample_bytes(self) -> int:
        """Host memory the multimeter samples of this window will take (float64 values)."""
        total = 0
        for mg, (interval, offset, lo, hi, rf, cols, targets) in self._mm_plan.items():
            first = max(self.k0 + 1, offset, lo + 1)
            last = min(self.k0 + self.n, hi)
            if last >= first:
                j0 = -(-(first - offset) // interval)
                j1 = (last - offset) // interval
                total += max(0, j1 - j0 + 1) * len(cols) * len(rf) * 8
        return total

    def add(self, out, k, n_valid):
        """The recordings of one chunk (steps k .. k + n_valid)."""
        stamps = k + 1 + np.arange(n_valid)
        for b, arr in out["spk"].items():
            a = np.asarray(arr[:n_valid])
            i, j = np.nonzero(a)
            self.spk[b].append((stamps[i], j, a[i, j]))
        for (j, srg, g) in self.rec_dev:
            a = np.asarray(out["dev"][j][:n_valid]).reshape(n_valid, -1)[:, 0]
            i = np.nonzero(a)[0]
            self.dev.append((stamps[i], srg, g, a[i]))
        for j, lay in self.layout.get("wr", {}).items():
            cnt, first, last = (np.asarray(x[:n_valid]) for x in out["wr"][j])
            i, ci = np.nonzero(cnt)
            m = cnt[i, ci]
            if lay["plastic"] and np.any(m > 2):
                raise NestaxError(
                    "weight_recorder: a spike of multiplicity > 2 passed a plastic synapse that a weight_recorder "
                    "logs; nestax keeps the weights of the first and the last of its transmissions only.")
            # a spike of multiplicity m is m events: the first with the first weight, the others with the last
            rep = np.repeat(np.arange(len(i)), m)
            is_first = np.r_[True, rep[1:] != rep[:-1]] if len(rep) else np.zeros(0, bool)
            w = np.where(is_first, first[i, ci][rep], last[i, ci][rep])
            self.wr[j].append((stamps[i][rep], ci[rep], w))
        for mg, (interval, offset, lo, hi, rf, cols, targets) in self._mm_plan.items():
            sel = (stamps >= max(offset, 1)) & ((stamps - offset) % interval == 0) & (stamps > lo) & (stamps <= hi)
            if not sel.any():
                continue
            self.mm[mg]["times"].append(stamps[sel])
            for var in rf:
                cols_v = [np.asarray(out["I"][b][:n_valid])[sel, c] if kind == "I"
                          else np.asarray(out["mm"][(b, var)][:n_valid])[sel, c] for kind, b, c in cols]
                self.mm[mg]["vals"][var].append(np.stack(cols_v, axis=1))

    def weight_events(self) -> dict:
        """Every weight_recorder's events of this window, sorted by time, sender and port, within its
        start/stop window and senders/targets filters."""
        net, out = self.net, {}
        for b in net.blocks:
            if b.model.kind != "recorder" or b.model.stream != "weights":
                continue
            for g in b.gids:
                p = b.params_of(int(g) - b.gid0)
                o, s0, s1 = (window_steps(p[x], net.dt) for x in ("origin", "start", "stop"))
                cols = {k: [] for k in ("stamps", "senders", "targets", "weights", "receptors", "ports")}
                units = set()
                for j, parts in self.wr.items():
                    lay = self.layout["wr"][j]
                    if lay["recorder"] != int(g) or not parts:
                        continue
                    st = np.concatenate([x[0] for x in parts])
                    ci = np.concatenate([x[1] for x in parts])
                    keep = (st > o + s0) & (st <= o + s1)
                    for name, col in (("senders", "src"), ("targets", "tgt")):
                        only = _gids_of(p[name])
                        if len(only):
                            keep &= np.isin(lay[col][ci], only)
                    cols["stamps"].append(st[keep])
                    cols["senders"].append(lay["src"][ci[keep]])
                    cols["targets"].append(lay["tgt"][ci[keep]])
                    cols["weights"].append(np.concatenate([x[2] for x in parts])[keep])
                    cols["receptors"].append(lay["receptor"][ci[keep]])
                    cols["ports"].append(lay["port"][ci[keep]])
                    units.add(lay["unit"])
                ev = {k: (np.concatenate(v) if v else np.zeros(0, float if k == "weights" else np.int64))
                      for k, v in cols.items()}
                order = np.lexsort((ev["ports"], ev["senders"], ev["stamps"]))
                out[int(g)] = {"kind": "weights", **{k: v[order] for k, v in ev.items()},
                               "unit": units.pop() if len(units) == 1 else "1",
                               "time_in_steps": bool(p.get("time_in_steps", False))}
        return out

    def result(self) -> Result:
        net = self.net
        spikes = {}
        for b, parts in self.spk.items():
            lay = self.layout["spk"][b]
            if parts:
                spikes[b] = (np.concatenate([p[0] for p in parts]), lay[np.concatenate([p[1] for p in parts])],
                             np.concatenate([p[2] for p in parts]))
            else:
                spikes[b] = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
        rec = {}
        # every recorder of the network is in the result (one connected to nothing has no events)
        all_sr = {int(g): net.sr_links.get(int(g), []) for b in net.blocks
                  if b.model.kind == "recorder" and b.model.stream == "spikes" for g in b.gids}
        for srg, senders in all_sr.items():
            blk = net.block_of(srg)
            p = blk.params_of(srg - blk.gid0)
            o, s0, s1 = (window_steps(p[x], net.dt) for x in ("origin", "start", "stop"))
            lo, hi = o + s0, o + s1
            st_all, g_all, c_all = [], [], []
            senders_arr = np.asarray(senders, np.int64)
            # NEST records a spike once per connection: a sender connected n times counts n times
            links = net.sr_counts.get(srg)
            n_links = (lambda g: links[np.searchsorted(senders_arr, g)]) if links is not None and np.any(links > 1) \
                else (lambda g: 1)
            for b, (st, gid, cnt) in spikes.items():
                m = np.isin(gid, senders_arr) & (st > lo) & (st <= hi)
                st_all.append(st[m]); g_all.append(gid[m]); c_all.append(cnt[m] * n_links(gid[m]))
            for (st, s, g, cnt) in self.dev:
                if s == srg:
                    m = (st > lo) & (st <= hi)
                    st_all.append(st[m]); g_all.append(np.full(m.sum(), g)); c_all.append(cnt[m] * n_links(g))
            st = np.concatenate(st_all) if st_all else np.zeros(0, np.int64)
            g = np.concatenate(g_all) if g_all else np.zeros(0, np.int64)
            c = np.concatenate(c_all) if c_all else np.zeros(0, np.int64)
            order = np.lexsort((g, st))
            rec[srg] = {"kind": "spikes", "senders": senders_arr, "stamps": st[order], "gids": g[order],
                        "counts": c[order].astype(np.int64), "row0": self.pending_row0.get(srg),
                        "time_in_steps": bool(p.get("time_in_steps", False))}
            last = st[order] == self.k0 + self.n
            self.pending_row0[srg] = (g[order][last], c[order][last].astype(np.int64))
        rec.update(self.weight_events())
        for b in net.blocks:  # multimeters connected to nothing: no samples
            if b.model.kind == "recorder" and b.model.stream == "samples":
                for g in b.gids:
                    if int(g) not in self.mm:
                        rf = b.params["record_from"][int(g) - b.gid0]
                        rec[int(g)] = {"kind": "samples", "targets": np.zeros(0, np.int64),
                                       "stamps": np.zeros(0, np.int64),
                                       "values": {v: np.zeros((0, 0)) for v in rf}, "units": {v: "1" for v in rf}}
        for mg, d in self.mm.items():
            interval, offset, lo, hi, rf, cols, targets = self._mm_plan[mg]
            times = np.concatenate(d["times"]) if d["times"] else np.zeros(0, np.int64)
            vals = {var: (np.concatenate(d["vals"][var]) if d["vals"][var] else np.zeros((0, len(targets))))
                    for var in rf}
            tm = net.block_of(int(targets[0])).model if len(targets) else None
            units = {var: "pA" if var == "I" else tm.state[var].unit if tm is not None and var in tm.state else "1"
                     for var in rf}
            rec[mg] = {"kind": "samples", "targets": targets, "stamps": times, "values": vals, "units": units}
        return Result(net.dt, self.k0, self.n, rec, self.owner)
