"""Supervised regression with e-prop in update intervals: a recurrent spiking network learns to draw a
sum of sine waves (after NEST's example
pynest/examples/eprop_plasticity/eprop_supervised_regression_sine-waves_bsshslm_2020.py).

Frozen input (spike_generator -> parrot_neuron) drives eprop_iaf_bsshslm_2020 neurons connected by
eprop_synapse_bsshslm_2020; one eprop_readout_bsshslm_2020 compares its readout signal with the target
signal (a step_rate_generator on receptor 2) and sends its error back through
eprop_learning_signal_connection_bsshslm_2020 with random feedback weights. The same sequence is shown
n_iter times; each sequence is one update interval (kernel settings eprop_update_interval =
eprop_learning_window = the sequence), and the weights change once per interval. The loss of iteration
i is 0.5 sum_t (readout_t - target_t)^2.

Same neuron, synapse and optimizer parameters, weight initialisation (numpy's legacy seed 1), input
statistics, time offsets and final forced update as NEST's example. Differences: sizes are parameters
(NEST: 100 inputs, 100 recurrent neurons, 1000-step sequences, 200 iterations) with the target's sine
periods scaled with the sequence length, the learning rate ``eta`` a parameter, and
flush_event_send_interval is inf (nestax sends no flush events; NEST's example uses one sequence).
tests/parity/test_eprop_bsshslm.py runs the small version in NEST and nestax: equal loss curves.

    python examples/eprop_regression_bsshslm.py            # NEST's sizes (slow)
    python examples/eprop_regression_bsshslm.py --small    # 30 inputs, 20 neurons, 100-step sequences,
                                                           # 20 iterations, eta 5e-2
"""
from __future__ import annotations

import sys

import jax

jax.config.update("jax_enable_x64", True)
import brainunit as u  # noqa: E402
import numpy as np  # noqa: E402

import nestax as nx  # noqa: E402

DT = 1.0                      # ms
OFFSET_REC = 2                # steps: generator offset (1) + input delay (1)
OFFSET_OUT = 4                # + recurrent -> readout delay (1) + the readout's one-step readout signal (1)


def task(n_in=100, n_rec=100, n_out=1, seq=1000, n_iter=200, seed=1, eta=1e-4):
    """Parameters, weights, input spike times and target signal of NEST's example (numpy legacy seed)."""
    rng = np.random.RandomState(seed)
    v_th = 0.03
    rec = {"C_m": 1.0, "c_reg": 300.0, "E_L": 0.0, "f_target": 10.0, "I_e": 0.0, "regular_spike_arrival": False,
           "surrogate_gradient_function": "piecewise_linear", "surrogate_gradient_height": 0.3 / v_th,
           "surrogate_gradient_width": 1.0 * abs(v_th), "t_ref": 0.0, "tau_m": 30.0, "V_m": 0.0, "V_th": v_th}
    out = {"C_m": 1.0, "E_L": 0.0, "I_e": 0.0, "loss": "mean_squared_error", "regular_spike_arrival": False,
           "tau_m": 30.0, "V_m": 0.0}
    f32 = np.float32  # NEST's example draws the weights as float32
    w_in = np.array(rng.randn(n_in, n_rec).T / np.sqrt(n_in), dtype=f32)
    w_rec = np.array(rng.randn(n_rec, n_rec).T / np.sqrt(n_rec), dtype=f32)
    np.fill_diagonal(w_rec, 0.0)
    w_out = np.array(rng.randn(n_rec, n_out).T / np.sqrt(n_rec), dtype=f32)
    w_fb = np.array(rng.randn(n_rec, n_out) / np.sqrt(n_rec), dtype=f32)
    opt = {"type": "gradient_descent", "batch_size": 1, "eta": eta, "Wmin": -100.0, "Wmax": 100.0}
    steps_task = n_iter * seq
    bools = (rng.rand(seq, n_in) < 0.05).swapaxes(0, 1)
    bools[:, 0] = False  # no spikes in the first step of a sequence (NEST's example)
    starts = np.arange(0.0, steps_task * DT, seq * DT) + DT  # generator offset: from step 1
    times = [np.hstack([np.arange(0.0, seq * DT, DT)[b] + s0 for s0 in starts]).astype(np.float32) for b in bools]
    periods = [int(round(p * seq / 1000)) for p in (1000, 500, 333, 200)]
    amps = rng.uniform(0.5, 2.0, 4)
    phases = rng.uniform(0.0, 2.0 * np.pi, 4)
    target = sum(A * np.sin(np.linspace(phi, phi + 2.0 * np.pi * (seq // T), seq))
                 for A, phi, T in zip(amps, phases, periods))
    target -= target[0]
    target /= max(np.abs(target).max(), 1e-6)
    kernel = {"eprop_update_interval": seq * DT, "eprop_learning_window": seq * DT,
              "eprop_reset_neurons_on_update": True}
    return dict(n_in=n_in, n_rec=n_rec, n_out=n_out, seq=seq, n_iter=n_iter, rec=rec, out=out, w_in=w_in,
                w_rec=w_rec, w_out=w_out, w_fb=w_fb, opt=opt, times=times, target=target, kernel=kernel,
                sim_steps=steps_task + OFFSET_OUT + 1)


def loss_curve(readout, target, t):
    """0.5 sum over each sequence of (readout - target)^2, per iteration, averaged over the readouts."""
    r = np.asarray(readout).reshape(t["n_out"], -1)[:, :t["n_iter"] * t["seq"]]
    y = np.asarray(target).reshape(t["n_out"], -1)[:, :t["n_iter"] * t["seq"]]
    r = r.reshape(t["n_out"], t["n_iter"], t["seq"])
    y = y.reshape(t["n_out"], t["n_iter"], t["seq"])
    return 0.5 * np.mean(np.sum((r - y) ** 2, axis=2), axis=0)


def run(t):
    """Simulate the task in nestax: (loss per iteration, readout signal, target signal, readout weights)."""
    sim = nx.Simulator(dt=DT * u.ms)
    sim.set_kernel_status(t["kernel"])
    gen = sim.create(nx.spike_generator, t["n_in"], params=[{"spike_times": list(x)} for x in t["times"]])
    inp = sim.create(nx.parrot_neuron, t["n_in"])
    rec = sim.create(nx.eprop_iaf_bsshslm_2020, t["n_rec"], **t["rec"])
    out = sim.create(nx.eprop_readout_bsshslm_2020, t["n_out"], **t["out"])
    target = sim.create(nx.step_rate_generator, t["n_out"])
    steps_task = t["n_iter"] * t["seq"]
    sim.set(target, amplitude_times=list(np.arange(steps_task) * DT + OFFSET_OUT * DT),
            amplitude_values=list(np.tile(t["target"], t["n_iter"])))
    sim.set_defaults("eprop_synapse_bsshslm_2020", optimizer=t["opt"], average_gradient=False)
    syn = {"synapse_model": "eprop_synapse_bsshslm_2020", "delay": DT, "tau_m_readout": t["out"]["tau_m"]}
    sim.connect(gen, inp, rule="one_to_one", delay=DT)
    sim.connect(inp, rec, rule="all_to_all", weight=t["w_in"], **syn)
    for j in range(t["n_rec"]):  # all_to_all without autapses
        pre = [i for i in range(t["n_rec"]) if i != j]
        sim.connect(rec[pre], rec[j], rule="all_to_all", weight=t["w_rec"][j, pre][None, :], **syn)
    sim.connect(rec, out, rule="all_to_all", weight=t["w_out"], **syn)
    sim.connect(out, rec, rule="all_to_all", synapse_model="eprop_learning_signal_connection_bsshslm_2020",
                weight=t["w_fb"], delay=DT)
    sim.connect(target, out, rule="one_to_one", synapse_model="rate_connection_delayed", receptor_type=2, delay=DT)
    # a last forced spike of every input and recurrent neuron applies the gradients of the last interval
    final = sim.create(nx.spike_generator, spike_times=[steps_task * DT + 3 * DT])
    sim.connect(final, inp, weight=1000.0, delay=DT)
    sim.connect(final, rec, weight=1000.0, delay=DT)
    mm = sim.create(nx.multimeter, record_from=["readout_signal", "target_signal"], interval=DT,
                    start=OFFSET_OUT * DT, stop=(OFFSET_OUT + steps_task) * DT)
    sim.connect(mm, out)
    res = sim.simulate(t["sim_steps"] * DT)
    readout = np.asarray(u.get_mantissa(res.trace(mm, "readout_signal"))).T
    tgt = np.asarray(u.get_mantissa(res.trace(mm, "target_signal"))).T
    c = sim.connections(rec, out)
    W = np.zeros((t["n_out"], t["n_rec"]))
    W[np.asarray(c.get("target")) - out._gids[0], np.asarray(c.get("source")) - rec._gids[0]] = \
        np.asarray(u.get_mantissa(c.get("weight")))
    return loss_curve(readout, tgt, t), readout, tgt, W


if __name__ == "__main__":
    small = "--small" in sys.argv
    t = task(n_in=30, n_rec=20, seq=100, n_iter=20, eta=5e-2) if small else task()
    loss, _, _, _ = run(t)
    for i, x in enumerate(loss, 1):
        print(f"iteration {i:4d}  loss {x:.6f}")
