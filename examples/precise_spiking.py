"""Comparing precise and grid-based neuron models (after NEST's example pynest/examples/precise_spiking.py).

A 700 pA dc_generator drives one iaf_psc_exp (spikes on the time grid) and one iaf_psc_exp_ps (spikes
at their precise times) at the resolutions 0.1, 0.5 and 1 ms for 100 ms. The precise model fires at
the same times whatever the resolution; the grid model's spikes move with it. Same models, current,
resolutions and duration as NEST's example.

    python examples/precise_spiking.py      # prints the spike times, writes precise_spiking.png
"""
from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

import brainunit as u  # noqa: E402
import numpy as np  # noqa: E402

import nestax as nx  # noqa: E402

SIMTIME = 100.0       # ms
STIM_CURRENT = 700.0  # pA
RESOLUTIONS = [0.1, 0.5, 1.0]
MODELS = ["iaf_psc_exp", "iaf_psc_exp_ps"]


def run(resolution: float, model: str) -> dict:
    """One neuron of ``model`` under the dc current at ``resolution``: V_m samples and spike times."""
    sim = nx.Simulator(dt=resolution * u.ms)
    neuron = sim.create(model)
    voltmeter = sim.create(nx.voltmeter, interval=resolution * u.ms)
    dc = sim.create(nx.dc_generator, amplitude=STIM_CURRENT * u.pA)
    sr = sim.create(nx.spike_recorder)
    sim.connect(voltmeter, neuron)
    sim.connect(dc, neuron)
    sim.connect(neuron, sr)
    res = sim.simulate(SIMTIME * u.ms)
    return {"vm_times": np.asarray(res.trace_times(voltmeter).to_decimal(u.ms)),
            "vm_values": np.asarray(res.trace(voltmeter, "V_m").to_decimal(u.mV))[:, 0],
            "spikes": np.asarray(res.events(sr)["times"].to_decimal(u.ms)),
            "V_th": float(np.ravel(sim.get(neuron, "V_th").to_decimal(u.mV))[0])}


def main():
    data = {r: {m: run(r, m) for m in MODELS} for r in RESOLUTIONS}
    for r in RESOLUTIONS:
        for m in MODELS:
            print(f"resolution {r} ms, {m}: spikes at {np.round(data[r][m]['spikes'], 4).tolist()}")
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        return data
    colors = ["#3465a4", "#cc0000"]
    for v, r in enumerate(RESOLUTIONS):
        plot = plt.subplot(len(RESOLUTIONS), 1, v + 1)
        plot.set_title(f"Resolution: {r} ms")
        for i, m in enumerate(MODELS):
            d = data[r][m]
            plot.plot(d["vm_times"], d["vm_values"], "-", c=colors[i], lw=2, label=m)
            plot.plot(d["spikes"], [d["V_th"]] * len(d["spikes"]), ".", c=colors[i], ms=5)
        if v == len(RESOLUTIONS) - 1:
            plot.legend(loc=4)
        else:
            plot.set_xticklabels("")
    plt.savefig("precise_spiking.png")
    return data


if __name__ == "__main__":
    main()
