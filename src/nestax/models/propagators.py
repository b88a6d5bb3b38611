"""Exact-integration propagators for linear current-based neurons, numerically stable everywhere.

With a = 1/tau_syn - 1/tau_m, the membrane responses over one step h to a unit synaptic current
(exponential kernel) and to a unit alpha-kernel derivative are

    P_exp   = exp(-h/tau_m)/C * (1 - exp(-a h)) / a
    P_alpha = exp(-h/tau_m)/C * (1 - exp(-a h) (1 + a h)) / a**2

Both have finite limits as tau_syn -> tau_m (a -> 0): h/C * exp(-h/tau_m) and
h**2/(2C) * exp(-h/tau_m). The forms below use expm1 and a short series so that they stay accurate to
rounding for every a, including exactly a = 0 (NEST's "singular" case).

Parity with NEST 3.10: NEST evaluates P_exp with its regular formula unless that is not a positive
normal number (then the limit); the two agree to rounding, so :func:`psc_exp_to_v` is used as is.
For P_alpha NEST uses the limit whenever h <= 1e-7 tau_m**2/|tau_m - tau_syn| (not only at a = 0);
:func:`psc_alpha_to_v` makes the same choice, :func:`psc_alpha_to_v_exact` is the exact value.
``refractory_steps`` converts t_ref to steps with NEST's rounding (to tics, then up to whole steps).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def _one_minus_exp_over(x):
    """(1 - exp(-x)) / x, with the limit 1 at x = 0."""
    safe = jnp.where(x == 0, 1.0, x)
    return jnp.where(x == 0, 1.0, -jnp.expm1(-safe) / safe)


def _alpha_kernel_factor(x):
    """(1 - exp(-x)(1 + x)) / x**2, with the limit 1/2 at x = 0."""
    small = jnp.abs(x) < 0.1
    xs = jnp.where(small, x, 0.0)
    # series sum_{n>=2} (-1)^n (n-1)/n! x^(n-2), eleven terms: error < 1e-17 for |x| < 0.1
    series = jnp.zeros_like(xs)
    fact = 1.0
    coeffs = []
    for n in range(2, 13):
        fact = 1.0
        for m in range(2, n + 1):
            fact *= m
        coeffs.append(((-1) ** n) * (n - 1) / fact)
    for c in reversed(coeffs):
        series = series * xs + c
    xl = jnp.where(small, 1.0, x)
    direct = (-jnp.expm1(-xl) - xl * jnp.exp(-xl)) / (xl * xl)
    return jnp.where(small, series, direct)


def psc_exp_to_v(tau_syn, tau_m, C_m, h):
    a = 1.0 / tau_syn - 1.0 / tau_m
    return jnp.exp(-h / tau_m) / C_m * h * _one_minus_exp_over(a * h)


def psc_alpha_to_v_exact(tau_syn, tau_m, C_m, h):
    """Exact alpha-kernel propagator P_alpha (see the module docstring), accurate for every tau_syn."""
    a = 1.0 / tau_syn - 1.0 / tau_m
    return jnp.exp(-h / tau_m) / C_m * h * h * _alpha_kernel_factor(a * h)


# NEST (libnestutil/iaf_propagator) takes the tau_syn -> tau_m limit of P_alpha whenever
# h <= NEST_STABILITY_FACTOR * tau_m**2 / |tau_m - tau_syn|, i.e. whenever |a| h is below about 1e-7.
NEST_STABILITY_FACTOR = 1e-7


def psc_alpha_to_v(tau_syn, tau_m, C_m, h):
    """P_alpha as NEST uses it: the exact value, but the singular limit h**2/(2C) exp(-h/tau_m) when
    h <= 1e-7 tau_m**2 / |tau_m - tau_syn| (NEST's regularity criterion).

    Near the singularity the limit differs from the exact value by a relative (2/3)|a| h < 1e-7; NEST
    integrates with it, so parity requires the same choice (it moves V_m by more than 1e-9 mV).
    """
    diff = jnp.abs(tau_m - tau_syn)
    regular = h * diff > NEST_STABILITY_FACTOR * tau_m * tau_m  # h > h_min_regular, without dividing by 0
    singular = 0.5 * h * h / C_m * jnp.exp(-h / tau_m)
    return jnp.where(regular, psc_alpha_to_v_exact(tau_syn, tau_m, C_m, h), singular)


def leak_to_v(tau_m, C_m, h):
    """Response of V to a constant current over one step: tau_m/C (1 - exp(-h/tau_m))."""
    return -tau_m / C_m * jnp.expm1(-h / tau_m)


def refractory_steps(t_ref, h, tics_per_ms=1000):
    """t_ref in whole steps, as NEST's ``Time(Time::ms(t_ref)).get_steps()``.

    NEST first rounds t_ref to its time base (tics, 1000 per ms by default; half a tic rounds up) and
    then rounds the tics UP to whole steps: at h = 0.1 ms, t_ref = 0.21 ms gives 3 steps, not 2.
    """
    tics_per_step = int(round(h * tics_per_ms))
    itype = jnp.int64 if jax.config.jax_enable_x64 else jnp.int32
    tics = jnp.floor(jnp.asarray(t_ref) * tics_per_ms + 0.5).astype(itype)
    return ((tics + (tics_per_step - 1)) // tics_per_step).astype(jnp.int32)
