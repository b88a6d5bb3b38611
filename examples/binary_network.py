"""A balanced network of binary neurons (after van Vreeswijk & Sompolinsky 1998) and its mean field.

2000 excitatory and 500 inhibitory mcculloch_pitts_neurons. Each neuron gets a constant external input
(a noise_generator with std 0), K_E = 200 excitatory and K_I = 50 inhibitory inputs, and updates at
random times (tau_m = 10 ms for E, 5 ms for I). Inhibition is strong enough to balance the drive.

We compare the time-averaged activity with the mean-field fixed point of the network. For a
population a the input is Gaussian, with mean u_a = m_ext + sum_b J_ab K_b m_b and variance
s_a^2 = sum_b J_ab^2 K_b m_b (1 - m_b), and the activity is m_a = P(input > theta). Seed 3 gives
0.125 (E) and 0.123 (I) against a fixed point of 0.121.

    python examples/binary_network.py
"""
import jax
jax.config.update('jax_enable_x64', True)
import numpy as np
from math import erfc, sqrt
import nestax as nx

NE, NI, KE, KI = 2000, 500, 200, 50
theta, m_ext = 1.0, 1.2
# J[a][b]: weight of a connection from population b onto population a
J = {'E': {'E': 0.1, 'I': -0.8}, 'I': {'E': 0.1, 'I': -0.8}}
K = {'E': KE, 'I': KI}

sim = nx.Simulator(dt=0.1, seed=3)
pops = {'E': sim.create(nx.mcculloch_pitts_neuron, NE, tau_m=10.0, theta=theta),
        'I': sim.create(nx.mcculloch_pitts_neuron, NI, tau_m=5.0, theta=theta)}
drive = sim.create(nx.noise_generator, mean=m_ext, std=0.0)
sim.connect(drive, pops['E'] + pops['I'])
for a in 'EI':
    for b in 'EI':
        sim.connect(pops[b], pops[a], rule='fixed_indegree', indegree=K[b], weight=J[a][b], delay=0.5)
mm = sim.create(nx.multimeter, record_from=['S'], interval=1.0)
sim.connect(mm, pops['E'][:500] + pops['I'][:200])
res = sim.simulate(1000.0)

S = np.asarray(res.trace(mm, 'S'))          # (samples, 700): 500 E then 200 I
late = slice(200, None)                     # after 200 ms
m_sim = {'E': S[late, :500].mean(), 'I': S[late, 500:].mean()}

m = {'E': 0.2, 'I': 0.2}
for _ in range(2000):                       # damped fixed-point iteration
    new = {}
    for a in 'EI':
        u = m_ext + sum(J[a][b] * K[b] * m[b] for b in 'EI')
        var = sum(J[a][b] ** 2 * K[b] * m[b] * (1 - m[b]) for b in 'EI')
        new[a] = 0.5 * erfc((theta - u) / sqrt(2 * max(var, 1e-12)))
    m = {a: 0.9 * m[a] + 0.1 * new[a] for a in 'EI'}
for a, name in (('E', 'excitatory'), ('I', 'inhibitory')):
    print(f'{name} activity: {m_sim[a]:.3f} (mean field {m[a]:.3f})')
