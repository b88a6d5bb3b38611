"""Exact-integration propagators for linear current-based neurons, numerically stable everywhere.

With a = 1/tau_syn - 1/tau_m, the membrane responses over one step h to a unit synaptic current
(exponential kernel) and to a unit alpha-kernel derivative are

    P_exp   = exp(-h/tau_m)/C * (1 - exp(-a h)) / a
    P_alpha = exp(-h/tau_m)/C * (1 - exp(-a h) (1 + a h)) / a**2

Both have finite limits as tau_syn -> tau_m (a -> 0): h/C * exp(-h/tau_m) and
h**2/(2C) * exp(-h/tau_m). The forms below use expm1 and a short series so that they stay accurate to
rounding for every a, including exactly a = 0 (NEST's "singular" case).
"""
from __future__ import annotations

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


def psc_alpha_to_v(tau_syn, tau_m, C_m, h):
    a = 1.0 / tau_syn - 1.0 / tau_m
    return jnp.exp(-h / tau_m) / C_m * h * h * _alpha_kernel_factor(a * h)


def leak_to_v(tau_m, C_m, h):
    """Response of V to a constant current over one step: tau_m/C (1 - exp(-h/tau_m))."""
    return -tau_m / C_m * jnp.expm1(-h / tau_m)


def refractory_steps(t_ref, h):
    """t_ref in whole steps, rounded to the nearest step as NEST's Time(ms) does."""
    return jnp.floor(t_ref / h + 0.5).astype(jnp.int32)
