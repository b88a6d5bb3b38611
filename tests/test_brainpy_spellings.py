"""brainpy.state's spellings (src/nestax/compat_brainpy.py): each accepted spelling gives exactly what
the nestax spelling gives; each refused one raises with the nestax spelling in its message."""
import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError, UnknownParameterError


# braintools.init's initializers (the classes brainpy.state's models take), by their module and
# attribute names; the real package is used too where it is installed (test_real_braintools)
class _BT:
    __module__ = "braintools.init"


class Constant(_BT):
    def __init__(self, value, unit=None):
        self.value, self.unit = value, unit


class Normal(_BT):
    def __init__(self, mean, std, unit=None):
        self.mean, self.std, self.unit = mean, std, unit


class Uniform(_BT):
    def __init__(self, low, high, unit=None):
        self.low, self.high, self.unit = low, high, unit


class LogNormal(_BT):  # braintools' mean/std are those of the log-normal itself: no nestax equivalent
    def __init__(self, mean, std, unit=None):
        self.mean, self.std, self.unit = mean, std, unit


class _BPDist:  # brainpy.state's dist objects
    __module__ = "brainpy.state.dist"


class BPNormal(_BPDist):
    def __init__(self, mean, std):
        self.mean, self.std = mean, std


BPNormal.__name__ = "Normal"
for _c in (Constant, Normal, Uniform, LogNormal):
    _c.__module__ = "braintools.init"
BPNormal.__module__ = "brainpy.state.dist"


def _vm(sim, nodes):
    return np.asarray(sim.get(nodes, "V_m").to_decimal(u.mV))


def _run_trace(build, T=20.0):
    """V_m samples (every step) of the neurons ``build(sim)`` returns, in a fresh Simulator."""
    sim = nx.Simulator(dt=0.1 * u.ms, seed=7)
    pop = build(sim)
    mm = sim.create(nx.multimeter, record_from=["V_m"], interval=0.1 * u.ms)
    sim.connect(mm, pop)
    res = sim.simulate(T * u.ms)
    return np.asarray(res.trace(mm, "V_m").to_decimal(u.mV))


# ------------------------------------------------------------------ initial state at create
def test_v_initializer_constant_is_v_m():
    def brainpy(sim):
        return sim.create(nx.iaf_psc_alpha, 3, I_e=400.0 * u.pA, V_initializer=Constant(-60.0 * u.mV))

    def nestax(sim):
        return sim.create(nx.iaf_psc_alpha, 3, I_e=400.0 * u.pA, V_m=-60.0 * u.mV)

    a, b = _run_trace(brainpy), _run_trace(nestax)
    assert a[0, 0] != -70.0 and np.array_equal(a, b)


def test_init_suffix_and_params_dict_and_deprecated_unit():
    sim = nx.Simulator(seed=1)
    p = sim.create(nx.iaf_psc_exp, 2, params={"V_init": Constant(-61.0, unit=u.mV)})
    q = sim.create(nx.iaf_psc_exp, 2, V_m=-61.0 * u.mV)
    assert np.array_equal(_vm(sim, p), _vm(sim, q)) and _vm(sim, p)[0] == -61.0


@pytest.mark.parametrize("init, dist", [
    (Normal(-60.0 * u.mV, 2.0 * u.mV), nx.random.normal(-60.0 * u.mV, 2.0 * u.mV)),
    (Uniform(-70.0 * u.mV, -55.0 * u.mV), nx.random.uniform(-70.0 * u.mV, -55.0 * u.mV)),
    (BPNormal(-60.0 * u.mV, 2.0 * u.mV), nx.random.normal(-60.0 * u.mV, 2.0 * u.mV)),
])
def test_random_initializers_are_nx_random(init, dist):
    s1, s2 = nx.Simulator(seed=11), nx.Simulator(seed=11)
    a = s1.create(nx.iaf_psc_alpha, 50, V_initializer=init)
    b = s2.create(nx.iaf_psc_alpha, 50, V_m=dist)
    va = _vm(s1, a)
    assert np.array_equal(va, _vm(s2, b)) and np.std(va) > 0.5  # really drawn, and the same draws


def test_other_state_initializers_and_brainpy_state_names():
    sim = nx.Simulator()
    a = sim.create(nx.aeif_cond_alpha, 2, w_initializer=Constant(5.0 * u.pA), g_ex_initializer=Constant(1.0 * u.nS))
    b = sim.create(nx.aeif_cond_alpha, 2, w=5.0 * u.pA, g_ex=1.0 * u.nS)
    for name in ("w", "g_ex", "V_m"):
        assert np.array_equal(np.asarray(sim.get(a, name).mantissa), np.asarray(sim.get(b, name).mantissa))
    assert float(sim.get(a, "w")[0].to_decimal(u.pA)) == 5.0
    iz = sim.create(nx.izhikevich, 1, U_initializer=Constant(-10.0), V_initializer=Constant(-60.0 * u.mV))
    assert float(sim.get(iz, "U_m").to_decimal(u.mV)) == -10.0 and float(sim.get(iz, "V_m").to_decimal(u.mV)) == -60.0


def test_real_parameter_named_like_an_initializer_is_kept():
    sim = nx.Simulator()
    g = sim.create(nx.glif_psc, 1, params={"asc_init": [1.0, 2.0]})  # glif's own parameter, not brainpy's suffix
    v = sim.get(g, "asc_init")
    assert np.allclose(np.ravel(np.asarray(getattr(v, "mantissa", v))), [1.0, 2.0])


def test_refused_initializers_name_the_nestax_spelling():
    sim = nx.Simulator()
    with pytest.raises(UnknownParameterError, match=r"V_m=\.\.\."):
        sim.create(nx.iaf_psc_alpha, 1, q_initializer=Constant(1.0))
    with pytest.raises(BadParameterError, match=r"give it once, as V_m="):
        sim.create(nx.iaf_psc_alpha, 1, V_initializer=Constant(-60.0 * u.mV), V_m=-65.0 * u.mV)
    with pytest.raises(BadParameterError, match=r"nx\.random\.lognormal"):
        sim.create(nx.iaf_psc_alpha, 1, V_initializer=LogNormal(1.0, 0.5))
    assert len(sim._net.blocks) == 0  # nothing was created


def test_real_braintools():
    init = pytest.importorskip("braintools.init")
    s1, s2 = nx.Simulator(seed=2), nx.Simulator(seed=2)
    a = s1.create(nx.iaf_psc_alpha, 20, V_initializer=init.Normal(-60.0 * u.mV, 1.0 * u.mV),
                  I_e=init.Constant(5.0 * u.pA))
    b = s2.create(nx.iaf_psc_alpha, 20, V_m=nx.random.normal(-60.0 * u.mV, 1.0 * u.mV), I_e=5.0 * u.pA)
    assert np.array_equal(_vm(s1, a), _vm(s2, b))


# ------------------------------------------------------------------ generators: seeds, noise_dt
def _pg_events(**kw):
    sim = nx.Simulator(dt=0.1 * u.ms, seed=3)
    pg = sim.create(nx.poisson_generator, 2, rate=[800.0, 400.0] * u.Hz, **kw)
    par = sim.create(nx.parrot_neuron, 2)
    sr = sim.create(nx.spike_recorder)
    sim.connect(pg, par, rule="one_to_one")
    sim.connect(par, sr)
    ev = sim.simulate(200.0 * u.ms).events(sr)
    return np.asarray(ev["senders"]), np.asarray(ev["times"].to_decimal(u.ms))


def test_generator_seed_is_rng_seed():
    s_bp, t_bp = _pg_events(seed=42)
    s_nx, t_nx = _pg_events(rng_seed=42)
    s_kernel, t_kernel = _pg_events()
    assert len(t_bp) > 50 and np.array_equal(s_bp, s_nx) and np.array_equal(t_bp, t_nx)
    assert not (len(t_bp) == len(t_kernel) and np.array_equal(t_bp, t_kernel))  # the seed took effect
    s_none, t_none = _pg_events(seed=None)  # brainpy's default: the kernel's stream
    assert np.array_equal(t_none, t_kernel)


def test_refused_device_seeds():
    sim = nx.Simulator()
    with pytest.raises(BadParameterError, match=r"rng_seed=<int>"):
        sim.create(nx.poisson_generator, 1, rng_key=np.array([0, 1], np.uint32))
    with pytest.raises(BadParameterError, match=r"nx\.Simulator\(seed=\.\.\.\)"):
        sim.create(nx.noise_generator, 1, seed=4)
    with pytest.raises(BadParameterError, match=r"nx\.Simulator\(seed=\.\.\.\)"):
        sim.create(nx.sinusoidal_poisson_generator, 1, rng_seed=123)
    with pytest.raises(BadParameterError, match=r"give it once, as rng_seed"):
        sim.create(nx.poisson_generator, 1, seed=1, rng_seed=2)


def test_noise_dt_is_dt():
    def build(**kw):
        def b(sim):
            ng = sim.create(nx.noise_generator, 1, mean=100.0 * u.pA, std=200.0 * u.pA, **kw)
            pop = sim.create(nx.iaf_psc_alpha, 2)
            sim.connect(ng, pop)
            return pop
        return b

    a, b = _run_trace(build(noise_dt=0.5 * u.ms)), _run_trace(build(dt=0.5 * u.ms))
    c = _run_trace(build())  # NEST's default dt = 1 ms draws on another grid
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    with pytest.raises(BadParameterError, match=r"give it once, as dt="):
        nx.Simulator().create(nx.noise_generator, 1, noise_dt=0.5 * u.ms, dt=0.5 * u.ms)


# ------------------------------------------------------------------ distributions
def test_dist_module_is_nx_random():
    assert nx.dist.Normal(0.0, 1.0) == nx.random.normal(0.0, 1.0)
    assert nx.dist.Uniform(1.0 * u.pA, 2.0 * u.pA) == nx.random.uniform(1.0 * u.pA, 2.0 * u.pA)
    assert nx.dist.LogNormal(0.5, 0.2) == nx.random.lognormal(0.5, 0.2)

    def weights(w):
        sim = nx.Simulator(seed=5)
        a, b = sim.create(nx.iaf_psc_alpha, 10), sim.create(nx.iaf_psc_alpha, 10)
        sim.connect(a, b, weight=w)
        return np.asarray(sim.connections().weights)

    wa, wb = weights(nx.dist.Uniform(0.5 * u.pA, 4.5 * u.pA)), weights(nx.random.uniform(0.5 * u.pA, 4.5 * u.pA))
    assert np.array_equal(wa, wb) and wa.min() >= 0.5 and wa.max() < 4.5 and np.std(wa) > 0.5
    assert np.array_equal(weights(BPNormal(3.0 * u.pA, 1.0 * u.pA)), weights(nx.random.normal(3.0 * u.pA, 1.0 * u.pA)))


# ------------------------------------------------------------------ connect keywords
def _conns(**kw):
    sim = nx.Simulator(seed=9)
    a = sim.create(nx.iaf_psc_alpha, 20)
    b = sim.create(nx.iaf_psc_alpha, 15)
    sim.connect(a, b, weight=2.0 * u.pA, **kw)
    c = sim.connections()
    return c.sources, c.targets, np.asarray(c.weights), np.asarray(c.delays.to_decimal(u.ms))


@pytest.mark.parametrize("extra", [{"comm": "sparse"}, {"comm": "dense"}, {"seed": None}, {"comm": "sparse", "seed": None}])
def test_comm_and_seed_none_change_nothing(extra):
    base = _conns(rule=nx.fixed_indegree(4))
    got = _conns(rule=nx.fixed_indegree(4), **extra)
    assert len(base[0]) == 60 and all(np.array_equal(x, y) for x, y in zip(base, got))


def test_rule_object_with_rule_keywords():
    bp = _conns(rule=nx.fixed_indegree(4), allow_autapses=False, allow_multapses=False)
    ns = _conns(rule="fixed_indegree", indegree=4, allow_autapses=False, allow_multapses=False)
    assert all(np.array_equal(x, y) for x, y in zip(bp, ns))
    bp2 = _conns(rule=nx.fixed_indegree, indegree=4)  # the rule class and its keyword
    ns2 = _conns(rule="fixed_indegree", indegree=4)
    assert all(np.array_equal(x, y) for x, y in zip(bp2, ns2))
    with pytest.raises(BadParameterError, match="give it once"):
        _conns(rule=nx.fixed_indegree(4), indegree=5)


def test_refused_connect_keywords():
    with pytest.raises(BadParameterError, match=r"nx\.Simulator\(seed=\.\.\.\)"):
        _conns(rule=nx.fixed_indegree(4), seed=1)
    with pytest.raises(BadParameterError, match=r"Drop comm"):
        _conns(comm="csr")


def test_all_to_all_weight_per_source():
    def run(weight):
        sim = nx.Simulator(seed=4)
        pg = sim.create(nx.poisson_generator, 2, rate=[5000.0, 5000.0] * u.Hz)
        pop = sim.create(nx.iaf_psc_alpha, 3, V_th=1e6 * u.mV)
        mm = sim.create(nx.multimeter, record_from=["V_m"], interval=0.1 * u.ms)
        sim.connect(pg, pop, weight=weight, delay=1.0 * u.ms)
        sim.connect(mm, pop)
        c = sim.connections(pg, pop)
        return np.asarray(c.weights), c.sources, np.asarray(sim.simulate(30.0 * u.ms).trace(mm, "V_m").mantissa)

    bp = run([5.0, -5.0] * u.pA)
    ns = run(np.array([[5.0, -5.0]] * 3) * u.pA)  # NEST's (n_post, n_pre) array
    assert all(np.array_equal(x, y) for x, y in zip(bp, ns))
    assert sorted(set(zip(bp[1].tolist(), bp[0].tolist()))) == [(1, 5.0), (2, -5.0)]
    assert np.array_equal(run([5.0, -5.0])[2], bp[2])  # plain numbers in pA


def test_all_to_all_weight_per_segment_of_a_joined_collection():
    sim = nx.Simulator()
    a, b = sim.create(nx.iaf_psc_alpha, 2), sim.create(nx.iaf_psc_alpha, 3)
    post = sim.create(nx.iaf_psc_alpha, 2)
    sim.connect(a + b, post, weight=[1.0, 7.0])
    c = sim.connections(a + b, post)
    assert dict(zip(c.sources.tolist(), c.weights.tolist())) == {1: 1.0, 2: 1.0, 3: 7.0, 4: 7.0, 5: 7.0}
    with pytest.raises(BadParameterError, match=r"\(n_post, n_pre\)"):
        sim.connect(a, post, weight=[1.0, 2.0, 3.0])  # neither per source nor per segment: NEST's error


# ------------------------------------------------------------------ get_connections, size, segments
def test_get_connections_and_its_filters():
    sim = nx.Simulator(seed=2)
    a = sim.create(nx.iaf_psc_alpha, 6)
    b = sim.create(nx.iaf_psc_alpha, 4)
    sim.connect(a, b, rule=nx.pairwise_bernoulli(0.5), weight=3.0 * u.pA)
    sim.connect(a[:3], a[3:], rule=nx.one_to_one, synapse=nx.stdp_synapse(weight=5.0))
    for args, kw, nest_kw in [((), {}, {}), ((a, b), {}, {}), ((), {"synapse": "stdp_synapse"},
                                                                {"synapse_model": "stdp_synapse"}),
                              ((a[3:],), {}, {})]:
        got, want = sim.get_connections(*args, **kw), sim.connections(*args, **nest_kw)
        assert len(got) == len(want) > 0
        assert np.array_equal(got.sources, want.sources) and np.array_equal(got.weights, want.weights)
    g = sim.get_connections(source=a, target=b)
    cols = g.get(["source", "target", "weight"])
    assert np.array_equal(cols["source"], g.sources - 1) and np.array_equal(cols["target"], g.targets - 7)
    assert cols["target"].max() <= 3 and np.array_equal(cols["weight"].mantissa, g.weights)
    s = sim.get_connections(synapse="stdp_synapse")
    s.set("weight", [1.0, 2.0, 3.0])
    assert np.array_equal(sim.connections(synapse_model="stdp_synapse").weights, [1.0, 2.0, 3.0])
    assert np.array_equal(s.weights, [1.0, 2.0, 3.0])


def test_size_and_segments():
    sim = nx.Simulator(seed=1)
    a = sim.create(nx.iaf_psc_alpha, 5, I_e=500.0 * u.pA)
    b = sim.create(nx.iaf_psc_alpha, 3)
    sr = sim.create(nx.spike_recorder)
    assert a.size == len(a) == 5 and (a + b)[2:7].size == 5
    segs = (a[1:] + b[:2]).segments
    assert [s.population for s in segs] == [a, b]
    assert [s.indices.tolist() for s in segs] == [[1, 2, 3, 4], [0, 1]]
    assert sr.segments[0].population == sr and sr.segments[0].indices.tolist() == [0]
    sim.connect(a, sr)
    res = sim.simulate(50.0 * u.ms)
    assert res.rate(sr.segments[0].population) == res.rate(sr) > 0
    assert np.array_equal(res.spikes(sr.segments[0].population), res.spikes(sr))


# ------------------------------------------------------------------ traces have their own times
def test_sampled_gives_each_trace_its_times():
    sim = nx.Simulator(dt=0.1 * u.ms)
    n = sim.create(nx.iaf_psc_alpha, 1, I_e=400.0 * u.pA)
    fine = sim.create(nx.multimeter, record_from=["V_m"], interval=0.1 * u.ms)
    coarse = sim.create(nx.multimeter, record_from=["V_m"], interval=1.0 * u.ms)
    sim.connect(fine, n)
    sim.connect(coarse, n)
    res = sim.simulate(10.0 * u.ms)
    t, v = res.sampled(coarse, "V_m")
    assert np.array_equal(np.asarray(t.to_decimal(u.ms)), np.arange(1, 11, dtype=float))
    assert v.shape == (10, 1) and len(res.times) == 100  # not the step grid: no silent pairing
    tf, vf = res.sampled(fine, "V_m")
    # one sample per step, but each one step after the grid row of the same index
    assert np.allclose(np.asarray(tf.to_decimal(u.ms)) - np.asarray(res.times.to_decimal(u.ms)), 0.1)
    assert np.array_equal(np.asarray(vf.mantissa), np.asarray(res.trace(fine, "V_m").mantissa))
    # the coarse samples are the fine samples at the same times
    assert np.allclose(np.asarray(v.mantissa)[:, 0], np.asarray(vf.mantissa)[9::10, 0], atol=1e-12)


def test_brainpy_model_options():
    s1, s2 = nx.Simulator(seed=1), nx.Simulator(seed=1)
    a = s1.create(nx.iaf_psc_alpha, 2, name="exc", spk_reset="hard", ref_var=False, I_e=300.0 * u.pA)
    b = s2.create(nx.iaf_psc_alpha, 2, I_e=300.0 * u.pA)
    assert s1.get(a).keys() == s2.get(b).keys() and np.array_equal(_vm(s1, a), _vm(s2, b))
    for kw, msg in [({"spk_reset": "soft"}, "drop spk_reset"), ({"ref_var": True}, "drop ref_var"),
                    ({"spk_fun": object()}, "drop spk_fun")]:
        with pytest.raises(BadParameterError, match=msg):
            s1.create(nx.iaf_psc_alpha, 1, **kw)
