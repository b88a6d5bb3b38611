"""Spike-train generators beyond poisson / spike_generator (NEST 3.10 names, defaults, units, timing).

- :class:`pulsepacket_generator`: packets of ``activity`` spikes around each of ``pulse_times``,
  Gaussian with standard deviation ``sdev``; every target receives the same spikes.
- :class:`mip_generator`: a mother Poisson process of ``rate``, each of its spikes copied to each target
  with probability ``p_copy`` (multiple interaction process: the targets' trains are correlated).
- :class:`spike_train_injector`: NEST's neuron-like twin of spike_generator (spikes at given times).

NEST's ``gamma_sup_generator`` and ``ppd_sup_generator`` (a renewal state per target) are in
:mod:`nestax.models.devices.renewal`. ``spike_dilutor`` is not provided: it repeats the spikes it
receives, which the spike-source protocol of :mod:`nestax.models.base` does not let a device do.

Timing (steps relative to the simulation start, ``t_lo = origin + start``, ``t_hi = origin + stop``;
a spike sent in engine step k is stamped k + 1):

- mip_generator: active in the steps k with t_lo < k <= t_hi, like poisson_generator. NEST checks
  the window once per min_delay slice (at the slice's first step); the two agree when min_delay = dt.
- pulsepacket_generator: NEST 3.10 declares this device a current generator, so its window is
  shifted: it is active in the steps k with t_lo < k + 2 <= t_hi. A spike at time x (ms) lies on
  step s = ceil(tics(x) / tics_per_step) (tics(x) = x * 1000 rounded to the nearest tic) and is sent
  in step s, stamped s + 1: a pulse at 5.0 ms with sdev = 0 gives spikes stamped 5.1 ms. The spikes of
  a pulse are drawn in the first active step k_d whose time is no more than ``10 * sdev`` (sdev = 0:
  1 ms) before the pulse; spikes earlier than k_d * dt are lost, spikes whose step s is not active
  are never sent.
- spike_train_injector: as spike_generator, a spike at t is stamped origin + t if start < t <= stop.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..base import Param, SpikeEmission
from ..registry import register
from ...errors import BadParameterError
from .generators import _WINDOW, SpikeSource, poisson_counts, poisson_pieces, spike_generator

_NEVER = np.iinfo(np.int32).max // 2


def _nest_tics(x):
    """NEST's Time::ms(x): tics = (long)(x * 1000 + 0.5), a cast that truncates towards zero."""
    return np.trunc(np.asarray(x, float) * 1000.0 + 0.5).astype(np.int64)


def _spike_list(per, n):
    """The arrays spike_generator's advance / emit read, from per-generator (stamps, counts)."""
    L = max([len(s) for s, _ in per] + [1]) + 1
    steps = np.full((n, L), _NEVER, np.int64)
    cnts = np.zeros((n, L))
    for i, (s, c) in enumerate(per):
        steps[i, :len(s)] = s
        cnts[i, :len(s)] = c
    return dict(sg_steps=steps, sg_counts=cnts, sg_wsum=np.zeros((n, L)), sg_wneg=np.zeros((n, L)),
                sg_wflag=np.zeros((n, L), bool))


@register
class pulsepacket_generator(SpikeSource):
    """Pulse packets: ``activity`` spikes around each pulse time (NEST: pulsepacket_generator).

    For each pulse time P (absolute, ms; sorted as NEST does) the generator draws ``activity`` spike
    times x = P + sdev * z, z ~ N(0, 1), and sends them on the time grid (see the module docstring for
    the exact steps). Spikes of one step go out as one event with that multiplicity, and every target
    receives the same spikes (as in NEST, where the packet is drawn once per generator).

    The packet times are drawn when the network is built (NumPy, reproducible, independent of
    chunking and of splitting a run), from the generator's ``rng_seed`` if given (>= 0), else from the
    Simulator's seed and the generator's global id. With sdev = 0 nothing is random.

    Differences from NEST 3.10: NEST redraws the packets within the tolerance window of the current
    time at every Simulate call (splitting a run duplicates them); nestax gives the result of one
    continuous run. NEST checks the window once per min_delay slice; nestax per step (NEST with
    min_delay = dt).

    Parameters: pulse_times (ms, []), activity (spikes per pulse, 0, integer >= 0), sdev (ms, 0, >= 0),
    start (ms, 0), stop (ms, inf), origin (ms, 0), rng_seed (-1: from the Simulator's seed).
    """

    name = "pulsepacket_generator"
    draws_when_built = True
    parameters = {
        "pulse_times": Param((), "ms", "Times of the pulse centres (absolute)", "array"),
        "activity": Param(0, "1", "Number of spikes per pulse", "int"),
        "sdev": Param(0.0, "ms", "Standard deviation of the spike times around the pulse time"),
        **_WINDOW,
        "rng_seed": Param(-1, "1", "Seed of the packet draws (-1: from the Simulator's seed)", "int"),
    }
    #: NEST: spikes are drawn within sdev * sdev_tolerance of the current time
    sdev_tolerance = 10.0

    @classmethod
    def recordables(cls):
        return ()

    @classmethod
    def check(cls, p):
        super().check(p)
        a = np.asarray(p["activity"], float)
        cls._require(p, "activity", (a >= 0) & (a == np.round(a)),
                     "an integer >= 0 (NEST: 'The activity cannot be negative.')")
        s = np.asarray(p["sdev"], float)
        cls._require(p, "sdev", (s >= 0) & np.isfinite(s), "a finite value >= 0 ms (NEST: 'The standard "
                     "deviation cannot be negative.')")
        for t in p["pulse_times"]:
            t = np.asarray(t, float)
            if len(t) and not np.all(np.isfinite(t)):
                raise BadParameterError(f"pulsepacket_generator: pulse_times value {t[~np.isfinite(t)][0]} ms is "
                                        "invalid; expected finite times in ms.")
        seeds = np.broadcast_to(np.asarray(p["rng_seed"]), np.shape(s))
        cls._require(p, "rng_seed", (seeds >= -1) & (seeds <= 2**32 - 1) & (seeds == np.round(seeds)),
                     "an integer in 0 .. 2**32 - 1 (or -1: none)")

    @classmethod
    def host_arrays(cls, p, dt, seeds=None):
        h = super().host_arrays(p, dt)
        n = len(p["pulse_times"])
        tps = int(round(dt * 1000))
        act = np.broadcast_to(np.asarray(p["activity"]), (n,)).astype(np.int64)
        sdev = np.broadcast_to(np.asarray(p["sdev"], float), (n,))
        if seeds is None:  # called outside a build (docs, checks): the generator's own seeds
            seeds = np.maximum(np.broadcast_to(np.asarray(p["rng_seed"]), (n,)), 0)
        per = []
        for i in range(n):
            pulses = np.sort(np.asarray(p["pulse_times"][i], float))
            lo, hi = int(h["t_lo"][i]), int(h["t_hi"][i])
            # NEST 3.10 treats this device as a current generator: active in step k iff lo < k + 2 <= hi
            k_first, k_last = max(lo - 1, 0), hi - 2
            tol = sdev[i] * cls.sdev_tolerance if sdev[i] > 0 else 1.0
            if sdev[i] > 0 and act[i] > 0 and len(pulses):
                z = np.random.default_rng([int(seeds[i]), i]).standard_normal((len(pulses), int(act[i])))
            else:
                z = np.zeros((len(pulses), int(act[i])))
            stamps = []
            for j, P in enumerate(pulses):
                if P < -tol:  # NEST's pre_run_hook at t = 0 skips pulses further than tol in the past
                    continue
                tp = int(_nest_tics(P))
                # the first step k whose time is no more than tol before the pulse: (tp - k*tps) ms <= tol
                k_i = int(np.ceil((tp - tol * 1000.0) / tps))
                while (tp - (k_i - 1) * tps) * 1e-3 <= tol:
                    k_i -= 1
                while (tp - k_i * tps) * 1e-3 > tol:
                    k_i += 1
                k_d = max(k_i, k_first)
                if k_d > k_last:
                    continue  # never drawn while active
                tx = _nest_tics(P + sdev[i] * z[j])
                tx = tx[tx >= k_d * tps]  # spikes before the draw time are lost
                s = -((-tx) // tps)  # ceil(tics / tics_per_step): the step of the spike
                s = s[(s >= k_first) & (s <= k_last)]  # sent in step s only while active
                stamps.append(s + 1)
            st = np.concatenate(stamps) if stamps else np.zeros(0, np.int64)
            uniq, cnt = np.unique(st, return_counts=True)
            per.append((uniq.astype(np.int64), cnt.astype(float)))
        h.update(_spike_list(per, n))
        return h

    @classmethod
    def init_run_state(cls, h, k_now):
        return spike_generator.init_run_state(h, k_now)

    @classmethod
    def advance(cls, p, h, rs, k):
        return spike_generator.advance(p, h, rs, k)

    @classmethod
    def emit(cls, p, h, out, k, dt, key, src):
        return SpikeEmission(out[0][src])


@register
class mip_generator(SpikeSource):
    """Multiple interaction process (NEST: mip_generator).

    In every active step a mother Poisson process of ``rate`` produces M spikes, M ~ Poisson(rate dt),
    shared by all targets; each target receives each of the M spikes independently with probability
    ``p_copy``, i.e. Binomial(M, p_copy) spikes, sent as one event with that multiplicity. Each target's
    train is Poisson with rate ``rate * p_copy``; two targets share coincident spikes at rate
    ``rate * p_copy**2`` (pairwise correlation coefficient p_copy). p_copy = 1 gives every target the
    mother train.

    Active during engine steps k with start < k <= stop (relative to origin); spikes of step k are
    stamped (k+1)*dt, as poisson_generator. NEST checks the window once per min_delay slice (at its
    first step); the two agree when min_delay = dt.

    nestax draws the mother once per step for all connections of the generator that one ``emit``
    serves (all its connections to neurons); a spike_recorder connected directly to the generator
    sees a thinning of its own mother draw (its statistics are those of any target, but its spikes
    are not correlated with the neurons' ones).

    Parameters: rate (Hz, 0, >= 0), p_copy (1.0, in [0, 1]), start (ms, 0), stop (ms, inf), origin (ms, 0).
    """

    name = "mip_generator"
    per_connection_random = True
    parameters = {"rate": Param(0.0, "Hz", "Rate of the mother process"),
                  "p_copy": Param(1.0, "1", "Probability that a mother spike is copied to a target"),
                  **_WINDOW}

    @classmethod
    def recordables(cls):
        return ()

    @classmethod
    def check(cls, p):
        super().check(p)
        r = np.asarray(p["rate"], float)
        cls._require(p, "rate", (r >= 0) & np.isfinite(r), "a finite value >= 0 Hz (NEST: 'Rate must be "
                     "non-negative.')")
        c = np.asarray(p["p_copy"], float)
        cls._require(p, "p_copy", (c >= 0) & (c <= 1), "a probability in [0, 1] (NEST: 'Copy probability "
                     "must be in [0, 1].')")

    @classmethod
    def static_args(cls, p, dt, itemsize):
        return {"pieces": poisson_pieces(float(np.max(p["rate"], initial=0.0)) * dt / 1000.0, itemsize)}

    @classmethod
    def emit(cls, p, h, out, k, dt, key, src, pieces=1):
        on = (k > h["t_lo"]) & (k <= h["t_hi"])
        k_mother, k_copy = jax.random.split(key)
        lam = p["rate"] * (dt / 1000.0)
        mother = jnp.where(on, poisson_counts(k_mother, lam, pieces), 0.0)
        m, pc = mother[src], p["p_copy"][src]
        thin = jax.random.binomial(k_copy, m, jnp.clip(pc, 0.0, 1.0), shape=src.shape, dtype=lam.dtype)
        counts = jnp.where(pc >= 1.0, m, jnp.where(pc <= 0.0, 0.0, thin))
        return SpikeEmission(counts.astype(lam.dtype))


_INJECTOR_PARAMS = {k: v for k, v in spike_generator.parameters.items() if k != "spike_weights"}


@register
class spike_train_injector(spike_generator):
    """Spikes at given times from a node that NEST counts as a neuron (NEST 3.10: spike_train_injector).

    Same spike times, multiplicities, window and checks as :class:`spike_generator` (a spike at t is
    stamped origin + t if start < t <= stop; times on the grid unless ``allow_offgrid_times``), without
    ``spike_weights``. In NEST the injector is a neuron (it is distributed over virtual processes and
    may be the source of plastic synapses); in nestax it is a spike source, so a plastic synapse needs
    a parrot_neuron in between, as from a spike_generator.

    Parameters: spike_times (ms, []), spike_multiplicities ([]), precise_times (False, not supported),
    allow_offgrid_times (False), shift_now_spikes (False), start (ms, 0), stop (ms, inf), origin (ms, 0).
    """

    name = "spike_train_injector"
    parameters = dict(_INJECTOR_PARAMS)

    @classmethod
    def _as_generator(cls, p):
        return {**p, "spike_weights": [()] * len(p["spike_times"])}

    @classmethod
    def _renamed(cls, fn, *args):
        try:
            return fn(*args)
        except BadParameterError as e:
            raise BadParameterError(str(e).replace("spike_generator", cls.name)) from None

    @classmethod
    def check(cls, p):
        for t in p["spike_times"]:
            t = np.asarray(t, float)
            if len(t) > 1 and np.any(np.diff(t) < 0):
                i = int(np.nonzero(np.diff(t) < 0)[0][0])
                raise BadParameterError(
                    f"spike_train_injector: spike_times value {t[i]} ms is followed by {t[i + 1]} ms; expected "
                    "times sorted in non-descending order (NEST: 'Spike times must be sorted in non-descending "
                    "order.').")
        cls._renamed(super().check, cls._as_generator(p))

    @classmethod
    def check_grid(cls, p, dt):
        cls._renamed(super().check_grid, cls._as_generator(p), dt)

    @classmethod
    def host_arrays(cls, p, dt):
        return cls._renamed(super().host_arrays, cls._as_generator(p), dt)

    @classmethod
    def signed_spikes(cls, p):
        return False
