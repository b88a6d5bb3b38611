"""NEST's e-prop neurons (NEST 3.10: eprop_iaf, eprop_iaf_adapt, eprop_iaf_psc_delta,
eprop_iaf_psc_delta_adapt, eprop_readout): the neuron dynamics, the surrogate gradient, the readout
signals and the per-step e-prop history that eprop_synapse reads (the plasticity itself, the learning
signal connection and the optimizers: :mod:`nestax.models.synapses.eprop`).

E-prop (eligibility propagation, Bellec et al. 2020) trains recurrent spiking networks with a local
eligibility trace per synapse and a learning signal sent back from readout neurons. These models are
the neurons of NEST's e-prop family; all hold V_m relative to E_L internally (reported absolute).

Weights: a spike of weight w adds w to V_m (NEST documents the e-prop weights in pA; numerically the
jump is w mV, as in NEST). Generator current enters V_m with NEST's one-step lag (engine).

Recurrent neurons, one step k (stamp k + 1), NEST 3.10 order:

eprop_iaf (reset by subtraction, absolute refractory period on the spike only)
    1. if r > 0: r -= 1;
    2. V <- P_v V + P_i i_in + z_in, then V <- max(V, V_min), with P_v = exp(-dt/tau_m),
       P_i = tau_m/C_m (1 - P_v), z_in the summed spike weights arriving in this step and i_in the
       generator current plus I_e read at the end of the previous step (I_e also lags one step: it is
       0 in the first step);
    3. surrogate_gradient = psi(r, V, V_th);
    4. spike if V >= V_th and r == 0 (or forced, see ignore_and_spike): V <- V - (V_th - E_L),
       r <- t_ref in steps.
eprop_iaf_adapt: as eprop_iaf, with an adaptive threshold computed before step 3:
    adaptation <- exp(-dt/adapt_tau) adaptation + z (z: 1 if the neuron spiked in the previous step),
    V_th_adapt = V_th + adapt_beta adaptation; psi and the spike test use V_th_adapt, the reset
    subtracts V_th - E_L.
eprop_iaf_psc_delta (reset to V_reset, V clamped while refractory)
    1. if r == 0: V <- P_i (I_gen + I_e) + P_v V + z_in (+ the input kept during refractoriness if
       refractory_input), V <- max(V, V_min); else (input kept if refractory_input, discounted by
       exp(-r dt/tau_m)) r -= 1;
    2. surrogate_gradient = psi(r, V, V_th);
    3. spike if V >= V_th: r <- t_ref in steps, V <- V_reset.
eprop_iaf_psc_delta_adapt: as eprop_iaf_psc_delta; while not refractory it also updates adaptation
    and V_th_adapt as eprop_iaf_adapt (the previous step's spike z enters only if the neuron is not
    refractory in this step: with t_ref > 0 NEST's spikes never raise the adaptation; kept as NEST does).

Surrogate gradient psi(r, V, v_th) (0 while r > 0), h = surrogate_gradient_height,
w = surrogate_gradient_width, x = V - v_th:
    piecewise_linear         h max(0, 1 - |x|/w)
    exponential              h exp(-|x|/w)
    fast_sigmoid_derivative  h (1 + |x|/w)^-2
    arctan_derivative        h / (1 + (x/w)^2)

ignore_and_spike = True replaces the threshold test: the neuron spikes ignore_and_spike_offset after
the mechanism was switched on and then every ignore_and_spike_interval (in steps, NEST's rounding).

eprop_readout (no spikes): V <- P_v V + P_i i_in + z_in, V <- max(V, V_min) (i_in as eprop_iaf),
readout_signal = V (absolute), error_signal = readout_signal - target_signal, then all three are
multiplied by the learning-window signal. The target signal and the learning window come from rate
connections (rate_connection_delayed from a rate neuron or a rate generator) on receptor 2
("target_signal") and 1 ("eprop_learning_window"), weight x value; spikes take receptor 0 only.
Without them both are 0 and so are readout_signal and error_signal (only V_m moves), as in NEST.
The value sent in step k is used in step k + delay; NEST applies a rate event as soon as it arrives
(for the next step), which is the same when the delay equals the network's min_delay of one step, the
only setting NEST's e-prop examples use. A rate generator's (step_rate_generator) value of stamp s is
used in step s (NEST computes it one slice ahead and the readout takes it on arrival). Several connections on one receptor are summed (NEST keeps
the last event's value).

Parameters (NEST 3.10 defaults) of the recurrent neurons:

============================ ====== ================ ====================================================
C_m                          pF     250              membrane capacitance (> 0)
E_L                          mV     -70              leak potential
I_e                          pA     0                constant input current
tau_m                        ms     10               membrane time constant (> 0)
t_ref                        ms     2                refractory period (>= 0)
V_th                         mV     -55              threshold (>= V_min)
V_min                        mV     -1.797e308       lower bound of V_m (-DBL_MAX)
V_reset                      mV     -70              reset (psc_delta variants: < V_th, >= V_min)
refractory_input             bool   False            psc_delta variants: keep input arriving while refractory
adapt_beta                   1      1                adapt variants: threshold increment per adaptation (>= 0)
adapt_tau                    ms     10               adapt variants: adaptation time constant (> 0)
c_reg                        1      0                firing-rate regularisation strength (>= 0)
f_target                     Hz     10               target firing rate (>= 0; NEST's GetDefaults shows
                                                     its internal spikes/ms value 0.01)
kappa, kappa_reg             1      0.97, 0.97       low-pass filter constants of e-prop (in [0, 1])
surrogate_gradient_function  str    piecewise_linear one of the four above
surrogate_gradient_height    1      0.3              (> 0)
surrogate_gradient_width     mV     1.0              (> 0)
eprop_isi_trace_cutoff       ms     inf              e-prop: gradient window after a spike (>= 0)
flush_event_send_interval    ms     inf              e-prop: flush-event interval (only inf: no flush events)
ignore_and_spike             bool   False            forced spiking (see above)
ignore_and_spike_offset      ms     1                (> 0)
ignore_and_spike_interval    ms     100              (> 0)
============================ ====== ================ ====================================================

eprop_readout: C_m (pF, 250), E_L (mV, 0), I_e (pA, 0), tau_m (ms, 10), V_min (mV, -DBL_MAX),
eprop_isi_trace_cutoff (ms, inf).

Recordables: V_m, surrogate_gradient, learning_signal (+ adaptation, V_th_adapt for the adapt
variants); eprop_readout: V_m, readout_signal, error_signal, target_signal. learning_signal is 0
unless readouts send learning signals through eprop_learning_signal_connections; in step t it shows
the sum of weight x error signal of the readouts' step t - 1 (see :mod:`nestax.models.synapses.eprop`
for the steps where NEST shows 0 instead). The firing-rate regularisation of step t is
c_reg (f_av - f_target dt), f_av <- kappa_reg f_av + (1 - kappa_reg) z / dt (z: the neuron's spike). NEST's recordable eprop_history_duration (the length of its
internal e-prop history) is not offered.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..base import Neuron, Param, State
from ..common import OnePortRouting
from ..propagators import refractory_steps
from ..registry import register

#: NEST's surrogate gradient functions, by name (the index is what the compiled step sees)
SURROGATE_GRADIENTS = ("piecewise_linear", "exponential", "fast_sigmoid_derivative", "arctan_derivative")
_DBL_MAX = np.finfo(float).max

_MEMBRANE = {
    "C_m": Param(250.0, "pF", "Membrane capacitance"),
    "E_L": Param(-70.0, "mV", "Leak / resting membrane potential"),
    "I_e": Param(0.0, "pA", "Constant input current"),
    "tau_m": Param(10.0, "ms", "Membrane time constant"),
    "t_ref": Param(2.0, "ms", "Duration of the refractory period"),
    "V_th": Param(-55.0, "mV", "Spike threshold"),
    "V_min": Param(-_DBL_MAX, "mV", "Lower bound of V_m (NEST: -DBL_MAX)"),
}
_EPROP = {
    "c_reg": Param(0.0, "1", "Coefficient of the firing-rate regularisation"),
    "f_target": Param(10.0, "Hz", "Target firing rate of the regularisation (NEST's GetDefaults shows it in "
                                  "spikes/ms: 0.01)"),
    "kappa": Param(0.97, "1", "Low-pass filter constant of the eligibility trace"),
    "kappa_reg": Param(0.97, "1", "Low-pass filter constant of the firing-rate regularisation"),
    "surrogate_gradient_function": Param("piecewise_linear", "1", "Surrogate gradient: " + ", ".join(
        SURROGATE_GRADIENTS), "str"),
    "surrogate_gradient_height": Param(0.3, "1", "Height of the surrogate gradient"),
    "surrogate_gradient_width": Param(1.0, "mV", "Width of the surrogate gradient"),
    "eprop_isi_trace_cutoff": Param(np.inf, "ms", "Window after a presynaptic spike in which e-prop computes "
                                                  "gradients"),
    "flush_event_send_interval": Param(np.inf, "ms", "Interval without spikes after which a flush event is sent"),
    "ignore_and_spike": Param(False, "1", "Spike at fixed times, ignoring the dynamics", "bool"),
    "ignore_and_spike_offset": Param(1.0, "ms", "Time of the first forced spike"),
    "ignore_and_spike_interval": Param(100.0, "ms", "Interval between forced spikes"),
}
_PSC_DELTA = {
    "V_reset": Param(-70.0, "mV", "Reset potential"),
    "refractory_input": Param(False, "1", "Keep spikes arriving during refractoriness", "bool"),
}
_ADAPT = {
    "adapt_beta": Param(1.0, "1", "Threshold increase per unit of adaptation"),
    "adapt_tau": Param(10.0, "ms", "Time constant of the adaptation"),
}


def surrogate_gradient(idx, r, v, v_th, height, width):
    """NEST's surrogate gradient number ``idx`` (see SURROGATE_GRADIENTS); 0 while refractory (r > 0)."""
    x = v - v_th
    ax = jnp.abs(x)
    psi = jnp.where(idx == 0, height * jnp.maximum(0.0, 1.0 - ax / width),
                    jnp.where(idx == 1, height * jnp.exp(-ax / width),
                              jnp.where(idx == 2, height * (1.0 + ax / width) ** -2.0,
                                        height / (1.0 + (x / width) ** 2.0))))
    return jnp.where(r > 0, 0.0, psi)


def _time_steps(t_ms, dt):
    """NEST's Time(Time::ms(t)).get_steps(): tics rounded, then up to whole steps (inf stays inf)."""
    return jnp.where(jnp.isinf(t_ms), jnp.inf, refractory_steps(jnp.where(jnp.isinf(t_ms), 0.0, t_ms), dt))


class _EpropNeuron(OnePortRouting, Neuron):
    """What the e-prop neurons share: relative V_m, one spike port, NEST's propagators."""

    kind = "neuron"
    ports = ("spikes",)
    weight_unit = "pA"
    archiving = False  # NEST's e-prop neurons keep their own e-prop history, not the STDP archive
    settable_state = ("V_m",)

    @classmethod
    def observe(cls, p, s, name):
        if name in ("V_m", "V_th_adapt"):
            return s[name] + p["E_L"]
        return s[name]

    @classmethod
    def assign(cls, p, s, name, value):
        return value - p["E_L"] if name in ("V_m", "V_th_adapt") else value

    @classmethod
    def on_given(cls, p, s, given):
        """NEST recomputes the adaptive threshold V_th + adapt_beta adaptation when adaptation is given."""
        if "adaptation" in given and "V_th_adapt" in s:
            n = np.shape(s["V_th_adapt"])
            s = dict(s)
            s["V_th_adapt"] = np.broadcast_to(np.asarray(p["V_th"], float) - np.asarray(p["E_L"], float) +
                                              np.asarray(p["adapt_beta"], float) * np.asarray(s["adaptation"], float),
                                              n).copy()
        return s

    @classmethod
    def check(cls, p):
        cls._positive(p, "C_m", "tau_m")

    @classmethod
    def _membrane(cls, p, dt):
        p_v = jnp.exp(-dt / p["tau_m"])
        return {"P_v": p_v, "P_i": p["tau_m"] / p["C_m"] * (1.0 - p_v), "v_min": p["V_min"] - p["E_L"]}


#: the per-step e-prop history an eprop_synapse reads (Neuron.step_history): after step k the columns
#: hold the entry of step k - 1 (surrogate gradient, learning signal, firing-rate regularisation;
#: readout: 1, error signal, 0), because the learning signal of step k - 1 arrives after step k's update
EPROP_HISTORY = ("_e_psi", "_e_L", "_e_reg")
#: derived per-neuron constants an eprop_synapse reads (Neuron.offers_derived)
EPROP_DERIVED = ("P_v", "_eprop_kappa", "_eprop_kappa_reg", "_eprop_beta", "_eprop_P_adapt", "_eprop_cutoff")
#: the rate event of eprop_learning_signal_connection (readout -> recurrent neurons, after the update)
LEARNING_SIGNAL_EVENT = "eprop_learning_signal"


def _eprop_constants(p, dt, d, adaptive=False, readout=False):
    """What an eprop_synapse reads from its target (EPROP_DERIVED), added to the derived dict ``d``."""
    zero = jnp.zeros_like(d["P_v"])
    d["_eprop_kappa"] = zero if readout else p["kappa"] + zero
    d["_eprop_kappa_reg"] = zero if readout else p["kappa_reg"] + zero
    d["_eprop_beta"] = p["adapt_beta"] + zero if adaptive else zero
    d["_eprop_P_adapt"] = d["P_adapt"] + zero if adaptive else zero
    d["_eprop_cutoff"] = _time_steps(p["eprop_isi_trace_cutoff"], dt) + zero
    return d


class _EpropRecurrent(_EpropNeuron):
    """Recurrent e-prop neurons: surrogate gradient, learning signal, forced spiking."""

    adaptive = False
    #: port 1 takes the learning signal (eprop_learning_signal_connection, after the readouts' update)
    ports = ("spikes", "learning_signal")
    accepts_rate_events = (LEARNING_SIGNAL_EVENT,)
    step_history = EPROP_HISTORY
    offers_derived = EPROP_DERIVED

    @classmethod
    def absorb(cls, p, d, s, inp):
        """The learning signal of the previous step's history entry: sum of weight x error signal of
        this step over the neuron's eprop_learning_signal_connections."""
        return {**s, "_e_L": inp[1]}

    @classmethod
    def _history(cls, p, d, s, out, spike):
        """NEST's per-step e-prop bookkeeping: the learning signal recorded in step k is the one of the
        entry k - 2; the history columns get the entry k - 1; the firing-rate regularisation of step k."""
        z = spike.astype(d["P_v"].dtype)
        f_av = p["kappa_reg"] * s["_f_av"] + (1.0 - p["kappa_reg"]) * z / d["dt"]
        out.update(learning_signal=s["_e_L"], _e_psi=s["surrogate_gradient"], _e_reg=s["_reg"], _f_av=f_av,
                   _reg=p["c_reg"] * (f_av - p["f_target"] / 1000.0 * d["dt"]))
        return out

    @classmethod
    def recordables(cls):
        extra = ("adaptation", "V_th_adapt") if cls.adaptive else ()
        return ("V_m", "surrogate_gradient", "learning_signal") + extra

    @classmethod
    def run_params(cls, p):
        return {"_sg_index": np.asarray([SURROGATE_GRADIENTS.index(f) for f in p["surrogate_gradient_function"]],
                                        np.int32)}

    @classmethod
    def check(cls, p):
        super().check(p)
        bad = [f for f in p["surrogate_gradient_function"] if f not in SURROGATE_GRADIENTS]
        if bad:
            from ...errors import BadParameterError
            raise BadParameterError(
                f"{cls.name}: parameter 'surrogate_gradient_function' = {bad[0]!r} is invalid; expected one of "
                f"{', '.join(repr(f) for f in SURROGATE_GRADIENTS)}.")
        cls._nonnegative(p, "t_ref", "c_reg", "f_target", "eprop_isi_trace_cutoff")
        cls._positive(p, "surrogate_gradient_height", "surrogate_gradient_width", "flush_event_send_interval",
                      "ignore_and_spike_offset", "ignore_and_spike_interval")
        # NEST's flush events make its eprop_synapses apply gradients before the next spike (the
        # weights then differ until it arrives); nestax does not send them
        cls._require(p, "flush_event_send_interval", np.isposinf(np.asarray(p["flush_event_send_interval"], float)),
                     "inf (nestax does not send NEST's flush events, which change when eprop_synapses apply "
                     "their gradients)")
        for n in ("kappa", "kappa_reg"):
            x = np.asarray(p[n])
            cls._require(p, n, (x >= 0.0) & (x <= 1.0), "a value in [0, 1]")
        v_th, v_min = np.broadcast_arrays(np.asarray(p["V_th"], float), np.asarray(p["V_min"], float))
        cls._require(p, "V_th", v_th >= v_min, "V_th >= V_min")
        if "V_reset" in p:
            cls._reset_below_threshold(p)
            v_reset, v_min = np.broadcast_arrays(np.asarray(p["V_reset"], float), np.asarray(p["V_min"], float))
            cls._require(p, "V_reset", v_reset >= v_min, "V_reset >= V_min")
        if cls.adaptive:
            cls._nonnegative(p, "adapt_beta")
            cls._positive(p, "adapt_tau")

    @classmethod
    def _recurrent_constants(cls, p, dt):
        """The per-step constants every recurrent e-prop neuron derives (membrane propagators,
        threshold, refractory and ignore-and-spike steps, adaptation decay)."""
        d = cls._membrane(p, dt)
        d.update({
            "v_th": p["V_th"] - p["E_L"],
            "ref_counts": refractory_steps(p["t_ref"], dt),
            "forced_offset": _time_steps(p["ignore_and_spike_offset"], dt),
            "forced_interval": _time_steps(p["ignore_and_spike_interval"], dt),
        })
        if cls.adaptive:
            d["P_adapt"] = jnp.exp(-dt / p["adapt_tau"])
        return d

    @classmethod
    def prepare(cls, p, dt):
        d = cls._recurrent_constants(p, dt)
        d["dt"] = dt
        if "V_reset" in p:
            d["v_reset"] = p["V_reset"] - p["E_L"]
        return _eprop_constants(p, dt, d, cls.adaptive)

    @classmethod
    def _forced(cls, p, d, s):
        """NEST's ignore-and-spike countdown: (is a spike forced in this step, new step count)."""
        on = p["ignore_and_spike"].astype(bool)
        n = s["_forced_steps"] + on.astype(s["_forced_steps"].dtype)
        n_f = n.astype(d["P_v"].dtype)
        due = (n_f == d["forced_offset"]) | ((n_f > d["forced_offset"])
                                             & (jnp.mod(n_f - d["forced_offset"], d["forced_interval"]) == 0))
        return on & due, on, n

    @classmethod
    def _sg(cls, p, r, v, v_th):
        return surrogate_gradient(p["_sg_index"], r, v, v_th, p["surrogate_gradient_height"],
                                  p["surrogate_gradient_width"])


_RECURRENT_STATE = {
    "V_m": State("mV", "E_L", "Membrane potential"),
    "surrogate_gradient": State("1", 0.0, "Surrogate gradient of the spike w.r.t. V_m"),
    "learning_signal": State("pA", 0.0, "Learning signal received from the readouts"),
    "refractory_steps": State("1", 0, "Refractory steps left"),
    "_forced_steps": State("1", 0, "Steps counted by the ignore-and-spike mechanism"),
    "_f_av": State("1/ms", 0.0, "Low-pass filtered firing rate (firing-rate regularisation)"),
    "_reg": State("1", 0.0, "Firing-rate regularisation of this step"),
    "_e_psi": State("1", 0.0, "e-prop history: surrogate gradient of the previous step"),
    "_e_L": State("pA", 0.0, "e-prop history: learning signal of the previous step (arrives after the update)"),
    "_e_reg": State("1", 0.0, "e-prop history: firing-rate regularisation of the previous step"),
}
_ADAPT_STATE = {
    "adaptation": State("1", 0.0, "Adaptation variable"),
    "V_th_adapt": State("mV", "V_th", "Adaptive threshold V_th + adapt_beta adaptation"),
    "_z": State("1", 0.0, "Spike of the previous step (1 or 0)"),
}


@register
class eprop_iaf(_EpropRecurrent):
    """Leaky integrate-and-fire neuron for e-prop plasticity with reset by subtraction
    (NEST: eprop_iaf). See the module docstring for the update and the parameter table."""

    name = "eprop_iaf"
    parameters = {**_MEMBRANE, **_EPROP}
    state = {**_RECURRENT_STATE, "_i_e": State("pA", 0.0, "I_e read at the end of the previous step")}

    @classmethod
    def update(cls, p, d, s, syn, I):
        r = jnp.maximum(s["refractory_steps"] - 1, 0)
        v = d["P_i"] * (I + s["_i_e"]) + syn[0] + d["P_v"] * s["V_m"]
        v = jnp.maximum(v, d["v_min"])
        out = dict(s)
        v_th = d["v_th"]
        if cls.adaptive:
            a = d["P_adapt"] * s["adaptation"] + s["_z"]
            v_th = d["v_th"] + p["adapt_beta"] * a
            out.update(adaptation=a, V_th_adapt=v_th)
        sg = cls._sg(p, r, v, v_th)
        forced, on, n = cls._forced(p, d, s)
        spike = jnp.where(on, forced, (v >= v_th) & (r == 0))
        v = jnp.where(spike, v - d["v_th"], v)
        r = jnp.where(spike, d["ref_counts"], r)
        out.update(V_m=v, refractory_steps=r, surrogate_gradient=sg, _forced_steps=n,
                   _i_e=jnp.broadcast_to(p["I_e"], v.shape))
        if cls.adaptive:
            out["_z"] = spike.astype(v.dtype)
        return cls._history(p, d, s, out, spike), spike


@register
class eprop_iaf_adapt(eprop_iaf):
    """eprop_iaf with an adaptive threshold V_th_adapt = V_th + adapt_beta adaptation
    (NEST: eprop_iaf_adapt). See the module docstring."""

    name = "eprop_iaf_adapt"
    adaptive = True
    settable_state = ("V_m", "adaptation")  # as NEST's SetStatus
    parameters = {**_MEMBRANE, **_ADAPT, **_EPROP}
    state = {**eprop_iaf.state, **_ADAPT_STATE}


@register
class eprop_iaf_psc_delta(_EpropRecurrent):
    """iaf_psc_delta-like neuron for e-prop plasticity: reset to V_reset, V_m clamped while refractory
    (NEST: eprop_iaf_psc_delta). See the module docstring."""

    name = "eprop_iaf_psc_delta"
    parameters = {**_MEMBRANE, **_PSC_DELTA, **_EPROP}
    state = {**_RECURRENT_STATE, "refr_spikes_buffer": State("mV", 0.0, "Input kept during refractoriness")}

    @classmethod
    def update(cls, p, d, s, syn, I):
        r0, buf, z_in = s["refractory_steps"], s["refr_spikes_buffer"], syn[0]
        free = r0 == 0
        keep = p["refractory_input"].astype(bool)
        v_free = d["P_i"] * (I + p["I_e"]) + d["P_v"] * s["V_m"] + z_in
        v_free = jnp.maximum(v_free + jnp.where(keep, buf, 0.0), d["v_min"])
        buf = jnp.where(free, jnp.where(keep, 0.0, buf),
                        jnp.where(keep, buf + z_in * jnp.exp(-r0 * d["dt"] / p["tau_m"]), buf))
        v = jnp.where(free, v_free, s["V_m"])
        r = jnp.where(free, r0, r0 - 1)
        out = dict(s)
        v_th = d["v_th"]
        if cls.adaptive:
            a = jnp.where(free, d["P_adapt"] * s["adaptation"] + s["_z"], s["adaptation"])
            v_th = jnp.where(free, d["v_th"] + p["adapt_beta"] * a, s["V_th_adapt"])
            out.update(adaptation=a, V_th_adapt=v_th)
        sg = cls._sg(p, r, v, v_th)
        forced, on, n = cls._forced(p, d, s)
        spike = jnp.where(on, forced, v >= v_th)
        r = jnp.where(spike, d["ref_counts"], r)
        v = jnp.where(spike, d["v_reset"], v)
        out.update(V_m=v, refractory_steps=r, refr_spikes_buffer=buf, surrogate_gradient=sg, _forced_steps=n)
        if cls.adaptive:
            out["_z"] = spike.astype(v.dtype)
        return cls._history(p, d, s, out, spike), spike


@register
class eprop_iaf_psc_delta_adapt(eprop_iaf_psc_delta):
    """eprop_iaf_psc_delta with an adaptive threshold (NEST: eprop_iaf_psc_delta_adapt). See the module
    docstring."""

    name = "eprop_iaf_psc_delta_adapt"
    adaptive = True
    settable_state = ("V_m", "adaptation")  # as NEST's SetStatus
    parameters = {**_MEMBRANE, **_PSC_DELTA, **_ADAPT, **_EPROP}
    state = {**eprop_iaf_psc_delta.state, **_ADAPT_STATE}


class _ReadoutPorts:
    """What the e-prop readouts share: they send their error signal after the update (to the learning
    signal connections) and take input on receptor 0 (recurrent) and 1 (target signal) unscaled."""

    @classmethod
    def emit_after(cls, p, d, s):
        """The error signal of this step, sent to the learning signal connections."""
        return s["error_signal"]

    @classmethod
    def receptor_range(cls, p):
        return (0, 2)

    @classmethod
    def route(cls, weights, receptor_type):
        w = np.asarray(weights)
        return np.broadcast_to(np.asarray(receptor_type, np.int32), w.shape), np.ones_like(w, float)


@register
class eprop_readout(_ReadoutPorts, _EpropNeuron):
    """Leaky readout neuron of e-prop (NEST: eprop_readout): integrates spikes, compares its V_m with
    the target signal in the learning window. See the module docstring."""

    name = "eprop_readout"
    sends_spikes = False  # NEST: its output is the learning signal, never a spike
    #: receptor 0: spikes; 1 (NEST's "eprop_learning_window") and 2 ("target_signal"): rate connections
    ports = ("spikes", "learning_window", "target_signal")
    accepts_rate_events = ("rate",)
    rate_receptors = (1, 2)
    #: its error signal of each step goes to eprop_learning_signal_connections after the update
    sends_after_update = LEARNING_SIGNAL_EVENT
    rate_on_arrival = True  # NEST's handler sets the signals when the event arrives
    step_history = EPROP_HISTORY
    offers_derived = EPROP_DERIVED
    parameters = {
        "C_m": Param(250.0, "pF", "Membrane capacitance"),
        "E_L": Param(0.0, "mV", "Leak / resting membrane potential"),
        "I_e": Param(0.0, "pA", "Constant input current"),
        "tau_m": Param(10.0, "ms", "Membrane time constant"),
        "V_min": Param(-_DBL_MAX, "mV", "Lower bound of V_m (NEST: -DBL_MAX)"),
        "eprop_isi_trace_cutoff": Param(np.inf, "ms", "Window after a presynaptic spike in which e-prop "
                                                      "computes gradients"),
    }
    state = {
        "V_m": State("mV", "E_L", "Membrane potential"),
        "readout_signal": State("1", 0.0, "V_m in the learning window (0 outside)"),
        "error_signal": State("1", 0.0, "readout_signal - target_signal in the learning window"),
        "target_signal": State("1", 0.0, "Target signal (from rate events on receptor 2)"),
        "_i_e": State("pA", 0.0, "I_e read at the end of the previous step"),
        "_e_psi": State("1", 1.0, "e-prop history: 1 (a readout's gradient has no surrogate gradient)"),
        "_e_L": State("1", 0.0, "e-prop history: error signal of the previous step"),
        "_e_reg": State("1", 0.0, "e-prop history: 0 (no firing-rate regularisation)"),
    }

    @classmethod
    def recordables(cls):
        return ("V_m", "readout_signal", "error_signal", "target_signal")

    @classmethod
    def check(cls, p):
        super().check(p)
        cls._nonnegative(p, "eprop_isi_trace_cutoff")

    @classmethod
    def prepare(cls, p, dt):
        return _eprop_constants(p, dt, cls._membrane(p, dt), readout=True)

    @classmethod
    def update(cls, p, d, s, syn, I):
        v = d["P_i"] * (I + s["_i_e"]) + syn[0] + d["P_v"] * s["V_m"]
        v = jnp.maximum(v, d["v_min"])
        lw, target = syn[1], syn[2]  # weight x rate of this step on receptors 1 and 2
        readout = v + p["E_L"]
        error = readout - target
        out = dict(s)
        out.update(V_m=v, readout_signal=readout * lw, error_signal=error * lw,
                   target_signal=target * lw, _i_e=jnp.broadcast_to(p["I_e"], v.shape), _e_L=s["error_signal"])
        return out, jnp.zeros(v.shape, bool)
