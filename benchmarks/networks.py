"""The benchmark networks, each built the same way in nestax and in NEST.

Every builder takes the simulator module's namespace through small adapters so that the network
description exists once: ``build_nestax(spec)`` and ``build_nest(spec)`` return an object with
``run(T)`` and the spike data needed to compare the two (population rate and mean ISI CV).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass
class Brunel:
    """Brunel (2000) balanced network as in NEST's brunel_delta example (iaf_psc_delta)."""
    order: int = 2500            # N_E = 4*order, N_I = order
    epsilon: float = 0.1
    g: float = 5.0
    eta: float = 2.0
    J: float = 0.1
    delay: float = 1.5
    tau_m: float = 20.0
    theta: float = 20.0
    n_rec: int = 500
    CE_fixed: int | None = None  # fixed in-degree from E (1000 in the classic network)

    @property
    def NE(self):
        return 4 * self.order

    @property
    def NI(self):
        return self.order

    @property
    def CE(self):
        return self.CE_fixed or int(self.epsilon * self.NE)

    @property
    def CI(self):
        return self.CE // 4

    def neuron_params(self):
        return {"C_m": 1.0, "tau_m": self.tau_m, "t_ref": 2.0, "E_L": 0.0, "V_reset": 10.0,
                "V_m": 0.0, "V_th": self.theta}

    def p_rate(self):
        nu_th = self.theta / (self.J * self.CE * self.tau_m)
        return 1000.0 * self.eta * nu_th * self.CE


def brunel_nestax(spec: Brunel, dt=0.1, seed=1, precision=None):
    import nestax as nx
    t0 = time.perf_counter()
    sim = nx.Simulator(dt=dt, seed=seed, precision=precision)
    E = sim.create(nx.iaf_psc_delta, spec.NE, **spec.neuron_params())
    I = sim.create(nx.iaf_psc_delta, spec.NI, **spec.neuron_params())
    noise = sim.create(nx.poisson_generator, rate=spec.p_rate())
    sr = sim.create(nx.spike_recorder)
    sim.connect(noise, E + I, weight=spec.J, delay=spec.delay)
    sim.connect(E, E + I, rule="fixed_indegree", indegree=spec.CE, weight=spec.J, delay=spec.delay)
    sim.connect(I, E + I, rule="fixed_indegree", indegree=spec.CI, weight=-spec.g * spec.J, delay=spec.delay)
    sim.connect((E + I)[: spec.n_rec], sr)
    build = time.perf_counter() - t0
    return sim, sr, build


def nest_kernel(dt, seed, threads):
    """A fresh NEST kernel with the benchmark's resolution, seed and thread count."""
    import nest
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.local_num_threads = threads
    nest.resolution = dt
    nest.rng_seed = seed
    return nest


def brunel_nest(spec: Brunel, dt=0.1, seed=1, threads=1):
    nest = nest_kernel(dt, seed, threads)
    t0 = time.perf_counter()
    E = nest.Create("iaf_psc_delta", spec.NE, params=spec.neuron_params())
    I = nest.Create("iaf_psc_delta", spec.NI, params=spec.neuron_params())
    noise = nest.Create("poisson_generator", params={"rate": spec.p_rate()})
    sr = nest.Create("spike_recorder")
    nest.Connect(noise, E + I, syn_spec={"weight": spec.J, "delay": spec.delay})
    nest.Connect(E, E + I, {"rule": "fixed_indegree", "indegree": spec.CE},
                 {"weight": spec.J, "delay": spec.delay})
    nest.Connect(I, E + I, {"rule": "fixed_indegree", "indegree": spec.CI},
                 {"weight": -spec.g * spec.J, "delay": spec.delay})
    nest.Connect((E + I)[: spec.n_rec], sr)
    build = time.perf_counter() - t0
    return nest, sr, build


def rate_and_cv(senders, times_ms, n, T_ms):
    senders = np.asarray(senders)
    times_ms = np.asarray(times_ms)
    rate = len(times_ms) / n / (T_ms / 1000.0)
    cvs = []
    order = np.lexsort((times_ms, senders))
    s, t = senders[order], times_ms[order]
    for g in np.unique(s):
        isi = np.diff(t[s == g])
        if len(isi) >= 2:
            cvs.append(isi.std() / isi.mean())
    return rate, (float(np.mean(cvs)) if cvs else float("nan"))


class _EIPopulation:
    """NE excitatory + NI inhibitory neurons, all recorded."""

    @property
    def N(self):
        return self.NE + self.NI

    @property
    def n_rec(self):
        return self.N


# --------------------------------------------------------------------------------------------------
# Vogels-Abbott benchmarks of Brette et al. (2007): CUBA (iaf_psc_exp) and COBA (iaf_cond_exp)
# --------------------------------------------------------------------------------------------------
@dataclass
class VogelsAbbott(_EIPopulation):
    """Brette et al. (2007) benchmarks 1 (CUBA) and 2 (COBA), 3200 E + 800 I, pairwise_bernoulli p=0.02.

    Synaptic delay: 0.1 ms (one step, NEST's minimum) in every simulator. Brian's examples use no
    delay; Brian2 gets ``delay=0.1*ms`` so that an input arrives in the same step as in NEST.
    Initial conditions are drawn once with NumPy (``init_seed``) and handed to every simulator, so all
    of them start from the same state.
    """
    kind: str = "cuba"           # "cuba" | "coba"
    NE: int = 3200
    NI: int = 800
    p: float = 0.02
    delay: float = 0.1
    init_seed: int = 12345

    @property
    def model(self):
        return "iaf_psc_exp" if self.kind == "cuba" else "iaf_cond_exp"

    def neuron_params(self):
        if self.kind == "cuba":
            return {"C_m": 250.0, "tau_m": 20.0, "E_L": -49.0, "V_th": -50.0, "V_reset": -60.0,
                    "t_ref": 5.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0, "I_e": 0.0}
        return {"C_m": 200.0, "g_L": 10.0, "E_L": -60.0, "V_th": -50.0, "V_reset": -60.0, "t_ref": 5.0,
                "E_ex": 0.0, "E_in": -80.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0, "I_e": 0.0}

    def weights(self):
        """(w_exc, w_inh) in NEST units: pA for CUBA (Brian's 1.62 mV, -9 mV times C_m/tau_m), nS for COBA."""
        if self.kind == "cuba":
            return 1.62 * 250.0 / 20.0, -9.0 * 250.0 / 20.0        # 20.25 pA, -112.5 pA
        return 6.0, -67.0

    def initial_state(self):
        """V_m uniform in [V_reset, V_th]; COBA also starts from Brette et al.'s random conductances
        (g_ex ~ N(40, 15) nS, g_in ~ N(200, 120) nS, clipped at 0): without them COBA (E_L = V_reset,
        no external drive) stays silent."""
        rng = np.random.default_rng(self.init_seed)
        st = {"V_m": rng.uniform(-60.0, -50.0, self.N)}
        if self.kind == "coba":
            st["g_ex"] = np.clip(rng.normal(40.0, 15.0, self.N), 0.0, None)
            st["g_in"] = np.clip(rng.normal(200.0, 120.0, self.N), 0.0, None)
        return st


def va_nestax(spec: VogelsAbbott, dt=0.1, seed=1, precision=None):
    import nestax as nx
    t0 = time.perf_counter()
    sim = nx.Simulator(dt=dt, seed=seed, precision=precision)
    P = sim.create(getattr(nx, spec.model), spec.N, **spec.neuron_params(), **spec.initial_state())
    E, I = P[: spec.NE], P[spec.NE:]
    we, wi = spec.weights()
    if getattr(spec, "nu_ext", 0):  # AdEx: independent external Poisson drive per neuron
        noise = sim.create(nx.poisson_generator, rate=spec.nu_ext)
    sr = sim.create(nx.spike_recorder)
    if getattr(spec, "nu_ext", 0):
        sim.connect(noise, P, weight=spec.w_ext, delay=spec.delay)
    sim.connect(E, P, rule="pairwise_bernoulli", p=spec.p, weight=we, delay=spec.delay)
    sim.connect(I, P, rule="pairwise_bernoulli", p=spec.p, weight=wi, delay=spec.delay)
    sim.connect(P, sr)
    return sim, sr, time.perf_counter() - t0


def va_nest(spec: VogelsAbbott, dt=0.1, seed=1, threads=1):
    nest = nest_kernel(dt, seed, threads)
    t0 = time.perf_counter()
    P = nest.Create(spec.model, spec.N, params=spec.neuron_params())
    for k, v in spec.initial_state().items():
        P.set({k: v.tolist()})
    E, I = P[: spec.NE], P[spec.NE:]
    we, wi = spec.weights()
    if getattr(spec, "nu_ext", 0):
        noise = nest.Create("poisson_generator", params={"rate": spec.nu_ext})
    sr = nest.Create("spike_recorder")
    if getattr(spec, "nu_ext", 0):
        nest.Connect(noise, P, syn_spec={"weight": spec.w_ext, "delay": spec.delay})
    nest.Connect(E, P, {"rule": "pairwise_bernoulli", "p": spec.p}, {"weight": we, "delay": spec.delay})
    nest.Connect(I, P, {"rule": "pairwise_bernoulli", "p": spec.p}, {"weight": wi, "delay": spec.delay})
    nest.Connect(P, sr)
    return nest, sr, time.perf_counter() - t0


def va_brian2(spec: VogelsAbbott, dt=0.1, seed=1):
    """The same network in Brian2 (the caller picks the device/target before calling).

    CUBA exactly as Brian's example (v, ge, gi in volt, method 'exact'); COBA with conductance-based
    exponential synapses in siemens (method 'exponential_euler'). Threshold v > V_th, reset, 5 ms
    refractoriness with v clamped ("unless refractory").
    """
    import brian2 as b2
    from brian2 import ms, mV, nS, pF
    t0 = time.perf_counter()
    b2.defaultclock.dt = dt * ms
    b2.seed(seed)
    p = spec.neuron_params()
    ns = {"taum": 20 * ms, "taue": p["tau_syn_ex"] * ms, "taui": p["tau_syn_in"] * ms,
          "Vt": p["V_th"] * mV, "Vr": p["V_reset"] * mV, "El": p["E_L"] * mV}
    if spec.kind == "cuba":
        eqs = """dv/dt = (ge + gi - (v - El)) / taum : volt (unless refractory)
                 dge/dt = -ge / taue : volt
                 dgi/dt = -gi / taui : volt"""
        ns.update(we=1.62 * mV, wi=-9.0 * mV)
        method = "exact"
    else:
        eqs = """dv/dt = (gL * (El - v) + ge * (Ee - v) + gi * (Ei - v)) / Cm : volt (unless refractory)
                 dge/dt = -ge / taue : siemens
                 dgi/dt = -gi / taui : siemens"""
        ns.update(gL=p["g_L"] * nS, Cm=p["C_m"] * pF, Ee=p["E_ex"] * mV, Ei=p["E_in"] * mV,
                  we=6.0 * nS, wi=67.0 * nS)
        method = "exponential_euler"
    P = b2.NeuronGroup(spec.N, eqs, threshold="v > Vt", reset="v = Vr", refractory=p["t_ref"] * ms,
                       method=method, namespace=ns)
    st = spec.initial_state()
    P.v = st["V_m"] * mV
    if spec.kind == "coba":
        P.ge = st["g_ex"] * nS
        P.gi = st["g_in"] * nS
    Ce = b2.Synapses(P, P, on_pre="ge += we", delay=spec.delay * ms, namespace=ns)
    Ce.connect("i < NE", p=spec.p, namespace={"NE": spec.NE})
    Ci = b2.Synapses(P, P, on_pre="gi += wi", delay=spec.delay * ms, namespace=ns)
    Ci.connect("i >= NE", p=spec.p, namespace={"NE": spec.NE})
    M = b2.SpikeMonitor(P)
    net = b2.Network(P, Ce, Ci, M)
    return net, M, time.perf_counter() - t0


# --------------------------------------------------------------------------------------------------
# AdEx network: aeif_cond_exp at NEST defaults, Vogels-Abbott connectivity, external Poisson drive
# --------------------------------------------------------------------------------------------------
@dataclass
class AdEx(_EIPopulation):
    """3200 E + 800 I aeif_cond_exp neurons with NEST's default parameters, pairwise_bernoulli p = 0.02
    (Vogels-Abbott connectivity), driven by independent external Poisson input.

    NEST's aeif defaults (C_m 281 pF, g_L 30 nS, E_L -70.6 mV, V_th -50.4 mV, Delta_T 2 mV, V_peak 0,
    V_reset -60 mV, t_ref 0, a 4 nS, b 80.5 pA, tau_w 144 ms, E_ex 0, E_in -85 mV, tau_syn_ex 0.2 ms,
    tau_syn_in 2 ms) have E_L 20 mV below V_th and a rheobase of ~0.55 nA: without input they are
    silent, and rather than tuning a marginal self-sustained state (as COBA is) every neuron gets its
    own Poisson train (one poisson_generator: one independent realisation per target, as in NEST)
    of ``nu_ext`` = 3.5 kHz with ``w_ext`` = 20 nS (an EPSP of ~0.8 mV at rest; mean excitatory
    conductance 14 nS): the drive alone makes the neurons fire at ~13.5 Hz (NEST, CV 0.43).
    Recurrent weights: excitation 20 nS, inhibition -40 nS (inhibition-dominated: an IPSP carries
    ~10x the charge of an EPSP, with 4x fewer inhibitory inputs), which brings the rate down to
    ~9.7 Hz with CV ~0.6 (the spike-triggered adaptation b makes the trains more regular than
    Poisson). The external drive carries the activity, so the state is not marginal: it cannot die
    out and barely depends on the connectivity draw (NEST, T = 1 s, seeds 1/2/3: 9.70/9.73/9.58 Hz),
    and the rate moves smoothly with the drive (nu_ext -10 % / +10 %: 7.6 / 12.8 Hz). Delay 1.5 ms
    (NEST's usual benchmark delay; 0.1 ms gives stronger fast population oscillations).
    Initial V_m uniform in [E_L, V_th], drawn once with NumPy (``init_seed``); w = g = 0.
    """
    NE: int = 3200
    NI: int = 800
    p: float = 0.02
    delay: float = 1.5
    w_exc: float = 20.0          # nS
    w_inh: float = -40.0         # nS
    nu_ext: float = 3500.0       # Hz, per neuron
    w_ext: float = 20.0          # nS
    init_seed: int = 12345
    model: str = "aeif_cond_exp"

    def neuron_params(self):
        return {}                # NEST's defaults

    def weights(self):
        return self.w_exc, self.w_inh

    def initial_state(self):
        rng = np.random.default_rng(self.init_seed)
        return {"V_m": rng.uniform(-70.6, -50.4, self.N)}


# the AdEx network is built like Vogels-Abbott's, plus its external drive
adex_nestax = va_nestax
adex_nest = va_nest


# --------------------------------------------------------------------------------------------------
# One neuron, 100 s: per-step overhead
# --------------------------------------------------------------------------------------------------
@dataclass
class OneNeuron:
    """A single iaf_psc_alpha with I_e = 376 pA (fires regularly) and a spike_recorder."""
    I_e: float = 376.0
    n_rec: int = 1


def one_nestax(spec: OneNeuron, dt=0.1, seed=1):
    import nestax as nx
    t0 = time.perf_counter()
    sim = nx.Simulator(dt=dt, seed=seed)
    n = sim.create(nx.iaf_psc_alpha, 1, I_e=spec.I_e)
    sr = sim.create(nx.spike_recorder)
    sim.connect(n, sr)
    return sim, sr, time.perf_counter() - t0


def one_nest(spec: OneNeuron, dt=0.1, seed=1, threads=1):
    nest = nest_kernel(dt, seed, threads)
    t0 = time.perf_counter()
    n = nest.Create("iaf_psc_alpha", 1, params={"I_e": spec.I_e})
    sr = nest.Create("spike_recorder")
    nest.Connect(n, sr)
    return nest, sr, time.perf_counter() - t0
