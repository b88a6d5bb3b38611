"""Spike thresholds with surrogate derivatives: how a neuron model decides and resets its spikes.

A spiking neuron's threshold is a step function: its derivative is zero almost everywhere, so the
gradient of anything downstream of a spike with respect to the membrane potential (and so to weights,
currents, time constants) vanishes. Differentiable mode keeps the forward pass exactly as it is and
replaces the derivative of the step in the backward pass by a smooth *surrogate* (a straight-through
estimator; Zenke & Ganguli 2018, Neftci et al. 2019, Bellec et al. 2018).

A model that supports it (``Neuron.differentiable = True``) takes a ``threshold=`` keyword in its
``update`` and decides and resets its spikes through it::

    spike = threshold.spike(v, theta)          # V_m >= V_th
    v = threshold.reset(spike, v_reset, v)     # V_m <- V_reset where it spiked

The default, :data:`EXACT`, is NEST's hard threshold with exactly the operations the model has always
used (``v >= theta``, ``jnp.where``): results are bit for bit those of a run without it.
:class:`Surrogate` returns spikes as floats (0 or 1 forward, bit-identical to the exact spikes) whose
derivative with respect to the margin ``x = v - theta`` is ``dampening * g(x / scale) / scale``
(dampening 1 by default):

=================================  ============================================  ====================
name                               g(u) (each integrates to 1 over u)           peak of dS/dx
=================================  ============================================  ====================
``"fast_sigmoid"`` (SuperSpike)    ``1 / (2 (1 + |u|)^2)``                        ``1 / (2 scale)``
``"sigmoid"``                      ``s(u) (1 - s(u))``, s the logistic function   ``1 / (4 scale)``
``"triangle"`` (piecewise linear)  ``max(0, 1 - |u|)`` (Bellec et al. 2018)       ``1 / scale``
``"exponential"``                  ``exp(-|u|) / 2``                              ``1 / (2 scale)``
``"gaussian"``                     ``exp(-u^2 / 2) / sqrt(2 pi)``                 ``0.399 / scale``
=================================  ============================================  ====================

``scale`` is in the unit of the threshold variable (mV for every current model), default 1 mV.
Each g is normalised as a probability density, so the surrogate is the derivative of a smoothed
step of width ~scale: gradients keep the magnitude of "one spike per scale mV" whatever the shape.

**The reset** is a second choice (``reset=``): after a spike ``V_m = V_reset``, written
``V_m' = V_m + S (V_reset - V_m)``.

- ``"detach"`` (default, as in most surrogate-gradient work): the spike's surrogate derivative does
  not flow through the reset; V_m' depends on V_m only where no spike happened (d V_m'/d V_m = 1 - S).
  Gradients then flow from spikes to the loss and through the subthreshold dynamics.
- ``"through"``: also dV_m'/dS = V_reset - V_m, times the surrogate: a higher V_m that makes a spike
  more likely also pulls V_m' towards V_reset. Closer to the smoothed dynamics, noisier in long runs.

Either way the forward values are the exact ones; refractory counters (integers) carry no gradient.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

__all__ = ["SURROGATES", "EXACT", "Exact", "Surrogate", "spike_fn", "resolve"]


def _fast_sigmoid(u):
    return 0.5 / (1.0 + jnp.abs(u)) ** 2


def _sigmoid(u):
    s = jax.nn.sigmoid(u)
    return s * (1.0 - s)


def _triangle(u):
    return jnp.maximum(0.0, 1.0 - jnp.abs(u))


def _exponential(u):
    return 0.5 * jnp.exp(-jnp.abs(u))


def _gaussian(u):
    return jnp.exp(-0.5 * u * u) / math.sqrt(2.0 * math.pi)


#: surrogate name -> g(u), the pseudo-derivative of the unit step at u = margin / scale (integral 1)
SURROGATES = {
    "fast_sigmoid": _fast_sigmoid,
    "superspike": _fast_sigmoid,
    "sigmoid": _sigmoid,
    "triangle": _triangle,
    "piecewise_linear": _triangle,
    "exponential": _exponential,
    "gaussian": _gaussian,
}


def spike_fn(name: str = "fast_sigmoid", scale: float = 1.0, dampening: float = 1.0):
    """The step function ``H(x) = 1.0 * (x >= 0)`` with the surrogate derivative
    ``dampening * g(x / scale) / scale`` (a ``jax.custom_jvp``; works with grad, jacfwd, vmap, jit)."""
    g = _surrogate(name)
    scale = _scale(scale)
    gain = float(dampening) / scale

    @jax.custom_jvp
    def heaviside(x):
        x = jnp.asarray(x)
        return (x >= 0).astype(x.dtype)

    @heaviside.defjvp
    def _jvp(primals, tangents):
        (x,), (dx,) = primals, tangents
        x = jnp.asarray(x)
        return heaviside(x), gain * g(x / scale) * dx

    return heaviside


def _surrogate(name):
    if callable(name):
        return name
    if name not in SURROGATES:
        from ..errors import BadParameterError, did_you_mean
        raise BadParameterError(f"surrogate {name!r} is unknown.{did_you_mean(name, list(SURROGATES))} Expected one "
                                f"of {', '.join(SURROGATES)} (or a function g(u)).")
    return SURROGATES[name]


def _scale(scale):
    from ..errors import BadParameterError
    from ..units import is_quantity, to_nest
    if is_quantity(scale):
        scale = to_nest(scale, "mV", "surrogate", "scale")
    try:
        s = float(scale)
    except (TypeError, ValueError):
        raise BadParameterError(f"surrogate: scale = {scale!r} is invalid; expected a number > 0 (mV).") from None
    if not (s > 0 and math.isfinite(s)):
        raise BadParameterError(f"surrogate: scale = {scale!r} is invalid; expected a number > 0 (mV).")
    return s


class Exact:
    """NEST's hard threshold: the operations every model uses without differentiable mode."""

    differentiable = False

    def __repr__(self):
        return "nestax.surrogate.EXACT"

    @staticmethod
    def spike(v, theta):
        """Spikes (bool) where ``v >= theta``."""
        return v >= theta

    @staticmethod
    def reset(spike, value, v):
        """``value`` where a spike happened, else ``v``."""
        return jnp.where(spike, value, v)


#: the default threshold of every model (bit-identical to NEST's hard threshold)
EXACT = Exact()


class Surrogate:
    """A spike threshold with a surrogate derivative (see the module's docs).

    ``name``: one of :data:`SURROGATES` or a function g(u) (integral 1 advised); ``scale``: width of the
    surrogate in mV (a number or a quantity); ``reset``: "detach" or "through"; ``dampening``: a factor
    gamma on the surrogate derivative (Bellec et al. 2018: 0.3), which keeps gradients through
    recurrent loops from growing exponentially with the length of the run;
    ``ode_substeps``: models integrated with NEST's adaptive RKF45 (iaf_cond_*, aeif_*) take this many
    fixed RKF45 steps per simulation step instead, because JAX cannot differentiate an adaptive loop
    in reverse mode (see docs/gradients.md for the deviation this makes)."""

    differentiable = True

    def __init__(self, name="fast_sigmoid", scale=1.0, reset="detach", ode_substeps: int = 2,
                 dampening: float = 1.0):
        from ..errors import BadParameterError
        self.g = _surrogate(name)
        self.name = name if isinstance(name, str) else getattr(name, "__name__", "custom")
        self.scale = _scale(scale)
        try:
            self.dampening = float(dampening)
        except (TypeError, ValueError):
            self.dampening = float("nan")
        if not (self.dampening > 0 and math.isfinite(self.dampening)):
            raise BadParameterError(f"surrogate: dampening = {dampening!r} is invalid; expected a number > 0 "
                                    "(Bellec et al. 2018 use 0.3 in recurrent networks).")
        if reset not in ("detach", "through"):
            raise BadParameterError(f"surrogate: reset = {reset!r} is invalid; expected 'detach' (no gradient "
                                    "through the reset) or 'through' (the reset carries the spike's surrogate).")
        self.reset_mode = reset
        if not (isinstance(ode_substeps, int) and ode_substeps >= 1):
            raise BadParameterError(f"surrogate: ode_substeps = {ode_substeps!r} is invalid; expected an integer >= 1.")
        self.ode_substeps = ode_substeps
        self._h = spike_fn(self.g, self.scale, self.dampening)

    def __repr__(self):
        return (f"Surrogate({self.name!r}, scale={self.scale} mV, reset={self.reset_mode!r}, "
                f"dampening={self.dampening}, ode_substeps={self.ode_substeps})")

    def __eq__(self, other):
        return isinstance(other, Surrogate) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def _key(self):
        return (self.g, self.scale, self.reset_mode, self.ode_substeps, self.dampening)

    def spike(self, v, theta):
        """Spikes as floats (1.0 where ``v >= theta``) with the surrogate derivative in ``v - theta``."""
        v = jnp.asarray(v)
        x = v - theta
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(jnp.float32)
        # forward: exactly the hard threshold's decision (v - theta >= 0 can differ from v >= theta only
        # for subnormal differences; the comparison below is the model's own)
        hard = (v >= theta).astype(x.dtype)
        return hard + (self._h(x) - jax.lax.stop_gradient(self._h(x)))

    def reset(self, spike, value, v):
        """``value`` where a spike happened, else ``v``; with reset="through" the spike's surrogate
        derivative also moves the result by (value - v) dS."""
        out = jnp.where(jax.lax.stop_gradient(spike) > 0, value, v)
        if self.reset_mode == "through":
            out = out + (spike - jax.lax.stop_gradient(spike)) * (value - jax.lax.stop_gradient(v))
        return out


def resolve(surrogate="fast_sigmoid", scale=1.0, reset="detach", ode_substeps=2, dampening=1.0):
    """A threshold from the user's choice: a :class:`Surrogate` as is, or a name and options."""
    if isinstance(surrogate, (Surrogate, Exact)):
        return surrogate
    return Surrogate(surrogate, scale, reset, ode_substeps, dampening)
