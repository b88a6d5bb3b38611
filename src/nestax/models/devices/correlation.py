"""Correlation detectors and the spin detector (NEST 3.10: correlation_detector, correlomatrix_detector,
correlospinmatrix_detector, spin_detector).

These recorders see the spikes of their senders as NEST delivers them and compute their outputs on the
host at the end of each ``simulate`` call from the senders' spike events (pure functions below). The
detectors accumulate across ``simulate`` calls as NEST does; ``sim.set(cd, n_events=[0, 0])`` (or setting
any of delta_tau, tau_max, Tstart, Tstop, N_channels) clears them, as does ``sim.reset()``.

Read them as NEST users do: ``sim.get(cd, "histogram")`` (NEST: ``nest.GetStatus(cd, "histogram")``), or
from the Result of a call: ``res.get(cd, "histogram")`` / ``res.events(cd)`` (a dict of every output;
the values accumulated up to the end of that call).

Receptors: connect senders with ``sim.connect(a, cd, receptor_type=1)``; the receptor is the input
(correlation_detector: 0 or 1) or channel (correlomatrix/correlospinmatrix: 0 .. N_channels-1). A
connection's weight multiplies its spikes in the weighted outputs (histogram, covariance).

Delivery order (it decides which spike of a coincident pair is "the arriving one"): NEST hands a
neuron's spikes of a min_delay slice to the detector at the start of the next slice, sender by sender
(global id order), each sender's spikes in time order; a generator connected directly delivers its
spikes at once during its update. nestax replays that order. As in NEST, the spikes a neuron emits in
the last slice of a ``simulate`` call reach the detector only when the next call starts.
"""
from __future__ import annotations

import math

import numpy as np

from ..base import Param, time_steps
from ...errors import BadParameterError
from ..registry import register
from .recorders import Recorder

_DEV_WINDOW = {
    "start": Param(0.0, "ms", "Begin of the device's activity, relative to origin"),
    "stop": Param(np.inf, "ms", "End of the device's activity, relative to origin"),
    "origin": Param(0.0, "ms", "Time origin of start and stop"),
}


def _steps(cls, p, name, dt):
    x = float(p[name])
    if not np.isfinite(x):
        return math.inf
    s, ok = time_steps(x, dt)
    return float(s)


def _on_step(cls, p, dt, name):
    x = np.asarray(p[name], float).reshape(-1)
    s, ok = time_steps(x, dt)
    if not np.all(ok):
        bad = x[~ok][0]
        raise BadParameterError(f"{cls.name}: parameter {name!r} = {bad} ms is invalid; expected a multiple of the "
                                f"resolution {dt} ms (NEST: StepMultipleRequired).")
    return s


# --------------------------------------------------------------------------- delivery order
def delivery_order(ev, md):
    """Indices that put the events ``ev`` (arrays stamps, senders, device, link) in NEST's delivery
    order at min_delay ``md`` (steps): neuron spikes of slice s at the start of slice s+1, sender by
    sender, each sender's spikes by time; a generator's spikes during its update in slice s."""
    st = np.asarray(ev["stamps"], np.int64)
    sl = (st - 1) // md
    dev = np.asarray(ev["device"], bool)
    slot = np.where(dev, 2 * sl + 1, 2 * (sl + 1))  # delivered at the start of s+1 before its update
    return np.lexsort((ev["link"], st, ev["senders"], slot))


def delivered(ev, md, k_end):
    """Mask of the events delivered by the end of step k_end (a neuron's spike of slice s arrives when
    slice s+1 starts, i.e. once k_end > (s+1)*md)."""
    st = np.asarray(ev["stamps"], np.int64)
    sl = (st - 1) // md
    return np.asarray(ev["device"], bool) | (k_end > (sl + 1) * md)


def _cat(a, b):
    return {k: np.concatenate([np.asarray(a[k]), np.asarray(b[k])]) for k in b}


def _ordered_new(ev, state, md, k_end):
    """The events to process now (pending ones of earlier calls first), NEST's order, and the rest."""
    if state.get("pending") is not None:
        ev = _cat(state["pending"], ev)
    now = delivered(ev, md, k_end)
    rest = {k: np.asarray(v)[~now] for k, v in ev.items()}
    ev = {k: np.asarray(v)[now] for k, v in ev.items()}
    o = delivery_order(ev, md)
    return {k: v[o] for k, v in ev.items()}, rest


# --------------------------------------------------------------------------- correlation_detector
def correlation_fresh(n_bins):
    return {"n_events": np.zeros(2, np.int64), "histogram": np.zeros(n_bins), "histogram_correction": np.zeros(n_bins),
            "count_histogram": np.zeros(n_bins, np.int64), "queues": ([], []), "pending": None}


def correlation_update(state, ev, D, T, t0, t1):
    """Feed events (in delivery order: stamps, receptors, mult, weight) to a correlation_detector state.
    D = delta_tau, T = tau_max in steps; [t0, t1] = [Tstart, Tstop] in steps. Pairs are binned at
    floor((tau_edge + sign*(t_i - t_j)) / D) with tau_edge = T + D/2 (sign +1 when the arriving spike is
    on receptor 1); spikes of the other receptor older than tau_edge are dropped (receptor 1's: only
    when more than tau_edge + 1/2 steps old, so the window is closed left and open right). The weighted
    histogram is summed with Kahan compensation, its residue kept in histogram_correction."""
    h, hc, ch, ne = state["histogram"], state["histogram_correction"], state["count_histogram"], state["n_events"]
    queues = state["queues"]
    tau_edge = T + 0.5 * D
    for t, r, m, w in zip(ev["stamps"].tolist(), ev["receptors"].tolist(), ev["mult"].tolist(), ev["weight"].tolist()):
        other = 1 - r
        q = queues[other]
        drop = 0
        while drop < len(q) and (t - q[drop][0]) - 0.5 * other >= tau_edge:
            drop += 1
        if drop:
            del q[:drop]
        if t0 <= t <= t1:
            ne[r] += 1
            sign = 2 * r - 1
            mw = m * w
            for tj, wj in q:
                b = int(math.floor((tau_edge + sign * (t - tj)) / D))
                y = mw * wj - hc[b]
                s = h[b] + y
                hc[b] = (s - h[b]) - y
                h[b] = s
                ch[b] += m
        mine = queues[r]
        pos = len(mine)
        while pos > 0 and mine[pos - 1][0] > t:
            pos -= 1
        mine.insert(pos, (t, m * w))
    return state


# --------------------------------------------------------------------------- correlomatrix_detector
def correlomatrix_fresh(N, n_bins):
    return {"n_events": np.zeros(N, np.int64), "covariance": np.zeros((N, N, n_bins)),
            "count_covariance": np.zeros((N, N, n_bins), np.int64), "queue": [], "pending": None}


def correlomatrix_update(state, ev, D, T, t0, t1, md):
    """Feed events to a correlomatrix_detector state. Each arriving spike first joins the (time-sorted)
    list of all channels' spikes, so it pairs with itself; spikes older than tau_edge + min_delay are
    dropped. A pair at distance a = |t_i - t_j| goes to bin floor((a + D/2)/D) (< 1 + tau_max/D) of
    [later channel][earlier channel] (a tie: the arriving spike's channel first); bin 0 is mirrored to
    [earlier][later] unless both are the same channel at the same time."""
    cov, cc, ne, q = state["covariance"], state["count_covariance"], state["n_events"], state["queue"]
    nb = cov.shape[2]
    tau_edge = T + 0.5 * D
    for t, r, m, w in zip(ev["stamps"].tolist(), ev["receptors"].tolist(), ev["mult"].tolist(), ev["weight"].tolist()):
        pos = len(q)
        while pos > 0 and q[pos - 1][0] > t:
            pos -= 1
        q.insert(pos, (t, m * w, r))
        drop = 0
        while drop < len(q) and (t - q[drop][0]) >= tau_edge + md:
            drop += 1
        if drop:
            del q[:drop]
        if not (t0 <= t <= t1):
            continue
        ne[r] += 1
        mw = m * w
        for tj, wj, c in q:
            if t < tj:
                si, oi = c, r
            else:
                si, oi = r, c
            a = abs(t - tj)
            if si <= oi:
                b = -math.floor((0.5 * D - a) / D)
            else:
                b = math.floor((0.5 * D + a) / D)
            b = int(b)
            if b < nb:
                cov[si, oi, b] += mw * wj
                mirror = b == 0 and (t != tj or c != r)
                if mirror:
                    cov[oi, si, b] += mw * wj
                cc[si, oi, b] += m
                if mirror:
                    cc[oi, si, b] += m
    return state


# --------------------------------------------------------------------------- spin decoding
def spin_decode(ev):
    """NEST's spin_detector / correlospinmatrix_detector decoding of binary neurons' spikes (in
    delivery order; ``slot``: the delivery batch, after which the detector's update writes a pending
    event). A spike of multiplicity 2 is an up transition (state 1); a spike of multiplicity 1 is held
    back: a second one of the same sender at the same time makes it an up transition, any other event
    releases it as a down transition (state 0) and is itself dropped unless it has multiplicity 2; the
    update at the end of the batch releases a held one. Returns (index of the event, state) pairs."""
    out = []
    last = None  # (index, state, sender, stamp)
    st, snd, m, slot = (ev[k].tolist() for k in ("stamps", "senders", "mult", "slot"))
    for i in range(len(st)):
        if last is not None and i > 0 and slot[i] != slot[i - 1]:
            out.append((last[0], last[1]))
            last = None
        if m[i] == 1 and last is not None and snd[i] == last[2] and st[i] == last[3]:
            last = (last[0], 1, last[2], last[3])
        had = last is not None
        if had:
            out.append((last[0], last[1]))
        if m[i] == 2:
            out.append((i, 1))
            last = None
        elif not had:
            last = (i, 0, snd[i], st[i])
        else:
            last = None
    return out, last


class _Detector(Recorder):
    """Common part: NEST's Device window (origin, start, stop) and accumulated host-side state."""

    direction = "in"
    stream = "spikes"
    #: names whose SetStatus resets the accumulated state
    resets_state = ("delta_tau", "tau_max", "Tstart", "Tstop", "N_channels")

    @classmethod
    def check(cls, p):
        cls._require(p, "stop", np.asarray(p["stop"]) >= np.asarray(p["start"]), "stop >= start")
        for n in ("delta_tau", "tau_max"):
            if n in p:
                cls._positive(p, n)

    @classmethod
    def check_grid(cls, p, dt):
        cls._on_grid(p, dt, "start", "stop", inf_ok=True)
        cls._on_grid(p, dt, "origin")
        # Tstart and Tstop may be anywhere (NEST compares them with the stamps in tics)
        D = _on_step(cls, p, dt, "delta_tau")
        Tm = _on_step(cls, p, dt, "tau_max")
        bad = np.fmod(Tm, D) != 0
        if np.any(bad):
            i = np.nonzero(np.broadcast_to(bad, np.broadcast(Tm, D).shape))[0][0]
            raise BadParameterError(
                f"{cls.name}: parameter 'tau_max' = {np.asarray(p['tau_max'], float).reshape(-1)[min(i, np.size(p['tau_max']) - 1)]} "
                f"ms is invalid; expected a multiple of delta_tau = {np.asarray(p['delta_tau'], float).reshape(-1)[min(i, np.size(p['delta_tau']) - 1)]} "
                "ms (NEST: TimeMultipleRequired).")
        return D, Tm

    @classmethod
    def n_receptors(cls, p):
        return int(p.get("N_channels", 2))

    @classmethod
    def _window(cls, p, dt):
        D = int(_steps(cls, p, "delta_tau", dt))
        T = int(_steps(cls, p, "tau_max", dt))
        t0 = _steps(cls, p, "Tstart", dt)
        t1 = _steps(cls, p, "Tstop", dt)
        return D, T, t0, t1

    @classmethod
    def check_accumulated(cls, name, value):
        v = np.asarray(value).reshape(-1)
        if not np.all(v == 0):
            raise BadParameterError(f"{cls.name}: n_events = {value!r} is invalid; it can only be set to zeros "
                                    f"(NEST: '/n_events can only be set to [0 0]'), which clears the detector.")

    @classmethod
    def output(cls, p, state, name, dt):
        return np.copy((state or cls.fresh(p, dt))[name])

    @classmethod
    def read(cls, state):
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state.items()
                if k in cls.accumulated}


@register
class correlation_detector(_Detector):
    """Cross-correlation histogram of two spike inputs (NEST: correlation_detector).

    Connect input 0 and 1 with ``receptor_type``: ``sim.connect(a, cd)`` (0), ``sim.connect(b, cd,
    receptor_type=1)``. For every pair of spikes i (receptor 1) and j (receptor 0) with
    -tau_max - delta_tau/2 <= t_i - t_j < tau_max + delta_tau/2 the pair adds to bin
    floor((t_i - t_j + tau_max + delta_tau/2) / delta_tau) of the 1 + 2 tau_max/delta_tau bins (bin
    tau_max/delta_tau: t_i = t_j): ``histogram`` += (m_i w_i)(m_j w_j) (multiplicity m, connection
    weight w; Kahan-summed, residue in ``histogram_correction``), ``count_histogram`` += m of the spike
    delivered later. A pair counts only if the spike delivered later is stamped in [Tstart, Tstop];
    ``n_events`` counts the spike events (not multiplicities) per receptor stamped in [Tstart, Tstop].
    Only spikes with origin+start < t <= origin+stop are seen at all.

    ===============  =========  ======  ================================================
    parameter        default    unit    constraint
    ===============  =========  ======  ================================================
    delta_tau        0.5        ms      a multiple of the resolution (NEST: 5 h)
    tau_max          5.0        ms      a multiple of delta_tau (NEST: 10 delta_tau)
    Tstart           0.0        ms      >= 0
    Tstop            inf        ms
    start/stop/origin 0/inf/0   ms      device window
    ===============  =========  ======  ================================================

    Outputs (``sim.get(cd, name)``, ``res.get(cd, name)``, all in ``res.events(cd)``): histogram,
    histogram_correction, count_histogram (float arrays, NEST's dtype), n_events (int [2]).
    """

    name = "correlation_detector"
    parameters = {
        "delta_tau": Param(0.5, "ms", "Width of a histogram bin"),
        "tau_max": Param(5.0, "ms", "One-sided width of the histogram"),
        "Tstart": Param(0.0, "ms", "Count pairs whose later spike is at or after Tstart"),
        "Tstop": Param(np.inf, "ms", "Count pairs whose later spike is at or before Tstop"),
        **_DEV_WINDOW,
    }
    accumulated = ("histogram", "histogram_correction", "count_histogram", "n_events")
    resets_state = ("delta_tau", "tau_max", "Tstart", "Tstop")

    @classmethod
    def n_receptors(cls, p):
        return 2

    @classmethod
    def fresh(cls, p, dt):
        D, T, _, _ = cls._window(p, dt)
        return correlation_fresh(1 + 2 * T // D)

    @classmethod
    def digest(cls, ev, p, state, dt, md, k_end):
        state = state or cls.fresh(p, dt)
        ev, state["pending"] = _ordered_new(ev, state, md, k_end)
        D, T, t0, t1 = cls._window(p, dt)
        return correlation_update(state, ev, D, T, t0, t1)


@register
class correlomatrix_detector(_Detector):
    """Covariance matrix of N_channels spike inputs (NEST: correlomatrix_detector).

    Connect channel c with ``receptor_type=c`` (0 .. N_channels-1). For every pair of spikes (itself
    included) at distance a = |t_i - t_j| with a < tau_max + delta_tau/2, the pair adds to bin
    floor((a + delta_tau/2)/delta_tau) of ``covariance[later channel][earlier channel]`` (the product
    of both spikes' multiplicity x weight) and of ``count_covariance`` (the multiplicity of the spike
    delivered later); bin 0 is also added to [earlier][later] unless both spikes are the same channel
    at the same time. A pair counts only if the spike delivered later is stamped in [Tstart, Tstop];
    ``n_events`` counts spike events per channel stamped in [Tstart, Tstop].

    Parameters: N_channels (1, > 0), delta_tau (0.5 ms, an odd multiple of the resolution), tau_max
    (5.0 ms, a multiple of delta_tau), Tstart (0 ms), Tstop (inf), start/stop/origin.
    Outputs: covariance, count_covariance ((N, N, 1 + tau_max/delta_tau) floats), n_events (int [N]).
    """

    name = "correlomatrix_detector"
    parameters = {
        "N_channels": Param(1, "1", "Number of channels", "int"),
        "delta_tau": Param(0.5, "ms", "Width of a bin (an odd multiple of the resolution)"),
        "tau_max": Param(5.0, "ms", "Largest lag"),
        "Tstart": Param(0.0, "ms", "Count pairs whose later spike is at or after Tstart"),
        "Tstop": Param(np.inf, "ms", "Count pairs whose later spike is at or before Tstop"),
        **_DEV_WINDOW,
    }
    accumulated = ("covariance", "count_covariance", "n_events")

    @classmethod
    def check(cls, p):
        super().check(p)
        cls._require(p, "N_channels", np.asarray(p["N_channels"]) > 0, "an integer > 0 (NEST: '/N_channels can only "
                     "be larger than zero')")

    @classmethod
    def check_grid(cls, p, dt):
        D, Tm = super().check_grid(p, dt)
        bad = np.fmod(D, 2) != 1
        if np.any(bad):
            raise BadParameterError(
                f"{cls.name}: parameter 'delta_tau' = {np.asarray(p['delta_tau'], float).reshape(-1)[0]} ms is invalid; "
                f"expected an odd multiple of the resolution {dt} ms (NEST: '/delta_tau must be odd multiple of "
                "resolution').")
        return D, Tm

    @classmethod
    def fresh(cls, p, dt):
        D, T, _, _ = cls._window(p, dt)
        return correlomatrix_fresh(int(p["N_channels"]), 1 + T // D)

    @classmethod
    def digest(cls, ev, p, state, dt, md, k_end):
        state = state or cls.fresh(p, dt)
        ev, state["pending"] = _ordered_new(ev, state, md, k_end)
        D, T, t0, t1 = cls._window(p, dt)
        return correlomatrix_update(state, ev, D, T, t0, t1, md)


class spin_detector(Recorder):
    """Records the state transitions of binary neurons (NEST: spin_detector).

    NOT REGISTERED YET: against NEST 3.10 it decoded 11 of NEST's 12 transitions in a network of
    mcculloch_pitts neurons switched by noise_generator windows (min_delay 1 ms); the difference is
    not understood, so the model is not offered until it matches.

    Binary neurons (ginzburg_neuron, mcculloch_pitts_neuron, erfc_neuron) send an up transition as a
    spike of multiplicity 2 and a down transition as a spike of multiplicity 1. The detector decodes
    them as NEST does (see :func:`spin_decode`, including NEST's quirk that a second single spike of
    another sender in the same delivery batch releases the held one and is itself dropped) and records
    one event per transition: ``res.events(sd)`` -> {'senders', 'times', 'state'} (state 1: up, 0:
    down). Events arrive in NEST's delivery order (slice by slice, sender by sender), which is the
    order of the arrays.

    Parameters: start (0 ms), stop (inf), origin (0 ms), label (''), time_in_steps (False).
    """

    name = "spin_detector"
    parameters = {**_DEV_WINDOW, "label": Param("", "1", "Label", "str"),
                  "time_in_steps": Param(False, "1", "Report event times in steps", "bool")}
    direction = "in"
    stream = "spikes"
    accumulated = ()
    resets_state = ()

    @classmethod
    def n_receptors(cls, p):
        return 1

    @classmethod
    def read(cls, state):
        return {}

    @classmethod
    def digest(cls, ev, p, state, dt, md, k_end):
        state = state or {"pending": None}
        ev, state["pending"] = _ordered_new(ev, state, md, k_end)
        slot = np.where(ev["device"], 2 * ((ev["stamps"] - 1) // md) + 1, 2 * ((ev["stamps"] - 1) // md + 1))
        ev = {**ev, "slot": slot}
        pairs, last = spin_decode(ev)
        if last is not None:  # every batch of a neuron's spikes is followed by the detector's update
            pairs.append((last[0], last[1]))
        idx = np.array([i for i, _ in pairs], np.int64)
        st = np.array([s for _, s in pairs], np.int64)
        state["events"] = {"senders": ev["senders"][idx] if len(idx) else np.zeros(0, np.int64),
                           "stamps": ev["stamps"][idx] if len(idx) else np.zeros(0, np.int64),
                           "state": st}
        return state


class correlospinmatrix_detector(_Detector):
    """Auto- and cross-correlation counts of binary neurons' states (NEST: correlospinmatrix_detector).

    NOT REGISTERED YET: its update is not written (it decodes transitions as spin_detector does).

    Connect binary neurons to channel c with ``receptor_type=c`` (0 .. N_channels-1). Transitions are
    decoded from spike multiplicity as by spin_detector; ``count_covariance[i][j][k]`` (shape (N, N,
    1 + 2 tau_max/delta_tau), centre bin tau_max/delta_tau: zero lag) counts the time steps (in units
    of delta_tau) during which channel i was up at t and channel j up at t + lag, for the up periods
    that end in [Tstart, Tstop] (NEST's incremental algorithm).

    Parameters: N_channels (1), delta_tau (0.1 ms, must equal the resolution... NEST: a multiple of
    it), tau_max (1.0 ms, a multiple of delta_tau), Tstart, Tstop, start/stop/origin.
    Output: count_covariance (int64 (N, N, bins)).
    """

    name = "correlospinmatrix_detector"
    parameters = {
        "N_channels": Param(1, "1", "Number of channels", "int"),
        "delta_tau": Param(0.1, "ms", "Width of a bin"),
        "tau_max": Param(1.0, "ms", "Largest lag"),
        "Tstart": Param(0.0, "ms", "Begin of counting"),
        "Tstop": Param(np.inf, "ms", "End of counting"),
        **_DEV_WINDOW,
    }
    accumulated = ("count_covariance",)

    @classmethod
    def check(cls, p):
        super().check(p)
        cls._require(p, "N_channels", np.asarray(p["N_channels"]) > 0, "an integer > 0 (NEST: '/N_channels can only "
                     "be larger than zero')")
