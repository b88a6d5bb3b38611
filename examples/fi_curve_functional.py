"""An f-I curve without a Simulator: nx.functional.run, vmapped over the input current I_e.

One iaf_psc_alpha neuron, 1 s at dt = 0.1 ms, for 61 constant currents at once (one compiled program,
``jax.vmap`` over I_e). The rates are checked against the leaky integrate-and-fire theory
(``1 / (t_ref + tau_m ln(R I / (R I - (V_th - E_L))))``, the time to threshold rounded up to the
grid) and three of the currents against a Simulator running the same neuron. The gain dRate/dI_e is
read off the curve, and the figure is saved to fi_curve_functional.png.
"""
import jax
jax.config.update('jax_enable_x64', True)
import time

import brainunit as u
import jax.numpy as jnp
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np

import nestax as nx

F = nx.functional
model = nx.iaf_psc_alpha
dt, T = 0.1, 10_000                     # ms, steps (1 s)
p = F.params(model)                     # NEST's defaults: tau_m 10 ms, C_m 250 pF, t_ref 2 ms
s0 = F.init(model, p)
currents = np.linspace(300.0, 900.0, 61)  # pA


@jax.jit
def rates(I_e):
    """Per current: the firing rate over the run (spikes/s) and the mean inter-spike interval (ms)
    from the first to the last spike; vmap over I_e of one run."""
    def one(i):
        spk = F.run(model, p.replace(I_e=i), s0, steps=T, dt=dt, record=()).spikes[:, 0]
        n = spk.sum()
        first, last = jnp.argmax(spk > 0), T - 1 - jnp.argmax(spk[::-1] > 0)
        return n / (T * dt / 1000.0), jnp.where(n > 1, (last - first) * dt / jnp.maximum(n - 1, 1), jnp.inf)
    return jax.vmap(one)(I_e)


t0 = time.perf_counter()
r, isi = (np.asarray(x) for x in rates(jnp.asarray(currents)))
print(f'{len(currents)} currents x {T} steps in one compiled program: {time.perf_counter() - t0:.2f} s '
      '(compile included)')

# leaky integrate-and-fire theory, the time to threshold rounded up to the grid
tau_m, C_m, t_ref = (float(p[k][0]) for k in ('tau_m', 'C_m', 't_ref'))
theta = float(p['V_th'][0] - p['E_L'][0])
RI = currents * tau_m / C_m
with np.errstate(divide='ignore', invalid='ignore'):
    t_up = np.where(RI > theta, tau_m * np.log(RI / (RI - theta)), np.inf)
theory = 1000.0 / (t_ref + np.ceil(t_up / dt - 1e-9) * dt)
fires = RI > theta
print(f'rheobase: {theta * C_m / tau_m:.1f} pA; first current that fires: {currents[fires][0]:.1f} pA')
dev = np.max(np.abs(1000.0 / isi[fires] - theory[fires]) / theory[fires])
print(f'max relative deviation of 1 / ISI from the theory: {dev:.2e}')
assert np.all(r[~fires] == 0) and dev < 1e-9

# three currents against a Simulator running the same neuron: the same spike counts
for i in (400.0, 600.0, 900.0):
    sim = nx.Simulator(dt=dt * u.ms)
    n = sim.create(model, 1, I_e=i * u.pA)
    sr = sim.create(nx.spike_recorder)
    sim.connect(n, sr)
    res = sim.simulate(T * dt * u.ms)
    mine = float(r[np.argmin(np.abs(currents - i))])
    print(f'I_e = {i:.0f} pA: functional {mine:.1f} spikes/s, Simulator {res.rate(sr):.1f} spikes/s')
    assert abs(mine - res.rate(sr)) < 1e-9

gain = np.gradient(r, currents)
print(f'gain at 600 pA: {gain[np.argmin(np.abs(currents - 600.0))]:.3f} spikes/s per pA')

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(currents, theory, 'k--', lw=1, label='LIF theory')
ax.plot(currents, r, 'o', ms=3, label='nx.functional (vmap)')
ax.set_xlabel('I_e (pA)')
ax.set_ylabel('rate (spikes/s)')
ax.legend()
fig.tight_layout()
fig.savefig('fi_curve_functional.png', dpi=100)
print('figure saved to fi_curve_functional.png')
