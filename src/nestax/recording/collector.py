"""Recordings: the chunk outputs of a run -> each recorder's events -> a :class:`Result`.

Spikes arrive per chunk as dense (steps x recorded senders) counts, or bits, and leave as events (stamp,
sender, multiplicity) right away, so memory grows with the number of events, not with steps x
neurons. Multimeters keep only the samples on their grid.
"""
from __future__ import annotations

import numpy as np

from ..errors import NestaxError
from .backends import min_delay_steps
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


def spike_entries(a):
    """(row, column, count) of the non-zero entries of one chunk's spike record ``a`` (steps x recorded
    senders): int32 counts, or packed bits (uint8, 8 senders a byte, first sender in the high bit) where
    the model says spike or no spike. Spikes are sparse: the rows are scanned 8 bytes at a time and
    only the non-zero words are looked into."""
    if a.dtype == np.uint8:
        i, jb = _nonzero_2d(a)
        bits = np.unpackbits(a[i, jb][:, None], axis=1)
        r, c = np.nonzero(bits)
        return i[r], jb[r] * 8 + c, np.ones(len(r), np.int64)
    i, j = _nonzero_2d(a)
    return i, j, a[i, j]


def _nonzero_2d(a):
    """np.nonzero of a 2-D array, faster for sparse ones (8 bytes at a time)."""
    a = np.ascontiguousarray(a)
    per = 8 // a.itemsize
    if a.size % per or a.size == 0:
        return np.nonzero(a)
    words = np.flatnonzero(a.reshape(-1).view(np.uint64))
    r, c = np.nonzero(a.reshape(-1, per)[words])
    return np.divmod(words[r] * per + c, a.shape[1])


class Collector:
    """Collects the recordings of one ``simulate`` call (steps k0 .. k0 + n) of network ``net``.

    ``pending_row0``: spike recorder gid -> (gids, counts) stamped exactly at k0 (the previous window's
    last stamp, row 0 of this window's matrix); updated for the next window by :meth:`result`.
    """

    def __init__(self, net, lowered, k0: int, n_steps: int, pending_row0: dict, owner=None, writers=None):
        self.net, self.layout, self.rec_dev, self.owner = net, lowered.rec_layout, lowered.plan.rec_dev, owner
        # recorders with record_to 'ascii' / 'screen' (backends.Writer): their events are written chunk by
        # chunk in add() and not kept, so memory stays bounded
        self.writers = writers or {}
        self._keep_spk = set(self.layout["spk"])
        if self.writers:
            mem_senders = [np.asarray(s, np.int64) for g, s in net.sr_links.items() if int(g) not in self.writers]
            mem_senders = np.concatenate(mem_senders) if mem_senders else np.zeros(0, np.int64)
            have = set(np.unique(net.block_index(mem_senders)).tolist()) if len(mem_senders) else set()
            self._keep_spk = {b for b in self.layout["spk"] if b in have}
        self._file_sr = [g for g, w in self.writers.items() if w.kind == "spikes"]
        self._file_wr = {g for g, w in self.writers.items() if w.kind == "weights"}
        self._md = min_delay_steps(net) if any(w.kind == "samples" for w in self.writers.values()) else 1
        self._mm_pending = {}  # file multimeter -> samples of a min_delay slice not yet complete
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
                if net.blocks[b].model.samples_value():  # a device's sampled_value
                    cols.append(("I", b, tg - net.blocks[b].gid0))
                else:
                    cols.append(("mm", b, int(np.searchsorted(self.layout["mm"][b], tg))))
            self._mm_plan[mg] = (interval, offset, lo, hi, p["record_from"], cols, np.asarray(targets))
            if int(mg) not in self.writers:
                self.mm[mg] = {"times": [], "vals": {v: [] for v in p["record_from"]}}

    def sample_bytes(self) -> int:
        """Host memory the multimeter samples of this window will take (float64 values)."""
        total = 0
        for mg, (interval, offset, lo, hi, rf, cols, targets) in self._mm_plan.items():
            if int(mg) in self.writers:
                continue  # written to a file / the screen as the run goes
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
        chunk_spk, chunk_dev, chunk_wr = {}, [], {}
        for b, arr in out["spk"].items():
            if b not in self._keep_spk and not self._file_sr:
                continue
            if isinstance(arr, tuple):  # precise spikes (Neuron.precise): counts, offsets (steps, n_rec, M)
                a, off = (np.asarray(x[:n_valid]) for x in arr)
                i, j, m = np.nonzero(a)
                part = (stamps[i], j, a[i, j, m], off[i, j, m])
            else:
                i, j, m = spike_entries(np.asarray(arr[:n_valid]))
                part = (stamps[i], j, m, np.zeros(len(i)))
            if b in self._keep_spk:
                self.spk[b].append(part)
            chunk_spk[b] = (part[0], self.layout["spk"][b][part[1]], part[2], part[3])
        for (j, srg, g) in self.rec_dev:
            if isinstance(out["dev"][j], tuple):  # a precise source: counts and offsets, (steps, 1, M)
                a, off = (np.asarray(x[:n_valid]).reshape(n_valid, -1) for x in out["dev"][j])
                i, m = np.nonzero(a)
                ev = (stamps[i], srg, g, a[i, m], off[i, m])
            else:
                a = np.asarray(out["dev"][j][:n_valid]).reshape(n_valid, -1)[:, 0]
                i = np.nonzero(a)[0]
                ev = (stamps[i], srg, g, a[i], np.zeros(len(i)))
            (chunk_dev if int(srg) in self.writers else self.dev).append(ev)
        for srg in self._file_sr:
            ev = self._sr_events(srg, chunk_spk, chunk_dev)
            st, g, c = ev[:3]
            self.writers[srg].write(np.repeat(g, c), np.repeat(st, c), offsets=np.repeat(ev[5], c))
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
            if lay["recorder"] in self._file_wr:
                chunk_wr[j] = [(stamps[i][rep], ci[rep], w)]
            else:
                self.wr[j].append((stamps[i][rep], ci[rep], w))
        if self._file_wr:
            for g, ev in self.weight_events(chunk_wr, only=self._file_wr).items():
                # NEST's order: a spike of multiplicity m passes all the sender's connections, m times
                key = np.stack([ev["stamps"], ev["senders"], ev["ports"]])
                new = np.r_[True, np.any(key[:, 1:] != key[:, :-1], axis=0)] if key.shape[1] else np.zeros(0, bool)
                start = np.maximum.accumulate(np.where(new, np.arange(len(new)), 0))
                o = np.lexsort((ev["ports"], np.arange(len(new)) - start, ev["senders"], ev["stamps"]))
                self.writers[g].write(ev["senders"][o], ev["stamps"][o],
                                      [ev[c][o] for c in ("weights", "targets", "receptors", "ports")])
        for mg, (interval, offset, lo, hi, rf, cols, targets) in self._mm_plan.items():
            sel = (stamps >= max(offset, 1)) & ((stamps - offset) % interval == 0) & (stamps > lo) & (stamps <= hi)
            if not sel.any():
                continue
            vals = {}
            for var in rf:
                cols_v = [np.asarray(out["I"][b][:n_valid])[sel, c] if kind == "I"
                          else np.asarray(out["mm"][(b, var)][:n_valid])[sel, c] for kind, b, c in cols]
                vals[var] = np.stack(cols_v, axis=1)
            if int(mg) in self.writers:
                self._mm_write(int(mg), stamps[sel], vals, k + n_valid)
                continue
            self.mm[mg]["times"].append(stamps[sel])
            for var in rf:
                self.mm[mg]["vals"][var].append(vals[var])

    def _mm_write(self, mg, times, vals, k_end=None):
        """Write a file multimeter's samples in NEST's order: min_delay slice by slice, within a slice
        target by target (connection order), each target's samples in time order. The samples of a slice
        that is not complete at the chunk's end k_end wait for the next chunk (None: write all)."""
        rf, targets = self._mm_plan[mg][4], self._mm_plan[mg][6]
        if mg in self._mm_pending:
            t0, v0 = self._mm_pending.pop(mg)
            times = np.concatenate([t0, times])
            vals = {v: np.concatenate([v0[v], vals[v]]) for v in rf}
        if k_end is not None:
            done = times <= (k_end // self._md) * self._md
            if not done.all():
                self._mm_pending[mg] = (times[~done], {v: vals[v][~done] for v in rf})
                times, vals = times[done], {v: vals[v][done] for v in rf}
        if len(times) == 0 or len(targets) == 0:
            return
        ti, ci = np.meshgrid(np.arange(len(times)), np.arange(len(targets)), indexing="ij")
        ti, ci = ti.ravel(), ci.ravel()
        order = np.lexsort((times[ti], ci, (times[ti] - 1) // self._md))
        ti, ci = ti[order], ci[order]
        self.writers[mg].write(targets[ci], times[ti], [np.asarray(vals[v], float)[ti, ci] for v in rf])

    def _sr_events(self, srg, spikes, dev):
        """The events of spike recorder ``srg`` among ``spikes`` (block -> (stamps, gids, counts)) and
        ``dev`` ([(stamps, recorder, device gid, counts)]), within its window, sorted by time and sender:
        (stamps, gids, counts, params, senders)."""
        net = self.net
        senders = net.sr_links.get(int(srg), [])
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
        o_all = []  # offsets within the step (precise spike times; 0 on the grid)
        for b, (st, gid, cnt, off) in spikes.items():
            m = np.isin(gid, senders_arr) & (st > lo) & (st <= hi)
            st_all.append(st[m]); g_all.append(gid[m]); c_all.append(cnt[m] * n_links(gid[m])); o_all.append(off[m])
        for (st, s, g, cnt, off) in dev:
            if s == srg:
                m = (st > lo) & (st <= hi)
                st_all.append(st[m]); g_all.append(np.full(m.sum(), g)); c_all.append(cnt[m] * n_links(g))
                o_all.append(off[m])
        st = np.concatenate(st_all) if st_all else np.zeros(0, np.int64)
        g = np.concatenate(g_all) if g_all else np.zeros(0, np.int64)
        c = np.concatenate(c_all) if c_all else np.zeros(0, np.int64)
        off = np.concatenate(o_all) if o_all else np.zeros(0)
        order = np.lexsort((g, -off, st))  # by time (an earlier spike of a step has a larger offset), sender
        return st[order], g[order], c[order].astype(np.int64), p, senders_arr, off[order]

    def _digest(self, srg, model, spikes):
        """Hand a recorder with a host-side ``digest`` its connections' spikes of this window (one entry
        per connection and spike: stamps, senders, receptors, mult, weight, device, link) and keep its
        state for the next call."""
        net = self.net
        blk = net.block_of(srg)
        p = blk.params_of(srg - blk.gid0)
        o, s0, s1 = (window_steps(p[x], net.dt) for x in ("origin", "start", "stop"))
        ports = net.sr_ports.get(int(srg), [])
        by_sender = {}
        for li, (g, r, w) in enumerate(ports):
            by_sender.setdefault(g, []).append((li, r, w))
        cols = {k: [] for k in ("stamps", "senders", "mult", "device")}
        for b, (st, gid, cnt, _) in spikes.items():
            m = np.isin(gid, list(by_sender))
            cols["stamps"].append(st[m]); cols["senders"].append(gid[m]); cols["mult"].append(cnt[m])
            cols["device"].append(np.zeros(m.sum(), bool))
        for (st, s, g, cnt, _) in self.dev:
            if s == srg:
                cols["stamps"].append(st); cols["senders"].append(np.full(len(st), g)); cols["mult"].append(cnt)
                cols["device"].append(np.ones(len(st), bool))
        ev = {k: (np.concatenate(v) if v else np.zeros(0, bool if k == "device" else np.int64)) for k, v in cols.items()}
        keep = (ev["stamps"] > o + s0) & (ev["stamps"] <= o + s1)  # NEST's Device::is_active
        # NEST delivers a spike of multiplicity m as m events of multiplicity 1 (a neuron's spike data
        # carry no multiplicity; spike_generator sends each of its spike times on its own), except a
        # neuron's spike to a local device (Recorder.whole_spikes: spin_detector), which keeps its m
        whole = ~ev["device"] & bool(model.whole_spikes)
        rep = np.where(whole, 1, ev["mult"])[keep]
        mult = np.where(whole, ev["mult"], 1)[keep]
        ev = {k: np.repeat(v[keep], rep) for k, v in ev.items()}
        ev["mult"] = np.repeat(mult, rep).astype(np.int64)
        # one event per connection
        rows = [(i, li, r, w) for i, g in enumerate(ev["senders"].tolist()) for li, r, w in by_sender[g]]
        idx = np.array([x[0] for x in rows], np.int64)
        ev = {k: v[idx] for k, v in ev.items()}
        ev["link"] = np.array([x[1] for x in rows], np.int64)
        ev["receptors"] = np.array([x[2] for x in rows], np.int64)
        ev["weight"] = np.array([x[3] for x in rows], float)
        md = min_delay_steps(net)
        state = model.digest(ev, p, net.rec_state.get(int(srg)), net.dt, md, self.k0 + self.n, gid=int(srg))
        net.rec_state[int(srg)] = state
        out = {"kind": "detector", "model": model.name, "outputs": model.read(state),
               "time_in_steps": bool(p.get("time_in_steps", False)),
               "bins": {k: float(p[k]) for k in ("delta_tau", "tau_max") if k in p}}  # ms, for nx.plot
        if "events" in state:
            out["events"] = state["events"]
        return out

    def weight_events(self, wr=None, only=None) -> dict:
        """Every weight_recorder's events of this window (or of ``wr``: projection -> parts; ``only``:
        these recorders), sorted by time, sender and port, within its start/stop window and
        senders/targets filters."""
        net, out = self.net, {}
        wr = self.wr if wr is None else wr
        for b in net.blocks:
            if b.model.kind != "recorder" or b.model.stream != "weights":
                continue
            for g in b.gids:
                if only is not None and int(g) not in only:
                    continue
                p = b.params_of(int(g) - b.gid0)
                o, s0, s1 = (window_steps(p[x], net.dt) for x in ("origin", "start", "stop"))
                cols = {k: [] for k in ("stamps", "senders", "targets", "weights", "receptors", "ports")}
                units = set()
                for j, parts in wr.items():
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
                             np.concatenate([p[2] for p in parts]), np.concatenate([p[3] for p in parts]))
            else:
                spikes[b] = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        rec = {}
        # every recorder of the network is in the result (one connected to nothing has no events)
        all_sr = {int(g): net.sr_links.get(int(g), []) for b in net.blocks
                  if b.model.kind == "recorder" and b.model.stream == "spikes" for g in b.gids}
        for srg, senders in all_sr.items():
            if srg in self.writers:
                continue
            model = net.block_of(srg).model
            if model.digest is not None:  # computes on its senders' spikes (correlation detectors)
                rec[srg] = self._digest(srg, model, spikes)
                continue
            st, g, c, p, senders_arr, off = self._sr_events(srg, spikes, self.dev)
            rec[srg] = {"kind": "spikes", "senders": senders_arr, "stamps": st, "gids": g,
                        "counts": c, "offsets": off, "row0": self.pending_row0.get(srg),
                        "time_in_steps": bool(p.get("time_in_steps", False))}
            last = st == self.k0 + self.n
            self.pending_row0[srg] = (g[last], c[last])
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
            units = {var: "pA" if var == "I" else "1" if tm is None else tm.state[var].unit if var in tm.state
                     else tm.recordable_unit(var) for var in rf}
            blk = net.block_of(int(mg))
            rec[mg] = {"kind": "samples", "targets": targets, "stamps": times, "values": vals, "units": units,
                       "time_in_steps": bool(blk.params_of(int(mg) - blk.gid0).get("time_in_steps", False))}
        for mg in list(self._mm_pending):  # the samples of the last, incomplete min_delay slice
            self._mm_write(mg, np.zeros(0, np.int64), {v: np.zeros((0, len(self._mm_plan[mg][6])))
                                                          for v in self._mm_plan[mg][4]})
        for g, w in self.writers.items():  # events written to a file or the screen, not kept
            rec[g] = {"kind": w.kind, "record_to": w.record_to, "filename": w.path, "n_events": w.n_events,
                      "model": w.model}
        return Result(net.dt, self.k0, self.n, rec, self.owner)
