"""Devices that drive rate neurons (NEST: step_rate_generator).

They follow :class:`nestax.models.base.RateSource`: the value sent at stamp s is
``active(h, s) x amplitude(p, h, s, dt)``, the same function that their recordable ``rate`` shows,
and a target with connection delay d reads the value of stamp s in its step s - 1 + d - m (m: NEST's
min_delay in steps), because NEST computes these devices one min_delay slice ahead.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..base import Param, RateSource
from ..registry import register
from ...errors import BadParameterError
from .generators import _WINDOW, _Device, grid_times

_NEVER = np.iinfo(np.int32).max // 2  # step index of an unused slot of a padded list


class _RateDevice(_Device, RateSource):

    @classmethod
    def active(cls, h, s):
        """Stamps s with origin+start <= s < origin+stop (and s >= 1): NEST's rate generators count
        as active in step k if origin+start < k + 2 <= origin+stop, and step k computes stamp k + 1."""
        return (s >= h["t_lo"]) & (s < h["t_hi"]) & (s >= 1)


@register
class step_rate_generator(_RateDevice):
    """Piecewise-constant rate sent to rate neurons (NEST: step_rate_generator).

    The rate is amplitude_values[i] from amplitude_times[i] until the next change (0 before the
    first), sent only while the generator is active (stamps s with origin+start <= s < origin+stop;
    0 otherwise). Times are absolute (not shifted by origin), > 0, strictly increasing after rounding
    to the grid, and on the grid unless ``allow_offgrid_times`` (then rounded up to the end of the
    step they fall in), as in NEST; checked at create / set. A ``set`` between ``simulate`` calls
    keeps the rate in force until the next listed time still to come (NEST's state).

    It connects to rate neurons (``*_rate_ipn``, ``*_rate_opn``, ``rate_transformer_*``) only through
    ``rate_connection_delayed`` (NEST: DelayedRateConnectionEvent; other synapses, siegert_neuron
    and spiking neurons are refused). The target adds weight x rate (or weight x phi(rate) with
    ``linear_summation=False``) to its input, as for a rate neuron's rate. Timing: a target with
    delay d reads the value of stamp s in its step s - 1 + d - m (m: the network's min_delay in steps),
    so with d = m the rate set at t drives the target's step that ends at t.

    ==================== ==== ======= ===========================================================
    amplitude_times      ms   []      Times of the rate changes (> 0, strictly increasing)
    amplitude_values     Hz   []      Rate from each change on (NEST: spikes/s; a plain number
                                      for the dimensionless rate neurons)
    allow_offgrid_times  1    False   Round off-grid times up to the end of their step
    start                ms   0       Activation time, relative to origin
    stop                 ms   inf     Deactivation time, relative to origin
    origin               ms   0       Time origin of start and stop
    ==================== ==== ======= ===========================================================

    Recordable: rate (at stamp s the value sent for s, 0 outside the active window; a plain number in
    Hz, like the rates of the rate neurons it drives).
    """

    name = "step_rate_generator"
    parameters = {
        "amplitude_times": Param((), "ms", "Times of the rate changes", "array"),
        "amplitude_values": Param((), "Hz", "Rate from each change on", "array"),
        "allow_offgrid_times": Param(False, "1", "Round off-grid times up to the grid", "bool"),
        **_WINDOW,
    }

    @classmethod
    def recordables(cls):
        return ("rate",)

    @classmethod
    def check(cls, p):
        super().check(p)
        for t, v in zip(p["amplitude_times"], p["amplitude_values"]):
            t, v = np.asarray(t, float).reshape(-1), np.asarray(v, float).reshape(-1)
            if len(t) != len(v):
                raise BadParameterError(
                    f"{cls.name}: amplitude_times ({len(t)} values) and amplitude_values ({len(v)} values) must "
                    "have the same length (NEST: 'Amplitude times and values have to be the same size').")
            bad = ~(np.isfinite(t) & (t > 0))
            if bad.any():
                raise BadParameterError(
                    f"{cls.name}: amplitude_times value {t[bad][0]} ms is invalid; expected finite times > 0 ms "
                    "(NEST: 'Amplitude can only be changed at strictly positive times (t > 0)').")
            if len(t) > 1 and not np.all(np.diff(t) > 0):
                i = int(np.nonzero(~(np.diff(t) > 0))[0][0])
                raise BadParameterError(
                    f"{cls.name}: amplitude_times = {list(t)} ms is invalid: {t[i + 1]} ms follows {t[i]} ms; "
                    "expected strictly increasing times.")
            if not np.all(np.isfinite(v)):
                raise BadParameterError(f"{cls.name}: amplitude_values = {list(v)} Hz is invalid; expected finite "
                                        "rates.")

    @classmethod
    def check_grid(cls, p, dt):
        super().check_grid(p, dt)
        cls.host_arrays(p, dt)  # times on the grid (or allow_offgrid_times), on distinct steps

    @classmethod
    def host_arrays(cls, p, dt):
        h = super().host_arrays(p, dt)
        n = len(p["amplitude_times"])
        L = max(1, max((len(np.asarray(t).reshape(-1)) for t in p["amplitude_times"]), default=1))
        steps = np.full((n, L), _NEVER, dtype=np.int64)
        vals = np.zeros((n, L))
        for i, (t, v, off) in enumerate(zip(p["amplitude_times"], p["amplitude_values"],
                                            np.broadcast_to(p["allow_offgrid_times"], (n,)))):
            t = np.asarray(t, float).reshape(-1)
            st = grid_times(cls, "amplitude_times", t, dt, bool(off))
            if len(st) > 1 and not np.all(np.diff(st) > 0):
                raise BadParameterError(
                    f"{cls.name}: amplitude_times {list(t)} ms fall on the same grid step at resolution {dt} ms "
                    "(NEST: 'amplitude times must be at strictly increasing time steps').")
            steps[i, :len(t)] = st.astype(np.int64)
            vals[i, :len(t)] = np.asarray(v, float).reshape(-1)
        h["amp_steps"], h["amp_vals"] = steps, vals
        # the rate in force at a set between simulate calls (carry_over), held until the next listed
        # time after it; none: from step -1, 0
        h["held_amp"] = np.asarray(p.get("_held_amp", np.zeros(n)), float)
        h["held_from"] = np.asarray(p.get("_held_from", np.full(n, -1)), np.int64)
        return h

    @classmethod
    def carry_over(cls, old_p, new_p, k, dt):
        """NEST keeps the rate in force at a SetStatus until the next listed time still to come."""
        held = np.asarray(cls.amplitude(old_p, cls.host_arrays(old_p, dt), k, dt), float)
        return {**new_p, "_held_amp": held, "_held_from": np.full(len(held), k, np.int64)}

    @classmethod
    def amplitude(cls, p, h, s, dt):
        s = jnp.asarray(s)[..., None]  # a stamp for all, or one per row of h
        passed = h["amp_steps"] <= s
        idx = jnp.sum(passed, axis=1) - 1
        val = jnp.take_along_axis(h["amp_vals"], jnp.maximum(idx, 0)[:, None], axis=1)[:, 0]
        val = jnp.where(idx >= 0, val, 0.0)
        changed = jnp.any((h["amp_steps"] > h["held_from"][:, None]) & passed, axis=1)
        return jnp.where(changed, val, h["held_amp"])
