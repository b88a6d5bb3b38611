"""More spike-timing dependent synapses of NEST 3.10: the triplet rule (stdp_triplet_synapse), the
exponentially weight-dependent rule of Jonke et al. (jonke_synapse) and the FACETS hardware rule with
look-up tables (stdp_facetshw_synapse_hom, specified in its class docstring).

Both read the postsynaptic archive (:mod:`nestax.engine.archive`) as NEST's synapses read the archiving
node, and the whole delay d is dendritic. With a presynaptic spike of stamp t_pre and the previous
presynaptic stamp t_last (0 before the first spike, as in NEST), the postsynaptic spikes in the window
(t_last - d, t_pre - d] are the "history" entries, and K_minus(t_pre - d) is the target's trace at
t_pre - d built from the post spikes strictly before t_pre - d (a post spike exactly at t_pre - d is
left out, as NEST's get_K_value does). The post traces decay with the TARGET's parameters tau_minus
(20 ms) and tau_minus_triplet (110 ms): ``sim.create(nx.iaf_psc_alpha, n, tau_minus_triplet=...)``.

stdp_triplet_synapse (Pfister & Gerstner 2006, all-to-all interaction), in NEST's order:

1. facilitation, for each post spike t_post of the window in time order:
   w <- sign(Wmax) min(|w| + K_plus exp((t_last - t_post - d) / tau_plus) (Aplus + Aplus_triplet y),
   |Wmax|), with y = K_minus_triplet just BEFORE t_post (the archived value after t_post minus the
   jump 1, the "t - epsilon" of the paper);
2. K_plus_triplet <- K_plus_triplet exp((t_last - t_pre) / tau_plus_triplet);
3. depression: w <- sign(Wmax) max(|w| - K_minus(t_pre - d) (Aminus + Aminus_triplet K_plus_triplet), 0);
4. the spike is delivered with the new weight; K_plus_triplet <- K_plus_triplet + 1,
   K_plus <- K_plus exp((t_last - t_pre) / tau_plus) + 1, t_last <- t_pre.

=================  =========  ======  ====================================================
parameter          default    unit    constraint / meaning
=================  =========  ======  ====================================================
weight             1          weight  same sign as Wmax (0 counts as positive)
delay              1          ms      >= resolution, all dendritic
tau_plus           16.8       ms      > 0 (nestax; NEST does not check), pair trace K_plus
tau_plus_triplet   101        ms      > 0 (nestax; NEST does not check), triplet trace
Aplus              5e-10      1       pair facilitation amplitude
Aminus             7e-3       1       pair depression amplitude
Aplus_triplet      6.2e-3     1       triplet facilitation amplitude
Aminus_triplet     2.3e-4     1       triplet depression amplitude
Wmax               100        weight  maximum |weight|
=================  =========  ======  ====================================================

State per connection: Kplus (0), Kplus_triplet (0).

jonke_synapse (Jonke, Legenstein, Habenschuss & Maass 2017), parameters shared by all connections of
the model (NEST keeps them in the model's common properties: set them with ``sim.set_defaults`` as
NEST's SetDefaults, or at the first connect call; ``homogeneous``), in NEST's order:

1. facilitation, for each post spike t_post of the window in time order, unless lambda = 0:
   w <- min(w + lambda (exp(mu_plus w) K_plus exp((t_last - t_post - d) / tau_plus) - beta), Wmax)
   (no lower bound here);
2. depression, unless lambda = 0: w <- max(w + lambda (-alpha exp(mu_minus w) K_minus(t_pre - d) - beta),
   0);
3. the spike is delivered with the new weight; K_plus <- K_plus exp((t_last - t_pre)/tau_plus) + 1,
   t_last <- t_pre.

==========  =======  ========  ===========================================================
parameter   default  unit      meaning
==========  =======  ========  ===========================================================
alpha       1        1         depression relative to facilitation
beta        0        1         constant depression per pairing (weight decay)
lambda      0.01     1         learning rate; 0 freezes the weight
mu_plus     0        1/weight  exponent of the weight dependence of facilitation
mu_minus    0        1/weight  exponent of the weight dependence of depression
tau_plus    20       ms        > 0 (nestax; NEST does not check), presynaptic trace
Wmax        100      weight    upper bound of the weight
==========  =======  ========  ===========================================================

State per connection: Kplus (0). A delivered jonke weight is never negative (depression clips at 0)
unless lambda = 0, so the port follows Wmax as for the other STDP synapses; a negative initial weight
with lambda = 0 is therefore delivered to Wmax's port (NEST picks the port by the weight's sign).

Differences from NEST: nestax refuses tau_plus (and tau_plus_triplet) <= 0 at connect, where NEST
accepts them (exp(x/0) or a growing trace). A postsynaptic spike of multiplicity m (parrot neurons)
adds m to the archived traces, is read once in the facilitation window and its triplet value "just
before" is the archived value minus 1 (NEST unrolls the multiplicity). The archive holds the last
``Simulator.stdp_history`` post spikes; a window that needs a dropped one is reported after the run.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..base import Param, State, Synapse, connection_params
from ..registry import register
from ...errors import BadParameterError
from .stdp import PRE_TRACE
from .stdp_variants import _sign_check, _Window

_COMMON = connection_params(delay_doc="Transmission delay (all of it dendritic)")


def _positive(name, params, *keys):
    for key in keys:
        v = np.asarray(params[key], float)
        if np.any(~(v > 0)):
            bad = np.broadcast_to(v, np.shape(v))[~(v > 0)].reshape(-1)[0]
            raise BadParameterError(f"{name}: parameter '{key}' = {bad} ms is invalid; expected a value > 0 ms.")


@register
class stdp_triplet_synapse(Synapse):
    """Triplet STDP (Pfister & Gerstner 2006; NEST: stdp_triplet_synapse): pair and triplet terms for
    facilitation and depression, all-to-all spike interaction."""

    name = "stdp_triplet_synapse"
    plastic = True
    uses_post_archive = True
    parameters = {
        **_COMMON,
        "tau_plus": Param(16.8, "ms", "Time constant of the presynaptic pair trace K_plus"),
        "tau_plus_triplet": Param(101.0, "ms", "Time constant of the presynaptic triplet trace Kplus_triplet"),
        "Aplus": Param(5e-10, "1", "Amplitude of pair facilitation"),
        "Aminus": Param(7e-3, "1", "Amplitude of pair depression"),
        "Aplus_triplet": Param(6.2e-3, "1", "Amplitude of triplet facilitation"),
        "Aminus_triplet": Param(2.3e-4, "1", "Amplitude of triplet depression"),
        "Wmax": Param(100.0, "weight", "Maximum |weight|, in the weight's unit (same sign as the weight)"),
    }
    connection_state = {
        **PRE_TRACE,
        "Kplus_triplet": State("1", 0.0, "Presynaptic triplet trace (NEST's Kplus_triplet)"),
    }
    route_by = "Wmax"

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        _sign_check(cls.name, w, params["Wmax"])
        _positive(cls.name, params, "tau_plus", "tau_plus_triplet")

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        W = _Window(a, s, post, cnt, k, tics_per_step)
        w, kplus, kt = s["weight"], s["Kplus"], s["Kplus_triplet"]
        wmax = a["Wmax"]
        hkt = post["Kt"][a["tgt_local"]]
        last_entry = hkt.shape[1] - 1

        def facilitate(j, w):
            p = W.lo + j
            in_win = W.spiked & (p < W.hi)
            ky = jnp.take_along_axis(hkt, jnp.minimum(p, last_entry)[:, None], axis=1)[:, 0] - 1.0
            kp = kplus * jnp.exp(W.minus_dt(p) / a["tau_plus"])
            new_w = jnp.abs(w) + kp * (a["Aplus"] + a["Aplus_triplet"] * ky)
            return jnp.where(in_win, jnp.copysign(jnp.where(new_w < jnp.abs(wmax), new_w, wmax), wmax), w)
        w = jax.lax.fori_loop(0, W.n_steps(), facilitate, w)
        dt_pre = W.tl_ms - W.tpre_ms
        kt = jnp.where(W.spiked, kt * jnp.exp(dt_pre / a["tau_plus_triplet"]), kt)
        new_w = jnp.abs(w) - W.K_value() * (a["Aminus"] + a["Aminus_triplet"] * kt)
        w = jnp.where(W.spiked, jnp.copysign(jnp.where(new_w > 0.0, new_w, 0.0), wmax), w)
        ovf = W.overflow(False, kplus)
        kt = jnp.where(W.spiked, kt + 1.0, kt)
        kplus = jnp.where(W.spiked, kplus * jnp.exp(dt_pre / a["tau_plus"]) + 1.0, kplus)
        tlast = jnp.where(W.spiked, W.t_pre, s["_t_last"])
        return {"weight": w, "Kplus": kplus, "Kplus_triplet": kt, "_t_last": tlast}, w, ovf


@register
class jonke_synapse(Synapse):
    """STDP with exponential weight dependence and constant depression (Jonke et al. 2017; NEST:
    jonke_synapse). Its plasticity parameters are model-wide, as in NEST's common properties."""

    name = "jonke_synapse"
    plastic = True
    uses_post_archive = True
    parameters = {
        **_COMMON,
        "alpha": Param(1.0, "1", "Depression relative to facilitation"),
        "beta": Param(0.0, "1", "Constant depression per pairing"),
        "lambda": Param(0.01, "1", "Learning rate (0: no plasticity)"),
        "mu_plus": Param(0.0, "1", "Exponent of the weight dependence of facilitation (per weight unit)"),
        "mu_minus": Param(0.0, "1", "Exponent of the weight dependence of depression (per weight unit)"),
        "tau_plus": Param(20.0, "ms", "Time constant of the presynaptic trace K_plus"),
        "Wmax": Param(100.0, "weight", "Upper bound of the weight"),
    }
    connection_state = PRE_TRACE
    homogeneous = ("alpha", "beta", "lambda", "mu_plus", "mu_minus", "tau_plus", "Wmax")
    route_by = "Wmax"

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        _positive(cls.name, params, "tau_plus")

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        W = _Window(a, s, post, cnt, k, tics_per_step)
        w, kplus = s["weight"], s["Kplus"]
        lam, beta, wmax = a["lambda"], a["beta"], a["Wmax"]
        frozen = lam == 0.0

        def facilitate(j, w):
            p = W.lo + j
            in_win = W.spiked & (p < W.hi) & ~frozen
            f_t = kplus * jnp.exp(W.minus_dt(p) / a["tau_plus"])
            new_w = w + lam * (jnp.exp(a["mu_plus"] * w) * f_t - beta)
            return jnp.where(in_win, jnp.where(new_w < wmax, new_w, wmax), w)
        w = jax.lax.fori_loop(0, W.n_steps(), facilitate, w)
        new_w = w + lam * (-a["alpha"] * jnp.exp(a["mu_minus"] * w) * W.K_value() - beta)
        w = jnp.where(W.spiked & ~frozen, jnp.where(new_w > 0.0, new_w, 0.0), w)
        # with beta != 0 every post spike of the window changes the weight, even with K_plus = 0
        ovf = W.overflow(False, jnp.where(beta != 0.0, 1.0, kplus))
        kplus = jnp.where(W.spiked, kplus * jnp.exp((W.tl_ms - W.tpre_ms) / a["tau_plus"]) + 1.0, kplus)
        tlast = jnp.where(W.spiked, W.t_pre, s["_t_last"])
        return {"weight": w, "Kplus": kplus, "_t_last": tlast}, w, ovf


# NEST's default look-up tables (an intermediate Guetig rule, mu = 0.4, with 4 weight bits and 36 spike
# pairs; Pfeil et al. 2012), evaluation bits (Friedmann 2013) and capacitor reset pattern
_FACETS_LUT = (
    (2, 3, 4, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 14, 15),   # lookuptable_0: causal
    (0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 11, 12, 13),     # lookuptable_1: acausal
    tuple(range(16)),                                           # lookuptable_2: both
)
_FACETS_CONFIGBIT = ((0, 0, 1, 0), (0, 1, 0, 0))
_FACETS_RESET = (1, 1, 1, 1, 1, 1)


def _c_round(x):
    """C's round(): halves away from zero (jnp.round rounds halves to even)."""
    r = jnp.trunc(x)
    return jnp.where(jnp.abs(x - r) >= 0.5, r + jnp.sign(x), r)


def _facets_eval(a_c, a_a, th, tl, bits):
    """Evaluation bit of one configuration: compare the capacitor charges with the thresholds."""
    b0, b1, b2, b3 = bits
    return (tl + b2 * a_c + b1 * a_a) / (1 + b2 + b1) > (th + b0 * a_c + b3 * a_a) / (1 + b0 + b3)


@register
class stdp_facetshw_synapse_hom(Synapse):
    """STDP of the FACETS wafer-scale hardware (Pfeil et al. 2012; NEST: stdp_facetshw_synapse_hom):
    4-bit weights changed through look-up tables at periodic readouts of a synapse-line driver.

    Per connection, two "capacitors" accumulate spike pairs: when a presynaptic spike (stamp t_pre, delay
    d, previous presynaptic stamp t_last, 0 initially) is transmitted and the window (t_last - d, t_pre - d]
    holds postsynaptic spikes, a_causal += exp((t_last - t_first - d) / tau_plus) with the first of them
    and a_acausal += exp((t_latest + d - t_pre) / tau_minus_stdp) with the latest of them (one exactly at
    t_pre - d included). The weight changes only at a readout, BEFORE these accumulations, in NEST's
    order:

    1. readout, if t_pre > next_readout_time: the weight becomes the table index
       e = round(w / weight_per_lut_entry) (weight_per_lut_entry = Wmax / 15); the two evaluation bits
       eval_k = (a_thresh_tl + c2 a_causal + c1 a_acausal) / (1 + c2 + c1) >
       (a_thresh_th + c0 a_causal + c3 a_acausal) / (1 + c0 + c3) with configbit_k = (c0, c1, c2, c3)
       pick a table: (1, 0) lookuptable_0, (0, 1) lookuptable_1, (1, 1) lookuptable_2 (e <- table[e]),
       (0, 0) none; the chosen table's two reset_pattern bits reset a_causal and a_acausal to 0;
       next_readout_time advances by readout_cycle_duration until it is >= t_pre (added one period at
       a time, as NEST does); w <- e weight_per_lut_entry (a readout discretizes the weight even when no
       table is chosen);
    2. accumulation of a_causal and a_acausal as above;
    3. the spike is delivered with w; t_last <- t_pre.

    ======================  =======  ======  ========================================================
    parameter               default  unit    meaning
    ======================  =======  ======  ========================================================
    weight                  1        weight  in [0, Wmax], an index round(w / (Wmax/15)) in 0 .. 15
    a_thresh_th             21.835   1       threshold of the "high" side (per connection)
    a_thresh_tl             21.835   1       threshold of the "low" side (per connection)
    tau_plus                20       ms      > 0, causal window (model-wide)
    tau_minus_stdp          20       ms      > 0, acausal window (model-wide)
    Wmax                    100      weight  > 0, largest weight, = 15 table entries (model-wide)
    synapses_per_driver     50       1       synapses updated by one driver (model-wide)
    driver_readout_time     15       ms      > 0, time a driver needs per synapse row (model-wide)
    ======================  =======  ======  ========================================================

    State per connection: a_causal (0), a_acausal (0), next_readout_time (0 ms). The model-wide
    parameters are set with ``sim.set_defaults`` (NEST: SetDefaults) or by the first connect call.

    Differences from NEST 3.10:

    - the look-up tables, configuration bits and reset pattern are NEST's defaults and cannot be
      changed (nestax has no list-valued synapse parameters yet); weight_per_lut_entry is always
      Wmax / 15 and readout_cycle_duration is driver_readout_time;
    - NEST numbers the synapses of the model in the order of their first transmitted spike; synapse i
      is first read out at floor(i / synapses_per_driver) driver_readout_time and all are read out
      every ceil(n / synapses_per_driver) driver_readout_time, with n the synapses numbered so far.
      Up to synapses_per_driver synapses of the model this is every driver_readout_time from 0 for
      all of them, which is what nestax computes for any number of synapses: with more synapses than
      synapses_per_driver nestax differs from NEST (not detected: check_connections does not see the
      number of connections);
    - NEST reads table entries outside 0 .. 15 for a weight outside [0, Wmax + Wmax/30) (undefined
      behaviour); nestax refuses such weights, and Wmax, tau_plus, tau_minus_stdp or
      driver_readout_time <= 0 (NEST loops forever on driver_readout_time = 0), at connect.
    """

    name = "stdp_facetshw_synapse_hom"
    plastic = True
    uses_post_archive = True
    parameters = {
        **_COMMON,
        "a_thresh_th": Param(21.835, "1", "Evaluation threshold, 'high' side"),
        "a_thresh_tl": Param(21.835, "1", "Evaluation threshold, 'low' side"),
        "tau_plus": Param(20.0, "ms", "Time constant of the causal accumulation"),
        "tau_minus_stdp": Param(20.0, "ms", "Time constant of the acausal accumulation"),
        "Wmax": Param(100.0, "weight", "Largest weight (15 look-up table entries)"),
        "synapses_per_driver": Param(50, "1", "Synapses updated by one synapse-line driver", "int"),
        "driver_readout_time": Param(15.0, "ms", "Time one driver needs to process a synapse row"),
    }
    connection_state = {
        "a_causal": State("1", 0.0, "Causal accumulation (capacitor charge)"),
        "a_acausal": State("1", 0.0, "Acausal accumulation (capacitor charge)"),
        "next_readout_time": State("ms", 0.0, "Time of the next readout of this synapse"),
        "_t_last": State("steps", 0, "Stamp of the last presynaptic spike (steps; internal)"),
    }
    homogeneous = ("tau_plus", "tau_minus_stdp", "Wmax", "synapses_per_driver", "driver_readout_time")

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        for key in ("tau_plus", "tau_minus_stdp", "driver_readout_time"):
            _positive(cls.name, params, key)
        wmax = np.asarray(params["Wmax"], float)
        if np.any(~(wmax > 0)):
            raise BadParameterError(f"{cls.name}: parameter 'Wmax' = {wmax.reshape(-1)[0]} is invalid; expected a "
                                    "value > 0 (in the weight's unit).")
        idx = np.asarray(_c_round(jnp.asarray(np.asarray(w, float) / (wmax / 15.0))))
        bad = (np.asarray(w, float) < 0) | (idx > 15)
        if np.any(bad):
            wb = np.broadcast_to(np.asarray(w, float), bad.shape)[bad].reshape(-1)[0]
            raise BadParameterError(f"{cls.name}: weight = {wb} is invalid; expected a value in [0, Wmax] = "
                                    f"[0, {wmax.reshape(-1)[0]}] (a look-up table index in 0 .. 15).")
        spd = np.asarray(params["synapses_per_driver"], float).reshape(-1)
        if np.any(spd < 1):
            raise BadParameterError(f"{cls.name}: parameter 'synapses_per_driver' = {spd[spd < 1][0]:g} is invalid; "
                                    "expected an integer >= 1.")

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        W = _Window(a, s, post, cnt, k, tics_per_step)
        w, a_c, a_a, nrt = s["weight"], s["a_causal"], s["a_acausal"], s["next_readout_time"]
        th, tl = a["a_thresh_th"], a["a_thresh_tl"]
        wple = a["Wmax"] / 15.0
        t = W.tpre_ms
        # 1. readout: discretize, choose a table by the evaluation bits, reset the capacitors
        read = W.spiked & (t > nrt)
        e = _c_round(w / wple).astype(jnp.int32)
        e0 = _facets_eval(a_c, a_a, th, tl, _FACETS_CONFIGBIT[0])
        e1 = _facets_eval(a_c, a_a, th, tl, _FACETS_CONFIGBIT[1])
        new_e, new_c, new_a = e, a_c, a_a
        for sel, lut, (rc, ra) in (((e0 & ~e1), 0, _FACETS_RESET[0:2]), ((~e0 & e1), 1, _FACETS_RESET[2:4]),
                                   ((e0 & e1), 2, _FACETS_RESET[4:6])):
            table = jnp.asarray(_FACETS_LUT[lut], jnp.int32)
            new_e = jnp.where(sel, table[jnp.clip(e, 0, 15)], new_e)
            new_c = jnp.where(sel & bool(rc), 0.0, new_c)
            new_a = jnp.where(sel & bool(ra), 0.0, new_a)
        w = jnp.where(read, new_e.astype(w.dtype) * wple, w)
        a_c = jnp.where(read, new_c, a_c)
        a_a = jnp.where(read, new_a, a_a)
        period = a["driver_readout_time"]
        nrt = jax.lax.while_loop(lambda x: jnp.any(read & (t > x)),
                                 lambda x: jnp.where(read & (t > x), x + period, x), nrt)
        # 2. accumulate the first (causal) and the latest (acausal) post spike of the window
        win = W.any_in_win
        causal = jnp.exp(W.minus_dt(W.lo) / a["tau_plus"])
        acausal = jnp.exp(((W.entry_ms(W.hi - 1) + W.d_ms) - t) / a["tau_minus_stdp"])
        a_c = jnp.where(win, a_c + causal, a_c)
        a_a = jnp.where(win, a_a + acausal, a_a)
        tlast = jnp.where(W.spiked, W.t_pre, s["_t_last"])
        return ({"weight": w, "a_causal": a_c, "a_acausal": a_a, "next_readout_time": nrt, "_t_last": tlast}, w,
                W.overflow(True))
