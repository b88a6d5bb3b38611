"""Rate-modulated Poisson spike generators (NEST 3.10: sinusoidal_poisson_generator,
inhomogeneous_poisson_generator).

Both draw, in engine step k, a Poisson number of spikes with mean r(s) * dt, where r(s) is the
generator's rate at the stamp s = k + 1 of the step's spikes; several spikes in one step arrive as one
event with that multiplicity. A rate below zero sends nothing (NEST accepts negative rates and clips
them). Their activity windows differ, as in NEST 3.10: inhomogeneous_poisson_generator is active,
like poisson_generator, during the engine steps k with origin + start < k <= origin + stop (stamps
origin + start + 2 dt ... origin + stop + dt); sinusoidal_poisson_generator, which NEST types as a
current generator, sends the spikes stamped s with origin + start <= s < origin + stop (and s >= dt).

sinusoidal_gamma_generator (renewal trains with a state per train) is in
:mod:`nestax.models.devices.renewal`. Not here, and why (it needs an engine / protocol change):

- step_rate_generator: it sends a rate, not spikes, through rate_connection_delayed; nestax's rate
  connections join rate neurons only, and no device kind sends a rate.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..base import Param, SpikeEmission
from ..registry import register
from ...errors import BadParameterError
from .generators import _WINDOW, SpikeSource, grid_times, poisson_counts, poisson_pieces


class _ModulatedPoisson(SpikeSource):
    """Common parts: the Poisson draw of each step from the rate at the step's stamp."""

    @classmethod
    def recordables(cls):
        return ()

    @classmethod
    def active(cls, h, k):
        """Spike generators are active in engine steps k with origin + start < k <= origin + stop."""
        return (k > h["t_lo"]) & (k <= h["t_hi"])

    @classmethod
    def rate_at(cls, p, h, s, dt):
        """The rate (Hz, per generator) in force for the spikes stamped s (engine step s - 1)."""
        raise NotImplementedError

    @classmethod
    def max_rate(cls, p) -> float:
        """An upper bound of the rate over all generators (Hz), for the static Poisson variant."""
        raise NotImplementedError

    @classmethod
    def individual(cls, p, n):
        """Per generator: True if each connection gets its own train."""
        return np.ones(n, bool)

    @classmethod
    def static_args(cls, p, dt, itemsize):
        ind = np.asarray(cls.individual(p, len(np.asarray(p["start"]).reshape(-1))), bool)
        mode = "individual" if ind.all() else ("shared" if not ind.any() else "mixed")
        return {"pieces": poisson_pieces(cls.max_rate(p) * dt / 1000.0, itemsize), "mode": mode}

    @classmethod
    def emit(cls, p, h, out, k, dt, key, src, pieces=1, mode="individual"):
        lam = jnp.maximum(cls.rate_at(p, h, k + 1, dt), 0.0) * (dt / 1000.0)
        lam = jnp.where(cls.active(h, k), lam, 0.0)
        if mode == "individual":
            counts = poisson_counts(key, lam[src], pieces)
        else:
            # one train per generator, the same for every connection of this projection
            k_ind, k_gen = jax.random.split(key)
            counts = poisson_counts(k_gen, lam, pieces)[src]
            if mode == "mixed":
                ind = h["individual"][src] > 0
                counts = jnp.where(ind, poisson_counts(k_ind, lam[src], pieces), counts)
        return SpikeEmission(counts)


@register
class sinusoidal_poisson_generator(_ModulatedPoisson):
    """Poisson spike trains with a sinusoidally modulated rate (NEST: sinusoidal_poisson_generator).

    The rate of the spikes stamped t (ms, counted from the start of the simulation, whether or not the
    generator is active) is

        r(t) = max(0, rate + amplitude * sin(2 pi frequency t / 1000 + phase * pi / 180)),

    and in the step ending at t the generator draws Poisson(r(t) * dt / 1000) spikes (multiplicity).
    With ``individual_spike_trains`` (NEST's default) each connection gets its own independent train;
    without, every connection of the generator gets the same train. Spikes are sent with the stamps s
    with origin + start <= s < origin + stop (s >= dt): NEST 3.10 types this generator as a current
    generator, whose activity test runs two steps ahead of a spike generator's, so its window is two
    steps earlier than poisson_generator's (measured: start 2 ms, stop 5 ms gives stamps 2.0 ... 4.9 ms).

    ======================= ===== ======= ===============================================
    rate                    Hz    0       Mean rate (NEST accepts any value; r < 0 sends nothing)
    amplitude               Hz    0       Modulation amplitude (may exceed rate; r is clipped at 0)
    frequency               Hz    0       Modulation frequency
    phase                   deg   0       Modulation phase at t = 0
    individual_spike_trains 1     True    One train per connection (False: one per generator)
    start, stop, origin     ms    0, inf, 0  Activity window (start/stop relative to origin)
    ======================= ===== ======= ===============================================

    Differences from NEST: NEST lets ``individual_spike_trains`` be set only on the model
    (SetDefaults / CopyModel); nestax takes it per generator at create and set. With
    individual_spike_trains=False a spike_recorder connected to the generator itself sees a different
    realisation than the generator's neuron targets (record them through parrot_neuron instead): the
    SpikeSource protocol gives ``emit`` a key per projection and ``advance`` none. Non-finite values are
    refused (NEST accepts them). Recordable (multimeter): ``rate``, r(t) (clipped at 0, as NEST records
    it), at every stamp, active or not (as NEST).
    """

    name = "sinusoidal_poisson_generator"
    per_connection_random = True
    parameters = {
        "rate": Param(0.0, "Hz", "Mean rate"),
        "amplitude": Param(0.0, "Hz", "Modulation amplitude"),
        "frequency": Param(0.0, "Hz", "Modulation frequency"),
        "phase": Param(0.0, "deg", "Modulation phase in degrees"),
        "individual_spike_trains": Param(True, "1", "One independent train per connection", "bool"),
        **_WINDOW,
    }

    @classmethod
    def check(cls, p):
        super().check(p)
        for n in ("rate", "amplitude", "frequency", "phase"):
            cls._require(p, n, np.isfinite(np.asarray(p[n], float)), f"a finite value{cls._unit_suffix(n)}")

    @classmethod
    def individual(cls, p, n):
        return np.broadcast_to(np.asarray(p["individual_spike_trains"], bool), (n,))

    @classmethod
    def host_arrays(cls, p, dt):
        h = super().host_arrays(p, dt)
        h["individual"] = cls.individual(p, len(h["t_lo"])).astype(np.int64)
        return h

    @classmethod
    def active(cls, h, k):
        """NEST 3.10 types this generator as a current generator, whose activity test is two steps
        ahead: active in engine steps k with origin + start - 2 < k <= origin + stop - 2, i.e. spikes
        stamped s with origin + start <= s < origin + stop."""
        return (k + 1 >= h["t_lo"]) & (k + 1 < h["t_hi"])

    @classmethod
    def max_rate(cls, p):
        return float(np.max(np.asarray(p["rate"], float) + np.abs(np.asarray(p["amplitude"], float)), initial=0.0))

    @classmethod
    def rate_at(cls, p, h, s, dt):
        om = 2.0 * np.pi * p["frequency"] / 1000.0
        return p["rate"] + p["amplitude"] * jnp.sin(om * (s * dt) + p["phase"] * (np.pi / 180.0))

    @classmethod
    def recordables(cls):
        return ("rate",)

    @classmethod
    def sampled_value(cls, p, h, s, dt):
        """The recordable ``rate`` at stamp s: r(s) clipped at 0 (NEST stores max(0, r) before its
        multimeter samples it), whether or not the generator is active (NEST samples it every step)."""
        return jnp.maximum(cls.rate_at(p, h, s, dt), 0.0)


@register
class inhomogeneous_poisson_generator(_ModulatedPoisson):
    """Poisson spike trains with a piecewise-constant rate (NEST: inhomogeneous_poisson_generator).

    The rate is rate_values[i] (Hz) for the spikes stamped from rate_times[i] (ms, absolute: not
    shifted by origin) on, until the next listed time; 0 before the first. In the step ending at t the
    generator draws Poisson(r(t) * dt / 1000) spikes for each connection (independent trains, as NEST);
    so a change at time T first acts on the spikes stamped T (drawn in the step ending at T). Active
    during engine steps k with origin + start < k <= origin + stop, as poisson_generator.

    rate_times must be > 0, strictly increasing and on the time grid (within half a tic, 0.0005 ms),
    unless ``allow_offgrid_times``: then an off-grid time is rounded up to the end of the step it
    falls in (and the rounded times must still be strictly increasing). A time that rounds to 0 never
    acts. rate_times and rate_values must have the same length. Checked at create / set.

    =================== ===== ======= ===========================================
    rate_times          ms    []      Times of the rate changes
    rate_values         Hz    []      Rates from each change on (< 0 sends nothing)
    allow_offgrid_times 1     False   Round off-grid times up to the grid
    start, stop, origin ms    0, inf, 0  Activity window (start/stop relative to origin)
    =================== ===== ======= ===========================================

    Differences from NEST: new rate_times/rate_values given with ``set`` between simulate calls act
    from their own times on; before the first new time nestax sends at rate 0 where NEST keeps the rate
    in force (the SpikeSource protocol has no carry_over), and times already past are not refused
    (``check`` does not know the current time). Non-finite rate values are refused (NEST accepts them).
    """

    name = "inhomogeneous_poisson_generator"
    per_connection_random = True
    parameters = {
        "rate_times": Param((), "ms", "Times of the rate changes", "array"),
        "rate_values": Param((), "Hz", "Rates from each change on", "array"),
        "allow_offgrid_times": Param(False, "1", "Round off-grid times up to the grid", "bool"),
        **_WINDOW,
    }

    @classmethod
    def check(cls, p):
        super().check(p)
        for i, (t, v) in enumerate(zip(p["rate_times"], p["rate_values"])):
            t, v = np.asarray(t, float).reshape(-1), np.asarray(v, float).reshape(-1)
            if len(t) != len(v):
                raise BadParameterError(
                    f"{cls.name}: rate_times ({len(t)} values) and rate_values ({len(v)} values) are invalid; "
                    "expected the same number of times and values (NEST: 'Rate times and values have to be the "
                    "same size').")
            bad = ~(np.isfinite(t) & (t > 0))
            if bad.any():
                raise BadParameterError(
                    f"{cls.name}: rate_times value {t[bad][0]} ms is invalid; expected finite times > 0 ms (NEST: "
                    "'Time points must lie strictly in the future').")
            if len(t) > 1 and not np.all(np.diff(t) > 0):
                raise BadParameterError(
                    f"{cls.name}: rate_times = {list(t)} ms is invalid; expected strictly increasing times "
                    "(NEST: 'Rate times must be strictly increasing').")
            if not np.all(np.isfinite(v)):
                raise BadParameterError(
                    f"{cls.name}: rate_values value {v[~np.isfinite(v)][0]} Hz is invalid; expected finite rates "
                    "in Hz.")

    @classmethod
    def check_grid(cls, p, dt):
        super().check_grid(p, dt)
        cls.host_arrays(p, dt)  # rate_times on the grid (or allow_offgrid_times), distinct steps

    @classmethod
    def host_arrays(cls, p, dt):
        h = super().host_arrays(p, dt)
        n = len(p["rate_times"])
        never = np.iinfo(np.int32).max // 2
        L = max([len(np.asarray(t).reshape(-1)) for t in p["rate_times"]] + [1])
        steps = np.full((n, L), never, np.int64)
        vals = np.zeros((n, L))
        for i, (t, v, off) in enumerate(zip(p["rate_times"], p["rate_values"],
                                            np.broadcast_to(p["allow_offgrid_times"], (n,)))):
            t = np.asarray(t, float).reshape(-1)
            st = grid_times(cls, "rate_times", t, dt, bool(off))
            if len(st) > 1 and not np.all(np.diff(st) > 0):
                raise BadParameterError(
                    f"{cls.name}: rate_times = {list(t)} ms is invalid at resolution {dt} ms; expected strictly "
                    "increasing times after rounding to the grid (NEST: 'Rate times must be strictly "
                    "increasing').")
            # a change at step T acts on the spikes stamped T; one that rounds to step 0 never acts (NEST
            # applies a change in the step before its time, and there is none before step 0)
            steps[i, :len(t)] = np.where(st >= 1, st, never).astype(np.int64)
            vals[i, :len(t)] = np.asarray(v, float).reshape(-1)
        h["rate_steps"] = steps
        h["rate_vals"] = vals
        return h

    @classmethod
    def max_rate(cls, p):
        return float(max([np.max(np.asarray(v, float), initial=0.0) for v in p["rate_values"]] + [0.0]))

    @classmethod
    def rate_at(cls, p, h, s, dt):
        idx = jnp.sum(h["rate_steps"] <= s, axis=1) - 1
        val = jnp.take_along_axis(h["rate_vals"], jnp.maximum(idx, 0)[:, None], axis=1)[:, 0]
        return jnp.where(idx >= 0, val, 0.0)
