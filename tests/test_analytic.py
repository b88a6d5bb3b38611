"""iaf_psc_* against closed-form solutions, and property tests of the exact-integration propagators.

No NEST needed: the references are the analytic solutions of the linear ODEs
    dV/dt = -(V - E_L)/tau_m + I(t)/C_m,
with I constant (I_e, dc_generator) or a single post-synaptic current (delta, exponential, alpha kernel),
and, for the propagators, 40-digit decimal arithmetic.
"""
from __future__ import annotations

import math
from decimal import Decimal, getcontext

import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nestax as nx
from nestax.models import propagators as pr

E_L, C, TAU_M = -70.0, 250.0, 10.0


def _run(model, dt, T, params, inputs=()):
    """One neuron, multimeter at every step: (stamps in steps, V_m, I_syn_ex or None, spike stamps)."""
    sim = nx.Simulator(dt=dt * u.ms)
    n = sim.create(getattr(nx, model), 1, **params)
    for kind, p, conn in inputs:
        g = sim.create(getattr(nx, kind), **p)
        sim.connect(g, n, **conn)
    rec = ["V_m"] if model == "iaf_psc_delta" else ["V_m", "I_syn_ex"]
    mm = sim.create(nx.multimeter, record_from=rec, interval=dt)
    sr = sim.create(nx.spike_recorder)
    sim.connect(mm, n)
    sim.connect(n, sr)
    res = sim.simulate(T)
    k = np.round(np.asarray(res.trace_times(mm).to_decimal(u.ms)) / dt).astype(int)
    v = np.asarray(res.trace(mm, "V_m").to_decimal(u.mV))[:, 0]
    i = None if model == "iaf_psc_delta" else np.asarray(res.trace(mm, "I_syn_ex").to_decimal(u.pA))[:, 0]
    spikes = np.round(np.asarray(res.events(sr)["times"].to_decimal(u.ms)) / dt).astype(int)
    return k, v, i, spikes


# ------------------------------------------------------------------------------ constant current
@pytest.mark.parametrize("model", ["iaf_psc_delta", "iaf_psc_exp", "iaf_psc_alpha"])
def test_constant_current_charging_curve(model):
    """I_e acts from step 0: V(t) = E_L + R I (1 - exp(-t/tau_m)) at every sample (no threshold)."""
    dt, I = 0.1, 300.0
    k, v, _, spikes = _run(model, dt, 60.0, {"I_e": I, "V_th": 1e6})
    t = k * dt
    expected = E_L + TAU_M / C * I * (1.0 - np.exp(-t / TAU_M))
    np.testing.assert_allclose(v, expected, atol=1e-11, rtol=0)
    assert len(spikes) == 0


@pytest.mark.parametrize("model", ["iaf_psc_delta", "iaf_psc_exp", "iaf_psc_alpha"])
def test_dc_generator_window_and_delay(model):
    """A dc_generator (start 5, stop 20, delay 1.5) drives V with current during [start+d, stop+d):
    V rises as E_L + R I (1 - exp(-(t - t0)/tau_m)) from t0 = 6.5 and relaxes after 21.5 ms."""
    dt, I, start, stop, d = 0.1, 200.0, 5.0, 20.0, 1.5
    k, v, _, _ = _run(model, dt, 40.0, {"V_th": 1e6},
                      [("dc_generator", {"amplitude": I, "start": start, "stop": stop}, {"delay": d})])
    t = k * dt
    t0, t1 = start + d, stop + d
    R = TAU_M / C
    on = R * I * (1.0 - np.exp(-np.clip(t - t0, 0, None) / TAU_M))
    v1 = R * I * (1.0 - np.exp(-(t1 - t0) / TAU_M))
    expected = E_L + np.where(t <= t1, on, v1 * np.exp(-np.clip(t - t1, 0, None) / TAU_M))
    np.testing.assert_allclose(v, expected, atol=1e-11, rtol=0)
    assert v[np.searchsorted(k, round(t0 / dt))] == E_L  # first change one step after t0
    assert v[np.searchsorted(k, round(t0 / dt)) + 1] > E_L


@pytest.mark.parametrize("model", ["iaf_psc_delta", "iaf_psc_exp", "iaf_psc_alpha"])
@pytest.mark.parametrize("t_ref", [0.5, 2.0, 3.3])
def test_regular_firing_period(model, t_ref):
    """Under suprathreshold I_e from V = E_L the first spike is stamped at the first grid point at or after
    t* = -tau_m ln(1 - (V_th - E_L)/(R I)); after that V restarts from V_reset after t_ref, so every ISI is
    t_ref + the grid-rounded time from V_reset to V_th."""
    dt, I, V_th, V_reset = 0.1, 500.0, -55.0, -65.0
    k, v, _, spikes = _run(model, dt, 60.0, {"I_e": I, "t_ref": t_ref, "V_reset": V_reset})
    R = TAU_M / C
    t_first = -TAU_M * math.log(1.0 - (V_th - E_L) / (R * I))
    assert spikes[0] == math.ceil(t_first / dt - 1e-9)
    t_climb = -TAU_M * math.log((R * I - (V_th - E_L)) / (R * I - (V_reset - E_L)))
    isi = round(t_ref / dt) + math.ceil(t_climb / dt - 1e-9)
    assert len(spikes) >= 4
    np.testing.assert_array_equal(np.diff(spikes), isi)


# ------------------------------------------------------------------------------ single PSPs
def _psp_exp(s, w, tau_s, tau_m=TAU_M, c=C):
    """V - E_L after an exponential current w exp(-s/tau_s) starting at s = 0."""
    if tau_s == tau_m:
        return w / c * s * np.exp(-s / tau_m)
    a = 1.0 / tau_s - 1.0 / tau_m
    return w / c * np.exp(-s / tau_m) * (-np.expm1(-a * s)) / a


def _psp_alpha(s, w, tau_s, tau_m=TAU_M, c=C):
    """V - E_L after the alpha current w (s/tau_s) exp(1 - s/tau_s)."""
    amp = w * np.e / (tau_s * c)
    if tau_s == tau_m:
        return amp * np.exp(-s / tau_m) * s * s / 2.0
    a = 1.0 / tau_s - 1.0 / tau_m
    return amp * np.exp(-s / tau_m) * (1.0 - np.exp(-a * s) * (1.0 + a * s)) / a ** 2


@pytest.mark.parametrize("dt", [0.1, 0.01])
@pytest.mark.parametrize("model,tau_s", [("iaf_psc_exp", 2.0), ("iaf_psc_exp", 10.0), ("iaf_psc_alpha", 2.0),
                                         ("iaf_psc_alpha", 10.0), ("iaf_psc_delta", None)])
def test_single_psp_shape(model, tau_s, dt):
    """One spike (t = 2 ms, delay 1.3 ms, arrival t_a = 3.3 ms): the recorded current and V_m follow the
    kernel's closed form from t_a on, and nothing moves before."""
    w = 4.0 if model == "iaf_psc_delta" else 350.0
    params = {"V_th": 1e6}
    if tau_s is not None:
        params.update(tau_syn_ex=tau_s)
    k, v, i, _ = _run(model, dt, 30.0, params,
                      [("spike_generator", {"spike_times": [2.0]}, {"weight": w, "delay": 1.3})])
    t_a = 3.3
    s = k * dt - t_a
    after = s > -1e-9
    s = np.clip(s, 0.0, None)
    if model == "iaf_psc_delta":
        expected_v = E_L + np.where(after, w * np.exp(-s / TAU_M), 0.0)
    elif model == "iaf_psc_exp":
        expected_v = E_L + np.where(after, _psp_exp(s, w, tau_s), 0.0)
        np.testing.assert_allclose(i, np.where(after, w * np.exp(-s / tau_s), 0.0), atol=1e-10, rtol=0)
    else:
        expected_v = E_L + np.where(after, _psp_alpha(s, w, tau_s), 0.0)
        np.testing.assert_allclose(i, np.where(after, w * s / tau_s * np.exp(1.0 - s / tau_s), 0.0),
                                   atol=1e-10, rtol=0)
        # the current peaks at w, tau_syn after arrival
        j = int(np.argmax(i))
        assert k[j] == round((t_a + tau_s) / dt) and i[j] == pytest.approx(w, rel=1e-12)
    np.testing.assert_allclose(v, expected_v, atol=1e-11, rtol=0)
    assert np.all(v[~after] == E_L)


# ------------------------------------------------------------------------------ propagators
getcontext().prec = 40


def _D(x):
    return Decimal(float(x))


def _ref_exp(tau_s, tau_m, c, h):
    """P_exp = (1/C) int_0^h exp(-(h-x)/tau_m) exp(-x/tau_s) dx, in 40-digit arithmetic."""
    ts, tm, c, h = _D(tau_s), _D(tau_m), _D(c), _D(h)
    a = 1 / ts - 1 / tm
    em = (-h / tm).exp()
    if a == 0:
        return float(em * h / c)
    return float(em / c * (1 - (-a * h).exp()) / a)


def _ref_alpha(tau_s, tau_m, c, h):
    """P_alpha = (1/C) int_0^h exp(-(h-x)/tau_m) x exp(-x/tau_s) dx, in 40-digit arithmetic."""
    ts, tm, c, h = _D(tau_s), _D(tau_m), _D(c), _D(h)
    a = 1 / ts - 1 / tm
    em = (-h / tm).exp()
    if a == 0:
        return float(em * h * h / 2 / c)
    if abs(a * h) < Decimal("1e-6"):  # series: avoids 40-digit cancellation for tiny a h
        x = a * h
        return float(em * h * h / c * (Decimal(1) / 2 - x / 3 + x * x / 8 - x * x * x / 30))
    return float(em / c * (1 - (-a * h).exp() * (1 + a * h)) / (a * a))


taus = st.floats(0.05, 200.0)
steps = st.sampled_from([0.001, 0.01, 0.1, 0.125, 0.5, 1.0, 2.0])
caps = st.floats(1.0, 1000.0)
# relative offsets of tau_syn from tau_m, down to the singular case and below double precision
offsets = st.one_of(st.just(0.0), st.floats(-1e-3, 1e-3), st.sampled_from([1e-15, -1e-12, 1e-9, -1e-9, 1e-7, 1e-5]))


def _f(x):
    return float(np.asarray(x))


@settings(max_examples=150, deadline=None)
@given(tau_m=taus, rel=offsets, c=caps, h=steps)
def test_propagators_accurate_near_singularity(tau_m, rel, c, h):
    """Near tau_syn = tau_m both propagators stay accurate to rounding (no cancellation blow-up)."""
    tau_s = tau_m * (1.0 + rel)
    p_exp = _f(pr.psc_exp_to_v(tau_s, tau_m, c, h))
    p_alpha = _f(pr.psc_alpha_to_v_exact(tau_s, tau_m, c, h))
    assert p_exp == pytest.approx(_ref_exp(tau_s, tau_m, c, h), rel=1e-13, abs=1e-300)
    assert p_alpha == pytest.approx(_ref_alpha(tau_s, tau_m, c, h), rel=1e-12, abs=1e-300)


@settings(max_examples=150, deadline=None)
@given(tau_s=taus, tau_m=taus, c=caps, h=steps)
def test_propagators_accurate_everywhere(tau_s, tau_m, c, h):
    p_exp = _f(pr.psc_exp_to_v(tau_s, tau_m, c, h))
    p_alpha = _f(pr.psc_alpha_to_v_exact(tau_s, tau_m, c, h))
    assert p_exp == pytest.approx(_ref_exp(tau_s, tau_m, c, h), rel=1e-12, abs=1e-300)
    assert p_alpha == pytest.approx(_ref_alpha(tau_s, tau_m, c, h), rel=1e-11, abs=1e-300)
    # bounds: the kernels are at most 1 (exp) and x (alpha), the membrane factor at most 1
    assert 0.0 <= p_exp <= h / c * (1 + 1e-15)
    assert 0.0 <= p_alpha <= h * h / (2 * c) * (1 + 1e-15)


@settings(max_examples=100, deadline=None)
@given(tau_m=taus, rel=offsets, c=caps, h=steps)
def test_nest_branch_of_alpha_propagator(tau_m, rel, c, h):
    """psc_alpha_to_v follows NEST: the singular limit while h <= 1e-7 tau_m^2/|tau_m - tau_syn|, the exact
    value beyond; either way within a relative 1e-7 of the exact propagator."""
    tau_s = tau_m * (1.0 + rel)
    got = _f(pr.psc_alpha_to_v(tau_s, tau_m, c, h))
    exact = _ref_alpha(tau_s, tau_m, c, h)
    singular = 0.5 * h * h / c * math.exp(-h / tau_m)
    if h * abs(tau_m - tau_s) <= 1e-7 * tau_m * tau_m:
        assert got == pytest.approx(singular, rel=1e-15)
    else:
        assert got == pytest.approx(exact, rel=1e-12)
    assert got == pytest.approx(exact, rel=1e-7)


@settings(max_examples=100, deadline=None)
@given(tau_s=taus, tau_m=taus, c=caps, h=st.sampled_from([0.01, 0.1, 0.25, 1.0]))
def test_exact_integration_composes(tau_s, tau_m, c, h):
    """Exact integration: two steps of h equal one step of 2h (semigroup property of the propagator
    matrix [[P11, 0], [P21, P22]] of the (I_syn, V) system)."""
    p11, p22 = math.exp(-h / tau_s), math.exp(-h / tau_m)
    p21 = _f(pr.psc_exp_to_v(tau_s, tau_m, c, h))
    two = _f(pr.psc_exp_to_v(tau_s, tau_m, c, 2 * h))
    assert two == pytest.approx(p21 * p11 + p22 * p21, rel=1e-12)
    lk = _f(pr.leak_to_v(tau_m, c, h))
    assert _f(pr.leak_to_v(tau_m, c, 2 * h)) == pytest.approx(lk + p22 * lk, rel=1e-12)


def test_propagator_limits():
    c, h = 250.0, 0.1
    # tau_syn -> tau_m: continuous, the limits h/C e^{-h/tau_m} and h^2/(2C) e^{-h/tau_m}
    for tm in (0.3, 10.0, 1e3):
        lim_e = h / c * math.exp(-h / tm)
        lim_a = h * h / (2 * c) * math.exp(-h / tm)
        for ts in (tm, tm * (1 + 1e-12), tm * (1 - 1e-8)):
            assert _f(pr.psc_exp_to_v(ts, tm, c, h)) == pytest.approx(lim_e, rel=1e-7)
            assert _f(pr.psc_alpha_to_v_exact(ts, tm, c, h)) == pytest.approx(lim_a, rel=1e-7)
    # tau_m -> infinity: a perfect integrator, leak_to_v -> h/C
    assert _f(pr.leak_to_v(1e12, c, h)) == pytest.approx(h / c, rel=1e-12)
    # tau_syn -> 0: the current is gone within the step, P_exp -> tau_syn/C e^{-h/tau_m}
    assert _f(pr.psc_exp_to_v(1e-9, 10.0, c, h)) == pytest.approx(1e-9 / c * math.exp(-h / 10.0), rel=1e-6)
    # arrays work elementwise, and the singular case gives no NaN under jit-friendly where()
    ts = jnp.array([10.0, 10.0 * (1 + 1e-9), 2.0])
    out = np.asarray(pr.psc_alpha_to_v(ts, 10.0, c, h))
    assert np.all(np.isfinite(out)) and out.shape == (3,)


@pytest.mark.parametrize("t_ref,h,steps_", [(2.0, 0.1, 20), (3.3, 0.1, 33), (0.5, 0.1, 5), (0.0, 0.1, 0),
                                            (0.21, 0.1, 3), (0.25, 0.1, 3), (0.2004, 0.1, 2), (0.2005, 0.1, 3),
                                            (2.0, 0.01, 200), (0.015, 0.01, 2), (1.0, 0.125, 8), (1.01, 0.125, 9)])
def test_refractory_steps_as_nest(t_ref, h, steps_):
    """NEST rounds t_ref to tics (0.001 ms, half up), then the tics UP to whole steps."""
    assert int(np.asarray(pr.refractory_steps(t_ref, h))) == steps_


@settings(max_examples=100, deadline=None)
@given(t_ref=st.floats(0.0, 100.0), h=st.sampled_from([0.01, 0.1, 0.125, 0.2, 1.0]))
def test_refractory_steps_cover_t_ref(t_ref, h):
    n = int(np.asarray(pr.refractory_steps(t_ref, h)))
    tics = math.floor(t_ref * 1000 + 0.5)
    tps = round(h * 1000)
    assert n * tps >= tics > (n - 1) * tps or (n == 0 and tics == 0)
