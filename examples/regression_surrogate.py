"""A regression task learnt with surrogate gradients (e-prop-style set-up, BPTT through nestax).

As in NEST's e-prop regression example (a recurrent network learns to turn frozen input noise into a
target signal, Bellec et al. 2020), but trained by gradient descent through ``sim.as_function``
(docs/gradients.md): 20 input spike trains of frozen Poisson noise (spike_generators), 30 recurrent
iaf_psc_exp neurons, a linear readout of their exponentially filtered spikes (tau 20 ms, computed in
JAX). Learnt: the input and recurrent weights (nestax parameters) and the readout weights (a plain
JAX array), with Adam on the mean squared error to a sum of three sines over 300 ms; the gradient
follows e-prop's local approximation (connection_gradients=False). 100 iterations, ~20 s on a CPU:
the error falls from 0.81 to about 0.09 (the target's variance is 0.67).
"""
import jax
jax.config.update('jax_enable_x64', True)
import time

import jax.numpy as jnp
import numpy as np

import nestax as nx

T, dt = 300.0, 0.1                     # ms
n_in, n_rec = 20, 30
rng = np.random.default_rng(1)

sim = nx.Simulator(dt=dt, seed=1, differentiable=True,
                   surrogate=nx.surrogate.Surrogate("triangle", scale=2.0, dampening=0.3))
inputs = []
for i in range(n_in):                  # frozen Poisson noise, 50 Hz per input
    times = np.unique(np.round(np.sort(rng.uniform(1.0, T, rng.poisson(50.0 * T / 1000.0))), 1))
    inputs.append(sim.create(nx.spike_generator, spike_times=times.tolist()))
gens = inputs[0]
for g in inputs[1:]:
    gens = gens + g
rec = sim.create(nx.iaf_psc_exp, n_rec, I_e=360.0)
sr = sim.create(nx.spike_recorder)
sim.connect(gens, rec, weight=rng.normal(0.0, 150.0, (n_rec, n_in)), delay=1.0)
sim.connect(rec, rec, weight=rng.normal(0.0, 20.0, (n_rec, n_rec)), delay=1.0)
sim.connect(rec, sr)

# connection_gradients=False: e-prop's local approximation, no gradient through the spikes the neurons
# send each other (full BPTT through the recurrent loop learns much less here: mse 0.31 vs 0.09)
f = sim.as_function(T, params={"w_in": (gens, rec), "w_rec": (rec, rec)}, connection_gradients=False)

t = np.arange(1, int(T / dt) + 1) * dt
target = jnp.asarray(np.sin(2 * np.pi * t / 100.0) + 0.5 * np.sin(2 * np.pi * t / 50.0 + 1.0)
                     + 0.3 * np.sin(2 * np.pi * t / 150.0))
decay = np.exp(-dt / 20.0)


def readout(spikes, w_out):
    """y(t) = w_out . z(t), z the spikes filtered with exp(-t / 20 ms)."""
    z = jax.lax.scan(lambda z, s: (decay * z + s, decay * z + s), jnp.zeros(spikes.shape[1]), spikes)[1]
    return z @ w_out


def loss(theta):
    out = f({"w_in": theta["w_in"], "w_rec": theta["w_rec"]})
    return jnp.mean((readout(out.spikes(sr), theta["w_out"]) - target) ** 2)


theta = {**f.init, "w_out": jnp.asarray(rng.normal(0.0, 0.1, n_rec))}
step = jax.jit(jax.value_and_grad(loss))
m = jax.tree.map(jnp.zeros_like, theta)
v = jax.tree.map(jnp.zeros_like, theta)
lr = {"w_in": 5.0, "w_rec": 1.0, "w_out": 0.02}
t0 = time.perf_counter()
first = None
for it in range(1, 101):
    L, g = step(theta)
    first = float(L) if first is None else first
    m = jax.tree.map(lambda a, b: 0.9 * a + 0.1 * b, m, g)
    v = jax.tree.map(lambda a, b: 0.999 * a + 0.001 * b * b, v, g)
    theta = {k: theta[k] - lr[k] * (m[k] / (1 - 0.9 ** it)) / (jnp.sqrt(v[k] / (1 - 0.999 ** it)) + 1e-8)
             for k in theta}
    if it == 1 or it % 20 == 0:
        rate = float(f({"w_in": theta["w_in"], "w_rec": theta["w_rec"]}).rate(sr).mean())
        print(f"iteration {it:3d}: mse {float(L):.4f}, mean rate {rate:.1f} Hz")
print(f"mse {first:.4f} -> {float(L):.4f} in {time.perf_counter() - t0:.1f} s "
      f"(target variance {float(jnp.var(target)):.4f})")
