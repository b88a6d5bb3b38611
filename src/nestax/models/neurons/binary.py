"""Binary neurons with asynchronous stochastic updates (NEST: mcculloch_pitts_neuron, ginzburg_neuron,
erfc_neuron; Ginzburg & Sompolinsky 1994, van Vreeswijk & Sompolinsky 1998).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from ..base import Neuron, Param, State
from ..registry import register

TICS_PER_MS = 1000  # NEST's default tic length, 1 us: update times are kept in tics as NEST does
_UNSET = np.iinfo(np.int32).min  # first update time not drawn yet


class _Binary(Neuron):
    """Shared dynamics of the binary neurons.

    State: S in {0, 1} and the summed input h. Each neuron updates at the points of a Poisson process
    of rate 1/tau_m, independently of the others. Step k, covering (k dt, (k+1) dt], in NEST 3.10's
    order:

    1. h += the input arriving in this step (a binary source adds +w when it switches on and -w
       when it switches off, so h is the weighted sum of the sources' states, delayed);
    2. if the step's start time k dt is later than the next update time t_next: the neuron sets
       S = g(h + c), where c is the current input of this step (noise_generator; not kept in h)
       and g the model's gain function, and draws t_next += tau_m x Exp(1) (rounded to tics,
       1 us); the first t_next is drawn the same way when the neuron first runs, counted from then;
    3. if S changed, the transition is sent, stamped (k+1) dt: NEST sends an up-transition as a
       spike of multiplicity 2 and a down-transition as multiplicity 1, so a spike_recorder shows
       two events for "on" and one for "off"; nestax records the same.

    Connections (as in NEST): binary neurons talk to binary neurons (weights are dimensionless, any
    sign) and to spike recorders; their only current input is a noise_generator. Other sources and
    targets are refused at connect. (NEST also lets spike_generator and parrot_neuron talk to binary
    neurons, reading multiplicity 1 as an off-transition; nestax refuses them.)

    Stochastic: the update times (all three models) and the gain draws (ginzburg, erfc) come from
    nestax's random streams, so activity agrees with NEST in distribution, not spike by spike.

    Recordables: S (1), h (mV).
    """

    kind = "neuron"
    signal = "binary"
    stochastic = True
    settable_state = ()  # what NEST's SetStatus accepts
    ports = ("transitions",)
    weight_unit = "1"
    state = {
        "S": State("1", 0.0, "Binary state (0 or 1)"),
        "h": State("mV", 0.0, "Summed input from binary sources"),
        "_t_wait": State("1", _UNSET, "Tics from the start of the current step to the next update (internal)"),
    }

    @classmethod
    def recordables(cls):
        return ("S", "h")

    @classmethod
    def check(cls, p):
        cls._positive(p, "tau_m")

    @classmethod
    def prepare(cls, p, dt):
        return {"dt_tics": int(round(dt * TICS_PER_MS))}

    @classmethod
    def recorded_counts(cls, spk):
        # NEST's multiplicity: 2 for an up-transition, 1 for a down-transition
        return jnp.where(spk > 0, 2, jnp.where(spk < 0, 1, 0)).astype(spk.dtype)

    @classmethod
    def _interval(cls, p, key, shape):
        x = jax.random.exponential(key, shape, dtype=p["tau_m"].dtype) * p["tau_m"] * TICS_PER_MS
        return jnp.floor(x + 0.5).astype(jnp.int32)

    @classmethod
    def update(cls, p, d, s, syn, I, key):
        n = s["h"].shape
        k_first, k_next, k_gain = jax.random.split(key, 3)
        wait = jnp.where(s["_t_wait"] == _UNSET, cls._interval(p, k_first, n), s["_t_wait"])
        h = s["h"] + syn[0]
        due = wait < 0  # NEST: Time::step(k) > t_next
        new = cls.gain(p, h + I, k_gain).astype(h.dtype)
        S = jnp.where(due, new, s["S"])
        wait = jnp.where(due, wait + cls._interval(p, k_next, n), wait) - d["dt_tics"]
        out = (S - s["S"]).astype(jnp.int32)  # +1 on, -1 off, 0 no change
        return {"S": S, "h": h, "_t_wait": wait}, out


@register
class mcculloch_pitts_neuron(_Binary):
    """Binary neuron with a hard threshold (NEST: mcculloch_pitts_neuron; McCulloch & Pitts 1943).

    Gain function: S = 1 if h > theta, else 0 (deterministic; only the update times are random).

    Parameters (NEST defaults):

    ======= ===== ======= ==============================================
    tau_m   ms    10      mean time between updates (> 0)
    theta   1     0       threshold
    ======= ===== ======= ==============================================
    """

    name = "mcculloch_pitts_neuron"
    parameters = {
        "tau_m": Param(10.0, "ms", "Mean time between updates"),
        "theta": Param(0.0, "mV", "Threshold"),
    }

    @classmethod
    def gain(cls, p, h, key):
        return h > p["theta"]


@register
class ginzburg_neuron(_Binary):
    """Binary neuron with a sigmoidal stochastic gain (NEST: ginzburg_neuron; Ginzburg & Sompolinsky 1994).

    Gain function: S = 1 with probability c_1 h + c_2 (1 + tanh(c_3 (h - theta))) / 2, i.e. when a
    uniform number in [0, 1) is below that value.

    Parameters (NEST defaults):

    ======= ===== ======= ==============================================
    tau_m   ms    10      mean time between updates (> 0)
    theta   1     0       threshold (centre of the sigmoid)
    c_1     1     0       linear part of the gain
    c_2     1     1       prefactor of the sigmoid
    c_3     1     1       slope of the sigmoid
    ======= ===== ======= ==============================================
    """

    name = "ginzburg_neuron"
    parameters = {
        "tau_m": Param(10.0, "ms", "Mean time between updates"),
        "theta": Param(0.0, "mV", "Threshold"),
        "c_1": Param(0.0, "1/mV", "Linear part of the gain function"),
        "c_2": Param(1.0, "1", "Prefactor of the sigmoidal part"),
        "c_3": Param(1.0, "1/mV", "Slope of the sigmoidal part"),
    }

    @classmethod
    def gain(cls, p, h, key):
        u = jax.random.uniform(key, h.shape, dtype=h.dtype)
        return u < p["c_1"] * h + p["c_2"] * 0.5 * (1.0 + jnp.tanh(p["c_3"] * (h - p["theta"])))


@register
class erfc_neuron(_Binary):
    """Binary neuron with an error-function gain (NEST: erfc_neuron; Helias et al. 2014).

    Gain function: S = 1 with probability erfc(-(h - theta) / (sqrt(2) sigma)) / 2, the probability
    that h plus Gaussian noise of standard deviation sigma exceeds theta.

    Parameters (NEST defaults):

    ======= ===== ======= ==============================================
    tau_m   ms    10      mean time between updates (> 0)
    theta   1     0       threshold
    sigma   1     1       width of the noise (>= 0)
    ======= ===== ======= ==============================================
    """

    name = "erfc_neuron"
    parameters = {
        "tau_m": Param(10.0, "ms", "Mean time between updates"),
        "theta": Param(0.0, "mV", "Threshold"),
        "sigma": Param(1.0, "mV", "Width of the gain function"),
    }

    @classmethod
    def check(cls, p):
        super().check(p)
        cls._nonnegative(p, "sigma")

    @classmethod
    def gain(cls, p, h, key):
        u = jax.random.uniform(key, h.shape, dtype=h.dtype)
        return u < 0.5 * jsp.erfc(-(h - p["theta"]) / (np.sqrt(2.0) * p["sigma"]))
