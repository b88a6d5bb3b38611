"""Integrate-and-fire neurons with precise (off-grid) spike times: NEST's ``_ps`` models.

The models mirror NEST 3.10's iaf_psc_exp_ps, iaf_psc_delta_ps and parrot_neuron_ps. They declare
``Neuron.precise``: a spike is stamped at the end of its step and carries its offset o within the
step (it happened at stamp*h - o), and they read the spikes of precise senders in time order with
their offsets (see :mod:`nestax.engine.precise`). Spikes of grid senders arrive at offset 0, after
the precise events of the step. The state is integrated exactly from event to event within a step;
the threshold crossing between two events is located as NEST locates it (regula falsi for the
exponential currents, the closed-form crossing time for delta input). At most one spike per step
(t_ref >= one step, as NEST requires).

Common timing, step k covering (k h, (k+1) h] (offsets count from the end of the step):
1. if V_m >= V_th at the start of the step (only after V_m was set above threshold): a spike at
   offset h (1 - eps), as NEST's "instant spike" at the start of a slice;
2. the refractory period ends inside the step at the offset of the last spike, t_ref after it (a
   pseudo-event, before input events of the same or a smaller offset, as NEST's slice ring buffer);
3. events in time order: propagate to the event, check the threshold (a crossing gives a spike and
   the reset), add the input; then propagate to the end of the step and check again;
4. a step with no event at all uses NEST's fixed-step propagators (and clamps V_m at V_min).
The generator current of the step (``I``) is constant over the step, with NEST's one-step lag.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..base import Neuron, Param, State
from ..common import OnePortRouting, route_one_port
from ..propagators import refractory_steps
from ..registry import register
from .iaf_psc import _COMMON, _IafPscBase

#: NEST: spikes of a neuron superthreshold at the start of a step happen at offset h (1 - eps)
_EPS = float(np.finfo(float).eps)
#: NEST's regula falsi (libnestutil/regula_falsi.h): iterations and |V - V_th| at which it stops (mV)
RF_MAX_ITER = 500
RF_TOL = 1e-14


def psc_exp_to_v_nest(tau_syn, tau_m, c_m, h):
    """NEST's IAFPropagatorExp: response of V to a unit exponential current over h, computed as NEST
    does (gamma exp(-h/tau_syn) expm1(h/beta), or the tau_syn = tau_m limit h/C exp(-h/tau_m) when
    that is not a positive normal number)."""
    diff = tau_m - tau_syn
    same = diff == 0
    beta = tau_syn * tau_m / jnp.where(same, 1.0, diff)
    inv_beta = diff / (tau_syn * tau_m)
    p = beta / c_m * jnp.exp(-h / tau_syn) * jnp.expm1(h * inv_beta)
    ok = ~same & jnp.isfinite(p) & (p > 0) & (jnp.abs(p) >= np.finfo(float).tiny)
    return jnp.where(ok, p, h / c_m * jnp.exp(-h / tau_m))


def leak_to_v_nest(tau_m, c_m, h):
    """Response of V to a unit constant current over h, -tau_m/C expm1(-h/tau_m) (NEST's P20)."""
    return -tau_m / c_m * jnp.expm1(-h / tau_m)


def regula_falsi(f, dt, active):
    """NEST's regula falsi on [0, dt] (Illinois variant), elementwise: the root of f where ``active``
    (f(0) < 0 <= f(dt)); stops where |f(root)| < 1e-14 or after 500 iterations."""
    a = jnp.zeros_like(dt)
    b = jnp.where(active, dt, 1.0)
    fa, fb = f(a), f(b)

    def cond(c):
        it, done = c[0], c[-1]
        return (it < RF_MAX_ITER) & ~jnp.all(done)

    def body(c):
        it, a, b, fa, fb, last, root, done = c
        den = jnp.where(fb == fa, 1.0, fb - fa)
        r = (a * fb - b * fa) / den
        fr = f(r)
        root = jnp.where(done, root, r)
        now = ~done & (jnp.abs(fr) < RF_TOL)
        step = ~done & ~now
        left = step & (fa * fr > 0.0)
        right = step & ~left & (fb * fr > 0.0)
        a2 = jnp.where(left, r, a)
        fa2 = jnp.where(left, fr, jnp.where(right & (last == -1), fa / 2, fa))
        b2 = jnp.where(right, r, b)
        fb2 = jnp.where(right, fr, jnp.where(left & (last == 1), fb / 2, fb))
        last2 = jnp.where(left, 1, jnp.where(right, -1, last))
        # neither side (fr == 0 exactly would have stopped): NEST raises; keep the root found
        done2 = done | now | (step & ~left & ~right)
        return it + 1, a2, b2, fa2, fb2, last2, root, done2

    c = (jnp.zeros((), jnp.int32), a, b, fa, fb, jnp.zeros(dt.shape, jnp.int32), jnp.zeros_like(dt), ~active)
    return jax.lax.while_loop(cond, body, c)[6]


def merge_grid_input(events, grid):
    """The step's events with the grid senders' input appended at offset 0, right behind each neuron's
    valid precise events (so that runs of equal offsets stay adjacent): (w, off, valid, n_loop), n_loop
    the number of places any neuron uses (the event loop's length in this step)."""
    w, o, v = events
    n, G = w.shape[0], len(grid)
    cnt = v.sum(axis=1).astype(jnp.int32)
    w = jnp.concatenate([w, jnp.zeros((n, G), w.dtype)], axis=1)
    o = jnp.concatenate([o, jnp.zeros((n, G), o.dtype)], axis=1)
    v = jnp.concatenate([v, jnp.zeros((n, G), bool)], axis=1)
    rows = jnp.arange(n)
    for g, (wg, vg) in enumerate(grid):
        pos = cnt + g
        w = w.at[rows, pos].set(wg.astype(w.dtype))
        o = o.at[rows, pos].set(0.0)
        v = v.at[rows, pos].set(vg)
    return w, o, v, jnp.max(cnt, initial=0) + G


class _PreciseBase(_IafPscBase):
    precise = True
    settable_state = ("V_m",)

    @classmethod
    def check(cls, p):
        super().check(p)
        v_min = np.asarray(p["V_min"], float)
        cls._require(p, "V_reset", np.asarray(p["V_reset"], float) >= v_min,
                     "V_reset >= V_min (NEST: 'Reset potential must be greater equal minimum potential')")

    @classmethod
    def check_grid(cls, p, dt):
        super().check_grid(p, dt)
        steps = np.asarray(refractory_steps(np.asarray(p["t_ref"], float), dt))
        cls._require(p, "t_ref", steps >= 1, f"at least one time step ({dt} ms) (NEST: 'Refractory time must be "
                     "at least one time step')")

    @staticmethod
    def _start(s, d):
        """Steps since the last spike at this step's end, the refractory end due in this step."""
        since = s["_since"] + 1
        return since, (s["is_refractory"] != 0) & (since == d["ref_steps"])


@register
class iaf_psc_exp_ps(_PreciseBase):
    """Leaky integrate-and-fire neuron with exponential PSCs and precise spike times
    (NEST: iaf_psc_exp_ps).

    dV_m/dt = -(V_m - E_L)/tau_m + (I_syn_ex + I_syn_in + I_e + I_gen)/C_m,
    dI_syn_X/dt = -I_syn_X/tau_syn_X; a spike of weight w (pA) at its precise time makes I_syn_ex
    (w >= 0) or I_syn_in (w < 0) jump by w, each event on its own. The threshold crossing inside a
    step is found by regula falsi on V_m(t) - V_th from the state after the previous event (|V - V_th|
    < 1e-14 mV, NEST's criterion). While refractory, V_m stays at V_reset and the currents decay.

    Parameters: E_L (mV, -70), C_m (pF, 250, > 0), tau_m (ms, 10, > 0), tau_syn_ex (ms, 2, > 0),
    tau_syn_in (ms, 2, > 0), t_ref (ms, 2, >= one step), V_th (mV, -55), V_reset (mV, -70, < V_th,
    >= V_min), V_min (mV, -inf), I_e (pA, 0).
    Recordables: V_m. State also I_syn_ex, I_syn_in (pA, settable), is_refractory.
    """

    name = "iaf_psc_exp_ps"
    weight_unit = "pA"
    ports = ("ex", "in")
    settable_state = ("V_m", "I_syn_ex", "I_syn_in")
    parameters = {
        **_COMMON,
        "tau_syn_ex": Param(2.0, "ms", "Excitatory synaptic time constant"),
        "tau_syn_in": Param(2.0, "ms", "Inhibitory synaptic time constant"),
        "V_min": Param(-np.inf, "mV", "Lower bound of V_m"),
    }
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "I_syn_ex": State("pA", 0.0, "Excitatory synaptic current"),
        "I_syn_in": State("pA", 0.0, "Inhibitory synaptic current"),
        "is_refractory": State("1", 0, "1 while refractory"),
        "_since": State("1", 0, "Steps from the last spike's stamp to the end of the last step"),
        "_last_offset": State("ms", 0.0, "Offset of the last spike"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m",)

    @classmethod
    def prepare(cls, p, dt):
        return {
            "h": jnp.asarray(dt, jnp.asarray(p["tau_m"]).dtype),
            "P20": leak_to_v_nest(p["tau_m"], p["C_m"], dt),
            "P21ex": psc_exp_to_v_nest(p["tau_syn_ex"], p["tau_m"], p["C_m"], dt),
            "P21in": psc_exp_to_v_nest(p["tau_syn_in"], p["tau_m"], p["C_m"], dt),
            "expm1_m": jnp.expm1(-dt / p["tau_m"]),
            "P11ex": jnp.exp(-dt / p["tau_syn_ex"]),
            "P11in": jnp.exp(-dt / p["tau_syn_in"]),
            "theta": p["V_th"] - p["E_L"],
            "v_reset": p["V_reset"] - p["E_L"],
            "v_min": p["V_min"] - p["E_L"],
            "ref_steps": refractory_steps(p["t_ref"], dt),
        }

    @classmethod
    def _v_at(cls, p, t, y0, y1e, y1i, y2):
        """V (relative to E_L) after t ms from (y1e, y1i, y2) with constant current y0 + I_e."""
        return (leak_to_v_nest(p["tau_m"], p["C_m"], t) * (p["I_e"] + y0)
                + psc_exp_to_v_nest(p["tau_syn_ex"], p["tau_m"], p["C_m"], t) * y1e
                + psc_exp_to_v_nest(p["tau_syn_in"], p["tau_m"], p["C_m"], t) * y1i
                + y2 * jnp.exp(-t / p["tau_m"]))

    @classmethod
    def _crossing(cls, p, d, t, y0, before, v_end, refr):
        """Spike in an interval of t ms that started from ``before`` = (V, I_ex, I_in) and ended at
        V = ``v_end``: (where, end of the interval the root is searched in). Here: V_th reached at the
        end of the interval, outside the refractory period."""
        return ~refr & (v_end >= d["theta"]), t

    @classmethod
    def update(cls, p, d, s, syn, I, events):
        w_ev, o_ev, v_ev = events
        n = s["V_m"].shape[0]
        h = d["h"]
        dtype = s["V_m"].dtype
        # grid input: at offset 0, after every precise event (excitatory then inhibitory sum)
        w_all, o_all, v_all, n_loop = merge_grid_input(events, [(syn[0], syn[0] != 0), (syn[1], syn[1] != 0)])
        y2, y1e, y1i = s["V_m"], s["I_syn_ex"], s["I_syn_in"]
        refr = s["is_refractory"] != 0
        # 1. superthreshold at the start of the step
        inst = y2 >= d["theta"]
        y2 = jnp.where(inst, d["v_reset"], y2)
        refr = refr | inst
        since, pend = cls._start(s, d)
        since = jnp.where(inst, 0, since)
        pend = pend & ~inst
        r_off = s["_last_offset"]
        any_event = jnp.any(v_all, axis=1) | pend
        zero = jnp.zeros((n,), dtype)

        # 4. no event: NEST's fixed-step propagators
        y2_fix = d["P20"] * (p["I_e"] + I) + d["P21ex"] * y1e + d["P21in"] * y1i + d["expm1_m"] * y2 + y2
        y2_fix = jnp.where(refr, y2, jnp.maximum(y2_fix, d["v_min"]))
        x_start = (y2, y1e, y1i)
        cross_fix, tmax_fix = cls._crossing(p, d, jnp.broadcast_to(h, (n,)), I, x_start, y2_fix, refr)

        # 3. event by event; a crossing keeps (t0, ministep, state before) for the root search
        def sub(c, ev_off, active):
            y2, y1e, y1i, refr, last, spk, t0, ms0, b2, b1e, b1i = c
            ms = last - ev_off
            go = active & (ms > 0)
            t = jnp.where(go, ms, 1.0)
            y2n = jnp.where(refr, y2, cls._v_at(p, t, I, y1e, y1i, y2))
            y1en = y1e * jnp.exp(-t / p["tau_syn_ex"])
            y1in = y1i * jnp.exp(-t / p["tau_syn_in"])
            cross, tmax = cls._crossing(p, d, t, I, (y2, y1e, y1i), y2n, refr)
            cross = go & cross
            t0 = jnp.where(cross, h - last, t0)
            ms0 = jnp.where(cross, tmax, ms0)
            b2, b1e, b1i = (jnp.where(cross, x, bx) for x, bx in ((y2, b2), (y1e, b1e), (y1i, b1i)))
            y2n = jnp.where(cross, d["v_reset"], y2n)
            return (jnp.where(go, y2n, y2), jnp.where(go, y1en, y1e), jnp.where(go, y1in, y1i), refr | cross,
                    jnp.where(active, ev_off, last), spk | cross, t0, ms0, b2, b1e, b1i)

        def refractory_end(c, pend, valid, before):
            """The pseudo-event ending the refractory period, where due before an event at ``before``
            (NEST's slice ring buffer returns it first when its offset is >= the event's)."""
            due = pend & valid & (r_off >= before)
            c = sub(c, r_off, due)
            c = c[:3] + (c[3] & ~due,) + c[4:]
            return c, pend & ~due

        def event(j, cp):
            c, pend = cp
            o, w, v = o_all[:, j], w_all[:, j], v_all[:, j]
            c, pend = refractory_end(c, pend, v, o)
            c = sub(c, o, v)
            y2, y1e, y1i = c[:3]
            y1e = jnp.where(v & (w >= 0), y1e + w, y1e)
            y1i = jnp.where(v & (w < 0), y1i + w, y1i)
            return (y2, y1e, y1i) + c[3:], pend

        c0 = (y2, y1e, y1i, refr, jnp.broadcast_to(h, (n,)).astype(dtype), jnp.zeros((n,), bool), zero, zero,
              y2, y1e, y1i)
        c, pend_left = jax.lax.fori_loop(0, n_loop, event, (c0, pend))
        c, _ = refractory_end(c, pend_left, jnp.ones((n,), bool), jnp.zeros((n,), dtype))
        c = sub(c, jnp.zeros((n,), dtype), jnp.ones((n,), bool))  # the rest of the step
        y2e, y1ee, y1ie, refr_e, _, spk_e, t0, ms0, b2, b1e, b1i = c

        # the two paths, per neuron
        ev = any_event
        spk_fix = cross_fix & ~ev
        y2 = jnp.where(ev, y2e, jnp.where(cross_fix, d["v_reset"], y2_fix))
        y1e = jnp.where(ev, y1ee, y1e * d["P11ex"])
        y1i = jnp.where(ev, y1ie, y1i * d["P11in"])
        refr = jnp.where(ev, refr_e, refr | cross_fix)
        spk = jnp.where(ev, spk_e, spk_fix)
        t0 = jnp.where(ev, t0, 0.0)
        ms0 = jnp.where(ev, ms0, tmax_fix)
        b2 = jnp.where(ev, b2, x_start[0])
        b1e = jnp.where(ev, b1e, x_start[1])
        b1i = jnp.where(ev, b1i, x_start[2])

        def root():
            f = lambda t: cls._v_at(p, t, I, b1e, b1i, b2) - d["theta"]
            return regula_falsi(f, ms0, spk)

        r = jax.lax.cond(jnp.any(spk), root, lambda: jnp.zeros_like(ms0))
        off = jnp.where(spk, h - (t0 + r), jnp.where(inst, h * (1 - _EPS), 0.0))
        fired = spk | inst
        last_off = jnp.where(fired, off, s["_last_offset"])
        since = jnp.where(spk, 0, since)
        new = {"V_m": y2, "I_syn_ex": y1e, "I_syn_in": y1i, "is_refractory": refr.astype(s["is_refractory"].dtype),
               "_since": jnp.minimum(since, 2**30).astype(s["_since"].dtype), "_last_offset": last_off}
        return new, (fired.astype(jnp.int32)[:, None], off[:, None])


@register
class parrot_neuron_ps(Neuron):
    """Repeats every spike it receives at its precise time, keeping multiplicity (NEST:
    parrot_neuron_ps).

    An event arriving at stamp s with offset o (multiplicity m) is re-emitted stamped s with offset
    o and multiplicity m; weights are ignored. Spikes of grid senders are repeated at offset 0. One
    receptor (0). No parameters of its own.
    """

    name = "parrot_neuron_ps"
    kind = "neuron"
    precise = True
    ports = ("spikes",)
    parameters = {}
    state = {}
    counts_input = True
    weight_unit = "any"

    @classmethod
    def recordables(cls):
        return ()

    @classmethod
    def route(cls, weights, receptor_type):
        return route_one_port(weights)

    @classmethod
    def prepare(cls, p, dt):
        return {}

    @classmethod
    def update(cls, p, d, s, syn, I, events):
        w, o, v = events
        grid = jnp.round(syn[0]).astype(jnp.int32)
        counts = jnp.concatenate([jnp.where(v, jnp.round(w), 0).astype(jnp.int32), grid[:, None]], axis=1)
        offs = jnp.concatenate([jnp.where(v, o, 0.0), jnp.zeros_like(o[:, :1])], axis=1)
        return s, (counts, offs)


@register
class iaf_psc_delta_ps(OnePortRouting, _PreciseBase):
    """Leaky integrate-and-fire neuron with delta-shaped PSCs and precise spike times
    (NEST: iaf_psc_delta_ps).

    dV_m/dt = -(V_m - E_L)/tau_m + (I_e + I_gen)/C_m; a spike of weight w (mV) makes V_m jump by w at
    its precise time. Simultaneous spikes (equal offsets) are summed first, as NEST does. The neuron
    fires (a) when a jump takes V_m to V_th or above (at the jump's time), or (b) when the drift
    reaches V_th between two events: the crossing time follows in closed form,
    t = -tau_m ln((V_inf - V)/(V_inf - V_th)) before the end of the interval, V_inf = R (I_e + I_gen);
    the spike that ended the interval is then lost (NEST drops it: the neuron fired before it came).
    Spikes arriving while refractory are dropped (NEST's ``refractory_input`` is always False).
    V_m is clamped at V_min only in steps without any event (as in NEST).

    Parameters: E_L (mV, -70), C_m (pF, 250, > 0), tau_m (ms, 10, > 0), t_ref (ms, 2, >= one step),
    V_th (mV, -55), V_reset (mV, -70, < V_th, >= V_min), V_min (mV, -1.797e308 = -DBL_MAX), I_e (pA, 0).
    Recordables: V_m. State also is_refractory.
    """

    name = "iaf_psc_delta_ps"
    weight_unit = "mV"
    ports = ("spikes",)
    parameters = {
        **_COMMON,
        "V_min": Param(-np.finfo(float).max, "mV", "Lower bound of V_m (NEST: -DBL_MAX)"),
    }
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "is_refractory": State("1", 0, "1 while refractory"),
        "_since": State("1", 0, "Steps from the last spike's stamp to the end of the last step"),
        "_last_offset": State("ms", 0.0, "Offset of the last spike"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m",)

    @classmethod
    def prepare(cls, p, dt):
        return {
            "h": jnp.asarray(dt, jnp.asarray(p["tau_m"]).dtype),
            "expm1_t": jnp.expm1(-dt / p["tau_m"]),
            "R": p["tau_m"] / p["C_m"],
            "theta": p["V_th"] - p["E_L"],
            "v_reset": p["V_reset"] - p["E_L"],
            "v_min": p["V_min"] - p["E_L"],
            "ref_steps": refractory_steps(p["t_ref"], dt),
        }

    @classmethod
    def update(cls, p, d, s, syn, I, events):
        w_ev, o_ev, v_ev = events
        n = s["V_m"].shape[0]
        h = d["h"]
        dtype = s["V_m"].dtype
        w_all, o_all, v_all, n_loop = merge_grid_input(events, [(syn[0], syn[0] != 0)])
        # the last event of each run of equal offsets carries the run's summed weight
        nxt_same = jnp.concatenate([v_all[:, 1:] & (o_all[:, 1:] == o_all[:, :-1]), jnp.zeros((n, 1), bool)], axis=1)
        v_inf = d["R"] * (I + p["I_e"])
        U = s["V_m"]
        refr = s["is_refractory"] != 0
        inst = U >= d["theta"]
        U = jnp.where(inst, d["v_reset"], U)
        refr = refr | inst
        since, pend = cls._start(s, d)
        since = jnp.where(inst, 0, since)
        pend = pend & ~inst
        r_off = s["_last_offset"]
        any_event = jnp.any(v_all, axis=1) | pend

        def crossing(U):
            """Time from the threshold crossing by the drift to the current point (NEST's emit_spike_)."""
            ratio = jnp.where(v_inf - d["theta"] != 0, (v_inf - U) / (v_inf - d["theta"]), 1.0)
            return -p["tau_m"] * jnp.log(jnp.where(ratio > 0, ratio, 1.0))

        # no event: NEST's fixed-step update
        U_fix = -d["expm1_t"] * d["R"] * (I + p["I_e"]) + d["expm1_t"] * U + U
        U_fix = jnp.maximum(U_fix, d["v_min"])
        spk_fix = ~refr & (U_fix >= d["theta"])
        off_fix = crossing(U_fix)
        U_fix = jnp.where(spk_fix, d["v_reset"], jnp.where(refr, U, U_fix))

        def propagate(U, dt_):
            e = jnp.expm1(-dt_ / p["tau_m"])
            return -v_inf * e + U * e + U

        def one(c, o, w, act, is_refr_end):
            """Event (or refractory end) at offset o with weight w where ``act``."""
            U, refr, t, spk, off = c
            # refractory: time moves on, the input is dropped; the refractory end clears the flag
            in_refr = act & refr
            ends = in_refr if is_refr_end else jnp.zeros_like(act)
            # not refractory: propagate to the event, then threshold by drift, else the jump
            free = jnp.zeros_like(act) if is_refr_end else act & ~refr
            U1 = jnp.where(free, propagate(U, jnp.where(free, t - o, 0.0)), U)
            drift = free & (U1 >= d["theta"])
            off = jnp.where(drift, o + crossing(U1), off)
            U2 = jnp.where(free & ~drift, U1 + w, U1)
            jump = free & ~drift & (U2 >= d["theta"])
            off = jnp.where(jump, o, off)
            fired = drift | jump
            U2 = jnp.where(fired, d["v_reset"], U2)
            refr = (refr & ~ends) | fired
            return (U2, refr, jnp.where(act, o, t), spk | fired, off)

        def event(j, cpa):
            c, pend, acc = cpa
            o, w, v = o_all[:, j], w_all[:, j], v_all[:, j]
            acc = acc + jnp.where(v, w, 0.0)
            last = v & ~nxt_same[:, j]
            due = pend & last & (r_off >= o)
            c = one(c, r_off, 0.0, due, True)
            c = one(c, o, acc, last, False)
            return c, pend & ~due, jnp.where(last, 0.0, acc)

        zero = jnp.zeros((n,), dtype)
        c0 = (U, refr, jnp.broadcast_to(h, (n,)).astype(dtype), jnp.zeros((n,), bool), zero)
        c, pend_left, _ = jax.lax.fori_loop(0, n_loop, event, (c0, pend, zero))
        c = one(c, r_off, 0.0, pend_left, True)
        U_e, refr_e, t_e, spk_e, off_e = c
        rest = ~refr_e & (t_e > 0)
        U_r = jnp.where(rest, propagate(U_e, jnp.where(rest, t_e, 0.0)), U_e)
        drift = rest & (U_r >= d["theta"])
        off_e = jnp.where(drift, crossing(U_r), off_e)
        U_e = jnp.where(drift, d["v_reset"], U_r)
        refr_e = refr_e | drift
        spk_e = spk_e | drift

        ev = any_event
        spk = jnp.where(ev, spk_e, spk_fix)
        U = jnp.where(ev, U_e, U_fix)
        refr = jnp.where(ev, refr_e, refr | spk_fix)
        off = jnp.where(spk, jnp.where(ev, off_e, off_fix), jnp.where(inst, h * (1 - _EPS), 0.0))
        fired = spk | inst
        since = jnp.where(spk, 0, since)
        new = {"V_m": U, "is_refractory": refr.astype(s["is_refractory"].dtype),
               "_since": jnp.minimum(since, 2**30).astype(s["_since"].dtype),
               "_last_offset": jnp.where(fired, off, s["_last_offset"])}
        return new, (fired.astype(jnp.int32)[:, None], off[:, None])


def psc_alpha_to_v_nest(tau_syn, tau_m, c_m, h):
    """NEST's IAFPropagatorAlpha: (P31, P32), the responses of V over h to a unit dI (alpha kernel's
    derivative state) and to a unit I, computed as NEST does (the singular forms where NEST uses them:
    P31 when h <= 1e-7 tau_m**2 / |tau_m - tau_syn|, P32 as for exponential currents)."""
    diff = tau_m - tau_syn
    same = diff == 0
    beta = tau_syn * tau_m / jnp.where(same, 1.0, diff)
    gamma = beta / c_m
    inv_beta = diff / (tau_syn * tau_m)
    e_syn = jnp.exp(-h / tau_syn)
    em1 = jnp.expm1(h * inv_beta)
    p32 = psc_exp_to_v_nest(tau_syn, tau_m, c_m, h)
    regular = ~same & (h * jnp.abs(diff) > 1e-7 * tau_m * tau_m)
    p31 = jnp.where(regular, gamma * e_syn * (beta * em1 - h), 0.5 * h * h / c_m * jnp.exp(-h / tau_m))
    return p31, p32


@register
class iaf_psc_alpha_ps(_PreciseBase):
    """Leaky integrate-and-fire neuron with alpha-shaped PSCs and precise spike times
    (NEST: iaf_psc_alpha_ps).

    dV_m/dt = -(V_m - E_L)/tau_m + (I_syn_ex + I_syn_in + I_e + I_gen)/C_m; each synaptic current is an
    alpha function, I = dI t-integrated: dI_X/dt = -dI_X/tau_syn_X, dI_syn_X/dt = dI_X - I_syn_X/tau_syn_X.
    A spike of weight w (pA) at its precise time adds e/tau_syn_X w to dI_X (w >= 0: ex, else in), so
    I_syn peaks at w after tau_syn. Crossings inside a step by regula falsi, as iaf_psc_exp_ps; V_m is
    clamped at V_min after every propagation (as NEST).

    Parameters: E_L (mV, -70), C_m (pF, 250, > 0), tau_m (ms, 10, > 0), tau_syn_ex (ms, 2, > 0),
    tau_syn_in (ms, 2, > 0), t_ref (ms, 2, >= one step), V_th (mV, -55), V_reset (mV, -70, < V_th,
    >= V_min), V_min (mV, -inf), I_e (pA, 0).
    Recordables: V_m, I_syn_ex, I_syn_in. State also dI_syn_ex, dI_syn_in (pA/ms), is_refractory.
    """

    name = "iaf_psc_alpha_ps"
    weight_unit = "pA"
    ports = ("ex", "in")
    settable_state = ("V_m",)
    parameters = {
        **_COMMON,
        "tau_syn_ex": Param(2.0, "ms", "Excitatory synaptic time constant"),
        "tau_syn_in": Param(2.0, "ms", "Inhibitory synaptic time constant"),
        "V_min": Param(-np.inf, "mV", "Lower bound of V_m"),
    }
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "I_syn_ex": State("pA", 0.0, "Excitatory synaptic current"),
        "I_syn_in": State("pA", 0.0, "Inhibitory synaptic current"),
        "dI_syn_ex": State("pA/ms", 0.0, "Derivative state of the excitatory current"),
        "dI_syn_in": State("pA/ms", 0.0, "Derivative state of the inhibitory current"),
        "is_refractory": State("1", 0, "1 while refractory"),
        "_since": State("1", 0, "Steps from the last spike's stamp to the end of the last step"),
        "_last_offset": State("ms", 0.0, "Offset of the last spike"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m", "I_syn_ex", "I_syn_in")

    @classmethod
    def prepare(cls, p, dt):
        p31e, p32e = psc_alpha_to_v_nest(p["tau_syn_ex"], p["tau_m"], p["C_m"], dt)
        p31i, p32i = psc_alpha_to_v_nest(p["tau_syn_in"], p["tau_m"], p["C_m"], dt)
        return {
            "h": jnp.asarray(dt, jnp.asarray(p["tau_m"]).dtype),
            "P30": -p["tau_m"] / p["C_m"] * jnp.expm1(-dt / p["tau_m"]),
            "P31ex": p31e, "P32ex": p32e, "P31in": p31i, "P32in": p32i,
            "expm1_m": jnp.expm1(-dt / p["tau_m"]),
            "e_ex": jnp.exp(-dt / p["tau_syn_ex"]),
            "e_in": jnp.exp(-dt / p["tau_syn_in"]),
            "norm_ex": np.e / p["tau_syn_ex"],
            "norm_in": np.e / p["tau_syn_in"],
            "theta": p["V_th"] - p["E_L"],
            "v_reset": p["V_reset"] - p["E_L"],
            "v_min": p["V_min"] - p["E_L"],
            "ref_steps": refractory_steps(p["t_ref"], dt),
        }

    @classmethod
    def _v_at(cls, p, t, y0, x):
        """V (relative to E_L) after t ms from x = (V, I_ex, dI_ex, I_in, dI_in), unclamped."""
        V, Ie, dIe, Ii, dIi = x
        em1 = jnp.expm1(-t / p["tau_m"])
        p31e, p32e = psc_alpha_to_v_nest(p["tau_syn_ex"], p["tau_m"], p["C_m"], t)
        p31i, p32i = psc_alpha_to_v_nest(p["tau_syn_in"], p["tau_m"], p["C_m"], t)
        return (-p["tau_m"] / p["C_m"] * em1 * (p["I_e"] + y0) + p31e * dIe + p32e * Ie + p31i * dIi + p32i * Ii
                + V * em1 + V)

    @classmethod
    def update(cls, p, d, s, syn, I, events):
        w_ev, o_ev, v_ev = events
        n = s["V_m"].shape[0]
        h = d["h"]
        dtype = s["V_m"].dtype
        w_all, o_all, v_all, n_loop = merge_grid_input(events, [(syn[0], syn[0] != 0), (syn[1], syn[1] != 0)])
        V, Ie, dIe, Ii, dIi = s["V_m"], s["I_syn_ex"], s["dI_syn_ex"], s["I_syn_in"], s["dI_syn_in"]
        refr = s["is_refractory"] != 0
        inst = V >= d["theta"]
        V = jnp.where(inst, d["v_reset"], V)
        refr = refr | inst
        since, pend = cls._start(s, d)
        since = jnp.where(inst, 0, since)
        pend = pend & ~inst
        r_off = s["_last_offset"]
        any_event = jnp.any(v_all, axis=1) | pend
        zero = jnp.zeros((n,), dtype)
        x0 = (V, Ie, dIe, Ii, dIi)

        # no event: NEST's fixed-step propagators
        V_fix = (d["P30"] * (p["I_e"] + I) + d["P31ex"] * dIe + d["P32ex"] * Ie + d["P31in"] * dIi
                 + d["P32in"] * Ii + d["expm1_m"] * V + V)
        V_fix = jnp.where(refr, V, jnp.maximum(V_fix, d["v_min"]))
        x_fix = (V_fix, d["e_ex"] * h * dIe + d["e_ex"] * Ie, d["e_ex"] * dIe,
                 d["e_in"] * h * dIi + d["e_in"] * Ii, d["e_in"] * dIi)
        cross_fix = ~refr & (V_fix >= d["theta"])

        def prop_syn(x, t):
            V, Ie, dIe, Ii, dIi = x
            ee, ei = jnp.exp(-t / p["tau_syn_ex"]), jnp.exp(-t / p["tau_syn_in"])
            return ee * t * dIe + ee * Ie, ee * dIe, ei * t * dIi + ei * Ii, ei * dIi

        def sub(c, ev_off, active):
            x, refr, last, spk, t0, ms0, xb = c
            ms = last - ev_off
            go = active & (ms > 0)
            t = jnp.where(go, ms, 1.0)
            Vn = jnp.where(refr, x[0], jnp.maximum(cls._v_at(p, t, I, x), d["v_min"]))
            xn = (Vn,) + prop_syn(x, t)
            cross = go & ~refr & (Vn >= d["theta"])
            t0 = jnp.where(cross, h - last, t0)
            ms0 = jnp.where(cross, t, ms0)
            xb = tuple(jnp.where(cross, a, b) for a, b in zip(x, xb))
            xn = (jnp.where(cross, d["v_reset"], xn[0]),) + xn[1:]
            x = tuple(jnp.where(go, a, b) for a, b in zip(xn, x))
            return (x, refr | cross, jnp.where(active, ev_off, last), spk | cross, t0, ms0, xb)

        def refractory_end(c, pend, valid, before):
            due = pend & valid & (r_off >= before)
            c = sub(c, r_off, due)
            return (c[0], c[1] & ~due) + c[2:], pend & ~due

        def event(j, cp):
            c, pend = cp
            o, w, v = o_all[:, j], w_all[:, j], v_all[:, j]
            c, pend = refractory_end(c, pend, v, o)
            c = sub(c, o, v)
            V, Ie, dIe, Ii, dIi = c[0]
            dIe = jnp.where(v & (w >= 0), dIe + d["norm_ex"] * w, dIe)
            dIi = jnp.where(v & (w < 0), dIi + d["norm_in"] * w, dIi)
            return ((V, Ie, dIe, Ii, dIi),) + c[1:], pend

        c0 = (x0, refr, jnp.broadcast_to(h, (n,)).astype(dtype), jnp.zeros((n,), bool), zero, zero, x0)
        c, pend_left = jax.lax.fori_loop(0, n_loop, event, (c0, pend))
        c, _ = refractory_end(c, pend_left, jnp.ones((n,), bool), zero)
        c = sub(c, zero, jnp.ones((n,), bool))
        x_e, refr_e, _, spk_e, t0, ms0, xb = c

        ev = any_event
        x_fix = (jnp.where(cross_fix, d["v_reset"], x_fix[0]),) + x_fix[1:]
        x = tuple(jnp.where(ev, a, b) for a, b in zip(x_e, x_fix))
        refr = jnp.where(ev, refr_e, refr | cross_fix)
        spk = jnp.where(ev, spk_e, cross_fix)
        t0 = jnp.where(ev, t0, 0.0)
        ms0 = jnp.where(ev, ms0, h)
        xb = tuple(jnp.where(ev, a, b) for a, b in zip(xb, x0))

        def root():
            return regula_falsi(lambda t: cls._v_at(p, t, I, xb) - d["theta"], ms0, spk)

        r = jax.lax.cond(jnp.any(spk), root, lambda: jnp.zeros_like(ms0))
        off = jnp.where(spk, h - (t0 + r), jnp.where(inst, h * (1 - _EPS), 0.0))
        fired = spk | inst
        since = jnp.where(spk, 0, since)
        V, Ie, dIe, Ii, dIi = x
        new = {"V_m": V, "I_syn_ex": Ie, "dI_syn_ex": dIe, "I_syn_in": Ii, "dI_syn_in": dIi,
               "is_refractory": refr.astype(s["is_refractory"].dtype),
               "_since": jnp.minimum(since, 2**30).astype(s["_since"].dtype),
               "_last_offset": jnp.where(fired, off, s["_last_offset"])}
        return new, (fired.astype(jnp.int32)[:, None], off[:, None])


@register
class iaf_psc_exp_ps_lossless(iaf_psc_exp_ps):
    """iaf_psc_exp_ps with lossless spike detection (NEST: iaf_psc_exp_ps_lossless; Krishnan et al.
    2018).

    As iaf_psc_exp_ps, but a threshold crossing inside an interval is also found when V_m rises above
    V_th and falls back before the interval ends: NEST's test on the state at the interval's start
    (the "f", "b" and "g" bounds of Krishnan et al., with NEST's corrected g) gives the latest time
    the crossing can lie at, and regula falsi searches [0, that time]. As in NEST, the test is made
    in every interval, also while refractory, and it needs tau_syn_ex == tau_syn_in != tau_m.

    Parameters: as iaf_psc_exp_ps, with t_ref (ms, 2, >= 0).
    Recordables: V_m. State also I_syn_ex, I_syn_in (pA, settable), is_refractory.
    """

    name = "iaf_psc_exp_ps_lossless"

    @classmethod
    def check(cls, p):
        super().check(p)
        tex, tin, tm = (np.asarray(p[k], float) for k in ("tau_syn_ex", "tau_syn_in", "tau_m"))
        cls._require(p, "tau_syn_in", tex == tin, "tau_syn_in == tau_syn_ex (NEST: 'tau_syn_ex must be equal to "
                     "tau_syn_in')")
        cls._require(p, "tau_m", (tm != tex) & (tm != tin), "tau_m != tau_syn_ex (NEST: 'tau_m must be different "
                     "from tau_syn_ex and tau_syn_in')")

    @classmethod
    def check_grid(cls, p, dt):
        """t_ref >= 0 only (NEST's lossless model accepts 0)."""

    @classmethod
    def _crossing(cls, p, d, t, y0, before, v_end, refr):
        V0, Iex, Iin = before
        tm, ts, C = p["tau_m"], p["tau_syn_ex"], p["C_m"]
        th = d["theta"]
        a1, a2, a3, a4 = tm * ts, tm * (tm - ts), C * th * (tm - ts), C * (tm - ts)
        b1, b2, b3, b4 = -tm * tm, tm * ts, tm * C * th, -C * (tm - ts)
        c1, c2, c3 = tm / C, (-tm * ts) / (C * (tm - ts)), (tm * tm) / (C * (tm - ts))
        c4, c5, c6 = ts / tm, (C * th) / tm, 1 - (ts / tm)
        I0 = Iex + Iin
        e_s, e_m, e_ms = jnp.expm1(t / ts), jnp.expm1(t / tm), jnp.expm1(t / tm - t / ts)
        Ie = y0 + p["I_e"]
        f = (a1 * I0 * e_ms + e_m * (a3 - Ie * a2) + a3) / a4
        b = ((I0 + Ie) * (b1 * e_m + b2 * e_s) + b3 * (e_m - e_s)) / (b4 * e_s)
        g = c1 * Ie + c2 * I0 + c3 * jnp.power(I0, c4) * jnp.power(c5 - Ie, c6)
        t_g = (a1 / tm * ts) * jnp.log(b1 * I0 / (a2 * Ie - a1 * I0 - a4 * V0))
        none = ((V0 < b) & (V0 <= f)) | (~(V0 >= f) & (V0 < g))
        tmax = jnp.where(V0 >= f, t, t_g)
        return ~none, jnp.where(none, t, tmax)
