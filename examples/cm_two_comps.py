"""Compartmental neurons with passive and active dendrites (after NEST's example
pynest/examples/compartmental_model/two_comps.py).

Two cm_default neurons with two compartments each: the same Na/K soma, once with a passive and once
with an active (Na/K) dendrite. Each gets an AMPA_NMDA receptor on the soma and one on the dendrite;
three spikes reach the soma at 10, 13 and 16 ms (weight 5) and three the dendrite at 70, 73 and 76 ms
(weight 2). The somata spike on the somatic input. Same parameters, receptors, weights and delays as
NEST's example (its numbers are in pF / nS, so its conductances are nS and its currents pA).

    python examples/cm_two_comps.py          # prints the spikes, writes cm_two_comps.png

tests/parity/test_cm_default.py runs ``run()`` and compares its traces with NEST's example.
"""
from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)
import brainunit as u  # noqa: E402
import numpy as np  # noqa: E402

import nestax as nx  # noqa: E402

SOMA = {"C_m": 89.245535, "g_C": 0.0, "g_L": 8.924572508, "e_L": -75.0, "v_comp": -75.0,
        "gbar_Na": 4608.698576715, "e_Na": 60.0, "gbar_K": 956.112772900, "e_K": -90.0}
DEND_PASSIVE = {"C_m": 1.929929, "g_C": 1.255439494, "g_L": 0.192992878, "e_L": -75.0, "v_comp": -75.0}
DEND_ACTIVE = {"C_m": 1.929929, "g_C": 1.255439494, "g_L": 0.192992878, "e_L": -70.0, "v_comp": -70.0,
               "gbar_Na": 17.203212493, "e_Na": 60.0, "gbar_K": 11.887347450, "e_K": -90.0}
REC = ["v_comp0", "v_comp1", "m_Na_0", "h_Na_0", "n_K_0", "m_Na_1", "h_Na_1", "n_K_1",
       "g_r_AN_AMPA_1", "g_d_AN_AMPA_1", "g_r_AN_NMDA_1", "g_d_AN_NMDA_1"]


def run(T=160.0):
    """Simulate the example; returns (sample times in ms, {"passive"/"active": {recordable: trace}},
    spike times in ms per neuron)."""
    sim = nx.Simulator(dt=0.1 * u.ms)
    cells = {}
    for label, dend in (("passive", DEND_PASSIVE), ("active", DEND_ACTIVE)):
        cm = sim.create(nx.cm_default, 1)
        cm_tree = [{"parent_idx": -1, "params": SOMA}, {"parent_idx": 0, "params": dend}]
        sim.set(cm, compartments=cm_tree, V_th=-50.0 * u.mV)
        # receptor 0 on the soma, receptor 1 on the dendrite
        sim.set(cm, receptors=[{"comp_idx": 0, "receptor_type": "AMPA_NMDA"},
                               {"comp_idx": 1, "receptor_type": "AMPA_NMDA"}])
        cells[label] = cm
    sg_soma = sim.create(nx.spike_generator, spike_times=[10.0, 13.0, 16.0] * u.ms)
    sg_dend = sim.create(nx.spike_generator, spike_times=[70.0, 73.0, 76.0] * u.ms)
    mms, sr = {}, sim.create(nx.spike_recorder)
    for label, cm in cells.items():
        sim.connect(sg_soma, cm, weight=5.0, delay=0.5 * u.ms, receptor_type=0)
        sim.connect(sg_dend, cm, weight=2.0, delay=0.5 * u.ms, receptor_type=1)
        mms[label] = sim.create(nx.multimeter, record_from=REC, interval=0.1 * u.ms)
        sim.connect(mms[label], cm)
        sim.connect(cm, sr)
    res = sim.simulate(T * u.ms)
    times = np.asarray(res.trace_times(mms["passive"]).to_decimal(u.ms))
    traces = {label: {v: np.asarray(u.get_mantissa(res.trace(mm, v))).ravel() for v in REC}
              for label, mm in mms.items()}
    ev = res.events(sr)
    t_spk, senders = np.asarray(ev["times"].to_decimal(u.ms)), np.asarray(ev["senders"])
    spikes = {label: t_spk[senders == cm.tolist()[0]] for label, cm in cells.items()}
    return times, traces, spikes


def main():
    times, traces, spikes = run()
    for label in ("passive", "active"):
        v0, v1 = traces[label]["v_comp0"], traces[label]["v_comp1"]
        print(f"{label} dendrite: soma spikes at {spikes[label].tolist()} ms; max v_soma {v0.max():.2f} mV, "
              f"max v_dend {v1.max():.2f} mV")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, var, title in ((axes[0], "v_comp0", "soma"), (axes[1], "v_comp1", "dendrite")):
        for label, c in (("passive", "b"), ("active", "r")):
            ax.plot(times, traces[label][var], c=c, label=f"{label} dend")
        ax.set_xlabel("t (ms)")
        ax.set_ylabel(f"v_{title} (mV)")
        ax.legend()
    fig.tight_layout()
    fig.savefig("cm_two_comps.png")
    print("figure saved to cm_two_comps.png")


if __name__ == "__main__":
    main()
