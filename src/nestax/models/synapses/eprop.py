"""NEST's e-prop plasticity (NEST 3.10): eprop_learning_signal_connection (readout -> recurrent
neurons) and eprop_synapse with its weight optimizers (gradient_descent, adam).

eprop_learning_signal_connection
    Carries the error signal of an ``eprop_readout`` to an e-prop recurrent neuron (eprop_iaf,
    eprop_iaf_adapt, eprop_iaf_psc_delta, eprop_iaf_psc_delta_adapt). NEST sends the readout's error
    signals of a min_delay slice as one secondary event, delivered at the start of the next slice
    before the spikes, stamped with that slice's origin: the history entry of step t of the recurrent
    neuron gets ``weight x error_signal`` of the readout's step t + 1 (summed over its connections),
    and the neuron's recordable ``learning_signal`` in step t shows the entry of step t - 2 (so the
    readout's error of step t - 1). nestax delivers the value after the update of the step in which the
    readout computed it (a rate connection of kind "after_update", :class:`~nestax.models.base.Neuron`
    ``sends_after_update`` / ``absorb``), before that step's spikes are transmitted: the same
    schedule, with min_delay one step as in NEST's examples (the connection's delay is not used by
    NEST either). Parameters: weight (1.0, the feedback weight B), delay (1.0 ms), receptor_type (0).

    NEST records 0 where it has erased the e-prop history: a neuron without incoming eprop_synapses
    keeps none (its learning_signal is always 0 in NEST); otherwise NEST erases the entries before
    (earliest last spike among the neuron's incoming eprop_synapses) - 1 whenever a spike arrives, so
    with eprop_isi_trace_cutoff = inf the step t records 0 exactly when every incoming eprop_synapse
    that has transmitted a spike transmitted one stamped t. nestax records the learning signal at those
    steps too (it keeps no per-synapse erase bookkeeping); the gradients never read an erased entry.

eprop_synapse
    A spike stamped t_spike, transmitted through a connection whose previous spike was stamped t_prev,
    first computes the e-prop gradient over the target's history entries t = t_prev - 1, ...,
    t_prev - 2 + min(isi, cutoff) (isi = t_spike - t_prev, cutoff: the target's
    eprop_isi_trace_cutoff in steps), oldest first, with the presynaptic spike train z (1 at entry
    t_prev, 0 elsewhere, plus the buffered spike of the previous call):

        z_bar <- P_v z_bar + z,  e = psi (z_bar - adapt_beta epsilon),  epsilon <- P_adapt epsilon + e,
        e_bar <- kappa e_bar + e,  e_bar_reg <- kappa_reg e_bar_reg + (1 - kappa_reg) e,
        g = L e_bar + fr_reg e_bar_reg

    (psi: surrogate gradient, L: learning signal, fr_reg: firing-rate regularisation
    c_reg (f_av - f_target dt) with f_av <- kappa_reg f_av + (1 - kappa_reg) z_post / dt; non-adaptive
    targets: adapt_beta = 0. eprop_readout targets: psi = 1, kappa = 0, L = its error signal, fr_reg = 0,
    so g = error x z_bar.) With ``optimize_each_step`` the optimizer is called with each g at index
    t + 1; otherwise once with the summed g at index t_spike - 1. The steps between the cutoff and the
    spike decay z_bar, e_bar, e_bar_reg, epsilon. The first spike of a connection computes nothing.
    The spike is then delivered with the new weight.

    Optimizer (NEST's WeightOptimizer, per connection): the gradient is accumulated; when the index i
    reaches a new batch (1 + i // batch_size greater than the optimizer's step), the accumulated
    gradient / batch_size updates the weight, which is clipped to [Wmin, Wmax]:
    gradient_descent: w <- w - eta g; adam: for every batch step since the last update (the gradient
    is 0 after the first), b1^n, b2^n advance, alpha = eta sqrt(1 - b2^n) / (1 - b1^n),
    m <- b1 m + (1 - b1) g, v <- b2 v + (1 - b2) g^2, w <- w - alpha m / (sqrt(v) + epsilon).

    Parameters, shared by all connections of the model (NEST's ``optimizer`` dictionary of the common
    properties; nestax takes NEST's ``sim.set_defaults("eprop_synapse", optimizer={"type": "adam",
    "eta": ...})`` or the flat names, ``sim.set_defaults("eprop_synapse", eta=...)``): optimizer
    (0 or "gradient_descent", 1 or "adam"; NEST's ``type``), batch_size (1, > 0), eta (1e-4, >= 0), Wmin (-100), Wmax (100) (Wmin <= weight <=
    Wmax), optimize_each_step (True), beta_1 (0.9, [0, 1)), beta_2 (0.999, [0, 1)), epsilon (1e-7, >= 0).
    Per connection: weight (1.0), delay (1.0 ms: NEST requires one step), receptor_type (0). Targets:
    the e-prop neurons (they keep the per-step history: ``Simulator.step_history`` steps, so two spikes
    of a source more than that apart are an error, as the history is then too short).

    Not modelled: flush events (the e-prop neurons refuse a finite flush_event_send_interval; NEST's
    default is inf; with them NEST applies gradients before the next spike, so weights read in
    between differ). Like NEST, an update uses the eta in force at the connection's previous update
    (a new eta acts from the second update after the change); a connection's first update uses the
    current eta, where NEST uses the first eta ever set (the same unless eta changes before it). Weights read after a simulate call include the spikes of its last step,
    which NEST transmits at the start of the next call.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..base import Param, RateConnection, State, Synapse, connection_params
from ..neurons.eprop import EPROP_DERIVED, EPROP_HISTORY, LEARNING_SIGNAL_EVENT
from ..registry import register
from ...errors import BadParameterError

#: NEST's optimizer types, by name (the index is the parameter ``optimizer``)
OPTIMIZERS = ("gradient_descent", "adam")


def optimizer_params(optimizer: dict) -> dict:
    """NEST's ``optimizer`` dictionary (``{"type": "adam", "eta": 1e-3, ...}``) as eprop_synapse's flat
    parameters."""
    out = dict(optimizer)
    kind = out.pop("type", None)
    if kind is not None:
        if kind not in OPTIMIZERS:
            raise BadParameterError(f"eprop_synapse: optimizer type {kind!r} is invalid; expected one of "
                                    f"{', '.join(repr(o) for o in OPTIMIZERS)}.")
        out["optimizer"] = OPTIMIZERS.index(kind)
    return out


@register
class eprop_learning_signal_connection(RateConnection):
    """Readout -> recurrent neuron feedback of the error signal (NEST: eprop_learning_signal_connection).
    See the module docstring."""

    name = "eprop_learning_signal_connection"
    rate_kind = "after_update"
    rate_event = LEARNING_SIGNAL_EVENT
    feeds = (("weight", "learning_signal"),)
    parameters = {
        "weight": Param(1.0, "1", "Feedback weight of the error signal"),
        "delay": Param(1.0, "ms", "Delay (NEST does not use it: the signal follows the min_delay slices)"),
        "receptor_type": Param(0, "1", "Receptor port of the target (0)", "int"),
    }


_SHARED = ("optimizer", "batch_size", "eta", "Wmin", "Wmax", "optimize_each_step", "beta_1", "beta_2", "epsilon")


def _step(opt, idx, g, st):
    """NEST's WeightOptimizer::optimized_weight for connections where ``go`` (st["go"]) is set:
    accumulate g, update the weight when the index reaches a new batch step."""
    go = st["go"]
    cum = jnp.where(go, st["_cum"] + g, st["_cum"])
    cur = 1 + idx // opt["batch_size"]
    due = go & (st["_opt_step"] < cur)
    cum_b = cum / opt["batch_size"].astype(cum.dtype)
    adam = opt["optimizer"] == 1
    w = st["weight"]
    # NEST uses the eta in force at the connection's previous update (its first: the current one)
    eta = jnp.where(st["_eta"] < 0.0, opt["eta"], st["_eta"])
    w_gd = w - eta * cum_b
    # adam: one iteration per batch step since the last update; the gradient is 0 after the first
    n_it = jnp.where(due & adam, cur - st["_opt_step"], 0)
    b1, b2, eps = opt["beta_1"], opt["beta_2"], opt["epsilon"]

    def body(j, c):
        w_a, m, v, p1, p2, gg = c
        on = j < n_it
        p1n, p2n = p1 * b1, p2 * b2
        alpha = eta * jnp.sqrt(1.0 - p2n) / (1.0 - p1n)
        mn = b1 * m + (1.0 - b1) * gg
        vn = b2 * v + (1.0 - b2) * gg * gg
        wn = w_a - alpha * mn / (jnp.sqrt(vn) + eps)
        return (jnp.where(on, wn, w_a), jnp.where(on, mn, m), jnp.where(on, vn, v), jnp.where(on, p1n, p1),
                jnp.where(on, p2n, p2), jnp.where(on, 0.0, gg))

    w_a, m, v, p1, p2, _ = jax.lax.fori_loop(0, jnp.max(n_it, initial=0), body,
                                             (w, st["_m"], st["_v"], st["_b1p"], st["_b2p"], cum_b))
    w_new = jnp.clip(jnp.where(adam, w_a, w_gd), opt["Wmin"], opt["Wmax"])
    return {**st, "weight": jnp.where(due, w_new, w), "_cum": jnp.where(due, 0.0, cum),
            "_opt_step": jnp.where(due, cur, st["_opt_step"]), "_m": m, "_v": v, "_b1p": p1, "_b2p": p2,
            "_eta": jnp.where(due, opt["eta"], st["_eta"])}


@register
class eprop_synapse(Synapse):
    """Synapse with e-prop plasticity and a weight optimizer (NEST: eprop_synapse). See the module
    docstring."""

    name = "eprop_synapse"
    plastic = True
    uses_step_history = EPROP_HISTORY
    reads_target_params = EPROP_DERIVED
    homogeneous = _SHARED
    #: NEST: 'eprop synapses currently require a delay of one simulation step'
    required_delay_steps = 1
    #: a transmitted spike loops over up to isi (or cutoff) history steps: update only the connections
    #: of spiking sources (NEST's example network, 100 + 100 neurons: ~6x faster than the dense path)
    event_min_synapses = 512
    parameters = {
        **connection_params(delay_doc="Dendritic delay (one simulation step)"),
        "optimizer": Param(0, "1", "Weight optimizer: 0 gradient_descent, 1 adam (NEST: optimizer type)", "int"),
        "batch_size": Param(1, "1", "Optimization batch size in steps (> 0)", "int"),
        "eta": Param(1e-4, "1", "Learning rate (>= 0)"),
        "Wmin": Param(-100.0, "weight", "Minimal weight"),
        "Wmax": Param(100.0, "weight", "Maximal weight"),
        "optimize_each_step": Param(True, "1", "Call the optimizer in every step of the gradient (else once "
                                               "per spike)", "bool"),
        "beta_1": Param(0.9, "1", "adam: decay of the first moment, in [0, 1)"),
        "beta_2": Param(0.999, "1", "adam: decay of the second moment, in [0, 1)"),
        "epsilon": Param(1e-7, "1", "adam: small constant of the denominator (>= 0)"),
    }
    connection_state = {
        "_t_prev": State("steps", 0, "Stamp of the previous presynaptic spike (0: none)"),
        "_z_prev": State("1", 0.0, "Buffered presynaptic spike (NEST's z_previous_buffer)"),
        "_z_bar": State("1", 0.0, "Low-pass filtered presynaptic spike train"),
        "_e_bar": State("1", 0.0, "Low-pass filtered eligibility trace"),
        "_e_bar_reg": State("1", 0.0, "Low-pass filtered eligibility trace of the regularisation"),
        "_epsilon": State("1", 0.0, "Adaptation eligibility vector (adapt targets)"),
        "_decay": State("steps", 0, "Steps after the cutoff still to decay"),
        "_cum": State("1", 0.0, "Optimizer: accumulated gradient"),
        "_opt_step": State("steps", 1, "Optimizer: its step"),
        "_m": State("1", 0.0, "adam: first moment"),
        "_v": State("1", 0.0, "adam: second moment"),
        "_b1p": State("1", 1.0, "adam: beta_1 power"),
        "_b2p": State("1", 1.0, "adam: beta_2 power"),
        "_eta": State("1", -1.0, "Optimizer: eta in force at its last update (-1: none yet)"),
    }

    @classmethod
    def translate(cls, given):
        """NEST's ``optimizer`` dictionary (and its type name) as the flat parameters."""
        opt = given.get("optimizer")
        if isinstance(opt, dict):
            rest = {k: v for k, v in given.items() if k != "optimizer"}
            flat = optimizer_params(opt)
            both = sorted(set(flat) & set(rest))
            if both:
                raise BadParameterError(f"{cls.name}: {both[0]!r} is given twice (in optimizer and on its own).")
            return {**rest, **flat}
        if isinstance(opt, str):
            return {**given, "optimizer": optimizer_params({"type": opt})["optimizer"]}
        return given

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        def flat(n):
            return np.asarray(params[n], float).reshape(-1)

        def bad(n, ok, expected):
            x = np.broadcast_to(flat(n), ok.shape)
            if not np.all(ok):
                raise BadParameterError(f"{cls.name}: parameter {n!r} = {x[~ok][0]} is invalid; expected {expected}.")

        opt = flat("optimizer")
        bad("optimizer", np.isin(opt, (0, 1)), "0 (gradient_descent) or 1 (adam)")
        bad("batch_size", (flat("batch_size") > 0) & (flat("batch_size") == np.round(flat("batch_size"))),
            "an integer > 0")
        bad("eta", flat("eta") >= 0, "eta >= 0")
        for n in ("beta_1", "beta_2"):
            bad(n, (flat(n) >= 0) & (flat(n) < 1), "a value in [0, 1)")
        bad("epsilon", flat("epsilon") >= 0, "epsilon >= 0")
        lo, hi = flat("Wmin"), flat("Wmax")
        bad("Wmin", lo <= hi, f"Wmin <= Wmax (Wmax = {hi[0]})")
        ww = np.asarray(w, float).reshape(-1)
        if np.any(ww < lo.min()) or np.any(ww > hi.max()):
            x = ww[(ww < lo.min()) | (ww > hi.max())][0]
            raise BadParameterError(f"{cls.name}: weight = {x} is invalid; expected Wmin <= weight <= Wmax "
                                    f"([{lo[0]}, {hi[0]}]; NEST: 'Minimal weight Wmin <= weight required').")

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        dt_ = s["weight"].dtype
        spiked = cnt > 0
        tgt = a["tgt_local"]

        def target(n):
            x = post["target"][n]
            return x[tgt] if jnp.ndim(x) else jnp.broadcast_to(x, tgt.shape)

        P_v, kappa, kappa_reg = target("P_v"), target("_eprop_kappa"), target("_eprop_kappa_reg")
        beta, P_a, cutoff = target("_eprop_beta"), target("_eprop_P_adapt"), target("_eprop_cutoff")
        opt = {n: jnp.broadcast_to(a[n], tgt.shape) for n in _SHARED}
        it = s["_t_prev"].dtype  # the run's integer type
        opt["batch_size"] = opt["batch_size"].astype(it)
        opt["optimizer"] = opt["optimizer"].astype(jnp.int32)
        each = opt["optimize_each_step"] > 0
        t_spike = jnp.asarray(k + 1).astype(it)
        t_prev = s["_t_prev"]
        go = spiked & (t_prev != 0)
        isi = t_spike - t_prev
        t_steps = jnp.where(go, jnp.minimum(cutoff, isi.astype(dt_)), 0.0).astype(it)
        t_begin = t_prev - 1
        hist = {n: post[n] for n in EPROP_HISTORY}
        L_len = hist["_e_L"].shape[1]
        st = {"weight": s["weight"], "_cum": s["_cum"], "_opt_step": s["_opt_step"].astype(it),
              "_m": s["_m"], "_v": s["_v"], "_b1p": s["_b1p"], "_b2p": s["_b2p"], "_eta": s["_eta"]}
        zp = s["_z_prev"]
        carry0 = (st, zp, jnp.ones_like(zp), s["_z_bar"], s["_e_bar"], s["_e_bar_reg"], s["_epsilon"],
                  jnp.zeros_like(zp))

        def body(j, c):
            st, zp, zc, z_bar, e_bar, e_reg, eps, grad = c
            on = go & (j < t_steps)
            t = t_begin + j
            col = ((t + 2) % L_len).astype(jnp.int32)  # entry t sits in the column of stamp t + 2
            psi, L, reg = (hist[n][tgt, col] for n in EPROP_HISTORY)
            z = zp
            zb = P_v * z_bar + z
            e = psi * (zb - beta * eps)
            eb = kappa * e_bar + e
            er = kappa_reg * e_reg + (1.0 - kappa_reg) * e
            g = L * eb + reg * er
            st_new = _step(opt, t + 1, g, {**st, "go": on & each})
            st = {n: st_new[n] for n in st}
            return (st, jnp.where(on, zc, zp), jnp.where(on, 0.0, zc), jnp.where(on, zb, z_bar),
                    jnp.where(on, eb, e_bar), jnp.where(on, er, e_reg), jnp.where(on, P_a * eps + e, eps),
                    jnp.where(on, jnp.where(each, g, grad + g), grad))

        st, zp, _, z_bar, e_bar, e_reg, eps, grad = jax.lax.fori_loop(
            0, jnp.max(t_steps, initial=0), body, carry0)
        rem = isi - t_steps
        decay = jnp.where(go, s["_decay"].astype(it) + rem, s["_decay"].astype(it))
        dec = go & (decay > 0)
        nf = decay.astype(dt_)
        z_bar = jnp.where(dec, z_bar * P_v ** nf, z_bar)
        e_bar = jnp.where(dec, e_bar * kappa ** nf, e_bar)
        e_reg = jnp.where(dec, e_reg * kappa_reg ** nf, e_reg)
        eps = jnp.where(dec, eps * P_a ** nf, eps)
        decay = jnp.where(dec, 0, decay)
        st_new = _step(opt, t_begin + isi, grad, {**st, "go": go & ~each})
        st = {n: st_new[n] for n in st}
        # the history reaches back L_len - 1 stamps: the oldest entry read must still be there
        overflow = jnp.any(go & (t_steps > 0) & (t_begin < k - L_len))
        new = {"weight": st["weight"], "_t_prev": jnp.where(spiked, t_spike, t_prev), "_z_prev": zp,
               "_z_bar": z_bar, "_e_bar": e_bar, "_e_bar_reg": e_reg, "_epsilon": eps, "_decay": decay,
               "_cum": st["_cum"], "_opt_step": st["_opt_step"], "_m": st["_m"], "_v": st["_v"],
               "_b1p": st["_b1p"], "_b2p": st["_b2p"], "_eta": st["_eta"]}
        new = {n: v.astype(s[n].dtype) for n, v in new.items()}
        return new, new["weight"], overflow
