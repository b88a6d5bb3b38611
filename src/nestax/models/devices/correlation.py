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

Delivery order (it decides which spike of a coincident pair is "the arriving one"): the three
correlation detectors are nodes with proxies in NEST, so NEST hands a neuron's spikes of a min_delay
slice to them at the start of the next slice, as events of multiplicity 1, sender by sender (global id
order; a slice split by the end of a ``simulate`` call: the first part's spikes first), each sender's
spikes in time order; a generator connected directly delivers its spikes at once during its update.
nestax replays that order. As in NEST, the spikes a neuron emits in the last slice of a ``simulate``
call reach these detectors only when the next call starts. spin_detector is a local device instead:
it receives every spike at once, whole, during its sender's update (see its docstring).

min_delay (NEST's: the shortest delay of any connection, the detectors' own connections included;
1 ms by default) decides the slices.
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
    # a slice split by the end of a simulate call is updated in two rounds: the first round's spikes
    # (an earlier call) are in the receive buffer before the second's
    call = ev["call"] if "call" in ev else np.zeros(len(st), np.int64)
    return np.lexsort((ev["link"], st, ev["senders"], call, slot))


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
    ncall = state.get("ncall", 0)
    state["ncall"] = ncall + 1
    ev = {**ev, "call": np.full(len(ev["stamps"]), ncall, np.int64)}
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
def spin_handle(last, sender, stamp, m, write):
    """One spike event reaching NEST's binary decoder (spin_detector's handle): ``last`` is the held
    event (sender, stamp, state) or None; ``write(sender, stamp, state)`` records one transition.
    A spike of multiplicity 2 is an up transition; one of multiplicity 1 is held back as a down
    transition; a second single spike of the same sender at the same stamp turns the held one into an
    up transition. Any event releases a held one, and (NEST's rule) a single spike that arrives while
    another is held is itself dropped. Returns the new held event."""
    if m == 1 and last is not None and last[0] == sender and last[1] == stamp:
        last = (sender, stamp, 1)
    had = last is not None
    if had:
        write(*last)
    if m == 2:
        write(sender, stamp, 1)
        return None
    return None if had else (sender, stamp, 0)


def spin_positions(stamps, senders, gid, md):
    """Where NEST hands each spike to a spin_detector (gid ``gid``) within its update rounds: a
    spin_detector receives a sender's spikes at once, during the sender's update, and NEST updates the
    nodes one after the other (gid order) for a whole min_delay slice. Position 2 r + 0 for a spike of
    round r (slice of the emitting step) from a sender updated before the detector, 2 r + 1 after it;
    the detector's own update (which releases a held event) sits at 2 r + 0.5."""
    st = np.asarray(stamps, np.int64)
    return 2 * ((st - 1) // md) + (np.asarray(senders) > gid).astype(np.int64)


def spin_decode(ev, gid, md, k0, k_end, last):
    """Decode the events of one simulate call (stamps in (k0, k_end]; arrays stamps, senders, mult,
    link) as NEST's spin_detector does. ``last``: the event held at the end of the previous call.
    Returns (written (senders, stamps, state) arrays in NEST's order, held event)."""
    pos = spin_positions(ev["stamps"], ev["senders"], gid, md)
    order = np.lexsort((ev["link"], np.arange(len(pos)), ev["stamps"], ev["senders"], pos))
    out = []
    write = lambda s, t, x: out.append((s, t, x))
    r0 = k0 // md
    # an event held over from the previous call waits for the first update of this call
    p_last = 2 * r0 - 0.25
    for i in order.tolist():
        p = int(pos[i])
        if last is not None and math.floor((p - 0.5) / 2) >= math.ceil((p_last - 0.5) / 2):
            write(*last)  # the detector's update came between the held event and this one
            last = None
        last = spin_handle(last, int(ev["senders"][i]), int(ev["stamps"][i]), int(ev["mult"][i]), write)
        p_last = p
    r_end = (k_end - 1) // md
    if last is not None and k_end > k0 and 2 * r_end + 0.5 > p_last:
        write(*last)
        last = None
    cols = np.array(out, np.int64).reshape(-1, 3)
    return (cols[:, 0], cols[:, 1], cols[:, 2]), last


# --------------------------------------------------------------------------- correlospinmatrix_detector
def spinmatrix_fresh(N, n_bins):
    return {"count_covariance": np.zeros((N, N, n_bins), np.int64), "last_i": 0, "t_last": None,
            "tentative_down": False, "curr_state": [False] * N, "last_change": [0] * N, "incoming": [],
            "pending": None}


def _trunc_div(a, b):
    """C's integer division (rounds toward zero)."""
    q = abs(a) // b
    return q if a >= 0 else -q


def spinmatrix_update(state, ev, D, T, md):
    """Feed events (in delivery order: stamps, receptors, mult) to a correlospinmatrix_detector state,
    NEST's incremental algorithm step by step. Decoding: a single spike is a tentative down transition
    of its channel, confirmed by the next event that is not its twin (a second single spike of the
    same channel at the same stamp, which makes it an up transition: the channel is on from that stamp).
    On a confirmed down transition of channel i, its up period [t_on, t_off) (steps) becomes a pulse;
    pulses are kept sorted by t_off, and the new pulse is counted against every kept pulse (itself
    included) j: count_covariance[i][j][t0 - k] and [j][i][t0 + k] += the overlap (steps) of pulse i
    with pulse j shifted by k delta_tau (t0 = tau_max/delta_tau the zero-lag bin; k from
    trunc(max(t_j_on - t_i_off, -tau_max)/delta_tau) to trunc(min(t_j_off - t_i_on, tau_max)/delta_tau),
    positive k only for i != j, zero lag once for i = j). Pulses that ended more than tau_max +
    delta_tau + min_delay before the earliest start among the channels that are on are dropped."""
    cc, curr, last_change, inc = state["count_covariance"], state["curr_state"], state["last_change"], state["incoming"]
    N = cc.shape[0]
    t0 = T // D
    for stamp, ch, m in zip(ev["stamps"].tolist(), ev["receptors"].tolist(), ev["mult"].tolist()):
        down = False
        if m == 1:
            if ch == state["last_i"] and stamp == state["t_last"]:
                curr[ch] = True
                last_change[ch] = stamp
                state["tentative_down"] = False
            else:
                down = state["tentative_down"]
                state["tentative_down"] = True
        elif m == 2:
            curr[ch] = True
            down = state["tentative_down"]
            curr[state["last_i"]] = False
            last_change[ch] = stamp
            state["tentative_down"] = False
        if down:
            i = state["last_i"]
            t_i_on, t_i_off = last_change[i], state["t_last"]
            t_min_on = t_i_on
            for n in range(N):
                if curr[n] and last_change[n] < t_min_on:
                    t_min_on = last_change[n]
            drop = 0
            while drop < len(inc) and (t_min_on - inc[drop][1]) >= T + D + md:
                drop += 1
            if drop:
                del inc[:drop]
            pos = 0
            while pos < len(inc) and not inc[pos][1] > t_i_off:
                pos += 1
            inc.insert(pos, (t_i_on, t_i_off, i))
            for t_j_on, t_j_off, j in inc:
                lag = min(t_i_off, t_j_off) - max(t_i_on, t_j_on)
                if lag > 0:
                    cc[i, j, t0] += lag
                    if i != j:
                        cc[j, i, t0] += lag
                ks = list(range(_trunc_div(max(t_j_on - t_i_off, -T), D), 0))
                if i != j:
                    ks += list(range(1, _trunc_div(min(t_j_off - t_i_on, T), D) + 1))
                for k in ks:
                    lag = min(t_i_off, t_j_off - k * D) - max(t_i_on, t_j_on - k * D)
                    if lag > 0:
                        cc[i, j, t0 - k] += lag
                        cc[j, i, t0 + k] += lag
            last_change[i] = t_i_off
        state["last_i"] = ch
        state["t_last"] = stamp
    return state


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
    def digest(cls, ev, p, state, dt, md, k_end, gid=None):
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
    def digest(cls, ev, p, state, dt, md, k_end, gid=None):
        state = state or cls.fresh(p, dt)
        ev, state["pending"] = _ordered_new(ev, state, md, k_end)
        D, T, t0, t1 = cls._window(p, dt)
        return correlomatrix_update(state, ev, D, T, t0, t1, md)


@register
class spin_detector(Recorder):
    """Records the state transitions of binary neurons (NEST: spin_detector).

    Binary neurons (ginzburg_neuron, mcculloch_pitts_neuron, erfc_neuron) send an up transition as a
    spike of multiplicity 2 and a down transition as a spike of multiplicity 1. The detector decodes
    them and records one event per transition: ``res.events(sd)`` -> {'senders', 'times', 'state'}
    (state 1: up, 0: down), in the order NEST writes them.

    NEST's decoder, reproduced exactly (:func:`spin_handle`): a spin_detector is a local device, so a
    sender's spike reaches it at once, during the sender's update, with its multiplicity (one event per
    connection). A spike of multiplicity 2 is written as an up transition. A spike of multiplicity 1 is
    held back: a second one of the same sender at the same time makes it an up transition; the
    detector's own update (once per min_delay slice, in gid order among the nodes, and at the end of
    every ``simulate`` call) or any other spike writes it as a down transition, and a single spike that
    arrives while another is held is dropped (NEST's rule: with several binary neurons switching off in
    the same slice some down transitions are missing; a neuron connected twice is recorded with state 1
    on a down transition). If the detector was created before its senders, a spike emitted after its
    update in the last slice of a call stays held until the next call decides it.

    Senders: binary neurons, and spike generators (each spike time a spike of multiplicity 1, as NEST
    sends repeated spike_times). Difference: a spike_generator's ``spike_multiplicities`` m > 1 reach
    nestax's detector as m single spikes, NEST's as one spike of multiplicity m (written at once as an
    up transition); the two agree unless another sender's event is held at that moment.

    Parameters: start (0 ms), stop (inf), origin (0 ms): only spikes stamped in (origin + start,
    origin + stop] are seen; label (''); time_in_steps (False).

    Reading: ``res.events(sd)`` (the transitions written during that call), or NEST's accumulated view
    ``sim.get(sd, "events")`` / ``sim.get(sd, "n_events")``; ``sim.set(sd, n_events=0)`` clears the
    stored events but not the decoder (a held event is written after the clear, as in NEST).
    """

    name = "spin_detector"
    parameters = {**_DEV_WINDOW, "label": Param("", "1", "Label", "str"),
                  "time_in_steps": Param(False, "1", "Report event times in steps", "bool")}
    direction = "in"
    stream = "spikes"
    accumulated = ()
    resets_state = ()
    whole_spikes = True
    keeps_events = True  # sim.get(sd, "events" / "n_events") since the last sim.set(sd, n_events=0)

    @classmethod
    def n_receptors(cls, p):
        return 1

    @classmethod
    def read(cls, state):
        return {}

    @classmethod
    def digest(cls, ev, p, state, dt, md, k_end, gid=None):
        state = state or {"held": None, "k_end": 0}
        k0 = state["k_end"]
        (snd, st, x), state["held"] = spin_decode(ev, gid, md, k0, k_end, state["held"])
        state["k_end"] = k_end
        state["events"] = {"senders": snd, "stamps": st, "state": x}
        return state


@register
class correlospinmatrix_detector(_Detector):
    """Auto- and cross-correlation counts of binary neurons' states (NEST: correlospinmatrix_detector).

    Connect binary neurons to channel c with ``receptor_type=c`` (0 .. N_channels-1); all connections
    to one channel are pooled. The detector decodes its channels' spikes into up and down transitions
    (a binary neuron sends an up transition as two spikes of one stamp, a down transition as one) and,
    each time a down transition is confirmed, counts the finished up period of that channel against
    the up periods kept so far: ``count_covariance[i][j][k]`` (integers, shape (N, N, 1 + 2
    tau_max/delta_tau); centre bin tau_max/delta_tau: zero lag) accumulates the number of time steps
    during which channel i was up at t and channel j up at t + (k - tau_max/delta_tau) delta_tau.

    NEST's algorithm is reproduced step by step (:func:`spinmatrix_update`), with its rules:

    * the detector is a node with proxies: a neuron's spikes arrive as single events at the start of
      the next min_delay slice (sender by sender), so an up transition is two consecutive events;
    * decoding is by channel, not by sender: two neurons of one channel that switch off at the same
      stamp read as one switching on; a down transition is counted only when the channel's next event
      (of any channel) arrives, so the last down transition of a run waits for the next event;
    * Tstart and Tstop are accepted (>= 0) but, as in NEST 3.10, do not limit the counting; only the
      device window (start, stop, origin) does;
    * min_delay (the shortest delay of any connection, the detector's included) enters the rule that
      drops old pulses.

    ===============  =========  ======  ================================================
    parameter        default    unit    constraint
    ===============  =========  ======  ================================================
    N_channels       1                  an integer >= 1
    delta_tau        0.1        ms      a multiple of the resolution (NEST: the resolution)
    tau_max          1.0        ms      a multiple of delta_tau, >= 0 (NEST: 10 delta_tau)
    Tstart, Tstop    0, inf     ms      >= 0 (not used in the counting, as in NEST)
    start/stop/origin 0/inf/0   ms      device window
    ===============  =========  ======  ================================================

    Output (``sim.get(d, "count_covariance")``, ``res.get(d, "count_covariance")``): int64 (N, N,
    bins). Setting N_channels, delta_tau, tau_max, Tstart or Tstop clears it.
    """

    name = "correlospinmatrix_detector"
    parameters = {
        "N_channels": Param(1, "1", "Number of channels", "int"),
        "delta_tau": Param(0.1, "ms", "Width of a bin"),
        "tau_max": Param(1.0, "ms", "Largest lag"),
        "Tstart": Param(0.0, "ms", "Begin of counting (not used by NEST 3.10)"),
        "Tstop": Param(np.inf, "ms", "End of counting (not used by NEST 3.10)"),
        **_DEV_WINDOW,
    }
    accumulated = ("count_covariance",)

    @classmethod
    def check(cls, p):
        cls._require(p, "stop", np.asarray(p["stop"]) >= np.asarray(p["start"]), "stop >= start")
        cls._require(p, "N_channels", np.asarray(p["N_channels"]) > 0, "an integer > 0 (NEST: '/N_channels can only "
                     "be larger than zero')")
        cls._positive(p, "delta_tau")
        for n in ("tau_max", "Tstart", "Tstop"):
            cls._require(p, n, np.asarray(p[n]) >= 0, f"a value >= 0 ms (NEST: '/{n} must not be negative')")

    @classmethod
    def fresh(cls, p, dt):
        D, T, _, _ = cls._window(p, dt)
        return spinmatrix_fresh(int(p["N_channels"]), 1 + 2 * T // D)

    @classmethod
    def digest(cls, ev, p, state, dt, md, k_end, gid=None):
        state = state or cls.fresh(p, dt)
        ev, state["pending"] = _ordered_new(ev, state, md, k_end)
        D, T, _, _ = cls._window(p, dt)
        return spinmatrix_update(state, ev, D, T, md)
