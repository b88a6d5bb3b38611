"""Fit the input rates of a small E/I network to target firing rates with gradient descent.

Two populations of iaf_psc_alpha neurons (40 excitatory, 10 inhibitory, random recurrent connections)
each receive Poisson input from their own poisson_generator. We look for the two input rates that
make the excitatory population fire at 8 Hz and the inhibitory one at 20 Hz. The network is turned
into a differentiable JAX function of the two rates with ``sim.as_function`` (docs/gradients.md):
spikes carry a surrogate derivative (fast sigmoid), the Poisson input a straight-through derivative
of its rate, and the gradient follows each neuron's own dynamics (connection_gradients=False). Adam on log-rates, 60 steps of 300 ms runs, fresh
Poisson draws each step (a stochastic gradient); then the fitted rates are checked with an ordinary
``sim.simulate`` run (NEST's semantics, its own random streams).
"""
import jax
jax.config.update('jax_enable_x64', True)
import time

import jax.numpy as jnp
import numpy as np

import nestax as nx

TARGET = {"E": 8.0, "I": 20.0}   # Hz
T = 300.0                        # ms per evaluation

sim = nx.Simulator(dt=0.1, seed=12, differentiable=True, surrogate="fast_sigmoid")
E = sim.create(nx.iaf_psc_alpha, 40)
I = sim.create(nx.iaf_psc_alpha, 10)
pg_E = sim.create(nx.poisson_generator, rate=8000.0)   # initial guesses (Hz)
pg_I = sim.create(nx.poisson_generator, rate=8000.0)
sr_E, sr_I = sim.create(nx.spike_recorder), sim.create(nx.spike_recorder)
sim.connect(pg_E, E, weight=20.0, delay=1.0)
sim.connect(pg_I, I, weight=20.0, delay=1.0)
sim.connect(E, E + I, rule="fixed_indegree", indegree=8, weight=30.0, delay=1.5)
sim.connect(I, E + I, rule="fixed_indegree", indegree=4, weight=-120.0, delay=1.0)
sim.connect(E, sr_E)
sim.connect(I, sr_I)

# connection_gradients=False: the spikes the neurons send each other carry no gradient (a local,
# e-prop-like approximation); through the recurrent loop the surrogate gradients of a 300 ms run
# would grow exponentially (see docs/gradients.md)
f = sim.as_function(T, params={"nu_E": (pg_E, "rate"), "nu_I": (pg_I, "rate")}, connection_gradients=False)


def loss_of(theta, key):
    """Squared distance of the two population rates from their targets; theta = log rates."""
    out = f({"nu_E": jnp.exp(theta[:1]), "nu_I": jnp.exp(theta[1:])}, key=key)
    rE, rI = out.rate(sr_E).mean(), out.rate(sr_I).mean()
    return (rE - TARGET["E"]) ** 2 + (rI - TARGET["I"]) ** 2, (rE, rI)


step = jax.jit(jax.value_and_grad(loss_of, has_aux=True))

theta = jnp.log(jnp.array([8000.0, 8000.0]))
m, v = jnp.zeros(2), jnp.zeros(2)           # Adam
lr, b1, b2 = 0.05, 0.5, 0.99
t0 = time.perf_counter()
key = jax.random.PRNGKey(0)
for it in range(1, 61):
    key, sub = jax.random.split(key)
    (loss, (rE, rI)), g = step(theta, sub)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g ** 2
    theta = theta - lr * (m / (1 - b1 ** it)) / (jnp.sqrt(v / (1 - b2 ** it)) + 1e-8)
    if it == 1 or it % 5 == 0:
        nu = np.exp(np.asarray(theta))
        print(f"step {it:2d}: rate E {float(rE):5.1f} Hz, I {float(rI):5.1f} Hz, loss {float(loss):7.2f}   "
              f"-> input E {nu[0]:6.0f} Hz, I {nu[1]:6.0f} Hz")
print(f"fitted in {time.perf_counter() - t0:.1f} s")

# check with an ordinary simulation at the fitted rates (NEST's semantics, 1 s)
nu = np.exp(np.asarray(theta))
sim.set(pg_E, rate=float(nu[0]))
sim.set(pg_I, rate=float(nu[1]))
res = sim.simulate(1000.0)
rate_E, rate_I = float(np.mean(res.rate(sr_E))), float(np.mean(res.rate(sr_I)))
print(f"simulate at the fitted inputs: E {rate_E:.1f} Hz (target {TARGET['E']}), "
      f"I {rate_I:.1f} Hz (target {TARGET['I']})")
