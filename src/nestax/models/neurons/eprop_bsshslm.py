"""NEST's e-prop neurons after Bellec et al. (2020) with learning in update intervals (NEST 3.10:
eprop_iaf_bsshslm_2020, eprop_iaf_adapt_bsshslm_2020, eprop_readout_bsshslm_2020). The plasticity
(eprop_synapse_bsshslm_2020) and the learning signal connection: :mod:`nestax.models.synapses.eprop_bsshslm`.
The newer, event-driven e-prop family: :mod:`nestax.models.neurons.eprop`.

Learning is organised in update intervals of ``eprop_update_interval`` (kernel setting, 1000 ms;
``Simulator.set_kernel_status``); each model counts them from its own shift (2 steps for the
recurrent neurons, 3 for the readout: the generator offset and the delays of NEST's e-prop
networks, all one step). In step t (the update from t to t + 1) the interval step is
(t - shift) rem I (C's remainder, negative before t = shift), I the interval in steps.

Recurrent neurons, step t (V_m relative to E_L internally, reported absolute):
    1. interval step 0 and ``eprop_reset_neurons_on_update`` (True): V <- 0, r <- 0, z <- 0 (and
       adaptation <- 0);
    2. if r > 0: r -= 1;
    3. V <- P_v V + P_i i_in + P_z z_in - (V_th - E_L) z, V <- max(V, V_min); P_v = exp(-dt/tau_m),
       P_i = tau_m/C_m (1 - P_v), P_z = 1 (regular_spike_arrival) or 1 - P_v; z_in the summed spike
       weights of this step, i_in the generator current plus I_e of the previous step, z the neuron's
       own spike of the previous step (reset by subtraction one step after the spike);
       eprop_iaf_adapt_bsshslm_2020: adaptation <- exp(-dt/adapt_tau) adaptation + z,
       V_th_adapt = V_th + adapt_beta adaptation;
    4. surrogate_gradient = psi(r, V, V_th or V_th_adapt) (the four functions of
       :mod:`nestax.models.neurons.eprop`; 0 while r > 0);
    5. spike if V >= V_th (V_th_adapt) and r == 0 (or forced: ignore_and_spike), then z = 1,
       r = t_ref in steps; the spike is counted for the firing-rate regularisation;
    6. at the last step of an interval (interval step I - 1): the firing-rate regularisation of the
       interval, c_reg (n / I - f_target dt) / I (n: spikes counted since the previous one), and the
       count restarts;
    7. learning_signal = the learning signal of history entry t - 3: the sum over the neuron's
       eprop_learning_signal_connection_bsshslm_2020 of weight x the readout's error signal of step
       t - 1.

eprop_readout_bsshslm_2020, step t:
    1. interval step 0 and reset: V <- 0;
    2. V <- P_v V + P_i i_in + P_z z_in, V <- max(V, V_min);
    3. loss "mean_squared_error": readout_signal = readout_signal_unnorm of the previous step,
       readout_signal_unnorm = V (absolute), error_signal = readout_signal - target_signal;
    4. outside the learning window ((t - 4) rem I < I - W, W = eprop_learning_window in steps; also
       for t < 4) target_signal, readout_signal and error_signal are 0.
   The target signal comes from a rate connection (rate_connection_delayed from a rate generator) on
   receptor 2 ("target_signal"), weight x value, used in the step it arrives (as eprop_readout).
   Loss "cross_entropy" (readouts normalising each other through rate connections on receptor 1,
   "readout_signal") is not offered: create refuses it.

Parameters (NEST 3.10 defaults) of the recurrent neurons:

============================ ====== ================ ====================================================
C_m                          pF     250              membrane capacitance (> 0)
E_L                          mV     -70              leak potential
I_e                          pA     0                constant input current
tau_m                        ms     10               membrane time constant (> 0)
t_ref                        ms     2                refractory period (>= 0)
V_th                         mV     -55              threshold (>= V_min)
V_min                        mV     -1.797e308       lower bound of V_m (-DBL_MAX)
adapt_beta                   1      1                adapt variant: threshold increment (>= 0)
adapt_tau                    ms     10               adapt variant: adaptation time constant (> 0)
c_reg                        1      0                firing-rate regularisation strength (>= 0)
f_target                     Hz     10               target firing rate (>= 0; NEST's GetDefaults shows
                                                     its internal spikes/ms value 0.01)
regular_spike_arrival        bool   True             spikes enter V_m with weight 1 (else 1 - P_v)
surrogate_gradient_function  str    piecewise_linear piecewise_linear, exponential,
                                                     fast_sigmoid_derivative, arctan_derivative
surrogate_gradient_height    1      0.3              (> 0)
surrogate_gradient_width     mV     1.0              (> 0)
flush_event_send_interval    ms     inf              only inf (nestax sends no flush events)
ignore_and_spike             bool   False            forced spiking (as eprop_iaf)
ignore_and_spike_offset      ms     1                (> 0)
ignore_and_spike_interval    ms     100              (> 0)
============================ ====== ================ ====================================================

eprop_readout_bsshslm_2020: C_m (pF, 250), E_L (mV, 0), I_e (pA, 0), tau_m (ms, 10), V_min (mV,
-DBL_MAX), loss ("mean_squared_error"), regular_spike_arrival (True).

Kernel settings (``Simulator.set_kernel_status``, NEST's defaults): eprop_update_interval (ms, 1000,
> 0), eprop_learning_window (ms, 1000, > 0 and <= eprop_update_interval), eprop_reset_neurons_on_update
(True).

Recordables: V_m, surrogate_gradient, learning_signal (+ adaptation, V_th_adapt); readout: V_m,
readout_signal, readout_signal_unnorm, error_signal, target_signal. NEST keeps no e-prop history in a
neuron without incoming eprop_synapse_bsshslm_2020 (its learning_signal stays 0) and records, in a
step whose entry t - 3 it has erased (whole update intervals without any presynaptic spike), the
next kept entry; nestax records the learning signal of entry t - 3 in every case. NEST's recordable
eprop_history_duration is not offered.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..base import Param, State
from ..registry import register
from .eprop import (_ADAPT, _EpropNeuron, _EpropRecurrent, _MEMBRANE, _ReadoutPorts, _time_steps,
                    SURROGATE_GRADIENTS)

#: the kernel settings of the bsshslm_2020 models (Model.kernel_settings), NEST's defaults
EPROP_KERNEL = {
    "eprop_update_interval": Param(1000.0, "ms", "Interval of the e-prop weight updates (kernel setting)"),
    "eprop_learning_window": Param(1000.0, "ms", "Window at the end of each update interval in which the "
                                                 "readouts' signals are non-zero (kernel setting)"),
    "eprop_reset_neurons_on_update": Param(True, "1", "Reset the neurons' state at the start of each update "
                                                      "interval (kernel setting)", "bool"),
}
#: the per-step history an eprop_synapse_bsshslm_2020 reads (Neuron.step_history); the column of
#: stamp c (written after step c - 1) holds: the surrogate gradient of entry c - 1 (readout: 1), the
#: learning signal of entry c - 3 (readout: its error signal, entry c - 2) and the firing-rate
#: regularisation of the last update interval completed (readout: 0)
BSS_HISTORY = ("_h_psi", "_h_L", "_h_reg")
#: derived per-neuron values the synapse reads (Neuron.offers_derived): P_v, P_z, adaptation, the
#: shift, whether the neuron is recurrent, interval and learning window in steps, the column lags
BSS_DERIVED = ("P_v", "_bs_P_z", "_bs_P_adapt", "_bs_beta", "_bs_shift", "_bs_recurrent", "_bs_interval",
               "_bs_window", "_bs_lag_psi", "_bs_lag_L")
#: the rate event of eprop_learning_signal_connection_bsshslm_2020
BSS_LEARNING_SIGNAL_EVENT = "eprop_learning_signal_bsshslm_2020"
#: NEST's losses of eprop_readout_bsshslm_2020 (only the first is offered)
LOSSES = ("mean_squared_error", "cross_entropy")


def _crem(a, b):
    """C's integer remainder (the sign of ``a``), as NEST computes (t - shift) % interval."""
    return jax.lax.rem(a, b)


class _BssCommon(_EpropNeuron):
    """What the bsshslm_2020 neurons share: the kernel's update intervals, NEST's history shifts."""

    kernel_settings = EPROP_KERNEL
    update_takes_step = True
    step_history = BSS_HISTORY
    offers_derived = BSS_DERIVED
    shift = 2

    @classmethod
    def check_kernel(cls, settings, dt, given=()):
        """NEST's checks: interval > 0; a learning window given must be > 0 and <= the interval in force
        (NEST does not check the window when only the interval changes)."""
        from ...errors import BadParameterError
        ui, lw = settings["eprop_update_interval"], settings["eprop_learning_window"]
        if not ui > 0:
            raise BadParameterError(f"kernel setting 'eprop_update_interval' = {ui} ms is invalid; expected a value "
                                    "> 0 ms.")
        if "eprop_learning_window" in given and not 0 < lw <= ui:
            raise BadParameterError(f"kernel setting 'eprop_learning_window' = {lw} ms is invalid; expected a value "
                                    f"> 0 ms and <= eprop_update_interval ({ui} ms).")

    @classmethod
    def _derive(cls, p, dt, d, recurrent, adaptive=False):
        zero = jnp.zeros_like(d["P_v"])
        d["_bs_P_z"] = jnp.where(p["regular_spike_arrival"] > 0, 1.0, 1.0 - d["P_v"]) + zero
        d["_bs_P_adapt"] = d["P_adapt"] + zero if adaptive else zero
        d["_bs_beta"] = p["adapt_beta"] + zero if adaptive else zero
        d["_bs_shift"] = cls.shift + zero
        d["_bs_recurrent"] = (1.0 if recurrent else 0.0) + zero
        d["_bs_interval"] = _time_steps(p["eprop_update_interval"], dt) + zero
        d["_bs_window"] = _time_steps(p["eprop_learning_window"], dt) + zero
        d["_bs_lag_psi"] = (1.0 if recurrent else 0.0) + zero
        d["_bs_lag_L"] = (3.0 if recurrent else 2.0) + zero
        d["dt"] = dt
        return d

    @staticmethod
    def _interval_step(d, step, shift):
        k = jnp.asarray(step[0])
        it = k.dtype
        n = d["_bs_interval"].astype(it)
        return _crem(k - shift, n), n


_BSS_RECURRENT_STATE = {
    "V_m": State("mV", "E_L", "Membrane potential"),
    "surrogate_gradient": State("1", 0.0, "Surrogate gradient of the spike w.r.t. V_m"),
    "learning_signal": State("pA", 0.0, "Learning signal of history entry t - 3"),
    "refractory_steps": State("1", 0, "Refractory steps left"),
    "_z": State("1", 0.0, "Spike of the previous step (1 or 0)"),
    "_i_e": State("pA", 0.0, "I_e read at the end of the previous step"),
    "_forced_steps": State("1", 0, "Steps counted by the ignore-and-spike mechanism"),
    "_n_spikes": State("1", 0.0, "Spikes counted in this update interval (firing-rate regularisation)"),
    "_h_psi": State("1", 0.0, "e-prop history: surrogate gradient of this step"),
    "_h_L": State("pA", 0.0, "e-prop history: learning signal of entry t - 2 (arrives after the update)"),
    "_h_reg": State("1", 0.0, "e-prop history: firing-rate regularisation of the last completed interval"),
}


@register
class eprop_iaf_bsshslm_2020(_BssCommon, _EpropRecurrent):
    """Leaky integrate-and-fire neuron for e-prop plasticity in update intervals, reset by subtraction
    one step after the spike (NEST: eprop_iaf_bsshslm_2020). See the module docstring."""

    name = "eprop_iaf_bsshslm_2020"
    ports = ("spikes", "learning_signal")
    accepts_rate_events = (BSS_LEARNING_SIGNAL_EVENT,)
    step_history = BSS_HISTORY
    offers_derived = BSS_DERIVED
    parameters = {
        **_MEMBRANE,
        "c_reg": Param(0.0, "1", "Coefficient of the firing-rate regularisation"),
        "f_target": Param(10.0, "Hz", "Target firing rate of the regularisation (NEST's GetDefaults shows it in "
                                      "spikes/ms: 0.01)"),
        "regular_spike_arrival": Param(True, "1", "Spikes enter V_m with weight 1 (else 1 - exp(-dt/tau_m))",
                                       "bool"),
        "surrogate_gradient_function": Param("piecewise_linear", "1", "Surrogate gradient: " + ", ".join(
            SURROGATE_GRADIENTS), "str"),
        "surrogate_gradient_height": Param(0.3, "1", "Height of the surrogate gradient"),
        "surrogate_gradient_width": Param(1.0, "mV", "Width of the surrogate gradient"),
        "flush_event_send_interval": Param(np.inf, "ms", "Interval without spikes after which a flush event is "
                                                         "sent (only inf)"),
        "ignore_and_spike": Param(False, "1", "Spike at fixed times, ignoring the dynamics", "bool"),
        "ignore_and_spike_offset": Param(1.0, "ms", "Time of the first forced spike"),
        "ignore_and_spike_interval": Param(100.0, "ms", "Interval between forced spikes"),
    }
    state = dict(_BSS_RECURRENT_STATE)

    @classmethod
    def check(cls, p):
        super(_EpropRecurrent, cls).check(p)
        from ...errors import BadParameterError
        bad = [f for f in p["surrogate_gradient_function"] if f not in SURROGATE_GRADIENTS]
        if bad:
            raise BadParameterError(
                f"{cls.name}: parameter 'surrogate_gradient_function' = {bad[0]!r} is invalid; expected one of "
                f"{', '.join(repr(f) for f in SURROGATE_GRADIENTS)}.")
        cls._nonnegative(p, "t_ref", "c_reg", "f_target")
        cls._positive(p, "surrogate_gradient_height", "surrogate_gradient_width", "flush_event_send_interval",
                      "ignore_and_spike_offset", "ignore_and_spike_interval")
        cls._require(p, "flush_event_send_interval", np.isposinf(np.asarray(p["flush_event_send_interval"], float)),
                     "inf (nestax does not send NEST's flush events, which change when eprop synapses apply "
                     "their gradients)")
        v_th, v_min = np.broadcast_arrays(np.asarray(p["V_th"], float), np.asarray(p["V_min"], float))
        cls._require(p, "V_th", v_th >= v_min, "V_th >= V_min")
        if cls.adaptive:
            cls._nonnegative(p, "adapt_beta")
            cls._positive(p, "adapt_tau")

    @classmethod
    def prepare(cls, p, dt):
        return cls._derive(p, dt, cls._recurrent_constants(p, dt), recurrent=True, adaptive=cls.adaptive)

    @classmethod
    def absorb(cls, p, d, s, inp):
        """The learning signal of history entry t - 2 (weight x the readouts' error signal of this step)."""
        return {**s, "_h_L": inp[1]}

    @classmethod
    def update(cls, p, d, s, syn, I, step):
        istep, n_int = cls._interval_step(d, step, cls.shift)
        reset = (istep == 0) & (p["eprop_reset_neurons_on_update"] > 0)
        v = jnp.where(reset, 0.0, s["V_m"])
        r = jnp.where(reset, 0, s["refractory_steps"])
        z = jnp.where(reset, 0.0, s["_z"])
        r = jnp.maximum(r - 1, 0)
        v = d["P_i"] * (I + s["_i_e"]) + d["_bs_P_z"] * syn[0] + d["P_v"] * v - d["v_th"] * z
        v = jnp.maximum(v, d["v_min"])
        out = dict(s)
        v_th = d["v_th"]
        if cls.adaptive:
            a = d["P_adapt"] * jnp.where(reset, 0.0, s["adaptation"]) + z
            v_th = d["v_th"] + p["adapt_beta"] * a
            out.update(adaptation=a, V_th_adapt=v_th)
        sg = cls._sg(p, r, v, v_th)
        forced, on, nf = cls._forced(p, d, s)
        spike = jnp.where(on, forced, (v >= v_th) & (r == 0))
        zf = spike.astype(v.dtype)
        r = jnp.where(spike, d["ref_counts"], r)
        n_sp = s["_n_spikes"] + zf
        last = istep == n_int - 1
        I_f = n_int.astype(v.dtype)
        reg = p["c_reg"] * (n_sp / I_f - p["f_target"] / 1000.0 * d["dt"]) / I_f
        out.update(V_m=v, refractory_steps=r, surrogate_gradient=sg, _z=zf, _forced_steps=nf,
                   _i_e=jnp.broadcast_to(p["I_e"], v.shape), _n_spikes=jnp.where(last, 0.0, n_sp),
                   _h_reg=jnp.where(last, reg, s["_h_reg"]), _h_psi=sg,
                   learning_signal=s["_h_L"])
        return out, spike


@register
class eprop_iaf_adapt_bsshslm_2020(eprop_iaf_bsshslm_2020):
    """eprop_iaf_bsshslm_2020 with an adaptive threshold V_th_adapt = V_th + adapt_beta adaptation
    (NEST: eprop_iaf_adapt_bsshslm_2020). See the module docstring."""

    name = "eprop_iaf_adapt_bsshslm_2020"
    adaptive = True
    settable_state = ("V_m", "adaptation")  # as NEST's SetStatus
    parameters = {**eprop_iaf_bsshslm_2020.parameters, **_ADAPT}
    state = {**_BSS_RECURRENT_STATE,
             "adaptation": State("1", 0.0, "Adaptation variable"),
             "V_th_adapt": State("mV", "V_th", "Adaptive threshold V_th + adapt_beta adaptation")}


@register
class eprop_readout_bsshslm_2020(_ReadoutPorts, _BssCommon):
    """Leaky readout neuron of e-prop in update intervals (NEST: eprop_readout_bsshslm_2020): integrates
    spikes, compares its previous V_m with the target signal in the learning window. See the module
    docstring."""

    name = "eprop_readout_bsshslm_2020"
    shift = 3
    sends_spikes = False  # NEST: its output is the learning signal, never a spike
    #: receptor 0: spikes; 1 (NEST's "readout_signal", cross_entropy only) and 2 ("target_signal"): rates
    ports = ("spikes", "readout_signal", "target_signal")
    accepts_rate_events = ("rate",)
    rate_receptors = (2,)
    sends_after_update = BSS_LEARNING_SIGNAL_EVENT
    rate_on_arrival = True
    parameters = {
        "C_m": Param(250.0, "pF", "Membrane capacitance"),
        "E_L": Param(0.0, "mV", "Leak / resting membrane potential"),
        "I_e": Param(0.0, "pA", "Constant input current"),
        "tau_m": Param(10.0, "ms", "Membrane time constant"),
        "V_min": Param(-np.finfo(float).max, "mV", "Lower bound of V_m (NEST: -DBL_MAX)"),
        "loss": Param("mean_squared_error", "1", "Loss: mean_squared_error (NEST also has cross_entropy)", "str"),
        "regular_spike_arrival": Param(True, "1", "Spikes enter V_m with weight 1 (else 1 - exp(-dt/tau_m))",
                                       "bool"),
    }
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "readout_signal": State("1", 0.0, "Readout signal (V_m of the previous step) in the learning window"),
        "readout_signal_unnorm": State("1", 0.0, "Unnormalised readout signal (V_m, absolute)"),
        "error_signal": State("1", 0.0, "readout_signal - target_signal in the learning window"),
        "target_signal": State("1", 0.0, "Target signal (rate events on receptor 2) in the learning window"),
        "_i_e": State("pA", 0.0, "I_e read at the end of the previous step"),
        "_h_psi": State("1", 1.0, "e-prop history: 1 (a readout's gradient has no surrogate gradient)"),
        "_h_L": State("1", 0.0, "e-prop history: error signal of this step (entry t - 1)"),
        "_h_reg": State("1", 0.0, "e-prop history: 0 (no firing-rate regularisation)"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m", "readout_signal", "readout_signal_unnorm", "error_signal", "target_signal")

    @classmethod
    def check(cls, p):
        super().check(p)
        bad = [f for f in p["loss"] if f not in LOSSES]
        from ...errors import BadParameterError
        if bad:
            raise BadParameterError(f"{cls.name}: parameter 'loss' = {bad[0]!r} is invalid; expected one of "
                                    f"{', '.join(repr(f) for f in LOSSES)}.")
        if any(f == "cross_entropy" for f in p["loss"]):
            raise BadParameterError(f"{cls.name}: parameter 'loss' = 'cross_entropy' is not offered by nestax "
                                    "(its readouts normalise each other through rate connections); use "
                                    "'mean_squared_error'.")

    @classmethod
    def run_params(cls, p):
        return {}

    @classmethod
    def prepare(cls, p, dt):
        return cls._derive(p, dt, cls._membrane(p, dt), recurrent=False)

    @classmethod
    def update(cls, p, d, s, syn, I, step):
        istep, n_int = cls._interval_step(d, step, cls.shift)
        reset = (istep == 0) & (p["eprop_reset_neurons_on_update"] > 0)
        v = jnp.where(reset, 0.0, s["V_m"])
        v = d["P_i"] * (I + s["_i_e"]) + d["_bs_P_z"] * syn[0] + d["P_v"] * v
        v = jnp.maximum(v, d["v_min"])
        target = syn[2]
        readout = s["readout_signal_unnorm"]
        error = readout - target
        k = jnp.asarray(step[0])
        outside = _crem(k - cls.shift - 1, n_int) < n_int - d["_bs_window"].astype(n_int.dtype)
        out = dict(s)
        out.update(V_m=v, readout_signal_unnorm=v + p["E_L"], readout_signal=jnp.where(outside, 0.0, readout),
                   error_signal=jnp.where(outside, 0.0, error), target_signal=jnp.where(outside, 0.0, target),
                   _i_e=jnp.broadcast_to(p["I_e"], v.shape))
        out["_h_L"] = out["error_signal"]
        return out, jnp.zeros(v.shape, bool)
