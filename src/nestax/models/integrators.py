"""Vectorised adaptive ODE integration reproducing NEST's use of GSL (``gsl_odeiv``, GSL 1.15).

NEST's conductance-based and nonlinear neurons (iaf_cond_*, aeif_*, hh_*, ...) integrate each
simulation step of length ``dt`` with an embedded Runge-Kutta-Fehlberg 4(5) method and standard
error control, calling ``gsl_odeiv_evolve_apply`` until the step is covered. The proposed internal
step size ``h`` survives from one simulation step to the next (it starts at ``dt``).

:func:`rkf45_evolve` reproduces that loop for ``n`` neurons at once. Each neuron keeps its own
``h`` and its own time within the step; a ``lax.while_loop`` makes one RKF45 attempt per iteration
for every neuron that has not yet reached ``dt``, and masks those that have. Everything stays on
the device.

Semantics reproduced (one ``evolve_apply`` call, starting at time t with proposed step h):

* the derivative at the start, ``k1 = f(y)``, is evaluated afresh for each call;
* if ``h`` exceeds the time left, the attempt uses the time left and, when accepted, lands
  exactly on the end of the step;
* the attempt gives the 5th-order-weighted solution and the difference to the embedded
  4th-order one as error estimate ``yerr``;
* error ratio ``rmax = max_i |yerr_i| / (eps_abs + eps_rel (a_y |y_i| + a_dydt h |y'_i|))``
  (``y`` and ``y'`` at the end of the attempt, at least DBL_MIN);
* ``rmax > 1.1``: the step shrinks to ``h * max(0.2, 0.9 rmax^(-1/5))`` and the attempt is redone
  from the saved state (the 'failed step'), unless the smaller step would not move t any more,
  in which case the attempt is kept with the old h;
* ``rmax < 0.5``: the attempt is accepted and h grows to ``h * min(5, max(1, 0.9 rmax^(-1/6)))``;
* otherwise the attempt is accepted with h unchanged.
* the (possibly shortened) step of the last attempt is the base of the next proposal, so the
  h kept after a step that was cut to reach ``dt`` derives from the cut length, as GSL 1.15 does.

The right-hand side is autonomous within a step (inputs are constant over a simulation step in
these models): ``f(y, args) -> dy/dt`` with ``y`` of shape ``(dim, n)``. The arithmetic follows the
order of operations of GSL's rkf45 so that results agree with NEST to rounding.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

# Runge-Kutta-Fehlberg 4(5) tableau (Hairer, Norsett & Wanner, Table II.5.1); zeros left out.
_A = (1.0 / 4.0, 3.0 / 8.0, 12.0 / 13.0, 1.0, 1.0 / 2.0)
_B3 = (3.0 / 32.0, 9.0 / 32.0)
_B4 = (1932.0 / 2197.0, -7200.0 / 2197.0, 7296.0 / 2197.0)
_B5 = (8341.0 / 4104.0, -32832.0 / 4104.0, 29440.0 / 4104.0, -845.0 / 4104.0)
_B6 = (-6080.0 / 20520.0, 41040.0 / 20520.0, -28352.0 / 20520.0, 9295.0 / 20520.0, -5643.0 / 20520.0)
_C = (902880.0 / 7618050.0, 3953664.0 / 7618050.0, 3855735.0 / 7618050.0,
      -1371249.0 / 7618050.0, 277020.0 / 7618050.0)            # weights of k1, k3, k4, k5, k6
_E = (1.0 / 360.0, -128.0 / 4275.0, -2197.0 / 75240.0, 1.0 / 50.0, 2.0 / 55.0)  # error weights

RKF45_ORDER = 5
_DBL_MIN = float(np.finfo(np.float64).tiny)


def rkf45_attempt(f, y, k1, h, args):
    """One RKF45 step of length ``h`` (shape (n,)) from ``y`` with ``k1 = f(y)``.

    Returns the new state and the error estimate, both (dim, n)."""
    k2 = f(y + _A[0] * h * k1, args)
    k3 = f(y + h * (_B3[0] * k1 + _B3[1] * k2), args)
    k4 = f(y + h * (_B4[0] * k1 + _B4[1] * k2 + _B4[2] * k3), args)
    k5 = f(y + h * (_B5[0] * k1 + _B5[1] * k2 + _B5[2] * k3 + _B5[3] * k4), args)
    k6 = f(y + h * (_B6[0] * k1 + _B6[1] * k2 + _B6[2] * k3 + _B6[3] * k4 + _B6[4] * k5), args)
    d = _C[0] * k1 + _C[1] * k3 + _C[2] * k4 + _C[3] * k5 + _C[4] * k6
    y_new = y + h * d
    yerr = h * (_E[0] * k1 + _E[1] * k3 + _E[2] * k4 + _E[3] * k5 + _E[4] * k6)
    return y_new, yerr


def standard_control(y, yerr, dydt, h, eps_abs, eps_rel, a_y, a_dydt, order=RKF45_ORDER):
    """GSL's standard step-size control. Returns (new h, decrease?)."""
    d0 = eps_rel * (a_y * jnp.abs(y) + a_dydt * jnp.abs(h * dydt)) + eps_abs
    rmax = jnp.maximum(jnp.max(jnp.abs(yerr) / jnp.abs(d0), axis=0), _DBL_MIN)
    dec = rmax > 1.1
    inc = rmax < 0.5
    r_dec = jnp.maximum(0.9 / jnp.power(rmax, 1.0 / order), 0.2)
    r_inc = jnp.clip(0.9 / jnp.power(rmax, 1.0 / (order + 1.0)), 1.0, 5.0)
    r = jnp.where(dec, r_dec, jnp.where(inc, r_inc, 1.0))
    return jnp.where(dec | inc, r * h, h), dec


def compact_capacity(n: int) -> int | None:
    """Neurons iterated in the compacted phase of :func:`rkf45_evolve` (None: no compaction)."""
    if COMPACT_MIN_NEURONS is None or n < COMPACT_MIN_NEURONS:
        return None
    return int(min(256, max(16, n // 128)))  # measured best ~32 lanes for 4,000 aeif neurons


# populations at least this large integrate their last, slowest neurons in a compacted loop (None: never)
COMPACT_MIN_NEURONS = 256


def _neuron_axis(x, n):
    if jnp.ndim(x) == 0:
        return None
    if x.shape[-1] == n:
        return x.ndim - 1
    if x.shape[0] == n:
        return 0
    return None


def _take(tree, idx, n):
    def one(x):
        ax = _neuron_axis(x, n)
        return x if ax is None else jnp.take(x, idx, axis=ax)
    return jax.tree.map(one, tree)


def _put(tree, idx, sub, n):
    def one(x, xs):
        ax = _neuron_axis(x, n)
        if ax is None:
            return xs
        xm = jnp.moveaxis(x, ax, 0).at[idx].set(jnp.moveaxis(xs, ax, 0))
        return jnp.moveaxis(xm, 0, ax)
    return jax.tree.map(one, tree, sub)


def rkf45_evolve(f, y, h, T, args, *, eps_abs=1e-3, eps_rel=0.0, a_y=1.0, a_dydt=0.0, post=None,
                 compact=False):
    """Integrate ``dy/dt = f(y, args)`` over one simulation step (0, T] for every neuron.

    y: (dim, n) state; h: (n,) proposed step size carried across steps (must be > 0);
    T: the simulation step (scalar). ``post(y, args, accepted) -> (y, args)``, if given, runs after
    every iteration (``accepted``: (n,) mask of neurons whose attempt was accepted); models that
    act inside the integration loop (aeif's spike test) use it.

    ``compact=True`` (callers whose ``f`` and ``post`` take every per-neuron value from ``args``,
    none from a closure): in a large population, once at most ``compact_capacity(n)`` neurons are
    still integrating, those are gathered and iterated alone, so that a few neurons that need many
    internal steps (aeif neurons running up to V_peak) do not make every neuron pay for each of
    their attempts. The per-neuron operations are the same, but XLA may fuse (and contract into
    FMAs) the gathered loop differently, so values can differ in the last bits: over 200 ms of
    4,000 spiking aeif_cond_exp neurons, 2.3e-10 mV at most, with identical spikes.

    Returns (y, h, args) at the end of the step.
    """
    T = jnp.asarray(T, y.dtype)
    n = y.shape[1]
    t0 = jnp.zeros((n,), y.dtype)

    def cond(c):
        return jnp.any(c[0] < T)

    def body(c):
        t, y, h, k1, args, ctl = c
        active = t < T
        left = T - t
        final = h > left
        hh = jnp.where(final, left, h)
        y1, yerr = rkf45_attempt(f, y, k1, hh, args)
        dydt = f(y1, args)
        h_new, dec = standard_control(y1, yerr, dydt, hh, *ctl)
        t_end = jnp.where(final, T, t + hh)
        retry = dec & (h_new < hh) & (t_end + h_new != t_end)
        accept = active & ~retry
        h_next = jnp.where(dec & ~retry, hh, h_new)
        y = jnp.where(accept, y1, y)
        t = jnp.where(accept, t_end, t)
        h = jnp.where(active, h_next, h)
        k1 = jnp.where(accept, dydt, k1)
        if post is not None:
            y, args = post(y, args, accept)
            k1 = f(y, args)
        return t, y, h, k1, args, ctl

    # the error-control constants ride in the loop state: they may be per neuron (gsl_error_tol)
    init = (t0, y, h, f(y, args), args, (eps_abs, eps_rel, a_y, a_dydt))
    C = compact_capacity(n) if compact else None
    if C is None:
        t, y, h, _, args, _ = jax.lax.while_loop(cond, body, init)
        return y, h, args
    # all neurons together while more than C are integrating, then the rest (at most C) alone; the
    # padding of the gathered set is a finished neuron, which every iteration leaves unchanged
    c = jax.lax.while_loop(lambda c: jnp.sum(c[0] < T) > C, body, init)

    def finish(c):
        active = c[0] < T
        idx = jnp.nonzero(active, size=C, fill_value=jnp.argmin(active))[0]
        return _put(c, idx, jax.lax.while_loop(cond, body, _take(c, idx, n)), n)

    t, y, h, _, args, _ = jax.lax.cond(cond(c), finish, lambda c: c, c)
    return y, h, args


def rkf45_fixed(f, y, T, args, substeps: int, post=None):
    """Integrate ``dy/dt = f(y, args)`` over (0, T] with ``substeps`` fixed RKF45 steps of T / substeps
    (the 5th-order solution, no error control), ``post(y, args, accepted)`` after each as in
    :func:`rkf45_evolve`. A plain unrolled sequence of steps: unlike the adaptive loop it can be
    differentiated in reverse mode (differentiable mode, :mod:`nestax.models.surrogate`).

    Returns (y, args)."""
    h = jnp.full(y.shape[1:], T / substeps, y.dtype)
    accepted = jnp.ones(y.shape[1:], bool)
    for _ in range(substeps):
        y, _ = rkf45_attempt(f, y, f(y, args), h, args)
        if post is not None:
            y, args = post(y, args, accepted)
    return y, args
