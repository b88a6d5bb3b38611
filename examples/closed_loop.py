"""Closed-loop input: compute the next input from the last result, between simulate calls.

A game or a robot reads the network's output every few milliseconds and feeds new input back. In
nestax that is a loop of short ``simulate`` calls with ``sim.set`` in between. Changing a device's
parameters or spike times keeps the compiled program (only its input arrays change), so each round
costs the simulation itself, not a recompile: after the first round, ``sim.timings['first_chunk_s']``
is 0.

Here a proportional controller drives 20 neurons towards a target rate through a dc_generator, and a
spike_generator adds a "sensory" pulse that depends on the last round's activity.
"""
import time

import brainunit as u
import jax
import numpy as np

import nestax as nx

jax.config.update("jax_enable_x64", True)

TARGET_HZ, ROUND_MS, ROUNDS = 40.0, 20.0, 30

sim = nx.Simulator(dt=0.1 * u.ms, seed=3)
neurons = sim.create(nx.iaf_psc_alpha, 20, I_e=0.0 * u.pA)
drive = sim.create(nx.dc_generator, amplitude=300.0 * u.pA)
pulse = sim.create(nx.spike_generator, spike_times=[5.0])
sr = sim.create(nx.spike_recorder)
sim.connect(drive, neurons)
sim.connect(pulse, neurons, weight=80.0 * u.pA)
sim.connect(neurons, sr)

amplitude, rates, round_s = 300.0, [], []
for i in range(ROUNDS):
    t0 = time.perf_counter()
    res = sim.simulate(ROUND_MS * u.ms)
    round_s.append(time.perf_counter() - t0)
    rate = res.rate(sr)
    rates.append(rate)
    # the controller: new input from the last result (plain Python between the runs)
    amplitude += 2.0 * (TARGET_HZ - rate)
    sim.set(drive, amplitude=amplitude * u.pA)
    # a sensory pulse 5 ms into the next round when the network was quiet, none otherwise
    sim.set(pulse, spike_times=[sim.t + 5.0] if rate < TARGET_HZ else [sim.t + ROUND_MS + 100.0])

print(f"rate in the first round: {rates[0]:.1f} Hz, in the last five: {np.mean(rates[-5:]):.1f} Hz "
      f"(target {TARGET_HZ:.0f} Hz)")
print(f"final drive: {amplitude:.1f} pA")
print(f"first round (compiles): {round_s[0]:.2f} s; later rounds: median {1e3 * np.median(round_s[2:]):.1f} ms")
