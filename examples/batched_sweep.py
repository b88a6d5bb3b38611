"""An I_e x g sweep of a small Brunel network in one compiled program (nx.Batch).

A Brunel (2000)-style network of 400 excitatory and 100 inhibitory iaf_psc_alpha neurons with
fixed in-degrees and Poisson input is built once; nx.Batch runs all 5 x 4 = 20 combinations of a
constant input current I_e and the relative inhibitory strength g together (``jax.vmap`` over the
variants), and the mean rates are printed as a table. One variant is then checked against a
separate Simulator built with its values: the same spikes.

Run: python examples/batched_sweep.py
"""
import jax
jax.config.update("jax_enable_x64", True)
import time

import brainunit as u
import numpy as np

import nestax as nx

NE, NI, CE, CI = 400, 100, 40, 10
J = 30.0                               # pA, excitatory weight
T = 300.0                              # ms
I_es = np.array([0.0, 50.0, 100.0, 150.0, 200.0])   # pA
gs = np.array([3.0, 4.0, 5.0, 6.0])


def build(I_e=0.0, g=5.0, seed=1):
    sim = nx.Simulator(dt=0.1 * u.ms, seed=seed)
    E = sim.create(nx.iaf_psc_alpha, NE, I_e=I_e * u.pA)
    I = sim.create(nx.iaf_psc_alpha, NI, I_e=I_e * u.pA)
    noise = sim.create(nx.poisson_generator, rate=2_000. * u.Hz)
    sr = sim.create(nx.spike_recorder)
    sim.connect(noise, E + I, weight=J * u.pA, delay=1.5 * u.ms)
    sim.connect(E, E + I, rule="fixed_indegree", indegree=CE, weight=J * u.pA, delay=1.5 * u.ms)
    sim.connect(I, E + I, rule="fixed_indegree", indegree=CI, weight=-g * J * u.pA, delay=1.5 * u.ms)
    sim.connect(E + I, sr)
    return sim, E, I, sr


sim, E, I, sr = build()
t0 = time.perf_counter()
batch = nx.Batch(sim, {(E + I, "I_e"): I_es * u.pA,
                       (I, E + I, "weight"): [-g * J * u.pA for g in gs]}, grid=True)
res = batch.simulate(T * u.ms)
wall = time.perf_counter() - t0
rates = res.rate(sr).reshape(res.shape)   # (len(I_es), len(gs))

print(f"{len(res)} variants of {NE + NI} neurons, {T:g} ms each, in {wall:.1f} s (one compile)")
print("mean rate (Hz)")
print("I_e (pA) " + "".join(f"   g = {g:<4g}" for g in gs))
for Ie, row in zip(I_es, rates):
    print(f"{Ie:8.0f} " + "".join(f"{r:11.2f}" for r in row))

# one variant against a separate Simulator with its values
i, j = 3, 1
ref, _, _, sr_ref = build(I_e=I_es[i], g=gs[j])
r = ref.simulate(T * u.ms)
k = i * len(gs) + j
same = np.array_equal(res[k].spikes(sr), r.spikes(sr_ref))
print(f"variant I_e = {I_es[i]:g} pA, g = {gs[j]:g}: {r.n_events(sr_ref)} spikes, identical to a separate "
      f"Simulator: {same}")
assert same
