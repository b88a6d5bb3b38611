"""Stimulation devices: current generators and spike generators (NEST's names, defaults, timing).

Timing, in steps relative to ``origin`` (NEST 3.10):

- Current generators produce an amplitude a(s) for stamps s with start <= s < stop (and s >= 1, so a
  generator with start = 0 begins one step late, as in NEST). The engine applies a(s) to the target
  during its step s + d (d: connection delay in steps), so V_m first moves at (start + d + 1) * dt.
  The recordable ``I`` at stamp s is a(s).
- Spike generators emit during engine step k spikes stamped (k + 1) * dt; poisson_generator is active
  for start < k <= stop, spike_generator emits each spike time t at origin + t if start < t <= stop.

The protocols they follow (what the engine calls, with which arguments) are
:class:`nestax.models.base.CurrentSource` and :class:`nestax.models.base.SpikeSource`: a current
source gives ``emit(p, h, s, dt, key, src)`` per connection, a spike source a
:class:`~nestax.models.base.SpikeEmission` from ``emit(p, h, out, k, dt, key, src)``, where ``out``
is what its ``advance`` returned for the step (spike_generator: its pointer into the spike list,
kept in the run state from ``init_run_state``).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..base import CurrentSource as _CurrentSourceProtocol, Model, Param, SpikeEmission, time_steps
from ..base import SpikeSource as _SpikeSourceProtocol
from ..registry import register
from ...errors import BadParameterError

_EPS = float(np.finfo(float).eps)

_WINDOW = {
    "start": Param(0.0, "ms", "Activation time, relative to origin"),
    "stop": Param(np.inf, "ms", "Deactivation time, relative to origin"),
    "origin": Param(0.0, "ms", "Time origin of start and stop"),
}


def grid_times(cls, name, t, dt, allow_offgrid):
    """Times ``t`` (ms, 1-D) of list parameter ``name`` in whole steps, as NEST reads them: a time
    within half a tic of the grid is on it; another is an error unless ``allow_offgrid`` (then it is
    rounded up to the end of the step it falls in)."""
    steps, on = time_steps(t, dt)
    if not np.all(on | ~np.isfinite(steps)) and not allow_offgrid:
        bad = np.asarray(t, float)[~on][0]
        raise BadParameterError(
            f"{cls.name}: {name} value {bad} ms is not a multiple of the resolution {dt} ms; set "
            "allow_offgrid_times=True to round it up to the grid (NEST: 'Time point ... is not representable "
            "in current resolution').")
    return np.ceil(steps)


_NEVER = np.iinfo(np.int32).max // 2  # step index of an unused slot of a padded list


class _Device(Model):
    """Common parts: start/stop/origin in steps, checks."""

    parameters = dict(_WINDOW)

    @classmethod
    def check(cls, p):
        cls._require(p, "stop", np.asarray(p["stop"]) >= np.asarray(p["start"]), "stop >= start")

    @classmethod
    def check_grid(cls, p, dt):
        """start, stop and origin are multiples of the resolution (NEST refuses others at SetStatus)."""
        cls._on_grid(p, dt, "start", "stop", inf_ok=True)
        cls._on_grid(p, dt, "origin")

    @classmethod
    def window_steps(cls, p, dt):
        """(origin, start, stop) in integer steps; stop = +inf stays a large number."""
        def steps(x):
            x = np.asarray(x, dtype=float)
            big = np.where(np.isfinite(x), x, 0.0)
            return np.where(np.isfinite(x), np.floor(big / dt + 0.5), np.iinfo(np.int32).max // 2).astype(np.int64)
        return steps(p["origin"]), steps(p["start"]), steps(p["stop"])

    @classmethod
    def host_arrays(cls, p, dt):
        """Per-generator integer arrays for the run (window bounds in steps)."""
        o, s0, s1 = cls.window_steps(p, dt)
        return {"t_lo": o + s0, "t_hi": o + s1}


class CurrentSource(_Device, _CurrentSourceProtocol):

    @classmethod
    def active(cls, h, s):
        """Current generators: stamps s with origin+start <= s < origin+stop and s >= 1."""
        return (s >= h["t_lo"]) & (s < h["t_hi"]) & (s >= 1)

    @classmethod
    def emit(cls, p, h, s, dt, key, src, **static):
        a = cls.amplitude(p, h, s, dt)
        return jnp.where(cls.active(h, s), a, 0.0)[src]

    @classmethod
    def recordables(cls):
        return ("I",)


@register
class dc_generator(CurrentSource):
    """Constant current (NEST: dc_generator).

    Parameters: amplitude (pA, 0), start (ms, 0), stop (ms, inf), origin (ms, 0).
    Recordable: I (the current at each stamp, 0 outside the active window).
    """

    name = "dc_generator"
    parameters = {"amplitude": Param(0.0, "pA", "Current amplitude"), **_WINDOW}

    @classmethod
    def amplitude(cls, p, h, s, dt):
        return p["amplitude"]


@register
class ac_generator(CurrentSource):
    """Sinusoidal current I(t) = offset + amplitude * sin(2 pi frequency t + phase) (NEST: ac_generator).

    t is the stamp time measured from the start of the simulation; ``phase`` is in degrees.
    Parameters: amplitude (pA, 0), offset (pA, 0), phase (deg, 0), frequency (Hz, 0), start, stop, origin.
    Recordable: I.
    """

    name = "ac_generator"
    parameters = {
        "amplitude": Param(0.0, "pA", "Amplitude of the sine"),
        "offset": Param(0.0, "pA", "Constant offset"),
        "phase": Param(0.0, "deg", "Phase in degrees"),
        "frequency": Param(0.0, "Hz", "Frequency"),
        **_WINDOW,
    }

    @classmethod
    def amplitude(cls, p, h, s, dt):
        # NEST 3.10 advances an exact rotation once per step from t = 0, whether or not the generator is
        # active; the value sent for (and recorded at) stamp s is the phase reached at t = s * dt.
        t = s * dt
        om = 2.0 * np.pi * p["frequency"] / 1000.0
        return p["offset"] + p["amplitude"] * jnp.sin(om * t + p["phase"] * np.pi / 180.0)


class _PiecewiseConstant:
    """A value that is amplitude_values[i] from amplitude_times[i] on (absolute times, as NEST; 0 before
    the first), for step_current_generator and step_rate_generator. A ``set`` between simulate calls
    keeps the value in force until the next listed time still to come (NEST's state, carry_over)."""

    @classmethod
    def check_grid(cls, p, dt):
        super().check_grid(p, dt)
        cls.host_arrays(p, dt)  # amplitude_times on the grid (or allow_offgrid_times), on distinct steps

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
        # hidden parameters written by carry_over (none: from step -1, value 0)
        h["held_amp"] = np.asarray(p.get("_held_amp", np.zeros(n)), float)
        h["held_from"] = np.asarray(p.get("_held_from", np.full(n, -1)), np.int64)
        return h

    @classmethod
    def carry_over(cls, old_p, new_p, k, dt):
        """NEST keeps the value in force at a SetStatus until the next listed time still to come."""
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


@register
class step_current_generator(_PiecewiseConstant, CurrentSource):
    """Piecewise-constant current (NEST: step_current_generator).

    The current is amplitude_values[i] from amplitude_times[i] until the next change. Times must be
    > 0, strictly increasing and on the time grid, unless ``allow_offgrid_times`` (then rounded up to
    the grid end of the step they fall in, as in NEST); checked at create / set.
    Parameters: amplitude_times (ms, []), amplitude_values (pA, []), allow_offgrid_times (False),
    start, stop, origin. Recordable: I.
    """

    name = "step_current_generator"
    parameters = {
        "amplitude_times": Param((), "ms", "Times of amplitude changes", "array"),
        "amplitude_values": Param((), "pA", "Amplitudes from each change on", "array"),
        "allow_offgrid_times": Param(False, "1", "Round off-grid times up to the grid", "bool"),
        **_WINDOW,
    }

    @classmethod
    def check(cls, p):
        super().check(p)
        for t, v in zip(p["amplitude_times"], p["amplitude_values"]):
            if len(t) != len(v):
                raise BadParameterError(
                    f"step_current_generator: amplitude_times ({len(t)} values) and amplitude_values "
                    f"({len(v)} values) must have the same length.")
            if len(t) > 1 and not np.all(np.diff(t) > 0):
                raise BadParameterError(
                    f"step_current_generator: amplitude_times = {list(t)} must be strictly increasing.")
            if len(t) and not np.all(np.isfinite(t) & (np.asarray(t) > 0)):
                bad = np.asarray(t)[~(np.isfinite(t) & (np.asarray(t) > 0))][0]
                raise BadParameterError(
                    f"step_current_generator: amplitude_times value {bad} ms is invalid; expected finite times "
                    "> 0 ms (NEST: 'Amplitude can only be changed at strictly positive times (t > 0)').")
            if len(v) and not np.all(np.isfinite(v)):
                raise BadParameterError(f"step_current_generator: amplitude_values = {list(v)} must be finite "
                                        "(pA).")



@register
class noise_generator(CurrentSource):
    """Gaussian white-noise current, piecewise constant over intervals of ``dt`` (NEST: noise_generator).

    I(t) = mean + std * xi, with xi ~ N(0, 1) drawn anew every ``dt`` ms and independently for each
    target (one generator connected to N neurons gives N independent currents). With std_mod > 0 the
    variance is std^2 + std_mod^2 * sin(2 pi frequency t + phase) (phase in degrees; t counted
    from the first active step, as in a NEST run started at t = 0). Draws happen at the first active step
    and every dt after it.
    Parameters: mean (pA, 0), std (pA, 0, >= 0), dt (ms, 1.0, a multiple of the resolution),
    std_mod (pA, 0), frequency (Hz, 0), phase (deg, 0), start, stop, origin. Recordable: none (NEST's
    recordable I is the mean of the current over all targets; nestax does not provide it).
    """

    name = "noise_generator"
    per_connection_random = True
    drives_binary = True  # NEST's binary neurons take a noise_generator's current, no other generator's
    parameters = {
        "mean": Param(0.0, "pA", "Mean current"),
        "std": Param(0.0, "pA", "Standard deviation of the noise"),
        "dt": Param(1.0, "ms", "Interval between new draws"),
        "std_mod": Param(0.0, "pA", "Modulation amplitude of the standard deviation"),
        "frequency": Param(0.0, "Hz", "Frequency of the std modulation"),
        "phase": Param(0.0, "deg", "Phase of the std modulation"),
        **_WINDOW,
    }

    @classmethod
    def recordables(cls):
        return ()

    @classmethod
    def check(cls, p):
        super().check(p)
        cls._nonnegative(p, "std", "std_mod")
        cls._positive(p, "dt")
        cls._require(p, "std_mod", np.asarray(p["std_mod"]) <= np.asarray(p["std"]), "std_mod <= std")

    @classmethod
    def check_grid(cls, p, dt):
        super().check_grid(p, dt)
        cls.host_arrays(p, dt)  # dt: a positive multiple of the resolution

    @classmethod
    def host_arrays(cls, p, dt):
        h = super().host_arrays(p, dt)
        st, on = time_steps(np.asarray(p["dt"], float), dt)
        bad = ~on | (st < 1)
        if np.any(bad):
            raise BadParameterError(
                f"noise_generator: parameter 'dt' = {np.asarray(p['dt'])[bad][0]} ms must be a positive multiple "
                f"of the resolution {dt} ms.")
        h["dt_steps"] = st.astype(np.int64)
        # first step at which the generator is active: NEST draws there and every dt_steps after it
        h["s0"] = np.maximum(h["t_lo"], 1)
        # static flag (by its shape): all generators of the block share their draw grid, so one key per
        # interval serves every connection
        same = bool(np.all(h["dt_steps"] == h["dt_steps"][0]) and np.all(h["s0"] == h["s0"][0]))
        h["grid_shared"] = np.zeros(1 if same else 0, np.int64)
        return h

    @classmethod
    def emit(cls, p, h, s, dt, key, src, **static):
        """Current of every connection for stamp s; ``key`` must not depend on s.

        Draw j of a generator happens at step s0 + j*dt_steps (s0: its first active step) and holds for
        dt_steps steps. The normal deviates of draw j are a function of (key, j, connection index) only,
        so they do not depend on chunking, and each connection gets its own (independent) value.
        """
        n = src.shape[0]
        if h["grid_shared"].shape[0]:
            # one draw index for all connections: one key and one vectorised normal draw per step
            j_draw = jnp.maximum(s - h["s0"][0], 0) // h["dt_steps"][0]
            xi = jax.random.normal(jax.random.fold_in(key, j_draw), (n,))
            s_draw = h["s0"][src] + j_draw * h["dt_steps"][src]
        else:
            j_c = jnp.maximum(s - h["s0"][src], 0) // h["dt_steps"][src]
            xi = jax.vmap(lambda jj, c: jax.random.normal(jax.random.fold_in(jax.random.fold_in(key, jj), c), ())
                          )(j_c, jnp.arange(n))
            s_draw = h["s0"][src] + j_c * h["dt_steps"][src]
        xi = xi.astype(p["mean"].dtype)
        # NEST: sigma^2 = std^2 + std_mod^2 * sin(omega t + phase), the sine advanced once per active step
        # from the first one (t = (s_draw - s0 + 1) * dt in a run started at t = 0), read at the draw
        ph = (2 * np.pi * p["frequency"][src] / 1000.0 * (s_draw - h["s0"][src] + 1) * dt
              + p["phase"][src] * np.pi / 180.0)
        var = p["std"][src] ** 2 + jnp.sin(ph) * p["std_mod"][src] ** 2
        val = p["mean"][src] + jnp.sqrt(jnp.maximum(var, 0.0)) * xi
        return jnp.where(cls.active(h, s)[src], val, 0.0)


class SpikeSource(_Device, _SpikeSourceProtocol):
    pass


@register
class poisson_generator(SpikeSource):
    """Poisson spike trains (NEST: poisson_generator).

    Each connection receives its own independent train of the given ``rate``: one generator connected
    to N targets gives N independent realisations. Several spikes in one step arrive as one event with
    that multiplicity. Active during engine steps k with start < k <= stop (relative to origin); the
    spikes of step k are stamped (k+1)*dt.
    Parameters: rate (Hz, 0, >= 0), start, stop, origin, rng_seed (optional; any integer >= 0: the
    stream of this generator then depends on it instead of on the Simulator's seed).
    """

    name = "poisson_generator"
    per_connection_random = True
    parameters = {"rate": Param(0.0, "Hz", "Mean firing rate"), **_WINDOW,
                  "rng_seed": Param(-1, "1", "Seed of this generator's stream (-1: the kernel's)", "int")}

    @classmethod
    def recordables(cls):
        return ()

    @classmethod
    def check(cls, p):
        super().check(p)
        cls._nonnegative(p, "rate")
        cls._require(p, "rate", np.isfinite(np.asarray(p["rate"], float)), "a finite value >= 0 Hz (a Poisson "
                     "process of infinite rate has no spike count to draw)")
        seeds = np.asarray(p["rng_seed"])
        cls._require(p, "rng_seed", (seeds >= -1) & (seeds <= 2**32 - 1) & (seeds == np.round(seeds)),
                     "an integer in 0 .. 2**32 - 1 (or -1: the kernel's seed)")

    @classmethod
    def static_args(cls, p, dt, itemsize):
        """Compile-time constants: how many pieces the largest per-step mean needs."""
        return {"pieces": poisson_pieces(float(np.max(p["rate"], initial=0.0)) * dt / 1000.0, itemsize)}

    @classmethod
    def shared_table(cls, p, gens, dt, dtype):
        """A Poisson CDF table when the generators ``gens`` share one rate (one uniform per draw)."""
        rates = np.asarray(p["rate"])[gens]
        if not np.all(rates == rates[0]):
            return None
        return poisson_cdf_table(float(rates[0]) * dt / 1000.0, dtype)

    @classmethod
    def pad_table(cls, table, length):
        """Entries of 1.0 at the end: a uniform in [0, 1) never reaches them, so no count changes."""
        table = np.asarray(table)
        return np.concatenate([table, np.ones(length - len(table), table.dtype)])

    @classmethod
    def emit(cls, p, h, out, k, dt, key, src, pieces=1, table=None):
        on = (k > h["t_lo"]) & (k <= h["t_hi"])
        if table is not None:  # connections that share one mean: one uniform each against the CDF
            u = jax.random.uniform(key, src.shape, dtype=table.dtype)
            counts = jnp.sum(u[:, None] >= table[None, :], axis=1).astype(table.dtype)
        else:
            lam = p["rate"][src] * (dt / 1000.0)
            counts = poisson_counts(key, lam, pieces)
        return SpikeEmission(jnp.where(on[src], counts, 0))

    @classmethod
    def expected_counts(cls, p, h, k, dt, src):
        """rate x dt per connection in step k within the window (differentiable runs)."""
        on = (k > h["t_lo"]) & (k <= h["t_hi"])
        return jnp.where(on[src], p["rate"][src] * (dt / 1000.0), 0.0)


@register
class spike_generator(SpikeSource):
    """Spikes at given times (NEST: spike_generator).

    spike_times (ms) must be a sorted 1-D list of finite times, none 0, and, unless ``allow_offgrid_times``,
    > 0 and on the time grid (within half a tic, 0.0005 ms, as NEST); with ``allow_offgrid_times`` an
    off-grid time is rounded up to the grid (a negative one is never sent). Checked at create / set. A spike at
    time t is emitted with stamp origin + t (arrival origin + t + delay) if start < t <= stop.
    ``spike_multiplicities`` (optional, one integer per spike) sends several spikes at once;
    ``spike_weights`` (optional, one per spike) scales the connection weight for that spike, as NEST
    does (weight w * spike_weight; its sign picks the receptor port, so a negative spike weight on an
    excitatory connection is inhibitory). With ``precise_times`` (NEST's precise spike times) a time t
    is kept off the grid: it is sent stamped at the end of the step it falls in, ceil(t / h) (NEST's
    Time::ms_stamp, in tics), with offset stamp * h - t, to the precise targets (the ``_ps`` models);
    grid targets see it at its stamp. precise_times excludes allow_offgrid_times and shift_now_spikes,
    as in NEST; several spikes of one generator in one step are then sent one by one.
    Parameters: spike_times (ms, []), spike_weights ([]), spike_multiplicities ([]),
    precise_times (False), allow_offgrid_times (False), shift_now_spikes (False), start, stop, origin.
    """

    name = "spike_generator"
    parameters = {
        "spike_times": Param((), "ms", "Spike times", "array"),
        "spike_weights": Param((), "1", "Weight of each spike (scales the connection weight)", "array"),
        "spike_multiplicities": Param((), "1", "Multiplicity of each spike", "array"),
        "precise_times": Param(False, "1", "Keep off-grid times: spikes with offsets (precise timing)", "bool"),
        "allow_offgrid_times": Param(False, "1", "Round off-grid times up to the grid", "bool"),
        "shift_now_spikes": Param(False, "1", "Shift spikes at the present time by one step", "bool"),
        **_WINDOW,
    }

    @classmethod
    def recordables(cls):
        return ()

    @classmethod
    def check(cls, p):
        super().check(p)
        for i, (t, w, m, pr) in enumerate(zip(p["spike_times"], p["spike_weights"], p["spike_multiplicities"],
                                              np.broadcast_to(p["precise_times"], (len(p["spike_times"]),)))):
            t = np.asarray(t, float)
            if len(t) > 1 and np.any(np.diff(t) < 0):
                raise BadParameterError(f"spike_generator: spike_times = {list(t)} must be sorted (non-decreasing).")
            if len(w) and len(w) != len(t):
                raise BadParameterError(f"spike_generator: spike_weights has {len(w)} values but spike_times has "
                                        f"{len(t)}; expected one weight per spike or none.")
            if len(m) and len(m) != len(t):
                raise BadParameterError(f"spike_generator: spike_multiplicities has {len(m)} values but spike_times "
                                        f"has {len(t)}; expected one multiplicity per spike or none.")
            if len(m) and (np.any(np.asarray(m) < 0) or np.any(np.asarray(m) != np.round(m))):
                raise BadParameterError(f"spike_generator: spike_multiplicities = {list(m)} must be integers >= 0.")
            if pr and (np.broadcast_to(p["allow_offgrid_times"], (len(p["spike_times"]),))[i]
                       or np.broadcast_to(p["shift_now_spikes"], (len(p["spike_times"]),))[i]):
                raise BadParameterError("spike_generator: precise_times = True is invalid together with "
                                        "allow_offgrid_times or shift_now_spikes = True (NEST: 'Option precise_times "
                                        "cannot be set to true when either allow_offgrid_times or shift_now_spikes "
                                        "is set to true').")
            if len(t) and not np.all(np.isfinite(t)):
                raise BadParameterError(f"spike_generator: spike_times value {t[~np.isfinite(t)][0]} ms is invalid; "
                                        "expected finite times in ms.")
            if np.any(t == 0):
                raise BadParameterError("spike_generator: spike_times value 0.0 ms is invalid; a spike time must be "
                                        "> 0 ms (NEST: 'spike time cannot be set to 0'); the first spike a "
                                        "generator can send is stamped at the resolution dt.")

    @classmethod
    def check_grid(cls, p, dt):
        """spike_times on the grid (or allow_offgrid_times); negative times only with allow_offgrid_times
        (NEST: not representable otherwise; such spikes are never sent)."""
        super().check_grid(p, dt)
        n = len(p["spike_times"])
        allow = np.broadcast_to(p["allow_offgrid_times"], (n,))
        precise = np.broadcast_to(p["precise_times"], (n,))
        for i, t in enumerate(p["spike_times"]):
            t = np.asarray(t, float)
            if precise[i]:  # any time: it keeps its offset (a time <= 0 is never sent)
                continue
            if not allow[i] and np.any(t < 0):
                raise BadParameterError(
                    f"spike_generator: spike_times value {t[t < 0][0]} ms is invalid; expected times > 0 ms "
                    "(NEST: 'Time point ... is not representable in current resolution').")
            grid_times(cls, "spike_times", t, dt, allow[i])

    @classmethod
    def emits_offsets(cls, p):
        return bool(np.any(p["precise_times"]))

    @classmethod
    def precise_stamps(cls, t, dt):
        """NEST's Time::ms_stamp of times ``t`` (ms) and the offsets stamp - t: (stamps in steps, offsets)."""
        tps = int(round(dt * 1000))
        t = np.asarray(t, float)
        n = np.trunc(t * 1000.0).astype(np.int64)      # static_cast<tic_t>(t * TICS_PER_MS)
        n = n - np.fmod(n, tps)                          # C++ %: the sign of the dividend
        n = np.where(n * (1.0 / tps) * dt < t, n + tps, n)
        off = n * 0.001 - t
        tiny = (np.abs(off) < _EPS * np.abs(n * 0.001 + t) * 2.0) | (np.abs(off) < np.finfo(float).tiny)
        return n // tps, np.where(tiny, 0.0, off)

    @classmethod
    def _precise_host_arrays(cls, p, dt, h):
        """One entry per spike (stamp, multiplicity, weight factor, offset), at most M per stamp."""
        origin_steps = np.broadcast_to(cls.window_steps(p, dt)[0], (len(p["spike_times"]),))
        n = len(p["spike_times"])
        precise = np.broadcast_to(p["precise_times"], (n,))
        allow = np.broadcast_to(p["allow_offgrid_times"], (n,))
        per = []
        for i in range(n):
            t = np.asarray(p["spike_times"][i], float)
            if precise[i]:
                st, off = cls.precise_stamps(t, dt)
            else:
                st, off = grid_times(cls, "spike_times", t, dt, allow[i]).astype(np.int64), np.zeros(len(t))
            st = st + int(origin_steps[i])
            m = np.asarray(p["spike_multiplicities"][i], float) if len(p["spike_multiplicities"][i]) else np.ones(len(t))
            f = np.asarray(p["spike_weights"][i], float) * m if len(p["spike_weights"][i]) else m
            keep = (st > h["t_lo"][i]) & (st <= h["t_hi"][i]) & (st >= 1) & (m != 0)
            per.append((st[keep], m[keep], f[keep], off[keep]))
        M = max([int(np.max(np.unique(x[0], return_counts=True)[1], initial=1)) for x in per] + [1])
        L = max([len(x[0]) for x in per] + [0]) + M
        steps = np.full((n, L), np.iinfo(np.int32).max // 2, np.int64)
        mult, fac, offs = np.zeros((n, L)), np.zeros((n, L)), np.zeros((n, L))
        for i, (st, m, f, off) in enumerate(per):
            steps[i, :len(st)], mult[i, :len(st)], fac[i, :len(st)], offs[i, :len(st)] = st, m, f, off
        h.update(sg_steps=steps, sg_counts=mult, sg_factor=fac, sg_offset=offs, sg_slots=np.zeros(M))
        return h

    @classmethod
    def host_arrays(cls, p, dt):
        h = super().host_arrays(p, dt)
        if cls.emits_offsets(p):
            return cls._precise_host_arrays(p, dt, h)
        origin_steps = np.broadcast_to(cls.window_steps(p, dt)[0], (len(p["spike_times"]),))
        n = len(p["spike_times"])
        per = []
        for i in range(n):
            t = np.asarray(p["spike_times"][i], float)
            st = grid_times(cls, "spike_times", t, dt, np.broadcast_to(p["allow_offgrid_times"], (n,))[i])
            # NEST: spike times are relative to origin, and the window origin + (start, stop] applies to
            # the shifted times (a spike at t is emitted at origin + t if start < t <= stop)
            st = st.astype(np.int64) + int(origin_steps[i])
            m = np.asarray(p["spike_multiplicities"][i], float) if len(p["spike_multiplicities"][i]) else np.ones(len(t))
            w = np.asarray(p["spike_weights"][i], float) if len(p["spike_weights"][i]) else np.full(len(t), np.nan)
            keep = (st > h["t_lo"][i]) & (st <= h["t_hi"][i]) & (st >= 1)
            st, m, w = st[keep], m[keep], w[keep]
            uniq, inv = np.unique(st, return_inverse=True)
            cnt = np.bincount(inv, weights=m, minlength=len(uniq))
            has_w = ~np.isnan(w)
            wm = np.where(has_w, w * m, 0.0)
            # spikes of positive and negative weight are kept apart: NEST scales the connection weight by
            # the spike weight, and the sign of the product picks the receptor port of the target
            wpos = np.bincount(inv, weights=np.maximum(wm, 0.0), minlength=len(uniq))
            wneg = np.bincount(inv, weights=np.minimum(wm, 0.0), minlength=len(uniq))
            wflag = np.bincount(inv, weights=has_w.astype(float), minlength=len(uniq)) > 0
            per.append((uniq, cnt, wpos, wneg, wflag))
        L = max([len(x[0]) for x in per] + [1]) + 1
        steps = np.full((n, L), np.iinfo(np.int32).max // 2, np.int64)
        cnts = np.zeros((n, L))
        wposs = np.zeros((n, L))
        wnegs = np.zeros((n, L))
        wflags = np.zeros((n, L), bool)
        for i, (uq, c, wp, wn, wf) in enumerate(per):
            steps[i, :len(uq)] = uq
            cnts[i, :len(uq)] = c
            wposs[i, :len(uq)] = wp
            wnegs[i, :len(uq)] = wn
            wflags[i, :len(uq)] = wf
        h.update(sg_steps=steps, sg_counts=cnts, sg_wsum=wposs, sg_wneg=wnegs, sg_wflag=wflags)
        return h

    @classmethod
    def signed_spikes(cls, p):
        """True if any spike weight is negative (its spikes go to the port of the negated weight)."""
        return any(len(w) and np.any(np.asarray(w) < 0) for w in p["spike_weights"])

    @classmethod
    def init_run_state(cls, h, k_now):
        """Index of the first pending spike of each generator at engine step k_now."""
        return {"ptr": np.array([np.searchsorted(row, k_now + 1) for row in np.asarray(h["sg_steps"])],
                                dtype=np.int32)}

    @classmethod
    def advance(cls, p, h, rs, k):
        """(counts, positive weight sums, has_weight, negative weight sums) per generator for engine
        step k, and the advanced pointer. Weight sums are sum(spike_weight * multiplicity) over the
        spikes of the step, split by the sign of the spike weight."""
        ptr = rs["ptr"]
        if "sg_slots" in h:  # precise times: up to M spikes of this step, one by one, with offsets
            idx = ptr[:, None] + jnp.arange(h["sg_slots"].shape[0])[None, :]
            hit = jnp.take_along_axis(h["sg_steps"], idx, axis=1) == k + 1
            take = lambda name: jnp.where(hit, jnp.take_along_axis(h[name], idx, axis=1), 0.0)
            out = (take("sg_counts"), take("sg_factor"), take("sg_offset"))
            return {"ptr": ptr + hit.sum(1).astype(ptr.dtype)}, out
        cur = jnp.take_along_axis(h["sg_steps"], ptr[:, None], axis=1)[:, 0]
        hit = cur == k + 1
        take = lambda name: jnp.where(hit, jnp.take_along_axis(h[name], ptr[:, None], axis=1)[:, 0], 0.0)
        f = jnp.take_along_axis(h["sg_wflag"], ptr[:, None], axis=1)[:, 0]
        out = (take("sg_counts"), take("sg_wsum"), hit & f, take("sg_wneg"))
        return {"ptr": ptr + hit.astype(ptr.dtype)}, out

    @classmethod
    def emit(cls, p, h, out, k, dt, key, src):
        if len(out) == 3:  # precise times: (n_conn, M) multiplicities, signed weight factors, offsets
            c, f, off = out
            return SpikeEmission(c[src], f[src], None, off[src])
        c, wsum, has_w, wneg = out
        return SpikeEmission(c[src], jnp.where(has_w[src], wsum[src], c[src]), wneg[src])


POISSON_PIECE_MAX = {8: 500.0, 4: 60.0}  # largest mean walked in one piece, by float size


def poisson_cdf_table(lam: float, dtype) -> np.ndarray | None:
    """CDF P(X <= k) of Poisson(lam) for k = 0, 1, ... until it rounds to 1 in ``dtype``.

    Comparing one uniform u in [0, 1) against this table (count = #{k: u >= cdf_k}) is an exact
    inverse transform at the resolution of u: the mass cut off after the last entry is below the
    spacing of the uniform variates. None when lam is too large for a short table.
    """
    import math
    if not (0.0 <= lam <= 200.0):
        return None
    kmax = int(lam + 60.0 * math.sqrt(lam) + 60.0)
    k = np.arange(kmax + 1)
    logp = k * (math.log(lam) if lam > 0 else -np.inf) - lam - np.array([math.lgamma(i + 1.0) for i in k])
    if lam == 0:
        logp = np.where(k == 0, 0.0, -np.inf)
    cdf = np.cumsum(np.exp(logp)).astype(dtype)
    one = np.nonzero(cdf >= 1.0)[0]
    L = int(one[0]) + 1 if len(one) else len(cdf)
    return np.minimum(cdf[:L], 1.0).astype(dtype)


def poisson_pieces(max_lam: float, itemsize: int) -> int:
    """1: every per-step mean is small enough for the CDF walk; 2: some is not (static; the compiled
    code must not grow with the rate, so there are only these two variants)."""
    return 1 if max_lam <= POISSON_PIECE_MAX[itemsize] else 2


def poisson_counts(key, lam, pieces: int = 1):
    """Exact Poisson draws with per-element means ``lam`` (array): inverse transform of one uniform.

    Walks the CDF upwards from k = 0 with p_(k+1) = p_k * lam / (k + 1), p_0 = exp(-lam). The loop
    runs as many iterations as the largest count drawn, about lam + 6 sqrt(lam): cheap for the
    per-step means of spiking networks (rate * dt, usually below 10). When some mean is too large for
    the walk (``pieces`` > 1, see :func:`poisson_pieces`), every mean of the draw uses JAX's exact
    Poisson sampler instead (transformed rejection for large means), whose cost and compile time do
    not depend on the mean.
    """
    if pieces > 1:
        return jax.random.poisson(key, lam, lam.shape).astype(lam.dtype)
    u = jax.random.uniform(key, lam.shape, dtype=lam.dtype)
    p0 = jnp.exp(-lam)

    def cond(c):
        return ~jnp.all(c[4])

    def body(c):
        n, p, cdf, cnt, done = c
        hit = ~done & (u < cdf)
        cnt = jnp.where(hit, n, cnt)
        # past the mean, once the next term is below rounding the CDF cannot grow: take this count
        tail = ~done & ~hit & (n > lam) & (p < 1e-17 * cdf)
        cnt = jnp.where(tail, n, cnt)
        p = p * lam / (n + 1.0)
        return n + 1.0, p, cdf + p, cnt, done | hit | tail

    init = (jnp.zeros((), lam.dtype), p0, p0, jnp.zeros(lam.shape, lam.dtype), lam <= 0)
    return jax.lax.while_loop(cond, body, init)[3]
