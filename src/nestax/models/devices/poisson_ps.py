"""poisson_generator_ps: Poisson spike trains with precise (off-grid) spike times (NEST:
poisson_generator_ps).

Each target (connection; a spike_recorder connected directly included) gets its own independent
renewal train: intervals drawn as dead_time + (1000/rate - dead_time) * Exp(1) ms (a Poisson process
with dead time, mean rate ``rate``). NEST's scheme, per target: the first spike of an activity period
lies dead_time + ... after its start (or, with probability dead_time * rate / 1000, uniformly in the
first dead_time: the process is started in equilibrium); each spike time is kept as a stamp (the end
of its step, NEST's Time::ms_stamp in tics) and an offset before it. Spikes go out with their
offsets (the _ps neurons and parrot_neuron_ps use them; grid targets see them at their stamps).
Statistical parity with NEST (NEST draws its own random numbers).

============ ===== ======= ===========================================
rate         Hz    0       Mean rate (>= 0)
dead_time    ms    0       Dead time after each spike (>= 0, < 1000/rate)
start, stop, origin  ms  0, inf, 0  Activity window: spikes stamped in (origin + start, origin + stop]
============ ===== ======= ===========================================

At most M spikes per target and step are drawn, M = rate h / 1000 + 10 sqrt(rate h / 1000) + 10
(a larger count has a probability below 1e-20 per step).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from ..base import Param, SpikeEmission
from ..registry import register
from .generators import _WINDOW, SpikeSource


def ms_stamp_steps(x, dt):
    """NEST's Time::ms_stamp(x) in steps (x >= 0 ms): the end of the step x falls in, from tics."""
    tps = int(round(dt * 1000))
    n = jnp.trunc(x * 1000.0)
    n = n - jnp.fmod(n, tps)
    n = jnp.where(n * (1.0 / tps) * dt < x, n + tps, n)
    return (n // tps).astype(jnp.int64 if jax.config.jax_enable_x64 else jnp.int32), n * 0.001


@register
class poisson_generator_ps(SpikeSource):
    """Poisson trains with dead time and precise spike times, one per target (NEST: poisson_generator_ps)."""

    name = "poisson_generator_ps"
    per_connection_random = True
    conn_state = True
    parameters = {"rate": Param(0.0, "Hz", "Mean firing rate"),
                  "dead_time": Param(0.0, "ms", "Dead time after each spike"), **_WINDOW}

    @classmethod
    def recordables(cls):
        return ()

    @classmethod
    def emits_offsets(cls, p):
        return True

    @classmethod
    def check(cls, p):
        super().check(p)
        cls._nonnegative(p, "rate", "dead_time")
        rate = np.asarray(p["rate"], float)
        cls._require(p, "rate", np.isfinite(rate), "a finite value >= 0 Hz")
        dead = np.broadcast_to(np.asarray(p["dead_time"], float), rate.shape)
        cls._require(p, "dead_time", (rate <= 0) | (dead * rate < 1000.0),
                     "dead_time < 1000 / rate (NEST: 'The inverse rate cannot be smaller than the dead time')")

    @classmethod
    def host_arrays(cls, p, dt):
        h = super().host_arrays(p, dt)
        n = len(h["t_lo"])
        rate = np.broadcast_to(np.asarray(p["rate"], float), (n,))
        dead = np.broadcast_to(np.asarray(p["dead_time"], float), (n,))
        h["rate"] = rate
        h["dead"] = dead
        h["inv_rate_ms"] = np.where(rate > 0, 1000.0 / np.where(rate > 0, rate, 1.0) - dead, np.inf)
        lam = float(np.max(rate, initial=0.0)) * dt / 1000.0
        h["slots"] = np.zeros(int(math.ceil(lam + 10.0 * math.sqrt(lam) + 10.0)))
        return h

    @classmethod
    def init_conn_state(cls, p, h, src, k_now):
        """No spike drawn yet (NEST's next_spike = -inf): stamp -1."""
        return {"stamp": np.full(len(src), -1, np.int64), "offset": np.zeros(len(src), np.asarray(h["rate"]).dtype)}

    @classmethod
    def emit(cls, p, h, out, k, dt, key, src, cs):
        M = h["slots"].shape[0]
        rate, dead, inv = h["rate"][src], h["dead"][src], h["inv_rate_ms"][src]
        lo, hi = h["t_lo"][src], h["t_hi"][src]
        stamp, off = cs["stamp"], cs["offset"]
        on = (rate > 0) & (k + 1 > lo) & (k + 1 <= hi)
        k1, k2, k3, k4 = jax.random.split(key, 4)
        E = src.shape[0]
        # the first spike of an activity period, measured from its start max(k, origin + start)
        u1 = jax.random.uniform(k1, (E,), dtype=off.dtype)
        u2 = jax.random.uniform(k2, (E,), dtype=off.dtype)
        e0 = jax.random.exponential(k3, (E,), dtype=off.dtype)
        in_dead = (dead > 0) & (u1 < dead * rate / 1000.0)
        first = jnp.where(in_dead, u2 * dead, jnp.where(on, inv, 0.0) * e0 + dead)
        st0, st0_ms = ms_stamp_steps(first, dt)
        fresh = on & (stamp < 0)
        stamp = jnp.where(fresh, st0 + jnp.maximum(k, lo), stamp)
        off = jnp.where(fresh, st0_ms - first, off)
        ex = jax.random.exponential(k4, (E, M), dtype=off.dtype)

        def body(j, c):
            stamp, off, cnt, offs = c
            hit = on & (stamp == k + 1)
            cnt = cnt.at[:, j].set(hit.astype(cnt.dtype))
            offs = offs.at[:, j].set(jnp.where(hit, off, 0.0))
            new = -off + jnp.where(on, inv, 0.0) * ex[:, j] + dead
            same = new < 0
            dst, dst_ms = ms_stamp_steps(jnp.maximum(new, 0.0), dt)
            stamp2 = jnp.where(same, stamp, stamp + dst)
            off2 = jnp.where(same, -new, dst_ms - new)
            return (jnp.where(hit, stamp2, stamp), jnp.where(hit, off2, off), cnt, offs)

        c0 = (stamp, off, jnp.zeros((E, M), jnp.int32), jnp.zeros((E, M), off.dtype))
        stamp, off, cnt, offs = jax.lax.fori_loop(0, M, body, c0)
        # an inactive period forgets the train: the next activity starts a fresh one (NEST restarts
        # the targets whose next spike lies before a new origin + start)
        stamp = jnp.where((k + 1 > hi) & (hi > lo), -1, stamp)
        return SpikeEmission(cnt, None, None, offs), {"stamp": stamp.astype(cs["stamp"].dtype),
                                                      "offset": off.astype(cs["offset"].dtype)}
