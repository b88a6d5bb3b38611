"""stdp_dopamine_synapse and volume_transmitter: dopamine-modulated STDP (Izhikevich 2007, Potjans
et al. 2010; NEST: stdp_dopamine_synapse, volume_transmitter).

A volume_transmitter collects the spikes of the dopaminergic neurons connected to it
(``sim.connect(dopa, vt)``); each arrives at its spike time plus the connection's delay. The
synapses attached to it (``sim.set_defaults("stdp_dopamine_synapse", volume_transmitter=vt)``, or a
copy of the model, as in NEST; or ``volume_transmitter=vt`` in the synapse spec) read that
dopamine spike train.

Per connection: weight w, eligibility trace c, dopamine trace n, presynaptic trace K_plus, and the
time t_last of its last update. Between events, with tau_s = tau_c tau_n / (tau_c + tau_n),

    dc/dt = -c / tau_c,   dn/dt = -n / tau_n + sum_dopa m / tau_n delta(t - t_d),
    dw/dt = c (n - b),    clipped to [Wmin, Wmax] at the end of every propagated interval.

Events (NEST's order and arithmetic): a postsynaptic spike t_post (seen at t_post + d) adds
A_plus K_plus(t_post + d) to c; a presynaptic spike at t_pre subtracts A_minus K_minus(t_pre - d)
from c (the target's trace, as in stdp_synapse), is delivered with the current weight, and then
K_plus <- K_plus exp((t_last - t_pre) / tau_plus) + 1, t_last <- t_pre. w and c are propagated from
event to event through the dopamine spikes in between.

NEST's schedule, which decides the numbers and which nestax follows exactly: the simulation runs in
slices of min_delay steps (the shortest delay of the network). At the end of every
deliver_interval-th slice the volume transmitter propagates all its synapses to that time t_trig
(facilitation by the post spikes since t_last, dopamine spikes, K_plus and n decayed to t_trig;
t_last <- t_trig) and restarts its dopamine list at t_trig. Presynaptic spikes are transmitted at the
end of the slice they were sent in, after that update (NEST delivers them at the start of the next
slice), so a synapse may be propagated back from t_trig to the spike. Weights read after a run lag
the presynaptic spikes of its last slice (NEST: GetConnections after Simulate, the same).

Parameters shared by all connections of the model (NEST's common properties; ``homogeneous``):
A_plus (1), A_minus (1.5), tau_plus (20 ms), tau_c (1000 ms), tau_n (200 ms), b (0), Wmin (0),
Wmax (200), in the weight's unit for Wmin / Wmax, and the volume_transmitter. Per connection: weight
(1), delay (1 ms), receptor_type (0), and the initial c (0), n (0) and Kplus (0).

volume_transmitter parameter: deliver_interval (1, in slices of min_delay).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..base import Neuron, Param, State, Synapse, connection_params
from ..registry import register
from ...engine.archive import ms
from ...errors import BadParameterError
from .stdp_variants import _Window


@register
class volume_transmitter(Neuron):
    """Collects the spikes of dopaminergic neurons for the stdp_dopamine_synapses attached to it."""

    name = "volume_transmitter"
    kind = "neuron"
    ports = ("spikes",)
    parameters = {"deliver_interval": Param(1, "1", "Update interval of the attached synapses, in slices of "
                                                    "min_delay", "int")}
    state = {"_arrived": State("1", 0.0, "Multiplicity of the dopamine spikes arriving in this step")}
    counts_input = True
    weight_unit = "any"
    archiving = False
    sends_spikes = False  # NEST: a volume_transmitter is no source of connections or recordings
    attach_as = "volume_transmitter"
    #: the engine keeps a modulator history of this node from this state variable
    modulator_state = "_arrived"
    modulator_interval = "deliver_interval"

    @classmethod
    def recordables(cls):
        return ()

    @classmethod
    def receptor_range(cls, p):
        return (0, 0)

    @classmethod
    def check(cls, p):
        di = np.asarray(p["deliver_interval"], float)
        cls._require(p, "deliver_interval", (di >= 1) & (di == np.round(di)), "an integer >= 1")

    @classmethod
    def prepare(cls, p, dt):
        return {}

    @classmethod
    def update(cls, p, d, s, syn, I):
        return {"_arrived": syn[0]}, jnp.zeros(syn.shape[1], jnp.int32)


_SHARED = ("A_plus", "A_minus", "tau_plus", "tau_c", "tau_n", "b", "Wmin", "Wmax")


@register
class stdp_dopamine_synapse(Synapse):
    """Dopamine-modulated STDP through a volume_transmitter."""

    name = "stdp_dopamine_synapse"
    plastic = True
    uses_post_archive = True
    uses_modulator = True
    parameters = {
        **connection_params(delay_doc="Transmission delay (all of it dendritic)"),
        "A_plus": Param(1.0, "1", "Amplitude of the eligibility increase by a pre-post pairing"),
        "A_minus": Param(1.5, "1", "Amplitude of the eligibility decrease by a post-pre pairing"),
        "tau_plus": Param(20.0, "ms", "Time constant of the presynaptic trace K_plus"),
        "tau_c": Param(1000.0, "ms", "Time constant of the eligibility trace c"),
        "tau_n": Param(200.0, "ms", "Time constant of the dopamine trace n"),
        "b": Param(0.0, "1", "Dopaminergic baseline concentration"),
        "Wmin": Param(0.0, "weight", "Minimal weight"),
        "Wmax": Param(200.0, "weight", "Maximal weight"),
        "c": Param(0.0, "1", "Initial eligibility trace"),
        "n": Param(0.0, "1", "Initial dopamine trace"),
        "Kplus": Param(0.0, "1", "Initial presynaptic trace"),
    }
    homogeneous = _SHARED
    connection_state = {
        "Kplus": State("1", 0.0, "Presynaptic trace K_plus"),
        "c": State("1", 0.0, "Eligibility trace"),
        "n": State("1", 0.0, "Dopamine trace"),
        "_t_last": State("steps", 0, "Stamp of the last update (presynaptic spike or volume-transmitter update)"),
        "_dopa": State("1", 0, "Index of the last dopamine spike processed in the volume transmitter's list"),
    }

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        for name in ("tau_plus", "tau_c", "tau_n"):
            if np.any(np.asarray(params[name]) <= 0):
                raise BadParameterError(f"{cls.name}: parameter {name!r} = {float(np.min(params[name]))} ms is "
                                        "invalid; expected a value > 0 ms.")
        if np.any(np.asarray(params["Kplus"]) < 0):
            raise BadParameterError(f"{cls.name}: parameter 'Kplus' = {float(np.min(params['Kplus']))} is invalid; "
                                    "expected a value >= 0 (NEST: 'Kplus must be non-negative').")
        if np.any(np.asarray(params["Wmin"]) > np.asarray(params["Wmax"])):
            raise BadParameterError(f"{cls.name}: Wmin = {float(np.max(params['Wmin']))} is above Wmax = "
                                    f"{float(np.min(params['Wmax']))}; expected Wmin <= Wmax.")

    # ---- the dynamics (elementwise over connections) --------------------------------------------
    @staticmethod
    def _weight(a, w, c0, n0, minus_dt):
        taus = (a["tau_c"] + a["tau_n"]) / (a["tau_c"] * a["tau_n"])
        w = w - c0 * (n0 / taus * jnp.expm1(taus * minus_dt) - a["b"] * a["tau_c"] * jnp.expm1(minus_dt / a["tau_c"]))
        return jnp.clip(w, a["Wmin"], a["Wmax"])

    @classmethod
    def _propagate(cls, a, st, mod, t0, t1, active, tps):
        """NEST's process_dopa_spikes_: w from t0 to t1 (ms) through the dopamine spikes in (t0, t1],
        and c decayed to t1; where ``active``."""
        w, c, n, idx = st["weight"], st["c"], st["n"], st["_dopa"]
        dt_ = w.dtype
        times = ms(mod["t"][a["vt_local"]], tps, dt_)        # (n_syn, H)
        mult = mod["m"][a["vt_local"]].astype(dt_)
        count = mod["count"][a["vt_local"]]

        def at(x, i):
            return jnp.take_along_axis(x, jnp.minimum(i, x.shape[1] - 1)[:, None], axis=1)[:, 0]

        def body(j, carry):
            w, n, idx, ta = carry
            nxt = idx + 1
            tb = at(times, nxt)
            go = active & (count > nxt) & (t1 - tb > -1e-6)
            c_a = c * jnp.exp((t0 - ta) / a["tau_c"])
            n_a = n * jnp.exp((at(times, idx) - ta) / a["tau_n"])
            w = jnp.where(go, cls._weight(a, w, c_a, n_a, ta - tb), w)
            n = jnp.where(go, n * jnp.exp((at(times, idx) - tb) / a["tau_n"]) + at(mult, nxt) / a["tau_n"], n)
            return w, n, jnp.where(go, nxt, idx), jnp.where(go, tb, ta)

        w, n, idx, ta = jax.lax.fori_loop(0, jnp.max(count, initial=1), body, (w, n, idx, t0))
        c_a = c * jnp.exp((t0 - ta) / a["tau_c"])
        n_a = n * jnp.exp((at(times, idx) - ta) / a["tau_n"])
        w = jnp.where(active, cls._weight(a, w, c_a, n_a, ta - t1), w)
        c = jnp.where(active, c * jnp.exp((t0 - t1) / a["tau_c"]), c)
        return {**st, "weight": w, "c": c, "n": n, "_dopa": idx}

    @classmethod
    def _facilitate_window(cls, a, st, mod, win, tps, strict):
        """The post spikes of the window in time order: propagate to each (seen at t_post + d) and add
        A_plus K_plus(t_post + d) to c (``strict``: not for a post spike at the presynaptic time).
        Returns (state, t0: the time propagated to)."""
        t0 = win.tl_ms

        def body(j, carry):
            st, t0 = carry
            p = win.lo + j
            inw = win.spiked & (p < win.hi)
            t_post = win.entry_ms(p) + win.d_ms
            st = cls._propagate(a, st, mod, t0, t_post, inw, tps)
            kp = st["Kplus"] * jnp.exp(win.minus_dt(p) / a["tau_plus"])
            ok = inw & ((win.tpre_ms - win.entry_ms(p) > 1e-6) if strict else True)
            st = {**st, "c": jnp.where(ok, st["c"] + a["A_plus"] * kp, st["c"])}
            return st, jnp.where(inw, t_post, t0)

        return jax.lax.fori_loop(0, win.n_steps(), body, (st, t0))

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step, mod=None):
        """A presynaptic spike (stamp k + 1) through the connections with ``cnt`` 1 (NEST's send)."""
        win = _Window(a, s, post, cnt, k, tics_per_step)
        st, t0 = cls._facilitate_window(a, s, mod, win, tics_per_step, strict=True)
        st = cls._propagate(a, st, mod, t0, win.tpre_ms, win.spiked, tics_per_step)
        c = jnp.where(win.spiked, st["c"] - a["A_minus"] * win.K_value(), st["c"])
        kplus = jnp.where(win.spiked, st["Kplus"] * jnp.exp((win.tl_ms - win.tpre_ms) / a["tau_plus"]) + 1.0,
                          st["Kplus"])
        t_last = jnp.where(win.spiked, win.t_pre, s["_t_last"])
        st = {**st, "c": c, "Kplus": kplus, "_t_last": t_last.astype(s["_t_last"].dtype)}
        return st, st["weight"], win.overflow(True)

    @classmethod
    def trigger(cls, a, s, post, mod, k_trig, tics_per_step):
        """The volume transmitter's update of every connection to stamp ``k_trig`` (NEST's
        trigger_update_weight): facilitation by the post spikes since the last update, the dopamine
        spikes, and the traces decayed to t_trig."""
        one = jnp.ones_like(s["_t_last"])
        win = _Window(a, s, post, one, k_trig - 1, tics_per_step)
        st, t0 = cls._facilitate_window(a, s, mod, win, tics_per_step, strict=False)
        st = cls._propagate(a, st, mod, t0, win.tpre_ms, win.spiked, tics_per_step)
        times = ms(mod["t"][a["vt_local"]], tics_per_step, s["weight"].dtype)
        t_idx = jnp.take_along_axis(times, jnp.minimum(st["_dopa"], times.shape[1] - 1)[:, None], axis=1)[:, 0]
        n = st["n"] * jnp.exp((t_idx - win.tpre_ms) / a["tau_n"])
        kplus = st["Kplus"] * jnp.exp((win.tl_ms - win.tpre_ms) / a["tau_plus"])
        return {**st, "n": n, "Kplus": kplus, "_t_last": jnp.full_like(s["_t_last"], k_trig),
                "_dopa": jnp.zeros_like(st["_dopa"])}, win.overflow(True)
