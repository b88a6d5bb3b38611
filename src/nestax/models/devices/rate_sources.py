"""Devices that drive rate neurons (NEST: step_rate_generator).

They follow :class:`nestax.models.base.RateSource`: the value sent at stamp s is
``active(h, s) x amplitude(p, h, s, dt)``, the same function that their recordable ``rate`` shows,
and a target with connection delay d reads the value of stamp s in its step s - 1 + d - m (m: NEST's
min_delay in steps), because NEST computes these devices one min_delay slice ahead.
"""
from __future__ import annotations

import numpy as np

from ..base import Param, RateSource
from ..registry import register
from ...errors import BadParameterError
from .generators import _WINDOW, _Device, _PiecewiseConstant



class _RateDevice(_Device, RateSource):

    @classmethod
    def active(cls, h, s):
        """Stamps s with origin+start <= s < origin+stop (and s >= 1): NEST's rate generators count
        as active in step k if origin+start < k + 2 <= origin+stop, and step k computes stamp k + 1."""
        return (s >= h["t_lo"]) & (s < h["t_hi"]) & (s >= 1)


@register
class step_rate_generator(_PiecewiseConstant, _RateDevice):
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
