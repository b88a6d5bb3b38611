"""The Siegert rate neuron (NEST: siegert_neuron; Fourcaud & Brunel 2002, Schuecker et al. 2015,
Hahne et al. 2017): the mean-field firing rate of a leaky integrate-and-fire neuron as a rate model.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy import special as jsp

from ...errors import BadParameterError
from ..base import Neuron, Param, State
from ..common import route_one_port
from ..registry import register

#: |zeta(1/2)| sqrt(2): threshold and reset shift of exponentially filtered noise (Fourcaud & Brunel 2002)
_ALPHA = 2.0652531522312172
_SQRT_PI = float(np.sqrt(np.pi))

# Composite Gauss-Legendre rule for int_a^b erfcx(s) ds (0 <= a, b), in t = log(1 + s): the
# integrand erfcx(e^t - 1) e^t is entire and tends to 1/sqrt(pi), so equal panels in t converge to
# machine precision for any interval the Siegert formula meets (measured: < 3e-16 relative against
# scipy.integrate.quad at epsabs 0 for limits in [0, 1e8]).
_N_PANELS, _N_NODES = 32, 16
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_N_NODES)


def _erfcx_pos(x):
    """exp(x^2) erfc(x) for x >= 0 to ~1 ulp. jax's erfcx is off near x = 26.6 (measured: up to
    100 % at 26.544 <= x <= 26.64 in jax 0.10); above 20 the Laplace continued fraction
    erfcx(x) = 1 / (sqrt(pi) (x + (1/2) / (x + (2/2) / (x + (3/2) / ...)))) takes over."""
    big = x > 20.0
    xs = jnp.where(big, x, 20.0)
    f = xs
    for k in range(40, 0, -1):
        f = xs + (0.5 * k) / f
    return jnp.where(big, 1.0 / (_SQRT_PI * f), jsp.erfcx(jnp.where(big, 0.0, x)))


def _erfcx_integral(a, b):
    """int_a^b erfcx(s) ds for a, b >= 0 (elementwise; b < a gives the negative)."""
    ta = jnp.log1p(a)
    h = jnp.log1p((b - a) / (1.0 + a)) / _N_PANELS  # log1p(b) - log1p(a) without cancellation
    k = jnp.arange(_N_PANELS, dtype=h.dtype)
    # nodes: (..., panel, node)
    t = (ta[..., None, None] + h[..., None, None] * (k[:, None] + 0.5 * (1.0 + jnp.asarray(_GL_X, h.dtype))))
    g = _erfcx_pos(jnp.expm1(t)) * jnp.exp(t)
    return 0.5 * h * jnp.sum(g * jnp.asarray(_GL_W, h.dtype), axis=(-2, -1))


def siegert_rate(mu, sigma2, theta, V_reset, tau_m, tau_syn, t_ref):
    """Siegert rate (Hz) of a LIF neuron with mean input mu (mV) and variance sigma2 (mV^2).

    1 / r = t_ref + tau_m sqrt(pi) int_{y_r}^{y_th} exp(u^2) (1 + erf u) du, with
    y = (V - mu) / sigma + (alpha / 2) sqrt(tau_syn / tau_m) for V = theta, V_reset. The integral is
    split as NEST splits it (by the signs of y_r and y_th) so that only erfcx on the positive axis and
    Dawson's function appear; r = 0 when theta - mu > 6 sigma (NEST's cut-off)."""
    sigma = jnp.sqrt(sigma2)
    silent = (theta - mu) > 6.0 * sigma
    sig = jnp.where(silent, 1.0, sigma)
    shift = 0.5 * _ALPHA * jnp.sqrt(tau_syn / tau_m)
    y_th = jnp.where(silent, 1.0, (theta - mu) / sig + shift)
    y_r = jnp.where(silent, 0.5, (V_reset - mu) / sig + shift)
    above = y_th < 0.0   # mean above the (shifted) threshold
    below = y_r > 0.0    # mean below the (shifted) reset
    a = jnp.where(below, y_r, jnp.where(above, -y_th, y_th))
    b = jnp.where(below, y_th, -y_r)
    q = _erfcx_integral(a, b)
    e = jnp.exp(-y_th * y_th)
    d_th = jsp.dawsn(y_th)
    # e^{-y_th^2} times the integral (cases y_r > 0 and y_r <= 0 <= y_th)
    scaled = jnp.where(below, 2.0 * d_th - 2.0 * jnp.exp(y_r * y_r - y_th * y_th) * jsp.dawsn(y_r) - e * q,
                       2.0 * d_th + e * q)
    r_low = 1e3 * e / (e * t_ref + tau_m * _SQRT_PI * scaled)
    r_high = 1e3 / (t_ref + tau_m * _SQRT_PI * q)
    return jnp.where(silent, 0.0, jnp.where(above, r_high, r_low))


@register
class siegert_neuron(Neuron):
    """Mean-field rate of a leaky integrate-and-fire neuron (NEST: siegert_neuron).

    tau dr/dt = -r + mean + Phi(mu, sigma2)

    Phi is the Siegert formula: the stationary firing rate (Hz) of a LIF neuron (membrane time
    constant tau_m, refractory time t_ref, threshold theta and reset V_reset relative to rest) whose
    input has mean mu (mV) and variance sigma2 (mV^2):

        1 / Phi = t_ref + tau_m sqrt(pi) int_{y_r}^{y_th} exp(u^2) (1 + erf u) du,
        y_th = (theta - mu) / sigma + (alpha / 2) sqrt(tau_syn / tau_m),
        y_r  = (V_reset - mu) / sigma + (alpha / 2) sqrt(tau_syn / tau_m),

    with alpha = sqrt(2) |zeta(1/2)|: exponentially filtered input (tau_syn > 0) shifts threshold and
    reset (Fourcaud & Brunel 2002); tau_syn = 0 is white noise. Phi = 0 when theta - mu > 6 sigma
    (NEST's cut-off, where Phi < 1e-16 Hz). NEST's evaluation is followed: the integral is split by
    the signs of y_r and y_th into Dawson's function and an integral of erfcx over positive
    arguments (which nestax computes with a fixed 512-node Gauss-Legendre rule to machine
    precision; NEST with GSL's adaptive QAGS at relative tolerance 1.49e-8).

    mu and sigma2 are the sums over incoming diffusion_connections of drift_factor x r_pre and
    diffusion_factor x r_pre (ports ``drift`` and ``diffusion``); no other input.

    Step k (NEST 3.10): the neuron sends r(k) (its rate at the start of the step); then
    r(k+1) = P1 r(k) + P2 (mean + Phi(mu_k, sigma2_k)), P1 = exp(-dt / tau), P2 = 1 - P1, where
    mu_k, sigma2_k come from the rates the sources send in the same step k (instantaneous coupling:
    NEST's waveform relaxation converges to this; nestax computes it directly, see
    :mod:`nestax.models.synapses.diffusion`). Deterministic.

    Parameters (NEST defaults):

    ======= ====== ======= ====================================================
    tau     ms     1.0     Time constant of the rate dynamics (> 0)
    tau_m   ms     5.0     Membrane time constant of the LIF neuron (> 0)
    tau_syn ms     0.0     Synaptic time constant (>= 0; 0: white noise)
    t_ref   ms     2.0     Refractory period (>= 0)
    mean    Hz     0.0     Constant additional rate input
    theta   mV     15.0    Threshold relative to rest (> V_reset)
    V_reset mV     0.0     Reset relative to rest (< theta)
    ======= ====== ======= ====================================================

    Recordables: rate (Hz). Receptor types 0 and 1 (both feed the same inputs, as in NEST).
    """

    name = "siegert_neuron"
    signal = "rate"
    rate_event = "diffusion"
    weight_unit = "1"
    ports = ("drift", "diffusion")
    settable_state = ("rate",)
    phi_params = {}  # no input nonlinearity: the Siegert function reads the summed drift and diffusion

    parameters = {
        "tau": Param(1.0, "ms", "Time constant of the rate dynamics"),
        "tau_m": Param(5.0, "ms", "Membrane time constant"),
        "tau_syn": Param(0.0, "ms", "Synaptic time constant (0: white noise)"),
        "t_ref": Param(2.0, "ms", "Refractory period"),
        "mean": Param(0.0, "Hz", "Constant additional rate input"),
        "theta": Param(15.0, "mV", "Threshold relative to the resting potential"),
        "V_reset": Param(0.0, "mV", "Reset relative to the resting potential"),
    }
    state = {"rate": State("Hz", 0.0, "Rate")}

    @classmethod
    def check(cls, p):
        cls._positive(p, "tau", "tau_m")
        cls._nonnegative(p, "tau_syn", "t_ref")
        v_reset, theta = np.broadcast_arrays(np.asarray(p["V_reset"], float), np.asarray(p["theta"], float))
        bad = np.nonzero(~(v_reset < theta).reshape(-1))[0]
        if len(bad):
            i = bad[0]
            raise BadParameterError(
                f"{cls.name}: parameter 'V_reset' = {v_reset.reshape(-1)[i]} mV is invalid; expected V_reset < "
                f"theta (that neuron's theta = {theta.reshape(-1)[i]} mV).")

    @classmethod
    def receptor_range(cls, p):
        return (0, 1)

    @classmethod
    def route(cls, weights, receptor_type):
        return route_one_port(weights)

    @staticmethod
    def input_nl(p, h):
        return h

    @classmethod
    def prepare(cls, p, dt):
        return {"P1": jnp.exp(-dt / p["tau"]), "P2": -jnp.expm1(-dt / p["tau"])}

    @classmethod
    def emit(cls, p, d, s):
        return s["rate"], s

    @classmethod
    def update(cls, p, d, s, syn, I):
        mu, sigma2 = syn[0], syn[1]
        phi = siegert_rate(mu, sigma2, p["theta"], p["V_reset"], p["tau_m"], p["tau_syn"], p["t_ref"])
        rate = d["P1"] * s["rate"] + d["P2"] * (p["mean"] + phi)
        return {"rate": rate}, jnp.zeros(rate.shape, jnp.int32)

