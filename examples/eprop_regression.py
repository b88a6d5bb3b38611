"""Supervised regression with e-prop: a recurrent spiking network learns to draw a sum of sine waves
(after NEST's example pynest/examples/eprop_plasticity/eprop_supervised_regression_sine-waves.py).

Frozen Poisson-like input (spike_generator -> parrot_neuron) drives eprop_iaf neurons connected by
eprop_synapses; one eprop_readout compares its membrane potential with the target signal (a
step_rate_generator on receptor 2, the learning window on receptor 1) and sends its error back through
eprop_learning_signal_connections with random feedback weights. The same sequence is shown n_iter
times; the loss of iteration i is 0.5 sum_t (readout_t - target_t)^2.

Same neuron, synapse and optimizer parameters, weight initialisation (numpy's legacy seed 1), input
statistics, time offsets and final forced update as NEST's example. Differences: sizes are parameters
(NEST: 100 inputs, 100 recurrent neurons, 1000-step sequences, 200 iterations) with the target's sine
periods scaled with the sequence length, the learning rate ``eta`` a parameter, and
flush_event_send_interval is inf (nestax sends no flush events; NEST's example uses one sequence).
tests/parity/test_eprop_learning.py runs the small version in NEST and nestax: equal loss curves.

    python examples/eprop_regression.py            # NEST's sizes (slow)
    python examples/eprop_regression.py --small    # 30 inputs, 20 neurons, 100-step sequences, 20 iterations,
                                                   # eta 3e-5 (NEST's 9e-8 learns little in so short a run)
"""
from __future__ import annotations

import sys

import jax

jax.config.update("jax_enable_x64", True)
import brainunit as u  # noqa: E402
import numpy as np  # noqa: E402

import nestax as nx  # noqa: E402

DT = 1.0                      # ms
OFFSET = 2                    # steps: generator offset (1) + input delay (1)


def task(n_in=100, n_rec=100, n_out=1, seq=1000, n_iter=200, seed=1, eta=None):
    """Parameters, weights, input spike times and target signal of NEST's example (numpy legacy seed);
    ``eta``: another learning rate (NEST's: 1e-4 (1 - kappa)^2)."""
    rng = np.random.RandomState(seed)
    kappa = 0.97
    scale = 1.0 - kappa
    rec = {"C_m": 1.0, "c_reg": 300.0 / seq, "E_L": 0.0, "eprop_isi_trace_cutoff": 100.0, "f_target": 10.0,
           "I_e": 0.0, "kappa": kappa, "kappa_reg": 0.97, "surrogate_gradient_function": "piecewise_linear",
           "surrogate_gradient_height": 10.0, "surrogate_gradient_width": 1.0 / 33.3, "t_ref": 0.0,
           "tau_m": 30.0, "V_m": 0.0, "V_th": 0.03}
    out = {"C_m": 1.0, "E_L": 0.0, "eprop_isi_trace_cutoff": 100.0, "I_e": 0.0, "tau_m": 30.0, "V_m": 0.0}
    f32 = np.float32  # NEST's example draws the weights as float32
    w_in = np.array(rng.randn(n_in, n_rec).T / np.sqrt(n_in), dtype=f32) * scale
    w_rec = np.array(rng.randn(n_rec, n_rec).T / np.sqrt(n_rec), dtype=f32) * scale
    np.fill_diagonal(w_rec, 0.0)
    w_out = np.array(rng.randn(n_rec, n_out).T / np.sqrt(n_rec), dtype=f32) * scale
    w_fb = np.array(rng.randn(n_rec, n_out) / np.sqrt(n_rec), dtype=f32) * scale
    opt = {"type": "gradient_descent", "batch_size": 1, "eta": 1e-4 * scale ** 2 if eta is None else eta,
           "optimize_each_step": False,
           "Wmin": -100.0, "Wmax": 100.0}
    steps_task = n_iter * seq
    bools = (rng.rand(seq, n_in) < 0.05).swapaxes(0, 1)
    starts = np.arange(0.0, steps_task * DT, seq * DT) + DT  # generator offset: from step 1
    times = [np.hstack([np.arange(0.0, seq * DT, DT)[b] + s0 for s0 in starts]).astype(np.float32) for b in bools]
    periods = [int(round(p * seq / 1000)) for p in (1000, 500, 333, 200)]
    amps = rng.uniform(0.5, 2.0, 4)
    phases = rng.uniform(0.0, 2.0 * np.pi, 4)
    target = sum(A * np.sin(np.linspace(phi, phi + 2.0 * np.pi * (seq // T), seq))
                 for A, phi, T in zip(amps, phases, periods))
    target -= target[0]
    target /= max(np.abs(target).max(), 1e-6)
    return dict(n_in=n_in, n_rec=n_rec, n_out=n_out, seq=seq, n_iter=n_iter, rec=rec, out=out, w_in=w_in,
                w_rec=w_rec, w_out=w_out, w_fb=w_fb, opt=opt, times=times, target=target,
                sim_steps=steps_task + OFFSET + 3)


def loss_curve(readout, target, t):
    """0.5 sum over each sequence of (readout - target)^2, per iteration (one readout: (steps,))."""
    r = np.asarray(readout).reshape(t["n_out"], -1)[:, :t["n_iter"] * t["seq"]]
    y = np.asarray(target).reshape(t["n_out"], -1)[:, :t["n_iter"] * t["seq"]]
    r = r.reshape(t["n_out"], t["n_iter"], t["seq"])
    y = y.reshape(t["n_out"], t["n_iter"], t["seq"])
    return 0.5 * np.mean(np.sum((r - y) ** 2, axis=2), axis=0)


def run(t):
    """Simulate the task in nestax: (loss per iteration, readout signal, target signal)."""
    sim = nx.Simulator(dt=DT * u.ms)
    gen = sim.create(nx.spike_generator, t["n_in"], params=[{"spike_times": list(x)} for x in t["times"]])
    inp = sim.create(nx.parrot_neuron, t["n_in"])
    rec = sim.create(nx.eprop_iaf, t["n_rec"], **t["rec"])
    out = sim.create(nx.eprop_readout, t["n_out"], **t["out"])
    target = sim.create(nx.step_rate_generator, t["n_out"])
    window = sim.create(nx.step_rate_generator, amplitude_times=[OFFSET * DT], amplitude_values=[1.0])
    steps_task = t["n_iter"] * t["seq"]
    sim.set(target, amplitude_times=list(np.arange(steps_task) * DT + OFFSET * DT),
            amplitude_values=list(np.tile(t["target"], t["n_iter"])))
    sim.set_defaults("eprop_synapse", optimizer=t["opt"])  # NEST's optimizer dictionary
    syn = {"synapse_model": "eprop_synapse", "delay": DT}
    sim.connect(gen, inp, rule="one_to_one", delay=DT)
    sim.connect(inp, rec, rule="all_to_all", weight=t["w_in"], **syn)
    for j in range(t["n_rec"]):  # all_to_all without autapses
        pre = [i for i in range(t["n_rec"]) if i != j]
        sim.connect(rec[pre], rec[j], rule="all_to_all", weight=t["w_rec"][j, pre][None, :], **syn)
    sim.connect(rec, out, rule="all_to_all", weight=t["w_out"], **syn)
    sim.connect(out, rec, rule="all_to_all", synapse_model="eprop_learning_signal_connection", weight=t["w_fb"],
                delay=DT)
    sim.connect(target, out, rule="one_to_one", synapse_model="rate_connection_delayed", receptor_type=2, delay=DT)
    sim.connect(window, out, synapse_model="rate_connection_delayed", receptor_type=1, delay=DT)
    # a last forced spike of every input and recurrent neuron applies the gradients since their last spike
    final = sim.create(nx.spike_generator, spike_times=[steps_task * DT + DT])
    sim.connect(final, inp, weight=1000.0, delay=DT)
    sim.connect(final, rec, weight=1000.0, delay=DT)
    mm = sim.create(nx.multimeter, record_from=["readout_signal", "target_signal"], interval=DT,
                    start=OFFSET * DT, stop=(OFFSET + steps_task) * DT)
    sim.connect(mm, out)
    res = sim.simulate(t["sim_steps"] * DT)
    readout = np.asarray(u.get_mantissa(res.trace(mm, "readout_signal"))).T
    tgt = np.asarray(u.get_mantissa(res.trace(mm, "target_signal"))).T
    return loss_curve(readout, tgt, t), readout, tgt


if __name__ == "__main__":
    small = "--small" in sys.argv
    t = task(n_in=30, n_rec=20, seq=100, n_iter=20, eta=3e-5) if small else task()
    loss, _, _ = run(t)
    for i, x in enumerate(loss, 1):
        print(f"iteration {i:4d}  loss {x:.6f}")
