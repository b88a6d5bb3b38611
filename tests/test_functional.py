"""nx.functional: neuron models as plain functions give the Simulator's numbers.

For a representative set of models (current- and conductance-based, adaptive, Hodgkin-Huxley,
Izhikevich, stochastic gif_psc_exp, ht_neuron's receptors, a multisynapse model) the same experiment
runs in a Simulator (dc_generator and spike_generator inputs, a multimeter at interval dt, a spike
recorder) and through ``nx.functional.run`` with the inputs written out by the documented convention;
the traces agree to 1e-12 and the spikes exactly. Then: jit / vmap / jacfwd, and the clear errors.
"""
from __future__ import annotations

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nestax as nx

F = nx.functional
DT = 0.1

# model -> (parameters per neuron, dc inputs (amplitude, delay ms, receptor), spike inputs
# (times, weight, delay ms, receptor), state given to create, steps, spikes expected)
CASES = {
    "iaf_psc_alpha": (dict(I_e=[300.0, 390.0], tau_syn_ex=[0.5, 2.0]),
                      [(80.0, 1.0, 0)], [([2.0, 5.3, 5.3, 11.1], 120.0, 1.5, 0), ([7.0, 13.2], -80.0, 0.1, 0)],
                      dict(V_m=[-65.0, -60.0]), 600, True),
    "iaf_psc_exp": (dict(I_e=[380.0, 420.0]),
                    [(30.0, 0.1, 0), (50.0, 0.5, 1)], [([1.0, 4.4, 9.9], 200.0, 1.0, 0), ([3.0], -150.0, 0.2, 0)],
                    {}, 600, True),
    "iaf_psc_delta": (dict(I_e=[360.0, 400.0], t_ref=[2.0, 0.5]),
                      [(20.0, 0.3, 0)], [([1.0, 2.0, 3.0, 20.0], 2.5, 1.0, 0), ([6.0], -1.0, 0.1, 0)],
                      {}, 600, True),
    "iaf_cond_exp": (dict(I_e=[400.0, 500.0]),
                     [(10.0, 0.2, 0)], [([1.0, 1.5, 8.0], 15.0, 1.0, 0), ([4.0, 12.0], -10.0, 0.5, 0)],
                     {}, 500, True),
    "aeif_cond_alpha": (dict(I_e=[600.0, 800.0], a=[4.0, 2.0]),
                        [(50.0, 0.1, 0)], [([2.0, 6.0], 20.0, 1.0, 0), ([9.0], -15.0, 0.3, 0)],
                        {}, 600, True),
    "hh_psc_alpha": (dict(I_e=[600.0, 700.0]),
                     [(30.0, 0.1, 0)], [([3.0, 3.5], 150.0, 1.0, 0), ([15.0], -100.0, 0.4, 0)],
                     {}, 400, True),
    "izhikevich": (dict(I_e=[8.0, 12.0], d=[8.0, 2.0]),
                   [(2.0, 0.1, 0)], [([5.0, 10.0, 10.0], 3.0, 1.0, 0), ([20.0], -2.0, 0.2, 0)],
                   dict(V_m=[-70.0, -65.0]), 500, True),
    "gif_psc_exp": (dict(I_e=[150.0, 200.0], lambda_0=[2.0, 5.0]),
                    [(20.0, 0.1, 0)], [([3.0, 7.7], 60.0, 1.0, 0), ([11.0], -40.0, 0.3, 0)],
                    {}, 1000, True),
    "ht_neuron": (dict(),
                  [(300.0, 0.1, 0)],
                  [([2.0, 8.0], 4.0, 1.0, 1), ([4.0], 3.0, 0.5, 2), ([10.0], 2.0, 0.1, 3), ([12.0], 1.5, 0.7, 4)],
                  {}, 300, None),
    "iaf_psc_exp_multisynapse": (dict(tau_syn=[2.0, 5.0, 0.7], I_e=[374.0, 390.0]),
                                 [(40.0, 0.1, 0)],
                                 [([1.0, 6.0], 300.0, 1.0, 1), ([3.0], -200.0, 0.4, 2), ([7.0, 7.0], 250.0, 0.1, 3)],
                                 {}, 500, True),
    # precise spike times (the spikes' offsets within the step are compared too)
    "iaf_psc_exp_ps": (dict(I_e=[380.0, 420.0]),
                       [(30.0, 0.1, 0)], [([1.0, 4.4], 200.0, 1.0, 0), ([3.0], -150.0, 0.2, 0)],
                       {}, 500, True),
    # a recordable that shows the next step's input (glif's I), receptor ports of a glif model
    "glif_psc": (dict(), [(300.0, 0.1, 0)], [([1.0, 4.4], 200.0, 1.0, 1), ([6.0], -100.0, 0.3, 1)], {}, 500, True),
    # current generators on receptors > 0 (current_ports), compartments
    "iaf_cond_alpha_mc": (dict(), [(400.0, 0.1, 7), (100.0, 0.2, 8)], [([2.0, 6.0], 20.0, 1.0, 1)], {}, 500, True),
    # a state whose shape depends on the resolution (fit_state), stochastic
    "gif_pop_psc_exp": (dict(N=[200, 500]), [(10.0, 0.1, 0)], [([2.0, 6.0], 20.0, 1.0, 0)], {}, 300, None),
    # a stochastic rate neuron (its emit at the start of every step, its noise from the key)
    "tanh_rate_ipn": (dict(mu=[1.0, 2.0], sigma=[0.5, 1.0]), [], [], {}, 300, None),
}
SEED = 7


def _simulate(name, pv, dcs, spikes, state, T):
    sim = nx.Simulator(dt=DT, seed=SEED)
    pop = sim.create(name, 2, **pv, **state)
    for amp, delay, rec in dcs:
        dc = sim.create("dc_generator", amplitude=amp)
        sim.connect(dc, pop, delay=delay, receptor_type=rec)
    for times, w, delay, rec in spikes:
        sg = sim.create("spike_generator", spike_times=times)
        sim.connect(sg, pop, weight=w, delay=delay, receptor_type=rec)
    rec = tuple(getattr(nx, name).recordables())
    mm = sim.create("multimeter", record_from=list(rec), interval=DT)
    sim.connect(mm, pop)
    sr = None
    if getattr(nx, name).signal == "spike":
        sr = sim.create("spike_recorder")
        sim.connect(pop, sr)
    res = sim.simulate(T * DT)
    # in NEST's unit of each recordable (the Result attaches it; the mantissa is the NEST value)
    traces = {v: np.asarray(getattr(res.trace(mm, v), "mantissa", res.trace(mm, v)), float) for v in rec}
    return res, mm, sr, traces


def _inputs(model, p, dcs, spikes, T):
    """The functional inputs of the same experiment, by the documented convention."""
    inp = {}
    cmap = model.current_port_map(p._host.host)
    for amp, delay, rec in dcs:  # a dc_generator from time 0: its value at s dt reaches step s + delay / dt
        key = "I" if rec == 0 else cmap[rec]
        x = inp.setdefault(key, np.zeros(T))
        x[1 + int(round(delay / DT)):] += amp
    for times, w, delay, rec in spikes:  # a spike at t through delay d lands in step round((t + d) / dt) - 1
        for port, val in F.route(model, p, w, rec).items():
            x = inp.setdefault(port, np.zeros(T))
            for t in times:
                x[int(round((t + delay) / DT)) - 1] += val
    return inp


@pytest.mark.parametrize("name", sorted(CASES))
def test_plain_function_trajectory_equals_the_simulator(name):
    pv, dcs, spikes, state, T, spiking = CASES[name]
    model = getattr(nx, name)
    res, mm, sr, traces = _simulate(name, pv, dcs, spikes, state, T)
    p = F.params(model, n=2, dt=DT, **pv)
    s0 = F.init(model, p, **state)
    key = F.simulator_key(SEED, 1) if model.stochastic else None
    # T + 1 rows: the last is the input of the step after the run (read by next-input recordables)
    out = jax.jit(lambda p, s, inp: F.run(model, p, s, inp, dt=DT, steps=T, key=key))(
        p, s0, _inputs(model, p, dcs, spikes, T + 1))
    assert np.allclose(res.trace_times(mm).to_decimal(u.ms), DT * np.arange(1, T + 1))
    for v, x in traces.items():
        got = np.asarray(out.record[v])
        assert got.shape == x.shape == (T, 2), v
        np.testing.assert_allclose(got, x, rtol=1e-12, atol=1e-12, err_msg=f"{name}.{v}")
    if sr is None:  # a rate neuron: its output is the recorded rate
        assert np.std(traces["rate"]) > 0
        return
    # spikes: row k of the run is step k (stamp k + 1); the Result's row r is stamp r
    sim_spk = res.spikes(sr)
    assert sim_spk[0].sum() == 0
    spk = out.spikes
    if model.precise:  # (counts, offsets), (T, n, M) each: spike time (k + 1) dt - offset
        counts, offsets = (np.asarray(x) for x in spk)
        k, i, j = np.nonzero(counts)
        ev = res.events(sr)
        order = np.lexsort((ev["times"].to_decimal(u.ms), ev["senders"]))
        mine = np.lexsort(((k + 1) * DT - offsets[k, i, j], i))
        np.testing.assert_array_equal(i[mine] + 1, ev["senders"][order])
        np.testing.assert_allclose(((k + 1) * DT - offsets[k, i, j])[mine], ev["times"].to_decimal(u.ms)[order],
                                   rtol=0, atol=1e-12)
        spk = counts.sum(-1)
    np.testing.assert_array_equal(np.asarray(spk)[:-1], sim_spk[1:])
    if spiking:
        assert sim_spk.sum() >= 2, "the experiment should make the neurons spike"
    # the final state is the Simulator's
    for v in [v for v in traces if v.startswith("V_m")]:
        np.testing.assert_allclose(np.asarray(model.observe(p, out.state, v)), traces[v][-1], rtol=1e-12, atol=1e-12)


def test_step_by_step_equals_run_and_vmap_over_a_parameter_equals_separate_runs():
    model = nx.iaf_psc_alpha
    p = F.params(model, I_e=370.0 * u.pA)
    s0 = F.init(model, p, V_m=-68.0 * u.mV)
    T = 300
    inp = {"ex": np.where(np.arange(T) % 37 == 5, 40.0, 0.0), "I": np.full(T, 5.0)}
    out = F.run(model, p, s0, inp, dt=DT)
    step = jax.jit(lambda s, x: F.step(model, p, s, x, dt=DT))
    s = s0
    for k in range(T):
        s, spk = step(s, {"ex": inp["ex"][k], "I": inp["I"][k]})
        assert int(spk[0]) == int(out.spikes[k, 0])
        assert abs(float(model.observe(p, s, "V_m")[0]) - float(out.record["V_m"][k, 0])) <= 1e-12
    assert int(out.spikes.sum()) >= 1
    # vmap over I_e: every variant is the run with that I_e
    I_e = jnp.array([300.0, 376.0, 420.0, 600.0])
    batched = jax.vmap(lambda i: F.run(model, p.replace(I_e=i), s0, inp, dt=DT))(I_e)
    assert batched.spikes.shape == (4, T, 1)
    for j, i in enumerate(np.asarray(I_e)):
        one = F.run(model, F.params(model, I_e=float(i)), s0, inp, dt=DT)
        np.testing.assert_array_equal(np.asarray(batched.spikes[j]), np.asarray(one.spikes))
        np.testing.assert_allclose(np.asarray(batched.record["V_m"][j]), np.asarray(one.record["V_m"]),
                                   rtol=1e-13, atol=1e-12)
    counts = np.asarray(batched.spikes.sum(axis=(1, 2)))
    assert counts[0] == 0 and np.all(np.diff(counts) >= 0) and counts[-1] > counts[1]


def test_jacfwd_of_a_subthreshold_trace_with_respect_to_I_e():
    """iaf_psc_alpha below threshold is linear in I_e: dV(t)/dI_e = (tau_m / C_m)(1 - exp(-t / tau_m))."""
    model = nx.iaf_psc_alpha
    p = F.params(model, I_e=100.0)
    s0 = F.init(model, p)
    T = 200

    def trace(I_e):
        return F.run(model, p.replace(I_e=I_e), s0, steps=T, dt=DT, record="V_m").record["V_m"][:, 0]

    g = np.asarray(jax.jacfwd(trace)(100.0))
    t = DT * np.arange(1, T + 1)
    tau_m, C_m = model.parameters["tau_m"].default, model.parameters["C_m"].default
    np.testing.assert_allclose(g, tau_m / C_m * (1 - np.exp(-t / tau_m)), rtol=1e-10)
    fd = (np.asarray(trace(100.5)) - np.asarray(trace(99.5))) / 1.0
    np.testing.assert_allclose(g, fd, rtol=1e-8, atol=1e-10)
    assert np.asarray(trace(100.0)).max() < -55.0  # subthreshold throughout


def test_params_and_init_check_like_create():
    with pytest.raises(nx.BadParameterError, match=r"iaf_psc_alpha: parameter 'C_m' = -1.0 pF is invalid"):
        F.params(nx.iaf_psc_alpha, C_m=-1.0)
    with pytest.raises(nx.UnitError, match="tau_m"):
        F.params(nx.iaf_psc_alpha, tau_m=3.0 * u.mV)
    with pytest.raises(nx.UnknownParameterError, match="tau_mm"):
        F.params(nx.iaf_psc_alpha, tau_mm=3.0)
    with pytest.raises(nx.BadParameterError, match="'V_m' is a state variable"):
        F.params(nx.iaf_psc_alpha, V_m=-60.0)
    p = F.params(nx.iaf_psc_alpha, n=3, I_e=[1.0, 2.0, 3.0] * u.pA)
    assert p["I_e"].shape == (3,) and float(p["I_e"][2]) == 3.0 and p.n == 3
    with pytest.raises(nx.BadParameterError, match="'I_e' is a parameter"):
        F.init(nx.iaf_psc_alpha, p, I_e=2.0)
    with pytest.raises(nx.BadParameterError, match="init\\(n=2\\)"):
        F.init(nx.iaf_psc_alpha, p, n=2)
    with pytest.raises(nx.BadParameterError, match="'C_m' = -2.0 pF"):
        p.replace(C_m=-2.0)
    s = F.init(nx.iaf_psc_alpha, p, V_m=-60.0 * u.mV)
    assert np.allclose(np.asarray(nx.iaf_psc_alpha.observe(p, s, "V_m")), -60.0)
    s_q, _ = F.step(nx.iaf_psc_alpha, p, s, {"ex": 0.5 * u.nA, "I": 10.0 * u.pA})
    s_n, _ = F.step(nx.iaf_psc_alpha, p, s, {"ex": 500.0, "I": 10.0})
    assert all(np.array_equal(np.asarray(s_q[k]), np.asarray(s_n[k])) for k in s)
    with pytest.raises(nx.UnitError, match="input 'ex'"):
        F.step(nx.iaf_psc_alpha, p, s, {"ex": 1.0 * u.nS})
    with pytest.raises(nx.BadParameterError, match="is not an input of this model.*'ex', 'in'"):
        F.step(nx.iaf_psc_alpha, p, s, {"exc": 1.0})
    with pytest.raises(nx.BadParameterError, match="gif_psc_exp is stochastic: give key="):
        pg = F.params(nx.gif_psc_exp)
        F.step(nx.gif_psc_exp, pg, F.init(nx.gif_psc_exp, pg), {})
    with pytest.raises(nx.BadParameterError, match="spike_generator is a spike source, not a neuron"):
        F.params(nx.spike_generator)
    with pytest.raises(nx.ConnectionError_, match="receptor_type 5"):
        F.route(nx.ht_neuron, F.params(nx.ht_neuron), 1.0, 5)
    assert F.ports(nx.iaf_psc_exp_multisynapse, F.params(nx.iaf_psc_exp_multisynapse, tau_syn=[1.0, 2.0])) == \
        ("receptor_1", "receptor_2")


def test_stochastic_step_by_step_equals_run_and_states_trajectory():
    """gif_psc_exp: step k draws with fold_in(key, k) in step and in run (k0 shifts the stream)."""
    model = nx.gif_psc_exp
    p = F.params(model, n=3, I_e=[250.0, 350.0, 450.0])
    s0 = F.init(model, p)
    key = F.simulator_key(3)
    T, k0 = 1000, 17
    out = F.run(model, p, s0, steps=T, dt=DT, key=key, k0=k0, states=True)
    assert int(out.spikes.sum()) >= 3
    step = jax.jit(lambda s, k: F.step(model, p, s, None, dt=DT, key=key, k=k))
    s = s0
    for k in range(T):
        s, spk = step(s, k0 + k)
        np.testing.assert_array_equal(np.asarray(spk), np.asarray(out.spikes[k]))
    for name in s:  # the state after the last step (separately compiled steps: rounding may differ), the last row
        np.testing.assert_allclose(np.asarray(s[name]), np.asarray(out.state[name]), rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(np.asarray(out.states[name][-1]), np.asarray(out.state[name]))
    other = F.run(model, p, s0, steps=T, dt=DT, key=key, k0=0)
    assert not np.array_equal(np.asarray(other.spikes), np.asarray(out.spikes))


def test_fi_curve_example_runs(tmp_path):
    import os
    import pathlib
    import re
    import subprocess
    import sys
    root = pathlib.Path(__file__).resolve().parents[1]
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=str(root / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, str(root / "examples" / "fi_curve_functional.py")], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"max relative deviation of 1 / ISI from the theory: ([0-9.e+-]+)", r.stdout)
    assert m and float(m.group(1)) < 1e-9, r.stdout
    for i in (400, 600, 900):
        m = re.search(rf"I_e = {i} pA: functional ([0-9.]+) spikes/s, Simulator ([0-9.]+) spikes/s", r.stdout)
        assert m and m.group(1) == m.group(2) and float(m.group(1)) > 0, r.stdout
    assert (tmp_path / "fi_curve_functional.png").stat().st_size > 5_000


def test_every_registered_neuron_model_runs_as_plain_functions():
    """params, init and run (traced with eval_shape: no compile) for every neuron model nestax has; the
    state keeps its shapes and types, spikes are (T, n)."""
    from nestax.models.registry import _MODELS
    names = [k for k, m in _MODELS.items() if m.kind == "neuron"]
    assert len(names) > 60
    for name in names:
        model = _MODELS[name]
        kw = {"compartments": [{"parent_idx": -1, "params": {}}]} if name == "cm_default" else {}
        p = F.params(model, n=2, **kw)
        s = F.init(model, p)
        key = F.simulator_key(1) if model.stochastic else None
        out = jax.eval_shape(lambda p, s: F.run(model, p, s, steps=3, dt=DT, key=key), p, s)
        same = jax.tree.map(lambda a, b: (a.shape, a.dtype) == (b.shape, b.dtype), out.state, s)
        assert all(jax.tree.leaves(same)), name
        spikes = out.spikes[0] if model.precise else out.spikes
        assert spikes.shape[:2] == (3, 2), name
        assert set(out.record) == {n for n in model.recordables() if "<" not in n}, name


def test_new_values_reuse_the_compiled_program():
    """Params.replace and a new record with other numbers are the same program for jit (the numbers
    are leaves); another number of receptors is another program."""
    model = nx.iaf_psc_exp_multisynapse
    traces = []

    @jax.jit
    def v_end(p, s):
        traces.append(1)
        return F.run(model, p, s, steps=50, dt=DT, record="V_m").record["V_m"][-1]

    p = F.params(model, tau_syn=[1.0, 2.0])
    s = F.init(model, p)
    ends = [float(v_end(p.replace(I_e=i * u.pA), s)[0]) for i in (100.0, 200.0)]
    ends.append(float(v_end(F.params(model, tau_syn=[1.0, 2.0], I_e=300.0), s)[0]))
    assert len(traces) == 1 and ends[0] < ends[1] < ends[2]
    p3 = F.params(model, tau_syn=[1.0, 2.0, 3.0])
    v_end(p3, F.init(model, p3))
    assert len(traces) == 2
