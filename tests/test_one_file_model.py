"""Adding a model touches one file: four models defined here, in this test file, run with nestax's own.

- ``LeakyIntegrator``: a neuron (leaky integrate-and-fire, exact exponential propagator, no refractory
  period, weights in mV added to V_m at arrival, as iaf_psc_delta);
- ``GrowingSynapse``: a plastic synapse whose weight grows by ``inc`` at every transmitted spike, up to
  ``Wmax`` (the spike is delivered with the weight it had before the increment); no postsynaptic archive;
- ``RegularGenerator``: a spike source emitting one spike every ``period`` ms after ``origin + start``;
- ``RampGenerator``: a current source I(s) = slope * (s - (origin + start)) dt over its active window.

None is registered (registering would add them to the global catalog that other tests enumerate):
``sim.create`` and ``sim.connect`` take the classes themselves. Every expected value is computed here
in closed form from the engine's documented timing (a spike source's spikes of engine step k are
stamped (k + 1) dt; a spike of weight w reaches V_m at its arrival stamp; a current generator's value
of stamp s drives the target during step s + d).
"""
from __future__ import annotations

import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest

import nestax as nx
import nestax.engine.delivery
from nestax.errors import BadParameterError, UnitError, UnknownModelError
from nestax.models import registry
from nestax.models.base import (CurrentSource, Neuron, Param, ProtocolError, SpikeEmission, SpikeSource, State,
                                Synapse)
from nestax.models.devices import generators

DT = 0.1


# ------------------------------------------------------------------------------------------ models
class LeakyIntegrator(Neuron):
    """Leaky integrator with threshold and reset (a test model).

    dV_m/dt = -(V_m - E_L)/tau_m + (I_e + I_gen)/C_m, integrated exactly over each step with the
    current held constant; a spike of weight w (mV) arriving in the step adds w to V_m. If
    V_m >= V_th: V_m <- V_reset and a spike is emitted (no refractory period).
    """

    name = "demo_leaky_integrator"
    ports = ("spikes",)
    weight_unit = "mV"
    parameters = {
        "E_L": Param(-70.0, "mV", "Resting potential"),
        "C_m": Param(250.0, "pF", "Membrane capacitance"),
        "tau_m": Param(10.0, "ms", "Membrane time constant"),
        "V_th": Param(-55.0, "mV", "Spike threshold"),
        "V_reset": Param(-70.0, "mV", "Reset potential"),
        "I_e": Param(0.0, "pA", "Constant input current"),
    }
    state = {"V_m": State("mV", "E_L", "Membrane potential")}

    @classmethod
    def check(cls, p):
        cls._positive(p, "C_m", "tau_m")
        cls._reset_below_threshold(p)

    @classmethod
    def prepare(cls, p, dt):
        P22 = jnp.exp(-dt / p["tau_m"])
        return {"P22": P22, "P20": p["tau_m"] / p["C_m"] * -jnp.expm1(-dt / p["tau_m"])}

    @classmethod
    def update(cls, p, d, s, syn, I):
        v = p["E_L"] + (s["V_m"] - p["E_L"]) * d["P22"] + (I + p["I_e"]) * d["P20"] + syn[0]
        spike = v >= p["V_th"]
        return {"V_m": jnp.where(spike, p["V_reset"], v)}, spike


class GrowingSynapse(Synapse):
    """Delivers a spike with its weight, then adds ``inc`` per spike to the weight, up to ``Wmax``."""

    name = "demo_growing_synapse"
    plastic = True
    parameters = {
        "weight": Param(1.0, "1", "Initial weight, in the target's unit"),
        "delay": Param(1.0, "ms", "Transmission delay"),
        "receptor_type": Param(0, "1", "Receptor port of the target", "int"),
        "inc": Param(0.1, "weight", "Weight increment per transmitted spike"),
        "Wmax": Param(10.0, "weight", "Largest weight"),
    }
    connection_state = {"n_tx": State("1", 0, "Spikes transmitted")}

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons):
        # the engine transmits plastic synapses from neuron sources only: refuse the others
        if not sources_are_neurons:
            raise nx.ConnectionError_(f"connect: {cls.name} needs neurons as sources (use a parrot_neuron).")

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        w = s["weight"]
        grown = jnp.minimum(w + a["inc"] * cnt, a["Wmax"])
        new = {"weight": jnp.where(cnt > 0, grown, w), "n_tx": s["n_tx"] + cnt.astype(s["n_tx"].dtype)}
        return new, w, jnp.zeros((), bool)


class RegularGenerator(generators.SpikeSource):
    """One spike every ``period`` ms, at origin + start + j period (j >= 1) while <= origin + stop."""

    name = "demo_regular_generator"
    parameters = {"period": Param(1.0, "ms", "Interval between spikes"), **generators._WINDOW}

    @classmethod
    def check(cls, p):
        super().check(p)
        cls._positive(p, "period")

    @classmethod
    def host_arrays(cls, p, dt):
        h = super().host_arrays(p, dt)           # t_lo = origin + start, t_hi = origin + stop (steps)
        h["period_steps"] = np.maximum(np.round(np.asarray(p["period"], float) / dt), 1).astype(np.int64)
        return h

    @classmethod
    def emit(cls, p, h, out, k, dt, key, src):
        s = k + 1                                  # the stamp of this step's spikes
        on = (s > h["t_lo"]) & (s <= h["t_hi"]) & ((s - h["t_lo"]) % h["period_steps"] == 0)
        return SpikeEmission(jnp.where(on, 1.0, 0.0)[src])


class RampGenerator(generators.CurrentSource):
    """I(s) = slope * (s - (origin + start)) * dt at the active stamps (start <= s < stop)."""

    name = "demo_ramp_generator"
    parameters = {"slope": Param(0.0, "pA/ms", "Slope of the ramp"), **generators._WINDOW}

    @classmethod
    def amplitude(cls, p, h, s, dt):
        return p["slope"] * (s - h["t_lo"]) * dt


# ----------------------------------------------------------------------------------- helpers
def mantissa(q, unit=None):
    return np.asarray(q.to_decimal(unit) if unit is not None else u.get_mantissa(q), float)


def stamps(times):
    return np.round(mantissa(times, u.ms) / DT).astype(np.int64)


def regular_stamps(period, T, start=0.0, origin=0.0):
    """Stamps (steps) of a RegularGenerator up to T ms."""
    lo, p = round((origin + start) / DT), round(period / DT)
    return np.arange(lo + p, round(T / DT) + 1, p)


def delta_response(n_samples, arrivals, weights, E_L=-70.0, tau_m=10.0):
    """V_m at stamps 1..n_samples of a leaky membrane (no current) that jumps by w at stamp t_a."""
    t = np.arange(1, n_samples + 1)[:, None]
    ta, w = np.asarray(arrivals)[None, :], np.asarray(weights)[None, :]
    return E_L + np.sum(np.where(t >= ta, w * np.exp(-(t - ta) * DT / tau_m), 0.0), axis=1)


# ------------------------------------------------------------------------------------- tests
def test_models_are_unregistered_and_declare_their_protocol():
    for cls, kind in ((LeakyIntegrator, "neuron"), (GrowingSynapse, "synapse"),
                      (RegularGenerator, "spike_source"), (RampGenerator, "current_source")):
        assert cls.kind == kind
        with pytest.raises(UnknownModelError):
            registry.lookup(cls.name)
    # the archiving parameters every neuron gets (NEST's archiving node), added at class creation
    assert {"tau_minus", "tau_minus_triplet"} <= set(LeakyIntegrator.parameters)
    assert LeakyIntegrator.recordables() == ("V_m",)
    assert RampGenerator.recordables() == ("I",)


def test_parameter_table_drives_units_and_checks():
    sim = nx.Simulator(dt=DT)
    n = sim.create(LeakyIntegrator(tau_m=20.0 * u.ms), 2, V_th=-50.0 * u.mV)
    assert np.allclose(mantissa(sim.get(n, "tau_m"), u.ms), 20.0)
    assert np.allclose(mantissa(sim.get(n, "V_m"), u.mV), -70.0)     # starts at E_L's default
    with pytest.raises(UnitError, match="tau_m"):
        sim.create(LeakyIntegrator, tau_m=5.0 * u.mV)
    with pytest.raises(BadParameterError, match="V_reset"):
        sim.create(LeakyIntegrator, V_reset=-40.0)
    with pytest.raises(BadParameterError, match="period"):
        sim.create(RegularGenerator, period=0.0)
    with pytest.raises(nx.ConnectionError_, match="parrot"):
        sim.connect(sim.create(RegularGenerator), n, synapse_model=GrowingSynapse)


def test_missing_declarations_raise_at_class_creation():
    with pytest.raises(ProtocolError, match="weight_unit"):
        class NoWeightUnit(Neuron):
            name = "demo_no_weight_unit"

            @classmethod
            def prepare(cls, p, dt):
                return {}

            @classmethod
            def update(cls, p, d, s, syn, I):
                return s, syn[0] > 0
    with pytest.raises(ProtocolError, match="prepare, update"):
        class NoUpdate(Neuron):
            name = "demo_no_update"
            weight_unit = "mV"
    with pytest.raises(ProtocolError, match="transmit"):
        class NoTransmit(Synapse):
            name = "demo_no_transmit"
            plastic = True
            parameters = {"weight": Param(1.0)}
    with pytest.raises(ProtocolError, match="weight"):
        class NoWeight(Synapse):
            name = "demo_no_weight"
            parameters = {"delay": Param(1.0, "ms")}
    with pytest.raises(ProtocolError, match="emit"):
        class NoEmit(SpikeSource):
            name = "demo_no_emit"

            @classmethod
            def host_arrays(cls, p, dt):
                return {}
    with pytest.raises(ProtocolError, match="active"):
        class NoActive(CurrentSource):
            name = "demo_no_active"

            @classmethod
            def emit(cls, p, h, s, dt, key, src):
                return 0.0

            @classmethod
            def host_arrays(cls, p, dt):
                return {}
    with pytest.raises(ProtocolError, match="signal"):
        class BadSignal(LeakyIntegrator):
            name = "demo_bad_signal"
            signal = "analog"


def test_neuron_generators_and_static_synapse_against_closed_forms():
    """Neuron 0: I_e drives it through threshold (V_m and spike times in closed form); neuron 1: the
    regular generator through a static_synapse (jumps); neuron 2: the ramp current (exact discrete
    solution). The generators' own output: spike stamps and the recorded ramp I."""
    T = 100.0
    E_L, C_m, tau, V_th, V_reset, I_e = -70.0, 250.0, 10.0, -55.0, -65.0, 400.0
    sim = nx.Simulator(dt=DT * u.ms, seed=1)
    n = sim.create(LeakyIntegrator, 3, V_reset=V_reset * u.mV, I_e=np.array([I_e, 0.0, 0.0]) * u.pA)
    gen = sim.create(RegularGenerator, 2, period=np.array([7.0, 12.5]) * u.ms, start=np.array([2.0, 0.0]),
                     stop=np.array([60.0, 1e9]))
    ramp = sim.create(RampGenerator, slope=5.0 * u.pA / u.ms, start=5.0 * u.ms, stop=60.0 * u.ms)
    sr_gen, sr_n = sim.create(nx.spike_recorder), sim.create(nx.spike_recorder)
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=DT * u.ms)
    mm_I = sim.create(nx.multimeter, record_from=["I"], interval=DT * u.ms)
    sim.connect(gen[0], n[1], syn_spec={"synapse_model": "static_synapse", "weight": 2.0 * u.mV,
                                        "delay": 1.5 * u.ms})
    sim.connect(gen[1], n[1], weight=-3.0, delay=0.5)            # a bare number is read as mV
    sim.connect(ramp, n[2], delay=1.0 * u.ms)
    sim.connect(gen, sr_gen)
    sim.connect(n, sr_n)
    sim.connect(mm, n)
    sim.connect(mm_I, ramp)
    res = sim.simulate(T * u.ms)
    n_steps = round(T / DT)

    # the generator's spikes, recorded directly: stamps origin + start + j period
    ev = res.events(sr_gen)
    g0 = gen.tolist()[0]
    for i, (period, start) in enumerate(((7.0, 2.0), (12.5, 0.0))):
        expect = regular_stamps(period, min(T, 60.0) if i == 0 else T, start)
        np.testing.assert_array_equal(stamps(ev["times"][ev["senders"] == g0 + i]), expect)

    # neuron 0: V(t) = V_inf + (V_0 - V_inf) exp(-t/tau) between spikes, V_inf = E_L + I_e tau / C_m;
    # it fires in the first step that ends at or above V_th and restarts from V_reset
    v_inf = E_L + I_e * tau / C_m
    first = int(np.ceil(-tau * np.log(1.0 - (V_th - E_L) / (v_inf - E_L)) / DT))
    isi = int(np.ceil(-tau * np.log((v_inf - V_th) / (v_inf - V_reset)) / DT))
    spk = first + isi * np.arange(10)
    spk = spk[spk <= n_steps]
    assert list(spk) == [278, 518, 758, 998]
    ev = res.events(sr_n)
    n0 = n.tolist()[0]
    np.testing.assert_array_equal(stamps(ev["times"][ev["senders"] == n0]), spk)
    assert not np.any(ev["senders"] != n0)                       # neurons 1 and 2 stay below V_th
    t = np.arange(1, n_steps + 1)
    last = np.concatenate([[0], spk])[np.searchsorted(spk, t, side="right")]   # last reset stamp <= t
    v0 = np.where(last == 0, E_L, V_reset)
    expect0 = v_inf + (v0 - v_inf) * np.exp(-(t - last) * DT / tau)
    V = mantissa(res.trace(mm, "V_m"), u.mV)
    assert V.shape == (n_steps, 3)
    np.testing.assert_allclose(stamps(res.trace_times(mm)), t)
    np.testing.assert_allclose(V[:, 0], expect0, rtol=0, atol=1e-12)

    # neuron 1: jumps of 2 mV (delay 1.5 ms) and -3 mV (delay 0.5 ms) at the arrival stamps
    a0, a1 = regular_stamps(7.0, 60.0, 2.0) + 15, regular_stamps(12.5, T) + 5
    arrivals = np.concatenate([a0, a1])
    weights = np.concatenate([np.full(len(a0), 2.0), np.full(len(a1), -3.0)])
    arrivals, weights = arrivals[arrivals <= n_steps], weights[arrivals <= n_steps]
    np.testing.assert_allclose(V[:, 1], delta_response(n_steps, arrivals, weights), rtol=0, atol=1e-12)
    assert np.isclose(V[a0[0] - 1, 1] - V[a0[0] - 2, 1], 2.0 - (V[a0[0] - 2, 1] - E_L) * -np.expm1(-DT / tau))

    # the ramp: recorded I at stamp s is slope (s - 50) dt on 50 <= s < 600, 0 elsewhere
    I = mantissa(res.trace(mm_I, "I"), u.pA).reshape(-1)
    ramp_I = np.where((t >= 50) & (t < 600), 5.0 * (t - 50) * DT, 0.0)
    np.testing.assert_allclose(I, ramp_I, rtol=0, atol=1e-12)
    # ... and drives neuron 2 during step s + d (d = 10 steps): exact solution of the discrete system,
    # V_m(m) = E_L + sum_{j < m} P22^(m-1-j) P20 I(j - d)
    P22, P20 = np.exp(-DT / tau), tau / C_m * -np.expm1(-DT / tau)
    I_of_step = np.concatenate([np.zeros(11), ramp_I])[: n_steps]            # I(j - 10), j = 0..n-1
    m = np.arange(1, n_steps + 1)
    kernel = np.where(m[:, None] - 1 - np.arange(n_steps)[None, :] >= 0,
                      P22 ** np.maximum(m[:, None] - 1 - np.arange(n_steps)[None, :], 0), 0.0)
    expect2 = E_L + kernel @ (P20 * I_of_step)
    np.testing.assert_allclose(V[:, 2], expect2, rtol=0, atol=1e-12)
    # the ramp is 0 at its start stamp 50: V_m first moves at stamp 50 + 1 + d + 1 = 62 (row 61)
    assert V[60, 2] == E_L and V[61, 2] > E_L


@pytest.mark.parametrize("delivery", ["dense", "event"])
def test_plastic_synapse_weights_and_effect(delivery, monkeypatch):
    """Regular generators -> parrots -> GrowingSynapse -> iaf_psc_delta (and LeakyIntegrator): the
    weight after n transmitted spikes is min(w0 + n inc, Wmax), every spike moves V_m by the weight it
    had before its own increment, and the state carries over between simulate calls."""
    if delivery == "event":
        monkeypatch.setattr(nestax.engine.delivery, "EVENT_MIN_SYNAPSES", 1)
    w0, inc, wmax, d_ms = 1.0, 0.25, 3.0, 2.0
    periods = (3.0, 5.0)
    sim = nx.Simulator(dt=DT, seed=3)
    gen = sim.create(RegularGenerator, 2, period=np.array(periods))
    parrots = sim.create(nx.parrot_neuron, 2)
    post = sim.create(nx.iaf_psc_delta, 2, V_th=1e3)             # never fires
    own = sim.create(LeakyIntegrator, 1, V_th=1e3)
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=DT)
    sim.connect(gen, parrots, rule="one_to_one", delay=1.0)
    syn = {"synapse_model": GrowingSynapse, "weight": w0, "delay": d_ms, "inc": inc, "Wmax": wmax}
    sim.connect(parrots, post, syn_spec=syn)
    sim.connect(parrots, own, syn_spec={**syn, "weight": 0.5, "inc": 1.0})
    sim.connect(mm, post + own)
    V = []
    W = []
    for T in (20.0, 20.0):
        V.append(mantissa(sim.simulate(T).trace(mm, "V_m"), u.mV))
        W.append(np.asarray(sim.connections(parrots, post).weights, float))
    V = np.concatenate(V)
    n_steps = 400

    # parrot i spikes at generator stamp + 1 ms: stamps j period + 10 (j >= 1)
    p_st = [regular_stamps(pr, 40.0) + 10 for pr in periods]
    p_st = [s[s <= n_steps] for s in p_st]
    c = sim.connections(parrots, post)
    assert len(c) == 4 and set(c.synapse_models) == {GrowingSynapse.name}
    p0 = parrots.tolist()[0]
    for Wk, t_end in zip(W, (200, 400)):
        n_tx = np.array([np.sum(p_st[s - p0] <= t_end) for s in c.sources])
        np.testing.assert_allclose(Wk, np.minimum(w0 + n_tx * inc, wmax), rtol=0, atol=1e-12)
    assert sorted(set(W[0].tolist())) == [1.75, 2.5] and sorted(set(W[1].tolist())) == [2.75, 3.0]

    # V_m: every spike delivered (at stamp + 2 ms) with its weight before the increment
    for init, step, col in ((w0, inc, [0, 1]), (0.5, 1.0, [2])):
        arrivals = np.concatenate([s + round(d_ms / DT) for s in p_st])
        weights = np.concatenate([np.minimum(init + step * np.arange(len(s)), wmax) for s in p_st])
        keep = arrivals <= n_steps
        expect = delta_response(n_steps, arrivals[keep], weights[keep])
        for j in col:
            np.testing.assert_allclose(V[:, j], expect, rtol=0, atol=1e-12)
    w_own = np.asarray(sim.connections(parrots, own).weights, float)
    np.testing.assert_allclose(np.sort(w_own), [3.0, 3.0])       # 0.5 + n >= Wmax for both sources
