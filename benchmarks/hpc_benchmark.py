"""NEST's hpc_benchmark network (pynest/examples/hpc_benchmark.py), built the same way in nestax and NEST.

scale * 11,250 iaf_psc_alpha neurons (scale * 9,000 E, scale * 2,250 I). Every neuron receives
CE = 9,000 excitatory and CI = 2,250 inhibitory inputs (fixed in-degree, whatever the scale: at
scale < 1 the sources repeat, multapses allowed, autapses not). E -> E connections are
stdp_pl_synapse_hom (alpha 0.0513, lambda 0.1, mu 0.4, tau_plus 15 ms; tau_minus 30 ms on the
neurons), all others static. One poisson_generator drives every neuron (independent trains).

The parameters are the example's (its JUQUEEN values):

- neurons: E_L 0, V_reset 0, V_th 20 mV, C_m 250 pF, tau_m 10 ms, t_ref 0.5 ms,
  tau_syn_ex = tau_syn_in = 0.3258... ms (the value giving a PSC rise time of 1.700759 ms),
  V_m ~ N(5.7, 7.2) mV (drawn once with NumPy, ``init_seed``, and handed to both simulators);
- weights: JE = 0.14 mV peak EPSP, turned into a current amplitude JE_pA with the peak of the
  alpha-PSC response of a neuron at rest; inhibitory weight g * JE_pA with g = -5; the STDP
  connections start at JE_pA; delay 1.5 ms everywhere;
- drive: nu_th = V_th / (CE * tau_m / C_m * JE_pA * e * tau_syn), rate = eta * nu_th * CE * 1000 Hz
  with eta = 1.685, weight JE_pA.

NEST runs the example's memory-lean ``_hpc`` synapse variants (same dynamics). The recorded
neurons are the first ``n_rec_E`` E and the first ``n_rec_I`` I neurons (the example records
1,000 E neurons); the example's unused ``sigma_w`` plays no part.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from networks import nest_kernel

TAU_SYN = 0.32582722403722841     # ms: alpha PSC with a 1.700759 ms rise time at tau_m = 10 ms


def psp_peak_per_pA(tau_m, tau_syn, C_m):
    """Peak (mV) of the PSP of a neuron at rest after one alpha-shaped current of amplitude 1 pA.

    With I(t) = (e / tau_syn) t exp(-t / tau_syn) and b = 1/tau_syn - 1/tau_m, the membrane
    response is V(t) = e / (tau_syn C_m b) [(exp(-t/tau_m) - exp(-t/tau_syn)) / b - t exp(-t/tau_syn)];
    its maximum lies where dV/dt = 0, found here numerically.
    """
    from scipy.optimize import brentq
    b = 1.0 / tau_syn - 1.0 / tau_m

    def v(t):
        return np.e / (tau_syn * C_m * b) * ((np.exp(-t / tau_m) - np.exp(-t / tau_syn)) / b
                                             - t * np.exp(-t / tau_syn))

    def dv(t):   # dV/dt without the constant prefactor; 0 at t = 0, > 0 just after, < 0 after the peak
        return (np.exp(-t / tau_syn) / tau_syn - np.exp(-t / tau_m) / tau_m) / b - np.exp(-t / tau_syn) \
            + t * np.exp(-t / tau_syn) / tau_syn

    t_peak = brentq(dv, 1e-3 * tau_syn, 20.0 * tau_m)
    return v(t_peak)


@dataclass
class HPCBenchmark:
    scale: float = 1.0
    JE: float = 0.14             # mV, peak EPSP
    g: float = -5.0
    eta: float = 1.685
    delay: float = 1.5           # ms, every connection
    stdp: tuple = (("alpha", 0.0513), ("lambda", 0.1), ("mu", 0.4), ("tau_plus", 15.0))
    V_mean: float = 5.7          # mV, initial V_m ~ N(V_mean, V_sigma)
    V_sigma: float = 7.2
    init_seed: int = 12345
    rec_E: int = 1000            # recorded neurons (at most the population)
    rec_I: int = 250

    @property
    def NE(self):
        return int(9000 * self.scale)

    @property
    def NI(self):
        return int(2250 * self.scale)

    CE = 9000                    # the example's int(NE / scale), int(NI / scale)
    CI = 2250

    def neuron_params(self):
        return {"E_L": 0.0, "C_m": 250.0, "tau_m": 10.0, "t_ref": 0.5, "V_th": 20.0, "V_reset": 0.0,
                "tau_syn_ex": TAU_SYN, "tau_syn_in": TAU_SYN, "tau_minus": 30.0}

    @property
    def JE_pA(self):
        p = self.neuron_params()
        return self.JE / psp_peak_per_pA(p["tau_m"], TAU_SYN, p["C_m"])

    def p_rate(self):
        p = self.neuron_params()
        nu_th = p["V_th"] / (self.CE * p["tau_m"] / p["C_m"] * self.JE_pA * np.e * TAU_SYN)
        return self.eta * nu_th * self.CE * 1000.0

    def stdp_params(self):
        return dict(self.stdp)

    def initial_V_m(self):
        return np.random.default_rng(self.init_seed).normal(self.V_mean, self.V_sigma, self.NE + self.NI)

    # recorded neurons: E[:n_rec_E] (gids 1..) and I[:n_rec_I] (gids NE+1..), created first in both
    @property
    def n_rec_E(self):
        return min(self.rec_E, self.NE)

    @property
    def n_rec_I(self):
        return min(self.rec_I, self.NI)

    @property
    def n_rec(self):
        return self.n_rec_E + self.n_rec_I

    def indegree(self, CX):
        return {"rule": "fixed_indegree", "indegree": CX, "allow_autapses": False, "allow_multapses": True}


def hpc_nestax(spec: HPCBenchmark, dt=0.1, seed=1, precision=None):
    import nestax as nx
    t0 = time.perf_counter()
    sim = nx.Simulator(dt=dt, seed=seed, precision=precision)
    P = sim.create(nx.iaf_psc_alpha, spec.NE + spec.NI, **spec.neuron_params(), V_m=spec.initial_V_m())
    E, I = P[: spec.NE], P[spec.NE:]
    noise = sim.create(nx.poisson_generator, rate=spec.p_rate())
    sr = sim.create(nx.spike_recorder)
    ex = dict(weight=spec.JE_pA, delay=spec.delay)
    inh = dict(weight=spec.g * spec.JE_pA, delay=spec.delay)
    sim.connect(noise, P, **ex)
    sim.connect(E, E, **spec.indegree(spec.CE), synapse_model=nx.stdp_pl_synapse_hom, **ex, **spec.stdp_params())
    sim.connect(I, E, **spec.indegree(spec.CI), **inh)
    sim.connect(E, I, **spec.indegree(spec.CE), **ex)
    sim.connect(I, I, **spec.indegree(spec.CI), **inh)
    sim.connect(E[: spec.n_rec_E] + I[: spec.n_rec_I], sr)
    return sim, sr, time.perf_counter() - t0


def hpc_nest(spec: HPCBenchmark, dt=0.1, seed=1, threads=1):
    nest = nest_kernel(dt, seed, threads)
    t0 = time.perf_counter()
    P = nest.Create("iaf_psc_alpha", spec.NE + spec.NI, params=spec.neuron_params())
    P.set({"V_m": spec.initial_V_m().tolist()})
    E, I = P[: spec.NE], P[spec.NE:]
    noise = nest.Create("poisson_generator", params={"rate": spec.p_rate()})
    sr = nest.Create("spike_recorder")
    nest.CopyModel("stdp_pl_synapse_hom_hpc", "hpc_stdp", spec.stdp_params())
    ex = {"synapse_model": "static_synapse_hpc", "weight": spec.JE_pA, "delay": spec.delay}
    inh = {"synapse_model": "static_synapse_hpc", "weight": spec.g * spec.JE_pA, "delay": spec.delay}
    nest.Connect(noise, P, syn_spec=ex)
    nest.Connect(E, E, spec.indegree(spec.CE), dict(ex, synapse_model="hpc_stdp"))
    nest.Connect(I, E, spec.indegree(spec.CI), inh)
    nest.Connect(E, I, spec.indegree(spec.CE), ex)
    nest.Connect(I, I, spec.indegree(spec.CI), inh)
    nest.Connect(E[: spec.n_rec_E] + I[: spec.n_rec_I], sr)
    return nest, sr, time.perf_counter() - t0
