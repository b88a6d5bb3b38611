"""A network of linear rate neurons (after NEST's example lin_rate_ipn_network.py).

200 excitatory and 50 inhibitory lin_rate_ipn neurons with noisy input. Excitatory connections are
delayed (5 ms) and inhibitory ones instantaneous. We record every rate and compare the time-averaged
population rates with the linear fixed point m = mu + J m, where J holds the mean in-degrees times
the weights. With sigma = 0 the network settles on the fixed point (1.939 both); with sigma = 5 the
time averages scatter around it by the noise (seed 1: 2.048 and 2.083).

NEST's example switches waveform relaxation off (use_wfr=False), so NEST holds each instantaneous
input for a min_delay slice. nestax always uses the converged solution, as NEST does with use_wfr=True.

    python examples/rate_network.py           # prints the rates; writes rate_network.png
"""
import jax
jax.config.update('jax_enable_x64', True)
import numpy as np
import brainunit as u
import nestax as nx

dt, T, order = 0.1, 300.0, 50
NE, NI = 4 * order, order
N = NE + NI
g, epsilon, d_e = 5.0, 0.1, 5.0
w = 0.1 / np.sqrt(N)
KE, KI = int(epsilon * NE), int(epsilon * NI)       # out-degrees
params = dict(linear_summation=True, tau=10.0 * u.ms, mu=2.0, sigma=5.0)

sim = nx.Simulator(dt=dt * u.ms, seed=1)
n_e = sim.create(nx.lin_rate_ipn, NE, **params)
n_i = sim.create(nx.lin_rate_ipn, NI, **params)
mm = sim.create(nx.multimeter, record_from=['rate'], interval=dt * u.ms)
syn_e = dict(synapse_model='rate_connection_delayed', weight=w, delay=d_e * u.ms)
syn_i = dict(synapse_model='rate_connection_instantaneous', weight=-g * w)
sim.connect(n_e, n_e, rule='fixed_outdegree', outdegree=KE, **syn_e)
sim.connect(n_i, n_i, rule='fixed_outdegree', outdegree=KI, **syn_i)
sim.connect(n_e, n_i, rule='fixed_outdegree', outdegree=KI, **syn_e)
sim.connect(n_i, n_e, rule='fixed_outdegree', outdegree=KE, **syn_i)
sim.connect(mm, n_e + n_i)
res = sim.simulate(T * u.ms)

rates = np.asarray(res.trace(mm, 'rate'))                # (samples, neurons), dimensionless
t = np.asarray(u.get_mantissa(res.trace_times(mm) / u.ms))
late = t > 100.0                                          # after the transient
m_sim = rates[late, :NE].mean(), rates[late, NE:].mean()

# mean in-degrees: a source population of size Ns with out-degree K onto Nt targets gives K Ns / Nt
J = np.array([[w * KE, -g * w * KE * NI / NE],
              [w * KI * NE / NI, -g * w * KI]])
m_th = np.linalg.solve(np.eye(2) - J, [2.0, 2.0])
print(f'excitatory rate: {m_sim[0]:.3f} (fixed point {m_th[0]:.3f})')
print(f'inhibitory rate: {m_sim[1]:.3f} (fixed point {m_th[1]:.3f})')

try:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    plt.plot(t, rates[:, 0], label='excitatory neuron')
    plt.plot(t, rates[:, NE], label='inhibitory neuron')
    plt.xlabel('time (ms)')
    plt.ylabel('rate (a.u.)')
    plt.legend()
    plt.savefig('rate_network.png', dpi=100)
except ImportError:
    pass
