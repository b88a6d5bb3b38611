"""Record and analyze: a spike_recorder and a multimeter on one strongly driven neuron.

A 1 MHz Poisson drive (weight 10 pA, delay 1 ms) pushes one iaf_psc_exp to fire once per refractory
period. We read the firing rate and spike count, the spike times as step indices and in ms, the
membrane-potential trace, and the coefficient of variation of the inter-spike intervals, then save a
figure with the trace and the raster.
"""
import jax
jax.config.update('jax_enable_x64', True)
import numpy as np
import brainunit as u
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import nestax as nx

dt = 0.1
sim = nx.Simulator(dt=dt * u.ms)
neuron = sim.create(nx.iaf_psc_exp, 1)
pg = sim.create(nx.poisson_generator, 1, rate=1_000_000. * u.Hz, rng_seed=0)
sr = sim.create(nx.spike_recorder)
mm = sim.create(nx.multimeter, record_from=['V_m'], interval=dt * u.ms)
sim.connect(pg, neuron, weight=10. * u.pA, delay=1.0 * u.ms)
sim.connect(neuron, sr)   # the recorder listens to the neuron
sim.connect(mm, neuron)   # the multimeter observes the neuron (NEST's direction)
res = sim.simulate(100. * u.ms)

# rate and count
print(f'firing rate: {res.rate(sr):.2f} spks/s')
print(f'n_events: {res.n_events(sr)}')

# spike times: row k of the spike matrix is time k*dt, i.e. NEST's time_in_steps
spk = np.asarray(res.spikes(sr)).reshape(-1)
steps = np.nonzero(spk > 0)[0]
t_ms = np.asarray(u.get_mantissa(res.times / u.ms))
spike_times = t_ms[steps]
print('first 8 spike steps :', steps[:8])
print('first 8 spike times :', np.round(spike_times[:8], 1), 'ms')

# the membrane potential and the ISI coefficient of variation
v = np.asarray(u.get_mantissa(res.trace(mm, 'V_m') / u.mV)).reshape(-1)
print(f'V_m trace: {v.shape[0]} samples, min {v.min():.2f} mV, max {v.max():.2f} mV')
isi = np.diff(spike_times)
if isi.size:
    cv = float(isi.std() / isi.mean())
    print(f'ISI CV: {cv:.3f} (mean ISI {isi.mean():.2f} ms)')

tv = np.asarray(u.get_mantissa(res.trace_times(mm) / u.ms))
fig, (a0, a1) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
a0.plot(tv, v, color='k', lw=0.6)
a0.set_ylabel('V_m (mV)')
a1.plot(spike_times, np.ones_like(spike_times), 'k|', ms=10)
a1.set_xlabel('time (ms)')
a1.set_yticks([])
a0.set_title('multimeter trace + spike raster')
fig.tight_layout()
fig.savefig('record_and_analyze.png', dpi=100)
print('figure saved to record_and_analyze.png')
